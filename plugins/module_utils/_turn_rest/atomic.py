# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Atomic writes: a reader or a crash sees the old file or the new one, never a part."""

from __future__ import annotations

import os
import stat
import tempfile

from ansible_collections.veza.coturn.plugins.module_utils._turn_rest.errors import TurnRestError


def _fsync_directory(path):
    # Best effort: the rename is done and the new file in place; some file
    # systems refuse to sync a directory, and that must not read as a failure.
    try:
        fd = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomically(path, data, like):
    """Replace path with data in one rename, with the owner, group and mode of the file like.

    The temporary file sits in the same directory (a rename within one file
    system is atomic), is 0600 from its creation (it may hold a secret) until
    it takes like's mode, and is synced before the rename, so a reader or a
    crash sees the old file or the new one, never a part.
    """
    info = os.stat(like)
    directory = os.path.dirname(path) or "."
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            # chown first: it may clear set-id bits that the chmod then restores.
            os.fchown(handle.fileno(), info.st_uid, info.st_gid)
            os.fchmod(handle.fileno(), stat.S_IMODE(info.st_mode))
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    _fsync_directory(path)


def read_bytes(path):
    """The bytes of path, or None when it does not exist; TurnRestError when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise TurnRestError(f"cannot read {path}: {exc.strerror or exc}") from exc

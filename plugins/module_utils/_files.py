# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Several folders and files of one host in one round (the files module).

Each file is compared with what the host has (content, owner, group, mode)
and written only when it differs, atomically: a temporary file in the same
folder, its owner and mode set, then renamed over the old one, so a reader
never sees half a file.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
import tempfile


class FilesError(Exception):
    """A folder or file cannot be made as asked (an unknown owner, a path that is not a folder)."""


def _ids(owner, group):
    try:
        uid = pwd.getpwnam(owner).pw_uid
    except KeyError as exc:
        raise FilesError(f"owner {owner!r} is not a user on this host") from exc
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError as exc:
        raise FilesError(f"group {group!r} is not a group on this host") from exc
    return uid, gid


def _mode(text):
    try:
        mode = int(str(text), 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o7777:
        raise FilesError(f"mode {text!r} is not an octal file mode like 0644")
    return mode


def _differs(info, uid, gid, mode):
    return info.st_uid != uid or info.st_gid != gid or stat.S_IMODE(info.st_mode) != mode


def ensure_directory(spec, check_mode):
    """Returns True when the folder was (or would be) created or its owner or mode changed."""
    path = spec["path"]
    uid, gid = _ids(spec["owner"], spec["group"])
    mode = _mode(spec["mode"])
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        if not check_mode:
            os.makedirs(path, mode=mode)
            os.chown(path, uid, gid)
            os.chmod(path, mode)
        return True
    if not stat.S_ISDIR(info.st_mode):
        raise FilesError(f"{path} exists and is not a folder")
    if _differs(info, uid, gid, mode):
        if not check_mode:
            os.chown(path, uid, gid)
            os.chmod(path, mode)
        return True
    return False


def read_current(path):
    """The file's bytes, or None when it does not exist."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def ensure_file(spec, check_mode):
    """Returns (changed, previous bytes or None)."""
    path = spec["path"]
    data = spec["content"].encode("utf-8")
    uid, gid = _ids(spec["owner"], spec["group"])
    mode = _mode(spec["mode"])
    previous = read_current(path)
    if previous == data:
        info = os.lstat(path)
        if not _differs(info, uid, gid, mode):
            return False, previous
        if not check_mode:
            os.chown(path, uid, gid)
            os.chmod(path, mode)
        return True, previous
    folder = os.path.dirname(path) or "/"
    if not os.path.isdir(folder):
        if check_mode:
            return True, previous
        raise FilesError(f"the folder of {path} does not exist: list it under directories")
    if not check_mode:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".veza-")
        try:
            # Owner and mode before the content: a secret is never readable by others, even for a moment.
            os.fchown(handle, uid, gid)
            os.fchmod(handle, mode)
            os.write(handle, data)
            os.fsync(handle)
            os.close(handle)
            handle = None
            os.rename(temporary, path)
        except BaseException:
            if handle is not None:
                os.close(handle)
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
    return True, previous

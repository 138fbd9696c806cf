# -*- coding: utf-8 -*-
# Copyright: (c) 2025, veza.coturn developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Network namespaces: enter one by name for a block, make a socket in one.

Standard library only, no Ansible imports.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import re
import socket

CLONE_NEWNET = 0x40000000


class NetnsError(OSError):
    """A network namespace cannot be entered (missing, or not root)."""


_NETNS_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def netns_path(name):
    """``/run/netns/<name>`` for a name, or an absolute path as given."""
    if name.startswith("/"):
        return name
    if not _NETNS_NAME.match(name) or name in (".", ".."):
        raise ValueError("invalid network namespace name %r" % name)
    return os.path.join("/run/netns", name)


def _setns(fd, nstype):
    if hasattr(os, "setns"):  # Python >= 3.12
        os.setns(fd, nstype)
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if libc.setns(ctypes.c_int(fd), ctypes.c_int(nstype)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


@contextlib.contextmanager
def netns(name):
    """Run the block with this thread in network namespace ``name``.

    Sockets keep the namespace they were created in, so a socket made inside
    the block keeps working there after the thread has switched back.
    ``None``/empty means: stay where we are.  Needs CAP_SYS_ADMIN (root).
    """
    if not name:
        yield
        return
    path = netns_path(name)
    # setns() moves only the calling thread: remember *this thread's*
    # namespace (/proc/self is the thread-group leader's).
    own_path = "/proc/thread-self/ns/net"
    if not os.path.exists(own_path):
        own_path = "/proc/self/ns/net"
    own = os.open(own_path, os.O_RDONLY)
    try:
        try:
            target = os.open(path, os.O_RDONLY)
        except OSError as exc:
            raise NetnsError(exc.errno, "cannot open network namespace %s: %s" % (path, exc.strerror))
        try:
            try:
                _setns(target, CLONE_NEWNET)
            except OSError as exc:
                hint = " (needs root / CAP_SYS_ADMIN)" if exc.errno == errno.EPERM else ""
                raise NetnsError(exc.errno, "cannot enter network namespace %s: %s%s" % (path, exc.strerror, hint))
        finally:
            os.close(target)
        try:
            yield
        finally:
            _setns(own, CLONE_NEWNET)
    finally:
        os.close(own)


def make_socket(family, sock_type, ns=None):
    """A socket created inside network namespace ``ns`` (None: current)."""
    with netns(ns):
        return socket.socket(family, sock_type)

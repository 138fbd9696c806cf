# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the network namespace helpers in plugins/module_utils/_netns.py."""

from __future__ import annotations

import os
import socket

import pytest

from ansible_collections.veza.coturn.plugins.module_utils._netns import NetnsError, make_socket, netns, netns_path

# --- network namespaces (root only; the namespace is ours and removed) -------


def _own_netns_ino():
    return os.stat("/proc/thread-self/ns/net").st_ino


def test_netns_socket_stays_in_namespace(scratch_netns):
    before = _own_netns_ino()
    inner = make_socket(socket.AF_INET, socket.SOCK_DGRAM, scratch_netns)
    assert _own_netns_ino() == before  # the thread came back
    outer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        inner.bind(("127.0.0.1", 0))
        port = inner.getsockname()[1]
        # The namespace has its own loopback: a root-namespace socket cannot
        # reach the inner one, while the inner one can talk to itself.
        outer.sendto(b"from-root", ("127.0.0.1", port))
        inner.sendto(b"from-inside", ("127.0.0.1", port))
        inner.settimeout(1.0)
        assert inner.recvfrom(100)[0] == b"from-inside"
        inner.settimeout(0.1)
        with pytest.raises(socket.timeout):
            inner.recvfrom(100)
    finally:
        inner.close()
        outer.close()


def test_netns_errors():
    with pytest.raises(ValueError):
        netns_path("../etc")
    with pytest.raises(ValueError):
        netns_path("a/b")
    assert netns_path("vz-client") == "/run/netns/vz-client"
    assert netns_path("/proc/1/ns/net") == "/proc/1/ns/net"
    with pytest.raises(NetnsError, match="cannot open network namespace"):
        with netns("vzc-tp-does-not-exist-%d" % os.getpid()):
            pass

# -*- coding: utf-8 -*-
# Copyright: (c) 2025, veza.coturn developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Transports of the STUN/TURN client: connected UDP, and TCP or TLS streams.

Sockets are made in a network namespace when one is named (``_netns``).
"""

from __future__ import annotations

import errno
import select
import socket
import ssl
import time

from ansible_collections.veza.coturn.plugins.module_utils._netns import make_socket
from ansible_collections.veza.coturn.plugins.module_utils._stun.errors import TlsError
from ansible_collections.veza.coturn.plugins.module_utils._stun.framing import split_frame


def resolve(host, port, sock_type, family=socket.AF_UNSPEC):
    """First getaddrinfo() result as (family, sockaddr)."""
    infos = socket.getaddrinfo(host, port, family, sock_type)
    if not infos:
        raise OSError(errno.EHOSTUNREACH, "no address for %s" % host)
    return infos[0][0], infos[0][4][:2]


class UdpTransport(object):
    """Connected UDP socket: ICMP port unreachable surfaces as ECONNREFUSED."""

    reliable = False

    def __init__(self, sock):
        self.sock = sock

    @classmethod
    def open(cls, host, port, ns=None, family=socket.AF_UNSPEC):
        fam, addr = resolve(host, port, socket.SOCK_DGRAM, family)
        sock = make_socket(fam, socket.SOCK_DGRAM, ns)
        try:
            sock.connect(addr)
        except Exception:
            sock.close()
            raise
        return cls(sock)

    def send(self, data):
        self.sock.send(data)

    def recv(self, timeout):
        """One datagram, or None after ``timeout`` seconds."""
        if timeout <= 0:
            timeout = 0.0
        ready = select.select([self.sock], [], [], timeout)[0]
        if not ready:
            return None
        return self.sock.recv(65536)

    def local_address(self):
        return self.sock.getsockname()[:2]

    def close(self):
        self.sock.close()


class StreamTransport(object):
    """TCP or TLS connection carrying STUN and padded ChannelData frames."""

    reliable = True

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    @classmethod
    def open(
        cls,
        host,
        port,
        timeout,
        ns=None,
        tls=False,
        server_name=None,
        ca_file=None,
        insecure=False,
        family=socket.AF_UNSPEC,
    ):
        fam, addr = resolve(host, port, socket.SOCK_STREAM, family)
        sock = make_socket(fam, socket.SOCK_STREAM, ns)
        try:
            # Small frames back to back (indications) must not wait for
            # delayed ACKs: Nagle would add ~40 ms to measured round trips.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(max(timeout, 0.001))
            sock.connect(addr)
            if tls:
                ctx = tls_context(ca_file, insecure)
                try:
                    sock = ctx.wrap_socket(sock, server_hostname=server_name or host)
                except socket.timeout:
                    raise TlsError(
                        "TLS handshake timed out: the port accepts TCP but does not "
                        "answer a TLS ClientHello (not a TLS listener?)"
                    )
        except Exception:
            sock.close()
            raise
        return cls(sock)

    def send(self, data):
        self.sock.sendall(data)

    def recv(self, timeout):
        """One frame, or None after ``timeout`` seconds."""
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            frame, self.buf = split_frame(self.buf)
            if frame is not None:
                return frame
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            # settimeout/recv rather than select(): TLS may hold decrypted
            # bytes that select() cannot see.
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                raise ConnectionResetError(errno.ECONNRESET, "server closed the connection")
            self.buf += chunk

    def local_address(self):
        return self.sock.getsockname()[:2]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def tls_context(ca_file=None, insecure=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif ca_file:
        ctx.load_verify_locations(cafile=ca_file)
    else:
        ctx.load_default_certs()
    return ctx


def open_transport(
    kind, host, port, timeout, ns=None, server_name=None, ca_file=None, insecure=False, family=socket.AF_UNSPEC
):
    if kind == "udp":
        return UdpTransport.open(host, port, ns=ns, family=family)
    if kind in ("tcp", "tls"):
        return StreamTransport.open(
            host,
            port,
            timeout,
            ns=ns,
            tls=(kind == "tls"),
            server_name=server_name,
            ca_file=ca_file,
            insecure=insecure,
            family=family,
        )
    raise ValueError("unknown transport %r" % kind)

# -*- coding: utf-8 -*-
# Copyright: (c) 2025, veza.coturn developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""STUN/TURN codec and a small client (RFC 5389/8489, RFC 5766/8656).

Private helper of the ``turn_probe`` module: standard library only, no
Ansible imports, so it can be tested and reused on its own.
"""

from __future__ import annotations

import binascii
import contextlib
import ctypes
import ctypes.util
import errno
import hashlib
import hmac
import ipaddress
import os
import re
import select
import socket
import ssl
import struct
import time

MAGIC_COOKIE = 0x2112A442
MAGIC_COOKIE_BYTES = struct.pack("!I", MAGIC_COOKIE)
FINGERPRINT_XOR = 0x5354554E
HEADER_LEN = 20

# Methods
BINDING = 0x001
ALLOCATE = 0x003
REFRESH = 0x004
SEND = 0x006
DATA = 0x007
CREATE_PERMISSION = 0x008
CHANNEL_BIND = 0x009

METHOD_NAMES = {
    BINDING: "Binding",
    ALLOCATE: "Allocate",
    REFRESH: "Refresh",
    SEND: "Send",
    DATA: "Data",
    CREATE_PERMISSION: "CreatePermission",
    CHANNEL_BIND: "ChannelBind",
}

# Classes
REQUEST = 0
INDICATION = 1
SUCCESS = 2
ERROR = 3

# Attributes
MAPPED_ADDRESS = 0x0001
USERNAME = 0x0006
MESSAGE_INTEGRITY = 0x0008
ERROR_CODE = 0x0009
UNKNOWN_ATTRIBUTES = 0x000A
CHANNEL_NUMBER = 0x000C
LIFETIME = 0x000D
XOR_PEER_ADDRESS = 0x0012
DATA_ATTR = 0x0013
REALM = 0x0014
NONCE = 0x0015
XOR_RELAYED_ADDRESS = 0x0016
REQUESTED_ADDRESS_FAMILY = 0x0017
EVEN_PORT = 0x0018
REQUESTED_TRANSPORT = 0x0019
DONT_FRAGMENT = 0x001A
XOR_MAPPED_ADDRESS = 0x0020
RESERVATION_TOKEN = 0x0022
SOFTWARE = 0x8022
ALTERNATE_SERVER = 0x8023
FINGERPRINT = 0x8028

FAMILY_IPV4 = 0x01
FAMILY_IPV6 = 0x02
PROTO_UDP = 17

CHANNEL_MIN = 0x4000
CHANNEL_MAX = 0x4FFF

# RFC 5389 section 7.2.1: initial RTO 500 ms, doubled per retransmission,
# Rc = 7 transmissions at most.
RTO_INITIAL = 0.5
MAX_TRANSMISSIONS = 7

CLONE_NEWNET = 0x40000000


class StunError(Exception):
    """Base class of everything this module raises on purpose."""


class StunProtocolError(StunError, ValueError):
    """Bytes that are not a valid STUN message / ChannelData frame."""


class StunTimeout(StunError):
    """No matching answer before the deadline."""


class TlsError(StunError):
    """TLS set-up failed in a way ssl does not report as SSLError."""


class NetnsError(OSError):
    """A network namespace cannot be entered (missing, or not root)."""


class StunErrorResponse(StunError):
    """The server answered with an error response."""

    def __init__(self, method, code, reason, message=None):
        self.method = method
        self.code = code
        self.reason = reason
        self.message = message
        super().__init__("%s error %d %s" % (METHOD_NAMES.get(method, hex(method)), code, reason))


# ---------------------------------------------------------------------------
# Message type and attributes
# ---------------------------------------------------------------------------

def encode_type(method, cls):
    """Interleave method and class bits (RFC 5389 figure 3)."""
    if not 0 <= method <= 0xFFF or not 0 <= cls <= 3:
        raise ValueError("bad STUN method/class %r/%r" % (method, cls))
    return ((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2)
            | ((cls & 1) << 4) | ((cls & 2) << 7))


def decode_type(msg_type):
    """Split a message type into (method, class)."""
    method = (msg_type & 0x000F) | ((msg_type & 0x00E0) >> 1) | ((msg_type & 0x3E00) >> 2)
    cls = ((msg_type & 0x0010) >> 4) | ((msg_type & 0x0100) >> 7)
    return method, cls


def _pad4(n):
    return (4 - n % 4) % 4


def new_transaction_id():
    return os.urandom(12)


def encode_address(ip, port):
    """MAPPED-ADDRESS value (no XOR)."""
    addr = ipaddress.ip_address(ip)
    family = FAMILY_IPV4 if addr.version == 4 else FAMILY_IPV6
    return struct.pack("!BBH", 0, family, port) + addr.packed


def decode_address(value):
    """Parse a MAPPED-ADDRESS style value into (ip string, port)."""
    if len(value) < 4:
        raise StunProtocolError("address attribute too short (%d bytes)" % len(value))
    family, port = value[1], struct.unpack("!H", value[2:4])[0]
    raw = value[4:]
    if family == FAMILY_IPV4 and len(raw) == 4:
        return str(ipaddress.IPv4Address(raw)), port
    if family == FAMILY_IPV6 and len(raw) == 16:
        return str(ipaddress.IPv6Address(raw)), port
    raise StunProtocolError("address attribute: bad family %d or length %d" % (family, len(value)))


def _xor_mask(family, transaction_id):
    return MAGIC_COOKIE_BYTES if family == FAMILY_IPV4 else MAGIC_COOKIE_BYTES + transaction_id


def encode_xor_address(ip, port, transaction_id):
    """XOR-MAPPED/RELAYED/PEER-ADDRESS value."""
    addr = ipaddress.ip_address(ip)
    family = FAMILY_IPV4 if addr.version == 4 else FAMILY_IPV6
    mask = _xor_mask(family, transaction_id)
    xaddr = bytes(a ^ b for a, b in zip(addr.packed, mask))
    return struct.pack("!BBH", 0, family, port ^ (MAGIC_COOKIE >> 16)) + xaddr


def decode_xor_address(value, transaction_id):
    """Parse an XOR-*-ADDRESS value into (ip string, port)."""
    if len(value) < 4:
        raise StunProtocolError("XOR address attribute too short (%d bytes)" % len(value))
    family = value[1]
    mask = _xor_mask(family, transaction_id)
    port = struct.unpack("!H", value[2:4])[0] ^ (MAGIC_COOKIE >> 16)
    raw = bytes(a ^ b for a, b in zip(value[4:], mask))
    if len(raw) != len(value) - 4:
        raise StunProtocolError("XOR address attribute: bad length %d" % len(value))
    return decode_address(struct.pack("!BBH", 0, family, port) + raw)


def encode_error_code(code, reason):
    return struct.pack("!HBB", 0, code // 100, code % 100) + reason.encode("utf-8")


def decode_error_code(value):
    if len(value) < 4:
        raise StunProtocolError("ERROR-CODE too short")
    code = (value[2] & 0x07) * 100 + value[3]
    return code, value[4:].decode("utf-8", "replace")


def long_term_key(username, realm, password):
    """RFC 5389 15.4: MD5(username ":" realm ":" password); no SASLprep."""
    text = "%s:%s:%s" % (username, realm, password)
    return hashlib.md5(text.encode("utf-8")).digest()  # nosec - mandated by the RFC


def short_term_key(password):
    return password.encode("utf-8")


def fingerprint_value(data):
    return (binascii.crc32(data) & 0xFFFFFFFF) ^ FINGERPRINT_XOR


class Message(object):
    """A STUN message: method, class, transaction id and ordered attributes.

    ``attributes`` is a list of ``(type, value bytes)``.  Decoded messages
    also keep ``raw`` and ``offsets`` (attribute start offsets) so that
    MESSAGE-INTEGRITY and FINGERPRINT can be checked on the exact bytes.
    """

    def __init__(self, method, cls, transaction_id=None, attributes=None):
        self.method = method
        self.cls = cls
        self.transaction_id = transaction_id or new_transaction_id()
        if len(self.transaction_id) != 12:
            raise ValueError("transaction id must be 12 bytes")
        self.attributes = list(attributes or [])
        self.raw = None
        self.offsets = []

    def __repr__(self):
        return "<Message %s/%d %s attrs=%s>" % (
            METHOD_NAMES.get(self.method, hex(self.method)), self.cls,
            self.transaction_id.hex(), [hex(t) for t, dummy in self.attributes])

    # -- building ---------------------------------------------------------
    def add(self, attr_type, value):
        self.attributes.append((attr_type, bytes(value)))
        return self

    def add_text(self, attr_type, text):
        return self.add(attr_type, text.encode("utf-8"))

    def add_xor_address(self, attr_type, ip, port):
        return self.add(attr_type, encode_xor_address(ip, port, self.transaction_id))

    # -- reading ----------------------------------------------------------
    def get(self, attr_type, default=None):
        for t, v in self.attributes:
            if t == attr_type:
                return v
        return default

    def get_all(self, attr_type):
        return [v for t, v in self.attributes if t == attr_type]

    def text(self, attr_type):
        v = self.get(attr_type)
        return None if v is None else v.decode("utf-8", "replace")

    def xor_address(self, attr_type):
        v = self.get(attr_type)
        return None if v is None else decode_xor_address(v, self.transaction_id)

    def mapped_address(self):
        """XOR-MAPPED-ADDRESS, or MAPPED-ADDRESS from old servers."""
        addr = self.xor_address(XOR_MAPPED_ADDRESS)
        if addr is None and self.get(MAPPED_ADDRESS) is not None:
            addr = decode_address(self.get(MAPPED_ADDRESS))
        return addr

    def error(self):
        v = self.get(ERROR_CODE)
        return None if v is None else decode_error_code(v)

    def lifetime(self):
        v = self.get(LIFETIME)
        return None if v is None or len(v) != 4 else struct.unpack("!I", v)[0]

    # -- encoding ---------------------------------------------------------
    def encode(self, key=None, fingerprint=False):
        """Serialise; append MESSAGE-INTEGRITY with ``key`` and FINGERPRINT."""
        body = b""
        for attr_type, value in self.attributes:
            body += struct.pack("!HH", attr_type, len(value)) + value + b"\x00" * _pad4(len(value))
        head = struct.pack("!H", encode_type(self.method, self.cls))
        tail = MAGIC_COOKIE_BYTES + self.transaction_id
        if key is not None:
            # The length field covers MESSAGE-INTEGRITY itself while hashing.
            pre = head + struct.pack("!H", len(body) + 24) + tail + body
            mac = hmac.new(key, pre, hashlib.sha1).digest()
            body += struct.pack("!HH", MESSAGE_INTEGRITY, 20) + mac
        if fingerprint:
            pre = head + struct.pack("!H", len(body) + 8) + tail + body
            body += struct.pack("!HHI", FINGERPRINT, 4, fingerprint_value(pre))
        return head + struct.pack("!H", len(body)) + tail + body

    # -- checking ---------------------------------------------------------
    def _offset_of(self, attr_type):
        for (t, dummy), off in zip(self.attributes, self.offsets):
            if t == attr_type:
                return off
        return None

    def check_integrity(self, key):
        """True if MESSAGE-INTEGRITY verifies with ``key``; None if absent."""
        off = self._offset_of(MESSAGE_INTEGRITY)
        if off is None or self.raw is None:
            return None
        mac = self.raw[off + 4:off + 24]
        pre = bytearray(self.raw[:off])
        struct.pack_into("!H", pre, 2, off - HEADER_LEN + 24)
        return hmac.compare_digest(mac, hmac.new(key, bytes(pre), hashlib.sha1).digest())

    def check_fingerprint(self):
        """True if FINGERPRINT verifies; None if absent."""
        off = self._offset_of(FINGERPRINT)
        if off is None or self.raw is None:
            return None
        got = struct.unpack("!I", self.raw[off + 4:off + 8])[0]
        pre = bytearray(self.raw[:off])
        struct.pack_into("!H", pre, 2, off - HEADER_LEN + 8)
        return got == fingerprint_value(bytes(pre))


def is_stun(data):
    return len(data) >= HEADER_LEN and data[0] & 0xC0 == 0 and data[4:8] == MAGIC_COOKIE_BYTES


def decode(data):
    """Parse one complete STUN message; raise StunProtocolError if invalid.

    A FINGERPRINT that is present must verify: it is how STUN is told apart
    from other traffic on a shared port.
    """
    data = bytes(data)
    if len(data) < HEADER_LEN:
        raise StunProtocolError("truncated STUN header (%d bytes)" % len(data))
    msg_type, length = struct.unpack("!HH", data[:4])
    if msg_type & 0xC000:
        raise StunProtocolError("first two bits of a STUN message must be zero")
    if data[4:8] != MAGIC_COOKIE_BYTES:
        raise StunProtocolError("bad magic cookie 0x%s" % data[4:8].hex())
    if length % 4:
        raise StunProtocolError("STUN length %d is not a multiple of 4" % length)
    if len(data) != HEADER_LEN + length:
        raise StunProtocolError("STUN length field says %d bytes, got %d" % (length, len(data) - HEADER_LEN))
    method, cls = decode_type(msg_type)
    msg = Message(method, cls, data[8:20])
    msg.raw = data
    pos = HEADER_LEN
    while pos < len(data):
        if pos + 4 > len(data):
            raise StunProtocolError("truncated attribute header at offset %d" % pos)
        attr_type, attr_len = struct.unpack("!HH", data[pos:pos + 4])
        end = pos + 4 + attr_len
        if end > len(data):
            raise StunProtocolError("attribute 0x%04x overruns the message" % attr_type)
        msg.attributes.append((attr_type, data[pos + 4:end]))
        msg.offsets.append(pos)
        pos = end + _pad4(attr_len)
        if attr_type == FINGERPRINT and pos != len(data):
            raise StunProtocolError("FINGERPRINT is not the last attribute")
    if pos != len(data):
        raise StunProtocolError("attribute padding overruns the message")
    if msg.check_fingerprint() is False:
        raise StunProtocolError("FINGERPRINT does not match")
    return msg


# ---------------------------------------------------------------------------
# ChannelData and stream framing
# ---------------------------------------------------------------------------

def encode_channel_data(channel, data, pad=False):
    """ChannelData frame; ``pad`` to 4 bytes (mandatory over TCP/TLS)."""
    if not CHANNEL_MIN <= channel <= CHANNEL_MAX:
        raise ValueError("channel number 0x%04x outside 0x4000-0x4FFF" % channel)
    if len(data) > 0xFFFF:
        raise ValueError("ChannelData payload too long")
    frame = struct.pack("!HH", channel, len(data)) + bytes(data)
    return frame + b"\x00" * _pad4(len(data)) if pad else frame


def decode_channel_data(frame):
    """Return (channel, data); trailing padding is allowed."""
    if len(frame) < 4:
        raise StunProtocolError("truncated ChannelData header")
    channel, length = struct.unpack("!HH", frame[:4])
    if frame[0] & 0xC0 != 0x40:
        raise StunProtocolError("not a ChannelData frame (first byte 0x%02x)" % frame[0])
    if len(frame) < 4 + length:
        raise StunProtocolError("truncated ChannelData: length %d, got %d" % (length, len(frame) - 4))
    if len(frame) > 4 + length + _pad4(length):
        raise StunProtocolError("ChannelData has trailing bytes")
    return channel, bytes(frame[4:4 + length])


def is_channel_data(data):
    return len(data) >= 4 and data[0] & 0xC0 == 0x40


def split_frame(buf):
    """Cut the first frame off a TCP/TLS byte stream.

    Returns ``(frame, rest)``, or ``(None, buf)`` when more bytes are needed.
    ChannelData over streams is padded to 4 bytes (RFC 8656 12.5).
    """
    if len(buf) < 4:
        return None, buf
    first = buf[0] & 0xC0
    length = struct.unpack("!H", buf[2:4])[0]
    if first == 0x00:
        total = HEADER_LEN + length
    elif first == 0x40:
        total = 4 + length + _pad4(length)
    else:
        raise StunProtocolError("stream is neither STUN nor ChannelData (first byte 0x%02x)" % buf[0])
    if len(buf) < total:
        return None, buf
    return bytes(buf[:total]), buf[total:]


# ---------------------------------------------------------------------------
# Network namespaces
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# Transports
# ---------------------------------------------------------------------------

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
    def open(cls, host, port, timeout, ns=None, tls=False, server_name=None,
             ca_file=None, insecure=False, family=socket.AF_UNSPEC):
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
                    raise TlsError("TLS handshake timed out: the port accepts TCP but does not "
                                   "answer a TLS ClientHello (not a TLS listener?)")
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


def open_transport(kind, host, port, timeout, ns=None, server_name=None,
                   ca_file=None, insecure=False, family=socket.AF_UNSPEC):
    if kind == "udp":
        return UdpTransport.open(host, port, ns=ns, family=family)
    if kind in ("tcp", "tls"):
        return StreamTransport.open(host, port, timeout, ns=ns, tls=(kind == "tls"),
                                    server_name=server_name, ca_file=ca_file,
                                    insecure=insecure, family=family)
    raise ValueError("unknown transport %r" % kind)


# ---------------------------------------------------------------------------
# Client
# ---------------------------------------------------------------------------

class TurnClient(object):
    """STUN/TURN client over one transport, with long-term credentials.

    Requests retransmit over UDP (RTO 500 ms doubling, at most 7 sends) and
    never wait past the caller's deadline.  Data indications and ChannelData
    that arrive while a response is awaited are queued for ``recv_data``.
    """

    def __init__(self, transport, username=None, password=None, software=None):
        self.transport = transport
        self.username = username
        self.password = password
        self.software = software
        self.realm = None
        self.nonce = None
        self.key = None
        self.channels = {}
        self.inbox = []
        self.last_software = None
        self.stale_nonce_retries = 0

    # -- credentials ------------------------------------------------------
    def learn_challenge(self, response):
        """Take REALM/NONCE from a 401/438 answer."""
        realm = response.text(REALM)
        nonce = response.get(NONCE)
        if realm is not None:
            self.realm = realm
        if nonce is not None:
            self.nonce = nonce
        if self.username is not None and self.realm is not None:
            self.key = long_term_key(self.username, self.realm, self.password or "")

    @property
    def authenticated(self):
        return self.key is not None and self.nonce is not None

    # -- plumbing ---------------------------------------------------------
    def _build(self, method, cls, attrs, auth):
        msg = Message(method, cls)
        for attr_type, value in attrs:
            if callable(value):  # XOR addresses need the transaction id
                value = value(msg.transaction_id)
            msg.add(attr_type, value)
        if self.software:
            msg.add_text(SOFTWARE, self.software)
        key = None
        if auth and self.authenticated:
            msg.add_text(USERNAME, self.username)
            msg.add_text(REALM, self.realm)
            msg.add(NONCE, self.nonce)
            key = self.key
        return msg, msg.encode(key=key, fingerprint=True)

    def _dispatch(self, frame):
        """Decode one frame; return a Message if it is a response."""
        if is_channel_data(frame):
            channel, data = decode_channel_data(frame)
            peer = self.channels.get(channel)
            if peer is not None:
                self.inbox.append((peer, data, "channel"))
            return None
        msg = decode(frame)
        if msg.method == DATA and msg.cls == INDICATION:
            peer = msg.xor_address(XOR_PEER_ADDRESS)
            data = msg.get(DATA_ATTR)
            if peer is not None and data is not None:
                self.inbox.append((peer, data, "data"))
            return None
        if msg.cls in (SUCCESS, ERROR):
            return msg
        return None

    def transact(self, method, attrs, deadline, auth=True):
        """Send one request, return the answer (success or error message)."""
        msg, wire = self._build(method, REQUEST, attrs, auth)
        rto = RTO_INITIAL
        sends = 0
        limit = 1 if self.transport.reliable else MAX_TRANSMISSIONS
        next_send = time.monotonic()
        while True:
            now = time.monotonic()
            if now >= deadline:
                raise StunTimeout("no answer to %s" % METHOD_NAMES.get(method, method))
            if now >= next_send and sends < limit:
                self.transport.send(wire)
                sends += 1
                # After the last transmission only the deadline is left.
                next_send = now + rto if sends < limit else deadline
                rto *= 2
            frame = self.transport.recv(max(min(deadline, next_send) - now, 0.0))
            if frame is None:
                continue
            try:
                answer = self._dispatch(frame)
            except StunProtocolError:
                if self.transport.reliable:
                    raise  # a broken stream cannot resynchronise
                continue  # stray datagram
            if answer is None or answer.transaction_id != msg.transaction_id:
                continue
            if answer.method != method:
                raise StunProtocolError("answer to %s has method %s" % (
                    METHOD_NAMES.get(method, method), METHOD_NAMES.get(answer.method, answer.method)))
            sw = answer.text(SOFTWARE)
            if sw:
                self.last_software = sw
            return answer

    def request(self, method, attrs, deadline, auth=True):
        """Send a request, retrying once on 438 Stale Nonce.

        Returns the success response, raises StunErrorResponse otherwise.
        """
        for attempt in (1, 2):
            answer = self.transact(method, attrs, deadline, auth=auth)
            if answer.cls == SUCCESS:
                if auth and self.authenticated and answer.check_integrity(self.key) is False:
                    raise StunProtocolError("%s response MESSAGE-INTEGRITY does not verify"
                                            % METHOD_NAMES.get(method, method))
                return answer
            code, reason = answer.error() or (0, "error response without ERROR-CODE")
            if code == 438 and attempt == 1 and auth and answer.get(NONCE) is not None:
                self.learn_challenge(answer)
                self.stale_nonce_retries += 1
                continue
            raise StunErrorResponse(method, code, reason, answer)
        raise AssertionError("unreachable")

    # -- TURN operations --------------------------------------------------
    def binding(self, deadline):
        return self.request(BINDING, [], deadline, auth=False)

    def allocate(self, deadline, lifetime=None, family=None):
        attrs = [(REQUESTED_TRANSPORT, struct.pack("!B3x", PROTO_UDP))]
        if family == 6:
            attrs.append((REQUESTED_ADDRESS_FAMILY, struct.pack("!B3x", FAMILY_IPV6)))
        if lifetime is not None:
            attrs.append((LIFETIME, struct.pack("!I", lifetime)))
        return self.request(ALLOCATE, attrs, deadline, auth=True)

    def refresh(self, deadline, lifetime=600):
        return self.request(REFRESH, [(LIFETIME, struct.pack("!I", lifetime))], deadline)

    def create_permission(self, peers, deadline):
        """``peers``: iterable of (ip, port); port is ignored by servers."""
        attrs = [(XOR_PEER_ADDRESS, _xor_attr(ip, port)) for ip, port in peers]
        return self.request(CREATE_PERMISSION, attrs, deadline)

    def channel_bind(self, channel, peer, deadline):
        answer = self.request(CHANNEL_BIND, [
            (CHANNEL_NUMBER, struct.pack("!H2x", channel)),
            (XOR_PEER_ADDRESS, _xor_attr(peer[0], peer[1])),
        ], deadline)
        self.channels[channel] = (str(ipaddress.ip_address(peer[0])), peer[1])
        return answer

    def send_indication(self, peer, data):
        wire = self._build(SEND, INDICATION, [
            (XOR_PEER_ADDRESS, _xor_attr(peer[0], peer[1])),
            (DATA_ATTR, data),
        ], auth=False)[1]
        self.transport.send(wire)

    def send_channel(self, channel, data):
        self.transport.send(encode_channel_data(channel, data, pad=self.transport.reliable))

    def recv_data(self, deadline):
        """Next (peer, data, via) from Data indications/ChannelData, or None."""
        while True:
            if self.inbox:
                return self.inbox.pop(0)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            frame = self.transport.recv(left)
            if frame is None:
                return None
            try:
                self._dispatch(frame)
            except StunProtocolError:
                if self.transport.reliable:
                    raise

    def close(self):
        self.transport.close()


def _xor_attr(ip, port):
    return lambda tid: encode_xor_address(ip, port, tid)


def format_address(addr):
    """(ip, port) -> "ip:port" ("[ip]:port" for IPv6)."""
    if addr is None:
        return None
    ip, port = addr[0], addr[1]
    return "[%s]:%d" % (ip, port) if ":" in ip else "%s:%d" % (ip, port)

# -*- coding: utf-8 -*-
# Copyright: (c) 2025, veza.coturn developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""STUN message encoding and decoding: message type, attribute values,
long-term/short-term keys, MESSAGE-INTEGRITY and FINGERPRINT.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import ipaddress
import os
import struct

from ansible_collections.veza.coturn.plugins.module_utils._stun.errors import StunProtocolError
from ansible_collections.veza.coturn.plugins.module_utils._stun.protocol import (
    ERROR_CODE,
    FAMILY_IPV4,
    FAMILY_IPV6,
    FINGERPRINT,
    FINGERPRINT_XOR,
    HEADER_LEN,
    LIFETIME,
    MAGIC_COOKIE,
    MAGIC_COOKIE_BYTES,
    MAPPED_ADDRESS,
    MESSAGE_INTEGRITY,
    METHOD_NAMES,
    XOR_MAPPED_ADDRESS,
)


def encode_type(method, cls):
    """Interleave method and class bits (RFC 5389 figure 3)."""
    if not 0 <= method <= 0xFFF or not 0 <= cls <= 3:
        raise ValueError("bad STUN method/class %r/%r" % (method, cls))
    return (method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) | ((cls & 1) << 4) | ((cls & 2) << 7)


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
            METHOD_NAMES.get(self.method, hex(self.method)),
            self.cls,
            self.transaction_id.hex(),
            [hex(t) for t, dummy in self.attributes],
        )

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
        mac = self.raw[off + 4 : off + 24]
        pre = bytearray(self.raw[:off])
        struct.pack_into("!H", pre, 2, off - HEADER_LEN + 24)
        return hmac.compare_digest(mac, hmac.new(key, bytes(pre), hashlib.sha1).digest())

    def check_fingerprint(self):
        """True if FINGERPRINT verifies; None if absent."""
        off = self._offset_of(FINGERPRINT)
        if off is None or self.raw is None:
            return None
        got = struct.unpack("!I", self.raw[off + 4 : off + 8])[0]
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
        attr_type, attr_len = struct.unpack("!HH", data[pos : pos + 4])
        end = pos + 4 + attr_len
        if end > len(data):
            raise StunProtocolError("attribute 0x%04x overruns the message" % attr_type)
        msg.attributes.append((attr_type, data[pos + 4 : end]))
        msg.offsets.append(pos)
        pos = end + _pad4(attr_len)
        if attr_type == FINGERPRINT and pos != len(data):
            raise StunProtocolError("FINGERPRINT is not the last attribute")
    if pos != len(data):
        raise StunProtocolError("attribute padding overruns the message")
    if msg.check_fingerprint() is False:
        raise StunProtocolError("FINGERPRINT does not match")
    return msg


def format_address(addr):
    """(ip, port) -> "ip:port" ("[ip]:port" for IPv6)."""
    if addr is None:
        return None
    ip, port = addr[0], addr[1]
    return "[%s]:%d" % (ip, port) if ":" in ip else "%s:%d" % (ip, port)

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the STUN message codec in plugins/module_utils/_stun/codec.py."""

from __future__ import annotations

import os
import struct

import pytest

from ansible_collections.veza.coturn.plugins.module_utils._stun.codec import (
    Message,
    decode,
    decode_address,
    decode_type,
    decode_xor_address,
    encode_address,
    encode_error_code,
    encode_type,
    encode_xor_address,
    format_address,
    is_stun,
    long_term_key,
    short_term_key,
)
from ansible_collections.veza.coturn.plugins.module_utils._stun.errors import StunProtocolError
from ansible_collections.veza.coturn.plugins.module_utils._stun.framing import decode_channel_data
from ansible_collections.veza.coturn.plugins.module_utils._stun.protocol import (
    ALLOCATE,
    BINDING,
    CHANNEL_BIND,
    CHANNEL_NUMBER,
    DATA,
    DATA_ATTR,
    ERROR,
    ERROR_CODE,
    FINGERPRINT,
    INDICATION,
    LIFETIME,
    MAPPED_ADDRESS,
    MESSAGE_INTEGRITY,
    NONCE,
    PROTO_UDP,
    REALM,
    REQUEST,
    REQUESTED_TRANSPORT,
    SEND,
    SOFTWARE,
    SUCCESS,
    USERNAME,
    XOR_MAPPED_ADDRESS,
    XOR_PEER_ADDRESS,
    XOR_RELAYED_ADDRESS,
)

# --- RFC 5769 test vectors (bytes copied from the RFC) ----------------------

PASSWORD_SHORT = "VOkJxbRl1RmTxUk/WvJxBt"
TID = bytes.fromhex("b7e7a701bc34d686fa87dfae")

# 2.1 Sample Request: SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME (padded
# with spaces, which receivers must ignore), MESSAGE-INTEGRITY, FINGERPRINT.
SAMPLE_REQUEST = bytes.fromhex(
    " ".join(
        [
            "00010058 2112a442 b7e7a701 bc34d686 fa87dfae",
            "80220010 5354554e 20746573 7420636c 69656e74",
            "00240004 6e0001ff",
            "80290008 932ff9b1 51263b36",
            "00060009 6576746a 3a683676 59202020",
            "00080014 9aeaa70c bfd8cb56 781ef2b5 b2d3f249 c1b571a2",
            "80280004 e57a3bcf",
        ]
    )
)

# 2.2 Sample IPv4 Response: 192.0.2.1 port 32853 (bytes only, never sent).
SAMPLE_IPV4_RESPONSE = bytes.fromhex(
    " ".join(
        [
            "0101003c 2112a442 b7e7a701 bc34d686 fa87dfae",
            "8022000b 74657374 20766563 746f7220",
            "00200008 0001a147 e112a643",
            "00080014 2b91f599 fd9e90c3 8c7489f9 2af9ba53 f06be7d7",
            "80280004 c07d4c96",
        ]
    )
)

# 2.3 Sample IPv6 Response: 2001:db8:1234:5678:11:2233:4455:6677 port 32853.
SAMPLE_IPV6_RESPONSE = bytes.fromhex(
    " ".join(
        [
            "01010048 2112a442 b7e7a701 bc34d686 fa87dfae",
            "8022000b 74657374 20766563 746f7220",
            "00200014 0002a147 0113a9fa a5d3f179 bc25f4b5 bed2b9d9",
            "00080014 a382954e 4be67bf1 1784c97c 8292c275 bfe3ed41",
            "80280004 c8fb0b4c",
        ]
    )
)

# 2.4 Sample Request with Long-Term Authentication (no FINGERPRINT).
LT_USERNAME = "\u30de\u30c8\u30ea\u30c3\u30af\u30b9"
LT_PASSWORD = "TheMatrIX"  # after SASLprep of "The<U+00AD>M<U+00AA>tr<U+2168>"
LT_NONCE = b"f//499k954d6OL34oL9FSTvy64sA"
LT_REALM = "example.org"
SAMPLE_REQUEST_LONG_TERM = bytes.fromhex(
    " ".join(
        [
            "00010060 2112a442 78ad3433 c6ad72c0 29da412e",
            "00060012 e3839ee3 8388e383 aae38383 e382afe3 82b90000",
            "0015001c 662f2f34 39396b39 35346436 4f4c3334 6f4c3946 53547679 36347341",
            "0014000b 6578616d 706c652e 6f726700",
            "00080014 f6702465 6dd64a3e 02b8e071 2e85c9a2 8ca89666",
        ]
    )
)


def test_rfc5769_sample_request():
    msg = decode(SAMPLE_REQUEST)
    assert (msg.method, msg.cls) == (BINDING, REQUEST)
    assert msg.transaction_id == TID
    assert msg.text(SOFTWARE) == "STUN test client"
    assert msg.text(USERNAME) == "evtj:h6vY"
    assert msg.get(0x0024) == bytes.fromhex("6e0001ff")  # PRIORITY
    assert msg.check_fingerprint() is True
    assert msg.check_integrity(short_term_key(PASSWORD_SHORT)) is True
    assert msg.check_integrity(b"wrong") is False


def test_rfc5769_ipv4_response():
    msg = decode(SAMPLE_IPV4_RESPONSE)
    assert (msg.method, msg.cls) == (BINDING, SUCCESS)
    assert msg.text(SOFTWARE) == "test vector"
    assert msg.mapped_address() == ("192.0.2.1", 32853)
    assert msg.check_fingerprint() is True
    assert msg.check_integrity(short_term_key(PASSWORD_SHORT)) is True


def test_rfc5769_ipv6_response():
    msg = decode(SAMPLE_IPV6_RESPONSE)
    assert msg.mapped_address() == ("2001:db8:1234:5678:11:2233:4455:6677", 32853)
    assert msg.check_fingerprint() is True
    assert msg.check_integrity(short_term_key(PASSWORD_SHORT)) is True


def test_rfc5769_long_term_request():
    msg = decode(SAMPLE_REQUEST_LONG_TERM)
    assert msg.text(USERNAME) == LT_USERNAME
    assert msg.get(NONCE) == LT_NONCE
    assert msg.text(REALM) == LT_REALM
    assert msg.check_fingerprint() is None
    key = long_term_key(LT_USERNAME, LT_REALM, LT_PASSWORD)
    assert msg.check_integrity(key) is True
    assert msg.check_integrity(long_term_key(LT_USERNAME, "other.org", LT_PASSWORD)) is False


def test_reencode_rfc5769_long_term_request_byte_exact():
    """Our encoder produces the RFC bytes from the RFC's inputs."""
    msg = Message(BINDING, REQUEST, bytes.fromhex("78ad3433c6ad72c029da412e"))
    msg.add_text(USERNAME, LT_USERNAME).add(NONCE, LT_NONCE).add_text(REALM, LT_REALM)
    wire = msg.encode(key=long_term_key(LT_USERNAME, LT_REALM, LT_PASSWORD))
    assert wire == SAMPLE_REQUEST_LONG_TERM


def test_reencode_rfc5769_ipv4_response_integrity_and_fingerprint():
    # The RFC pads SOFTWARE with a space; we pad with zeros, so compare the
    # values that do not depend on padding bytes by re-decoding.
    msg = Message(BINDING, SUCCESS, TID)
    msg.add_text(SOFTWARE, "test vector")
    msg.add_xor_address(XOR_MAPPED_ADDRESS, "192.0.2.1", 32853)
    wire = msg.encode(key=short_term_key(PASSWORD_SHORT), fingerprint=True)
    assert len(wire) == len(SAMPLE_IPV4_RESPONSE)
    assert wire[:24] == SAMPLE_IPV4_RESPONSE[:24]
    assert wire[36:48] == SAMPLE_IPV4_RESPONSE[36:48]  # XOR-MAPPED-ADDRESS
    again = decode(wire)
    assert again.check_integrity(short_term_key(PASSWORD_SHORT)) is True
    assert again.check_fingerprint() is True


# --- message type, round trips ----------------------------------------------


@pytest.mark.parametrize(
    "method,cls,value",
    [
        (BINDING, REQUEST, 0x0001),
        (BINDING, SUCCESS, 0x0101),
        (BINDING, ERROR, 0x0111),
        (ALLOCATE, REQUEST, 0x0003),
        (ALLOCATE, ERROR, 0x0113),
        (SEND, INDICATION, 0x0016),
        (DATA, INDICATION, 0x0017),
        (CHANNEL_BIND, SUCCESS, 0x0109),
        (0xFFF, ERROR, 0x3FFF),
    ],
)
def test_message_type(method, cls, value):
    assert encode_type(method, cls) == value
    assert decode_type(value) == (method, cls)


def test_round_trip_turn_attributes():
    msg = Message(ALLOCATE, REQUEST)
    msg.add(REQUESTED_TRANSPORT, struct.pack("!B3x", PROTO_UDP))
    msg.add(LIFETIME, struct.pack("!I", 600))
    msg.add_text(USERNAME, "1700000000:alice")
    msg.add_text(REALM, "turn.example.org")
    msg.add(NONCE, b"abc")
    msg.add(CHANNEL_NUMBER, struct.pack("!H2x", 0x4001))
    msg.add(DATA_ATTR, b"\x01\x02\x03\x04\x05")
    msg.add_xor_address(XOR_PEER_ADDRESS, "198.51.100.7", 5000)
    msg.add_xor_address(XOR_RELAYED_ADDRESS, "2001:db8::1", 49152)
    msg.add(ERROR_CODE, encode_error_code(438, "Stale Nonce"))
    key = long_term_key("1700000000:alice", "turn.example.org", "pw")
    wire = msg.encode(key=key, fingerprint=True)
    assert len(wire) % 4 == 0
    back = decode(wire)
    assert (back.method, back.cls, back.transaction_id) == (msg.method, msg.cls, msg.transaction_id)
    assert back.lifetime() == 600
    assert back.text(USERNAME) == "1700000000:alice"
    assert back.get(NONCE) == b"abc"
    assert back.get(DATA_ATTR) == b"\x01\x02\x03\x04\x05"
    assert back.xor_address(XOR_PEER_ADDRESS) == ("198.51.100.7", 5000)
    assert back.xor_address(XOR_RELAYED_ADDRESS) == ("2001:db8::1", 49152)
    assert back.error() == (438, "Stale Nonce")
    assert back.check_integrity(key) is True
    assert back.check_fingerprint() is True
    assert [t for t, dummy in back.attributes][-2:] == [MESSAGE_INTEGRITY, FINGERPRINT]


@pytest.mark.parametrize(
    "ip,port",
    [
        ("127.0.0.1", 1),
        ("198.51.100.200", 65535),
        ("0.0.0.0", 0),
        ("::1", 3478),
        ("2001:db8:1234:5678:11:2233:4455:6677", 32853),
        ("fe80::1", 40000),
    ],
)
def test_xor_address_round_trip(ip, port):
    tid = os.urandom(12)
    value = encode_xor_address(ip, port, tid)
    assert len(value) == (8 if ":" not in ip else 20)
    assert decode_xor_address(value, tid) == (ip, port)
    # The wire form must not contain the plain port (that is the point of XOR).
    assert value[2:4] == struct.pack("!H", port ^ 0x2112)


def test_xor_ipv6_depends_on_transaction_id():
    a = encode_xor_address("2001:db8::1", 1, b"\x00" * 12)
    b = encode_xor_address("2001:db8::1", 1, b"\x01" * 12)
    assert a != b


def test_plain_mapped_address_fallback():
    msg = Message(BINDING, SUCCESS)
    msg.add(MAPPED_ADDRESS, encode_address("198.51.100.9", 1234))
    assert decode(msg.encode()).mapped_address() == ("198.51.100.9", 1234)


def test_format_address():
    assert format_address(("127.0.0.1", 5)) == "127.0.0.1:5"
    assert format_address(("::1", 5)) == "[::1]:5"
    assert format_address(None) is None


# --- error paths --------------------------------------------------------------


def test_truncated_messages():
    for cut in (0, 10, 19, 21, 40, len(SAMPLE_REQUEST) - 1):
        with pytest.raises(StunProtocolError):
            decode(SAMPLE_REQUEST[:cut])


def test_bad_magic_cookie():
    bad = bytearray(SAMPLE_IPV4_RESPONSE)
    bad[4] ^= 0xFF
    with pytest.raises(StunProtocolError, match="magic cookie"):
        decode(bytes(bad))
    assert not is_stun(bytes(bad))


def test_bad_fingerprint():
    bad = bytearray(SAMPLE_IPV4_RESPONSE)
    bad[-1] ^= 0x01
    with pytest.raises(StunProtocolError, match="FINGERPRINT"):
        decode(bytes(bad))


def test_tampered_body_fails_integrity_and_fingerprint():
    bad = bytearray(SAMPLE_REQUEST_LONG_TERM)
    bad[30] ^= 0x01  # inside USERNAME; there is no FINGERPRINT here
    msg = decode(bytes(bad))
    key = long_term_key(LT_USERNAME, LT_REALM, LT_PASSWORD)
    assert msg.check_integrity(key) is False


def test_malformed_lengths_and_bits():
    good = Message(BINDING, REQUEST).add(SOFTWARE, b"abcd").encode()
    bad = bytearray(good)
    bad[0] |= 0x80
    with pytest.raises(StunProtocolError, match="first two bits"):
        decode(bytes(bad))
    bad = bytearray(good)
    struct.pack_into("!H", bad, 2, 6)  # not a multiple of 4
    with pytest.raises(StunProtocolError):
        decode(bytes(bad))
    bad = bytearray(good)
    struct.pack_into("!H", bad, 22, 200)  # attribute overruns the message
    with pytest.raises(StunProtocolError, match="overruns"):
        decode(bytes(bad))
    with pytest.raises(StunProtocolError):
        decode(good + b"\x00\x00\x00\x00")  # trailing bytes
    with pytest.raises(StunProtocolError):
        decode_channel_data(b"\x40\x00\x00\x09abc")
    with pytest.raises(StunProtocolError):
        decode_xor_address(b"\x00\x01\x00", TID)
    with pytest.raises(StunProtocolError):
        decode_address(b"\x00\x03\x00\x01\x01\x02\x03\x04")

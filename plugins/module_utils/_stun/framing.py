# -*- coding: utf-8 -*-
# Copyright: (c) 2025, veza.coturn developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ChannelData frames (RFC 8656 12) and cutting frames off a TCP/TLS stream."""

from __future__ import annotations

import struct

from ansible_collections.veza.coturn.plugins.module_utils._stun.codec import _pad4
from ansible_collections.veza.coturn.plugins.module_utils._stun.errors import StunProtocolError
from ansible_collections.veza.coturn.plugins.module_utils._stun.protocol import CHANNEL_MAX, CHANNEL_MIN, HEADER_LEN


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
    return channel, bytes(frame[4 : 4 + length])


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

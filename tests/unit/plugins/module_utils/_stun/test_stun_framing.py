# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for ChannelData and stream framing in plugins/module_utils/_stun/framing.py."""

from __future__ import annotations

import pytest

from ansible_collections.veza.coturn.plugins.module_utils._stun.codec import Message
from ansible_collections.veza.coturn.plugins.module_utils._stun.errors import StunProtocolError
from ansible_collections.veza.coturn.plugins.module_utils._stun.framing import (
    decode_channel_data,
    encode_channel_data,
    split_frame,
)
from ansible_collections.veza.coturn.plugins.module_utils._stun.protocol import BINDING, REQUEST

# --- ChannelData and stream framing -----------------------------------------


def test_channel_data_udp_and_stream():
    assert encode_channel_data(0x4000, b"abcde") == b"\x40\x00\x00\x05abcde"
    padded = encode_channel_data(0x4FFF, b"abcde", pad=True)
    assert padded == b"\x4f\xff\x00\x05abcde\x00\x00\x00"
    assert decode_channel_data(padded) == (0x4FFF, b"abcde")
    assert decode_channel_data(b"\x40\x01\x00\x00") == (0x4001, b"")
    with pytest.raises(ValueError):
        encode_channel_data(0x3FFF, b"x")
    with pytest.raises(ValueError):
        encode_channel_data(0x5000, b"x")


def test_split_frame_stream():
    stun = Message(BINDING, REQUEST).encode(fingerprint=True)
    chan = encode_channel_data(0x4000, b"xyz", pad=True)
    stream = chan + stun + chan
    frames = []
    buf = b""
    for i in range(len(stream)):  # byte by byte: partial frames must wait
        buf += stream[i : i + 1]
        frame, buf = split_frame(buf)
        if frame is not None:
            frames.append(frame)
    assert frames == [chan, stun, chan]
    assert buf == b""
    with pytest.raises(StunProtocolError):
        split_frame(b"\x80\x00\x00\x00")

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the TURN client of plugins/module_utils/_stun/client.py over UDP."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from ansible_collections.veza.coturn.plugins.module_utils._stun.client import TurnClient
from ansible_collections.veza.coturn.plugins.module_utils._stun.codec import Message, decode
from ansible_collections.veza.coturn.plugins.module_utils._stun.errors import StunTimeout
from ansible_collections.veza.coturn.plugins.module_utils._stun.protocol import BINDING, SUCCESS, XOR_MAPPED_ADDRESS
from ansible_collections.veza.coturn.plugins.module_utils._stun.transport import UdpTransport

# --- client over UDP, against an in-test echo of canned answers --------------


def _canned_server(answer):
    """UDP socket on 127.0.0.1 answering every request with answer(request)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.05)
    stop = threading.Event()

    def loop():
        for dummy in range(400):  # bounded: 20 s at most
            if stop.is_set():
                break
            try:
                data, src = sock.recvfrom(65536)
            except socket.timeout:
                continue
            reply = answer(decode(data))
            if reply is not None:
                sock.sendto(reply, src)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return sock, stop, thread


def test_client_retransmits_and_matches_transaction():
    seen = []

    def answer(req):
        seen.append(req.transaction_id)
        if len(seen) < 2:
            return None  # drop the first transmission: the client must retransmit
        stray = Message(BINDING, SUCCESS)  # other transaction: ignored
        ok = Message(BINDING, SUCCESS, req.transaction_id)
        ok.add_xor_address(XOR_MAPPED_ADDRESS, "127.0.0.1", 4242)
        return stray.encode() if len(seen) == 2 else ok.encode(fingerprint=True)

    sock, stop, thread = _canned_server(answer)
    try:
        client = TurnClient(UdpTransport.open("127.0.0.1", sock.getsockname()[1]))
        start = time.monotonic()
        resp = client.binding(time.monotonic() + 3.0)
        assert resp.mapped_address() == ("127.0.0.1", 4242)
        assert len(seen) == 3 and len(set(seen)) == 1  # same transaction id each time
        assert 1.0 <= time.monotonic() - start < 2.5  # RTO 0.5 then 1.0
        client.close()
    finally:
        stop.set()
        thread.join(2)
        sock.close()


def test_client_gives_up_at_deadline():
    sock, stop, thread = _canned_server(lambda req: None)
    try:
        client = TurnClient(UdpTransport.open("127.0.0.1", sock.getsockname()[1]))
        start = time.monotonic()
        with pytest.raises(StunTimeout):
            client.binding(time.monotonic() + 0.3)
        assert time.monotonic() - start < 0.6
        client.close()
    finally:
        stop.set()
        thread.join(2)
        sock.close()

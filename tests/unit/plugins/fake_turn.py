# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""FakeTurn: a small TURN server (UDP, 127.0.0.1 only) built on the codec,
with knobs for each failure the probe must classify; shared by the probe's
and the relay watch's tests. Also ``failure_of``, the checks every test of a
probe failure makes.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import time

from ansible_collections.veza.coturn.plugins.module_utils._stun import protocol
from ansible_collections.veza.coturn.plugins.module_utils._stun.codec import (
    Message,
    decode,
    decode_xor_address,
    encode_error_code,
    long_term_key,
)
from ansible_collections.veza.coturn.plugins.module_utils._stun.framing import (
    decode_channel_data,
    encode_channel_data,
    is_channel_data,
)
from ansible_collections.veza.coturn.plugins.module_utils._stun.protocol import (
    ALLOCATE,
    BINDING,
    CHANNEL_BIND,
    CHANNEL_NUMBER,
    CREATE_PERMISSION,
    DATA,
    DATA_ATTR,
    ERROR,
    ERROR_CODE,
    INDICATION,
    LIFETIME,
    MESSAGE_INTEGRITY,
    NONCE,
    REFRESH,
    REQUEST,
    SEND,
    SOFTWARE,
    SUCCESS,
    USERNAME,
    XOR_MAPPED_ADDRESS,
    XOR_PEER_ADDRESS,
    XOR_RELAYED_ADDRESS,
)

REALM = "fake.test"
USER, PASSWORD = "alice", "wonderland"
LOOP = "127.0.0.1"


class _Alloc(object):
    def __init__(self, client, advertise_ip):
        self.client = client
        self.relay = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.relay.bind((LOOP, 0))
        self.advertised = (advertise_ip or LOOP, self.relay.getsockname()[1])
        self.perms = set()
        self.channels = {}  # number -> peer

    def channel_of(self, peer):
        for number, addr in self.channels.items():
            if addr == peer:
                return number
        return None


class FakeTurn(threading.Thread):
    """Single-threaded UDP TURN server; every knob off means 'behave'."""

    def __init__(self, **knobs):
        super().__init__(daemon=True)
        self.knobs = knobs
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOOP, 0))
        self.port = self.sock.getsockname()[1]
        self.realm = knobs.get("realm", REALM)
        self.nonce = b"nonce-0"
        self.nonce_serial = 0
        self.allocs = {}  # client addr -> _Alloc
        self.requests = []  # (method, authenticated)
        self.stale_sent = 0
        self.relayed_dropped = 0
        self.stop_event = threading.Event()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.join(2)
        self.sock.close()
        for alloc in self.allocs.values():
            alloc.relay.close()

    # -- loop --------------------------------------------------------------
    def run(self):
        end = time.monotonic() + 20  # bounded even if a test forgets to stop us
        while not self.stop_event.is_set() and time.monotonic() < end:
            socks = [self.sock] + [a.relay for a in self.allocs.values()]
            try:
                ready = select.select(socks, [], [], 0.05)[0]
            except (OSError, ValueError):
                return
            for sock in ready:
                try:
                    data, src = sock.recvfrom(65536)
                except OSError:
                    continue
                if sock is self.sock:
                    self.from_client(data, src)
                else:
                    self.from_peer(sock, data, src)

    # -- helpers -------------------------------------------------------------
    def send(self, msg, dst, key=None):
        self.sock.sendto(msg.encode(key=key, fingerprint=True), dst)

    def error(self, req, code, reason, dst, challenge=False):
        msg = Message(req.method, ERROR, req.transaction_id)
        msg.add(ERROR_CODE, encode_error_code(code, reason))
        if challenge:
            msg.add_text(protocol.REALM, self.realm).add(NONCE, self.nonce)
        msg.add_text(SOFTWARE, "FakeTurn")
        self.send(msg, dst)

    def new_nonce(self):
        self.nonce_serial += 1
        self.nonce = b"nonce-%d" % self.nonce_serial

    def authenticate(self, req, src):
        """Return the key, or None after answering with an error."""
        username = req.text(USERNAME)
        if username is None or req.get(MESSAGE_INTEGRITY) is None:
            self.error(req, 401, "Unauthorized", src, challenge=True)
            return None
        if self.knobs.get("always_401"):
            self.error(req, 401, "Unauthorized", src, challenge=True)
            return None
        if self.knobs.get("wrong_credentials_441"):
            self.error(req, 441, "Wrong Credentials", src)
            return None
        password = {USER: PASSWORD}.get(username)
        key = long_term_key(username, self.realm, password or "")
        if password is None or req.check_integrity(key) is not True:
            self.error(req, 401, "Unauthorized", src, challenge=True)
            return None
        stale = self.knobs.get("stale")
        if req.get(NONCE) != self.nonce or stale == "always" or (stale == "once" and not self.stale_sent):
            self.stale_sent += 1
            self.new_nonce()
            self.error(req, 438, "Stale Nonce", src, challenge=True)
            return None
        return key

    def from_client(self, data, src):
        alloc = self.allocs.get(src)
        if is_channel_data(data):
            number, payload = decode_channel_data(data)
            if alloc and number in alloc.channels:
                self.relay_out(alloc, alloc.channels[number], payload)
            return
        req = decode(data)
        if req.cls == INDICATION and req.method == SEND:
            peer = req.xor_address(XOR_PEER_ADDRESS)
            if alloc and peer:
                self.relay_out(alloc, peer, req.get(DATA_ATTR))
            return
        if req.cls != REQUEST:
            return
        self.requests.append((req.method, req.get(MESSAGE_INTEGRITY) is not None))
        if self.knobs.get("silent"):
            return
        if req.method == BINDING:
            ok = Message(BINDING, SUCCESS, req.transaction_id)
            ok.add_xor_address(XOR_MAPPED_ADDRESS, src[0], src[1]).add_text(SOFTWARE, "FakeTurn")
            self.send(ok, src)
            return
        key = self.authenticate(req, src)
        if key is None:
            return
        ok = Message(req.method, SUCCESS, req.transaction_id)
        if req.method == ALLOCATE:
            if self.knobs.get("capacity_508"):
                self.error(req, 508, "Insufficient Capacity", src)
                return
            if alloc is None:
                alloc = self.allocs[src] = _Alloc(src, self.knobs.get("advertise_ip"))
            ok.add_xor_address(XOR_RELAYED_ADDRESS, *alloc.advertised)
            ok.add_xor_address(XOR_MAPPED_ADDRESS, src[0], src[1])
            ok.add(LIFETIME, struct.pack("!I", 600))
        elif alloc is None:
            self.error(req, 437, "Allocation Mismatch", src)
            return
        elif req.method == CREATE_PERMISSION:
            peers = [decode_xor_address(v, req.transaction_id) for v in req.get_all(XOR_PEER_ADDRESS)]
            if any(ip in self.knobs.get("forbid", ()) for ip, dummy in peers):
                self.error(req, 403, "Forbidden IP", src)
                return
            alloc.perms.update(ip for ip, dummy in peers)
        elif req.method == CHANNEL_BIND:
            number = struct.unpack("!H", req.get(CHANNEL_NUMBER)[:2])[0]
            alloc.channels[number] = req.xor_address(XOR_PEER_ADDRESS)
            alloc.perms.add(alloc.channels[number][0])
        elif req.method == REFRESH:
            if req.lifetime() == 0:
                alloc.relay.close()
                del self.allocs[src]
            ok.add(LIFETIME, struct.pack("!I", req.lifetime() or 0))
        self.send(ok, src, key=key)

    def relay_out(self, alloc, peer, payload):
        if peer[0] not in alloc.perms:
            return
        if self.knobs.get("drop_every_4th_relayed"):
            # A round trip relays twice: this loses every other round trip.
            self.relayed_dropped += 1
            if self.relayed_dropped % 4 == 0:
                return
        if self.knobs.get("return_from_other_port"):
            other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            other.sendto(payload, peer)
            other.close()
            return
        alloc.relay.sendto(payload, peer)

    def from_peer(self, relay, data, src):
        if self.knobs.get("drop_peer_data"):
            return  # as if the relay range were not exposed
        for alloc in self.allocs.values():
            if alloc.relay is relay:
                break
        else:
            return
        if src[0] not in alloc.perms:
            return
        number = alloc.channel_of(src)
        if number is not None:
            self.sock.sendto(encode_channel_data(number, data), alloc.client)
            return
        ind = Message(DATA, INDICATION)
        ind.add_xor_address(XOR_PEER_ADDRESS, src[0], src[1]).add(DATA_ATTR, data)
        self.send(ind, alloc.client)


def failure_of(result, cls, step):
    failure = result["failure"]
    assert failure is not None, result
    assert failure["class"] == cls, failure
    assert failure["step"] == step, failure
    assert failure["explanation"].startswith(step + ":")
    assert result["msg"] == "turn_probe: " + failure["explanation"]
    assert result["steps"][-1]["name"] in (step, "release")
    return failure["explanation"]

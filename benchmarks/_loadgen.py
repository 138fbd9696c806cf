# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Audio-like load through a TURN relay, for benchmarks/dataplane.py (stdlib only).

Run inside the client's network namespace:

    python3 _loadgen.py '<json settings>'

Modes:

- ``turn``: one UDP socket and one TURN allocation per session (Allocate with
  a TURN REST credential, ChannelBind to the echo peer), then every session
  sends one ChannelData frame of ``size`` bytes each ``interval`` seconds,
  each at its own phase inside the interval (as independent calls do); the
  peer echoes it back through the relay. The payload carries the session,
  a sequence number and the send time, so the echo gives the round trip.
- ``direct``: the same schedule and frames straight to the echo peer, no
  relay (the generator-only check: can it make this load at all?).
- ``binding``: STUN Binding requests on the same schedule, the send time in
  the transaction ID (a listener-only relay: the proxy exposure).

Every loop is bounded: setup by ``setup_timeout``, traffic by ``duration``,
the drain by ``drain``. Lines on stdout: ``READY``/``START``/``END`` with a
JSON object, then ``RESULT`` with the totals.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import multiprocessing
import os
import random
import selectors
import socket
import struct
import sys
import threading
import time
from array import array

MAGIC = 0x2112A442
ALLOCATE, REFRESH, CHANNEL_BIND, BINDING = 0x0003, 0x0004, 0x0009, 0x0001
A_USERNAME, A_MI, A_LIFETIME, A_PEER, A_REALM, A_NONCE = 0x0006, 0x0008, 0x000D, 0x0012, 0x0014, 0x0015
A_RELAYED, A_TRANSPORT, A_CHANNEL, A_ERROR = 0x0016, 0x0019, 0x000C, 0x0009
PAYLOAD = struct.Struct("!IId")  # session, sequence, send time (monotonic)
CHANNEL = 0x4000


def _attr(kind, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * pad


def _message(method, tid, attrs, key=None):
    body = b"".join(_attr(k, v) for k, v in attrs)
    if key is not None:
        head = struct.pack("!HHI", method, len(body) + 24, MAGIC) + tid
        mac = hmac.new(key, head + body, hashlib.sha1).digest()
        body += _attr(A_MI, mac)
    return struct.pack("!HHI", method, len(body), MAGIC) + tid + body


def _parse(data):
    """(message type, transaction ID, {attribute: value}) or None."""
    if len(data) < 20 or data[0] & 0xC0:
        return None
    kind, length, magic = struct.unpack_from("!HHI", data)
    if magic != MAGIC:
        return None
    attrs, pos, end = {}, 20, min(len(data), 20 + length)
    while pos + 4 <= end:
        akind, alen = struct.unpack_from("!HH", data, pos)
        attrs.setdefault(akind, data[pos + 4 : pos + 4 + alen])
        pos += 4 + alen + (4 - alen % 4) % 4
    return kind, data[8:20], attrs


def _xor_address(ip, port):
    return struct.pack("!BBH", 0, 1, port ^ (MAGIC >> 16)) + struct.pack(
        "!I", struct.unpack("!I", socket.inet_aton(ip))[0] ^ MAGIC
    )


def _unxor_address(value):
    port = struct.unpack_from("!H", value, 2)[0] ^ (MAGIC >> 16)
    ip = struct.unpack_from("!I", value, 4)[0] ^ MAGIC
    return socket.inet_ntoa(struct.pack("!I", ip)), port


def rest_credential(secret, ttl=3600, user="bench"):
    username = f"{int(time.time()) + ttl}:{user}"
    password = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
    return username, password


class Session:
    __slots__ = ("index", "sock", "state", "tid", "nonce", "key", "sent_at", "tries", "relayed", "phase")

    def __init__(self, index, sock):
        self.index, self.sock = index, sock
        self.state, self.tid, self.nonce, self.key = "new", b"", b"", None
        self.sent_at, self.tries, self.relayed, self.phase = 0.0, 0, None, 0.0


def _setup_turn(cfg, sessions, sel, deadline):
    """Allocate (401, then with the credential) and ChannelBind every session; returns the failures."""
    username, password = rest_credential(cfg["secret"])
    realm = cfg["realm"].encode()
    key = hashlib.md5(f"{username}:{cfg['realm']}:{password}".encode()).digest()
    ports = cfg["peer_ports"]
    peers = [_xor_address(cfg["peer"], port) for port in ports]
    transport = struct.pack("!B3x", 17)
    lifetime = struct.pack("!I", int(cfg.get("lifetime", 120)))
    errors = {}

    def send(s, now):
        s.tid = os.urandom(12)
        if s.state == "new":
            msg = _message(ALLOCATE, s.tid, [(A_TRANSPORT, transport), (A_LIFETIME, lifetime)])
        elif s.state == "auth":
            attrs = [(A_TRANSPORT, transport), (A_LIFETIME, lifetime), (A_USERNAME, username.encode())]
            msg = _message(ALLOCATE, s.tid, attrs + [(A_REALM, realm), (A_NONCE, s.nonce)], key)
        else:  # bind
            peer = peers[s.index % len(peers)]
            attrs = [(A_CHANNEL, struct.pack("!HH", CHANNEL, 0)), (A_PEER, peer), (A_USERNAME, username.encode())]
            msg = _message(CHANNEL_BIND, s.tid, attrs + [(A_REALM, realm), (A_NONCE, s.nonce)], key)
        s.sent_at = now
        s.tries += 1
        try:
            s.sock.send(msg)
        except OSError:
            pass

    pending = {s.sock.fileno(): s for s in sessions}
    # Start in waves so that the setup itself is not one burst.
    queue = list(sessions)
    in_flight = 0
    window = int(cfg.get("setup_window", 64))
    while pending and time.monotonic() < deadline:
        now = time.monotonic()
        while queue and in_flight < window:
            s = queue.pop()
            send(s, now)
            in_flight += 1
        for key_, dummy in sel.select(0.05):
            s = pending.get(key_.fd)
            if s is None:
                continue
            while True:
                try:
                    data = s.sock.recv(2048)
                except BlockingIOError:
                    break
                except OSError:
                    break
                msg = _parse(data)
                if not msg or msg[1] != s.tid:
                    continue
                kind, dummy, attrs = msg
                if kind == 0x0113 and A_NONCE in attrs and s.state in ("new", "auth", "bind"):
                    code = attrs.get(A_ERROR, b"\0\0\0\0")
                    num = code[2] * 100 + code[3] if len(code) >= 4 else 0
                    if num in (401, 438) and s.tries < 6:
                        s.nonce = attrs[A_NONCE]
                        if s.state == "new":
                            s.state = "auth"
                        send(s, time.monotonic())
                        continue
                    errors[num] = errors.get(num, 0) + 1
                    s.state = "failed"
                elif kind == 0x0113 or kind == 0x0119:
                    code = attrs.get(A_ERROR, b"\0\0\0\0")
                    num = code[2] * 100 + code[3] if len(code) >= 4 else 0
                    errors[num] = errors.get(num, 0) + 1
                    s.state = "failed"
                elif kind == 0x0103:
                    s.relayed = _unxor_address(attrs[A_RELAYED]) if A_RELAYED in attrs else None
                    s.state, s.tries = "bind", 0
                    send(s, time.monotonic())
                    continue
                elif kind == 0x0109:
                    s.state = "ready"
                if s.state in ("ready", "failed"):
                    pending.pop(key_.fd, None)
                    in_flight -= 1
                    break
        now = time.monotonic()
        for s in list(pending.values()):
            if s.state not in ("ready", "failed") and s.tries and now - s.sent_at > 0.5:
                if s.tries >= 6:
                    errors["timeout"] = errors.get("timeout", 0) + 1
                    s.state = "failed"
                    pending.pop(s.sock.fileno(), None)
                    in_flight -= 1
                else:
                    send(s, now)
    for s in pending.values():
        if s.state != "ready":
            errors["timeout"] = errors.get("timeout", 0) + 1
            s.state = "failed"
    return errors, (username, key, realm)


def _release(sessions, auth, deadline):
    """Refresh with LIFETIME 0 (the relay frees the port at once); answers are not waited for long."""
    username, key, realm = auth
    for s in sessions:
        if s.state != "ready":
            continue
        attrs = [(A_LIFETIME, b"\0\0\0\0"), (A_USERNAME, username.encode()), (A_REALM, realm), (A_NONCE, s.nonce)]
        try:
            s.sock.send(_message(REFRESH, os.urandom(12), attrs, key))
        except OSError:
            pass
    time.sleep(max(0.0, min(0.3, deadline - time.monotonic())))


def worker(cfg, indexes, barriers, start_at, conn):
    mode = cfg["mode"]
    sel = selectors.EpollSelector()
    sessions = []
    server = (cfg["server"], cfg["server_port"])
    rng = random.Random(indexes[0] if indexes else 0)
    for i in indexes:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 18)
        sock.bind((cfg["client"], 0))
        ports = cfg["peer_ports"]
        sock.connect((cfg["peer"], ports[i % len(ports)]) if mode == "direct" else server)
        sock.setblocking(False)
        s = Session(i, sock)
        s.phase = rng.random()
        sessions.append(s)
        sel.register(sock, selectors.EVENT_READ)
    errors, auth = {}, None
    t_setup = time.monotonic()
    if mode == "turn":
        errors, auth = _setup_turn(cfg, sessions, sel, time.monotonic() + cfg["setup_timeout"])
    else:
        for s in sessions:
            s.state = "ready"
    setup_seconds = time.monotonic() - t_setup
    ready = [s for s in sessions if s.state == "ready"]
    relayed_ports = sorted({s.relayed[1] for s in ready if s.relayed})
    # Wait for every worker (and the parent, which says START).
    try:
        barriers[0].wait(timeout=cfg["setup_timeout"] + 30)
        barriers[1].wait(timeout=30)
    except threading.BrokenBarrierError:  # the parent gave up
        for s in sessions:
            s.sock.close()
        conn.send({"error": "barrier"})
        return
    t0 = start_at.value
    interval = cfg["interval"]
    slots = int(cfg.get("slots", 10))
    slot_len = interval / slots
    by_slot = [[] for dummy in range(slots)]
    for s in ready:
        by_slot[min(slots - 1, int(s.phase * slots))].append(s)
    pad = b"\xa5" * max(0, cfg["size"] - PAYLOAD.size - (4 if mode == "turn" else 0))
    head = struct.pack("!HH", CHANNEL, PAYLOAD.size + len(pad)) if mode == "turn" else b""
    seq = 0
    sent = received = late_slots = 0
    rtts = array("f")
    pack, unpack = PAYLOAD.pack, PAYLOAD.unpack_from
    off = 4 if mode == "turn" else 0
    mono = time.monotonic
    fds = {s.sock.fileno(): s.sock for s in ready}
    for s in sessions:
        if s.state != "ready":
            sel.unregister(s.sock)
    end_send = t0 + cfg["duration"]
    end_all = end_send + cfg["drain"]
    while mono() < t0:
        time.sleep(min(0.01, max(0.0, t0 - mono())))
    cpu0 = time.process_time()
    next_slot, slot = t0, 0
    is_binding = mode == "binding"
    cpu = None
    while True:
        now = mono()
        if now >= end_all:
            break
        if now < end_send:
            # Every slot that is due (catching up when late, so the offered load holds).
            due = 0
            while next_slot <= now and next_slot < end_send:
                for s in by_slot[slot]:
                    seq += 1
                    if is_binding:
                        msg = struct.pack("!HHI", BINDING, 0, MAGIC) + struct.pack("!Id", seq, mono())
                    else:
                        msg = head + pack(s.index, seq, mono()) + pad
                    try:
                        s.sock.send(msg)
                        sent += 1
                    except OSError:
                        pass
                slot = (slot + 1) % slots
                next_slot += slot_len
                due += 1
            if due > 1:
                late_slots += due - 1
            timeout = max(0.0, min(next_slot, end_send) - mono())
        else:
            timeout = max(0.0, end_all - now)
        for key_, dummy in sel.select(timeout):
            sock = fds.get(key_.fd)
            if sock is None:
                continue
            while True:
                try:
                    data = sock.recv(2048)
                except (BlockingIOError, OSError):
                    break
                if is_binding:
                    if len(data) >= 20 and data[0] == 0x01 and data[1] == 0x01:
                        received += 1
                        rtts.append(mono() - struct.unpack_from("!d", data, 12)[0])
                elif len(data) >= off + PAYLOAD.size and (off == 0 or data[0] & 0xC0 == 0x40):
                    received += 1
                    rtts.append(mono() - unpack(data, off)[2])
        if cpu is None and mono() >= end_send:
            cpu = time.process_time() - cpu0
    if cpu is None:
        cpu = time.process_time() - cpu0
    if auth:
        _release(ready, auth, mono() + 1.0)
    for s in sessions:
        s.sock.close()
    conn.send(
        {
            "sessions": len(indexes),
            "ready": len(ready),
            "errors": {str(k): v for k, v in errors.items()},
            "setup_seconds": setup_seconds,
            "sent": sent,
            "received": received,
            "late_slots": late_slots,
            "cpu": cpu,
            "rtts": rtts.tobytes(),
            "relayed_ports": relayed_ports[:3],
        }
    )


def _say(tag, data):
    sys.stdout.write(f"{tag} {json.dumps(data)}\n")
    sys.stdout.flush()


def main():
    cfg = json.loads(sys.argv[1])
    n, workers = cfg["sessions"], max(1, min(cfg.get("workers", 2), cfg["sessions"]))
    ctx = multiprocessing.get_context("fork")
    barriers = (ctx.Barrier(workers + 1), ctx.Barrier(workers + 1))
    start_at = ctx.Value("d", 0.0)
    procs, conns = [], []
    for w in range(workers):
        parent, child = ctx.Pipe(duplex=False)
        args = (cfg, list(range(w, n, workers)), barriers, start_at, child)
        p = ctx.Process(target=worker, args=args, daemon=True)
        p.start()
        procs.append(p)
        conns.append(parent)
    _say("PIDS", {"pids": [p.pid for p in procs]})
    try:
        barriers[0].wait(timeout=cfg["setup_timeout"] + 30)
        start_at.value = time.monotonic() + 0.3
        barriers[1].wait(timeout=30)
    except threading.BrokenBarrierError:  # a worker died or setup hung
        for b in barriers:
            b.abort()
        for p in procs:
            p.join(5)
            if p.is_alive():
                p.kill()
        _say("RESULT", {"error": "setup did not finish"})
        return 1
    t0 = start_at.value
    time.sleep(max(0.0, t0 - time.monotonic()))
    _say("START", {})
    time.sleep(max(0.0, t0 + cfg["duration"] - time.monotonic()))
    _say("END", {})
    results = []
    for parent, p in zip(conns, procs):
        if parent.poll(cfg["drain"] + 30):
            results.append(parent.recv())
        p.join(10)
        if p.is_alive():
            p.kill()
    total = {"sessions": n, "ready": 0, "sent": 0, "received": 0, "late_slots": 0, "cpu": 0.0, "errors": {}}
    rtts = array("f")
    setup = 0.0
    for r in results:
        if "error" in r:
            total.setdefault("worker_errors", []).append(r["error"])
            continue
        for k in ("ready", "sent", "received", "late_slots", "cpu"):
            total[k] += r[k]
        for k, v in r["errors"].items():
            total["errors"][k] = total["errors"].get(k, 0) + v
        setup = max(setup, r["setup_seconds"])
        part = array("f")
        part.frombytes(r["rtts"])
        rtts.extend(part)
        total.setdefault("relayed_ports", []).extend(r["relayed_ports"])
    values = sorted(rtts)
    total["setup_seconds"] = setup
    total["rtt_count"] = len(values)
    if values:
        total["rtt_median"] = values[len(values) // 2]
        total["rtt_p99"] = values[min(len(values) - 1, int(len(values) * 0.99))]
    _say("RESULT", total)
    return 0


if __name__ == "__main__":
    sys.exit(main())

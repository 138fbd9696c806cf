# -*- coding: utf-8 -*-
# Copyright: (c) 2025, veza.coturn developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The probe's steps (binding, allocate, peer_permission_only, permission,
peer_first, relay) and the peer socket they send from.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import statistics
import time

from ansible_collections.veza.coturn.plugins.module_utils._netns import make_socket
from ansible_collections.veza.coturn.plugins.module_utils._stun.codec import Message, decode, format_address
from ansible_collections.veza.coturn.plugins.module_utils._stun.errors import (
    StunErrorResponse,
    StunProtocolError,
    StunTimeout,
)
from ansible_collections.veza.coturn.plugins.module_utils._stun.protocol import (
    BINDING,
    REQUEST,
    RTO_INITIAL,
    SOFTWARE,
    SUCCESS,
)
from ansible_collections.veza.coturn.plugins.module_utils._stun.transport import resolve
from ansible_collections.veza.coturn.plugins.module_utils._turn_probe.failures import ProbeFailure

CHANNEL = 0x4000


def _fmt(addr):
    return format_address(addr)


def _same_addr(a, b):
    return ipaddress.ip_address(a[0]) == ipaddress.ip_address(b[0]) and int(a[1]) == int(b[1])


class ProbeSteps(object):
    """The steps of ``Probe``, one method each, named ``_step_<name>``; a step returns its detail or raises."""

    # -- the peer socket --------------------------------------------------
    def _open_peer(self, deadline):
        """Peer socket + the IP the server sees for it."""
        p = self.p
        server_family, server_addr = resolve(p["host"], p["port"], socket.SOCK_DGRAM)
        family = server_family
        if p["peer_address"]:
            family = socket.AF_INET6 if ipaddress.ip_address(p["peer_address"]).version == 6 else socket.AF_INET
        try:
            sock = make_socket(family, socket.SOCK_DGRAM, p["peer_netns"])
        except OSError as exc:
            raise ProbeFailure("setup_error", "permission: cannot create the peer socket: %s" % exc)
        self.peer = sock
        bind_ip = p["peer_address"] or ("::" if family == socket.AF_INET6 else "0.0.0.0")
        try:
            sock.bind((bind_ip, 0))
        except OSError as exc:
            raise ProbeFailure(
                "setup_error",
                "permission: peer_address %s cannot be bound%s: %s"
                % (bind_ip, " in namespace %s" % p["peer_netns"] if p["peer_netns"] else "", exc),
            )
        local = sock.getsockname()[:2]
        local_ip = local[0]
        if ipaddress.ip_address(local_ip).is_unspecified:
            local_ip = self._route_source(family, server_addr)
        reflexive = None
        if family == server_family:
            reflexive = self._peer_binding(
                sock, server_addr, min(deadline, time.monotonic() + min(1.0, p["timeout"] / 3.0))
            )
        self.peer_info = {
            "peer_address": _fmt((local_ip, local[1])),
            "peer_reflexive": _fmt(reflexive),
            "permission_ip": reflexive[0] if reflexive else local_ip,
        }
        return (self.peer_info["permission_ip"], local[1])

    def _route_source(self, family, server_addr):
        """Local IP the kernel would use towards the server (sends nothing)."""
        probe = make_socket(family, socket.SOCK_DGRAM, self.p["peer_netns"])
        try:
            probe.connect(server_addr)
            return probe.getsockname()[0]
        except OSError:
            return "::" if family == socket.AF_INET6 else "0.0.0.0"
        finally:
            probe.close()

    def _peer_binding(self, sock, server_addr, deadline):
        """Binding from the peer socket: the address the server sees (NAT)."""
        msg = Message(BINDING, REQUEST)
        if self.p["software"]:
            msg.add_text(SOFTWARE, self.p["software"])
        wire = msg.encode(fingerprint=True)
        rto = RTO_INITIAL / 2  # short: only a hint, falls back to the local IP
        next_send = 0.0
        while time.monotonic() < deadline:
            now = time.monotonic()
            try:
                if now >= next_send:
                    sock.sendto(wire, server_addr)
                    next_send = now + rto
                    rto *= 2
                sock.settimeout(max(0.001, min(deadline, next_send) - now))
                data = sock.recvfrom(65536)[0]
            except (socket.timeout, OSError):
                continue
            try:
                answer = decode(data)
            except StunProtocolError:
                continue
            if answer.transaction_id == msg.transaction_id and answer.cls == SUCCESS:
                return answer.mapped_address()
        return None

    # -- steps ------------------------------------------------------------
    def _step_binding(self, deadline):
        client = self._main_client()
        answer = client.binding(deadline)
        self._note_software(client)
        mapped = answer.mapped_address()
        if mapped is None:
            raise ProbeFailure("protocol_error", "binding: success from %s without (XOR-)MAPPED-ADDRESS" % self.where)
        self.result["mapped_address"] = _fmt(mapped)
        return "mapped address %s" % _fmt(mapped)

    def _step_allocate(self, deadline):
        client = self._main_client()
        answer, relayed = self._allocate(client, deadline)
        self.relayed = relayed
        self.result["relayed_address"] = _fmt(relayed)
        mapped = answer.mapped_address()
        if mapped is not None and not self.result["mapped_address"]:
            self.result["mapped_address"] = _fmt(mapped)
        expected = self.p["expected_relayed_ip"]
        if expected and ipaddress.ip_address(relayed[0]) != ipaddress.ip_address(expected):
            raise ProbeFailure(
                "wrong_relayed_address",
                (
                    "allocate: %s relays from %s but expected_relayed_ip is %s: coturn's external-ip "
                    "(nat mode: external-ip=PUBLIC/PRIVATE) or relay-ip is wrong, or the exposure does "
                    "not give the relay the public address" % (self.where, _fmt(relayed), expected)
                ),
            )
        detail = "relayed address %s, lifetime %ss" % (_fmt(relayed), answer.lifetime())
        if client.stale_nonce_retries:
            detail += ", after %d stale-nonce (438) retry" % client.stale_nonce_retries
        return detail

    def _step_peer_permission_only(self, deadline):
        client = self._main_client()
        results = self.result["permissions"]
        for addr in self.p["peer_permission_only"]:
            # Each address gets its own budget: a silent one must not starve the rest.
            one = time.monotonic() + self.p["timeout"]
            try:
                client.create_permission([(addr, 0)], one)
                results[addr] = {"result": "allowed", "code": None, "reason": None}
            except StunErrorResponse as exc:
                verdict = "forbidden" if exc.code == 403 else "other"
                results[addr] = {"result": verdict, "code": exc.code, "reason": exc.reason}
            except StunTimeout:
                results[addr] = {"result": "other", "code": None, "reason": "no answer"}
        return ", ".join("%s %s" % (a, r["result"]) for a, r in results.items())

    def _step_permission(self, deadline):
        client = self._main_client()
        peer = self._open_peer(deadline)
        client.create_permission([peer], deadline)
        return "permission for %s (peer socket %s)" % (peer[0], self.peer_info["peer_address"])

    def _step_peer_first(self, deadline):
        client, count, peer = self._main_client(), self.p["count"], self.peer
        token = os.urandom(6).hex().encode()
        tag_in, tag_out = b"veza-probe pf " + token + b" ", b"veza-probe pb " + token + b" "
        info = self.peer_info
        info.update(sent=0, received=0, via=None, seen_from=None, return_sent=0, return_received=0, return_source=None)
        self.result["peer_first"] = info
        for i in range(count):
            self.peer.sendto(tag_in + str(i).encode(), self.relayed)
            info["sent"] += 1
        got, seen_from = set(), None
        while len(got) < count:
            item = client.recv_data(deadline)
            if item is None:
                break
            src, data, via = item
            if data.startswith(tag_in):
                got.add(data[len(tag_in) :])
                seen_from, info["via"] = src, via
        info["received"] = len(got)
        if not got:
            raise ProbeFailure(
                "peer_unreachable",
                (
                    "peer_first: none of %d datagrams the peer %s sent to the relayed address %s reached "
                    "the client: the relay range is not exposed on that address (DNAT/forwarding of "
                    "min-port..max-port missing, firewall), or coturn relays from a different address "
                    "than it advertises (external-ip/relay-ip)" % (count, info["peer_address"], _fmt(self.relayed))
                ),
            )
        info["seen_from"] = _fmt(seen_from)
        for i in range(count):
            client.send_indication(seen_from, tag_out + str(i).encode())
            info["return_sent"] += 1
        back, sources = set(), set()
        while len(back) < count and time.monotonic() < deadline:
            peer.settimeout(max(0.001, deadline - time.monotonic()))
            try:
                data, src = peer.recvfrom(65536)
            except socket.timeout:
                break
            if data.startswith(tag_out):
                back.add(data)
                sources.add((src[0], src[1]))
        info["return_received"] = len(back)
        info["return_source"] = ", ".join(sorted(_fmt(s) for s in sources)) or None
        if not back:
            raise ProbeFailure(
                "peer_unreachable",
                (
                    "peer_first: the client received the peer's datagrams but none of its %d Send "
                    "indications reached the peer %s: coturn cannot send from the relay (egress "
                    "firewall/SNAT of the relay range)" % (count, info["seen_from"])
                ),
            )
        wrong = [s for s in sources if not _same_addr(s, self.relayed)]
        if wrong:
            raise ProbeFailure(
                "wrong_relayed_address",
                (
                    "peer_first: the peer received relayed data from %s but the relayed address is %s: "
                    "traffic from the relay leaves with another address/port (proxy exposure, or missing "
                    "SNAT for the relay range), so peers behind NAT drop it"
                    % (", ".join(_fmt(s) for s in wrong), _fmt(self.relayed))
                ),
            )
        if len(got) < count or len(back) < count:
            raise ProbeFailure(
                "relay_loss",
                (
                    "peer_first: lost %d of %d datagrams peer->client and %d of %d client->peer"
                    % (count - len(got), count, count - len(back), count)
                ),
            )
        return "peer %s -> %s -> client: %d/%d; back from %s: %d/%d" % (
            info["seen_from"],
            _fmt(self.relayed),
            len(got),
            count,
            info["return_source"],
            len(back),
            count,
        )

    def _step_relay(self, deadline):
        a = self._main_client()
        b = self._open_client()
        relayed_b = self._allocate(b, deadline)[1]
        relayed_a = self.relayed
        a.create_permission([relayed_b], deadline)
        b.create_permission([relayed_a], deadline)
        a.channel_bind(CHANNEL, relayed_b, deadline)
        count = self.p["count"]
        token = os.urandom(6).hex().encode()
        rtts = []
        for i in range(count):
            # Share what is left fairly, so one loss does not eat the budget.
            now = time.monotonic()
            rt_deadline = now + max(0.0, deadline - now) / (count - i)
            payload = b"veza-probe rt " + token + b" " + str(i).encode()
            start = time.monotonic()
            a.send_channel(CHANNEL, payload)
            while True:
                item = b.recv_data(rt_deadline)
                if item is None or item[1] == payload:
                    break
            if item is None:
                continue
            b.send_indication(item[0], payload + b" echo")
            while True:
                back = a.recv_data(rt_deadline)
                if back is None or back[1] == payload + b" echo":
                    break
            if back is not None:
                rtts.append(round((time.monotonic() - start) * 1000.0, 3))
        lost = count - len(rtts)
        self.result["relay"] = {
            "second_relayed_address": _fmt(relayed_b),
            "sent": count,
            "received": len(rtts),
            "loss_percent": round(100.0 * lost / count, 1),
            "rtts_ms": rtts,
        }
        median = round(statistics.median(rtts), 3) if rtts else None
        self.result["rtt_ms"] = median
        if lost:
            raise ProbeFailure(
                "relay_loss",
                (
                    "relay: %d of %d round trips between the allocations %s and %s were lost"
                    % (lost, count, _fmt(relayed_a), _fmt(relayed_b))
                ),
            )
        return "%d/%d round trips %s <-> %s, median %.2f ms" % (
            len(rtts),
            count,
            _fmt(relayed_a),
            _fmt(relayed_b),
            median or 0.0,
        )

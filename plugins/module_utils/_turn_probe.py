# -*- coding: utf-8 -*-
# Copyright: (c) 2025, veza.coturn developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TURN/STUN probe behind the ``turn_probe`` module.

``run_probe(params)`` takes the module's option names and returns the
module's result dictionary (with ``msg`` and ``failure``); it raises
ProbeParamError for an invalid parameter. Standard library and the
collection's ``_stun`` only, no Ansible imports: the backend host's relay
watch (``_relay_watch.py``) runs it as a plain program's library.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
import statistics
import time

from ansible_collections.veza.coturn.plugins.module_utils import _stun

CHECKS = ["binding", "allocate", "permission", "peer_first", "relay"]
STEP_ORDER = ["binding", "allocate", "peer_permission_only", "permission", "peer_first", "relay"]
MAX_COUNT = 100
MAX_PERMISSION_ONLY = 64
MAX_TIMEOUT = 300.0
CHANNEL = 0x4000

ARGUMENT_SPEC = dict(
    host=dict(type="str", required=True),
    port=dict(type="int", default=3478),
    transport=dict(type="str", default="udp", choices=["udp", "tcp", "tls"]),
    server_name=dict(type="str"),
    ca_file=dict(type="path"),
    insecure=dict(type="bool", default=False),
    timeout=dict(type="float", default=3.0),
    username=dict(type="str"),
    password=dict(type="str", no_log=True),
    realm=dict(type="str"),
    expected_relayed_ip=dict(type="str"),
    peer_address=dict(type="str"),
    peer_netns=dict(type="str"),
    netns=dict(type="str"),
    checks=dict(type="list", elements="str", choices=CHECKS, default=list(CHECKS)),
    peer_permission_only=dict(type="list", elements="str", default=[]),
    count=dict(type="int", default=3),
    software=dict(type="str", default="veza.coturn turn_probe"),
)


class ProbeParamError(ValueError):
    """A parameter is invalid; the message names the option."""


class _Failure(Exception):
    def __init__(self, cls, explanation, step=None):
        super().__init__(explanation)
        self.cls = cls
        self.explanation = explanation
        self.step = step


def _ip(value, option):
    try:
        return ipaddress.ip_address(str(value).strip())
    except ValueError:
        raise ProbeParamError("%s must be an IP address literal, got %r" % (option, value))


def normalize_params(params):
    """Fill defaults and validate; raise ProbeParamError naming the option."""
    p = {}
    for name, spec in ARGUMENT_SPEC.items():
        value = params.get(name)
        if value is None:
            value = spec.get("default")
            value = list(value) if isinstance(value, list) else value
        p[name] = value
    unknown = sorted(k for k in set(params) - set(ARGUMENT_SPEC) if not k.startswith("_ansible"))
    if unknown:
        raise ProbeParamError("unknown option(s): %s" % ", ".join(unknown))
    if not p["host"] or not str(p["host"]).strip():
        raise ProbeParamError("host is required and must not be empty")
    p["host"] = str(p["host"]).strip()
    try:
        p["port"] = int(p["port"])
    except (TypeError, ValueError):
        raise ProbeParamError("port must be an integer, got %r" % (p["port"],))
    if not 1 <= p["port"] <= 65535:
        raise ProbeParamError("port must be between 1 and 65535, got %d" % p["port"])
    if p["transport"] not in ("udp", "tcp", "tls"):
        raise ProbeParamError("transport must be one of udp, tcp, tls, got %r" % (p["transport"],))
    try:
        p["timeout"] = float(p["timeout"])
    except (TypeError, ValueError):
        raise ProbeParamError("timeout must be a number of seconds, got %r" % (p["timeout"],))
    if not 0 < p["timeout"] <= MAX_TIMEOUT:
        raise ProbeParamError("timeout must be > 0 and <= %d seconds, got %s" % (MAX_TIMEOUT, p["timeout"]))
    try:
        p["count"] = int(p["count"])
    except (TypeError, ValueError):
        raise ProbeParamError("count must be an integer, got %r" % (p["count"],))
    if not 1 <= p["count"] <= MAX_COUNT:
        raise ProbeParamError("count must be between 1 and %d, got %d" % (MAX_COUNT, p["count"]))
    if (p["username"] is None) != (p["password"] is None):
        raise ProbeParamError("username and password must be given together")
    checks = p["checks"]
    if isinstance(checks, str):
        checks = [c.strip() for c in checks.split(",")]
    if not checks:
        raise ProbeParamError("checks must name at least one of %s" % ", ".join(CHECKS))
    bad = [c for c in checks if c not in CHECKS]
    if bad:
        raise ProbeParamError("checks: unknown check(s) %s; choose from %s" % (", ".join(map(str, bad)), ", ".join(CHECKS)))
    p["checks"] = [c for c in CHECKS if c in checks]
    if p["insecure"] and p["ca_file"]:
        raise ProbeParamError("insecure and ca_file are mutually exclusive")
    if p["ca_file"] and not os.path.isfile(p["ca_file"]):
        raise ProbeParamError("ca_file %s does not exist or is not a file" % p["ca_file"])
    if p["expected_relayed_ip"] is not None:
        p["expected_relayed_ip"] = str(_ip(p["expected_relayed_ip"], "expected_relayed_ip"))
    if p["peer_address"] is not None:
        p["peer_address"] = str(_ip(p["peer_address"], "peer_address"))
    addrs = p["peer_permission_only"] or []
    if len(addrs) > MAX_PERMISSION_ONLY:
        raise ProbeParamError("peer_permission_only takes at most %d addresses, got %d" % (MAX_PERMISSION_ONLY, len(addrs)))
    p["peer_permission_only"] = [str(_ip(a, "peer_permission_only")) for a in addrs]
    for option in ("netns", "peer_netns"):
        if p[option]:
            try:
                _stun.netns_path(p[option])
            except ValueError as exc:
                raise ProbeParamError("%s: %s" % (option, exc))
    return p


def _plan(p):
    want = set(p["checks"])
    if "peer_first" in want:
        want.add("permission")
    if want & {"permission", "relay"} or p["peer_permission_only"]:
        want.add("allocate")
    if p["peer_permission_only"]:
        want.add("peer_permission_only")
    return [s for s in STEP_ORDER if s in want]


def _fmt(addr):
    return _stun.format_address(addr)


def _same_addr(a, b):
    return ipaddress.ip_address(a[0]) == ipaddress.ip_address(b[0]) and int(a[1]) == int(b[1])


def _rest_expiry_hint(username):
    """coturn REST usernames start with a UNIX expiry time."""
    head = (username or "").split(":", 1)[0]
    if head.isdigit() and len(head) >= 9:
        expiry = int(head)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(expiry))
        if expiry < time.time():
            return " The REST username expired at %s." % stamp
        return " (The REST username is valid until %s, so check the shared secret.)" % stamp
    return ""


class _Probe(object):
    def __init__(self, p):
        self.p = p
        host = "[%s]" % p["host"] if ":" in p["host"] else p["host"]
        self.where = "%s:%s over %s" % (host, p["port"], p["transport"])
        self.main = None
        self.allocations = []
        self.clients = []
        self.peer = None
        self.peer_info = None
        self.relayed = None
        self.relay_family = 6 if any(
            a and ipaddress.ip_address(a).version == 6
            for a in (p["expected_relayed_ip"], p["peer_address"])) else None
        self.result = dict(
            changed=False, mapped_address=None, relayed_address=None, server_software=None,
            realm=None, rtt_ms=None, peer_first=None, relay=None, permissions={}, steps=[],
            failure=None,
        )

    # -- framework --------------------------------------------------------
    def run(self):
        plan = _plan(self.p)
        try:
            for name in plan:
                self._step(name, getattr(self, "_step_" + name))
        except _Failure as failure:
            self.result["failure"] = {"class": failure.cls, "explanation": failure.explanation,
                                      "step": failure.step}
        finally:
            self._release()
        if self.result["failure"]:
            self.result["msg"] = "turn_probe: " + self.result["failure"]["explanation"]
        else:
            self.result["msg"] = "turn_probe: %s passed against %s" % (", ".join(plan), self.where)
        return self.result

    def _step(self, name, fn):
        start = time.monotonic()
        deadline = start + self.p["timeout"]
        try:
            detail = fn(deadline)
        except _Failure as failure:
            failure.step = name
            self._record(name, False, start, failure.explanation)
            raise
        except Exception as exc:  # classify everything a step can raise
            failure = self._classify(name, exc)
            failure.step = name
            self._record(name, False, start, failure.explanation)
            raise failure
        self._record(name, True, start, detail)

    def _record(self, name, ok, start, detail):
        self.result["steps"].append({
            "name": name, "ok": ok, "ms": round((time.monotonic() - start) * 1000.0, 2),
            "detail": detail,
        })

    def _classify(self, step, exc):
        p = self.p
        if isinstance(exc, _stun.NetnsError):
            return _Failure("setup_error", "%s: %s" % (step, exc))
        if isinstance(exc, (_stun.StunTimeout, socket.timeout)):
            return _Failure("no_answer", (
                "%s: no answer from %s within %ss: coturn's listening-ip/listening-port is wrong, a "
                "firewall drops the traffic, or the exposure (NAT forwarding / proxy device) of the "
                "listener port is missing" % (step, self.where, p["timeout"])))
        if isinstance(exc, (ssl.SSLError, _stun.TlsError)):  # before OSError: SSLError is one
            return _Failure("tls_error", (
                "%s: TLS with %s failed: %s (check tls-listening-port, the certificate chain and its "
                "names against server_name/ca_file, or use insecure for a self-signed test)"
                % (step, self.where, exc)))
        if isinstance(exc, ConnectionRefusedError):
            return _Failure("no_answer", (
                "%s: %s refused (ICMP port unreachable or TCP reset): nothing listens there; coturn "
                "is down, its listening-ip/listening-port is wrong, or the listener exposure is "
                "missing" % (step, self.where)))
        if isinstance(exc, socket.gaierror):
            return _Failure("no_answer", "%s: host %s does not resolve: %s" % (step, p["host"], exc))
        if isinstance(exc, _stun.StunErrorResponse):
            return self._classify_response(step, exc)
        if isinstance(exc, _stun.StunProtocolError):
            return _Failure("protocol_error", "%s: invalid answer from %s: %s" % (step, self.where, exc))
        if isinstance(exc, ConnectionError):
            return _Failure("no_answer", "%s: %s closed the connection: %s" % (step, self.where, exc))
        if isinstance(exc, OSError):
            return _Failure("no_answer", "%s: cannot talk to %s: %s" % (step, self.where, exc))
        return _Failure("protocol_error", "%s: unexpected %s: %s" % (step, type(exc).__name__, exc))

    def _classify_response(self, step, exc):
        code, reason = exc.code, exc.reason
        what = "%s: %s answered %d %s to %s" % (step, self.where, code, reason,
                                                _stun.METHOD_NAMES.get(exc.method, exc.method))
        if code == 401:
            return _Failure("unauthorized", (
                "%s after authenticating as %r in realm %r: the username/credential do not match "
                "coturn's: wrong shared secret (use-auth-secret: the secrets in coturn's userdb or "
                "static-auth-secret) or password, an expired REST username, or an unknown user.%s"
                % (what, self.p["username"], self.result["realm"], _rest_expiry_hint(self.p["username"]))))
        if code == 441:
            return _Failure("wrong_credentials_441", (
                "%s: the credentials differ from the ones this allocation was made with, or coturn "
                "rejects this username outright (441 Wrong Credentials)" % what))
        if code == 438:
            return _Failure("stale_nonce", (
                "%s even after retrying with the new nonce: coturn keeps rejecting its own nonces "
                "(stale-nonce too short, or clock trouble)" % what))
        if code == 403 and exc.method in (_stun.CREATE_PERMISSION, _stun.CHANNEL_BIND):
            return _Failure("forbidden_peer", (
                "%s: the peer address is denied by coturn's peer rules (denied-peer-ip, "
                "allowed-peer-ip, no-loopback-peers / allow-loopback-peers, no-multicast-peers)" % what))
        if code == 508:
            return _Failure("insufficient_capacity", (
                "%s: no relay port left: the relay range (min-port..max-port) is exhausted or too "
                "small, or relay-ip cannot be bound; size it to at least twice the expected "
                "allocations" % what))
        if code == 486:
            return _Failure("insufficient_capacity", (
                "%s: allocation quota reached: raise coturn's user-quota/total-quota" % what))
        if code == 400:
            return _Failure("protocol_error", (
                "%s: coturn rejected the request as malformed (it also says this for a realm it "
                "does not serve)" % what))
        return _Failure("protocol_error", what)

    # -- resources --------------------------------------------------------
    def _open_client(self):
        p = self.p
        transport = _stun.open_transport(
            p["transport"], p["host"], p["port"], p["timeout"], ns=p["netns"],
            server_name=p["server_name"], ca_file=p["ca_file"], insecure=p["insecure"])
        client = _stun.TurnClient(transport, p["username"], p["password"], p["software"])
        self.clients.append(client)
        return client

    def _main_client(self):
        if self.main is None:
            self.main = self._open_client()
        return self.main

    def _note_software(self, client):
        if client.last_software and not self.result["server_software"]:
            self.result["server_software"] = client.last_software

    def _allocate(self, client, deadline):
        p = self.p
        try:
            answer = client.allocate(deadline, family=self.relay_family)
        except _stun.StunErrorResponse as exc:
            if exc.code != 401:
                raise
            client.learn_challenge(exc.message)
            self._note_software(client)
            if client.realm is None or client.nonce is None:
                raise _Failure("protocol_error", "allocate: 401 from %s without REALM and NONCE" % self.where)
            self.result["realm"] = client.realm
            if p["realm"] is not None and client.realm != p["realm"]:
                raise _Failure("realm_mismatch", (
                    "allocate: %s announces realm %r but realm is %r: coturn's realm= and the realm "
                    "the credentials are made for must be the same" % (self.where, client.realm, p["realm"])))
            if p["username"] is None:
                raise _Failure("unauthorized", (
                    "allocate: %s requires authentication (401) but username/password are not set" % self.where))
            answer = client.allocate(deadline, family=self.relay_family)
        self.allocations.append(client)
        self._note_software(client)
        relayed = answer.xor_address(_stun.XOR_RELAYED_ADDRESS)
        if relayed is None:
            raise _Failure("protocol_error", "allocate: success from %s without XOR-RELAYED-ADDRESS" % self.where)
        return answer, relayed

    def _open_peer(self, deadline):
        """Peer socket + the IP the server sees for it."""
        p = self.p
        server_family, server_addr = _stun.resolve(p["host"], p["port"], socket.SOCK_DGRAM)
        family = server_family
        if p["peer_address"]:
            family = socket.AF_INET6 if ipaddress.ip_address(p["peer_address"]).version == 6 else socket.AF_INET
        try:
            sock = _stun.make_socket(family, socket.SOCK_DGRAM, p["peer_netns"])
        except OSError as exc:
            raise _Failure("setup_error", "permission: cannot create the peer socket: %s" % exc)
        self.peer = sock
        bind_ip = p["peer_address"] or ("::" if family == socket.AF_INET6 else "0.0.0.0")
        try:
            sock.bind((bind_ip, 0))
        except OSError as exc:
            raise _Failure("setup_error", "permission: peer_address %s cannot be bound%s: %s" % (
                bind_ip, " in namespace %s" % p["peer_netns"] if p["peer_netns"] else "", exc))
        local = sock.getsockname()[:2]
        local_ip = local[0]
        if ipaddress.ip_address(local_ip).is_unspecified:
            local_ip = self._route_source(family, server_addr)
        reflexive = None
        if family == server_family:
            reflexive = self._peer_binding(sock, server_addr, min(deadline, time.monotonic() + min(1.0, p["timeout"] / 3.0)))
        self.peer_info = {
            "peer_address": _fmt((local_ip, local[1])),
            "peer_reflexive": _fmt(reflexive),
            "permission_ip": reflexive[0] if reflexive else local_ip,
        }
        return (self.peer_info["permission_ip"], local[1])

    def _route_source(self, family, server_addr):
        """Local IP the kernel would use towards the server (sends nothing)."""
        probe = _stun.make_socket(family, socket.SOCK_DGRAM, self.p["peer_netns"])
        try:
            probe.connect(server_addr)
            return probe.getsockname()[0]
        except OSError:
            return "::" if family == socket.AF_INET6 else "0.0.0.0"
        finally:
            probe.close()

    def _peer_binding(self, sock, server_addr, deadline):
        """Binding from the peer socket: the address the server sees (NAT)."""
        msg = _stun.Message(_stun.BINDING, _stun.REQUEST)
        if self.p["software"]:
            msg.add_text(_stun.SOFTWARE, self.p["software"])
        wire = msg.encode(fingerprint=True)
        rto = _stun.RTO_INITIAL / 2  # short: only a hint, falls back to the local IP
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
                answer = _stun.decode(data)
            except _stun.StunProtocolError:
                continue
            if answer.transaction_id == msg.transaction_id and answer.cls == _stun.SUCCESS:
                return answer.mapped_address()
        return None

    def _release(self):
        deadline = time.monotonic() + min(self.p["timeout"], 1.0)
        released = 0
        problems = []
        start = time.monotonic()
        for client in reversed(self.allocations):
            try:
                client.refresh(max(deadline, time.monotonic() + 0.2), lifetime=0)
                released += 1
            except Exception as exc:  # best effort; the allocation expires anyway
                problems.append(str(exc))
        for client in self.clients:
            client.close()
        if self.peer is not None:
            self.peer.close()
        if self.allocations:
            detail = "released %d of %d allocation(s)" % (released, len(self.allocations))
            if problems:
                detail += " (%s; they expire on their own)" % "; ".join(problems)
            self._record("release", not problems, start, detail)

    # -- steps ------------------------------------------------------------
    def _step_binding(self, deadline):
        client = self._main_client()
        answer = client.binding(deadline)
        self._note_software(client)
        mapped = answer.mapped_address()
        if mapped is None:
            raise _Failure("protocol_error", "binding: success from %s without (XOR-)MAPPED-ADDRESS" % self.where)
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
            raise _Failure("wrong_relayed_address", (
                "allocate: %s relays from %s but expected_relayed_ip is %s: coturn's external-ip "
                "(nat mode: external-ip=PUBLIC/PRIVATE) or relay-ip is wrong, or the exposure does "
                "not give the relay the public address" % (self.where, _fmt(relayed), expected)))
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
            except _stun.StunErrorResponse as exc:
                verdict = "forbidden" if exc.code == 403 else "other"
                results[addr] = {"result": verdict, "code": exc.code, "reason": exc.reason}
            except _stun.StunTimeout:
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
        info.update(sent=0, received=0, via=None, seen_from=None, return_sent=0, return_received=0,
                    return_source=None)
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
                got.add(data[len(tag_in):])
                seen_from, info["via"] = src, via
        info["received"] = len(got)
        if not got:
            raise _Failure("peer_unreachable", (
                "peer_first: none of %d datagrams the peer %s sent to the relayed address %s reached "
                "the client: the relay range is not exposed on that address (DNAT/forwarding of "
                "min-port..max-port missing, firewall), or coturn relays from a different address "
                "than it advertises (external-ip/relay-ip)" % (count, info["peer_address"], _fmt(self.relayed))))
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
            raise _Failure("peer_unreachable", (
                "peer_first: the client received the peer's datagrams but none of its %d Send "
                "indications reached the peer %s: coturn cannot send from the relay (egress "
                "firewall/SNAT of the relay range)" % (count, info["seen_from"])))
        wrong = [s for s in sources if not _same_addr(s, self.relayed)]
        if wrong:
            raise _Failure("wrong_relayed_address", (
                "peer_first: the peer received relayed data from %s but the relayed address is %s: "
                "traffic from the relay leaves with another address/port (proxy exposure, or missing "
                "SNAT for the relay range), so peers behind NAT drop it"
                % (", ".join(_fmt(s) for s in wrong), _fmt(self.relayed))))
        if len(got) < count or len(back) < count:
            raise _Failure("relay_loss", (
                "peer_first: lost %d of %d datagrams peer->client and %d of %d client->peer"
                % (count - len(got), count, count - len(back), count)))
        return "peer %s -> %s -> client: %d/%d; back from %s: %d/%d" % (
            info["seen_from"], _fmt(self.relayed), len(got), count, info["return_source"], len(back), count)

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
            "second_relayed_address": _fmt(relayed_b), "sent": count, "received": len(rtts),
            "loss_percent": round(100.0 * lost / count, 1), "rtts_ms": rtts,
        }
        median = round(statistics.median(rtts), 3) if rtts else None
        self.result["rtt_ms"] = median
        if lost:
            raise _Failure("relay_loss", (
                "relay: %d of %d round trips between the allocations %s and %s were lost"
                % (lost, count, _fmt(relayed_a), _fmt(relayed_b))))
        return "%d/%d round trips %s <-> %s, median %.2f ms" % (
            len(rtts), count, _fmt(relayed_a), _fmt(relayed_b), median or 0.0)


def run_probe(params):
    """Run the probe; ``params`` uses the module's option names.

    Returns the result dict (with ``msg`` and ``failure``); raises
    ProbeParamError for invalid parameters.
    """
    return _Probe(normalize_params(params)).run()

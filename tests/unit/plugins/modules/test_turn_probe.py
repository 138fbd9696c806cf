# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of veza.coturn.turn_probe.

``FakeTurn`` is a small TURN server (UDP, 127.0.0.1 only) built on the codec,
with knobs for each failure the probe must classify. When coturn's
``turnserver`` is installed, the probe also runs against the real thing on
loopback.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import select
import shutil
import socket
import struct
import subprocess
import threading
import time

import pytest

from ansible_collections.veza.coturn.plugins.module_utils import _stun, _turn_probe
from ansible_collections.veza.coturn.plugins.modules import turn_probe

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
        msg = _stun.Message(req.method, _stun.ERROR, req.transaction_id)
        msg.add(_stun.ERROR_CODE, _stun.encode_error_code(code, reason))
        if challenge:
            msg.add_text(_stun.REALM, self.realm).add(_stun.NONCE, self.nonce)
        msg.add_text(_stun.SOFTWARE, "FakeTurn")
        self.send(msg, dst)

    def new_nonce(self):
        self.nonce_serial += 1
        self.nonce = b"nonce-%d" % self.nonce_serial

    def authenticate(self, req, src):
        """Return the key, or None after answering with an error."""
        username = req.text(_stun.USERNAME)
        if username is None or req.get(_stun.MESSAGE_INTEGRITY) is None:
            self.error(req, 401, "Unauthorized", src, challenge=True)
            return None
        if self.knobs.get("always_401"):
            self.error(req, 401, "Unauthorized", src, challenge=True)
            return None
        if self.knobs.get("wrong_credentials_441"):
            self.error(req, 441, "Wrong Credentials", src)
            return None
        password = {USER: PASSWORD}.get(username)
        key = _stun.long_term_key(username, self.realm, password or "")
        if password is None or req.check_integrity(key) is not True:
            self.error(req, 401, "Unauthorized", src, challenge=True)
            return None
        stale = self.knobs.get("stale")
        if req.get(_stun.NONCE) != self.nonce or stale == "always" or (stale == "once" and not self.stale_sent):
            self.stale_sent += 1
            self.new_nonce()
            self.error(req, 438, "Stale Nonce", src, challenge=True)
            return None
        return key

    def from_client(self, data, src):
        alloc = self.allocs.get(src)
        if _stun.is_channel_data(data):
            number, payload = _stun.decode_channel_data(data)
            if alloc and number in alloc.channels:
                self.relay_out(alloc, alloc.channels[number], payload)
            return
        req = _stun.decode(data)
        if req.cls == _stun.INDICATION and req.method == _stun.SEND:
            peer = req.xor_address(_stun.XOR_PEER_ADDRESS)
            if alloc and peer:
                self.relay_out(alloc, peer, req.get(_stun.DATA_ATTR))
            return
        if req.cls != _stun.REQUEST:
            return
        self.requests.append((req.method, req.get(_stun.MESSAGE_INTEGRITY) is not None))
        if self.knobs.get("silent"):
            return
        if req.method == _stun.BINDING:
            ok = _stun.Message(_stun.BINDING, _stun.SUCCESS, req.transaction_id)
            ok.add_xor_address(_stun.XOR_MAPPED_ADDRESS, src[0], src[1]).add_text(_stun.SOFTWARE, "FakeTurn")
            self.send(ok, src)
            return
        key = self.authenticate(req, src)
        if key is None:
            return
        ok = _stun.Message(req.method, _stun.SUCCESS, req.transaction_id)
        if req.method == _stun.ALLOCATE:
            if self.knobs.get("capacity_508"):
                self.error(req, 508, "Insufficient Capacity", src)
                return
            if alloc is None:
                alloc = self.allocs[src] = _Alloc(src, self.knobs.get("advertise_ip"))
            ok.add_xor_address(_stun.XOR_RELAYED_ADDRESS, *alloc.advertised)
            ok.add_xor_address(_stun.XOR_MAPPED_ADDRESS, src[0], src[1])
            ok.add(_stun.LIFETIME, struct.pack("!I", 600))
        elif alloc is None:
            self.error(req, 437, "Allocation Mismatch", src)
            return
        elif req.method == _stun.CREATE_PERMISSION:
            peers = [_stun.decode_xor_address(v, req.transaction_id) for v in req.get_all(_stun.XOR_PEER_ADDRESS)]
            if any(ip in self.knobs.get("forbid", ()) for ip, dummy in peers):
                self.error(req, 403, "Forbidden IP", src)
                return
            alloc.perms.update(ip for ip, dummy in peers)
        elif req.method == _stun.CHANNEL_BIND:
            number = struct.unpack("!H", req.get(_stun.CHANNEL_NUMBER)[:2])[0]
            alloc.channels[number] = req.xor_address(_stun.XOR_PEER_ADDRESS)
            alloc.perms.add(alloc.channels[number][0])
        elif req.method == _stun.REFRESH:
            if req.lifetime() == 0:
                alloc.relay.close()
                del self.allocs[src]
            ok.add(_stun.LIFETIME, struct.pack("!I", req.lifetime() or 0))
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
            self.sock.sendto(_stun.encode_channel_data(number, data), alloc.client)
            return
        ind = _stun.Message(_stun.DATA, _stun.INDICATION)
        ind.add_xor_address(_stun.XOR_PEER_ADDRESS, src[0], src[1]).add(_stun.DATA_ATTR, data)
        self.send(ind, alloc.client)


def params(server, **over):
    p = dict(host=LOOP, port=server.port, username=USER, password=PASSWORD, peer_address=LOOP,
             timeout=1.0)
    p.update(over)
    return p


def step_names(result):
    return [(s["name"], s["ok"]) for s in result["steps"]]


# --- success paths -----------------------------------------------------------

def test_success_all_checks():
    with FakeTurn() as server:
        result = _turn_probe.run_probe(params(server, expected_relayed_ip=LOOP, realm=REALM))
        assert result["failure"] is None, result["failure"]
        assert step_names(result) == [
            ("binding", True), ("allocate", True), ("permission", True), ("peer_first", True),
            ("relay", True), ("release", True)]
        assert result["changed"] is False
        assert result["realm"] == REALM
        assert result["server_software"] == "FakeTurn"
        assert result["mapped_address"].startswith("127.0.0.1:")
        assert result["relayed_address"].startswith("127.0.0.1:")
        pf = result["peer_first"]
        assert (pf["sent"], pf["received"], pf["return_sent"], pf["return_received"]) == (3, 3, 3, 3)
        assert pf["return_source"] == result["relayed_address"]
        assert pf["via"] == "data"
        assert pf["permission_ip"] == LOOP
        assert result["relay"]["received"] == 3 and result["relay"]["loss_percent"] == 0.0
        assert result["rtt_ms"] is not None and result["rtt_ms"] >= 0
        assert server.allocs == {}  # both allocations released
        # The first Allocate goes out without credentials, then with them.
        allocs = [auth for method, auth in server.requests if method == _stun.ALLOCATE]
        assert allocs[:2] == [False, True]
        json.dumps(result)  # must be serialisable for Ansible


def test_checks_subset_pulls_in_prerequisites():
    with FakeTurn() as server:
        result = _turn_probe.run_probe(params(server, checks=["peer_first"], peer_address=None))
        assert result["failure"] is None, result["failure"]
        assert step_names(result) == [
            ("allocate", True), ("permission", True), ("peer_first", True), ("release", True)]
        # With a wildcard peer socket the permission follows the reflexive address.
        assert result["peer_first"]["permission_ip"] == LOOP
        assert result["peer_first"]["peer_reflexive"].startswith("127.0.0.1:")


def test_stale_nonce_is_retried_once():
    with FakeTurn(stale="once") as server:
        result = _turn_probe.run_probe(params(server, checks=["allocate"]))
        assert result["failure"] is None, result["failure"]
        assert server.stale_sent == 1
        assert "stale-nonce (438) retry" in result["steps"][0]["detail"]


def test_peer_permission_only_reports_each_address():
    with FakeTurn(forbid={"10.9.9.9"}) as server:
        result = _turn_probe.run_probe(params(server, checks=["allocate"],
                                              peer_permission_only=["10.9.9.9", "198.51.100.4"]))
        assert result["failure"] is None
        assert result["permissions"] == {
            "10.9.9.9": {"result": "forbidden", "code": 403, "reason": "Forbidden IP"},
            "198.51.100.4": {"result": "allowed", "code": None, "reason": None},
        }
        assert ("peer_permission_only", True) in step_names(result)


# --- failure classes -----------------------------------------------------------

def failure_of(result, cls, step):
    failure = result["failure"]
    assert failure is not None, result
    assert failure["class"] == cls, failure
    assert failure["step"] == step, failure
    assert failure["explanation"].startswith(step + ":")
    assert result["msg"] == "turn_probe: " + failure["explanation"]
    assert result["steps"][-1]["name"] in (step, "release")
    return failure["explanation"]


def test_unauthorized_after_authenticating():
    with FakeTurn() as server:
        result = _turn_probe.run_probe(params(server, password="Not-This-One"))
        text = failure_of(result, "unauthorized", "allocate")
        assert "alice" in text and "static-auth-secret" in text
        assert "Not-This-One" not in json.dumps(result)  # the password never shows


def test_unauthorized_keeps_401_even_with_right_password():
    with FakeTurn(always_401=True) as server:
        failure_of(_turn_probe.run_probe(params(server)), "unauthorized", "allocate")


def test_expired_rest_username_is_named():
    with FakeTurn() as server:
        result = _turn_probe.run_probe(params(server, username="1000000000:alice"))
        assert "expired at 2001-09-09" in failure_of(result, "unauthorized", "allocate")


def test_no_credentials_given():
    with FakeTurn() as server:
        result = _turn_probe.run_probe(params(server, username=None, password=None))
        assert "username/password are not set" in failure_of(result, "unauthorized", "allocate")


def test_stale_nonce_persisting():
    with FakeTurn(stale="always") as server:
        failure_of(_turn_probe.run_probe(params(server)), "stale_nonce", "allocate")
        assert server.stale_sent == 2  # exactly one retry


def test_wrong_credentials_441():
    with FakeTurn(wrong_credentials_441=True) as server:
        failure_of(_turn_probe.run_probe(params(server)), "wrong_credentials_441", "allocate")


def test_realm_mismatch_sends_no_credentials():
    with FakeTurn(realm="other.test") as server:
        result = _turn_probe.run_probe(params(server, realm=REALM))
        text = failure_of(result, "realm_mismatch", "allocate")
        assert "'other.test'" in text and "'fake.test'" in text
        assert result["realm"] == "other.test"
        assert not any(auth for dummy, auth in server.requests)


def test_forbidden_peer():
    with FakeTurn(forbid={LOOP}) as server:
        result = _turn_probe.run_probe(params(server))
        assert "denied-peer-ip" in failure_of(result, "forbidden_peer", "permission")
        assert server.allocs == {}  # released on failure too


def test_insufficient_capacity():
    with FakeTurn(capacity_508=True) as server:
        text = failure_of(_turn_probe.run_probe(params(server)), "insufficient_capacity", "allocate")
        assert "min-port..max-port" in text


def test_no_answer_closed_port_is_quick():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((LOOP, 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens: ICMP port unreachable
    start = time.monotonic()
    result = _turn_probe.run_probe(dict(host=LOOP, port=port, timeout=2.0))
    assert time.monotonic() - start < 1.0
    failure_of(result, "no_answer", "binding")


def test_no_answer_silent_server_within_timeout():
    with FakeTurn(silent=True) as server:
        start = time.monotonic()
        result = _turn_probe.run_probe(params(server, timeout=0.3, checks=["allocate"]))
        assert 0.25 < time.monotonic() - start < 1.0
        assert "listening-port" in failure_of(result, "no_answer", "allocate")


def test_wrong_relayed_address():
    with FakeTurn() as server:
        result = _turn_probe.run_probe(params(server, expected_relayed_ip="198.51.100.10"))
        text = failure_of(result, "wrong_relayed_address", "allocate")
        assert "external-ip" in text
        assert result["relayed_address"].startswith("127.0.0.1:")


def test_peer_unreachable_when_relay_range_not_exposed():
    with FakeTurn(drop_peer_data=True) as server:
        result = _turn_probe.run_probe(params(server, timeout=0.5))
        failure_of(result, "peer_unreachable", "peer_first")
        assert result["peer_first"]["received"] == 0


def test_peer_unreachable_when_advertised_address_is_elsewhere():
    # coturn says 127.0.0.2 (a wrong external-ip) but relays on 127.0.0.1.
    with FakeTurn(advertise_ip="127.0.0.2") as server:
        result = _turn_probe.run_probe(params(server, timeout=0.5))
        failure_of(result, "peer_unreachable", "peer_first")


def test_return_traffic_from_another_port():
    with FakeTurn(return_from_other_port=True) as server:
        result = _turn_probe.run_probe(params(server, timeout=0.5))
        assert "proxy" in failure_of(result, "wrong_relayed_address", "peer_first")


def test_relay_loss():
    with FakeTurn(drop_every_4th_relayed=True) as server:
        result = _turn_probe.run_probe(params(server, timeout=0.6, checks=["relay"], count=4))
        failure_of(result, "relay_loss", "relay")
        assert result["relay"]["received"] == 2 and result["relay"]["loss_percent"] == 50.0
        assert result["rtt_ms"] is not None


# --- parameters and the Ansible entry point --------------------------------------

@pytest.mark.parametrize("over,needle", [
    (dict(transport="sctp"), "transport must be one of"),
    (dict(count=0), "count must be between"),
    (dict(timeout=0), "timeout must be"),
    (dict(port=70000), "port must be between"),
    (dict(peer_address="peer.example"), "peer_address must be an IP address"),
    (dict(expected_relayed_ip="x"), "expected_relayed_ip must be an IP address"),
    (dict(peer_permission_only=["10.0.0.1", "nope"]), "peer_permission_only must be an IP"),
    (dict(password=None), "username and password must be given together"),
    (dict(checks=["bindings"]), "checks: unknown check"),
    (dict(netns="../x"), "netns: invalid network namespace name"),
    (dict(insecure=True, ca_file="/etc/hostname"), "mutually exclusive"),
    (dict(bogus=1), "unknown option"),
])
def test_bad_parameters(over, needle):
    p = dict(host=LOOP, username=USER, password=PASSWORD)
    p.update(over)
    with pytest.raises(_turn_probe.ProbeParamError, match=needle):
        _turn_probe.run_probe(p)


def test_missing_netns_is_a_setup_error():
    with FakeTurn() as server:
        result = _turn_probe.run_probe(params(server, netns="vzc-tp-missing-%d" % os.getpid()))
        failure_of(result, "setup_error", "binding")


def _run_module(args):
    from ansible.module_utils.testing import patch_module_args

    out = {}

    def capture(self, **kwargs):
        out.update(kwargs)
        raise SystemExit(1 if kwargs.get("failed") else 0)

    with patch_module_args(args):
        orig_exit, orig_fail = turn_probe.AnsibleModule.exit_json, turn_probe.AnsibleModule.fail_json
        turn_probe.AnsibleModule.exit_json = capture
        turn_probe.AnsibleModule.fail_json = lambda self, **kw: capture(self, failed=True, **kw)
        try:
            with pytest.raises(SystemExit):
                turn_probe.main()
        finally:
            turn_probe.AnsibleModule.exit_json, turn_probe.AnsibleModule.fail_json = orig_exit, orig_fail
    return out


def test_module_entry_point():
    with FakeTurn() as server:
        ok = _run_module(dict(host=LOOP, port=server.port, username=USER, password=PASSWORD,
                              peer_address=LOOP, _ansible_check_mode=True))
        assert not ok.get("failed") and ok["changed"] is False and ok["failure"] is None
        assert ok["msg"].startswith("turn_probe: binding, allocate")
        bad = _run_module(dict(host=LOOP, port=server.port, username=USER, password="nope",
                               checks=["allocate"]))
        assert bad["failed"] and bad["failure"]["class"] == "unauthorized"
        assert bad["msg"].startswith("turn_probe: allocate:")
    param = _run_module(dict(host=LOOP, count=1000))
    assert param["failed"] and param["msg"].startswith("turn_probe: count must be")


# --- the real coturn, on loopback only -------------------------------------------

TURNSERVER = shutil.which("turnserver") or next(
    (p for p in ("/usr/bin/turnserver", "/usr/sbin/turnserver") if os.path.exists(p)), None)
SECRET = "unit-test-secret"
REAL_REALM = "probe.test"


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        tcp.bind((LOOP, 0))
        port = tcp.getsockname()[1]
        udp.bind((LOOP, port))  # the port must be free for both
        return port


def _rest_credentials(secret, ttl=600, user="probe"):
    username = "%d:%s" % (int(time.time()) + ttl, user)
    password = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
    return username, password


@pytest.fixture(scope="module")
def coturn(tmp_path_factory):
    if not TURNSERVER:
        pytest.skip("coturn's turnserver is not installed")
    tmp = tmp_path_factory.mktemp("coturn")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    tls = shutil.which("openssl") and subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=turn.probe.test",
         "-addext", "subjectAltName=DNS:turn.probe.test,IP:127.0.0.1"],
        capture_output=True, check=False).returncode == 0
    for dummy in range(5):  # a port picked free may be taken again in between
        port = _free_port()
        tls_port = _free_port()
        cmd = [TURNSERVER, "-n", "--no-cli", "--log-file=stdout", "--simple-log",
               "--listening-ip=%s" % LOOP, "--relay-ip=%s" % LOOP,
               "--listening-port=%d" % port, "--tls-listening-port=%d" % tls_port,
               "--min-port=49000", "--max-port=49100",
               "--use-auth-secret", "--static-auth-secret=%s" % SECRET, "--realm=%s" % REAL_REALM,
               "--allow-loopback-peers", "--denied-peer-ip=127.0.0.66", "--no-dtls",
               "--userdb=%s" % (tmp / "turndb"), "--pidfile=%s" % (tmp / "turnserver.pid")]
        cmd += ["--cert=%s" % cert, "--pkey=%s" % key] if tls else ["--no-tls"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for dummy in range(50):  # up to 5 s for the listener
            if proc.poll() is not None:
                break
            result = _turn_probe.run_probe(dict(host=LOOP, port=port, checks=["binding"], timeout=0.1))
            if result["failure"] is None:
                break
            time.sleep(0.1)
        if proc.poll() is None:
            break
    else:
        pytest.skip("turnserver did not start")
    try:
        yield dict(port=port, tls_port=tls_port if tls else None, cert=str(cert))
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def real_params(coturn, **over):
    username, password = _rest_credentials(SECRET)
    p = dict(host=LOOP, port=coturn["port"], username=username, password=password, realm=REAL_REALM,
             peer_address=LOOP, expected_relayed_ip=LOOP, timeout=1.5)
    p.update(over)
    return p


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_real_coturn_all_checks(coturn, transport):
    result = _turn_probe.run_probe(real_params(coturn, transport=transport))
    assert result["failure"] is None, result["failure"]
    assert result["server_software"].startswith("Coturn")
    assert result["peer_first"]["return_source"] == result["relayed_address"]
    assert result["relay"]["received"] == 3
    assert result["steps"][-1] == dict(result["steps"][-1], name="release", ok=True)


def test_real_coturn_tls(coturn):
    if not coturn["tls_port"]:
        pytest.skip("no openssl to make a test certificate")
    result = _turn_probe.run_probe(real_params(
        coturn, transport="tls", port=coturn["tls_port"], ca_file=coturn["cert"],
        server_name="turn.probe.test", checks=["binding", "allocate", "relay"]))
    assert result["failure"] is None, result["failure"]
    bad = _turn_probe.run_probe(real_params(
        coturn, transport="tls", port=coturn["tls_port"], ca_file=coturn["cert"],
        server_name="wrong.name", checks=["binding"]))
    failure_of(bad, "tls_error", "binding")


def test_real_coturn_failures(coturn):
    wrong = real_params(coturn, checks=["allocate"])
    wrong["password"] = base64.b64encode(b"x" * 20).decode()
    failure_of(_turn_probe.run_probe(wrong), "unauthorized", "allocate")
    failure_of(_turn_probe.run_probe(real_params(coturn, realm="other.test")), "realm_mismatch", "allocate")
    # 127.0.0.66 is denied by --denied-peer-ip; binding a socket to it is
    # local (all of 127/8 is loopback) and only CreatePermission is sent.
    failure_of(_turn_probe.run_probe(real_params(coturn, peer_address="127.0.0.66")),
               "forbidden_peer", "permission")
    rules = _turn_probe.run_probe(real_params(coturn, checks=["allocate"],
                                              peer_permission_only=["127.0.0.66", "127.0.0.1"]))
    assert rules["failure"] is None
    assert rules["permissions"]["127.0.0.66"]["result"] == "forbidden"
    assert rules["permissions"]["127.0.0.1"]["result"] == "allowed"


def test_real_coturn_namespaces(coturn, scratch_netns):
    own = "/proc/%d/ns/net" % os.getpid()  # path form, and our own namespace: works
    result = _turn_probe.run_probe(real_params(coturn, netns=own, peer_netns=own))
    assert result["failure"] is None, result["failure"]
    # In the scratch namespace 127.0.0.1 is another loopback: coturn is not
    # there, and neither is the relayed address for a peer created there.
    failure_of(_turn_probe.run_probe(real_params(coturn, netns=scratch_netns)), "no_answer", "binding")
    lonely = _turn_probe.run_probe(real_params(coturn, peer_netns=scratch_netns, timeout=0.5))
    failure_of(lonely, "peer_unreachable", "peer_first")

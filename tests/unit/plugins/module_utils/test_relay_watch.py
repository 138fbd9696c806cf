# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The relay watch program of the backend host (plugins/module_utils/_relay_watch.py).

Probes run against FakeTurn (tests/unit/plugins/modules/test_turn_probe.py), a UDP TURN
server on 127.0.0.1, or a stand-in probe where only the program around the
probe is under test. The program is also run the way the backend host runs
it: its four files copied alone under their package path, ``python3 -m``
with nothing but that PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import threading

import pytest

from ansible_collections.veza.coturn.plugins.module_utils import _relay_watch as rw
from ansible_collections.veza.coturn.plugins.module_utils import _turn_rest
from ansible_collections.veza.coturn.tests.unit.plugins.modules.test_turn_probe import LOOP, PASSWORD, REALM, USER, FakeTurn
from ansible_collections.veza.coturn.tests.unit.plugins.modules.test_turn_probe import REAL_REALM, _rest_credentials
from ansible_collections.veza.coturn.tests.unit.plugins.modules.test_turn_probe import SECRET as COTURN_SECRET
from ansible_collections.veza.coturn.tests.unit.plugins.modules.test_turn_probe import coturn  # noqa: F401 pylint: disable=unused-import

NOW = 1_796_408_000
SECRET = "Recognisable-Shared-Secret-0123456789"
STATIC_USER = "static-backend-user"
STATIC_PASSWORD = "Recognisable-Static-Password-42"
MODULE_UTILS = os.path.dirname(rw.__file__)


def write_env(tmp_path, text):
    path = tmp_path / "webrtc.env"
    path.write_text(text)
    return str(path)


def static_env(tmp_path, user=USER, password=PASSWORD):
    return write_env(tmp_path, f"# managed\nWEBRTC_STUN_URLS=stun:{LOOP}:3478\nWEBRTC_TURN_URLS=turn:{LOOP}:3478\n"
                               f"WEBRTC_TURN_USERNAME={user}\nWEBRTC_TURN_CREDENTIAL={password}\n")


def rest_env(tmp_path, username=str(NOW + 150), credential="c3RvcmVkLWNyZWRlbnRpYWwtdmFsdWU=", secret=SECRET):
    return write_env(tmp_path, f"WEBRTC_TURN_URLS=turn:{LOOP}:3478\nWEBRTC_TURN_USERNAME={username}\n"
                               f"WEBRTC_TURN_CREDENTIAL={credential}\n"
                               f"WEBRTC_TURN_SHARED_SECRET={secret}\nWEBRTC_TURN_CREDENTIAL_TTL=600\n")


def listener(port, transport="udp"):
    scheme = "turns" if transport == "tls" else "turn"
    return {"transport": transport, "port": port, "url": f"{scheme}:{LOOP}:{port}?transport={'udp' if transport == 'udp' else 'tcp'}"}


def relay(port, **over):
    item = {"name": "coturn-local", "host": LOOP, "realm": REALM, "expected_relayed_ip": LOOP,
            "server_name": None, "ca_file": None, "peer_address": None, "listeners": [listener(port)], "stun_only": False}
    item.update(over)
    return item


def make_config(tmp_path, env, relays, **over):
    (tmp_path / "textfile").mkdir(exist_ok=True)
    config = {"env": env, "metrics": str(tmp_path / "textfile" / "veza_coturn.prom"), "timeout": 0.5, "relays": relays}
    config.update(over)
    path = tmp_path / "relay-watch.json"
    path.write_text(json.dumps(config))
    return str(path), config


def run(capsys, config_path, **kw):
    status = rw.main(["--config", config_path], **kw)
    out, err = capsys.readouterr()
    return status, out, err


def metrics_of(config):
    with open(config["metrics"], encoding="utf-8") as handle:
        return handle.read()


# --------------------------------------------------------------------------
# Configuration


def test_the_documented_example_is_accepted(tmp_path):
    ca = tmp_path / "relay-ca.pem"
    ca.write_text("not read here\n")
    raw = {
        "env": "/etc/veza/webrtc.env",
        "metrics": "/var/lib/prometheus/node-exporter/veza_coturn.prom",
        "timeout": 3.0,
        "relays": [{
            "name": "coturn-local", "host": "198.51.100.1", "realm": "turn.veza.test",
            "expected_relayed_ip": "198.51.100.1", "server_name": "turn.veza.test", "ca_file": str(ca),
            "peer_address": None,
            "listeners": [
                {"transport": "udp", "port": 3478, "url": "turn:198.51.100.1:3478?transport=udp"},
                {"transport": "tcp", "port": 3478, "url": "turn:198.51.100.1:3478?transport=tcp"},
                {"transport": "tls", "port": 5349, "url": "turns:198.51.100.1:5349?transport=tcp"}],
            "stun_only": False}],
    }
    config = rw.check_config(raw)
    assert config["timeout"] == 3.0
    assert [item["port"] for item in config["relays"][0]["listeners"]] == [3478, 3478, 5349]


def test_defaults_of_optional_keys():
    config = rw.check_config({"env": "/e", "metrics": "/m/x.prom", "relays": [
        {"name": "r", "host": "h", "listeners": [{"transport": "udp", "port": 1, "url": "stun:h:1"}]}]})
    assert config["timeout"] == rw.DEFAULT_TIMEOUT
    assert config["relays"][0]["stun_only"] is False
    assert config["relays"][0]["realm"] is None and config["relays"][0]["peer_address"] is None


def _drop(key):
    return lambda c: c.pop(key)


def _set(key, value):
    return lambda c: c.__setitem__(key, value)


def _relay_set(key, value, index=0):
    return lambda c: c["relays"][index].__setitem__(key, value)


def _listener_set(key, value):
    return lambda c: c["relays"][0]["listeners"][0].__setitem__(key, value)


@pytest.mark.parametrize("change, needle", [
    (_drop("env"), "env is missing; it is required"),
    (_set("env", "webrtc.env"), "env must be an absolute path (got \"webrtc.env\")"),
    (_set("metrics", ""), "metrics must be an absolute path"),
    (_set("metrics", "/var/lib/x/veza_coturn.txt"), "metrics must name a file ending in .prom"),
    (_set("timeout", 0), "timeout must be a number of seconds above 0 and at most 300"),
    (_set("timeout", "3"), "timeout must be a number of seconds above 0 and at most 300 (got \"3\")"),
    (_set("timeout", True), "timeout must be a number of seconds"),
    (_set("relays", []), "relays must be a non-empty list of relay objects"),
    (_set("relays", {"name": "x"}), "relays must be a non-empty list"),
    (_set("relay", []), "the top level has the unknown key(s) relay; the keys are env, metrics, timeout, relays"),
    (lambda c: c["relays"][0].pop("name"), "relays[0].name is missing; it is required"),
    (_relay_set("name", "a\nb"), "relays[0].name must be a non-empty string on one line"),
    (_relay_set("host", ""), "relays[0].host must be an address or name on one line"),
    (_relay_set("expected_relayed_ip", "turn.veza.test"), "relays[0].expected_relayed_ip must be an IP address literal"),
    (_relay_set("peer_address", "198.51.100.300"), "relays[0].peer_address must be an IP address literal"),
    (_relay_set("ca_file", "relative.pem"), "relays[0].ca_file must be an absolute path"),
    (_relay_set("ca_file", "/nonexistent/relay-ca.pem"), "relays[0].ca_file /nonexistent/relay-ca.pem does not exist"),
    (_relay_set("stun_only", "yes"), "relays[0].stun_only must be true or false (got \"yes\")"),
    (_relay_set("listeners", []), "relays[0].listeners must be a non-empty list"),
    (_relay_set("relay_ip", "1.2.3.4"), "relays[0] has the unknown key(s) relay_ip"),
    (lambda c: c["relays"].append(dict(c["relays"][0])), "relays[1].name coturn-local is already the name of relays[0]"),
    (_listener_set("transport", "sctp"), "relays[0].listeners[0].transport must be one of udp, tcp, tls (got \"sctp\")"),
    (_listener_set("port", 0), "relays[0].listeners[0].port must be an integer from 1 to 65535 (got 0)"),
    (_listener_set("port", "3478"), "relays[0].listeners[0].port must be an integer from 1 to 65535 (got \"3478\")"),
    (_listener_set("port", True), "relays[0].listeners[0].port must be an integer from 1 to 65535 (got true)"),
    (_listener_set("url", "http://turn.veza.test"), "relays[0].listeners[0].url must start with stun:, stuns:, turn:, turns:"),
    (_listener_set("proto", "udp"), "relays[0].listeners[0] has the unknown key(s) proto; the keys are transport, port, url"),
    (lambda c: c["relays"][0]["listeners"].append(dict(c["relays"][0]["listeners"][0])),
     "relays[0].listeners[1].url turn:127.0.0.1:3478?transport=udp is already the url of listeners[0]"),
])
def test_config_errors_name_the_key(tmp_path, capsys, change, needle):
    path, config = make_config(tmp_path, static_env(tmp_path), [relay(3478)])
    change(config)
    (tmp_path / "relay-watch.json").write_text(json.dumps(config))
    status, out, err = run(capsys, path)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"relay-watch: {path}: ")
    assert needle in err
    assert os.listdir(tmp_path / "textfile") == []


@pytest.mark.parametrize("content, needle", [
    (None, "cannot read the configuration"),
    ("{not json", "is not JSON"),
    ("[]", "must be a JSON object (got list)"),
])
def test_unreadable_configuration(tmp_path, capsys, content, needle):
    path = tmp_path / "relay-watch.json"
    if content is not None:
        path.write_text(content)
    status, out, err = run(capsys, str(path))
    assert (status, out) == (2, "")
    assert needle in err and err.count("\n") == 1


def test_usage_error_is_status_2(capsys):
    with pytest.raises(SystemExit) as exc:
        rw.main([])
    assert exc.value.code == 2
    assert "--config" in capsys.readouterr().err


def test_missing_metrics_directory(tmp_path, capsys):
    path, config = make_config(tmp_path, static_env(tmp_path), [relay(3478)], metrics=str(tmp_path / "absent" / "veza_coturn.prom"))
    status, out, err = run(capsys, path, probe=lambda p: pytest.fail("probed despite the missing directory"))
    assert (status, out) == (2, "")
    assert f"the directory of metrics, {tmp_path / 'absent'}, does not exist" in err
    assert not (tmp_path / "absent").exists()


# --------------------------------------------------------------------------
# The env file


@pytest.mark.parametrize("text, needle", [
    ("WEBRTC_TURN_USERNAME=alice\nWEBRTC_TURN_CREDENTIAL=\n", "sets WEBRTC_TURN_USERNAME but WEBRTC_TURN_CREDENTIAL is empty or missing"),
    ("WEBRTC_TURN_CREDENTIAL=Recognisable-Static-Password-42\n", "sets WEBRTC_TURN_CREDENTIAL but WEBRTC_TURN_USERNAME is empty"),
    ("WEBRTC_TURN_USERNAME=a\nWEBRTC_TURN_USERNAME=b\nWEBRTC_TURN_CREDENTIAL=x\n", "WEBRTC_TURN_USERNAME is set on several lines"),
    ("WEBRTC_TURN_USERNAME=1\nWEBRTC_TURN_CREDENTIAL=x\nWEBRTC_TURN_SHARED_SECRET=Short-Secret-1\n",
     "WEBRTC_TURN_SHARED_SECRET: the shared secret must be a string of at least 16 characters (got 14)"),
])
def test_env_errors(tmp_path, capsys, text, needle):
    path, config = make_config(tmp_path, write_env(tmp_path, text), [relay(3478)])
    status, out, err = run(capsys, path, probe=lambda p: pytest.fail("probed despite the env error"))
    assert (status, out) == (2, "")
    assert needle in err and err.count("\n") == 1
    for secret in ("Recognisable-Static-Password-42", "Short-Secret-1"):
        assert secret not in err


def test_missing_env_file(tmp_path, capsys):
    path, config = make_config(tmp_path, str(tmp_path / "absent.env"), [relay(3478)])
    status, out, err = run(capsys, path)
    assert status == 2 and "cannot read the env file" in err


def test_credentials_static_rest_and_off(tmp_path):
    creds = rw.read_credentials(static_env(tmp_path, STATIC_USER, STATIC_PASSWORD), NOW)
    assert (creds.username, creds.password, creds.expiry) == (STATIC_USER, STATIC_PASSWORD, None)
    creds = rw.read_credentials(rest_env(tmp_path), NOW)
    minted = _turn_rest.mint(SECRET, rw.MINT_TTL, now=NOW)
    assert (creds.username, creds.password) == (minted["username"], minted["credential"]) == (str(NOW + 300), minted["credential"])
    assert creds.expiry == NOW + 150  # the env file's own username, not the minted one
    off = rw.read_credentials(write_env(tmp_path, "WEBRTC_TURN_URLS=\nWEBRTC_TURN_USERNAME=\nWEBRTC_TURN_CREDENTIAL=\n"), NOW)
    assert off.username is None and off.expiry is None


def test_rest_expiry():
    assert rw.rest_expiry("1796408188") == 1796408188
    assert rw.rest_expiry("1796408188:user") == 1796408188
    assert rw.rest_expiry("alice") is None
    assert rw.rest_expiry("1234") is None
    assert rw.rest_expiry("") is None


# --------------------------------------------------------------------------
# Metrics


GOLDEN = r"""# HELP veza_coturn_relay_up 1 when the probe of the relay listener through its public address passed, else 0.
# TYPE veza_coturn_relay_up gauge
veza_coturn_relay_up{relay="coturn-local",listener="turn:198.51.100.1:3478?transport=udp",transport="udp"} 1
veza_coturn_relay_up{relay="coturn-local",listener="turns:198.51.100.1:5349?transport=tcp",transport="tls"} 0
veza_coturn_relay_up{relay="we\"ird\\relay\nname",listener="turn:[2001:db8::1]:3478?transport=tcp",transport="tcp"} 0
# HELP veza_coturn_relay_rtt_seconds Seconds the STUN Binding transaction took (tcp/tls: with the connection and TLS handshake); only for listeners that are up.
# TYPE veza_coturn_relay_rtt_seconds gauge
veza_coturn_relay_rtt_seconds{relay="coturn-local",listener="turn:198.51.100.1:3478?transport=udp",transport="udp"} 0.001235
# HELP veza_coturn_relay_relayed_address_match 1 when the relayed address of the probe's allocation has the relay's expected IP, else 0.
# TYPE veza_coturn_relay_relayed_address_match gauge
veza_coturn_relay_relayed_address_match{relay="coturn-local",listener="turn:198.51.100.1:3478?transport=udp",transport="udp"} 1
veza_coturn_relay_relayed_address_match{relay="we\"ird\\relay\nname",listener="turn:[2001:db8::1]:3478?transport=tcp",transport="tcp"} 0
# HELP veza_coturn_relay_failure 1 for a failing listener, with the failure class turn_probe gives.
# TYPE veza_coturn_relay_failure gauge
veza_coturn_relay_failure{relay="coturn-local",listener="turns:198.51.100.1:5349?transport=tcp",transport="tls",class="tls_error"} 1
veza_coturn_relay_failure{relay="we\"ird\\relay\nname",listener="turn:[2001:db8::1]:3478?transport=tcp",transport="tcp",class="wrong_relayed_address"} 1
# HELP veza_coturn_relay_info The SOFTWARE the relay announces (coturn's version), value 1.
# TYPE veza_coturn_relay_info gauge
veza_coturn_relay_info{relay="coturn-local",listener="turn:198.51.100.1:3478?transport=udp",software="Coturn-4.6.1 'Gorst'"} 1
veza_coturn_relay_info{relay="we\"ird\\relay\nname",listener="turn:[2001:db8::1]:3478?transport=tcp",software="Fake \"Turn\" \\ 1"} 1
# HELP veza_coturn_tls_certificate_expiry_seconds Seconds until the notAfter of the certificate the TLS listener presents (negative: expired).
# TYPE veza_coturn_tls_certificate_expiry_seconds gauge
veza_coturn_tls_certificate_expiry_seconds{relay="coturn-local",listener="turns:198.51.100.1:5349?transport=tcp"} -3600
# HELP veza_coturn_backend_credential_expiry_seconds Seconds until the TURN REST username in the backend env file expires (negative: expired).
# TYPE veza_coturn_backend_credential_expiry_seconds gauge
veza_coturn_backend_credential_expiry_seconds 150
# HELP veza_coturn_watch_last_run_timestamp_seconds Unix time the relay watch run started.
# TYPE veza_coturn_watch_last_run_timestamp_seconds gauge
veza_coturn_watch_last_run_timestamp_seconds 1796408000.25
# HELP veza_coturn_watch_duration_seconds Duration of the relay watch run, seconds.
# TYPE veza_coturn_watch_duration_seconds gauge
veza_coturn_watch_duration_seconds 1.5
"""


def outcome(relay_name, url, transport, **over):
    item = {"relay": relay_name, "listener": url, "transport": transport, "checks": ["binding", "allocate"], "up": True,
            "rtt": None, "match": None, "failure_class": None, "explanation": None, "software": None, "not_after": None}
    item.update(over)
    return item


def test_render_golden_text_with_escaped_labels():
    outcomes = [
        outcome("coturn-local", "turn:198.51.100.1:3478?transport=udp", "udp", rtt=0.0012346, match=1, software="Coturn-4.6.1 'Gorst'"),
        outcome("coturn-local", "turns:198.51.100.1:5349?transport=tcp", "tls", up=False, failure_class="tls_error",
                explanation="binding: TLS ...", not_after=NOW - 3600),
        outcome('we"ird\\relay\nname', "turn:[2001:db8::1]:3478?transport=tcp", "tcp", up=False, match=0,
                failure_class="wrong_relayed_address", software='Fake "Turn" \\ 1'),
    ]
    assert rw.render(outcomes, NOW + 150, NOW + 0.25, 1.5, now=NOW) == GOLDEN


def test_render_leaves_out_empty_families():
    text = rw.render([outcome("r", "stun:h:1", "udp", checks=["binding"], rtt=0.002)], None, NOW, 0.0)
    names = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")]
    assert names == ["veza_coturn_relay_up", "veza_coturn_relay_rtt_seconds",
                     "veza_coturn_watch_last_run_timestamp_seconds", "veza_coturn_watch_duration_seconds"]
    assert "veza_coturn_watch_duration_seconds 0\n" in text


def test_escape_label_and_values():
    assert rw.escape_label('a\\b"c\nd') == 'a\\\\b\\"c\\nd'
    assert [rw.format_value(v) for v in (True, 0, -5, 2.0, 0.25, 1e-05, 1796408000.125)] == \
        ["1", "0", "-5", "2", "0.25", "1e-05", "1796408000.125"]


def test_write_metrics_is_atomic_with_mode_0644(tmp_path):
    target = tmp_path / "veza_coturn.prom"
    old_umask = os.umask(0o077)
    try:
        rw.write_metrics(str(target), "first 1\n")
        assert stat.S_IMODE(os.stat(target).st_mode) == 0o644
        inode = os.stat(target).st_ino
        rw.write_metrics(str(target), "second 2\n")
    finally:
        os.umask(old_umask)
    assert target.read_text() == "second 2\n"
    assert os.stat(target).st_ino != inode  # replaced by a rename, not rewritten in place
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o644
    assert os.listdir(tmp_path) == ["veza_coturn.prom"]


def test_write_metrics_failure_leaves_nothing_behind(tmp_path):
    target = tmp_path / "veza_coturn.prom"
    target.mkdir()  # the rename onto a directory fails
    with pytest.raises(OSError):
        rw.write_metrics(str(target), "x 1\n")
    assert os.listdir(tmp_path) == ["veza_coturn.prom"]


def test_unwritable_metrics_file_is_status_2(tmp_path, capsys):
    path, config = make_config(tmp_path, static_env(tmp_path), [relay(3478)])
    os.mkdir(config["metrics"])
    status, out, err = run(capsys, path, probe=_fake_probe({}))
    assert (status, out) == (2, "")
    assert f"cannot write the metrics file {config['metrics']}" in err


# --------------------------------------------------------------------------
# Runs with a stand-in probe


def _fake_probe(failures, calls=None):
    """A probe that fails the listeners whose port is in failures (port -> class) and passes the rest."""

    def probe(params):
        if calls is not None:
            calls.append(params)
        steps = [{"name": "binding", "ok": True, "ms": 2.5, "detail": ""}]
        failure = None
        if params["port"] in failures:
            failure = {"class": failures[params["port"]], "explanation": f"binding: {params['host']} failed", "step": "allocate"}
        return {"failure": failure, "steps": steps, "server_software": "Coturn-4.6.1 'Gorst'",
                "relayed_address": f"{LOOP}:49152" if "allocate" in params["checks"] else None}

    return probe


def test_exit_0_when_all_listeners_are_up(tmp_path, capsys):
    calls = []
    relays = [relay(3478, listeners=[listener(3478), listener(3478, "tcp"), listener(5349, "tls")]), relay(3479, name="second")]
    path, config = make_config(tmp_path, static_env(tmp_path), relays)
    status, out, err = run(capsys, path, probe=_fake_probe({}, calls), not_after=lambda *a: NOW + 86400, now=NOW)
    assert (status, err) == (0, "")
    assert out == "relay-watch: 4/4 listeners of 2 relays up\n"
    assert [(c["port"], c["transport"], c["checks"]) for c in calls] == [
        (3478, "udp", ["binding", "allocate"]), (3478, "tcp", ["binding", "allocate"]), (5349, "tls", ["binding", "allocate"]),
        (3479, "udp", ["binding", "allocate"])]
    assert "server_name" in calls[2] and "server_name" not in calls[0]
    text = metrics_of(config)
    assert text.count("veza_coturn_relay_up{") == 4 and " 0\n" not in text.split("# HELP veza_coturn_relay_rtt")[0]
    assert 'veza_coturn_tls_certificate_expiry_seconds{relay="coturn-local",listener="turns:127.0.0.1:5349?transport=tcp"} 86400' in text
    assert "veza_coturn_relay_rtt_seconds{" in text and " 0.0025\n" in text
    assert "veza_coturn_watch_last_run_timestamp_seconds 1796408000\n" in text
    assert "veza_coturn_relay_failure" not in text


def test_exit_1_when_a_listener_fails_and_metrics_are_still_written(tmp_path, capsys):
    relays = [relay(3478, listeners=[listener(3478), listener(3480, "tcp")])]
    path, config = make_config(tmp_path, static_env(tmp_path), relays)
    status, out, err = run(capsys, path, probe=_fake_probe({3480: "unauthorized"}))
    assert status == 1
    assert out == "relay-watch: 1/2 listeners of 1 relay up\n"
    assert err == f"relay-watch: coturn-local turn:{LOOP}:3480?transport=tcp FAILED unauthorized: binding: {LOOP} failed\n"
    text = metrics_of(config)
    assert f'veza_coturn_relay_up{{relay="coturn-local",listener="turn:{LOOP}:3480?transport=tcp",transport="tcp"}} 0' in text
    assert f'veza_coturn_relay_failure{{relay="coturn-local",listener="turn:{LOOP}:3480?transport=tcp",transport="tcp",class="unauthorized"}} 1' in text


def test_checks_per_mode(tmp_path, capsys):
    calls = []
    relays = [relay(1, name="stun", stun_only=True), relay(2, name="peer", peer_address=LOOP)]
    path, config = make_config(tmp_path, static_env(tmp_path), relays)
    assert run(capsys, path, probe=_fake_probe({}, calls))[0] == 0
    assert [c["checks"] for c in calls] == [["binding"], ["binding", "allocate", "permission", "peer_first"]]
    assert "username" not in calls[0] and calls[1]["peer_address"] == LOOP
    calls.clear()
    off = write_env(tmp_path, "WEBRTC_TURN_USERNAME=\nWEBRTC_TURN_CREDENTIAL=\n")
    path, config = make_config(tmp_path, off, relays)
    status, out, err = run(capsys, path, probe=_fake_probe({}, calls))
    assert [c["checks"] for c in calls] == [["binding"], ["binding"]]
    assert out == f"relay-watch: 2/2 listeners of 2 relays up (binding only: TURN is off in {off})\n"
    assert "relayed_address_match" not in metrics_of(config) and "credential_expiry" not in metrics_of(config)


def test_a_crashing_probe_costs_one_listener_only(tmp_path, capsys):
    def probe(params):
        if params["port"] == 1:
            raise RuntimeError("boom")
        return _fake_probe({})(params)

    path, config = make_config(tmp_path, static_env(tmp_path), [relay(1, listeners=[listener(1), listener(2)])])
    status, out, err = run(capsys, path, probe=probe)
    assert status == 1 and "FAILED internal_error: RuntimeError: boom" in err
    assert 'class="internal_error"} 1' in metrics_of(config)


# --------------------------------------------------------------------------
# End to end against FakeTurn


def test_end_to_end_against_fake_turn(tmp_path, capsys):
    with FakeTurn() as server:
        path, config = make_config(tmp_path, static_env(tmp_path), [relay(server.port, peer_address=LOOP)])
        status, out, err = run(capsys, path)
    assert (status, err) == (0, "")
    assert out == "relay-watch: 1/1 listener of 1 relay up\n"
    labels = f'relay="coturn-local",listener="turn:{LOOP}:{server.port}?transport=udp",transport="udp"'
    text = metrics_of(config)
    assert f"veza_coturn_relay_up{{{labels}}} 1\n" in text
    assert f"veza_coturn_relay_relayed_address_match{{{labels}}} 1\n" in text
    assert f'veza_coturn_relay_info{{relay="coturn-local",listener="turn:{LOOP}:{server.port}?transport=udp",software="FakeTurn"}} 1\n' in text
    rtt = [line for line in text.splitlines() if line.startswith("veza_coturn_relay_rtt_seconds{")]
    assert len(rtt) == 1 and 0 < float(rtt[0].rsplit(" ", 1)[1]) < 0.5
    assert "veza_coturn_backend_credential_expiry_seconds" not in text  # a static user
    assert stat.S_IMODE(os.stat(config["metrics"]).st_mode) == 0o644
    assert os.listdir(os.path.dirname(config["metrics"])) == ["veza_coturn.prom"]


def test_wrong_relayed_address_against_fake_turn(tmp_path, capsys):
    with FakeTurn() as server:
        path, config = make_config(tmp_path, static_env(tmp_path), [relay(server.port, expected_relayed_ip="198.51.100.10")])
        status, out, err = run(capsys, path)
    assert status == 1 and "FAILED wrong_relayed_address: allocate:" in err
    match = [line for line in metrics_of(config).splitlines() if line.startswith("veza_coturn_relay_relayed_address_match{")]
    assert len(match) == 1 and match[0].endswith("} 0")


def test_closed_port_is_down_with_the_class_on_stderr(tmp_path, capsys):
    probe_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe_sock.bind((LOOP, 0))
    port = probe_sock.getsockname()[1]
    probe_sock.close()
    path, config = make_config(tmp_path, static_env(tmp_path), [relay(port)])
    status, out, err = run(capsys, path)
    assert status == 1
    assert out == "relay-watch: 0/1 listener of 1 relay up\n"
    assert err.startswith(f"relay-watch: coturn-local turn:{LOOP}:{port}?transport=udp FAILED no_answer: binding: ")
    text = metrics_of(config)
    assert "veza_coturn_relay_up{" in text and text.split("veza_coturn_relay_up{", 1)[1].split("\n", 1)[0].endswith("} 0")
    assert 'class="no_answer"} 1' in text
    assert "veza_coturn_relay_rtt_seconds" not in text and "_match{" not in text


def test_silent_server_times_out(tmp_path, capsys):
    with FakeTurn(silent=True) as server:
        path, config = make_config(tmp_path, static_env(tmp_path), [relay(server.port)])
        status, out, err = run(capsys, path)
    assert status == 1 and "FAILED no_answer: binding: no answer from" in err and "within 0.5s" in err


def _assert_no_secret(texts, *secrets):
    for text in texts:
        for secret in secrets:
            assert secret not in text


def test_secrets_stay_out_of_the_output_rest_mode(tmp_path, capsys):
    stored_username, stored_credential = str(NOW + 150), "c3RvcmVkLWNyZWRlbnRpYWwtdmFsdWU="
    minted = _turn_rest.mint(SECRET, rw.MINT_TTL, now=NOW)
    with FakeTurn() as server:  # knows alice only: the minted username is refused with 401
        path, config = make_config(tmp_path, rest_env(tmp_path, stored_username, stored_credential), [relay(server.port)])
        status, out, err = run(capsys, path, now=NOW)
    assert status == 1
    assert "FAILED unauthorized: allocate:" in err
    assert "after authenticating as a username minted from WEBRTC_TURN_SHARED_SECRET in realm 'fake.test'" in err
    text = metrics_of(config)
    assert "veza_coturn_backend_credential_expiry_seconds 150\n" in text
    _assert_no_secret([out, err, text], SECRET, minted["credential"], minted["username"], stored_credential, stored_username)


def test_secrets_stay_out_of_the_output_static_mode(tmp_path, capsys):
    with FakeTurn() as server:
        path, config = make_config(tmp_path, static_env(tmp_path, STATIC_USER, STATIC_PASSWORD), [relay(server.port)])
        status, out, err = run(capsys, path)
    assert status == 1 and "FAILED unauthorized" in err
    assert f"after authenticating as the WEBRTC_TURN_USERNAME of {config['env']}" in err
    _assert_no_secret([out, err, metrics_of(config)], STATIC_PASSWORD, STATIC_USER)


def test_redact_replaces_secrets_anywhere():
    creds = rw.Credentials("1796408188", "Password-Value", "the username", None, secrets=("Password-Value", SECRET), usernames=("1796408188",))
    line = f"as '1796408188': {SECRET} and Password-Value, 1796408188"
    assert creds.redact(line) == "as the username: <redacted> and <redacted>, <redacted>"
    assert creds.redact(line, usernames=False) == "as '1796408188': <redacted> and <redacted>, 1796408188"


def test_end_to_end_against_coturn(tmp_path, capsys, coturn):  # noqa: F811 pylint: disable=redefined-outer-name
    """udp, tcp and tls listeners of a real coturn on loopback (skipped without turnserver)."""
    if not coturn["tls_port"]:
        pytest.skip("no openssl to make a test certificate")
    username, password = _rest_credentials(COTURN_SECRET)
    listeners = [listener(coturn["port"]), listener(coturn["port"], "tcp"), listener(coturn["tls_port"], "tls")]
    item = relay(0, realm=REAL_REALM, server_name="turn.probe.test", ca_file=coturn["cert"], peer_address=LOOP, listeners=listeners)
    path, config = make_config(tmp_path, static_env(tmp_path, username, password), [item], timeout=1.5)
    status, out, err = run(capsys, path)
    assert (status, err) == (0, "")
    assert out == "relay-watch: 3/3 listeners of 1 relay up\n"
    text = metrics_of(config)
    match = [line for line in text.splitlines() if line.startswith("veza_coturn_relay_relayed_address_match{")]
    assert len(match) == 3 and all(line.endswith("} 1") for line in match)
    assert text.count('software="Coturn-') == 3
    expiry = [line for line in text.splitlines() if line.startswith("veza_coturn_tls_certificate_expiry_seconds{")]
    assert len(expiry) == 1 and 0 < int(expiry[0].rsplit(" ", 1)[1]) <= 86400 + 60
    left = [int(line.split()[1]) for line in text.splitlines() if line.startswith("veza_coturn_backend_credential_expiry_seconds ")]
    assert len(left) == 1
    left = left[0]
    assert 500 < left <= 600
    _assert_no_secret([out, err, text], password, username)


# --------------------------------------------------------------------------
# TLS certificate expiry


def _certificate(tmp_path, days):
    if not shutil.which("openssl"):
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / f"cert{days}.pem", tmp_path / f"key{days}.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", str(days), "-subj", "/CN=turn.veza.test"],
                   check=True, capture_output=True)
    end = subprocess.run(["openssl", "x509", "-enddate", "-noout", "-in", str(cert)], check=True, capture_output=True, text=True)
    return cert, key, ssl.cert_time_to_seconds(end.stdout.strip().split("=", 1)[1])


@pytest.mark.parametrize("days", [30, 20000])  # UTCTime before 2050, GeneralizedTime after
def test_certificate_not_after(tmp_path, days):
    cert, _key, expected = _certificate(tmp_path, days)
    der = ssl.PEM_cert_to_DER_cert(cert.read_text())
    assert rw.certificate_not_after(der) == expected
    with pytest.raises(ValueError):
        rw.certificate_not_after(der[:40])
    with pytest.raises(ValueError):
        rw.certificate_not_after(b"\x02\x01\x00")


def test_tls_not_after_of_an_unverifiable_certificate(tmp_path):
    cert, key, expected = _certificate(tmp_path, 30)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    server = socket.socket()
    server.bind((LOOP, 0))
    server.listen(1)
    server.settimeout(2)

    def serve():
        try:
            conn = server.accept()[0]
            with ctx.wrap_socket(conn, server_side=True) as tls:
                tls.settimeout(2)
                tls.recv(1)
        except (OSError, ssl.SSLError):
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        # Self-signed, so verification would fail: the expiry is read all the same.
        assert rw.tls_not_after(LOOP, server.getsockname()[1], "turn.veza.test", 1.0) == expected
    finally:
        thread.join(3)
        server.close()
    assert rw.tls_not_after(LOOP, 9, None, 0.5) is None  # nothing listens: no expiry


# --------------------------------------------------------------------------
# As the backend host runs it


def test_runs_as_a_module_with_only_its_four_files(tmp_path):
    root = tmp_path / "lib"
    package = root / "ansible_collections" / "veza" / "coturn" / "plugins" / "module_utils"
    package.mkdir(parents=True)
    for name in ("_stun.py", "_turn_probe.py", "_turn_rest.py", "_relay_watch.py"):
        shutil.copy(os.path.join(MODULE_UTILS, name), package / name)
    with FakeTurn() as server:
        path, config = make_config(tmp_path, static_env(tmp_path), [relay(server.port)])
        python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
        done = subprocess.run([python, "-m", "ansible_collections.veza.coturn.plugins.module_utils._relay_watch", "--config", path],
                              env={"PYTHONPATH": str(root)}, cwd="/", capture_output=True, text=True, timeout=30, check=False)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "relay-watch: 1/1 listener of 1 relay up\n"
    assert "veza_coturn_relay_up{" in metrics_of(config)
    assert not list(root.rglob("__init__.py"))

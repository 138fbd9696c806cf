# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The relay watch program of the backend host (plugins/module_utils/_relay_watch/):
its JSON configuration.
"""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.veza.coturn.plugins.module_utils._relay_watch.cli import main
from ansible_collections.veza.coturn.plugins.module_utils._relay_watch.config import DEFAULT_TIMEOUT, check_config
from ansible_collections.veza.coturn.tests.unit.plugins.module_utils._relay_watch.relay_watch_files import (
    make_config,
    relay,
    run,
    static_env,
)

# --------------------------------------------------------------------------
# Configuration


def test_the_documented_example_is_accepted(tmp_path):
    ca = tmp_path / "relay-ca.pem"
    ca.write_text("not read here\n")
    raw = {
        "env": "/etc/veza/webrtc.env",
        "metrics": "/var/lib/prometheus/node-exporter/veza_coturn.prom",
        "timeout": 3.0,
        "relays": [
            {
                "name": "coturn-local",
                "host": "198.51.100.1",
                "realm": "turn.veza.test",
                "expected_relayed_ip": "198.51.100.1",
                "server_name": "turn.veza.test",
                "ca_file": str(ca),
                "peer_address": None,
                "listeners": [
                    {"transport": "udp", "port": 3478, "url": "turn:198.51.100.1:3478?transport=udp"},
                    {"transport": "tcp", "port": 3478, "url": "turn:198.51.100.1:3478?transport=tcp"},
                    {"transport": "tls", "port": 5349, "url": "turns:198.51.100.1:5349?transport=tcp"},
                ],
                "stun_only": False,
            }
        ],
    }
    config = check_config(raw)
    assert config["timeout"] == 3.0
    assert [item["port"] for item in config["relays"][0]["listeners"]] == [3478, 3478, 5349]


def test_defaults_of_optional_keys():
    config = check_config(
        {
            "env": "/e",
            "metrics": "/m/x.prom",
            "relays": [{"name": "r", "host": "h", "listeners": [{"transport": "udp", "port": 1, "url": "stun:h:1"}]}],
        }
    )
    assert config["timeout"] == DEFAULT_TIMEOUT
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


@pytest.mark.parametrize(
    "change, needle",
    [
        (_drop("env"), "env is missing; it is required"),
        (_set("env", "webrtc.env"), 'env must be an absolute path (got "webrtc.env")'),
        (_set("metrics", ""), "metrics must be an absolute path"),
        (_set("metrics", "/var/lib/x/veza_coturn.txt"), "metrics must name a file ending in .prom"),
        (_set("timeout", 0), "timeout must be a number of seconds above 0 and at most 300"),
        (_set("timeout", "3"), 'timeout must be a number of seconds above 0 and at most 300 (got "3")'),
        (_set("timeout", True), "timeout must be a number of seconds"),
        (_set("relays", []), "relays must be a non-empty list of relay objects"),
        (_set("relays", {"name": "x"}), "relays must be a non-empty list"),
        (_set("relay", []), "the top level has the unknown key(s) relay; the keys are env, metrics, timeout, relays"),
        (lambda c: c["relays"][0].pop("name"), "relays[0].name is missing; it is required"),
        (_relay_set("name", "a\nb"), "relays[0].name must be a non-empty string on one line"),
        (_relay_set("host", ""), "relays[0].host must be an address or name on one line"),
        (
            _relay_set("expected_relayed_ip", "turn.veza.test"),
            "relays[0].expected_relayed_ip must be an IP address literal",
        ),
        (_relay_set("peer_address", "198.51.100.300"), "relays[0].peer_address must be an IP address literal"),
        (_relay_set("ca_file", "relative.pem"), "relays[0].ca_file must be an absolute path"),
        (
            _relay_set("ca_file", "/nonexistent/relay-ca.pem"),
            "relays[0].ca_file /nonexistent/relay-ca.pem does not exist",
        ),
        (_relay_set("stun_only", "yes"), 'relays[0].stun_only must be true or false (got "yes")'),
        (_relay_set("listeners", []), "relays[0].listeners must be a non-empty list"),
        (_relay_set("relay_ip", "1.2.3.4"), "relays[0] has the unknown key(s) relay_ip"),
        (
            lambda c: c["relays"].append(dict(c["relays"][0])),
            "relays[1].name coturn-local is already the name of relays[0]",
        ),
        (
            _listener_set("transport", "sctp"),
            'relays[0].listeners[0].transport must be one of udp, tcp, tls (got "sctp")',
        ),
        (_listener_set("port", 0), "relays[0].listeners[0].port must be an integer from 1 to 65535 (got 0)"),
        (_listener_set("port", "3478"), 'relays[0].listeners[0].port must be an integer from 1 to 65535 (got "3478")'),
        (_listener_set("port", True), "relays[0].listeners[0].port must be an integer from 1 to 65535 (got true)"),
        (
            _listener_set("url", "http://turn.veza.test"),
            "relays[0].listeners[0].url must start with stun:, stuns:, turn:, turns:",
        ),
        (
            _listener_set("proto", "udp"),
            "relays[0].listeners[0] has the unknown key(s) proto; the keys are transport, port, url",
        ),
        (
            lambda c: c["relays"][0]["listeners"].append(dict(c["relays"][0]["listeners"][0])),
            "relays[0].listeners[1].url turn:127.0.0.1:3478?transport=udp is already the url of listeners[0]",
        ),
    ],
)
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


@pytest.mark.parametrize(
    "content, needle",
    [
        (None, "cannot read the configuration"),
        ("{not json", "is not JSON"),
        ("[]", "must be a JSON object (got list)"),
    ],
)
def test_unreadable_configuration(tmp_path, capsys, content, needle):
    path = tmp_path / "relay-watch.json"
    if content is not None:
        path.write_text(content)
    status, out, err = run(capsys, str(path))
    assert (status, out) == (2, "")
    assert needle in err and err.count("\n") == 1


def test_usage_error_is_status_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    assert "--config" in capsys.readouterr().err


def test_missing_metrics_directory(tmp_path, capsys):
    path, config = make_config(
        tmp_path, static_env(tmp_path), [relay(3478)], metrics=str(tmp_path / "absent" / "veza_coturn.prom")
    )
    status, out, err = run(capsys, path, probe=lambda p: pytest.fail("probed despite the missing directory"))
    assert (status, out) == (2, "")
    assert f"the directory of metrics, {tmp_path / 'absent'}, does not exist" in err
    assert not (tmp_path / "absent").exists()

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs of the probe (plugins/module_utils/_turn_probe/) against FakeTurn: the success
paths and every failure class.
"""

from __future__ import annotations

import json
import os
import socket
import time

from ansible_collections.veza.coturn.plugins.module_utils._stun.protocol import ALLOCATE
from ansible_collections.veza.coturn.plugins.module_utils._turn_probe.probe import run_probe
from ansible_collections.veza.coturn.tests.unit.plugins.fake_turn import (
    FakeTurn,
    LOOP,
    PASSWORD,
    REALM,
    USER,
    failure_of,
)


def params(server, **over):
    p = dict(host=LOOP, port=server.port, username=USER, password=PASSWORD, peer_address=LOOP, timeout=1.0)
    p.update(over)
    return p


def step_names(result):
    return [(s["name"], s["ok"]) for s in result["steps"]]


# --- success paths -----------------------------------------------------------


def test_success_all_checks():
    with FakeTurn() as server:
        result = run_probe(params(server, expected_relayed_ip=LOOP, realm=REALM))
        assert result["failure"] is None, result["failure"]
        assert step_names(result) == [
            ("binding", True),
            ("allocate", True),
            ("permission", True),
            ("peer_first", True),
            ("relay", True),
            ("release", True),
        ]
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
        allocs = [auth for method, auth in server.requests if method == ALLOCATE]
        assert allocs[:2] == [False, True]
        json.dumps(result)  # must be serialisable for Ansible


def test_checks_subset_pulls_in_prerequisites():
    with FakeTurn() as server:
        result = run_probe(params(server, checks=["peer_first"], peer_address=None))
        assert result["failure"] is None, result["failure"]
        assert step_names(result) == [("allocate", True), ("permission", True), ("peer_first", True), ("release", True)]
        # With a wildcard peer socket the permission follows the reflexive address.
        assert result["peer_first"]["permission_ip"] == LOOP
        assert result["peer_first"]["peer_reflexive"].startswith("127.0.0.1:")


def test_stale_nonce_is_retried_once():
    with FakeTurn(stale="once") as server:
        result = run_probe(params(server, checks=["allocate"]))
        assert result["failure"] is None, result["failure"]
        assert server.stale_sent == 1
        assert "stale-nonce (438) retry" in result["steps"][0]["detail"]


def test_peer_permission_only_reports_each_address():
    with FakeTurn(forbid={"10.9.9.9"}) as server:
        result = run_probe(params(server, checks=["allocate"], peer_permission_only=["10.9.9.9", "198.51.100.4"]))
        assert result["failure"] is None
        assert result["permissions"] == {
            "10.9.9.9": {"result": "forbidden", "code": 403, "reason": "Forbidden IP"},
            "198.51.100.4": {"result": "allowed", "code": None, "reason": None},
        }
        assert ("peer_permission_only", True) in step_names(result)


def test_unauthorized_after_authenticating():
    with FakeTurn() as server:
        result = run_probe(params(server, password="Not-This-One"))
        text = failure_of(result, "unauthorized", "allocate")
        assert "alice" in text and "static-auth-secret" in text
        assert "Not-This-One" not in json.dumps(result)  # the password never shows


def test_unauthorized_keeps_401_even_with_right_password():
    with FakeTurn(always_401=True) as server:
        failure_of(run_probe(params(server)), "unauthorized", "allocate")


def test_expired_rest_username_is_named():
    with FakeTurn() as server:
        result = run_probe(params(server, username="1000000000:alice"))
        assert "expired at 2001-09-09" in failure_of(result, "unauthorized", "allocate")


def test_no_credentials_given():
    with FakeTurn() as server:
        result = run_probe(params(server, username=None, password=None))
        assert "username/password are not set" in failure_of(result, "unauthorized", "allocate")


def test_stale_nonce_persisting():
    with FakeTurn(stale="always") as server:
        failure_of(run_probe(params(server)), "stale_nonce", "allocate")
        assert server.stale_sent == 2  # exactly one retry


def test_wrong_credentials_441():
    with FakeTurn(wrong_credentials_441=True) as server:
        failure_of(run_probe(params(server)), "wrong_credentials_441", "allocate")


def test_realm_mismatch_sends_no_credentials():
    with FakeTurn(realm="other.test") as server:
        result = run_probe(params(server, realm=REALM))
        text = failure_of(result, "realm_mismatch", "allocate")
        assert "'other.test'" in text and "'fake.test'" in text
        assert result["realm"] == "other.test"
        assert not any(auth for dummy, auth in server.requests)


def test_forbidden_peer():
    with FakeTurn(forbid={LOOP}) as server:
        result = run_probe(params(server))
        assert "denied-peer-ip" in failure_of(result, "forbidden_peer", "permission")
        assert server.allocs == {}  # released on failure too


def test_insufficient_capacity():
    with FakeTurn(capacity_508=True) as server:
        text = failure_of(run_probe(params(server)), "insufficient_capacity", "allocate")
        assert "min-port..max-port" in text


def test_no_answer_closed_port_is_quick():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((LOOP, 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens: ICMP port unreachable
    start = time.monotonic()
    result = run_probe(dict(host=LOOP, port=port, timeout=2.0))
    assert time.monotonic() - start < 1.0
    failure_of(result, "no_answer", "binding")


def test_no_answer_silent_server_within_timeout():
    with FakeTurn(silent=True) as server:
        start = time.monotonic()
        result = run_probe(params(server, timeout=0.3, checks=["allocate"]))
        assert 0.25 < time.monotonic() - start < 1.0
        assert "listening-port" in failure_of(result, "no_answer", "allocate")


def test_wrong_relayed_address():
    with FakeTurn() as server:
        result = run_probe(params(server, expected_relayed_ip="198.51.100.10"))
        text = failure_of(result, "wrong_relayed_address", "allocate")
        assert "external-ip" in text
        assert result["relayed_address"].startswith("127.0.0.1:")


def test_peer_unreachable_when_relay_range_not_exposed():
    with FakeTurn(drop_peer_data=True) as server:
        result = run_probe(params(server, timeout=0.5))
        failure_of(result, "peer_unreachable", "peer_first")
        assert result["peer_first"]["received"] == 0


def test_peer_unreachable_when_advertised_address_is_elsewhere():
    # coturn says 127.0.0.2 (a wrong external-ip) but relays on 127.0.0.1.
    with FakeTurn(advertise_ip="127.0.0.2") as server:
        result = run_probe(params(server, timeout=0.5))
        failure_of(result, "peer_unreachable", "peer_first")


def test_return_traffic_from_another_port():
    with FakeTurn(return_from_other_port=True) as server:
        result = run_probe(params(server, timeout=0.5))
        assert "proxy" in failure_of(result, "wrong_relayed_address", "peer_first")


def test_relay_loss():
    with FakeTurn(drop_every_4th_relayed=True) as server:
        result = run_probe(params(server, timeout=0.6, checks=["relay"], count=4))
        failure_of(result, "relay_loss", "relay")
        assert result["relay"]["received"] == 2 and result["relay"]["loss_percent"] == 50.0
        assert result["rtt_ms"] is not None


def test_missing_netns_is_a_setup_error():
    with FakeTurn() as server:
        result = run_probe(params(server, netns="vzc-tp-missing-%d" % os.getpid()))
        failure_of(result, "setup_error", "binding")

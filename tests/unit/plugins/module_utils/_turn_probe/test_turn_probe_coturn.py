# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The probe (plugins/module_utils/_turn_probe/) against coturn's turnserver on
loopback; skipped when turnserver is not installed.
"""

from __future__ import annotations

import base64
import os

import pytest

from ansible_collections.veza.coturn.plugins.module_utils._turn_probe.probe import run_probe
from ansible_collections.veza.coturn.tests.unit.plugins.fake_turn import failure_of
from ansible_collections.veza.coturn.tests.unit.plugins.loopback_coturn import real_params, start_coturn


@pytest.fixture(scope="module")
def coturn(tmp_path_factory):
    yield from start_coturn(tmp_path_factory)


# --- the real coturn, on loopback only -------------------------------------------


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_real_coturn_all_checks(coturn, transport):
    result = run_probe(real_params(coturn, transport=transport))
    assert result["failure"] is None, result["failure"]
    assert result["server_software"].startswith("Coturn")
    assert result["peer_first"]["return_source"] == result["relayed_address"]
    assert result["relay"]["received"] == 3
    assert result["steps"][-1] == dict(result["steps"][-1], name="release", ok=True)


def test_real_coturn_tls(coturn):
    if not coturn["tls_port"]:
        pytest.skip("no openssl to make a test certificate")
    result = run_probe(
        real_params(
            coturn,
            transport="tls",
            port=coturn["tls_port"],
            ca_file=coturn["cert"],
            server_name="turn.probe.test",
            checks=["binding", "allocate", "relay"],
        )
    )
    assert result["failure"] is None, result["failure"]
    bad = run_probe(
        real_params(
            coturn,
            transport="tls",
            port=coturn["tls_port"],
            ca_file=coturn["cert"],
            server_name="wrong.name",
            checks=["binding"],
        )
    )
    failure_of(bad, "tls_error", "binding")


def test_real_coturn_failures(coturn):
    wrong = real_params(coturn, checks=["allocate"])
    wrong["password"] = base64.b64encode(b"x" * 20).decode()
    failure_of(run_probe(wrong), "unauthorized", "allocate")
    failure_of(run_probe(real_params(coturn, realm="other.test")), "realm_mismatch", "allocate")
    # 127.0.0.66 is denied by --denied-peer-ip; binding a socket to it is
    # local (all of 127/8 is loopback) and only CreatePermission is sent.
    failure_of(run_probe(real_params(coturn, peer_address="127.0.0.66")), "forbidden_peer", "permission")
    rules = run_probe(real_params(coturn, checks=["allocate"], peer_permission_only=["127.0.0.66", "127.0.0.1"]))
    assert rules["failure"] is None
    assert rules["permissions"]["127.0.0.66"]["result"] == "forbidden"
    assert rules["permissions"]["127.0.0.1"]["result"] == "allowed"


def test_real_coturn_namespaces(coturn, scratch_netns):
    own = "/proc/%d/ns/net" % os.getpid()  # path form, and our own namespace: works
    result = run_probe(real_params(coturn, netns=own, peer_netns=own))
    assert result["failure"] is None, result["failure"]
    # In the scratch namespace 127.0.0.1 is another loopback: coturn is not
    # there, and neither is the relayed address for a peer created there.
    failure_of(run_probe(real_params(coturn, netns=scratch_netns)), "no_answer", "binding")
    lonely = run_probe(real_params(coturn, peer_netns=scratch_netns, timeout=0.5))
    failure_of(lonely, "peer_unreachable", "peer_first")

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The probe's options (plugins/module_utils/_turn_probe/params.py)."""

from __future__ import annotations

import pytest

from ansible_collections.veza.coturn.plugins.module_utils._turn_probe.params import ProbeParamError, normalize_params
from ansible_collections.veza.coturn.plugins.module_utils._turn_probe.probe import run_probe
from ansible_collections.veza.coturn.tests.unit.plugins.fake_turn import LOOP, PASSWORD, USER

# --- parameters, from a caller without the argument spec -----------------------


@pytest.mark.parametrize(
    "over,needle",
    [
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
    ],
)
def test_bad_parameters(over, needle):
    p = dict(host=LOOP, username=USER, password=PASSWORD)
    p.update(over)
    with pytest.raises(ProbeParamError, match=needle):
        run_probe(p)


# --- after the module's argument spec: only what the spec cannot express ---------


def _as_the_spec_leaves_them(**over):
    """Options as AnsibleModule passes them on: every option, typed, defaults filled in."""
    p = dict(
        host=LOOP,
        port=3478,
        transport="udp",
        server_name=None,
        ca_file=None,
        insecure=False,
        timeout=3.0,
        username=USER,
        password=PASSWORD,
        realm=None,
        expected_relayed_ip=None,
        peer_address=None,
        peer_netns=None,
        netns=None,
        checks=["binding", "allocate", "permission", "peer_first", "relay"],
        peer_permission_only=[],
        count=3,
        software="veza.coturn turn_probe",
    )
    p.update(over)
    return p


def test_spec_applied_gives_the_same_options():
    p = _as_the_spec_leaves_them(checks=["relay", "binding"], peer_address=" 127.0.0.1 ")
    assert normalize_params(dict(p), spec_applied=True) == normalize_params(dict(p))


@pytest.mark.parametrize(
    "over,needle",
    [
        (dict(host=" "), "host is required and must not be empty"),
        (dict(port=70000), "port must be between"),
        (dict(timeout=0.0), "timeout must be"),
        (dict(count=0), "count must be between"),
        (
            dict(password=None),
            "username and password must be given together",
        ),  # the spec counts an option given as null
        (dict(checks=[]), "checks must name at least one of"),
        (dict(insecure=True, ca_file="/etc/hostname"), "insecure and ca_file are mutually exclusive"),
        (dict(peer_address="peer.example"), "peer_address must be an IP address"),
        (dict(netns="../x"), "netns: invalid network namespace name"),
    ],
)
def test_spec_applied_still_checks_what_the_spec_cannot(over, needle):
    with pytest.raises(ProbeParamError, match=needle):
        normalize_params(_as_the_spec_leaves_them(**over), spec_applied=True)


def test_explicit_nulls_get_the_defaults_after_the_spec():
    p = normalize_params(
        _as_the_spec_leaves_them(port=None, transport=None, timeout=None, checks=None, count=None), spec_applied=True
    )
    assert (p["port"], p["transport"], p["timeout"], p["count"]) == (3478, "udp", 3.0, 3)
    assert p["checks"] == ["binding", "allocate", "permission", "peer_first", "relay"]

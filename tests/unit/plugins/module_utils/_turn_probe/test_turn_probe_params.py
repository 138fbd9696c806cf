# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The probe's options (plugins/module_utils/_turn_probe/params.py)."""

from __future__ import annotations

import pytest

from ansible_collections.veza.coturn.plugins.module_utils._turn_probe.params import ProbeParamError
from ansible_collections.veza.coturn.plugins.module_utils._turn_probe.probe import run_probe
from ansible_collections.veza.coturn.tests.unit.plugins.fake_turn import LOOP, PASSWORD, USER


# --- parameters, from a caller without the argument spec -----------------------

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
    with pytest.raises(ProbeParamError, match=needle):
        run_probe(p)


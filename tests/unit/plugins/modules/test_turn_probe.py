# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of veza.coturn.turn_probe, the module: its entry point. The probe itself
is tested under tests/unit/plugins/module_utils/_turn_probe.
"""

from __future__ import annotations

import pytest

from ansible_collections.veza.coturn.plugins.modules import turn_probe
from ansible_collections.veza.coturn.tests.unit.plugins.fake_turn import FakeTurn, LOOP, PASSWORD, USER


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
        ok = _run_module(
            dict(
                host=LOOP,
                port=server.port,
                username=USER,
                password=PASSWORD,
                peer_address=LOOP,
                _ansible_check_mode=True,
            )
        )
        assert not ok.get("failed") and ok["changed"] is False and ok["failure"] is None
        assert ok["msg"].startswith("turn_probe: binding, allocate")
        bad = _run_module(dict(host=LOOP, port=server.port, username=USER, password="nope", checks=["allocate"]))
        assert bad["failed"] and bad["failure"]["class"] == "unauthorized"
        assert bad["msg"].startswith("turn_probe: allocate:")
    param = _run_module(dict(host=LOOP, count=1000))
    assert param["failed"] and param["msg"].startswith("turn_probe: count must be")


def test_module_messages_of_checks_the_spec_cannot_express():
    empty = _run_module(dict(host=LOOP, checks=[]))
    assert (
        empty["failed"]
        and empty["msg"]
        == "turn_probe: checks must name at least one of binding, allocate, permission, peer_first, relay"
    )
    half = _run_module(dict(host=LOOP, username=USER, password=None))
    assert half["failed"] and half["msg"] == "turn_probe: username and password must be given together"
    choice = _run_module(dict(host=LOOP, transport="sctp"))
    assert choice["failed"] and choice["msg"].startswith("value of transport must be one of: udp, tcp, tls")

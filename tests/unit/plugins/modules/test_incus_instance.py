# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the veza.coturn.incus_instance module (its main(), options to result).

The instance manager's tests: tests/unit/plugins/module_utils/_incus/; the
fake Incus daemon and the ``fake`` fixture: tests/unit/plugins/incus_fake.py
and conftest.py.
"""

from __future__ import annotations

import pytest

from ansible_collections.veza.coturn.plugins.modules import incus_instance
from ansible_collections.veza.coturn.tests.unit.plugins.incus_fake import base, run_main


def _run_main(capsys, args):
    return run_main(capsys, incus_instance.main, args)


# What a user sees for a bad option: the argument spec's message for what it
# checks (type, choices, sub-options), the module's own for the rest.
@pytest.mark.parametrize(
    "params, message",
    [
        ({"devices": {"eth0": "nic"}}, "incus_instance: devices.eth0: value must be a mapping of strings"),
        (
            {"devices": {"eth0": {"type": "nic", "mtu": [1500]}}},
            "incus_instance: devices.eth0.mtu: value must be a string, number or boolean (got list)",
        ),
        (
            {"devices": {"eth0": {"type": "nic", "mtu": None}}},
            "incus_instance: devices.eth0.mtu: value must be a string, number or boolean (got null)",
        ),
        (
            {"devices": {"eth0": {"network": "x"}}},
            'incus_instance: devices.eth0: the key "type" is required (nic, disk, proxy, ...)',
        ),
        (
            {"devices": ["eth0"]},
            "argument 'devices' is of type list and we were unable to convert to dict: <class 'list'> cannot be "
            "converted to a dict",
        ),
        (
            {"config": {"limits.cpu": {"n": 1}}},
            "incus_instance: config.limits.cpu: value must be a string, number or boolean (got dict)",
        ),
        (
            {"config": "limits.cpu"},
            "argument 'config' is of type str and we were unable to convert to dict: dictionary requested, "
            "could not parse JSON or key=value",
        ),
        (
            {"config": {"volatile.uuid": "x"}},
            "incus_instance: config.volatile.uuid: volatile keys are maintained by Incus and cannot be managed",
        ),
        ({"profiles": [""]}, "incus_instance: profiles: value must be a list of profile names"),
        (
            {"state": "running"},
            "value of state must be one of: present, started, stopped, restarted, absent, got: running",
        ),
        (
            {"source": {"alias": "a", "fingerprint": "b"}},
            "parameters are mutually exclusive: alias|fingerprint found in source",
        ),
        ({"source": {"type": "image"}}, "incus_instance: source: an image source needs alias or fingerprint"),
        (
            {"source": {"alias": "a", "protocol": "lxd", "server": "https://x"}},
            "value of protocol must be one of: simplestreams, incus, got: lxd found in source",
        ),
        ({"wait_timeout": 0}, "incus_instance: wait_timeout: must be a positive number of seconds (got 0)"),
        ({"url": "http://host:8443"}, "incus_instance: url: must look like https://host:8443 (got 'http://host:8443')"),
    ],
)
def test_bad_options(capsys, tmp_path, params, message):
    code, out = _run_main(capsys, dict(name="hb-x", socket=str(tmp_path / "none.sock"), **params))
    assert code == 1 and out["failed"] is True
    assert out["msg"] == message


def test_main_check_diff_and_real_run(fake, capsys):
    args = dict(base(), socket=fake.socket, _ansible_check_mode=True, _ansible_diff=True)
    code, out = _run_main(capsys, args)
    assert code == 0, out
    assert out["changed"] is True and out["actions"] == ["create", "start"]
    assert out["diff"]["before"] == {"state": "absent"}
    assert fake.writes == []
    args["_ansible_check_mode"] = False
    code, out = _run_main(capsys, args)
    assert code == 0 and out["changed"] is True and out["instance"]["status"] == "Running"
    code, out = _run_main(capsys, args)
    assert code == 0 and out["changed"] is False


def test_main_fail_json_messages(fake, capsys):
    code, out = _run_main(capsys, dict(base(devices={"eth0": "nic"}), socket=fake.socket))
    assert code == 1
    assert out["failed"] is True
    assert out["msg"] == "incus_instance: devices.eth0: value must be a mapping of strings"
    code, out = _run_main(capsys, dict(base(), socket=fake.socket, wait_timeout="soon"))
    assert code == 1 and "wait_timeout" in out["msg"]
    code, out = _run_main(capsys, dict(base(source={"alias": "nope"}), socket=fake.socket))
    assert code == 1 and out["msg"].startswith('incus_instance: source.alias: image alias "nope"')
    assert out["changed"] is False

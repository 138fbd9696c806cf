# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for veza.coturn.incus_network against the fake Incus daemon (tests/unit/plugins/incus_fake.py)."""

from __future__ import annotations

from ansible_collections.veza.coturn.plugins.modules import incus_network
from ansible_collections.veza.coturn.tests.unit.plugins.incus_fake import run_main

CONFIG = {"ipv4.address": "10.210.30.1/24", "ipv4.nat": True, "ipv6.address": "none"}
STORED = {"ipv4.address": "10.210.30.1/24", "ipv4.nat": "true", "ipv6.address": "none"}


def _network(capsys, fake, check_mode=False, **args):
    args = dict(dict(name="vzbr0", config=CONFIG), **args)
    return run_main(
        capsys, incus_network.main, dict(args, socket=fake.socket, _ansible_check_mode=check_mode, _ansible_diff=True)
    )


def test_create_check_mode_then_real_then_idempotent(fake, capsys):
    code, out = _network(capsys, fake, check_mode=True)
    assert code == 0 and out["changed"] is True and out["actions"] == ["create"]
    assert out["diff"] == {
        "before": {"state": "absent"},
        "after": {"state": "present", "type": "bridge", "config": STORED},
    }
    assert fake.writes == [] and fake.networks == {}
    code, out = _network(capsys, fake)
    assert code == 0 and out["changed"] is True
    assert fake.networks["vzbr0"]["config"] == STORED and fake.networks["vzbr0"]["type"] == "bridge"
    assert out["network"]["managed"] is True
    post = [r for r in fake.requests if r[0] == "POST"][0]
    assert post[1] == "/1.0/networks" and post[3] == {"name": "vzbr0", "type": "bridge", "config": STORED}
    fake.requests.clear()
    code, out = _network(capsys, fake)
    assert code == 0 and out["changed"] is False and out["actions"] == [] and fake.writes == []


def test_update_sets_only_the_given_keys(fake, capsys):
    fake.networks["vzbr0"] = {
        "name": "vzbr0",
        "type": "bridge",
        "managed": True,
        "config": {"ipv4.address": "10.210.9.1/24", "ipv4.nat": "true", "ipv6.address": "none", "dns.domain": "kept"},
    }
    code, out = _network(capsys, fake, check_mode=True)
    assert out["changed"] is True and out["actions"] == ["update"] and fake.writes == []
    assert out["diff"]["before"]["config"]["ipv4.address"] == "10.210.9.1/24"
    code, out = _network(capsys, fake)
    assert code == 0 and out["changed"] is True
    assert [r[3] for r in fake.requests if r[0] == "PATCH"] == [{"config": STORED}]
    assert fake.networks["vzbr0"]["config"] == dict(STORED, **{"dns.domain": "kept"})
    assert out["network"]["config"]["dns.domain"] == "kept"


def test_refuses_a_network_that_is_not_a_managed_bridge(fake, capsys):
    fake.networks["eth9"] = {"name": "eth9", "type": "physical", "managed": False, "config": {}}
    code, out = _network(capsys, fake, name="eth9")
    assert code == 1 and out["msg"] == (
        'incus_network: network "eth9" exists and is not an Incus-managed ' "bridge (managed: False, type: physical)"
    )
    assert fake.writes == []


def test_incus_error_is_surfaced(fake, capsys):
    orig = fake.network

    def refusing(method, rest, body):
        if method == "POST":
            from ansible_collections.veza.coturn.tests.unit.plugins.incus_fake import _Error

            raise _Error(400, 'Invalid value for network "vzbr0" option "ipv4.address"')
        return orig(method, rest, body)

    fake.network = refusing
    code, out = _network(capsys, fake)
    assert code == 1 and out["msg"] == (
        'incus_network: Incus refused to create network "vzbr0": Invalid value '
        'for network "vzbr0" option "ipv4.address"'
    )
    assert out["error_code"] == 400

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the instance manager behind veza.coturn.incus_instance, against a fake Incus daemon.

The fake daemon and the ``fake`` fixture: tests/unit/plugins/incus_fake.py and conftest.py.
"""

from __future__ import annotations

import json
import time

import pytest

from ansible_collections.veza.coturn.plugins.module_utils._incus.errors import ModuleFailure
from ansible_collections.veza.coturn.plugins.module_utils._incus.instance import InstanceManager
from ansible_collections.veza.coturn.tests.unit.plugins.incus_fake import (
    BASE_DEVICES,
    FINGERPRINT,
    base,
    options,
    run,
)


def test_create_and_start(fake):
    res = run(fake, wait_for_ipv4=True, **base(description="TURN relay"))
    assert res["changed"] is True
    assert res["actions"] == ["create", "start"]
    inst = fake.instances[("default", "hb-turn")]
    assert inst["status"] == "Running"
    assert inst["config"]["boot.autostart"] == "true"
    assert inst["config"]["limits.cpu"] == "2"
    assert inst["devices"] == BASE_DEVICES
    assert inst["description"] == "TURN relay"
    post = [r for r in fake.requests if r[0] == "POST"][0]
    assert post[1] == "/1.0/instances"
    assert post[2] == {"project": "default"}  # no target on a standalone daemon
    assert post[3]["source"] == {"type": "image", "alias": "test-deb12", "mode": "pull"}
    assert post[3]["type"] == "container"
    assert post[3]["start"] is False
    # every async operation was waited on
    waits = [r for r in fake.requests if r[1].endswith("/wait")]
    assert len(waits) == 2
    out = res["instance"]
    assert out["name"] == "hb-turn" and out["status"] == "Running"
    assert out["type"] == "container" and out["location"] == "none"
    assert out["profiles"] == ["default"]
    assert out["config"]["volatile.base_image"] == FINGERPRINT
    assert out["devices"] == BASE_DEVICES
    assert out["expanded_devices"]["root"]["pool"] == "default"
    assert out["addresses"] == {"eth0": ["10.210.0.10"]}
    assert res["ipv4"] == "10.210.0.10"


def test_create_with_target_and_project_query(fake):
    with pytest.raises(ModuleFailure) as err:
        run(fake, **base(target="node2", project="default"))
    assert err.value.msg == (
        'Incus refused to create instance "hb-turn": Target only allowed '
        'when clustered (source.alias "test-deb12", target "node2")'
    )
    post = [r for r in fake.requests if r[0] == "POST"][0]
    assert post[2] == {"project": "default", "target": "node2"}


def test_idempotent_rerun_makes_no_write_request(fake):
    run(fake, **base())
    fake.requests.clear()
    res = run(fake, **base())
    assert res["changed"] is False
    assert res["actions"] == []
    assert fake.writes == []
    assert res["instance"]["status"] == "Running"
    # strings given as strings compare equal to coerced ones
    fake.requests.clear()
    res = run(fake, **base(config={"boot.autostart": "true", "limits.cpu": "2", "user.note": "hi"}))
    assert res["changed"] is False and fake.writes == []


def test_config_merge_and_removal(fake):
    fake.add_instance(
        "hb-turn",
        status="Running",
        devices=BASE_DEVICES,
        config={"user.keep": "me", "user.old": "x", "limits.cpu": "1"},
    )
    res = run(fake, state="started", **base(config={"limits.cpu": 4, "user.old": None, "security.nesting": False}))
    assert res["changed"] is True and res["actions"] == ["update"]
    cfg = fake.instances[("default", "hb-turn")]["config"]
    assert cfg["limits.cpu"] == "4"
    assert cfg["security.nesting"] == "false"
    assert "user.old" not in cfg
    assert cfg["user.keep"] == "me"  # undeclared: untouched
    assert cfg["volatile.base_image"] == FINGERPRINT  # Incus' own keys: untouched
    put = [r for r in fake.requests if r[0] == "PUT" and r[1] == "/1.0/instances/hb-turn"][0]
    assert put[4]["if-match"].startswith('"')
    # removing an absent key again is a no-op
    fake.requests.clear()
    res = run(fake, **base(config={"limits.cpu": 4, "user.old": None, "security.nesting": False}))
    assert res["changed"] is False and fake.writes == []


def test_update_uses_etag_and_reports_conflict(fake):
    fake.add_instance("hb-turn", status="Stopped", devices=BASE_DEVICES)
    orig = fake.update

    def racing_update(project, name, body, headers):
        fake.instances[(project, name)]["config"]["user.race"] = "other writer"
        return orig(project, name, body, headers)

    fake.update = racing_update
    with pytest.raises(ModuleFailure) as err:
        run(fake, state="stopped", **base())
    assert err.value.msg.startswith('Incus refused to update instance "hb-turn": ETag doesn\'t match')
    put = [r for r in fake.requests if r[0] == "PUT"][0]
    assert put[4]["if-match"].startswith('"')


def test_devices_add_change_remove(fake):
    fake.add_instance(
        "hb-turn",
        status="Running",
        profiles=["default", "net"],
        devices={
            "root": {"type": "disk", "path": "/", "pool": "default"},
            "eth0": {"type": "nic", "network": "incusbr-t", "name": "eth0", "ipv4.address": "10.210.0.9"},
            "stale": {"type": "proxy", "listen": "tcp:0.0.0.0:80", "connect": "tcp:127.0.0.1:80"},
        },
    )
    devices = json.loads(json.dumps(BASE_DEVICES))
    devices["turn-udp"] = {
        "type": "proxy",
        "nat": True,
        "listen": "udp:198.51.100.10:3478",
        "connect": "udp:10.210.0.10:3478",
    }
    devices["gone"] = None
    res = run(fake, **base(profiles=["default", "net"], devices=devices))
    assert res["actions"] == ["update"]
    inst = fake.instances[("default", "hb-turn")]
    assert set(inst["devices"]) == {"root", "eth0", "turn-udp"}
    assert inst["devices"]["eth0"]["ipv4.address"] == "10.210.0.10"
    assert inst["devices"]["turn-udp"]["nat"] == "true"
    assert res["instance"]["addresses"] == {"eth0": ["10.210.0.10"]}
    # profile devices are not local devices and are not touched
    assert fake.profiles["net"]["eth0"] == {"type": "nic", "network": "incusbr-t", "name": "eth0"}
    fake.requests.clear()
    res = run(fake, **base(profiles=["default", "net"], devices=devices))
    assert res["changed"] is False and fake.writes == []


def test_devices_omitted_are_left_alone_and_empty_mapping_removes_all(fake):
    fake.add_instance("hb-turn", status="Stopped", devices={"extra": {"type": "none"}})
    res = run(fake, state="stopped", name="hb-turn")
    assert res["changed"] is False
    assert fake.instances[("default", "hb-turn")]["devices"] == {"extra": {"type": "none"}}
    res = run(fake, state="stopped", name="hb-turn", devices={})
    assert res["actions"] == ["update"]
    assert fake.instances[("default", "hb-turn")]["devices"] == {}


def test_profiles_are_authoritative(fake):
    fake.add_instance("hb-turn", status="Stopped", profiles=["default", "net"])
    res = run(fake, state="stopped", name="hb-turn", profiles=["default"])
    assert res["actions"] == ["update"]
    assert fake.instances[("default", "hb-turn")]["profiles"] == ["default"]


def test_state_transitions(fake):
    fake.add_instance("hb-turn", status="Stopped", devices=BASE_DEVICES)
    params = base()
    assert run(fake, state="present", **params)["actions"] == ["update"]  # config added
    assert fake.instances[("default", "hb-turn")]["status"] == "Stopped"
    assert run(fake, state="started", **params)["actions"] == ["start"]
    assert fake.instances[("default", "hb-turn")]["status"] == "Running"
    assert run(fake, state="present", **params)["changed"] is False
    fake.requests.clear()
    res = run(fake, state="stopped", force_stop=True, wait_timeout=7, **params)
    assert res["actions"] == ["stop"]
    assert res["instance"]["status"] == "Stopped" and res["ipv4"] is None
    state_put = [r for r in fake.requests if r[1].endswith("/state") and r[0] == "PUT"][0]
    assert state_put[3]["action"] == "stop" and state_put[3]["force"] is True
    assert run(fake, state="stopped", **params)["changed"] is False
    res = run(fake, state="restarted", **params)
    assert res["actions"] == ["start"] and res["changed"] is True
    res = run(fake, state="restarted", **params)
    assert res["actions"] == ["restart"] and res["changed"] is True
    fake.instances[("default", "hb-turn")]["status"] = "Frozen"
    assert run(fake, state="started", **params)["actions"] == ["unfreeze"]
    assert fake.instances[("default", "hb-turn")]["status"] == "Running"


def test_graceful_stop_sends_timeout(fake):
    fake.add_instance("hb-turn", status="Running", devices=BASE_DEVICES)
    run(fake, state="stopped", wait_timeout=9, name="hb-turn", devices=BASE_DEVICES)
    body = [r for r in fake.requests if r[1].endswith("/state") and r[0] == "PUT"][0][3]
    assert body == {"action": "stop", "timeout": 9, "force": False, "stateful": False}


def test_stop_before_update_and_update_before_start(fake):
    fake.add_instance("hb-turn", status="Running", devices=BASE_DEVICES)
    res = run(fake, state="stopped", **base())
    assert res["actions"] == ["stop", "update"]
    res = run(fake, state="started", **base(config={"limits.cpu": 3}))
    assert res["actions"] == ["update", "start"]


def test_check_mode_makes_no_write_requests(fake):
    # create
    res = run(fake, check_mode=True, **base())
    assert res["changed"] is True and res["actions"] == ["create", "start"]
    assert res["instance"]["status"] == "Running"
    assert res["instance"]["devices"] == BASE_DEVICES
    assert res["instance"]["config"] == {"boot.autostart": "true", "limits.cpu": "2", "user.note": "hi"}
    assert fake.writes == [] and fake.instances == {}
    # update + stop
    fake.add_instance("hb-turn", status="Running", devices={"root": BASE_DEVICES["root"]})
    fake.requests.clear()
    res = run(fake, check_mode=True, state="stopped", **base())
    assert res["actions"] == ["stop", "update"]
    assert res["instance"]["status"] == "Stopped"
    assert res["instance"]["devices"] == BASE_DEVICES
    assert fake.writes == []
    assert fake.instances[("default", "hb-turn")]["devices"] == {"root": BASE_DEVICES["root"]}
    # absent
    res = run(fake, check_mode=True, state="absent", name="hb-turn")
    assert res["actions"] == ["stop", "delete"] and res["changed"] is True
    assert fake.writes == [] and ("default", "hb-turn") in fake.instances


def test_diff_content(fake):
    fake.add_instance(
        "hb-turn",
        status="Stopped",
        config={"user.note": "old", "user.other": "x"},
        devices={"root": BASE_DEVICES["root"]},
    )
    res = run(fake, diff=True, check_mode=True, **base(config={"user.note": "new", "user.gone": None, "limits.cpu": 2}))
    assert res["diff"]["before"] == {
        "state": "stopped",
        "profiles": ["default"],
        "ephemeral": False,
        "config": {"user.note": "old"},
        "devices": {"root": BASE_DEVICES["root"]},
    }
    assert res["diff"]["after"] == {
        "state": "started",
        "profiles": ["default"],
        "ephemeral": False,
        "config": {"limits.cpu": "2", "user.note": "new"},
        "devices": BASE_DEVICES,
    }
    # a real run yields the same "after"
    real = run(fake, diff=True, **base(config={"user.note": "new", "user.gone": None, "limits.cpu": 2}))
    assert real["diff"] == res["diff"]
    # creation and deletion
    res = run(fake, diff=True, check_mode=True, **base(name="hb-new", description="d"))
    assert res["diff"]["before"] == {"state": "absent"}
    assert res["diff"]["after"]["state"] == "started"
    assert res["diff"]["after"]["description"] == "d"
    res = run(fake, diff=True, check_mode=True, state="absent", name="hb-turn")
    assert res["diff"]["after"] == {"state": "absent"}
    assert res["diff"]["before"]["state"] == "started"
    # no diff unless asked
    assert "diff" not in run(fake, **base())


def test_absent_stops_then_deletes(fake):
    fake.add_instance("hb-turn", status="Running", devices=BASE_DEVICES)
    res = run(fake, state="absent", name="hb-turn")
    assert res == {"changed": True, "actions": ["stop", "delete"], "warnings": [], "instance": {}, "ipv4": None}
    writes = fake.writes
    assert writes == [("PUT", "/1.0/instances/hb-turn/state"), ("DELETE", "/1.0/instances/hb-turn")]
    assert fake.instances == {}
    fake.requests.clear()
    res = run(fake, state="absent", name="hb-turn")
    assert res["changed"] is False and fake.writes == []


def test_absent_ephemeral_instance_vanishing_on_stop(fake):
    fake.add_instance("hb-eph", status="Running", devices=BASE_DEVICES, ephemeral=True)
    res = run(fake, state="absent", name="hb-eph")
    assert res["actions"] == ["stop", "delete"] and fake.instances == {}


def test_missing_alias_names_source_alias(fake):
    for check_mode in (True, False):
        with pytest.raises(ModuleFailure) as err:
            run(fake, check_mode=check_mode, **base(source={"alias": "debian-12-coturn"}))
        assert "source.alias" in err.value.msg
        assert '"debian-12-coturn"' in err.value.msg
        assert err.value.msg.startswith('incus_instance: source.alias: image alias "debian-12-coturn" does not exist')
    assert fake.writes == []
    # fingerprint prefixes are accepted, unknown ones named
    assert run(fake, **base(source={"fingerprint": FINGERPRINT[:12]}))["actions"] == ["create", "start"]
    with pytest.raises(ModuleFailure) as err:
        run(fake, **base(name="hb-other", source={"fingerprint": "ffff"}))
    assert "source.fingerprint" in err.value.msg


def test_missing_source_on_create(fake):
    with pytest.raises(ModuleFailure) as err:
        run(fake, name="hb-turn")
    assert err.value.msg == (
        'incus_instance: source: required to create instance "hb-turn" ' '(it does not exist in project "default")'
    )
    # but not needed to delete or to manage an existing instance
    assert run(fake, name="hb-turn", state="absent")["changed"] is False


@pytest.mark.parametrize("as_error", [True, False])
def test_api_error_text_is_surfaced(fake, as_error):
    fake.failed_op_as_error = as_error
    src = {"alias": "debian/12", "server": "https://images.example.invalid", "protocol": "simplestreams"}
    with pytest.raises(ModuleFailure) as err:
        run(fake, **base(source=src))
    assert err.value.msg == (
        'Incus refused to create instance "hb-turn": Failed getting remote image info: Failed '
        'getting image: The requested image couldn\'t be found for fingerprint "debian/12" '
        '(source.alias "debian/12", source.server https://images.example.invalid)'
    )
    assert err.value.extra["actions"] == []


def test_api_error_on_update_and_start(fake):
    fake.add_instance("hb-turn", status="Stopped", devices=BASE_DEVICES)
    with pytest.raises(ModuleFailure) as err:
        run(fake, **base(config={"bogus.key": "x"}))
    assert err.value.msg == (
        'Incus refused to update instance "hb-turn": Invalid config: ' "Unknown configuration key: bogus.key"
    )
    assert err.value.extra["error_code"] == 400
    fake.add_instance("hb-noroot", status="Stopped")
    fake.instances[("default", "hb-noroot")]["expanded_devices"] = {}
    fake.instances[("default", "hb-noroot")]["profiles"] = []
    with pytest.raises(ModuleFailure) as err:
        run(fake, name="hb-noroot", profiles=[])
    assert err.value.msg == (
        'Incus refused to start instance "hb-noroot": Failed to start device ' '"root": No root device'
    )


def test_type_mismatch_is_an_error(fake):
    fake.add_instance("hb-vm", type_="virtual-machine")
    with pytest.raises(ModuleFailure) as err:
        run(fake, name="hb-vm", state="stopped")
    assert err.value.msg.startswith(
        'incus_instance: type: instance "hb-vm" exists as a virtual-machine, not a container'
    )


def test_wait_for_ipv4_polls_until_address(fake):
    fake.ipv4_after_polls = 3
    res = run(
        fake,
        wait_for_ipv4=True,
        **base(devices={"root": BASE_DEVICES["root"], "eth0": {"type": "nic", "name": "eth0", "network": "incusbr-t"}}),
    )
    assert res["ipv4"].startswith("10.210.0.")
    assert res["instance"]["addresses"] == {"eth0": [res["ipv4"]]}
    polls = [r for r in fake.requests if r[0] == "GET" and r[1].endswith("/state")]
    assert len(polls) == 4
    fake.ipv4_after_polls = 10**6
    fake.instances[("default", "hb-turn")]["_polls"] = 0
    with pytest.raises(ModuleFailure) as err:
        InstanceManager(
            options(name="hb-turn", wait_for_ipv4=True, wait_timeout=1), fake.client, sleep=lambda s: time.sleep(0.05)
        ).run()
    assert err.value.msg == (
        'incus_instance: wait_for_ipv4: instance "hb-turn" reported no IPv4 '
        "address on a non-loopback interface within 1s"
    )

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""incus_instance against the real Incus daemon of this host.

Runs only as root, with /var/lib/incus/unix.socket present and
VEZA_INTEGRATION=1. Uses the image alias $VEZA_TEST_IMAGE (default
debian-12-coturn) and the managed bridge $VEZA_TEST_BRIDGE (default vzbr0).
Creates instances named hb-it-*, and removes them whatever happens. Sends no
traffic: the proxy device only listens on the bridge's own address.
"""

from __future__ import annotations

import ipaddress
import os
import uuid

import pytest

SOCKET = "/var/lib/incus/unix.socket"

pytestmark = pytest.mark.skipif(
    not (os.path.exists(SOCKET) and os.geteuid() == 0 and os.environ.get("VEZA_INTEGRATION") == "1"),
    reason="needs root, a running Incus daemon and VEZA_INTEGRATION=1",
)

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.veza.coturn.plugins.module_utils._incus.client import IncusClient
from ansible_collections.veza.coturn.plugins.module_utils._incus.errors import (
    IncusError,
    ModuleFailure,
)
from ansible_collections.veza.coturn.plugins.module_utils._incus.instance import InstanceManager
from ansible_collections.veza.coturn.plugins.module_utils._incus.instance_options import normalize_params
from ansible_collections.veza.coturn.plugins.modules.incus_instance import argument_spec

IMAGE = os.environ.get("VEZA_TEST_IMAGE") or "debian-12-coturn"
BRIDGE = os.environ.get("VEZA_TEST_BRIDGE") or "vzbr0"
POOL = os.environ.get("VEZA_TEST_POOL") or "default"


@pytest.fixture(scope="module")
def client():
    return IncusClient(socket_path=SOCKET, timeout=30)


def _destroy(client, name):
    path = "/1.0/instances/" + name
    try:
        inst, dummy = client.request("GET", path)
    except IncusError as exc:
        if exc.not_found:
            return
        raise
    if inst.get("status") != "Stopped":
        try:
            client.request(
                "PUT", path + "/state", body={"action": "stop", "force": True, "timeout": -1}, wait_timeout=60
            )
        except IncusError:
            pass
    try:
        client.request("DELETE", path, wait_timeout=60)
    except IncusError as exc:
        if not exc.not_found:
            raise


@pytest.fixture
def instance_name(client):
    name = "hb-it-" + uuid.uuid4().hex[:8]
    try:
        yield name
    finally:
        _destroy(client, name)


@pytest.fixture(scope="module")
def bridge(client):
    """(gateway address, free static address) on the test bridge."""
    net, dummy = client.request("GET", "/1.0/networks/" + BRIDGE)
    iface = ipaddress.ip_interface(net["config"]["ipv4.address"])
    leases, dummy = client.request("GET", "/1.0/networks/%s/leases" % BRIDGE)
    used = {lease.get("address") for lease in leases or []}
    instances, dummy = client.request("GET", "/1.0/instances", query={"recursion": "1"})
    for inst in instances or []:
        for dev in (inst.get("devices") or {}).values():
            if dev.get("ipv4.address"):
                used.add(dev["ipv4.address"])
    hosts = list(iface.network.hosts())
    for host in reversed(hosts[len(hosts) // 2 : -1]):
        if str(host) not in used and host != iface.ip:
            return str(iface.ip), str(host)
    pytest.skip("no free address on %s" % BRIDGE)


def run(client, check_mode=False, diff=False, **params):
    # the options as the module's main() hands them on: argument spec, then normalize_params
    validated = ArgumentSpecValidator(argument_spec()).validate(params)
    if validated.error_messages:
        raise ModuleFailure(validated.errors.msg)
    return InstanceManager(
        normalize_params(validated.validated_parameters), client, check_mode=check_mode, diff=diff
    ).run()


def test_lifecycle(client, instance_name, bridge):
    gateway, address = bridge
    devices = {
        "root": {"type": "disk", "path": "/", "pool": POOL},
        "eth0": {"type": "nic", "network": BRIDGE, "name": "eth0", "ipv4.address": address},
    }
    params = dict(
        name=instance_name,
        source={"alias": IMAGE},
        profiles=["default"],
        config={"boot.autostart": False, "user.veza-test": "yes", "limits.processes": 500},
        devices=devices,
        description="veza.coturn integration test",
        wait_timeout=120,
    )

    # check mode creates nothing
    res = run(client, check_mode=True, diff=True, **params)
    assert res["changed"] is True and res["actions"] == ["create", "start"]
    assert res["diff"]["before"] == {"state": "absent"}
    with pytest.raises(IncusError) as err:
        client.request("GET", "/1.0/instances/" + instance_name)
    assert err.value.not_found

    # create + start, wait for the static address
    res = run(client, wait_for_ipv4=True, **params)
    assert res["changed"] is True and res["actions"] == ["create", "start"]
    inst = res["instance"]
    assert inst["status"] == "Running"
    assert inst["type"] == "container"
    assert inst["config"]["boot.autostart"] == "false"
    assert inst["config"]["limits.processes"] == "500"
    assert inst["config"]["volatile.base_image"]
    assert inst["devices"] == devices
    assert res["ipv4"] == address
    assert inst["addresses"]["eth0"] == [address]

    # rerun: nothing to do
    res = run(client, wait_for_ipv4=True, diff=True, **params)
    assert res["changed"] is False and res["actions"] == []
    assert res["diff"]["before"] == res["diff"]["after"]
    assert res["ipv4"] == address

    # add a NAT proxy device (listens on the bridge's own address, nothing is sent)
    devices = dict(devices)
    devices["hb-probe-udp"] = {
        "type": "proxy",
        "nat": True,
        "listen": "udp:%s:34780" % gateway,
        "connect": "udp:%s:34780" % address,
    }
    params["devices"] = devices
    res = run(client, diff=True, **params)
    assert res["actions"] == ["update"]
    assert "hb-probe-udp" not in res["diff"]["before"]["devices"]
    assert res["diff"]["after"]["devices"]["hb-probe-udp"]["nat"] == "true"
    assert res["instance"]["devices"]["hb-probe-udp"]["listen"] == "udp:%s:34780" % gateway
    assert run(client, **params)["changed"] is False

    # config merge: remove one declared key, a key set behind our back stays
    client.request("PATCH", "/1.0/instances/" + instance_name, body={"config": {"user.other": "kept"}})
    params["config"] = {"boot.autostart": False, "user.veza-test": None, "limits.processes": 500}
    res = run(client, **params)
    assert res["actions"] == ["update"]
    assert "user.veza-test" not in res["instance"]["config"]
    assert res["instance"]["config"]["user.other"] == "kept"
    assert run(client, **params)["changed"] is False

    # Incus' own error text is surfaced
    with pytest.raises(ModuleFailure) as err:
        run(client, **{**params, "config": {"bogus.key": "x"}})
    assert err.value.msg.startswith('Incus refused to update instance "%s": ' % instance_name)
    assert "bogus.key" in err.value.msg

    # drop the proxy again (devices are authoritative)
    del devices["hb-probe-udp"]
    res = run(client, **params)
    assert res["actions"] == ["update"] and set(res["instance"]["devices"]) == {"root", "eth0"}

    # stop
    res = run(client, state="stopped", **params)
    assert res["actions"] == ["stop"]
    assert res["instance"]["status"] == "Stopped" and res["ipv4"] is None
    assert run(client, state="stopped", **params)["changed"] is False

    # absent
    res = run(client, state="absent", name=instance_name)
    assert res["changed"] is True and res["actions"] == ["delete"]
    with pytest.raises(IncusError) as err:
        client.request("GET", "/1.0/instances/" + instance_name)
    assert err.value.not_found
    assert run(client, state="absent", name=instance_name)["changed"] is False


def test_absent_stops_a_running_instance(client, instance_name):
    params = dict(
        name=instance_name,
        source={"alias": IMAGE},
        wait_timeout=120,
        devices={"root": {"type": "disk", "path": "/", "pool": POOL}},
    )
    assert run(client, **params)["instance"]["status"] == "Running"
    res = run(client, state="absent", name=instance_name, force_stop=True)
    assert res["actions"] == ["stop", "delete"]
    with pytest.raises(IncusError) as err:
        client.request("GET", "/1.0/instances/" + instance_name)
    assert err.value.not_found


def test_missing_alias_names_source_alias(client, instance_name):
    with pytest.raises(ModuleFailure) as err:
        run(client, name=instance_name, source={"alias": "hb-no-such-alias"})
    assert err.value.msg.startswith('incus_instance: source.alias: image alias "hb-no-such-alias" does not exist')
    with pytest.raises(IncusError) as exc:
        client.request("GET", "/1.0/instances/" + instance_name)
    assert exc.value.not_found


def test_create_error_text_is_surfaced(client, instance_name):
    # no root disk anywhere (the default profile may be empty) or a bad key: Incus says why
    with pytest.raises(ModuleFailure) as err:
        run(client, name=instance_name, source={"alias": IMAGE}, state="stopped", config={"bogus.key": "x"})
    assert err.value.msg.startswith('Incus refused to create instance "%s": ' % instance_name)
    assert err.value.msg.endswith('(source.alias "%s")' % IMAGE)
    assert "bogus.key" in err.value.msg

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The exposure modes, as the turn_instance role renders and runs them.

The role's own defaults, vars and templates are rendered with Ansible's
templating engine (the collection's filters loaded; exposure_render.py), one
mode at a time:

* turn_instance's device table: what each of nat, proxy, routed and macvlan
  asks Incus for (no relay range behind the proxy, ever);
* the public NIC unit written inside routed and macvlan containers;
* the host-side helpers: flush_conntrack.sh against a fake ``conntrack``,
  and the gratuitous ARP frame.

What coturn is handed and its turnserver.conf (TLS): test_exposure_coturn.py.
"""

from __future__ import annotations

import importlib.util
import os
import stat
import subprocess
import textwrap

import pytest

from ansible_collections.veza.coturn.tests.unit.roles.exposure_render import (
    BRIDGE_IP,
    PUBLIC,
    ROLES,
    collection_loader,
    render,
    render_file,
)


@pytest.fixture(autouse=True, scope="module")
def _collection_loader():
    """The collection's filters for this module's tests (exposure_render.collection_loader)."""
    yield from collection_loader()


def devices(mode, **overrides):
    """The devices the role hands incus_instance, nulls (unwanted) dropped."""
    table = render(
        "turn_instance",
        "{{ __turn_instance_base_devices | combine(__turn_instance_exposure_devices[turn_instance_exposure]) }}",
        turn_instance_exposure=mode,
        **overrides,
    )
    return {name: dev for name, dev in table.items() if dev is not None}


# --------------------------------------------------------------------------
# turn_instance: devices per mode


def test_nat_devices_dnat_listener_relay_and_tls():
    devs = devices("nat", turn_instance_tls_enabled=True)
    assert set(devs) == {"root", "eth0", "turn-udp", "turn-tcp", "turn-tls", "turn-relay"}
    assert devs["eth0"]["ipv4.address"] == BRIDGE_IP
    for name in ("turn-udp", "turn-tcp", "turn-tls", "turn-relay"):
        assert devs[name]["type"] == "proxy"
        assert devs[name]["nat"] == "true"
    assert devs["turn-tls"]["listen"] == "tcp:%s:5349" % PUBLIC
    assert devs["turn-tls"]["connect"] == "tcp:%s:5349" % BRIDGE_IP
    assert devs["turn-relay"]["listen"] == "udp:%s:49160-49999" % PUBLIC
    assert devs["turn-relay"]["connect"] == "udp:%s:49160-49999" % BRIDGE_IP


def test_nat_without_tls_or_relay_has_neither_device():
    devs = devices("nat", turn_instance_relay_enabled=False)
    assert "turn-tls" not in devs
    assert "turn-relay" not in devs
    assert {"turn-udp", "turn-tcp"} <= set(devs)


@pytest.mark.parametrize("relay", [True, False])
def test_proxy_never_exposes_a_relay_range(relay):
    devs = devices("proxy", turn_instance_tls_enabled=True, turn_instance_relay_enabled=relay)
    assert set(devs) == {"root", "eth0", "turn-udp", "turn-tcp", "turn-tls"}
    for name in ("turn-udp", "turn-tcp", "turn-tls"):
        assert devs[name]["type"] == "proxy"
        assert "nat" not in devs[name]  # user space: forkproxy
    assert devs["turn-udp"]["listen"] == "udp:%s:3478" % PUBLIC


def test_routed_nic_holds_the_public_address_without_a_gateway():
    devs = devices("routed")
    assert set(devs) == {"root", "eth0", "eth1"}
    assert devs["eth1"] == {
        "type": "nic",
        "nictype": "routed",
        "name": "eth1",
        "parent": "uplink0",
        "ipv4.address": PUBLIC,
        "ipv4.gateway": "none",
    }
    # eth0 stays on the bridge: the container's way to its package mirror.
    assert devs["eth0"]["network"] == "vzbr0"


def test_macvlan_nic_on_the_uplink_named_as_asked():
    devs = devices("macvlan", turn_instance_public_interface="pub0")
    assert set(devs) == {"root", "eth0", "pub0"}
    assert devs["pub0"] == {"type": "nic", "nictype": "macvlan", "name": "pub0", "parent": "uplink0"}


@pytest.mark.parametrize("mode", ["nat", "proxy", "routed", "macvlan"])
def test_no_mode_asks_for_a_privileged_container(mode):
    assert "security.privileged" not in render(
        "turn_instance", "{{ turn_instance_config }}", turn_instance_exposure=mode
    )
    for dev in devices(mode, turn_instance_tls_enabled=True).values():
        assert "security.privileged" not in dev


def test_exposure_marker_names_mode_and_address():
    assert (
        render("turn_instance", "{{ __turn_instance_exposure_marker }}", turn_instance_exposure="routed")
        == "routed %s" % PUBLIC
    )


# --------------------------------------------------------------------------
# The public NIC unit inside routed and macvlan containers


def unit(mode, **overrides):
    return render_file(
        "turn_instance", "veza-public-nic.service.j2", turn_instance_exposure=mode, **overrides
    ).splitlines()


def test_routed_unit_sets_the_32_and_routes_via_the_host():
    lines = unit("routed")
    assert "ExecStart=ip address replace %s/32 dev eth1" % PUBLIC in lines
    assert "ExecStart=ip route add default via 169.254.0.1 dev eth1 onlink table 170" in lines
    assert "ExecStart=ip rule add priority 170 from %s lookup 170" % PUBLIC in lines
    assert "Before=coturn.service" in lines
    assert not [line for line in lines if "arp_notify" in line]


def test_macvlan_unit_sets_the_subnet_announces_and_routes_on_link():
    lines = unit("macvlan", turn_instance_public_prefix=26)
    assert "ExecStart=ip address replace %s/26 dev eth1" % PUBLIC in lines
    assert "ExecStart=ip route add 198.51.100.64/26 dev eth1 src %s table 170" % PUBLIC in lines
    assert [line for line in lines if "arp_notify" in line]
    assert not [line for line in lines if "default via" in line]


def test_macvlan_unit_with_a_gateway():
    lines = unit("macvlan", turn_instance_public_prefix=24, turn_instance_public_gateway="198.51.100.1")
    assert "ExecStart=ip route add default via 198.51.100.1 dev eth1 onlink table 170" in lines


def test_unit_stops_cleanly():
    lines = unit("macvlan", turn_instance_public_prefix=26)
    assert "ExecStop=-ip rule del priority 170" in lines
    assert "ExecStop=-ip address del %s/26 dev eth1" % PUBLIC in lines


# --------------------------------------------------------------------------
# flush_conntrack.sh against a fake conntrack

CONNTRACK_LIST = textwrap.dedent("""\
    udp      17 118 src=198.51.100.74 dst=198.51.100.65 sport=40123 dport=3478 src=198.51.100.65 dst=198.51.100.74 sport=3478 dport=40123 [ASSURED] mark=0 use=1
    udp      17 25 src=198.51.100.84 dst=198.51.100.65 sport=5000 dport=49200 [UNREPLIED] src=10.210.30.31 dst=198.51.100.84 sport=49200 dport=5000 mark=0 use=1
    udp      17 25 src=198.51.100.74 dst=198.51.100.65 sport=5001 dport=53 src=198.51.100.65 dst=198.51.100.74 sport=53 dport=5001 mark=0 use=1
    udp      17 25 src=198.51.100.74 dst=198.51.100.65 sport=5002 dport=49999 src=198.51.100.65 dst=198.51.100.74 sport=49999 dport=5002 mark=0 use=1
    """)


@pytest.fixture(name="fake_conntrack")
def _fake_conntrack(tmp_path):
    log = tmp_path / "deleted"
    script = tmp_path / "conntrack"
    script.write_text(textwrap.dedent("""\
        #!/bin/sh
        if [ "$1" = "-L" ]; then cat "%s"; else echo "$*" >> "%s"; fi
        """ % (tmp_path / "list", log)))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    (tmp_path / "list").write_text(CONNTRACK_LIST)
    return tmp_path, log


def test_flush_deletes_only_listener_and_relay_entries(fake_conntrack):
    path, log = fake_conntrack
    env = dict(os.environ, PATH="%s:%s" % (path, os.environ["PATH"]))
    out = subprocess.run(
        [
            "sh",
            os.path.join(ROLES, "turn_instance", "files", "flush_conntrack.sh"),
            "198.51.100.65",
            "3478",
            "49160-49359",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert out == ["198.51.100.74:40123 -> 198.51.100.65:3478", "198.51.100.84:5000 -> 198.51.100.65:49200"]
    assert log.read_text().splitlines() == [
        "-D -p udp -s 198.51.100.74 -d 198.51.100.65 --sport 40123 --dport 3478",
        "-D -p udp -s 198.51.100.84 -d 198.51.100.65 --sport 5000 --dport 49200",
    ]


def test_flush_with_nothing_to_delete_prints_nothing(fake_conntrack):
    path, log = fake_conntrack
    (path / "list").write_text("")
    env = dict(os.environ, PATH="%s:%s" % (path, os.environ["PATH"]))
    out = subprocess.run(
        ["sh", os.path.join(ROLES, "turn_instance", "files", "flush_conntrack.sh"), "198.51.100.65", "3478"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out == ""
    assert not log.exists()


# --------------------------------------------------------------------------
# Gratuitous ARP


def _garp():
    spec = importlib.util.spec_from_file_location(
        "gratuitous_arp", os.path.join(ROLES, "turn_instance", "files", "gratuitous_arp.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gratuitous_arp_frame():
    mac = bytes.fromhex("0a0b0c0d0e0f")
    frame = _garp().build_frame(mac, "198.51.100.70")
    ip = bytes([198, 51, 100, 70])
    assert len(frame) == 42
    assert frame[:6] == b"\xff" * 6 and frame[6:12] == mac and frame[12:14] == b"\x08\x06"
    assert frame[14:22] == bytes.fromhex("0001080006040001")  # Ethernet, IPv4, request
    assert frame[22:28] == mac and frame[28:32] == ip  # sender
    assert frame[32:38] == b"\x00" * 6 and frame[38:42] == ip  # target: the same address


def test_gratuitous_arp_refuses_a_short_mac():
    with pytest.raises(ValueError, match="6 bytes"):
        _garp().build_frame(b"\x01\x02", "198.51.100.70")

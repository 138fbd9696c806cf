# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The exposure modes and TLS, as the roles render them.

The roles' own defaults, vars and templates are rendered with Ansible's
templating engine (the collection's filters loaded), one mode at a time:

* turn_instance's device table: what each of nat, proxy, routed and macvlan
  asks Incus for (no relay range behind the proxy, ever);
* what coturn is handed from turn_instance's published endpoint (where it
  listens, STUN only; playbooks/vars/coturn_endpoint.yml) and
  turnserver.conf (external-ip only behind nat/proxy, TLS options valid for
  coturn 4.6.1);
* the public NIC unit written inside routed and macvlan containers;
* the host-side helpers: flush_conntrack.sh against a fake ``conntrack``,
  and the gratuitous ARP frame.
"""

from __future__ import annotations

import importlib.util
import os
import stat
import subprocess
import sys
import textwrap

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLES = os.path.join(REPO, "roles")

PUBLIC = "198.51.100.70"
BRIDGE_IP = "10.210.30.33"


@pytest.fixture(autouse=True, scope="module")
def _collection_loader():
    """Filters such as veza.coturn.ip_range resolve through Ansible's collection
    loader (tests/conftest.py links this checkout under .collections). It is
    installed for this module's tests only, once every test module has been
    imported, and removed afterwards with the modules it loaded, so that the
    other test modules keep importing the collection as a plain package."""
    modules = {name: mod for name, mod in sys.modules.items() if name.startswith("ansible_collections")}
    for name in modules:
        del sys.modules[name]
    meta_path, path_hooks = list(sys.meta_path), list(sys.path_hooks)
    _AnsibleCollectionFinder(paths=[os.path.join(REPO, ".collections")])._install()
    yield
    _AnsibleCollectionFinder._remove()  # pylint: disable=protected-access
    sys.meta_path[:], sys.path_hooks[:] = meta_path, path_hooks
    sys.path_importer_cache.clear()
    for name in [name for name in sys.modules if name.startswith("ansible_collections")]:
        del sys.modules[name]
    sys.modules.update(modules)


def _load(role, kind):
    return DataLoader().load_from_file(os.path.join(ROLES, role, kind, "main.yml"), trusted_as_template=True) or {}


def _endpoint(variables):
    """turn_instance_endpoint as roles/turn_instance/tasks/facts.yml publishes it for this host."""
    task = DataLoader().load_from_file(
        os.path.join(ROLES, "turn_instance", "tasks", "facts.yml"), trusted_as_template=True
    )[0]
    scope = dict(variables, item=variables["inventory_hostname"], hostvars={})
    scope.update(task["vars"])
    return Templar(loader=DataLoader(), variables=scope).template(
        task["ansible.builtin.set_fact"]["turn_instance_endpoint"]
    )


def _variables(role, **overrides):
    variables = {"inventory_hostname": "coturn-test", "ansible_managed": "Ansible managed"}
    if role == "coturn":
        variables.update(_load("turn_instance", "defaults"))
        variables["coturn_realm"] = "turn.example.test"
    variables.update(_load(role, "defaults"))
    variables.update(_load(role, "vars"))
    variables.update(
        {"turn_instance_public_ip": PUBLIC, "turn_instance_ipv4_address": BRIDGE_IP, "turn_instance_uplink": "uplink0"}
    )
    if role == "coturn":
        # coturn is handed the endpoint turn_instance published, as
        # playbooks/site.yml does (playbooks/vars/coturn_endpoint.yml).
        variables.update({k: v for k, v in overrides.items() if k.startswith("turn_instance_")})
        variables["turn_instance_endpoint"] = _endpoint(variables)
        variables.update(
            DataLoader().load_from_file(
                os.path.join(REPO, "playbooks", "vars", "coturn_endpoint.yml"), trusted_as_template=True
            )
        )
    variables.update(overrides)
    return variables


def render(role, expression, **overrides):
    variables = _variables(role, **overrides)
    return Templar(loader=DataLoader(), variables=variables).template(trust_as_template(expression))


def render_file(role, template, **overrides):
    with open(os.path.join(ROLES, role, "templates", template), encoding="utf-8") as handle:
        return render(role, handle.read(), **overrides)


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
# coturn: what it is handed from the exposure's endpoint, turnserver.conf


@pytest.mark.parametrize(
    "mode, listening", [("nat", BRIDGE_IP), ("proxy", BRIDGE_IP), ("routed", PUBLIC), ("macvlan", PUBLIC)]
)
def test_coturn_listens_where_the_exposure_delivers(mode, listening):
    assert render("coturn", "{{ coturn_listening_ip }}", turn_instance_exposure=mode) == listening


def test_coturn_is_stun_only_exactly_without_relay():
    assert render("coturn", "{{ coturn_stun_only | bool }}", turn_instance_relay_enabled=False) is True
    assert render("coturn", "{{ coturn_stun_only | bool }}") is False


def conf(mode, **overrides):
    return render_file("coturn", "turnserver.conf.j2", turn_instance_exposure=mode, **overrides).splitlines()


@pytest.mark.parametrize("mode", ["nat", "proxy"])
def test_external_ip_maps_the_bridge_address_behind_proxy_devices(mode):
    lines = conf(mode)
    assert "external-ip=%s/%s" % (PUBLIC, BRIDGE_IP) in lines
    assert "listening-ip=%s" % BRIDGE_IP in lines
    assert "relay-ip=%s" % BRIDGE_IP in lines


@pytest.mark.parametrize("mode", ["routed", "macvlan"])
def test_no_external_ip_when_coturn_holds_the_public_address(mode):
    lines = conf(mode)
    assert not [line for line in lines if line.startswith("external-ip")]
    assert "listening-ip=%s" % PUBLIC in lines
    assert "relay-ip=%s" % PUBLIC in lines


def test_stun_only_line_exactly_without_relay():
    assert "stun-only" in conf("proxy", turn_instance_relay_enabled=False)
    assert "stun-only" not in conf("nat")


def test_tls_off_by_default():
    lines = conf("nat")
    assert "no-tls" in lines and "no-dtls" in lines
    assert not [line for line in lines if line.startswith(("cert=", "pkey=", "tls-listening-port"))]


def test_tls_options_valid_for_coturn_461():
    lines = conf("nat", turn_instance_tls_enabled=True)
    for expected in (
        "tls-listening-port=5349",
        "cert=/etc/coturn/cert.pem",
        "pkey=/etc/coturn/key.pem",
        "cipher-list=ECDHE+AESGCM:ECDHE+CHACHA20",
        "no-tlsv1",
        "no-tlsv1_1",
        "no-dtls",
    ):
        assert expected in lines
    assert "no-tls" not in lines
    assert "no-tlsv1_2" not in lines
    # Every option line must be one turnserver 4.6.1 knows (its --help).
    known = {
        "listening-port",
        "listening-ip",
        "relay-ip",
        "external-ip",
        "min-port",
        "max-port",
        "realm",
        "fingerprint",
        "userdb",
        "use-auth-secret",
        "lt-cred-mech",
        "stale-nonce",
        "tls-listening-port",
        "cert",
        "pkey",
        "cipher-list",
        "no-tlsv1",
        "no-tlsv1_1",
        "no-tlsv1_2",
        "no-tls",
        "no-dtls",
        "no-cli",
        "no-multicast-peers",
        "denied-peer-ip",
        "allowed-peer-ip",
        "syslog",
        "simple-log",
        "verbose",
        "stun-only",
    }
    options = {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}
    assert options <= known, options - known


def test_tls_13_only_turns_off_12():
    assert "no-tlsv1_2" in conf("nat", turn_instance_tls_enabled=True, coturn_tls_min_version="TLSv1.3")


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

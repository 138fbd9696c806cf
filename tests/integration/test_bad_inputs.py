# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad inputs to playbooks/site.yml are refused before anything changes.

Each case runs ``ansible-playbook playbooks/site.yml -i inventory/local``
with one bad value given as JSON extra vars, and checks that

* the run fails (rc != 0);
* nothing on this host changed: Incus instances, managed networks and image
  aliases, network namespaces and addresses, the nftables ruleset, and the
  files the roles write in the backend container (mtime and sha256) are the same after the
  run as before it (the ``host_state`` fixture of conftest.py);
* the run stopped in the preflight play: no later play was entered, so no
  host went on to deploy while another one failed its checks;
* the error names the variable and what is wrong with it.

The runs are the plain deploy command: a case that slipped through would
deploy, and the snapshot comparison would catch it.

Needs root, the ``incus`` client, the local site deployed (``make deploy``)
and VEZA_INTEGRATION=1. Sends nothing but loopback traffic (the image server
case points at a closed port on 127.0.0.1).
"""

from __future__ import annotations

import os
import shutil

import pytest

import playbook_output
from playbook_output import PREFLIGHT_PLAY

pytestmark = pytest.mark.skipif(
    not (os.environ.get("VEZA_INTEGRATION") == "1" and os.geteuid() == 0 and shutil.which("incus")),
    reason="needs VEZA_INTEGRATION=1, root and the incus client",
)


class NotStoppedInPreflight(AssertionError):
    """The run got past the preflight play (or the play failed nowhere)."""


class UnclearMessage(AssertionError):
    """The preflight error does not say what the case expects."""


def case(case_id, extra_vars, expected):
    """A bad input and the phrases its error must contain."""
    return pytest.param(extra_vars, expected, id=case_id)


CASES = [
    case(
        "bridge-subnet-without-prefix",
        {"incus_host_bridge_subnet": "10.210.30.0"},
        [
            "incus_host: incus_host_bridge_subnet must be ADDRESS/PREFIX",
            '(got "10.210.30.0": it is not ADDRESS/PREFIX)',
        ],
    ),
    case(
        "bridge-subnet-not-an-address",
        {"incus_host_bridge_subnet": "banana"},
        ["incus_host: incus_host_bridge_subnet must be ADDRESS/PREFIX", '(got "banana": it is not ADDRESS/PREFIX)'],
    ),
    case(
        "bridge-name-too-long",
        {"incus_host_bridge": "vz-bridge-name-too-long"},
        [
            "incus_host: incus_host_bridge must be an interface name of letters, digits and _.-, at most 15 characters",
            '(got "vz-bridge-name-too-long": it is 23 characters long, more than 15)',
        ],
    ),
    case(
        "relay-min-above-max",
        {"turn_instance_relay_min_port": 50000, "turn_instance_relay_max_port": 49999},
        [
            "turn_instance_relay_min_port..turn_instance_relay_max_port must lie within 1024-65535 with min <= max",
            "(got 50000-49999)",
        ],
    ),
    case(
        "relay-min-below-1024",
        {"turn_instance_relay_min_port": 1000},
        ["turn_instance_relay_min_port..turn_instance_relay_max_port must lie within 1024-65535", "(got 1000-49999)"],
    ),
    case(
        "relay-max-above-65535",
        {"turn_instance_relay_max_port": 70000},
        ["turn_instance_relay_min_port..turn_instance_relay_max_port must lie within 1024-65535", "(got 49160-70000)"],
    ),
    case(
        "public-ip-is-a-name",
        {"turn_instance_public_ip": "turn.example.org"},
        [
            "turn_instance: turn_instance_public_ip must be an IPv4 or IPv6 address",
            '(got "turn.example.org": it is not an IP address)',
        ],
    ),
    case(
        "public-ip-loopback",
        {"turn_instance_public_ip": "127.0.0.1"},
        [
            "turn_instance_public_ip 127.0.0.1 is a loopback address",
            "which clients on the internet cannot reach: use the host's public address.",
        ],
    ),
    case(
        "public-ip-private",
        {"turn_instance_public_ip": "10.1.2.3", "turn_instance_public_ip_private_ok": False},
        [
            "turn_instance_public_ip 10.1.2.3 is a private address",
            "or set turn_instance_public_ip_private_ok: true for a relay that serves a private or test network only",
        ],
    ),
    case(
        "static-address-is-a-name",
        {"turn_instance_ipv4_address": "coturn.lan"},
        [
            "turn_instance: turn_instance_ipv4_address must be an IPv4 address",
            '(got "coturn.lan": it is not an IPv4 address)',
        ],
    ),
    case(
        "static-address-off-the-bridge",
        {"turn_instance_ipv4_address": "10.99.0.10"},
        ["turn_instance_ipv4_address 10.99.0.10 is not on the bridge's subnet (bridge vzbr0, 10.210.30.1/24)"],
    ),
    case(
        "listening-port-inside-relay-range",
        {"turn_instance_listening_port": 49200},
        ["turn_instance_listening_port must be a port (1-65535) outside the relay range 49160-49999", "(got 49200)"],
    ),
    case(
        "realm-empty", {"coturn_realm": ""}, ["coturn: coturn_realm must be a DNS-like name", '(got "": it is empty)']
    ),
    case(
        "extra-relay-ip-is-a-name",
        {"coturn_extra_relay_ips": ["relay.example.org"]},
        [
            "coturn: coturn_extra_relay_ips[0] must be an IPv4 or IPv6 address",
            '(got "relay.example.org": it is not an IP address)',
        ],
    ),
    case(
        "secret-too-short",
        {"veza_turn_secrets": ["short"]},
        [
            "coturn_auth_secrets",
            "at least one shared secret of 16 characters or more",
            "got 1 secret(s)",
            "the shortest 5 characters long",
        ],
    ),
    case(
        "no-secrets",
        {"veza_turn_secrets": []},
        ["coturn_auth_secrets", "at least one shared secret of 16 characters or more", "got 0 secret(s)"],
    ),
    case(
        "image-cannot-be-pulled-nor-built",
        {
            "incus_host_image_source": "remote",
            "incus_host_image_alias": "nosuch-image",
            "incus_host_image_server": "https://127.0.0.1:9",
        },
        [
            'image alias "nosuch-image" is not on this host and cannot be pulled from incus_host_image_server',
            "https://127.0.0.1:9",
            "debootstrap is unavailable because incus_host_image_source is 'remote'",
        ],
    ),
    case(
        "backend-turn-url-scheme",
        {"webrtc_backend_env_turn_urls": ["https://turn.example.org"]},
        [
            "webrtc_backend_env: webrtc_backend_env_turn_urls[0] must be a TURN URI (RFC 7065)",
            '(got "https://turn.example.org": it does not start with turn: or turns:)',
        ],
    ),
    case(
        "backend-credential-ttl-zero",
        {"webrtc_backend_env_credential_ttl": 0},
        ["webrtc_backend_env_credential_ttl must be a positive number of seconds", "(got 0)"],
    ),
    case(
        "exposure-unknown",
        {"turn_instance_exposure": "bogus"},
        ["value of turn_instance_exposure must be one of: nat, routed, macvlan, proxy, got: bogus"],
    ),
    case(
        "storage-driver-unknown",
        {"incus_host_storage_driver": "nosuch"},
        ["value of incus_host_storage_driver must be one of: dir, btrfs, lvm, zfs, got: nosuch"],
    ),
    case(
        "relay-min-port-not-a-number",
        {"turn_instance_relay_min_port": "abc"},
        ["argument 'turn_instance_relay_min_port' is of type", "unable to convert to int"],
    ),
    # A tool the run would install that no APT source offers (preflight
    # fetches fresh lists to be sure, into a scratch folder).
    case(
        "simulated-internet-tool-not-installable",
        {"simulated_internet_packages": ["iproute2", "nftables", "veza-no-such-tool"]},
        [
            'simulated_internet: simulated_internet_packages names "veza-no-such-tool", which localhost neither has nor can install',
            "no configured APT source offers it",
            "or set simulated_internet_enabled: false",
        ],
    ),
    case(
        "simulated-internet-tool-not-a-package-name",
        {"simulated_internet_packages": ["nftables\nextra"]},
        [
            "simulated_internet: simulated_internet_packages[0] must be a Debian package name",
            '(got "nftables\\nextra": it holds a line break at character 9)',
        ],
    ),
    case(
        "conntrack-tool-not-installable",
        {"turn_instance_conntrack_packages": ["veza-no-such-conntrack"]},
        [
            'turn_instance: the Incus host localhost neither has nor can install "veza-no-such-conntrack"',
            '"veza-no-such-conntrack" comes from turn_instance_conntrack_packages',
            "set turn_instance_flush_conntrack: false to do without it",
        ],
    ),
    case(
        "host-tool-not-installable",
        {"turn_instance_host_packages": ["iproute2", "veza-no-such-iproute"]},
        ['"veza-no-such-iproute" comes from turn_instance_host_packages'],
    ),
]


@pytest.mark.parametrize("extra_vars, expected", CASES)
def test_bad_input_is_refused_before_any_change(extra_vars, expected, run_playbook, host_state):
    before = host_state()
    rc, output = run_playbook(extra_vars)
    after = host_state()

    if after != before:
        pytest.fail("the run changed this host:\n" + playbook_output.state_diff(before, after), pytrace=False)
    if rc == 0:
        raise NotStoppedInPreflight("the run succeeded:\n" + output)
    assert "Traceback" not in output, output

    plays = playbook_output.plays(output)
    assert plays and plays[0][0] == PREFLIGHT_PLAY, output
    preflight = plays[0][1]
    errors = playbook_output.errors(preflight)
    if not errors or len(plays) > 1:
        raise NotStoppedInPreflight(
            "the run went on past the preflight play into %s; preflight errors: %s\n%s"
            % ([name for name, dummy in plays[1:]], errors or "none", output)
        )
    for text in expected:
        if not any(text in e for e in errors):
            raise UnclearMessage("%r not in:\n%s" % (text, "\n".join(errors)))


def test_suite_prerequisite_not_installable_is_refused_before_any_change(run_playbook, host_state):
    """make test's own prerequisites: a package no source offers stops before the install."""
    before = host_state()
    rc, output = run_playbook(
        {"veza_test_packages": ["openssl", "veza-no-such-client"]},
        playbook="tests/prerequisites.yml",
        inventory="localhost,",
    )
    after = host_state()
    if after != before:
        pytest.fail("the run changed this host:\n" + playbook_output.state_diff(before, after), pytrace=False)
    assert rc != 0 and "Traceback" not in output, output
    message = "\n".join(playbook_output.errors(output))
    for text in ['make test: veza_test_packages names "veza-no-such-client"', "no configured APT source offers it"]:
        if text not in message:
            raise UnclearMessage("%r not in:\n%s" % (text, message))
    assert "Install the packages" not in output.split("Refuse a package this machine cannot install")[1], output

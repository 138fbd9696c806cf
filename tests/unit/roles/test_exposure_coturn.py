# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The exposure modes and TLS, as the coturn role renders them.

The role's own defaults, vars and templates are rendered with Ansible's
templating engine (the collection's filters loaded; exposure_render.py), one
mode at a time: what coturn is handed from turn_instance's published endpoint
(where it listens, STUN only; playbooks/vars/coturn_endpoint.yml) and
turnserver.conf (external-ip only behind nat/proxy, TLS options valid for
coturn 4.6.1).

turn_instance's devices, the public NIC unit and the host-side helpers:
test_exposure.py.
"""

from __future__ import annotations

import pytest

from ansible_collections.veza.coturn.tests.unit.roles.exposure_render import (
    BRIDGE_IP,
    PUBLIC,
    collection_loader,
    render,
    render_file,
)


@pytest.fixture(autouse=True, scope="module")
def _collection_loader():
    """The collection's filters for this module's tests (exposure_render.collection_loader)."""
    yield from collection_loader()


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

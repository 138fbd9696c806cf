# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exposure and TLS inputs that cannot work are refused before anything changes.

The same proof as test_bad_inputs.py, for the options of the exposure modes
and of TLS: each case runs ``ansible-playbook playbooks/site.yml -i
inventory/local`` with one bad value as JSON extra vars and checks that the
run fails in the preflight play, that nothing on this host (or inside the
coturn containers) changed, and that the error names the variable, what is
wrong and what would be right. A private key given as content never shows
in the output.

Certificates and keys for the TLS cases are made here with ``cryptography``
(a dependency of ansible-core) in a temporary folder.

Needs root, the ``incus`` client, the local site deployed (``make deploy``)
and VEZA_INTEGRATION=1. Sends no packet anywhere.
"""

from __future__ import annotations

import datetime
import os
import shutil

import pytest

import playbook_output
from playbook_output import PREFLIGHT_PLAY

pytestmark = pytest.mark.skipif(
    not (os.environ.get("VEZA_INTEGRATION") == "1" and os.geteuid() == 0 and shutil.which("incus")),
    reason="needs VEZA_INTEGRATION=1, root and the incus client",
)

KEY_MARKER = "veza-exposure-test-key-material"


def case(case_id, extra_vars, expected):
    return pytest.param(extra_vars, expected, id=case_id)


CASES = [
    # The must: a relay range behind the user-space proxy, and why not.
    case(
        "proxy-with-relay-range",
        {"turn_instance_exposure": "proxy"},
        [
            "turn_instance_relay_enabled must be false with turn_instance_exposure 'proxy' (got true",
            "re-sends every packet from the container's own address",
            "XOR-MAPPED-ADDRESS and permissions break",
            "Set turn_instance_relay_enabled: false for a STUN-only listener",
        ],
    ),
    case(
        "routed-without-uplink",
        {"turn_instance_exposure": "routed"},
        [
            "turn_instance_uplink must name the host interface facing the internet",
            "with turn_instance_exposure 'routed'",
            '(got "")',
        ],
    ),
    case(
        "macvlan-uplink-not-a-name",
        {
            "turn_instance_exposure": "macvlan",
            "turn_instance_uplink": "eth0; reboot",
            "turn_instance_public_prefix": 26,
        },
        [
            "turn_instance: turn_instance_uplink must be an interface name",
            '(got "eth0; reboot": it holds characters other than letters, digits and _.-)',
        ],
    ),
    case(
        "routed-ipv6-public-address",
        {
            "turn_instance_exposure": "routed",
            "turn_instance_uplink": "vzpub0",
            "turn_instance_public_ip": "2001:db8::10",
        },
        [
            "turn_instance_public_ip must be an IP address literal",
            "IPv4 with turn_instance_exposure routed or macvlan",
            '(got "2001:db8::10")',
        ],
    ),
    case(
        "macvlan-host-route-without-gateway",
        {"turn_instance_exposure": "macvlan", "turn_instance_uplink": "vzpub0"},
        [
            "turn_instance_public_prefix must be a prefix length 1-32",
            "the container reaches nobody from a /32 without a gateway",
            "(got 32)",
        ],
    ),
    case(
        "macvlan-gateway-off-subnet",
        {
            "turn_instance_exposure": "macvlan",
            "turn_instance_uplink": "vzpub0",
            "turn_instance_public_prefix": 26,
            "turn_instance_public_gateway": "198.51.100.200",
        },
        [
            "turn_instance_public_gateway must be empty or the IP address of the public subnet",
            "inside 198.51.100.1/26",
            '(got "198.51.100.200")',
        ],
    ),
    case(
        "public-nic-is-eth0",
        {"turn_instance_public_interface": "eth0"},
        ["turn_instance_public_interface must be an interface name of 1-15 characters other than eth0", '(got "eth0")'],
    ),
    case(
        "tls-port-is-the-listener",
        {"turn_instance_tls_port": 3478},
        ["turn_instance_tls_port must be a port (1-65535) other than turn_instance_listening_port 3478", "(got 3478)"],
    ),
    case(
        "tls-port-in-relay-range",
        {"turn_instance_tls_port": 49200},
        ["turn_instance_tls_port must be a port", "outside the relay range 49160-49999", "(got 49200)"],
    ),
    case(
        "tls-without-certificate",
        {"coturn_tls_self_signed": False},
        ["exactly one certificate source must be set", "(got 0: none)"],
    ),
    case(
        "tls-two-certificate-sources",
        {"coturn_tls_certificate_file": "{tmp}/a.pem", "coturn_tls_private_key_file": "{tmp}/a.key"},
        [
            "exactly one certificate source must be set",
            "(got 2: coturn_tls_certificate_file/coturn_tls_private_key_file, coturn_tls_self_signed)",
        ],
    ),
    case(
        "tls-certificate-file-missing",
        {
            "coturn_tls_self_signed": False,
            "coturn_tls_certificate_file": "{tmp}/missing.pem",
            "coturn_tls_private_key_file": "{tmp}/a.key",
        },
        ["coturn_tls_certificate_file must be a readable PEM file on the controller", "no such file"],
    ),
    case(
        "tls-key-without-certificate",
        {"coturn_tls_self_signed": False, "coturn_tls_private_key": "{key_pem}"},
        [
            "coturn_tls_private_key must be an unencrypted PEM private key",
            "given together with coturn_tls_certificate",
            "not shown",
        ],
    ),
    case(
        "tls-certificate-not-pem",
        {"coturn_tls_self_signed": False, "coturn_tls_certificate": "hello", "coturn_tls_private_key": "{key_pem}"},
        ["coturn: coturn_tls_certificate must be PEM text", "(got \"hello\": it holds no '-----BEGIN ...-----' line)"],
    ),
    case(
        "tls-key-of-another-certificate",
        {
            "coturn_tls_self_signed": False,
            "coturn_tls_certificate_file": "{tmp}/a.pem",
            "coturn_tls_private_key_file": "{tmp}/b.key",
        },
        [
            "must be a readable certificate, not expired, and the key that belongs to it",
            "the key belongs to another certificate",
        ],
    ),
    case(
        "tls-certificate-expired",
        {
            "coturn_tls_self_signed": False,
            "coturn_tls_certificate_file": "{tmp}/expired.pem",
            "coturn_tls_private_key_file": "{tmp}/a.key",
        },
        ["the certificate expired on"],
    ),
    case(
        "tls-cipher-list-with-spaces",
        {"coturn_tls_cipher_list": "HIGH !aNULL"},
        [
            "coturn: coturn_tls_cipher_list must be an OpenSSL cipher string",
            '(got "HIGH !aNULL": it holds characters other than letters, digits and +:!@=_.-)',
        ],
    ),
    case(
        "tls-self-signed-renewed-before-issued",
        {"coturn_tls_self_signed_days": 20},
        ["coturn_tls_self_signed_days must be more than coturn_tls_self_signed_renew_days", "(got 20 and 30)"],
    ),
    case(
        "tls-self-signed-name-not-dns",
        {"coturn_tls_self_signed_names": ["turn server!"]},
        [
            "coturn: coturn_tls_self_signed_names[0] must be a DNS name",
            "(got \"turn server!\": it holds the character ' ' at character 5)",
        ],
    ),
    case(
        "tls-min-version-unknown",
        {"coturn_tls_min_version": "TLSv1.1"},
        ["value of coturn_tls_min_version must be one of: TLSv1.2, TLSv1.3, got: TLSv1.1"],
    ),
]


@pytest.fixture(name="pem", scope="module")
def _pem(tmp_path_factory):
    """Two keys, a certificate for the first, and an expired one; PEM strings and files."""
    # pylint: disable=import-outside-toplevel
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    tmp = tmp_path_factory.mktemp("pem")
    keys = {n: ec.generate_private_key(ec.SECP256R1()) for n in ("a", "b")}
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "turn.veza.test")])
    now = datetime.datetime.now(datetime.timezone.utc)

    def cert(key, start, end):
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .sign(key, hashes.SHA256())
            .public_bytes(serialization.Encoding.PEM)
        )

    for n, key in keys.items():
        (tmp / (n + ".key")).write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    (tmp / "a.pem").write_bytes(cert(keys["a"], now - datetime.timedelta(days=1), now + datetime.timedelta(days=30)))
    (tmp / "expired.pem").write_bytes(
        cert(keys["a"], now - datetime.timedelta(days=60), now - datetime.timedelta(days=30))
    )
    # Not a usable key, but shaped like one; it must never be printed.
    key_pem = "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n" % KEY_MARKER
    return {"tmp": str(tmp), "key_pem": key_pem}


def _fill(value, pem):
    if isinstance(value, str):
        return value.replace("{tmp}", pem["tmp"]).replace("{key_pem}", pem["key_pem"])
    if isinstance(value, list):
        return [_fill(v, pem) for v in value]
    return value


@pytest.mark.parametrize("extra_vars, expected", CASES)
def test_exposure_or_tls_input_is_refused_before_any_change(extra_vars, expected, pem, run_playbook, host_state):
    extra_vars = {k: _fill(v, pem) for k, v in extra_vars.items()}
    before = host_state()
    rc, output = run_playbook(extra_vars)
    after = host_state()

    if after != before:
        pytest.fail("the run changed this host:\n" + playbook_output.state_diff(before, after), pytrace=False)
    assert rc != 0, "the run succeeded:\n" + output
    assert KEY_MARKER not in output, "the private key given as content was printed"
    plays = playbook_output.plays(output)
    assert plays and plays[0][0] == PREFLIGHT_PLAY, output
    errors = playbook_output.errors(plays[0][1])
    assert errors and len(plays) == 1, "not stopped in preflight: %s\n%s" % ([name for name, _part in plays], output)
    for text in expected:
        assert any(text in e for e in errors), "%r not in:\n%s" % (text, "\n".join(errors))

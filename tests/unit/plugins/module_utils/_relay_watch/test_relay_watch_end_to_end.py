# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The relay watch program of the backend host (plugins/module_utils/_relay_watch/):
runs end to end against FakeTurn and a real coturn.
"""

from __future__ import annotations

import os
import socket
import stat

import pytest

from ansible_collections.veza.coturn.plugins.module_utils import _turn_rest
from ansible_collections.veza.coturn.plugins.module_utils._relay_watch.credentials import Credentials, MINT_TTL
from ansible_collections.veza.coturn.tests.unit.plugins.fake_turn import FakeTurn, LOOP
from ansible_collections.veza.coturn.tests.unit.plugins.loopback_coturn import (
    REAL_REALM,
    SECRET as COTURN_SECRET,
    rest_credentials,
    start_coturn,
)
from ansible_collections.veza.coturn.tests.unit.plugins.module_utils._relay_watch.relay_watch_files import (
    NOW,
    SECRET,
    STATIC_PASSWORD,
    STATIC_USER,
    listener,
    make_config,
    metrics_of,
    relay,
    rest_env,
    run,
    static_env,
)


@pytest.fixture(scope="module")
def coturn(tmp_path_factory):
    yield from start_coturn(tmp_path_factory)


# --------------------------------------------------------------------------
# End to end against FakeTurn


def test_end_to_end_against_fake_turn(tmp_path, capsys):
    with FakeTurn() as server:
        path, config = make_config(tmp_path, static_env(tmp_path), [relay(server.port, peer_address=LOOP)])
        status, out, err = run(capsys, path)
    assert (status, err) == (0, "")
    assert out == "relay-watch: 1/1 listener of 1 relay up\n"
    labels = f'relay="coturn-local",listener="turn:{LOOP}:{server.port}?transport=udp",transport="udp"'
    text = metrics_of(config)
    assert f"veza_coturn_relay_up{{{labels}}} 1\n" in text
    assert f"veza_coturn_relay_relayed_address_match{{{labels}}} 1\n" in text
    assert (
        f'veza_coturn_relay_info{{relay="coturn-local",listener="turn:{LOOP}:{server.port}?transport=udp",software="FakeTurn"}} 1\n'
        in text
    )
    rtt = [line for line in text.splitlines() if line.startswith("veza_coturn_relay_rtt_seconds{")]
    assert len(rtt) == 1 and 0 < float(rtt[0].rsplit(" ", 1)[1]) < 0.5
    assert "veza_coturn_backend_credential_expiry_seconds" not in text  # a static user
    assert stat.S_IMODE(os.stat(config["metrics"]).st_mode) == 0o644
    assert os.listdir(os.path.dirname(config["metrics"])) == ["veza_coturn.prom"]


def test_wrong_relayed_address_against_fake_turn(tmp_path, capsys):
    with FakeTurn() as server:
        path, config = make_config(
            tmp_path, static_env(tmp_path), [relay(server.port, expected_relayed_ip="198.51.100.10")]
        )
        status, out, err = run(capsys, path)
    assert status == 1 and "FAILED wrong_relayed_address: allocate:" in err
    match = [
        line for line in metrics_of(config).splitlines() if line.startswith("veza_coturn_relay_relayed_address_match{")
    ]
    assert len(match) == 1 and match[0].endswith("} 0")


def test_closed_port_is_down_with_the_class_on_stderr(tmp_path, capsys):
    probe_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe_sock.bind((LOOP, 0))
    port = probe_sock.getsockname()[1]
    probe_sock.close()
    path, config = make_config(tmp_path, static_env(tmp_path), [relay(port)])
    status, out, err = run(capsys, path)
    assert status == 1
    assert out == "relay-watch: 0/1 listener of 1 relay up\n"
    assert err.startswith(f"relay-watch: coturn-local turn:{LOOP}:{port}?transport=udp FAILED no_answer: binding: ")
    text = metrics_of(config)
    assert "veza_coturn_relay_up{" in text and text.split("veza_coturn_relay_up{", 1)[1].split("\n", 1)[0].endswith(
        "} 0"
    )
    assert 'class="no_answer"} 1' in text
    assert "veza_coturn_relay_rtt_seconds" not in text and "_match{" not in text


def test_silent_server_times_out(tmp_path, capsys):
    with FakeTurn(silent=True) as server:
        path, config = make_config(tmp_path, static_env(tmp_path), [relay(server.port)])
        status, out, err = run(capsys, path)
    assert status == 1 and "FAILED no_answer: binding: no answer from" in err and "within 0.5s" in err


def _assert_no_secret(texts, *secrets):
    for text in texts:
        for secret in secrets:
            assert secret not in text


def test_secrets_stay_out_of_the_output_rest_mode(tmp_path, capsys):
    stored_username, stored_credential = str(NOW + 150), "c3RvcmVkLWNyZWRlbnRpYWwtdmFsdWU="
    minted = _turn_rest.mint(SECRET, MINT_TTL, now=NOW)
    with FakeTurn() as server:  # knows alice only: the minted username is refused with 401
        path, config = make_config(
            tmp_path, rest_env(tmp_path, stored_username, stored_credential), [relay(server.port)]
        )
        status, out, err = run(capsys, path, now=NOW)
    assert status == 1
    assert "FAILED unauthorized: allocate:" in err
    assert "after authenticating as a username minted from WEBRTC_TURN_SHARED_SECRET in realm 'fake.test'" in err
    text = metrics_of(config)
    assert "veza_coturn_backend_credential_expiry_seconds 150\n" in text
    _assert_no_secret(
        [out, err, text], SECRET, minted["credential"], minted["username"], stored_credential, stored_username
    )


def test_secrets_stay_out_of_the_output_static_mode(tmp_path, capsys):
    with FakeTurn() as server:
        path, config = make_config(tmp_path, static_env(tmp_path, STATIC_USER, STATIC_PASSWORD), [relay(server.port)])
        status, out, err = run(capsys, path)
    assert status == 1 and "FAILED unauthorized" in err
    assert f"after authenticating as the WEBRTC_TURN_USERNAME of {config['env']}" in err
    _assert_no_secret([out, err, metrics_of(config)], STATIC_PASSWORD, STATIC_USER)


def test_redact_replaces_secrets_anywhere():
    creds = Credentials(
        "1796408188",
        "Password-Value",
        "the username",
        None,
        secrets=("Password-Value", SECRET),
        usernames=("1796408188",),
    )
    line = f"as '1796408188': {SECRET} and Password-Value, 1796408188"
    assert creds.redact(line) == "as the username: <redacted> and <redacted>, <redacted>"
    assert creds.redact(line, usernames=False) == "as '1796408188': <redacted> and <redacted>, 1796408188"


def test_end_to_end_against_coturn(tmp_path, capsys, coturn):
    """udp, tcp and tls listeners of a real coturn on loopback (skipped without turnserver)."""
    if not coturn["tls_port"]:
        pytest.skip("no openssl to make a test certificate")
    username, password = rest_credentials(COTURN_SECRET)
    listeners = [listener(coturn["port"]), listener(coturn["port"], "tcp"), listener(coturn["tls_port"], "tls")]
    item = relay(
        0,
        realm=REAL_REALM,
        server_name="turn.probe.test",
        ca_file=coturn["cert"],
        peer_address=LOOP,
        listeners=listeners,
    )
    path, config = make_config(tmp_path, static_env(tmp_path, username, password), [item], timeout=1.5)
    status, out, err = run(capsys, path)
    assert (status, err) == (0, "")
    assert out == "relay-watch: 3/3 listeners of 1 relay up\n"
    text = metrics_of(config)
    match = [line for line in text.splitlines() if line.startswith("veza_coturn_relay_relayed_address_match{")]
    assert len(match) == 3 and all(line.endswith("} 1") for line in match)
    assert text.count('software="Coturn-') == 3
    expiry = [line for line in text.splitlines() if line.startswith("veza_coturn_tls_certificate_expiry_seconds{")]
    assert len(expiry) == 1 and 0 < int(expiry[0].rsplit(" ", 1)[1]) <= 86400 + 60
    left = [
        int(line.split()[1])
        for line in text.splitlines()
        if line.startswith("veza_coturn_backend_credential_expiry_seconds ")
    ]
    assert len(left) == 1
    left = left[0]
    assert 500 < left <= 600
    _assert_no_secret([out, err, text], password, username)

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The relay watch program of the backend host (plugins/module_utils/_relay_watch/):
the backend's credential from its env file.
"""

from __future__ import annotations

import pytest

from ansible_collections.veza.coturn.plugins.module_utils import _turn_rest
from ansible_collections.veza.coturn.plugins.module_utils._relay_watch.credentials import (
    MINT_TTL,
    read_credentials,
    rest_expiry,
)
from ansible_collections.veza.coturn.tests.unit.plugins.module_utils._relay_watch.relay_watch_files import (
    NOW,
    SECRET,
    STATIC_PASSWORD,
    STATIC_USER,
    make_config,
    relay,
    rest_env,
    run,
    static_env,
    write_env,
)

# --------------------------------------------------------------------------
# The env file


@pytest.mark.parametrize(
    "text, needle",
    [
        (
            "WEBRTC_TURN_USERNAME=alice\nWEBRTC_TURN_CREDENTIAL=\n",
            "sets WEBRTC_TURN_USERNAME but WEBRTC_TURN_CREDENTIAL is empty or missing",
        ),
        (
            "WEBRTC_TURN_CREDENTIAL=Recognisable-Static-Password-42\n",
            "sets WEBRTC_TURN_CREDENTIAL but WEBRTC_TURN_USERNAME is empty",
        ),
        (
            "WEBRTC_TURN_USERNAME=a\nWEBRTC_TURN_USERNAME=b\nWEBRTC_TURN_CREDENTIAL=x\n",
            "WEBRTC_TURN_USERNAME is set on several lines",
        ),
        (
            "WEBRTC_TURN_USERNAME=1\nWEBRTC_TURN_CREDENTIAL=x\nWEBRTC_TURN_SHARED_SECRET=Short-Secret-1\n",
            "WEBRTC_TURN_SHARED_SECRET: the shared secret must be a string of at least 16 characters (got 14)",
        ),
    ],
)
def test_env_errors(tmp_path, capsys, text, needle):
    path, config = make_config(tmp_path, write_env(tmp_path, text), [relay(3478)])
    status, out, err = run(capsys, path, probe=lambda p: pytest.fail("probed despite the env error"))
    assert (status, out) == (2, "")
    assert needle in err and err.count("\n") == 1
    for secret in ("Recognisable-Static-Password-42", "Short-Secret-1"):
        assert secret not in err


def test_missing_env_file(tmp_path, capsys):
    path, config = make_config(tmp_path, str(tmp_path / "absent.env"), [relay(3478)])
    status, out, err = run(capsys, path)
    assert status == 2 and "cannot read the env file" in err


def test_credentials_static_rest_and_off(tmp_path):
    creds = read_credentials(static_env(tmp_path, STATIC_USER, STATIC_PASSWORD), NOW)
    assert (creds.username, creds.password, creds.expiry) == (STATIC_USER, STATIC_PASSWORD, None)
    creds = read_credentials(rest_env(tmp_path), NOW)
    minted = _turn_rest.mint(SECRET, MINT_TTL, now=NOW)
    assert (
        (creds.username, creds.password)
        == (minted["username"], minted["credential"])
        == (str(NOW + 300), minted["credential"])
    )
    assert creds.expiry == NOW + 150  # the env file's own username, not the minted one
    off = read_credentials(
        write_env(tmp_path, "WEBRTC_TURN_URLS=\nWEBRTC_TURN_USERNAME=\nWEBRTC_TURN_CREDENTIAL=\n"), NOW
    )
    assert off.username is None and off.expiry is None


def test_rest_expiry():
    assert rest_expiry("1796408188") == 1796408188
    assert rest_expiry("1796408188:user") == 1796408188
    assert rest_expiry("alice") is None
    assert rest_expiry("1234") is None
    assert rest_expiry("") is None

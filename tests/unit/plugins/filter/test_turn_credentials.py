# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the veza.coturn.turn_rest_credentials filter.

Credentials are checked against an HMAC-SHA1 computed here with hmac,
hashlib and base64 directly (turn_credentials_helpers.py), and against fixed
vectors that were computed once outside the plugin
(``openssl dgst -sha1 -hmac 0123456789abcdef``). The turn_ice_servers filter
and the plugin map: test_turn_ice_servers.py.
"""

from __future__ import annotations

import base64
import types

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.veza.coturn.plugins.filter import turn_credentials as tc
from ansible_collections.veza.coturn.plugins.filter.turn_credentials import turn_rest_credentials
from ansible_collections.veza.coturn.tests.unit.plugins.filter.turn_credentials_helpers import (
    NOW,
    OTHER_SECRET,
    SECRET,
    expected_credential,
)

# --------------------------------------------------------------------------
# turn_rest_credentials: the credential itself


def test_fixed_known_vector():
    # echo -n 1700086400 | openssl dgst -sha1 -hmac 0123456789abcdef -binary | base64
    cred = turn_rest_credentials(SECRET, now=NOW)
    assert cred == {
        "username": "1700086400",
        "credential": "p5nNDMHFP29TM5+fs/6iHt7OV2o=",
        "expires_at": 1700086400,
        "ttl": 86400,
    }


def test_fixed_known_vector_with_user():
    # echo -n 1700000600:alice | openssl dgst -sha1 -hmac 0123456789abcdef -binary | base64
    cred = turn_rest_credentials(SECRET, ttl=600, user="alice", now=NOW)
    assert cred["username"] == "1700000600:alice"
    assert cred["credential"] == "X7ZMlwjsIJFB6UlEdWYcxNzOWk0="


@pytest.mark.parametrize("secret", [SECRET, OTHER_SECRET, "ü" * 16, "s3cr3t/with+odd=chars&more"])
@pytest.mark.parametrize("ttl", [1, 600, 86400, 7 * 86400])
def test_credential_is_hmac_sha1_of_username(secret, ttl):
    cred = turn_rest_credentials(secret, ttl=ttl, now=NOW)
    assert cred["credential"] == expected_credential(secret, cred["username"])
    assert len(base64.b64decode(cred["credential"], validate=True)) == 20  # SHA-1 digest size


def test_expiry_arithmetic():
    cred = turn_rest_credentials(SECRET, ttl=600, now=NOW)
    assert cred["expires_at"] == NOW + 600
    assert cred["username"] == str(NOW + 600)
    assert cred["ttl"] == 600
    assert isinstance(cred["expires_at"], int) and isinstance(cred["ttl"], int)


@pytest.mark.parametrize("now", [NOW, float(NOW) + 0.9, str(NOW), f"{NOW}.75"])
def test_now_forms_truncate_to_whole_seconds(now):
    cred = turn_rest_credentials(SECRET, ttl=600, now=now)
    assert cred["expires_at"] == NOW + 600
    assert cred["username"] == str(NOW + 600)


def test_now_defaults_to_the_clock(monkeypatch):
    monkeypatch.setattr(tc, "time", types.SimpleNamespace(time=lambda: NOW + 0.5))
    cred = turn_rest_credentials(SECRET, ttl=60)
    assert cred["expires_at"] == NOW + 60


def test_user_form():
    cred = turn_rest_credentials(SECRET, ttl=600, user="alice", now=NOW)
    assert cred["username"] == f"{NOW + 600}:alice"
    assert cred["expires_at"] == NOW + 600
    assert cred["credential"] == expected_credential(SECRET, f"{NOW + 600}:alice")


@pytest.mark.parametrize("user", [None, ""])
def test_no_user_gives_bare_expiry(user):
    assert turn_rest_credentials(SECRET, ttl=600, user=user, now=NOW)["username"] == str(NOW + 600)


def test_non_string_user_is_stringified():
    assert turn_rest_credentials(SECRET, ttl=600, user=42, now=NOW)["username"] == f"{NOW + 600}:42"


@pytest.mark.parametrize("ttl", ["600", 600, 600.0, " 600 "])
def test_ttl_as_string_or_number(ttl):
    cred = turn_rest_credentials(SECRET, ttl=ttl, now=NOW)
    assert cred["ttl"] == 600
    assert cred["expires_at"] == NOW + 600


def test_different_secrets_give_different_credentials():
    a = turn_rest_credentials(SECRET, now=NOW)
    b = turn_rest_credentials(OTHER_SECRET, now=NOW)
    assert a["username"] == b["username"]
    assert a["credential"] != b["credential"]


# --------------------------------------------------------------------------
# turn_rest_credentials: keep


def test_keep_with_more_than_half_left_is_reused_and_recomputed():
    kept = str(NOW + 400)  # 400 s of 600 left
    cred = turn_rest_credentials(OTHER_SECRET, ttl=600, now=NOW, keep=kept)
    assert cred["username"] == kept
    assert cred["expires_at"] == NOW + 400
    # the credential is recomputed for the current secret, not carried over
    assert cred["credential"] == expected_credential(OTHER_SECRET, kept)
    assert cred["credential"] != expected_credential(SECRET, kept)


def test_keep_round_trip_is_stable():
    first = turn_rest_credentials(SECRET, ttl=600, user="alice", now=NOW)
    again = turn_rest_credentials(SECRET, ttl=600, user="alice", now=NOW + 200, keep=first["username"])
    assert again == first


def test_keep_with_user_reused():
    kept = f"{NOW + 500}:alice"
    cred = turn_rest_credentials(SECRET, ttl=600, user="alice", now=NOW, keep=kept)
    assert cred["username"] == kept
    assert cred["credential"] == expected_credential(SECRET, kept)


@pytest.mark.parametrize("left", [300, 299, 1, 0, -1, -100000, 601, 10**9])
def test_keep_with_half_or_less_left_or_from_the_future_is_replaced(left):
    cred = turn_rest_credentials(SECRET, ttl=600, now=NOW, keep=str(NOW + left))
    assert cred["username"] == str(NOW + 600)
    assert cred["expires_at"] == NOW + 600
    assert cred["credential"] == expected_credential(SECRET, str(NOW + 600))


def test_keep_exactly_ttl_left_is_reused():
    cred = turn_rest_credentials(SECRET, ttl=600, now=NOW, keep=str(NOW + 600))
    assert cred["username"] == str(NOW + 600)


@pytest.mark.parametrize(
    "user, keep",
    [
        ("alice", f"{NOW + 500}:bob"),
        ("alice", str(NOW + 500)),
        (None, f"{NOW + 500}:alice"),
        ("alice", f"{NOW + 500}:"),
    ],
)
def test_keep_of_another_user_is_replaced(user, keep):
    cred = turn_rest_credentials(SECRET, ttl=600, user=user, now=NOW, keep=keep)
    want = f"{NOW + 600}:{user}" if user else str(NOW + 600)
    assert cred["username"] == want
    assert cred["credential"] == expected_credential(SECRET, want)


@pytest.mark.parametrize(
    "keep",
    [
        None,
        "",
        "garbage",
        "abc:alice",
        "-5",
        f"{NOW + 500}x",
        f" {NOW + 500}",
        "1.5e9",
        1700000500,
        ["x"],
        {"a": 1},
    ],
)
def test_keep_garbage_is_replaced(keep):
    cred = turn_rest_credentials(SECRET, ttl=600, now=NOW, keep=keep)
    assert cred["username"] == str(NOW + 600)


def test_keep_unicode_digit_garbage_is_replaced():
    cred = turn_rest_credentials(SECRET, ttl=600, now=NOW, keep="\u00b2")
    assert cred["username"] == str(NOW + 600)


# --------------------------------------------------------------------------
# turn_rest_credentials: errors


@pytest.mark.parametrize(
    "secret, got",
    [
        ("", "got 0"),
        ("short", "got 5"),
        ("x" * 15, "got 15"),
        (None, "got NoneType"),
        (1234567890123456789, "got int"),
        (b"0123456789abcdef", "got bytes"),
        (["0123456789abcdef"], "got list"),
    ],
)
def test_bad_secret(secret, got):
    with pytest.raises(
        AnsibleFilterError,
        match=r"turn_rest_credentials: the shared secret must be a string "
        r"of at least 16 characters \(" + got + r"\)",
    ):
        turn_rest_credentials(secret)


def test_short_secret_is_not_echoed():
    with pytest.raises(AnsibleFilterError) as exc:
        turn_rest_credentials("hunter2secret")
    assert "hunter2secret" not in str(exc.value)


@pytest.mark.parametrize(
    "ttl, shown",
    [
        (0, "0"),
        ("0", "0"),
        (-5, "-5"),
        ("-600", "-600"),
        ("abc", "'abc'"),
        ("600s", "'600s'"),
        ("", "''"),
        (None, "None"),
        ([600], r"\[600\]"),
        (True, "True"),
        (False, "False"),
    ],
)
def test_bad_ttl(ttl, shown):
    with pytest.raises(
        AnsibleFilterError,
        match=r"turn_rest_credentials: ttl must be a positive integer of seconds " r"\(got " + shown + r"\)",
    ):
        turn_rest_credentials(SECRET, ttl=ttl, now=NOW)


@pytest.mark.parametrize("user", ["a:b", ":", "alice:"])
def test_user_with_colon(user):
    with pytest.raises(AnsibleFilterError, match=r"turn_rest_credentials: user '.*' must not contain ':'"):
        turn_rest_credentials(SECRET, user=user, now=NOW)


@pytest.mark.parametrize(
    "now, shown",
    [
        ("abc", "'abc'"),
        ("", "''"),
        ([NOW], r"\[1700000000\]"),
        ({}, r"\{\}"),
        (float("nan"), "nan"),
    ],
)
def test_bad_now(now, shown):
    with pytest.raises(
        AnsibleFilterError, match=r"turn_rest_credentials: now must be a Unix timestamp " r"\(got " + shown + r"\)"
    ):
        turn_rest_credentials(SECRET, now=now)


@pytest.mark.parametrize(
    "kwargs, option",
    [
        ({"now": float("inf")}, "now"),
        ({"now": "inf"}, "now"),
        ({"now": "-inf"}, "now"),
        ({"ttl": float("inf")}, "ttl"),
    ],
)
def test_infinite_now_or_ttl_is_a_filter_error(kwargs, option):
    kwargs.setdefault("now", NOW)
    with pytest.raises(AnsibleFilterError, match=f"turn_rest_credentials: {option} must be"):
        turn_rest_credentials(SECRET, **kwargs)

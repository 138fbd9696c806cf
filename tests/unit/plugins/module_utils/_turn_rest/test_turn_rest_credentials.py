# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Minting, the keep rule and the iceServers JSON (_turn_rest.credentials, ice), shared with the filter plugin.

Credentials are checked against an HMAC-SHA1 computed here directly and a
vector computed outside the code (openssl).
"""

from __future__ import annotations

import pytest

from ansible.plugins.filter.core import to_nice_json

from ansible_collections.veza.coturn.plugins.filter import turn_credentials as tc
from ansible_collections.veza.coturn.plugins.module_utils import _turn_rest as tr

from turn_rest_files import NOW, SECRET, STUN, TTL, TURN, hmac_b64

# --------------------------------------------------------------------------
# mint


def test_mint_known_vector():
    # echo -n 1700086400 | openssl dgst -sha1 -hmac 0123456789abcdef -binary | base64
    assert tr.mint("0123456789abcdef", 86400, now=NOW) == {
        "username": "1700086400",
        "credential": "p5nNDMHFP29TM5+fs/6iHt7OV2o=",
        "expires_at": 1700086400,
        "ttl": 86400,
    }


@pytest.mark.parametrize("user", [None, "alice"])
def test_mint_is_hmac_sha1_of_username(user):
    cred = tr.mint(SECRET, TTL, user=user, now=NOW + 0.9)
    assert cred["username"] == (f"{NOW + TTL}:alice" if user else str(NOW + TTL))
    assert cred["credential"] == hmac_b64(SECRET, cred["username"])


def test_mint_is_what_the_filter_returns():
    for keep in (None, str(NOW + 400), str(NOW + 300)):
        assert tr.mint(SECRET, TTL, now=NOW, keep=keep) == tc.turn_rest_credentials(SECRET, ttl=TTL, now=NOW, keep=keep)


def test_filter_runs_the_shared_code(monkeypatch):
    monkeypatch.setattr(tr, "mint", lambda *args, **kwargs: {"from": "module_utils"})
    assert tc.turn_rest_credentials(SECRET, now=NOW) == {"from": "module_utils"}


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: tr.mint("short", TTL), "the shared secret must be a string of at least 16 characters (got 5)"),
        (lambda: tr.mint(SECRET, 0), "ttl must be a positive integer of seconds (got 0)"),
        (lambda: tr.mint(SECRET, "x"), "ttl must be a positive integer of seconds (got 'x')"),
        (lambda: tr.mint(SECRET, TTL, user="a:b"), "user 'a:b' must not contain ':' (it separates expiry and user)"),
        (lambda: tr.mint(SECRET, TTL, now="x"), "now must be a Unix timestamp (got 'x')"),
        (lambda: tr.ice_servers(["http://x"]), "stun_urls entry 'http://x' is not a URL starting with stun: or stuns:"),
        (lambda: tr.ice_servers([], 42), "turn_urls must be a list of URLs (got int)"),
    ],
)
def test_errors_are_value_errors_without_the_filter_prefix(call, message):
    with pytest.raises(tr.TurnRestError) as exc:
        call()
    assert isinstance(exc.value, ValueError)
    assert str(exc.value) == message


# --------------------------------------------------------------------------
# the keep rule


@pytest.mark.parametrize(
    "ttl, left, kept",
    [
        (600, 600, True),
        (600, 301, True),
        (600, 300, False),
        (600, 0, False),
        (600, 601, False),
        # odd TTL: half is rounded down, as the role has always done
        (601, 301, True),
        (601, 300, False),
    ],
)
def test_keep_boundaries(ttl, left, kept):
    assert tr.kept_expiry(str(NOW + left), None, NOW, ttl) == (NOW + left if kept else None)
    cred = tr.mint(SECRET, ttl, now=NOW, keep=str(NOW + left))
    assert cred["username"] == (str(NOW + left) if kept else str(NOW + ttl))


@pytest.mark.parametrize(
    "margin, left, kept", [(100, 101, True), (100, 100, False), (0, 1, True), (0, 0, False), (600, 600, False)]
)
def test_keep_with_a_margin(margin, left, kept):
    assert tr.kept_expiry(str(NOW + left), None, NOW, 600, margin) == (NOW + left if kept else None)


@pytest.mark.parametrize("keep", [f"{NOW + 500}:alice", "x", "", None, NOW + 500])
def test_keep_refuses_other_users_and_garbage(keep):
    assert tr.kept_expiry(keep, None, NOW, 600) is None


# --------------------------------------------------------------------------
# iceServers JSON


def test_ice_json_is_ansibles_to_nice_json():
    servers = tr.ice_servers(STUN, TURN, "1700000600", "a/b+c=")
    assert tr.ice_servers_json(servers) == to_nice_json(servers) + "\n"
    assert tr.ice_servers_json([]) == to_nice_json([]) + "\n"

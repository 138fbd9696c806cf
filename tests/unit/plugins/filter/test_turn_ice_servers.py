# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the veza.coturn.turn_ice_servers filter, and of the filter plugin's map.

The turn_rest_credentials filter itself: test_turn_credentials.py.
"""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.veza.coturn.plugins.filter import turn_credentials as tc
from ansible_collections.veza.coturn.plugins.filter.turn_credentials import turn_ice_servers, turn_rest_credentials
from ansible_collections.veza.coturn.tests.unit.plugins.filter.turn_credentials_helpers import (
    NOW,
    SECRET,
    expected_credential,
)

# --------------------------------------------------------------------------
# turn_ice_servers

STUN = ["stun:turn.example.org:3478"]
TURN = ["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349?transport=tcp"]


def test_ice_servers_stun_then_turn():
    servers = turn_ice_servers(STUN, TURN, "1700000600:alice", "cred==")
    assert servers == [
        {"urls": STUN},
        {"urls": TURN, "username": "1700000600:alice", "credential": "cred=="},
    ]


def test_ice_servers_from_minted_credentials():
    cred = turn_rest_credentials(SECRET, ttl=600, now=NOW)
    servers = turn_ice_servers(STUN, TURN, cred["username"], cred["credential"])
    assert servers[1]["username"] == str(NOW + 600)
    assert servers[1]["credential"] == expected_credential(SECRET, str(NOW + 600))


def test_ice_servers_stringify_credentials():
    servers = turn_ice_servers(STUN, TURN, 1700000600, 12345)
    assert servers[1]["username"] == "1700000600"
    assert servers[1]["credential"] == "12345"


def test_ice_servers_stuns_accepted():
    assert turn_ice_servers(["stuns:turn.example.org:5349"]) == [{"urls": ["stuns:turn.example.org:5349"]}]


def test_ice_servers_returns_copies():
    stun = list(STUN)
    servers = turn_ice_servers(stun)
    servers[0]["urls"].append("stun:other")
    assert stun == STUN


@pytest.mark.parametrize("username, credential", [(None, None), ("u", None), (None, "c"), ("", "c"), ("u", "")])
def test_ice_servers_turn_omitted_without_credentials(username, credential):
    assert turn_ice_servers(STUN, TURN, username, credential) == [{"urls": STUN}]


@pytest.mark.parametrize("turn_urls", [None, [], "", ","])
def test_ice_servers_turn_omitted_without_urls(turn_urls):
    assert turn_ice_servers(STUN, turn_urls, "u", "c") == [{"urls": STUN}]


def test_ice_servers_turn_only():
    assert turn_ice_servers([], TURN, "u", "c") == [{"urls": TURN, "username": "u", "credential": "c"}]
    assert turn_ice_servers(None, TURN, "u", "c") == [{"urls": TURN, "username": "u", "credential": "c"}]


def test_ice_servers_nothing():
    assert turn_ice_servers([]) == []
    assert turn_ice_servers(None, None) == []


def test_ice_servers_comma_separated_strings():
    servers = turn_ice_servers("stun:a:3478,stun:b:3478", "turn:a:3478,turns:a:5349,", "u", "c")
    assert servers == [
        {"urls": ["stun:a:3478", "stun:b:3478"]},
        {"urls": ["turn:a:3478", "turns:a:5349"], "username": "u", "credential": "c"},
    ]


def test_ice_servers_single_string_and_tuple():
    assert turn_ice_servers("stun:a") == [{"urls": ["stun:a"]}]
    assert turn_ice_servers(("stun:a",)) == [{"urls": ["stun:a"]}]


@pytest.mark.parametrize(
    "stun_urls, entry",
    [
        (["http://x"], "'http://x'"),
        (["stun:"], "'stun:'"),
        (["stuns:"], "'stuns:'"),
        ([42], "42"),
        ([None], "None"),
        (["turn:x"], "'turn:x'"),
        ("stun:a,http://x", "'http://x'"),
        (["stun:a", "x"], "'x'"),
    ],
)
def test_ice_servers_bad_stun_url(stun_urls, entry):
    with pytest.raises(
        AnsibleFilterError,
        match=r"turn_ice_servers: stun_urls entry " + entry + r" is not a URL starting with stun: or stuns:",
    ):
        turn_ice_servers(stun_urls, TURN, "u", "c")


@pytest.mark.parametrize(
    "turn_urls, entry",
    [
        (["http://x"], "'http://x'"),
        (["turn:"], "'turn:'"),
        (["turns:"], "'turns:'"),
        ([42], "42"),
        (["stun:x"], "'stun:x'"),
        ("turn:a,turn:", "'turn:'"),
    ],
)
def test_ice_servers_bad_turn_url(turn_urls, entry):
    with pytest.raises(
        AnsibleFilterError,
        match=r"turn_ice_servers: turn_urls entry " + entry + r" is not a URL starting with turn: or turns:",
    ):
        turn_ice_servers(STUN, turn_urls, "u", "c")


def test_ice_servers_bad_turn_url_raises_even_without_credentials():
    with pytest.raises(AnsibleFilterError, match="turn_ice_servers: turn_urls entry 'http://x'"):
        turn_ice_servers(STUN, ["http://x"])


@pytest.mark.parametrize(
    "option, args",
    [
        ("stun_urls", (42,)),
        ("stun_urls", ({"urls": "stun:a"},)),
        ("turn_urls", (STUN, 42)),
        ("turn_urls", (STUN, {"urls": "turn:a"})),
    ],
)
def test_ice_servers_not_a_list(option, args):
    with pytest.raises(AnsibleFilterError, match=f"turn_ice_servers: {option} must be a list of URLs"):
        turn_ice_servers(*args)


# --------------------------------------------------------------------------
# plugin map


def test_filter_module_map():
    filters = tc.FilterModule().filters()
    assert filters["turn_rest_credentials"] is turn_rest_credentials
    assert filters["turn_ice_servers"] is turn_ice_servers

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the _turn_rest tests: the env file and iceServers JSON as the role wrote them."""

from __future__ import annotations

import time

import pytest

from ansible_collections.veza.coturn.plugins.filter import turn_credentials as tc

from turn_rest_files import NOW, SECRET, TTL, hmac_b64, role_env, role_ice


@pytest.fixture
def deployed(tmp_path):
    """An env file and iceServers JSON as the role wrote them at NOW, and their paths."""
    cred = tc.turn_rest_credentials(SECRET, ttl=TTL, now=NOW)
    env = tmp_path / "webrtc.env"
    ice = tmp_path / "ice_servers.json"
    env.write_text(role_env(cred["username"], cred["credential"]))
    ice.write_text(role_ice(cred["username"], cred["credential"]))
    env.chmod(0o600)
    ice.chmod(0o600)
    return env, ice


@pytest.fixture
def due(tmp_path):
    """Files the role wrote, with a username 10 s from expiry on the real clock: due for renewal."""
    username = str(int(time.time()) + 10)
    env = tmp_path / "webrtc.env"
    ice = tmp_path / "ice_servers.json"
    env.write_text(role_env(username, hmac_b64(SECRET, username), ttl=86400))
    ice.write_text(role_ice(username, hmac_b64(SECRET, username)))
    env.chmod(0o600)
    ice.chmod(0o600)
    return env, ice

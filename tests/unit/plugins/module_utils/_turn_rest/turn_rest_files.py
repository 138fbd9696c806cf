# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The files of the TURN REST renewal as the webrtc_backend_env role writes them, for the tests of _turn_rest.

Its template (mirrored by role_env) and ansible's own to_nice_json for the
iceServers JSON, so "a rerun of the role after a renewal changes nothing"
is checked against ansible's output, not the package's.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import os
import re

from ansible.plugins.filter.core import to_nice_json

from ansible_collections.veza.coturn.plugins.filter import turn_credentials as tc

SECRET = "0123456789abcdef-backend-secret"
NOW = 1_700_000_000
TTL = 600
STUN = ("stun:turn.example.org:3478",)
TURN = ("turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349?transport=tcp")


def hmac_b64(secret, username):
    return base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()


def utc(timestamp):
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).isoformat().replace("+00:00", "Z")


def role_env(username, credential, secret=SECRET, ttl=TTL, stun=STUN, turn=TURN):
    """templates/webrtc.env.j2 as the role renders it in rest mode (trim_blocks, ansible_managed | comment)."""
    return (
        "#\n# Ansible managed\n#\n"
        f"WEBRTC_STUN_URLS={','.join(stun)}\n"
        f"WEBRTC_TURN_URLS={','.join(turn)}\n"
        f"WEBRTC_TURN_USERNAME={username}\n"
        f"WEBRTC_TURN_CREDENTIAL={credential}\n"
        "# For backends that mint a credential per call (TURN REST, HMAC-SHA1).\n"
        f"WEBRTC_TURN_SHARED_SECRET={secret}\n"
        f"WEBRTC_TURN_CREDENTIAL_TTL={ttl}\n"
    )


def role_ice(username, credential, stun=STUN, turn=TURN):
    """The role's "Write the iceServers JSON" task: to_nice_json of the turn_ice_servers filter, and a line break."""
    return to_nice_json(tc.turn_ice_servers(stun, turn, username, credential)) + "\n"


def role_rerun(env_text, now, secret=SECRET, ttl=TTL):
    """What the role writes when run again on env_text: it keeps the username it reads back (tasks/configure.yml)."""
    found = re.search(r"(?m)^WEBRTC_TURN_USERNAME=(.*)$", env_text)
    cred = tc.turn_rest_credentials(secret, ttl=ttl, now=now, keep=found.group(1) if found else "")
    return role_env(cred["username"], cred["credential"], secret, ttl), role_ice(cred["username"], cred["credential"])


def snapshot(*paths):
    return [(p.read_bytes(), os.stat(p).st_ino, os.stat(p).st_mtime_ns) for p in paths]


STATIC_ENV = (
    "#\n# Ansible managed\n#\nWEBRTC_STUN_URLS=stun:a:3478\nWEBRTC_TURN_URLS=turn:a:3478\n"
    "WEBRTC_TURN_USERNAME=backend\nWEBRTC_TURN_CREDENTIAL=long-term-password\n"
)
OFF_ENV = (
    "#\n# Ansible managed\n#\nWEBRTC_STUN_URLS=stun:a:3478\n"
    "# TURN is off: empty TURN variables make the backend serve STUN only.\n"
    "WEBRTC_TURN_URLS=\nWEBRTC_TURN_USERNAME=\nWEBRTC_TURN_CREDENTIAL=\n"
)

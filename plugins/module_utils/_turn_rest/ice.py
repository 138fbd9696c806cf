# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""RTCIceServer lists, and the iceServers JSON as the webrtc_backend_env role writes it."""

from __future__ import annotations

import json

from ansible_collections.veza.coturn.plugins.module_utils._turn_rest.errors import TurnRestError


def check_urls(urls, kinds, option):
    if isinstance(urls, str):
        urls = [u.strip() for u in urls.split(",") if u.strip()]
    if not isinstance(urls, (list, tuple)):
        raise TurnRestError(f"{option} must be a list of URLs (got {type(urls).__name__})")
    for url in urls:
        if not isinstance(url, str) or not url.startswith(kinds) or len(url.split(":", 1)[1]) == 0:
            raise TurnRestError(f"{option} entry {url!r} is not a URL starting with {' or '.join(kinds)}")
    return list(urls)


def ice_servers(stun_urls, turn_urls=None, username=None, credential=None):
    """The RTCIceServer list: STUN URLs first, then TURN/TURNS with credentials.

    TURN is left out when there are no TURN URLs or no credentials (the
    backend then serves STUN only). Lists or comma-separated strings.
    """
    stun = check_urls(stun_urls or [], ("stun:", "stuns:"), "stun_urls")
    turn = check_urls(turn_urls or [], ("turn:", "turns:"), "turn_urls")
    servers = []
    if stun:
        servers.append({"urls": stun})
    if turn and username and credential:
        servers.append({"urls": turn, "username": str(username), "credential": str(credential)})
    return servers


def ice_servers_json(servers):
    """servers as the role writes them: ansible's to_nice_json and a line break, so a rerun finds them unchanged."""
    return json.dumps(servers, indent=4, sort_keys=True, separators=(",", ": ")) + "\n"

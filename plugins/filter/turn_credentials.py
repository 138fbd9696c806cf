# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TURN REST credentials and RTCIceServer lists, computed once for every role.

The coturn role and the backend env role both consume these, so the
credential coturn accepts and the one the backend hands out cannot differ.
The work is done in the module_utils/_turn_rest package, which the backend host also
runs to renew the credential; these filters only turn its errors into
filter errors.
"""

from __future__ import annotations

import time

from ansible.errors import AnsibleFilterError

from ansible_collections.veza.coturn.plugins.module_utils import _turn_rest

MIN_SECRET_LENGTH = _turn_rest.MIN_SECRET_LENGTH


def turn_rest_credentials(secret, ttl=86400, user=None, now=None, keep=None):
    """Mint a TURN REST credential (draft-uberti-behave-turn-rest-00).

    username = "<expiry>" or "<expiry>:<user>", credential =
    base64(HMAC-SHA1(secret, username)), as coturn's use-auth-secret expects.
    keep: a username minted earlier (for example read back from the env
    file); it is kept while more than half its TTL is left, so that reruns
    do not rewrite the backend env file.
    """
    # The clock is read here, not in _turn_rest, so that it stays this
    # plugin's own to replace in tests.
    if now is None:
        now = time.time()
    try:
        return _turn_rest.mint(secret, ttl, user=user, now=now, keep=keep)
    except ValueError as exc:
        # Chained to exc's own cause: ansible appends a cause's text to the
        # message, and exc's text is already in it.
        raise AnsibleFilterError(f"turn_rest_credentials: {exc}") from exc.__cause__


def turn_ice_servers(stun_urls, turn_urls=None, username=None, credential=None):
    """The RTCIceServer list: STUN URLs first, then TURN/TURNS with credentials.

    TURN is left out when there are no TURN URLs or no credentials (the
    backend then serves STUN only).
    """
    try:
        return _turn_rest.ice_servers(stun_urls, turn_urls, username, credential)
    except ValueError as exc:
        raise AnsibleFilterError(f"turn_ice_servers: {exc}") from exc.__cause__


class FilterModule:
    """TURN credential filters."""

    def filters(self):
        return {
            "turn_rest_credentials": turn_rest_credentials,
            "turn_ice_servers": turn_ice_servers,
        }

# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TURN REST credentials and RTCIceServer lists, computed once for every role.

The coturn role and the backend env role both consume these, so the
credential coturn accepts and the one the backend hands out cannot differ.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from ansible.errors import AnsibleFilterError

MIN_SECRET_LENGTH = 16


def turn_rest_credentials(secret, ttl=86400, user=None, now=None, keep=None):
    """Mint a TURN REST credential (draft-uberti-behave-turn-rest-00).

    username = "<expiry>" or "<expiry>:<user>", credential =
    base64(HMAC-SHA1(secret, username)), as coturn's use-auth-secret expects.
    keep: a username minted earlier (for example read back from the env
    file); it is kept while more than half its TTL is left, so that reruns
    do not rewrite the backend env file.
    """
    if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
        raise AnsibleFilterError(
            f"turn_rest_credentials: the shared secret must be a string of at least "
            f"{MIN_SECRET_LENGTH} characters (got {len(secret) if isinstance(secret, str) else type(secret).__name__})")
    if isinstance(ttl, bool):
        raise AnsibleFilterError(f"turn_rest_credentials: ttl must be a positive integer of seconds (got {ttl!r})")
    try:
        ttl = int(ttl)
    except (TypeError, ValueError, OverflowError) as exc:
        raise AnsibleFilterError(f"turn_rest_credentials: ttl must be a positive integer of seconds (got {ttl!r})") from exc
    if ttl <= 0:
        raise AnsibleFilterError(f"turn_rest_credentials: ttl must be a positive integer of seconds (got {ttl})")
    if user is not None and user != "":
        user = str(user)
        if ":" in user:
            raise AnsibleFilterError(
                f"turn_rest_credentials: user {user!r} must not contain ':' (it separates expiry and user)")
    else:
        user = None
    if now is None:
        now = time.time()
    try:
        expires_at = int(float(now)) + ttl
    except (TypeError, ValueError, OverflowError) as exc:
        raise AnsibleFilterError(f"turn_rest_credentials: now must be a Unix timestamp (got {now!r})") from exc
    username = f"{expires_at}:{user}" if user else str(expires_at)
    kept = _keepable(keep, user, expires_at - ttl, ttl)
    if kept is not None:
        username, expires_at = kept
    digest = hmac.new(secret.encode("utf-8"), username.encode("utf-8"), hashlib.sha1).digest()
    return {
        "username": username,
        "credential": base64.b64encode(digest).decode("ascii"),
        "expires_at": expires_at,
        "ttl": ttl,
    }


def _keepable(keep, user, now, ttl):
    """(username, expiry) of keep when it has the same user and over ttl/2 left."""
    if not keep or not isinstance(keep, str):
        return None
    expiry, _sep, kept_user = keep.partition(":")
    if not (expiry.isascii() and expiry.isdigit()) or (kept_user or None) != user:
        return None
    expiry = int(expiry)
    if expiry - now <= ttl // 2 or expiry - now > ttl:
        return None
    return keep, expiry


def _check_urls(urls, kinds, option):
    if isinstance(urls, str):
        urls = [u.strip() for u in urls.split(",") if u.strip()]
    if not isinstance(urls, (list, tuple)):
        raise AnsibleFilterError(f"turn_ice_servers: {option} must be a list of URLs (got {type(urls).__name__})")
    for url in urls:
        if not isinstance(url, str) or not url.startswith(kinds) or len(url.split(":", 1)[1]) == 0:
            raise AnsibleFilterError(
                f"turn_ice_servers: {option} entry {url!r} is not a URL starting with {' or '.join(kinds)}")
    return list(urls)


def turn_ice_servers(stun_urls, turn_urls=None, username=None, credential=None):
    """The RTCIceServer list: STUN URLs first, then TURN/TURNS with credentials.

    TURN is left out when there are no TURN URLs or no credentials (the
    backend then serves STUN only).
    """
    stun = _check_urls(stun_urls or [], ("stun:", "stuns:"), "stun_urls")
    turn = _check_urls(turn_urls or [], ("turn:", "turns:"), "turn_urls")
    servers = []
    if stun:
        servers.append({"urls": stun})
    if turn and username and credential:
        servers.append({"urls": turn, "username": str(username), "credential": str(credential)})
    return servers


class FilterModule:
    """TURN credential filters."""

    def filters(self):
        return {
            "turn_rest_credentials": turn_rest_credentials,
            "turn_ice_servers": turn_ice_servers,
        }

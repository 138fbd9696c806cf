# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Minting TURN REST credentials (draft-uberti-behave-turn-rest-00) and the rule that keeps one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from ansible_collections.veza.coturn.plugins.module_utils._turn_rest.errors import TurnRestError

MIN_SECRET_LENGTH = 16


def check_secret(secret):
    if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
        # The length or type only: the message must never carry the secret.
        got = len(secret) if isinstance(secret, str) else type(secret).__name__
        raise TurnRestError(
            f"the shared secret must be a string of at least {MIN_SECRET_LENGTH} characters (got {got})"
        )
    return secret


def check_ttl(ttl):
    if isinstance(ttl, bool):
        raise TurnRestError(f"ttl must be a positive integer of seconds (got {ttl!r})")
    try:
        ttl = int(ttl)
    except (TypeError, ValueError, OverflowError) as exc:
        raise TurnRestError(f"ttl must be a positive integer of seconds (got {ttl!r})") from exc
    if ttl <= 0:
        raise TurnRestError(f"ttl must be a positive integer of seconds (got {ttl})")
    return ttl


def check_now(now):
    if now is None:
        now = time.time()
    try:
        return int(float(now))
    except (TypeError, ValueError, OverflowError) as exc:
        raise TurnRestError(f"now must be a Unix timestamp (got {now!r})") from exc


def kept_expiry(keep, user, now, ttl, margin=None):
    """The expiry of the username keep when it is for user and more than margin seconds of it are left, else None.

    margin defaults to half the TTL: a credential is renewed while it still
    has half its life, so a backend that read it just before never hands out
    one about to expire. An expiry more than ttl ahead was not minted with
    this TTL (or the clock went back) and is not kept either.
    """
    if margin is None:
        margin = ttl // 2
    if not keep or not isinstance(keep, str):
        return None
    expiry, _sep, kept_user = keep.partition(":")
    if not (expiry.isascii() and expiry.isdigit()) or (kept_user or None) != user:
        return None
    expiry = int(expiry)
    if expiry - now <= margin or expiry - now > ttl:
        return None
    return expiry


def mint(secret, ttl, user=None, now=None, keep=None):
    """Mint a TURN REST credential: a dict of username, credential, expires_at and ttl.

    username = "<expiry>" or "<expiry>:<user>", credential =
    base64(HMAC-SHA1(secret, username)), as coturn's use-auth-secret expects.
    keep: a username minted earlier (for example read back from the env
    file); it is kept while more than half its TTL is left, so that reruns
    do not rewrite the backend env file. Raises TurnRestError.
    """
    check_secret(secret)
    ttl = check_ttl(ttl)
    if user is not None and user != "":
        user = str(user)
        if ":" in user:
            raise TurnRestError(f"user {user!r} must not contain ':' (it separates expiry and user)")
    else:
        user = None
    now = check_now(now)
    expires_at = now + ttl
    username = f"{expires_at}:{user}" if user else str(expires_at)
    kept = kept_expiry(keep, user, now, ttl)
    if kept is not None:
        username, expires_at = keep, kept
    return {
        "username": username,
        "credential": credential_for(secret, username),
        "expires_at": expires_at,
        "ttl": ttl,
    }


def credential_for(secret, username):
    """base64(HMAC-SHA1(secret, username)): the password coturn expects for username."""
    digest = hmac.new(secret.encode("utf-8"), username.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")

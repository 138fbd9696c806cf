# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The probe's credential, read from the backend env file (or minted), and
what must never be shown: redaction of the secret, the credential and the username.
"""

from __future__ import annotations

from ansible_collections.veza.coturn.plugins.module_utils import _turn_rest
from ansible_collections.veza.coturn.plugins.module_utils._relay_watch.errors import WatchError

MINT_TTL = 300
# Shorter values are not searched for in the output: they would match
# unrelated text (ports, counts) and a secret that short hides nothing.
MIN_REDACTED_LENGTH = 6
REDACTED = "<redacted>"


class Credentials:
    """What the probe authenticates with, and what must never be shown."""

    def __init__(self, username=None, password=None, source=None, expiry=None, secrets=(), usernames=()):
        self.username = username  # None: TURN is off, binding only
        self.password = password
        self.source = source  # words for the username in explanations
        self.expiry = expiry  # the env file's REST username expiry (Unix time), or None
        self.secrets = [s for s in secrets if s]
        self.usernames = [u for u in usernames if u]

    def redact(self, text, usernames=True):
        """text without the secret and the credentials, and without the usernames unless usernames is false.

        A probe explanation names the username (turn_probe: "after
        authenticating as '1796408188'"); it is replaced by where it came
        from. The metrics file never holds one, and is only searched for the
        secrets there: a username may be a word of a relay name.
        """
        if usernames:
            for name in self.usernames:
                text = text.replace(repr(name), self.source or "the username")
        values = self.secrets + (self.usernames if usernames else [])
        for value in sorted(values, key=len, reverse=True):
            if len(value) >= MIN_REDACTED_LENGTH:
                text = text.replace(value, REDACTED)
        return text


def rest_expiry(username):
    """The expiry time a TURN REST username starts with, or None for another username."""
    head = (username or "").split(":", 1)[0]
    if head.isascii() and head.isdigit() and len(head) >= 9:
        return int(head)
    return None


def read_credentials(env_path, now):
    """The probe's credential from the backend env file; WatchError naming the file and the key.

    With WEBRTC_TURN_SHARED_SECRET (rest mode) a credential valid for
    MINT_TTL seconds is minted, as a backend that mints per call does; the
    env file's own WEBRTC_TURN_USERNAME is reported through its expiry.
    Otherwise WEBRTC_TURN_USERNAME/WEBRTC_TURN_CREDENTIAL are used as they
    are; both empty means TURN is off.
    """
    try:
        env = _turn_rest.EnvFile.read(env_path)
        username = env.get(_turn_rest.ENV_USERNAME, "")
        credential = env.get(_turn_rest.ENV_CREDENTIAL, "")
        secret = env.get(_turn_rest.ENV_SECRET, "")
    except _turn_rest.TurnRestError as exc:
        raise WatchError(str(exc)) from None
    expiry = rest_expiry(username)
    if secret:
        try:
            minted = _turn_rest.mint(secret, MINT_TTL, now=now)
        except _turn_rest.TurnRestError as exc:
            raise WatchError(f"{env_path}: {_turn_rest.ENV_SECRET}: {exc}") from None
        return Credentials(
            minted["username"],
            minted["credential"],
            f"a username minted from {_turn_rest.ENV_SECRET}",
            expiry,
            secrets=(secret, minted["credential"], credential),
            usernames=(minted["username"], username),
        )
    if bool(username) != bool(credential):
        have, empty = (
            (_turn_rest.ENV_USERNAME, _turn_rest.ENV_CREDENTIAL)
            if username
            else (_turn_rest.ENV_CREDENTIAL, _turn_rest.ENV_USERNAME)
        )
        raise WatchError(
            f"{env_path} sets {have} but {empty} is empty or missing; both must be set (TURN on) or both empty (TURN off)"
        )
    if not username:
        return Credentials(expiry=None)
    return Credentials(
        username,
        credential,
        f"the {_turn_rest.ENV_USERNAME} of {env_path}",
        expiry,
        secrets=(credential,),
        usernames=(username,),
    )

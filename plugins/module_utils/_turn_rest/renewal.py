# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Renewal of the minted credential in the backend env file and the iceServers JSON, and its reload."""

from __future__ import annotations

import datetime
import json
import os
import subprocess

from ansible_collections.veza.coturn.plugins.module_utils._turn_rest.atomic import read_bytes, write_atomically
from ansible_collections.veza.coturn.plugins.module_utils._turn_rest.credentials import (
    check_now,
    check_secret,
    check_ttl,
    credential_for,
    kept_expiry,
    mint,
)
from ansible_collections.veza.coturn.plugins.module_utils._turn_rest.env_file import (
    ENV_CREDENTIAL,
    ENV_SECRET,
    ENV_STUN_URLS,
    ENV_TTL,
    ENV_TURN_URLS,
    ENV_USERNAME,
    EnvFile,
)
from ansible_collections.veza.coturn.plugins.module_utils._turn_rest.errors import TurnRestError
from ansible_collections.veza.coturn.plugins.module_utils._turn_rest.ice import (
    check_urls,
    ice_servers,
    ice_servers_json,
)


def utc(timestamp):
    """timestamp as 2023-11-15T22:13:20Z."""
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _plan(env_path, ice_path, now, margin):
    """What renew() would do: (result, writes), writes a list of (path, new bytes, old bytes or None)."""
    env = EnvFile.read(env_path)
    result = {
        "changed": False,
        "action": "skipped",
        "env": env_path,
        "ice": ice_path,
        "username": None,
        "expires_at": None,
        "renew_after": None,
        "written": [],
    }
    secret = env.get(ENV_SECRET, "")
    if not secret:
        return result, []

    try:
        check_secret(secret)
    except TurnRestError as exc:
        raise TurnRestError(f"{env_path}: {ENV_SECRET}: {exc}") from exc
    try:
        ttl = check_ttl(env.get(ENV_TTL))
    except TurnRestError as exc:
        raise TurnRestError(f"{env_path}: {ENV_TTL}: {exc}") from exc
    try:
        stun = check_urls(env.get(ENV_STUN_URLS, ""), ("stun:", "stuns:"), ENV_STUN_URLS)
        turn = check_urls(env.get(ENV_TURN_URLS, ""), ("turn:", "turns:"), ENV_TURN_URLS)
    except TurnRestError as exc:
        raise TurnRestError(f"{env_path}: {exc}") from exc
    now = check_now(now)
    if margin is None:
        margin = ttl // 2
    elif isinstance(margin, bool) or not isinstance(margin, int) or not 0 <= margin <= ttl:
        raise TurnRestError(
            f"margin must be a whole number of seconds from 0 to the TTL in {env_path} ({ttl}) (got {margin!r})"
        )
    current = env.get(ENV_USERNAME)
    if current is None:
        raise TurnRestError(
            f"{env_path} has {ENV_SECRET} but no {ENV_USERNAME}= line; the webrtc_backend_env role writes both in rest mode"
        )
    # The role mints without a user part (username = expiry), and so does
    # this: a username the role would replace at its next run is no renewal.
    kept = kept_expiry(current, None, now, ttl, margin)
    if kept is None:
        cred = mint(secret, ttl, now=now)
        username, expires_at = cred["username"], cred["expires_at"]
    else:
        username, expires_at = current, kept
    credential = credential_for(secret, username)
    env.set(ENV_USERNAME, username)
    env.set(ENV_CREDENTIAL, credential)
    ice = ice_servers_json(ice_servers(stun, turn, username, credential))
    writes = []
    written = []
    for path, data in ((env_path, env.text().encode("utf-8")), (ice_path, ice.encode("utf-8"))):
        # The real path: a rename onto a symbolic link would replace the link.
        real = os.path.realpath(path)
        old = read_bytes(real)
        if old != data:
            writes.append((real, data, old))
            written.append(path)
    result.update(
        {
            "changed": bool(writes),
            # "repaired": same username, but a credential or iceServers file that
            # did not match it (a changed secret, a hand edit) was rewritten.
            "action": "renewed" if kept is None else ("repaired" if writes else "kept"),
            "username": username,
            "expires_at": expires_at,
            "renew_after": expires_at - margin,
            "written": written,
        }
    )
    return result, writes


def _apply(writes, env_path):
    """Write each file; when one fails, put back the ones already written, so all or none changed."""
    done = []
    for path, data, old in writes:
        try:
            # A missing iceServers file is created like the env file (the role
            # gives both the same owner, group and mode).
            write_atomically(path, data, path if old is not None else env_path)
        except OSError as exc:
            failed = _restore(done)
            outcome = f"could not put back {' and '.join(failed)} either" if failed else "no file was changed"
            raise TurnRestError(f"cannot write {path}: {exc.strerror or exc}; {outcome}") from exc
        except BaseException:
            _restore(done)
            raise
        done.append((path, data, old))


def _restore(writes):
    """Put back what writes replaced; the paths that could not be (this runs on a failure path already)."""
    failed = []
    for path, _data, old in reversed(writes):
        try:
            if old is None:
                os.unlink(path)
            else:
                write_atomically(path, old, path)
        except OSError:
            failed.append(path)
    return failed


def renew(env_path, ice_path, now=None, margin=None):
    """Renew the TURN REST credential in the env file and the iceServers JSON when it is due.

    Reads the shared secret, TTL, current username and URLs from the env
    file. While the username has more than margin seconds left (default
    half the TTL, the rule the role keeps it by) nothing changes; else a new
    credential is minted and only the WEBRTC_TURN_USERNAME and
    WEBRTC_TURN_CREDENTIAL lines of the env file, and the iceServers JSON,
    are rewritten, each atomically with its owner, group and mode. An env
    file without a shared secret (static credentials, TURN off) is left
    alone. Returns a dict: changed, action (renewed, repaired, kept,
    skipped), env, ice, username, expires_at, renew_after, written.
    Raises TurnRestError.
    """
    result, writes = _plan(env_path, ice_path, now, margin)
    _apply(writes, os.path.realpath(result["env"]))
    return result


def renew_and_reload(env_path, ice_path, reload_command=None, now=None, margin=None):
    """renew(), then reload_command (an argv list, no shell) when a file changed.

    When the reload fails the previous files are put back: the backend
    still runs with the previous credential, which is still valid (renewal
    starts with half the TTL left), and the next run renews and reloads again
    instead of finding nothing to do.
    """
    result, writes = _plan(env_path, ice_path, now, margin)
    _apply(writes, os.path.realpath(result["env"]))
    result["reloaded"] = False
    if writes and reload_command:
        try:
            # Output captured and dropped: it is the backend's, and may say anything.
            status = subprocess.run(
                reload_command, stdin=subprocess.DEVNULL, capture_output=True, check=False
            ).returncode
            problem = None if status == 0 else f"exited with status {status}"
        except OSError as exc:
            problem = f"could not be started ({exc.strerror or exc})"
        if problem:
            failed = _restore(writes)
            if failed:
                outcome = (
                    f"could not put back the previous {' and '.join(failed)}: the backend still runs with the previous "
                    f"credential; run the reload command by hand"
                )
            else:
                outcome = (
                    f"put back the previous {' and '.join(result['written'])}, so the next run renews and reloads again"
                )
            raise TurnRestError(
                f"the reload command {json.dumps(reload_command)} {problem} (its output is not shown; "
                f"run it by hand to see why); {outcome}"
            )
        result["reloaded"] = True
    return result


def describe(result):
    """One line on what renew() did, naming the files, the username and the expiry, never the secret or credential."""
    if result["action"] == "skipped":
        return f"skipped: {result['env']} has no {ENV_SECRET} (static credentials or TURN off); nothing to renew"
    held = f"username {result['username']}, expires {utc(result['expires_at'])}"
    if result["action"] == "kept":
        return f"kept: {result['env']} holds {held}; renewal due from {utc(result['renew_after'])}"
    reload = "reload command run" if result.get("reloaded") else "no reload command"
    verb = "hold" if len(result["written"]) > 1 else "holds"
    return f"{result['action']}: {' and '.join(result['written'])} now {verb} {held}; {reload}"

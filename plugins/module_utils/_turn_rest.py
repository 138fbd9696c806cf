# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TURN REST credentials, RTCIceServer lists, and their renewal in the backend env file.

One implementation for both ends: the ``turn_credentials`` filter plugin
imports it on the controller, and the webrtc_backend_env role copies this
very file to the backend host, where a timer runs

    python3 _turn_rest.py renew --env FILE --ice FILE [--reload-command JSON-ARGV] [--margin SECONDS]

before the credential in the env file expires. Hence standard library
only, no Ansible imports, and Python 3.8 syntax (the oldest target Python
ansible-core 2.19 supports).
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import shlex
import stat
import subprocess
import sys
import tempfile
import time
import unicodedata

MIN_SECRET_LENGTH = 16

# The variables the webrtc_backend_env role writes (templates/webrtc.env.j2).
ENV_STUN_URLS = "WEBRTC_STUN_URLS"
ENV_TURN_URLS = "WEBRTC_TURN_URLS"
ENV_USERNAME = "WEBRTC_TURN_USERNAME"
ENV_CREDENTIAL = "WEBRTC_TURN_CREDENTIAL"
ENV_SECRET = "WEBRTC_TURN_SHARED_SECRET"
ENV_TTL = "WEBRTC_TURN_CREDENTIAL_TTL"

# As plugins/plugin_utils/_values.py: what would end or split a line of the
# env file for one reader or another.
LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"

_ENV_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)\Z", re.DOTALL)


class TurnRestError(ValueError):
    """A value, file or command refused; the message says which, what is wrong and what would do."""


# --------------------------------------------------------------------------
# Credentials (draft-uberti-behave-turn-rest-00)


def _check_secret(secret):
    if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
        # The length or type only: the message must never carry the secret.
        got = len(secret) if isinstance(secret, str) else type(secret).__name__
        raise TurnRestError(f"the shared secret must be a string of at least {MIN_SECRET_LENGTH} characters (got {got})")
    return secret


def _check_ttl(ttl):
    if isinstance(ttl, bool):
        raise TurnRestError(f"ttl must be a positive integer of seconds (got {ttl!r})")
    try:
        ttl = int(ttl)
    except (TypeError, ValueError, OverflowError) as exc:
        raise TurnRestError(f"ttl must be a positive integer of seconds (got {ttl!r})") from exc
    if ttl <= 0:
        raise TurnRestError(f"ttl must be a positive integer of seconds (got {ttl})")
    return ttl


def _check_now(now):
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
    _check_secret(secret)
    ttl = _check_ttl(ttl)
    if user is not None and user != "":
        user = str(user)
        if ":" in user:
            raise TurnRestError(f"user {user!r} must not contain ':' (it separates expiry and user)")
    else:
        user = None
    now = _check_now(now)
    expires_at = now + ttl
    username = f"{expires_at}:{user}" if user else str(expires_at)
    kept = kept_expiry(keep, user, now, ttl)
    if kept is not None:
        username, expires_at = keep, kept
    return {
        "username": username,
        "credential": _credential(secret, username),
        "expires_at": expires_at,
        "ttl": ttl,
    }


def _credential(secret, username):
    digest = hmac.new(secret.encode("utf-8"), username.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


# --------------------------------------------------------------------------
# RTCIceServer lists


def _check_urls(urls, kinds, option):
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
    stun = _check_urls(stun_urls or [], ("stun:", "stuns:"), "stun_urls")
    turn = _check_urls(turn_urls or [], ("turn:", "turns:"), "turn_urls")
    servers = []
    if stun:
        servers.append({"urls": stun})
    if turn and username and credential:
        servers.append({"urls": turn, "username": str(username), "credential": str(credential)})
    return servers


def ice_servers_json(servers):
    """servers as the role writes them: ansible's to_nice_json and a line break, so a rerun finds them unchanged."""
    return json.dumps(servers, indent=4, sort_keys=True, separators=(",", ": ")) + "\n"


# --------------------------------------------------------------------------
# The env file: KEY=VALUE lines, comments and everything else kept as they are


def one_line_problem(text):
    """Why text cannot be the value of a KEY=VALUE line (a line break or control character), or None."""
    for index, char in enumerate(text, 1):
        if char in LINE_BREAKS:
            return f"holds a line break at character {index}"
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            return f"holds the control character U+{ord(char):04X} at character {index}"
    return None


class EnvFile:
    """The lines of an env file; set() changes one KEY=VALUE line and leaves every other byte as it was."""

    def __init__(self, path, text):
        self.path = path
        # Split on LF only and keep a CR before it, so CRLF files and stray
        # characters in other lines come back byte for byte.
        self.lines = text.split("\n")
        self.keys = {}
        for number, line in enumerate(self.lines):
            body = line[:-1] if line.endswith("\r") else line
            match = _ENV_ASSIGNMENT.match(body)
            if match:  # comments and anything else are kept, never read
                self.keys.setdefault(match.group(1), []).append(number)

    @classmethod
    def read(cls, path):
        """The env file at path; TurnRestError when it cannot be read or is not UTF-8."""
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise TurnRestError(f"cannot read the env file {path}: {exc.strerror or exc}") from exc
        try:
            return cls(path, data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise TurnRestError(f"{path} is not UTF-8 text (byte {exc.start + 1}); the webrtc_backend_env role writes UTF-8") from exc

    def _number(self, key):
        numbers = self.keys.get(key, [])
        if len(numbers) > 1:
            shown = ", ".join(str(n + 1) for n in numbers)
            raise TurnRestError(f"{self.path}: {key} is set on several lines ({shown}); it must be set once")
        return numbers[0] if numbers else None

    def get(self, key, default=None):
        """The value of key (the text after the first '='), or default when no line sets it."""
        number = self._number(key)
        if number is None:
            return default
        body = self.lines[number]
        body = body[:-1] if body.endswith("\r") else body
        return body.split("=", 1)[1]

    def set(self, key, value):
        """Replace the value on the line that sets key; that line must exist and value must fit on it."""
        value = str(value)
        problem = one_line_problem(value)
        if problem:
            raise TurnRestError(f"{self.path}: the new value of {key} {problem}; refusing to write it into a line-based file")
        number = self._number(key)
        if number is None:
            raise TurnRestError(f"{self.path} has no {key}= line to renew; the webrtc_backend_env role writes one in rest mode")
        ending = "\r" if self.lines[number].endswith("\r") else ""
        self.lines[number] = f"{key}={value}{ending}"

    def text(self):
        return "\n".join(self.lines)


# --------------------------------------------------------------------------
# Atomic writes


def _fsync_directory(path):
    # Best effort: the rename is done and the new file in place; some file
    # systems refuse to sync a directory, and that must not read as a failure.
    try:
        fd = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomically(path, data, like):
    """Replace path with data in one rename, with the owner, group and mode of the file like.

    The temporary file sits in the same directory (a rename within one file
    system is atomic), is 0600 from its creation (it may hold a secret) until
    it takes like's mode, and is synced before the rename, so a reader or a
    crash sees the old file or the new one, never a part.
    """
    info = os.stat(like)
    directory = os.path.dirname(path) or "."
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            # chown first: it may clear set-id bits that the chmod then restores.
            os.fchown(handle.fileno(), info.st_uid, info.st_gid)
            os.fchmod(handle.fileno(), stat.S_IMODE(info.st_mode))
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    _fsync_directory(path)


def _read_bytes(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise TurnRestError(f"cannot read {path}: {exc.strerror or exc}") from exc


# --------------------------------------------------------------------------
# Renewal


def utc(timestamp):
    """timestamp as 2023-11-15T22:13:20Z."""
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _plan(env_path, ice_path, now, margin):
    """What renew() would do: (result, writes), writes a list of (path, new bytes, old bytes or None)."""
    env = EnvFile.read(env_path)
    result = {"changed": False, "action": "skipped", "env": env_path, "ice": ice_path,
              "username": None, "expires_at": None, "renew_after": None, "written": []}
    secret = env.get(ENV_SECRET, "")
    if not secret:
        return result, []

    try:
        _check_secret(secret)
    except TurnRestError as exc:
        raise TurnRestError(f"{env_path}: {ENV_SECRET}: {exc}") from exc
    try:
        ttl = _check_ttl(env.get(ENV_TTL))
    except TurnRestError as exc:
        raise TurnRestError(f"{env_path}: {ENV_TTL}: {exc}") from exc
    try:
        stun = _check_urls(env.get(ENV_STUN_URLS, ""), ("stun:", "stuns:"), ENV_STUN_URLS)
        turn = _check_urls(env.get(ENV_TURN_URLS, ""), ("turn:", "turns:"), ENV_TURN_URLS)
    except TurnRestError as exc:
        raise TurnRestError(f"{env_path}: {exc}") from exc
    now = _check_now(now)
    if margin is None:
        margin = ttl // 2
    elif isinstance(margin, bool) or not isinstance(margin, int) or not 0 <= margin <= ttl:
        raise TurnRestError(f"margin must be a whole number of seconds from 0 to the TTL in {env_path} ({ttl}) (got {margin!r})")
    current = env.get(ENV_USERNAME)
    if current is None:
        raise TurnRestError(f"{env_path} has {ENV_SECRET} but no {ENV_USERNAME}= line; the webrtc_backend_env role writes both in rest mode")
    # The role mints without a user part (username = expiry), and so does
    # this: a username the role would replace at its next run is no renewal.
    kept = kept_expiry(current, None, now, ttl, margin)
    if kept is None:
        cred = mint(secret, ttl, now=now)
        username, expires_at = cred["username"], cred["expires_at"]
    else:
        username, expires_at = current, kept
    credential = _credential(secret, username)
    env.set(ENV_USERNAME, username)
    env.set(ENV_CREDENTIAL, credential)
    ice = ice_servers_json(ice_servers(stun, turn, username, credential))
    writes = []
    written = []
    for path, data in ((env_path, env.text().encode("utf-8")), (ice_path, ice.encode("utf-8"))):
        # The real path: a rename onto a symbolic link would replace the link.
        real = os.path.realpath(path)
        old = _read_bytes(real)
        if old != data:
            writes.append((real, data, old))
            written.append(path)
    result.update({
        "changed": bool(writes),
        # "repaired": same username, but a credential or iceServers file that
        # did not match it (a changed secret, a hand edit) was rewritten.
        "action": "renewed" if kept is None else ("repaired" if writes else "kept"),
        "username": username,
        "expires_at": expires_at,
        "renew_after": expires_at - margin,
        "written": written,
    })
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
            status = subprocess.run(reload_command, stdin=subprocess.DEVNULL, capture_output=True, check=False).returncode
            problem = None if status == 0 else f"exited with status {status}"
        except OSError as exc:
            problem = f"could not be started ({exc.strerror or exc})"
        if problem:
            failed = _restore(writes)
            if failed:
                outcome = (f"could not put back the previous {' and '.join(failed)}: the backend still runs with the previous "
                           f"credential; run the reload command by hand")
            else:
                outcome = f"put back the previous {' and '.join(result['written'])}, so the next run renews and reloads again"
            raise TurnRestError(f"the reload command {json.dumps(reload_command)} {problem} (its output is not shown; "
                                f"run it by hand to see why); {outcome}")
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


# --------------------------------------------------------------------------
# Command line


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and status 1, like every other failure."""

    def error(self, message):
        self.exit(1, f"{self.prog}: {message} (see --help)\n")


def _reload_command(text):
    try:
        argv = json.loads(text)
    except ValueError:
        argv = None
    if not isinstance(argv, list) or not argv or not all(isinstance(arg, str) and arg for arg in argv):
        raise argparse.ArgumentTypeError(
            'must be a JSON list of non-empty strings, the command and its arguments, such as \'["systemctl", "reload", "backend"]\'')
    return argv


def _margin(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number of seconds, 0 or more (got {text!r})")
    return value


def _read_config(path):
    """The renewal settings the webrtc_backend_env role writes (JSON): env, ice, reload_command_line, margin.

    A file rather than arguments, so that nothing of the reload command has
    to survive systemd's ExecStart= quoting; reload_command_line is split
    the way ansible.builtin.command splits it (shlex, no shell).
    """
    try:
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError) as exc:
        raise TurnRestError(f"cannot read the renewal settings {path}: {getattr(exc, 'strerror', None) or exc}") from exc
    if not isinstance(config, dict) or not all(isinstance(config.get(key), str) and config[key] for key in ("env", "ice")):
        raise TurnRestError(f"the renewal settings {path} must be a JSON object with the paths \"env\" and \"ice\"")
    line = config.get("reload_command_line") or ""
    try:
        reload_command = shlex.split(line) if isinstance(line, str) else None
    except ValueError as exc:
        raise TurnRestError(f"reload_command_line in {path} is not a command line ({exc})") from exc
    if reload_command is None:
        raise TurnRestError(f"reload_command_line in {path} must be a string, the command and its arguments")
    margin = config.get("margin")
    if margin is not None and (isinstance(margin, bool) or not isinstance(margin, int) or margin < 0):
        raise TurnRestError(f"margin in {path} must be a whole number of seconds, 0 or more (got {margin!r})")
    return config["env"], config["ice"], reload_command or None, margin


def main(argv=None, now=None):
    """The command line; returns the exit status. now is for tests (a Unix timestamp instead of the clock)."""
    parser = _Parser(prog=os.path.basename(sys.argv[0]) or "_turn_rest.py",
                     description="TURN REST credentials of the veza.coturn collection.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    renew_parser = commands.add_parser(
        "renew", help="renew the credential in the backend env file when it is due",
        description="Renew the TURN REST credential in the env file and the iceServers JSON when less than "
                    "--margin seconds (default half the TTL) are left; reload the backend when they changed. "
                    "Prints one line: skipped, kept, renewed or repaired.")
    renew_parser.add_argument("--config", metavar="FILE",
                              help="JSON settings written by the webrtc_backend_env role (env, ice, reload_command_line, "
                                   "margin), instead of the options below")
    renew_parser.add_argument("--env", metavar="FILE", help="the env file (WEBRTC_TURN_* lines)")
    renew_parser.add_argument("--ice", metavar="FILE", help="the iceServers JSON file")
    renew_parser.add_argument("--reload-command", type=_reload_command, metavar="JSON-ARGV",
                              help='run when a file changed, without a shell, e.g. \'["systemctl", "reload", "backend"]\'')
    renew_parser.add_argument("--margin", type=_margin, metavar="SECONDS",
                              help="renew when this many seconds or fewer are left (default: half the TTL)")
    args = parser.parse_args(argv)
    if bool(args.config) == bool(args.env or args.ice) or not (args.config or (args.env and args.ice)):
        parser.error("renew takes either --config FILE or both --env FILE and --ice FILE")
    try:
        if args.config:
            env, ice, reload_command, margin = _read_config(args.config)
        else:
            env, ice, reload_command, margin = args.env, args.ice, args.reload_command, args.margin
        result = renew_and_reload(env, ice, reload_command, now=now, margin=margin)
    except TurnRestError as exc:
        sys.stderr.write(f"{parser.prog} renew: {exc}\n")
        return 1
    sys.stdout.write(describe(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TURN REST credential code shared by the filter plugin and the backend host's renewal.

Credentials are checked against an HMAC-SHA1 computed here directly and a
vector computed outside the code (openssl). Files the renewal works on are
written here the way the webrtc_backend_env role writes them: its template
(mirrored by role_env) and ansible's own to_nice_json for the iceServers
JSON, so "a rerun of the role after a renewal changes nothing" is checked
against ansible's output, not this module's. The command line is run as
``python -I -S _turn_rest.py`` (no site-packages, so no Ansible) with the
real clock; everything else passes ``now``.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import shlex
import subprocess
import sys
import time

import pytest

from ansible.plugins.filter.core import to_nice_json

from ansible_collections.veza.coturn.plugins.filter import turn_credentials as tc
from ansible_collections.veza.coturn.plugins.module_utils import _turn_rest as tr

SECRET = "0123456789abcdef-backend-secret"
NOW = 1_700_000_000
TTL = 600
STUN = ("stun:turn.example.org:3478",)
TURN = ("turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349?transport=tcp")
SCRIPT = tr.__file__


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


def snapshot(*paths):
    return [(p.read_bytes(), os.stat(p).st_ino, os.stat(p).st_mtime_ns) for p in paths]


# --------------------------------------------------------------------------
# mint


def test_mint_known_vector():
    # echo -n 1700086400 | openssl dgst -sha1 -hmac 0123456789abcdef -binary | base64
    assert tr.mint("0123456789abcdef", 86400, now=NOW) == {
        "username": "1700086400", "credential": "p5nNDMHFP29TM5+fs/6iHt7OV2o=", "expires_at": 1700086400, "ttl": 86400}


@pytest.mark.parametrize("user", [None, "alice"])
def test_mint_is_hmac_sha1_of_username(user):
    cred = tr.mint(SECRET, TTL, user=user, now=NOW + 0.9)
    assert cred["username"] == (f"{NOW + TTL}:alice" if user else str(NOW + TTL))
    assert cred["credential"] == hmac_b64(SECRET, cred["username"])


def test_mint_is_what_the_filter_returns():
    for keep in (None, str(NOW + 400), str(NOW + 300)):
        assert tr.mint(SECRET, TTL, now=NOW, keep=keep) == tc.turn_rest_credentials(SECRET, ttl=TTL, now=NOW, keep=keep)


def test_filter_runs_the_shared_code(monkeypatch):
    monkeypatch.setattr(tr, "mint", lambda *args, **kwargs: {"from": "module_utils"})
    assert tc.turn_rest_credentials(SECRET, now=NOW) == {"from": "module_utils"}


@pytest.mark.parametrize("call, message", [
    (lambda: tr.mint("short", TTL), "the shared secret must be a string of at least 16 characters (got 5)"),
    (lambda: tr.mint(SECRET, 0), "ttl must be a positive integer of seconds (got 0)"),
    (lambda: tr.mint(SECRET, "x"), "ttl must be a positive integer of seconds (got 'x')"),
    (lambda: tr.mint(SECRET, TTL, user="a:b"), "user 'a:b' must not contain ':' (it separates expiry and user)"),
    (lambda: tr.mint(SECRET, TTL, now="x"), "now must be a Unix timestamp (got 'x')"),
    (lambda: tr.ice_servers(["http://x"]), "stun_urls entry 'http://x' is not a URL starting with stun: or stuns:"),
    (lambda: tr.ice_servers([], 42), "turn_urls must be a list of URLs (got int)"),
])
def test_errors_are_value_errors_without_the_filter_prefix(call, message):
    with pytest.raises(tr.TurnRestError) as exc:
        call()
    assert isinstance(exc.value, ValueError)
    assert str(exc.value) == message


# --------------------------------------------------------------------------
# the keep rule


@pytest.mark.parametrize("ttl, left, kept", [
    (600, 600, True), (600, 301, True), (600, 300, False), (600, 0, False), (600, 601, False),
    # odd TTL: half is rounded down, as the role has always done
    (601, 301, True), (601, 300, False),
])
def test_keep_boundaries(ttl, left, kept):
    assert tr.kept_expiry(str(NOW + left), None, NOW, ttl) == (NOW + left if kept else None)
    cred = tr.mint(SECRET, ttl, now=NOW, keep=str(NOW + left))
    assert cred["username"] == (str(NOW + left) if kept else str(NOW + ttl))


@pytest.mark.parametrize("margin, left, kept", [(100, 101, True), (100, 100, False), (0, 1, True), (0, 0, False), (600, 600, False)])
def test_keep_with_a_margin(margin, left, kept):
    assert tr.kept_expiry(str(NOW + left), None, NOW, 600, margin) == (NOW + left if kept else None)


@pytest.mark.parametrize("keep", [f"{NOW + 500}:alice", "x", "", None, NOW + 500])
def test_keep_refuses_other_users_and_garbage(keep):
    assert tr.kept_expiry(keep, None, NOW, 600) is None


# --------------------------------------------------------------------------
# iceServers JSON


def test_ice_json_is_ansibles_to_nice_json():
    servers = tr.ice_servers(STUN, TURN, "1700000600", "a/b+c=")
    assert tr.ice_servers_json(servers) == to_nice_json(servers) + "\n"
    assert tr.ice_servers_json([]) == to_nice_json([]) + "\n"


# --------------------------------------------------------------------------
# renew: when


def test_no_change_while_over_half_the_ttl_is_left(deployed):
    env, ice = deployed
    before = snapshot(env, ice)
    result = tr.renew(str(env), str(ice), now=NOW + TTL // 2 - 1)  # 301 s of 600 left
    assert result["changed"] is False and result["action"] == "kept"
    assert result["username"] == str(NOW + TTL) and result["expires_at"] == NOW + TTL
    assert result["renew_after"] == NOW + TTL // 2
    assert snapshot(env, ice) == before  # same bytes, same inode: not even rewritten


def test_renewal_at_half_the_ttl(deployed):
    env, ice = deployed
    old_env = env.read_text()
    now = NOW + TTL // 2  # 300 s of 600 left
    result = tr.renew(str(env), str(ice), now=now)
    username = str(now + TTL)
    credential = hmac_b64(SECRET, username)
    assert result == {"changed": True, "action": "renewed", "env": str(env), "ice": str(ice), "username": username,
                      "expires_at": now + TTL, "renew_after": now + TTL // 2, "written": [str(env), str(ice)]}
    assert env.read_text() == role_env(username, credential)
    assert ice.read_text() == role_ice(username, credential)
    # only the username and credential lines changed
    changed = [i for i, (a, b) in enumerate(zip(old_env.split("\n"), env.read_text().split("\n"))) if a != b]
    assert [env.read_text().split("\n")[i].split("=")[0] for i in changed] == ["WEBRTC_TURN_USERNAME", "WEBRTC_TURN_CREDENTIAL"]
    # and it is kept from then on
    assert tr.renew(str(env), str(ice), now=now + 1)["changed"] is False


@pytest.mark.parametrize("later", [1, 200])
def test_a_rerun_of_the_role_after_a_renewal_changes_nothing(deployed, later):
    env, ice = deployed
    now = NOW + 500
    tr.renew(str(env), str(ice), now=now)
    env_text, ice_text = role_rerun(env.read_text(), now + later)
    assert env.read_text() == env_text
    assert ice.read_text() == ice_text


def test_a_renewal_after_expiry(deployed):
    env, ice = deployed
    result = tr.renew(str(env), str(ice), now=NOW + 10 * TTL)
    assert result["action"] == "renewed" and result["username"] == str(NOW + 11 * TTL)


def test_margin_forces_an_earlier_renewal(deployed):
    env, ice = deployed
    assert tr.renew(str(env), str(ice), now=NOW, margin=TTL)["action"] == "renewed"


@pytest.mark.parametrize("margin", [-1, TTL + 1, 1.5, True, "60"])
def test_bad_margin(deployed, margin):
    env, ice = deployed
    with pytest.raises(tr.TurnRestError, match=r"margin must be a whole number of seconds from 0 to the TTL in .*webrtc.env \(600\)"):
        tr.renew(str(env), str(ice), now=NOW, margin=margin)


def test_a_credential_of_another_secret_is_repaired(deployed):
    env, ice = deployed
    env.write_text(env.read_text().replace(SECRET, "another-secret-0123456789"))
    result = tr.renew(str(env), str(ice), now=NOW + 1)
    assert result["action"] == "repaired" and result["username"] == str(NOW + TTL)
    assert f"WEBRTC_TURN_CREDENTIAL={hmac_b64('another-secret-0123456789', str(NOW + TTL))}\n" in env.read_text()
    assert result["written"] == [str(env), str(ice)]


def test_a_username_with_a_user_part_is_replaced_as_the_role_would(deployed):
    env, ice = deployed
    env.write_text(env.read_text().replace(f"USERNAME={NOW + TTL}", f"USERNAME={NOW + TTL}:alice"))
    assert tr.renew(str(env), str(ice), now=NOW)["username"] == str(NOW + TTL)


# --------------------------------------------------------------------------
# renew: files


def test_every_other_byte_stays(tmp_path):
    env = tmp_path / "webrtc.env"
    ice = tmp_path / "ice.json"
    text = ("# comment with WEBRTC_TURN_USERNAME=1 in it\r\n\r\n  # indented\n"
            "WEBRTC_STUN_URLS=stun:a:3478\r\n"
            "export OTHER=x\nweird line without equals\nOTHER_KEY=with=equals and spaces \n"
            "WEBRTC_TURN_USERNAME=123\r\n"
            "WEBRTC_TURN_URLS=turn:a:3478\n"
            "WEBRTC_TURN_CREDENTIAL=\n"
            "WEBRTC_TURN_SHARED_SECRET=" + SECRET + "\nWEBRTC_TURN_CREDENTIAL_TTL=600")  # no final line break
    env.write_bytes(text.encode())
    tr.renew(str(env), str(ice), now=NOW)
    want = text.replace("USERNAME=123\r\n", f"USERNAME={NOW + TTL}\r\n").replace(
        "CREDENTIAL=\n", f"CREDENTIAL={hmac_b64(SECRET, str(NOW + TTL))}\n")
    assert env.read_bytes() == want.encode()
    assert json.loads(ice.read_text())[1]["urls"] == ["turn:a:3478"]


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to other users needs root")
def test_owner_group_and_mode_are_kept(deployed):
    env, ice = deployed
    os.chown(env, 4321, 5432)
    os.chmod(env, 0o640)
    os.chown(ice, 4322, 5433)
    os.chmod(ice, 0o604)
    tr.renew(str(env), str(ice), now=NOW + TTL)
    assert (env.stat().st_uid, env.stat().st_gid, env.stat().st_mode & 0o7777) == (4321, 5432, 0o640)
    assert (ice.stat().st_uid, ice.stat().st_gid, ice.stat().st_mode & 0o7777) == (4322, 5433, 0o604)


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to other users needs root")
def test_a_missing_ice_file_is_created_like_the_env_file(deployed):
    env, ice = deployed
    os.chown(env, 4321, 5432)
    ice.unlink()
    result = tr.renew(str(env), str(ice), now=NOW + 1)
    assert result["action"] == "repaired" and result["written"] == [str(ice)]
    assert (ice.stat().st_uid, ice.stat().st_gid, ice.stat().st_mode & 0o7777) == (4321, 5432, 0o600)
    assert ice.read_text() == role_ice(str(NOW + TTL), hmac_b64(SECRET, str(NOW + TTL)))


def test_a_symlinked_env_file_stays_a_link(deployed, tmp_path):
    env, ice = deployed
    link = tmp_path / "link.env"
    link.symlink_to(env.name)
    tr.renew(str(link), str(ice), now=NOW + TTL)
    assert link.is_symlink() and f"USERNAME={NOW + 2 * TTL}\n" in env.read_text()


def test_no_temporary_files_are_left(deployed, tmp_path):
    env, ice = deployed
    tr.renew(str(env), str(ice), now=NOW + TTL)
    assert sorted(os.listdir(tmp_path)) == ["ice_servers.json", "webrtc.env"]


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failure_while_writing_leaves_the_old_file(deployed, tmp_path, monkeypatch, failing):
    env, ice = deployed
    before = snapshot(env, ice)

    def boom(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tr.os, failing, boom)
    with pytest.raises(tr.TurnRestError, match=r"cannot write .*webrtc.env: No space left on device; no file was changed"):
        tr.renew(str(env), str(ice), now=NOW + TTL)
    monkeypatch.undo()
    assert snapshot(env, ice) == before
    assert sorted(os.listdir(tmp_path)) == ["ice_servers.json", "webrtc.env"]


def test_a_failure_on_the_second_file_puts_the_first_back(deployed, tmp_path, monkeypatch):
    env, ice = deployed
    before = [env.read_bytes(), ice.read_bytes()]
    replace = os.replace

    def replace_but_not_ice(source, target):
        if str(target).endswith("ice_servers.json"):
            raise OSError(13, "Permission denied")
        replace(source, target)

    monkeypatch.setattr(tr.os, "replace", replace_but_not_ice)
    with pytest.raises(tr.TurnRestError, match=r"cannot write .*ice_servers.json: Permission denied; no file was changed"):
        tr.renew(str(env), str(ice), now=NOW + TTL)
    monkeypatch.undo()
    assert [env.read_bytes(), ice.read_bytes()] == before
    assert sorted(os.listdir(tmp_path)) == ["ice_servers.json", "webrtc.env"]


# --------------------------------------------------------------------------
# renew: what it leaves alone and what it refuses


STATIC_ENV = ("#\n# Ansible managed\n#\nWEBRTC_STUN_URLS=stun:a:3478\nWEBRTC_TURN_URLS=turn:a:3478\n"
              "WEBRTC_TURN_USERNAME=backend\nWEBRTC_TURN_CREDENTIAL=long-term-password\n")
OFF_ENV = ("#\n# Ansible managed\n#\nWEBRTC_STUN_URLS=stun:a:3478\n"
           "# TURN is off: empty TURN variables make the backend serve STUN only.\n"
           "WEBRTC_TURN_URLS=\nWEBRTC_TURN_USERNAME=\nWEBRTC_TURN_CREDENTIAL=\n")


@pytest.mark.parametrize("text", [STATIC_ENV, OFF_ENV, OFF_ENV + "WEBRTC_TURN_SHARED_SECRET=\n"])
def test_static_and_turn_off_env_files_are_left_alone(tmp_path, text):
    env = tmp_path / "webrtc.env"
    ice = tmp_path / "ice.json"
    env.write_text(text)
    ice.write_text("[]\n")
    before = snapshot(env, ice)
    result = tr.renew(str(env), str(ice), now=NOW)
    assert result["changed"] is False and result["action"] == "skipped"
    assert snapshot(env, ice) == before


def test_static_env_without_ice_file_creates_nothing(tmp_path):
    env = tmp_path / "webrtc.env"
    env.write_text(STATIC_ENV)
    tr.renew(str(env), str(tmp_path / "ice.json"), now=NOW)
    assert os.listdir(tmp_path) == ["webrtc.env"]


@pytest.mark.parametrize("value, problem", [
    ("a\nb", "holds a line break at character 2"),
    ("ab\r", "holds a line break at character 3"),
    ("a\u2028", "holds a line break at character 2"),
    ("\x1bx", "holds the control character U+001B at character 1"),
    ("a\x00", "holds the control character U+0000 at character 2"),
    ("a\u200b", "holds the control character U+200B at character 2"),
])
def test_a_value_that_would_split_a_line_is_refused(value, problem):
    env = tr.EnvFile("/etc/veza/webrtc.env", "WEBRTC_TURN_USERNAME=1\n")
    with pytest.raises(tr.TurnRestError) as exc:
        env.set("WEBRTC_TURN_USERNAME", value)
    assert str(exc.value) == (f"/etc/veza/webrtc.env: the new value of WEBRTC_TURN_USERNAME {problem}; "
                              "refusing to write it into a line-based file")
    assert env.text() == "WEBRTC_TURN_USERNAME=1\n"


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace(SECRET, "short-secret"),
     r"webrtc.env: WEBRTC_TURN_SHARED_SECRET: the shared secret must be a string of at least 16 characters \(got 12\)$"),
    (lambda t: t.replace("TTL=600", "TTL=ten minutes"),
     r"webrtc.env: WEBRTC_TURN_CREDENTIAL_TTL: ttl must be a positive integer of seconds \(got 'ten minutes'\)$"),
    (lambda t: t.replace("TTL=600\n", ""),
     r"webrtc.env: WEBRTC_TURN_CREDENTIAL_TTL: ttl must be a positive integer of seconds \(got None\)$"),
    (lambda t: re.sub("(?m)^WEBRTC_TURN_USERNAME=.*\n", "", t),
     r"webrtc.env has WEBRTC_TURN_SHARED_SECRET but no WEBRTC_TURN_USERNAME= line; the webrtc_backend_env role writes both"),
    (lambda t: re.sub("(?m)^WEBRTC_TURN_CREDENTIAL=.*\n", "", t),
     r"webrtc.env has no WEBRTC_TURN_CREDENTIAL= line to renew; the webrtc_backend_env role writes one in rest mode$"),
    (lambda t: t + "WEBRTC_TURN_USERNAME=1\n",
     r"webrtc.env: WEBRTC_TURN_USERNAME is set on several lines \(6, 11\); it must be set once$"),
    (lambda t: t.replace("WEBRTC_STUN_URLS=stun:", "WEBRTC_STUN_URLS=http:"),
     r"webrtc.env: WEBRTC_STUN_URLS entry 'http:turn.example.org:3478' is not a URL starting with stun: or stuns:$"),
])
def test_a_bad_env_file_is_refused_and_left_alone(deployed, edit, message):
    env, ice = deployed
    env.write_text(edit(env.read_text()))
    before = snapshot(env, ice)
    with pytest.raises(tr.TurnRestError, match=message) as exc:
        tr.renew(str(env), str(ice), now=NOW + TTL)
    assert SECRET not in str(exc.value) and "short-secret" not in str(exc.value)
    assert snapshot(env, ice) == before


def test_an_env_file_that_is_not_utf8_is_refused(tmp_path):
    env = tmp_path / "webrtc.env"
    env.write_bytes(b"WEBRTC_TURN_USERNAME=\xff\n")
    with pytest.raises(tr.TurnRestError, match=r"webrtc.env is not UTF-8 text \(byte 22\)"):
        tr.renew(str(env), str(tmp_path / "ice.json"), now=NOW)


def test_a_missing_env_file_is_named(tmp_path):
    with pytest.raises(tr.TurnRestError, match=r"cannot read the env file .*/nope.env: No such file or directory"):
        tr.renew(str(tmp_path / "nope.env"), str(tmp_path / "ice.json"), now=NOW)


# --------------------------------------------------------------------------
# the command line, as the backend host's timer runs it


def run_cli(*args):
    # -I -S: no site-packages, no PYTHONPATH: the file runs on its own, as on a host without Ansible.
    done = subprocess.run([sys.executable, "-I", "-S", SCRIPT, *args], capture_output=True, text=True, check=False, timeout=60)
    assert SECRET not in done.stdout + done.stderr
    return done


def appender(log):
    return json.dumps([sys.executable, "-c", "import sys; open(sys.argv[1], 'a').write('reload\\n')", str(log)])


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


def credentials_in(env):
    return [line.split("=", 1)[1] for line in env.read_text().splitlines() if line.startswith("WEBRTC_TURN_CREDENTIAL=")]


def test_cli_reloads_once_per_change(due, tmp_path):
    env, ice = due
    log = tmp_path / "reloads.log"
    old_credential = credentials_in(env)
    first = run_cli("renew", "--env", str(env), "--ice", str(ice), "--reload-command", appender(log))
    assert first.returncode == 0 and first.stderr == ""
    username = re.search(r"(?m)^WEBRTC_TURN_USERNAME=(.*)$", env.read_text()).group(1)
    assert first.stdout == (f"renewed: {env} and {ice} now hold username {username}, expires {utc(int(username))}; "
                            "reload command run\n")
    for credential in old_credential + credentials_in(env):
        assert credential not in first.stdout + first.stderr
    assert log.read_text() == "reload\n"
    second = run_cli("renew", "--env", str(env), "--ice", str(ice), "--reload-command", appender(log))
    assert second.returncode == 0 and second.stderr == ""
    assert second.stdout == (f"kept: {env} holds username {username}, expires {utc(int(username))}; "
                             f"renewal due from {utc(int(username) - 43200)}\n")
    assert log.read_text() == "reload\n"
    assert sorted(os.listdir(tmp_path)) == ["ice_servers.json", "reloads.log", "webrtc.env"]


def test_cli_without_reload_command(due):
    env, ice = due
    done = run_cli("renew", "--env", str(env), "--ice", str(ice))
    assert done.returncode == 0 and done.stdout.startswith("renewed: ") and done.stdout.endswith("; no reload command\n")


def test_cli_failed_reload_puts_the_files_back_and_the_next_run_retries(due, tmp_path):
    env, ice = due
    before = [env.read_bytes(), ice.read_bytes()]
    # a reload that fails after printing the env file: its output must not reach ours
    failing = json.dumps([sys.executable, "-c", "import sys; print(open(sys.argv[1]).read()); sys.exit(3)", str(env)])
    done = run_cli("renew", "--env", str(env), "--ice", str(ice), "--reload-command", failing)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "exited with status 3" in done.stderr and "put back the previous" in done.stderr
    assert [env.read_bytes(), ice.read_bytes()] == before
    log = tmp_path / "reloads.log"
    again = run_cli("renew", "--env", str(env), "--ice", str(ice), "--reload-command", appender(log))
    assert again.returncode == 0 and again.stdout.startswith("renewed: ") and log.read_text() == "reload\n"


def test_cli_reload_command_that_cannot_start(due):
    env, ice = due
    before = [env.read_bytes(), ice.read_bytes()]
    done = run_cli("renew", "--env", str(env), "--ice", str(ice), "--reload-command", '["/nonexistent/reload"]')
    assert done.returncode == 1 and "could not be started (No such file or directory)" in done.stderr
    assert [env.read_bytes(), ice.read_bytes()] == before


@pytest.mark.parametrize("command", ["systemctl reload backend", "[]", '[""]', '["a", 1]', '"x"', "{}"])
def test_cli_refuses_a_reload_command_that_is_not_an_argv(due, command):
    env, ice = due
    before = snapshot(env, ice)
    done = run_cli("renew", "--env", str(env), "--ice", str(ice), "--reload-command", command)
    assert done.returncode == 1 and done.stdout == "" and done.stderr.count("\n") == 1
    assert "argument --reload-command: must be a JSON list of non-empty strings" in done.stderr
    assert snapshot(env, ice) == before


@pytest.mark.parametrize("text", [STATIC_ENV, OFF_ENV])
def test_cli_static_and_turn_off_are_skipped_without_reload(tmp_path, text):
    env = tmp_path / "webrtc.env"
    env.write_text(text)
    log = tmp_path / "reloads.log"
    done = run_cli("renew", "--env", str(env), "--ice", str(tmp_path / "ice.json"), "--reload-command", appender(log))
    assert done.returncode == 0
    assert done.stdout == (f"skipped: {env} has no WEBRTC_TURN_SHARED_SECRET (static credentials or TURN off); "
                           "nothing to renew\n")
    assert env.read_text() == text and not log.exists() and not (tmp_path / "ice.json").exists()


@pytest.mark.parametrize("args, message", [
    (["renew", "--env", "/nonexistent/webrtc.env", "--ice", "/nonexistent/ice.json"],
     "renew: cannot read the env file /nonexistent/webrtc.env: No such file or directory"),
    (["renew", "--env", "x"], "renew takes either --config FILE or both --env FILE and --ice FILE"),
    (["renew", "--config", "c.json", "--env", "x", "--ice", "y"], "renew takes either --config FILE or both --env FILE and --ice FILE"),
    (["renew", "--config", "/nonexistent/renew.json"],
     "renew: cannot read the renewal settings /nonexistent/renew.json: No such file or directory"),
    ([], "the following arguments are required: COMMAND"),
    (["renew", "--env", "x", "--ice", "y", "--margin", "-5"], "argument --margin: must be a whole number of seconds, 0 or more"),
])
def test_cli_failures_are_one_line_and_status_1(args, message):
    done = run_cli(*args)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and message in done.stderr


def test_cli_bad_secret_is_not_echoed(due):
    env, ice = due
    env.write_text(env.read_text().replace(SECRET, "hunter2-short"))
    done = run_cli("renew", "--env", str(env), "--ice", str(ice))
    assert done.returncode == 1
    assert "WEBRTC_TURN_SHARED_SECRET: the shared secret must be a string of at least 16 characters (got 13)" in done.stderr
    assert "hunter2" not in done.stderr


def test_main_in_process_with_a_fixed_clock(deployed, capsys):
    env, ice = deployed
    assert tr.main(["renew", "--env", str(env), "--ice", str(ice), "--margin", "600"], now=NOW + 100) == 0
    out = capsys.readouterr()
    assert out.out == (f"renewed: {env} and {ice} now hold username {NOW + 700}, expires 2023-11-14T22:25:00Z; "
                       "no reload command\n")
    assert out.err == ""


def write_config(path, **config):
    path.write_text(json.dumps(config))
    return str(path)


def test_cli_config_file_splits_the_reload_command_line_without_a_shell(due, tmp_path):
    env, ice = due
    log = tmp_path / "reloads.log"
    # A ';' and a quoted argument: shlex keeps both as arguments, no shell runs.
    line = " ".join(shlex.quote(arg) for arg in json.loads(appender(log))) + " ';' 'two words'"
    config = write_config(tmp_path / "renew.json", env=str(env), ice=str(ice), reload_command_line=line)
    first = run_cli("renew", "--config", config)
    assert first.returncode == 0 and first.stdout.startswith("renewed: ") and first.stdout.endswith("reload command run\n")
    assert log.read_text() == "reload\n"
    second = run_cli("renew", "--config", config)
    assert second.returncode == 0 and second.stdout.startswith("kept: ") and log.read_text() == "reload\n"


@pytest.mark.parametrize("config, message", [
    ({"env": "x"}, 'must be a JSON object with the paths "env" and "ice"'),
    ({"env": "x", "ice": "y", "reload_command_line": "a 'b"}, "reload_command_line in"),
    ({"env": "x", "ice": "y", "reload_command_line": ["a"]}, "reload_command_line in"),
    ({"env": "x", "ice": "y", "margin": -1}, "margin in"),
])
def test_cli_config_file_refused(tmp_path, config, message):
    done = run_cli("renew", "--config", write_config(tmp_path / "renew.json", **config))
    assert done.returncode == 1 and done.stdout == "" and done.stderr.count("\n") == 1 and message in done.stderr

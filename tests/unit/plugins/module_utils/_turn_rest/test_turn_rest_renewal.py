# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""renew(): when it renews, the files it writes (atomically, every other byte kept), and what it refuses.

The files it works on are written here the way the webrtc_backend_env role
writes them (turn_rest_files), so "a rerun of the role after a renewal
changes nothing" is checked against ansible's output, not this package's.
Everything passes ``now``.
"""

from __future__ import annotations

import json
import os
import re

import pytest

from ansible_collections.veza.coturn.plugins.module_utils import _turn_rest as tr
from ansible_collections.veza.coturn.plugins.module_utils._turn_rest import atomic

from turn_rest_files import NOW, OFF_ENV, SECRET, STATIC_ENV, TTL, hmac_b64, role_env, role_ice, role_rerun, snapshot

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
    assert result == {
        "changed": True,
        "action": "renewed",
        "env": str(env),
        "ice": str(ice),
        "username": username,
        "expires_at": now + TTL,
        "renew_after": now + TTL // 2,
        "written": [str(env), str(ice)],
    }
    assert env.read_text() == role_env(username, credential)
    assert ice.read_text() == role_ice(username, credential)
    # only the username and credential lines changed
    changed = [i for i, (a, b) in enumerate(zip(old_env.split("\n"), env.read_text().split("\n"))) if a != b]
    assert [env.read_text().split("\n")[i].split("=")[0] for i in changed] == [
        "WEBRTC_TURN_USERNAME",
        "WEBRTC_TURN_CREDENTIAL",
    ]
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
    with pytest.raises(
        tr.TurnRestError, match=r"margin must be a whole number of seconds from 0 to the TTL in .*webrtc.env \(600\)"
    ):
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
    text = (
        "# comment with WEBRTC_TURN_USERNAME=1 in it\r\n\r\n  # indented\n"
        "WEBRTC_STUN_URLS=stun:a:3478\r\n"
        "export OTHER=x\nweird line without equals\nOTHER_KEY=with=equals and spaces \n"
        "WEBRTC_TURN_USERNAME=123\r\n"
        "WEBRTC_TURN_URLS=turn:a:3478\n"
        "WEBRTC_TURN_CREDENTIAL=\n"
        "WEBRTC_TURN_SHARED_SECRET=" + SECRET + "\nWEBRTC_TURN_CREDENTIAL_TTL=600"
    )  # no final line break
    env.write_bytes(text.encode())
    tr.renew(str(env), str(ice), now=NOW)
    want = text.replace("USERNAME=123\r\n", f"USERNAME={NOW + TTL}\r\n").replace(
        "CREDENTIAL=\n", f"CREDENTIAL={hmac_b64(SECRET, str(NOW + TTL))}\n"
    )
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

    monkeypatch.setattr(atomic.os, failing, boom)
    with pytest.raises(
        tr.TurnRestError, match=r"cannot write .*webrtc.env: No space left on device; no file was changed"
    ):
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

    monkeypatch.setattr(atomic.os, "replace", replace_but_not_ice)
    with pytest.raises(
        tr.TurnRestError, match=r"cannot write .*ice_servers.json: Permission denied; no file was changed"
    ):
        tr.renew(str(env), str(ice), now=NOW + TTL)
    monkeypatch.undo()
    assert [env.read_bytes(), ice.read_bytes()] == before
    assert sorted(os.listdir(tmp_path)) == ["ice_servers.json", "webrtc.env"]


# --------------------------------------------------------------------------
# renew: what it leaves alone and what it refuses


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


@pytest.mark.parametrize(
    "value, problem",
    [
        ("a\nb", "holds a line break at character 2"),
        ("ab\r", "holds a line break at character 3"),
        ("a\u2028", "holds a line break at character 2"),
        ("\x1bx", "holds the control character U+001B at character 1"),
        ("a\x00", "holds the control character U+0000 at character 2"),
        ("a\u200b", "holds the control character U+200B at character 2"),
    ],
)
def test_a_value_that_would_split_a_line_is_refused(value, problem):
    env = tr.EnvFile("/etc/veza/webrtc.env", "WEBRTC_TURN_USERNAME=1\n")
    with pytest.raises(tr.TurnRestError) as exc:
        env.set("WEBRTC_TURN_USERNAME", value)
    assert str(exc.value) == (
        f"/etc/veza/webrtc.env: the new value of WEBRTC_TURN_USERNAME {problem}; "
        "refusing to write it into a line-based file"
    )
    assert env.text() == "WEBRTC_TURN_USERNAME=1\n"


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda t: t.replace(SECRET, "short-secret"),
            r"webrtc.env: WEBRTC_TURN_SHARED_SECRET: the shared secret must be a string of at least 16 characters \(got 12\)$",
        ),
        (
            lambda t: t.replace("TTL=600", "TTL=ten minutes"),
            r"webrtc.env: WEBRTC_TURN_CREDENTIAL_TTL: ttl must be a positive integer of seconds \(got 'ten minutes'\)$",
        ),
        (
            lambda t: t.replace("TTL=600\n", ""),
            r"webrtc.env: WEBRTC_TURN_CREDENTIAL_TTL: ttl must be a positive integer of seconds \(got None\)$",
        ),
        (
            lambda t: re.sub("(?m)^WEBRTC_TURN_USERNAME=.*\n", "", t),
            r"webrtc.env has WEBRTC_TURN_SHARED_SECRET but no WEBRTC_TURN_USERNAME= line; the webrtc_backend_env role writes both",
        ),
        (
            lambda t: re.sub("(?m)^WEBRTC_TURN_CREDENTIAL=.*\n", "", t),
            r"webrtc.env has no WEBRTC_TURN_CREDENTIAL= line to renew; the webrtc_backend_env role writes one in rest mode$",
        ),
        (
            lambda t: t + "WEBRTC_TURN_USERNAME=1\n",
            r"webrtc.env: WEBRTC_TURN_USERNAME is set on several lines \(6, 11\); it must be set once$",
        ),
        (
            lambda t: t.replace("WEBRTC_STUN_URLS=stun:", "WEBRTC_STUN_URLS=http:"),
            r"webrtc.env: WEBRTC_STUN_URLS entry 'http:turn.example.org:3478' is not a URL starting with stun: or stuns:$",
        ),
    ],
)
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

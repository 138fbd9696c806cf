# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of veza.coturn.coturn_userdb.

The pure helpers are checked in test_userdb.py; here ``main()`` runs for real against a
temporary SQLite file made from coturn's own schema (skipped when coturn's
schema is not installed), and, when ``turnadmin`` is installed, coturn's own
tool reads back what the module wrote (and writes rows the module must then
leave alone).
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import re
import sqlite3
import subprocess

import pytest

from ansible_collections.veza.coturn.plugins.modules import coturn_userdb
from ansible_collections.veza.coturn.plugins.module_utils._userdb import fingerprint, user_key

SCHEMA = "/usr/share/coturn/schema.sql"
TURNADMIN = "/usr/bin/turnadmin"
REALM = "turn.example.test"
OTHER_REALM = "other.example.test"
SECRET_A = "secret-A-0123456789abcdef"
SECRET_B = "secret-B-fedcba9876543210"
SECRET_OLD = "secret-OLD-5555555555555555"
SECRET_OTHER = "secret-OTHER-REALM-77777777"
PW_ALICE = "alice-password-1111"
PW_ALICE_NEW = "alice-password-2222"
PW_BOB = "bob-password-3333"
PW_CAROL = "carol-password-4444"
ALL_SENSITIVE = (SECRET_A, SECRET_B, SECRET_OLD, SECRET_OTHER, PW_ALICE, PW_ALICE_NEW, PW_BOB, PW_CAROL)

needs_schema = pytest.mark.skipif(not os.path.exists(SCHEMA), reason=f"coturn schema {SCHEMA} not installed")
needs_turnadmin = pytest.mark.skipif(not os.access(TURNADMIN, os.X_OK), reason=f"{TURNADMIN} not installed")


# --------------------------------------------------------------------------
# main() against a real SQLite file


def _users(*pairs):
    return [{"name": n, "password": p} for n, p in pairs]


def _make_db(path, schema=SCHEMA):
    conn = sqlite3.connect(path)
    try:
        with open(schema, encoding="utf-8") as handle:
            conn.executescript(handle.read())
        conn.commit()
    finally:
        conn.close()
    return str(path)


def _insert(path, secrets=(), users=()):
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany("INSERT INTO turn_secret (realm, value) VALUES (?, ?)", secrets)
        conn.executemany("INSERT INTO turnusers_lt (realm, name, hmackey) VALUES (?, ?, ?)", users)
    conn.close()


def _rows(path):
    conn = sqlite3.connect(path)
    try:
        secrets = sorted(conn.execute("SELECT realm, value FROM turn_secret"))
        users = sorted(conn.execute("SELECT realm, name, hmackey FROM turnusers_lt"))
    finally:
        conn.close()
    return secrets, users


@pytest.fixture
def db(tmp_path):
    if not os.path.exists(SCHEMA):
        pytest.skip(f"coturn schema {SCHEMA} not installed")
    return _make_db(tmp_path / "turndb")


def _me():
    return pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name


def run_main(capsys, check_mode=False, diff=False, **params):
    """Run the module's main() for real; return (exit code, raw stdout, result)."""
    from ansible.module_utils.testing import patch_module_args

    args = dict(params)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    capsys.readouterr()
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            coturn_userdb.main()
    raw = capsys.readouterr().out
    return exc.value.code, raw, json.loads(raw)


def _assert_no_sensitive(raw, result):
    dumped = json.dumps(result)
    for value in ALL_SENSITIVE:
        assert value not in raw
        assert value not in dumped


@needs_schema
def test_main_adds_then_is_idempotent(db, capsys):
    params = dict(path=db, realm=REALM, secrets=[SECRET_A, SECRET_B], users=_users(("alice", PW_ALICE)))
    code, raw, out = run_main(capsys, **params)
    assert code == 0 and out["changed"] is True
    assert out["secrets"] == [fingerprint(SECRET_A), fingerprint(SECRET_B)]
    assert out["secrets_added"] == 2 and out["secrets_removed"] == 0
    assert len(out["users_added"]) == 1 and out["users_removed"] == [] and out["users_updated"] == []
    assert "diff" not in out
    _assert_no_sensitive(raw, out)
    assert _rows(db) == (
        [(REALM, SECRET_A), (REALM, SECRET_B)],
        [(REALM, "alice", user_key("alice", REALM, PW_ALICE))],
    )

    code, raw, out = run_main(capsys, **params)
    assert code == 0 and out["changed"] is False
    assert out["secrets_added"] == 0 and out["secrets_removed"] == 0
    assert out["users_added"] == out["users_removed"] == out["users_updated"] == []

    # order and duplicates of the declared secrets do not matter
    code, raw, out = run_main(capsys, **{**params, "secrets": [SECRET_B, SECRET_A, SECRET_B]})
    assert out["changed"] is False
    assert out["secrets"] == [fingerprint(SECRET_B), fingerprint(SECRET_A)]


@needs_schema
def test_main_check_mode_writes_nothing(db, capsys):
    _insert(db, secrets=[(REALM, SECRET_OLD)], users=[(REALM, "bob", user_key("bob", REALM, PW_BOB))])
    before_rows = _rows(db)
    with open(db, "rb") as handle:
        before_bytes = handle.read()
    params = dict(path=db, realm=REALM, secrets=[SECRET_A], users=_users(("alice", PW_ALICE)))
    code, raw, out = run_main(capsys, check_mode=True, diff=True, **params)
    assert code == 0 and out["changed"] is True
    assert out["secrets_added"] == 1 and out["secrets_removed"] == 1
    assert out["users_removed"] == ["bob"]
    assert _rows(db) == before_rows
    with open(db, "rb") as handle:
        assert handle.read() == before_bytes
    assert sorted(os.listdir(os.path.dirname(db))) == ["turndb"]  # no journal, no stray file

    # the real run then does what check mode announced
    code, raw, real = run_main(capsys, diff=True, **params)
    assert real == out
    assert _rows(db) != before_rows


@needs_schema
def test_main_check_mode_does_not_create(tmp_path, capsys):
    path = tmp_path / "turndb"
    code, raw, out = run_main(capsys, check_mode=True, path=str(path), realm=REALM, secrets=[SECRET_A])
    assert code == 0 and out["changed"] is True
    assert not path.exists()


@needs_schema
def test_main_removes_undeclared_rows_of_its_realm_only(db, capsys):
    other_user = (OTHER_REALM, "bob", user_key("bob", OTHER_REALM, PW_BOB))
    _insert(
        db,
        secrets=[(REALM, SECRET_OLD), (REALM, SECRET_A), (OTHER_REALM, SECRET_OTHER), (OTHER_REALM, SECRET_A)],
        users=[
            (REALM, "bob", user_key("bob", REALM, PW_BOB)),
            (REALM, "alice", user_key("alice", REALM, PW_ALICE)),
            other_user,
        ],
    )
    code, raw, out = run_main(
        capsys,
        path=db,
        realm=REALM,
        secrets=[SECRET_A, SECRET_B],
        users=_users(("alice", PW_ALICE_NEW), ("carol", PW_CAROL)),
    )
    assert code == 0 and out["changed"] is True
    assert out["secrets_added"] == 1 and out["secrets_removed"] == 1
    assert out["users_removed"] == ["bob"]
    assert len(out["users_added"]) == 1 and len(out["users_updated"]) == 1
    _assert_no_sensitive(raw, out)
    secrets, users = _rows(db)
    assert secrets == sorted(
        [(REALM, SECRET_A), (REALM, SECRET_B), (OTHER_REALM, SECRET_OTHER), (OTHER_REALM, SECRET_A)]
    )
    assert users == sorted(
        [
            (REALM, "alice", user_key("alice", REALM, PW_ALICE_NEW)),
            (REALM, "carol", user_key("carol", REALM, PW_CAROL)),
            other_user,
        ]
    )

    # emptying the realm leaves the other realm alone too
    code, raw, out = run_main(capsys, path=db, realm=REALM)
    assert out["changed"] is True and out["secrets_removed"] == 2
    assert out["users_removed"] == ["alice", "carol"]
    assert _rows(db) == (sorted([(OTHER_REALM, SECRET_OTHER), (OTHER_REALM, SECRET_A)]), [other_user])


@needs_schema
def test_main_password_change_updates_key(db, capsys):
    run_main(capsys, path=db, realm=REALM, users=_users(("alice", PW_ALICE)))
    code, raw, out = run_main(capsys, path=db, realm=REALM, users=_users(("alice", PW_ALICE_NEW)))
    assert out["changed"] is True and len(out["users_updated"]) == 1 and out["users_added"] == []
    assert _rows(db)[1] == [(REALM, "alice", user_key("alice", REALM, PW_ALICE_NEW))]


@needs_schema
def test_main_diff_shows_fingerprints_never_secrets(db, capsys):
    _insert(db, secrets=[(REALM, SECRET_OLD)], users=[(REALM, "bob", user_key("bob", REALM, PW_BOB))])
    code, raw, out = run_main(
        capsys, diff=True, path=db, realm=REALM, secrets=[SECRET_A, SECRET_B], users=_users(("alice", PW_ALICE))
    )
    diff = out["diff"]
    assert diff["before"] == {"secrets": [fingerprint(SECRET_OLD)], "users": ["bob"]}
    assert diff["after"]["secrets"] == [fingerprint(SECRET_A), fingerprint(SECRET_B)]
    assert len(diff["after"]["users"]) == 1
    assert diff["before_header"] == diff["after_header"] == f"{db} ({REALM})"
    _assert_no_sensitive(raw, out)


@needs_schema
def test_main_reports_user_names(db, capsys):
    code, raw, out = run_main(capsys, diff=True, path=db, realm=REALM, users=_users(("alice", PW_ALICE)))
    assert out["users"] == ["alice"]
    assert out["users_added"] == ["alice"]
    assert out["diff"]["after"]["users"] == ["alice"]


@needs_schema
def test_main_user_name_does_not_mangle_headers(db, capsys):
    code, raw, out = run_main(capsys, diff=True, path=db, realm=REALM, users=_users(("example", PW_ALICE)))
    assert out["diff"]["after_header"] == f"{db} ({REALM})"


@needs_schema
def test_main_path_with_uri_characters(tmp_path, capsys):
    folder = tmp_path / "a#b"
    folder.mkdir()
    path = _make_db(folder / "turndb")
    _insert(path, secrets=[(REALM, SECRET_A)])
    code, raw, out = run_main(capsys, check_mode=True, path=path, realm=REALM, secrets=[SECRET_A])
    assert not (tmp_path / "a").exists()
    assert code == 0 and out["changed"] is False, out.get("msg")


@needs_schema
def test_main_creates_missing_database(tmp_path, capsys):
    owner, group = _me()
    path = tmp_path / "turndb"
    code, raw, out = run_main(
        capsys,
        path=str(path),
        realm=REALM,
        secrets=[SECRET_A],
        users=_users(("alice", PW_ALICE)),
        owner=owner,
        group=group,
    )
    assert code == 0 and out["changed"] is True
    assert path.exists()
    assert oct(path.stat().st_mode & 0o777) == oct(0o640)
    assert _rows(str(path)) == ([(REALM, SECRET_A)], [(REALM, "alice", user_key("alice", REALM, PW_ALICE))])
    conn = sqlite3.connect(str(path))
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert {"turn_secret", "turnusers_lt", "allowed_peer_ip", "denied_peer_ip", "admin_user"} <= tables
    code, raw, out = run_main(
        capsys,
        path=str(path),
        realm=REALM,
        secrets=[SECRET_A],
        users=_users(("alice", PW_ALICE)),
        owner=owner,
        group=group,
    )
    assert out["changed"] is False


def test_main_creates_from_fallback_schema(tmp_path, capsys):
    owner, group = _me()
    path = tmp_path / "turndb"
    code, raw, out = run_main(
        capsys,
        path=str(path),
        realm=REALM,
        secrets=[SECRET_A],
        users=_users(("alice", PW_ALICE)),
        owner=owner,
        group=group,
        schema=str(tmp_path / "no-such-schema.sql"),
    )
    assert code == 0 and out["changed"] is True
    assert _rows(str(path)) == ([(REALM, SECRET_A)], [(REALM, "alice", user_key("alice", REALM, PW_ALICE))])


def test_main_create_fails_without_folder(tmp_path, capsys):
    path = tmp_path / "missing" / "turndb"
    code, raw, out = run_main(capsys, path=str(path), realm=REALM, secrets=[SECRET_A])
    assert code == 1 and out["failed"] is True
    assert out["msg"] == (f"coturn_userdb: path {path}: folder {path.parent} does not exist (is coturn installed?)")


def test_main_create_fails_with_unknown_owner(tmp_path, capsys):
    path = tmp_path / "turndb"
    code, raw, out = run_main(
        capsys, path=str(path), realm=REALM, secrets=[SECRET_A], owner="no-such-user-veza", group="no-such-group-veza"
    )
    assert code == 1
    assert out["msg"].startswith("coturn_userdb: owner/group: ")
    assert "does not exist" in out["msg"]


def test_main_not_a_database(tmp_path, capsys):
    path = tmp_path / "turndb"
    path.write_text("this is not an SQLite database, just some text that is long enough\n" * 20)
    code, raw, out = run_main(capsys, path=str(path), realm=REALM, secrets=[SECRET_A])
    assert code == 1
    assert out["msg"].startswith(f"coturn_userdb: path {path} is not a coturn userdb: ")


def test_main_database_without_coturn_tables(tmp_path, capsys):
    path = tmp_path / "turndb"
    conn = sqlite3.connect(str(path))
    conn.execute("CREATE TABLE unrelated (x)")
    conn.commit()
    conn.close()
    code, raw, out = run_main(capsys, path=str(path), realm=REALM, secrets=[SECRET_A])
    assert code == 1
    assert out["msg"] == f"coturn_userdb: path {path} is not a coturn userdb: no such table: turn_secret"


@pytest.mark.parametrize(
    "params, msg",
    [
        (
            dict(users=[{"name": "al:ice", "password": PW_ALICE}]),
            "coturn_userdb: users[0].name must be non-empty and without ':'",
        ),
        (
            dict(users=[{"name": "bob", "password": PW_BOB}, {"name": "", "password": PW_ALICE}]),
            "coturn_userdb: users[1].name must be non-empty and without ':'",
        ),
        (dict(users=[{"name": "alice", "password": ""}]), "coturn_userdb: users[0].password must not be empty"),
        (dict(secrets=[SECRET_A, ""]), "coturn_userdb: secrets[1] must not be empty"),
        (dict(secrets=[""]), "coturn_userdb: secrets[0] must not be empty"),
        (dict(realm=""), "coturn_userdb: realm must not be empty"),
    ],
)
def test_main_input_errors(tmp_path, capsys, params, msg):
    path = tmp_path / "turndb"
    args = dict(dict(path=str(path), realm=REALM), **params)
    code, raw, out = run_main(capsys, **args)
    assert code == 1 and out["failed"] is True
    assert out["msg"] == msg
    assert not path.exists()
    _assert_no_sensitive(raw, out)


def test_main_input_error_leaves_database_alone(db, capsys):
    _insert(db, secrets=[(REALM, SECRET_OLD)])
    before = _rows(db)
    code, raw, out = run_main(
        capsys, path=db, realm=REALM, secrets=[SECRET_A], users=[{"name": "a:b", "password": PW_ALICE}]
    )
    assert code == 1 and "without ':'" in out["msg"]
    assert _rows(db) == before


def test_main_missing_realm(tmp_path, capsys):
    code, raw, out = run_main(capsys, path=str(tmp_path / "turndb"))
    assert code == 1
    assert "realm" in out["msg"]


# --------------------------------------------------------------------------
# cross-check with coturn's turnadmin


def _turnadmin(tmp_path, *args):
    """Run turnadmin on the temp database only; remove the log file it opens."""
    proc = subprocess.Popen(
        [TURNADMIN, *args], cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        output, _err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    # turnadmin logs to /var/log/turn_<pid>_<date>.log (or /var/tmp, /tmp, .);
    # the pid in the name makes the file this process's own.
    for log in re.findall(r"log file opened: (\S+)", output):
        if re.search(rf"/turn_{proc.pid}_[0-9-]+\.log$", log) and os.path.isfile(log):
            os.remove(log)
    assert proc.returncode == 0, output
    return output


@needs_turnadmin
@needs_schema
def test_turnadmin_reads_what_main_wrote(db, tmp_path, capsys):
    _insert(db, secrets=[(OTHER_REALM, SECRET_OTHER)])
    run_main(capsys, path=db, realm=REALM, secrets=[SECRET_A, SECRET_B], users=_users(("alice", PW_ALICE)))

    listed = _turnadmin(tmp_path, "-S", "-r", REALM, "-b", db)
    assert f"{SECRET_A}[{REALM}]" in listed
    assert f"{SECRET_B}[{REALM}]" in listed
    assert SECRET_OTHER not in listed

    listed = _turnadmin(tmp_path, "-l", "-r", REALM, "-b", db)
    assert f"alice[{REALM}]" in listed


@needs_turnadmin
@needs_schema
def test_main_agrees_with_rows_turnadmin_writes(tmp_path, capsys):
    """turnadmin --set-secret / -a write the very rows the module wants: no change."""
    theirs = _make_db(tmp_path / "turnadmin.db")
    _turnadmin(tmp_path, "-s", SECRET_A, "-r", REALM, "-b", theirs)
    _turnadmin(tmp_path, "-a", "-u", "alice", "-r", REALM, "-p", PW_ALICE, "-b", theirs)
    secrets, users = _rows(theirs)
    assert secrets == [(REALM, SECRET_A)]
    assert users == [(REALM, "alice", user_key("alice", REALM, PW_ALICE))]

    code, raw, out = run_main(capsys, path=theirs, realm=REALM, secrets=[SECRET_A], users=_users(("alice", PW_ALICE)))
    assert code == 0 and out["changed"] is False

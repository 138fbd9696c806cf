# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of veza.coturn.coturn_userdb: reconciling the rows of an existing database.

The pure helpers are checked in test_userdb.py; here ``main()`` runs for real against a
temporary SQLite file made from coturn's own schema (skipped when coturn's
schema is not installed), and, when ``turnadmin`` is installed, coturn's own
tool reads back what the module wrote (and writes rows the module must then
leave alone). Creating the database and bad input: test_coturn_userdb_setup.py.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from ansible_collections.veza.coturn.plugins.module_utils._userdb import fingerprint, user_key
from ansible_collections.veza.coturn.tests.unit.plugins.modules.coturn_userdb_helpers import (
    OTHER_REALM,
    PW_ALICE,
    PW_ALICE_NEW,
    PW_BOB,
    PW_CAROL,
    REALM,
    SECRET_A,
    SECRET_B,
    SECRET_OLD,
    SECRET_OTHER,
    TURNADMIN,
    assert_no_sensitive,
    db_path,
    declared_users,
    insert_rows,
    make_db,
    needs_schema,
    needs_turnadmin,
    read_rows,
    run_main,
)


@pytest.fixture
def db(tmp_path):
    return db_path(tmp_path)


# --------------------------------------------------------------------------
# main() against a real SQLite file


@needs_schema
def test_main_adds_then_is_idempotent(db, capsys):
    params = dict(path=db, realm=REALM, secrets=[SECRET_A, SECRET_B], users=declared_users(("alice", PW_ALICE)))
    code, raw, out = run_main(capsys, **params)
    assert code == 0 and out["changed"] is True
    assert out["secrets"] == [fingerprint(SECRET_A), fingerprint(SECRET_B)]
    assert out["secrets_added"] == 2 and out["secrets_removed"] == 0
    assert len(out["users_added"]) == 1 and out["users_removed"] == [] and out["users_updated"] == []
    assert "diff" not in out
    assert_no_sensitive(raw, out)
    assert read_rows(db) == (
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
    insert_rows(db, secrets=[(REALM, SECRET_OLD)], users=[(REALM, "bob", user_key("bob", REALM, PW_BOB))])
    before_rows = read_rows(db)
    with open(db, "rb") as handle:
        before_bytes = handle.read()
    params = dict(path=db, realm=REALM, secrets=[SECRET_A], users=declared_users(("alice", PW_ALICE)))
    code, raw, out = run_main(capsys, check_mode=True, diff=True, **params)
    assert code == 0 and out["changed"] is True
    assert out["secrets_added"] == 1 and out["secrets_removed"] == 1
    assert out["users_removed"] == ["bob"]
    assert read_rows(db) == before_rows
    with open(db, "rb") as handle:
        assert handle.read() == before_bytes
    assert sorted(os.listdir(os.path.dirname(db))) == ["turndb"]  # no journal, no stray file

    # the real run then does what check mode announced
    code, raw, real = run_main(capsys, diff=True, **params)
    assert real == out
    assert read_rows(db) != before_rows


@needs_schema
def test_main_check_mode_does_not_create(tmp_path, capsys):
    path = tmp_path / "turndb"
    code, raw, out = run_main(capsys, check_mode=True, path=str(path), realm=REALM, secrets=[SECRET_A])
    assert code == 0 and out["changed"] is True
    assert not path.exists()


@needs_schema
def test_main_removes_undeclared_rows_of_its_realm_only(db, capsys):
    other_user = (OTHER_REALM, "bob", user_key("bob", OTHER_REALM, PW_BOB))
    insert_rows(
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
        users=declared_users(("alice", PW_ALICE_NEW), ("carol", PW_CAROL)),
    )
    assert code == 0 and out["changed"] is True
    assert out["secrets_added"] == 1 and out["secrets_removed"] == 1
    assert out["users_removed"] == ["bob"]
    assert len(out["users_added"]) == 1 and len(out["users_updated"]) == 1
    assert_no_sensitive(raw, out)
    secrets, users = read_rows(db)
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
    assert read_rows(db) == (sorted([(OTHER_REALM, SECRET_OTHER), (OTHER_REALM, SECRET_A)]), [other_user])


@needs_schema
def test_main_password_change_updates_key(db, capsys):
    run_main(capsys, path=db, realm=REALM, users=declared_users(("alice", PW_ALICE)))
    code, raw, out = run_main(capsys, path=db, realm=REALM, users=declared_users(("alice", PW_ALICE_NEW)))
    assert out["changed"] is True and len(out["users_updated"]) == 1 and out["users_added"] == []
    assert read_rows(db)[1] == [(REALM, "alice", user_key("alice", REALM, PW_ALICE_NEW))]


@needs_schema
def test_main_diff_shows_fingerprints_never_secrets(db, capsys):
    insert_rows(db, secrets=[(REALM, SECRET_OLD)], users=[(REALM, "bob", user_key("bob", REALM, PW_BOB))])
    code, raw, out = run_main(
        capsys, diff=True, path=db, realm=REALM, secrets=[SECRET_A, SECRET_B], users=declared_users(("alice", PW_ALICE))
    )
    diff = out["diff"]
    assert diff["before"] == {"secrets": [fingerprint(SECRET_OLD)], "users": ["bob"]}
    assert diff["after"]["secrets"] == [fingerprint(SECRET_A), fingerprint(SECRET_B)]
    assert len(diff["after"]["users"]) == 1
    assert diff["before_header"] == diff["after_header"] == f"{db} ({REALM})"
    assert_no_sensitive(raw, out)


@needs_schema
def test_main_reports_user_names(db, capsys):
    code, raw, out = run_main(capsys, diff=True, path=db, realm=REALM, users=declared_users(("alice", PW_ALICE)))
    assert out["users"] == ["alice"]
    assert out["users_added"] == ["alice"]
    assert out["diff"]["after"]["users"] == ["alice"]


@needs_schema
def test_main_user_name_does_not_mangle_headers(db, capsys):
    code, raw, out = run_main(capsys, diff=True, path=db, realm=REALM, users=declared_users(("example", PW_ALICE)))
    assert out["diff"]["after_header"] == f"{db} ({REALM})"


@needs_schema
def test_main_path_with_uri_characters(tmp_path, capsys):
    folder = tmp_path / "a#b"
    folder.mkdir()
    path = make_db(folder / "turndb")
    insert_rows(path, secrets=[(REALM, SECRET_A)])
    code, raw, out = run_main(capsys, check_mode=True, path=path, realm=REALM, secrets=[SECRET_A])
    assert not (tmp_path / "a").exists()
    assert code == 0 and out["changed"] is False, out.get("msg")


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
    insert_rows(db, secrets=[(OTHER_REALM, SECRET_OTHER)])
    run_main(capsys, path=db, realm=REALM, secrets=[SECRET_A, SECRET_B], users=declared_users(("alice", PW_ALICE)))

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
    theirs = make_db(tmp_path / "turnadmin.db")
    _turnadmin(tmp_path, "-s", SECRET_A, "-r", REALM, "-b", theirs)
    _turnadmin(tmp_path, "-a", "-u", "alice", "-r", REALM, "-p", PW_ALICE, "-b", theirs)
    secrets, users = read_rows(theirs)
    assert secrets == [(REALM, SECRET_A)]
    assert users == [(REALM, "alice", user_key("alice", REALM, PW_ALICE))]

    code, raw, out = run_main(
        capsys, path=theirs, realm=REALM, secrets=[SECRET_A], users=declared_users(("alice", PW_ALICE))
    )
    assert code == 0 and out["changed"] is False

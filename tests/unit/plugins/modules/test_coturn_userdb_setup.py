# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of veza.coturn.coturn_userdb: creating the database, and what it refuses.

``main()`` runs for real: it creates a missing database (from coturn's schema
or its fallback), fails on a missing folder, an unknown owner, a file that is
not a coturn userdb, and bad input (leaving the database alone).
Reconciling the rows of an existing database: test_coturn_userdb.py.
"""

from __future__ import annotations

import sqlite3

import pytest

from ansible_collections.veza.coturn.plugins.module_utils._userdb import user_key
from ansible_collections.veza.coturn.tests.unit.plugins.modules.coturn_userdb_helpers import (
    PW_ALICE,
    PW_BOB,
    REALM,
    SECRET_A,
    SECRET_OLD,
    assert_no_sensitive,
    current_owner,
    db_path,
    declared_users,
    insert_rows,
    needs_schema,
    read_rows,
    run_main,
)


@pytest.fixture
def db(tmp_path):
    return db_path(tmp_path)


# --------------------------------------------------------------------------
# main() creating the database, and refusing what it cannot use


@needs_schema
def test_main_creates_missing_database(tmp_path, capsys):
    owner, group = current_owner()
    path = tmp_path / "turndb"
    code, raw, out = run_main(
        capsys,
        path=str(path),
        realm=REALM,
        secrets=[SECRET_A],
        users=declared_users(("alice", PW_ALICE)),
        owner=owner,
        group=group,
    )
    assert code == 0 and out["changed"] is True
    assert path.exists()
    assert oct(path.stat().st_mode & 0o777) == oct(0o640)
    assert read_rows(str(path)) == ([(REALM, SECRET_A)], [(REALM, "alice", user_key("alice", REALM, PW_ALICE))])
    conn = sqlite3.connect(str(path))
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert {"turn_secret", "turnusers_lt", "allowed_peer_ip", "denied_peer_ip", "admin_user"} <= tables
    code, raw, out = run_main(
        capsys,
        path=str(path),
        realm=REALM,
        secrets=[SECRET_A],
        users=declared_users(("alice", PW_ALICE)),
        owner=owner,
        group=group,
    )
    assert out["changed"] is False


def test_main_creates_from_fallback_schema(tmp_path, capsys):
    owner, group = current_owner()
    path = tmp_path / "turndb"
    code, raw, out = run_main(
        capsys,
        path=str(path),
        realm=REALM,
        secrets=[SECRET_A],
        users=declared_users(("alice", PW_ALICE)),
        owner=owner,
        group=group,
        schema=str(tmp_path / "no-such-schema.sql"),
    )
    assert code == 0 and out["changed"] is True
    assert read_rows(str(path)) == ([(REALM, SECRET_A)], [(REALM, "alice", user_key("alice", REALM, PW_ALICE))])


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
    assert_no_sensitive(raw, out)


def test_main_input_error_leaves_database_alone(db, capsys):
    insert_rows(db, secrets=[(REALM, SECRET_OLD)])
    before = read_rows(db)
    code, raw, out = run_main(
        capsys, path=db, realm=REALM, secrets=[SECRET_A], users=[{"name": "a:b", "password": PW_ALICE}]
    )
    assert code == 1 and "without ':'" in out["msg"]
    assert read_rows(db) == before


def test_main_missing_realm(tmp_path, capsys):
    code, raw, out = run_main(capsys, path=str(tmp_path / "turndb"))
    assert code == 1
    assert "realm" in out["msg"]

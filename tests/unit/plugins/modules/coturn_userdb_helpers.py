# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the tests of veza.coturn.coturn_userdb share: the secrets and passwords
they use, coturn userdb files made from coturn's own schema, and runs of the
module's ``main()`` (test_coturn_userdb.py, test_coturn_userdb_setup.py).
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import sqlite3

import pytest

from ansible_collections.veza.coturn.plugins.modules import coturn_userdb
from ansible_collections.veza.coturn.tests.unit.plugins import module_main

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


def declared_users(*pairs):
    return [{"name": n, "password": p} for n, p in pairs]


def make_db(path, schema=SCHEMA):
    conn = sqlite3.connect(path)
    try:
        with open(schema, encoding="utf-8") as handle:
            conn.executescript(handle.read())
        conn.commit()
    finally:
        conn.close()
    return str(path)


def insert_rows(path, secrets=(), users=()):
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany("INSERT INTO turn_secret (realm, value) VALUES (?, ?)", secrets)
        conn.executemany("INSERT INTO turnusers_lt (realm, name, hmackey) VALUES (?, ?, ?)", users)
    conn.close()


def read_rows(path):
    conn = sqlite3.connect(path)
    try:
        secrets = sorted(conn.execute("SELECT realm, value FROM turn_secret"))
        users = sorted(conn.execute("SELECT realm, name, hmackey FROM turnusers_lt"))
    finally:
        conn.close()
    return secrets, users


def db_path(tmp_path):
    """A fresh coturn userdb in ``tmp_path`` (the ``db`` fixture of the tests); skip without coturn's schema."""
    if not os.path.exists(SCHEMA):
        pytest.skip(f"coturn schema {SCHEMA} not installed")
    return make_db(tmp_path / "turndb")


def current_owner():
    return pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name


def run_main(capsys, check_mode=False, diff=False, **params):
    """Run the module's main() for real; return (exit code, raw stdout, result)."""
    return module_main.run_main(coturn_userdb, capsys, check_mode=check_mode, diff=diff, **params)


def assert_no_sensitive(raw, result):
    dumped = json.dumps(result)
    for value in ALL_SENSITIVE:
        assert value not in raw
        assert value not in dumped

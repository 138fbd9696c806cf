# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""coturn's SQLite userdb: the rows of one realm, what to change, and changing them (behind coturn_userdb).

The rows are the ones ``turnadmin --set-secret`` and ``turnadmin -a``
write (the user key is the hex MD5 of ``name:realm:password``). Standard
library only; errors are UserdbError, whose text the module prefixes with
its name.
"""

from __future__ import annotations

import grp
import hashlib
import os
import pathlib
import pwd
import sqlite3

# The two tables this module manages, as coturn 4.6 creates them, for when
# coturn's schema file is not installed.
_FALLBACK_SCHEMA = """
CREATE TABLE turnusers_lt (realm varchar(127) default '', name varchar(512), hmackey char(128),
                           PRIMARY KEY (realm,name));
CREATE TABLE turn_secret (realm varchar(127) default '', value varchar(256), primary key (realm,value));
"""

CHANGES = ("add_secrets", "remove_secrets", "add_users", "remove_users", "update_users")


class UserdbError(Exception):
    """The userdb cannot be read, created or written; the message says which and why."""


def fingerprint(secret):
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:12]


def user_key(name, realm, password):
    return hashlib.md5(f"{name}:{realm}:{password}".encode("utf-8")).hexdigest()  # nosec: coturn's key format


def plan(current_secrets, current_users, realm, secrets, users):
    """What to change: pure, so that tests need no database."""
    want_secrets = list(dict.fromkeys(secrets))
    want_users = {u["name"]: user_key(u["name"], realm, u["password"]) for u in users}
    return {
        "add_secrets": [s for s in want_secrets if s not in current_secrets],
        "remove_secrets": [s for s in current_secrets if s not in want_secrets],
        "add_users": sorted(n for n in want_users if n not in current_users),
        "remove_users": sorted(n for n in current_users if n not in want_users),
        "update_users": sorted(n for n in want_users if n in current_users and current_users[n] != want_users[n]),
        "keys": want_users,
        "secrets": want_secrets,
    }


def read(path, realm):
    """The secrets (in the order coturn holds them) and {user: key} of realm in the userdb at path, read-only."""
    try:
        conn = sqlite3.connect(pathlib.Path(path).absolute().as_uri() + "?mode=ro", uri=True)
        try:
            secrets = [
                r[0] for r in conn.execute("SELECT value FROM turn_secret WHERE realm = ? ORDER BY rowid", (realm,))
            ]
            users = dict(conn.execute("SELECT name, hmackey FROM turnusers_lt WHERE realm = ?", (realm,)).fetchall())
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise UserdbError(f"path {path} is not a coturn userdb: {exc}") from exc
    return secrets, users


def create(path, schema_path, owner, group):
    """A new userdb at path from coturn's schema (or the fallback), owner:group and 0640 from its creation."""
    schema = _FALLBACK_SCHEMA
    if os.path.exists(schema_path):
        with open(schema_path, encoding="utf-8") as handle:
            schema = handle.read()
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        raise UserdbError(f"path {path}: folder {parent} does not exist (is coturn installed?)")
    try:
        uid, gid = pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid
    except KeyError as exc:
        raise UserdbError(f"owner/group: {exc} does not exist") from exc
    # Owner and mode first, so that no reader ever sees a world-readable userdb.
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640))
    os.chown(path, uid, gid)
    conn = sqlite3.connect(path)
    try:
        conn.executescript(schema)
        conn.commit()
    except sqlite3.Error as exc:
        conn.close()
        os.unlink(path)
        raise UserdbError(f"schema {schema_path} could not be applied: {exc}") from exc
    conn.close()


def write(path, realm, todo):
    """Apply the plan todo to realm's rows at path, in one transaction."""
    conn = sqlite3.connect(path, timeout=10)
    try:
        with conn:
            conn.executemany(
                "DELETE FROM turn_secret WHERE realm = ? AND value = ?", [(realm, s) for s in todo["remove_secrets"]]
            )
            conn.executemany(
                "INSERT INTO turn_secret (realm, value) VALUES (?, ?)", [(realm, s) for s in todo["add_secrets"]]
            )
            conn.executemany(
                "DELETE FROM turnusers_lt WHERE realm = ? AND name = ?", [(realm, n) for n in todo["remove_users"]]
            )
            conn.executemany(
                "INSERT OR REPLACE INTO turnusers_lt (realm, name, hmackey) VALUES (?, ?, ?)",
                [(realm, n, todo["keys"][n]) for n in todo["add_users"] + todo["update_users"]],
            )
    except sqlite3.Error as exc:
        raise UserdbError(f"writing {path} failed: {exc}") from exc
    finally:
        conn.close()

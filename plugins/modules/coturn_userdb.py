#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sync coturn's SQLite userdb with the declared secrets and users."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: coturn_userdb
short_description: Keep coturn's SQLite userdb in line with declared credentials
version_added: 0.1.0
description:
  - Makes the TURN REST shared secrets (table C(turn_secret)) and the
    long-term users (table C(turnusers_lt)) of one realm exactly the declared
    ones, in one transaction; rows of other realms are left alone.
  - coturn reads both tables on every authentication, so a change takes
    effect without a restart and allocations already made keep working.
  - Writes the database directly instead of calling C(turnadmin), so that no
    secret appears on a command line, and so that check mode and diff work.
    The rows are the ones C(turnadmin --set-secret) and C(turnadmin -a)
    write (the user key is the hex MD5 of C(name:realm:password)).
  - Creates the database from coturn's own schema when it does not exist.
  - Runs where coturn runs (inside the container).
options:
  path:
    description: The userdb file (coturn's C(userdb=)).
    type: path
    default: /var/lib/turn/turndb
  realm:
    description: Realm the rows belong to.
    type: str
    required: true
  secrets:
    description: Shared secrets for TURN REST credentials (C(use-auth-secret)); all others of the realm are removed.
    type: list
    elements: str
    default: []
  users:
    description: Long-term users (C(lt-cred-mech)); all others of the realm are removed.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: User name (no colon).
        type: str
        required: true
      password:
        description: Password.
        type: str
        required: true
  owner:
    description: Owner of a database file this module creates.
    type: str
    default: turnserver
  group:
    description: Group of a database file this module creates.
    type: str
    default: turnserver
  schema:
    description: coturn's SQL schema, used when the file does not exist.
    type: path
    default: /usr/share/coturn/schema.sql
notes:
  - Supports check mode and diff; the diff names users and shows secrets only
    as short SHA-256 fingerprints.
author:
  - veza.coturn developers (@veza-coturn)
"""

EXAMPLES = r"""
- name: Two secrets during a rotation, the first one minting
  veza.coturn.coturn_userdb:
    realm: turn.example.org
    secrets:
      - "{{ vault_turn_secret_new }}"
      - "{{ vault_turn_secret_old }}"
  no_log: true
"""

RETURN = r"""
secrets:
  description: Fingerprints (first 12 hex digits of SHA-256) of the secrets now held.
  returned: always
  type: list
  elements: str
secrets_added:
  description: How many secrets were added.
  returned: always
  type: int
secrets_removed:
  description: How many secrets were removed.
  returned: always
  type: int
users:
  description: Names of the users now held.
  returned: always
  type: list
  elements: str
users_added:
  description: Names added.
  returned: always
  type: list
  elements: str
users_removed:
  description: Names removed.
  returned: always
  type: list
  elements: str
users_updated:
  description: Names whose password changed.
  returned: always
  type: list
  elements: str
"""

import grp
import hashlib
import os
import pathlib
import pwd
import sqlite3

from ansible.module_utils.basic import AnsibleModule

# The two tables this module manages, as coturn 4.6 creates them, for when
# coturn's schema file is not installed.
_FALLBACK_SCHEMA = """
CREATE TABLE turnusers_lt (realm varchar(127) default '', name varchar(512), hmackey char(128),
                           PRIMARY KEY (realm,name));
CREATE TABLE turn_secret (realm varchar(127) default '', value varchar(256), primary key (realm,value));
"""


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


def _create(module, path):
    p = module.params
    schema = _FALLBACK_SCHEMA
    if os.path.exists(p["schema"]):
        with open(p["schema"], encoding="utf-8") as handle:
            schema = handle.read()
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        module.fail_json(msg=f"coturn_userdb: path {path}: folder {parent} does not exist (is coturn installed?)")
    try:
        uid, gid = pwd.getpwnam(p["owner"]).pw_uid, grp.getgrnam(p["group"]).gr_gid
    except KeyError as exc:
        module.fail_json(msg=f"coturn_userdb: owner/group: {exc} does not exist")
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
        module.fail_json(msg=f"coturn_userdb: schema {p['schema']} could not be applied: {exc}")
    conn.close()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", default="/var/lib/turn/turndb"),
            realm=dict(type="str", required=True),
            secrets=dict(type="list", elements="str", default=[], no_log=True),
            # Names are not secret (and no_log on them would mask every
            # substring equal to a name, realm included); passwords are.
            users=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True),
                password=dict(type="str", required=True, no_log=True))),
            owner=dict(type="str", default="turnserver"),
            group=dict(type="str", default="turnserver"),
            schema=dict(type="path", default="/usr/share/coturn/schema.sql"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    realm = p["realm"]
    if not realm:
        module.fail_json(msg="coturn_userdb: realm must not be empty")
    names = [u["name"] for u in p["users"]]
    if len(set(names)) != len(names):
        module.fail_json(msg="coturn_userdb: users: each name may appear once (got "
                             + ", ".join(sorted({n for n in names if names.count(n) > 1})) + " twice)")
    for index, user in enumerate(p["users"]):
        if not user["name"] or ":" in user["name"]:
            module.fail_json(msg=f"coturn_userdb: users[{index}].name must be non-empty and without ':'")
        if not user["password"]:
            module.fail_json(msg=f"coturn_userdb: users[{index}].password must not be empty")
    for index, secret in enumerate(p["secrets"]):
        if not secret:
            module.fail_json(msg=f"coturn_userdb: secrets[{index}] must not be empty")

    path = p["path"]
    exists = os.path.exists(path)
    current_secrets, current_users = [], {}
    if exists:
        try:
            conn = sqlite3.connect(pathlib.Path(path).absolute().as_uri() + "?mode=ro", uri=True)
            try:
                current_secrets = [r[0] for r in conn.execute(
                    "SELECT value FROM turn_secret WHERE realm = ? ORDER BY rowid", (realm,))]
                current_users = dict(conn.execute(
                    "SELECT name, hmackey FROM turnusers_lt WHERE realm = ?", (realm,)).fetchall())
            finally:
                conn.close()
        except sqlite3.Error as exc:
            module.fail_json(msg=f"coturn_userdb: path {path} is not a coturn userdb: {exc}")

    todo = plan(current_secrets, current_users, realm, p["secrets"], p["users"])
    changed = not exists or any(todo[k] for k in ("add_secrets", "remove_secrets", "add_users",
                                                  "remove_users", "update_users"))
    if changed and not module.check_mode:
        if not exists:
            _create(module, path)
        conn = sqlite3.connect(path, timeout=10)
        try:
            with conn:
                conn.executemany("DELETE FROM turn_secret WHERE realm = ? AND value = ?",
                                 [(realm, s) for s in todo["remove_secrets"]])
                conn.executemany("INSERT INTO turn_secret (realm, value) VALUES (?, ?)",
                                 [(realm, s) for s in todo["add_secrets"]])
                conn.executemany("DELETE FROM turnusers_lt WHERE realm = ? AND name = ?",
                                 [(realm, n) for n in todo["remove_users"]])
                conn.executemany("INSERT OR REPLACE INTO turnusers_lt (realm, name, hmackey) VALUES (?, ?, ?)",
                                 [(realm, n, todo["keys"][n]) for n in todo["add_users"] + todo["update_users"]])
        except sqlite3.Error as exc:
            module.fail_json(msg=f"coturn_userdb: writing {path} failed: {exc}")
        finally:
            conn.close()

    before = {"secrets": [fingerprint(s) for s in current_secrets], "users": sorted(current_users)}
    after = {"secrets": [fingerprint(s) for s in todo["secrets"]], "users": sorted(todo["keys"])}
    result = dict(
        changed=changed,
        secrets=after["secrets"],
        secrets_added=len(todo["add_secrets"]),
        secrets_removed=len(todo["remove_secrets"]),
        users=after["users"],
        users_added=todo["add_users"],
        users_removed=todo["remove_users"],
        users_updated=todo["update_users"],
    )
    if module._diff:
        result["diff"] = {"before": before, "after": after,
                          "before_header": f"{path} ({realm})", "after_header": f"{path} ({realm})"}
    module.exit_json(**result)


if __name__ == "__main__":
    main()

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

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.veza.coturn.plugins.module_utils._userdb import (
    CHANGES,
    UserdbError,
    create,
    fingerprint,
    plan,
    read,
    write,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", default="/var/lib/turn/turndb"),
            realm=dict(type="str", required=True),
            secrets=dict(type="list", elements="str", default=[], no_log=True),
            # Names are not secret (and no_log on them would mask every
            # substring equal to a name, realm included); passwords are.
            users=dict(
                type="list",
                elements="dict",
                default=[],
                options=dict(
                    name=dict(type="str", required=True), password=dict(type="str", required=True, no_log=True)
                ),
            ),
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
        module.fail_json(
            msg="coturn_userdb: users: each name may appear once (got "
            + ", ".join(sorted({n for n in names if names.count(n) > 1}))
            + " twice)"
        )
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
            current_secrets, current_users = read(path, realm)
        except UserdbError as exc:
            module.fail_json(msg=f"coturn_userdb: {exc}")

    todo = plan(current_secrets, current_users, realm, p["secrets"], p["users"])
    changed = not exists or any(todo[k] for k in CHANGES)
    if changed and not module.check_mode:
        try:
            if not exists:
                create(path, p["schema"], p["owner"], p["group"])
            write(path, realm, todo)
        except UserdbError as exc:
            module.fail_json(msg=f"coturn_userdb: {exc}")

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
        result["diff"] = {
            "before": before,
            "after": after,
            "before_header": f"{path} ({realm})",
            "after_header": f"{path} ({realm})",
        }
    module.exit_json(**result)


if __name__ == "__main__":
    main()

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure helpers behind coturn_userdb (module_utils/_userdb.py): user keys, fingerprints and the plan.

main() against a real SQLite file, and coturn's own turnadmin, are in
tests/unit/plugins/modules/test_coturn_userdb.py.
"""

from __future__ import annotations

import hashlib
import re

from ansible_collections.veza.coturn.plugins.module_utils._userdb import fingerprint, plan, user_key

REALM = "turn.example.test"
OTHER_REALM = "other.example.test"
SECRET_A = "secret-A-0123456789abcdef"
SECRET_B = "secret-B-fedcba9876543210"
SECRET_OLD = "secret-OLD-5555555555555555"
PW_ALICE = "alice-password-1111"
PW_ALICE_NEW = "alice-password-2222"
PW_BOB = "bob-password-3333"
PW_CAROL = "carol-password-4444"


# --------------------------------------------------------------------------
# pure helpers


def test_user_key_is_md5_of_name_realm_password():
    want = hashlib.md5(b"alice:turn.example.test:alice-password-1111").hexdigest()
    assert user_key("alice", REALM, PW_ALICE) == want
    # fixed vector: echo -n 'alice:r.test:pw1234' | md5sum
    assert user_key("alice", "r.test", "pw1234") == "3cb00b9a6a401a47af9383a56ec43eab"
    assert re.fullmatch(r"[0-9a-f]{32}", user_key("ü", "r", "pässword"))
    assert user_key("ü", "r", "pässword") == hashlib.md5("ü:r:pässword".encode("utf-8")).hexdigest()


def test_fingerprint():
    assert fingerprint(SECRET_A) == hashlib.sha256(SECRET_A.encode()).hexdigest()[:12]
    assert len(fingerprint("x")) == 12
    assert fingerprint(SECRET_A) != fingerprint(SECRET_B)


def _users(*pairs):
    return [{"name": n, "password": p} for n, p in pairs]


def test_plan_from_empty():
    todo = plan([], {}, REALM, [SECRET_A, SECRET_B], _users(("bob", PW_BOB), ("alice", PW_ALICE)))
    assert todo["add_secrets"] == [SECRET_A, SECRET_B]
    assert todo["remove_secrets"] == []
    assert todo["add_users"] == ["alice", "bob"]  # sorted
    assert todo["remove_users"] == [] and todo["update_users"] == []
    assert todo["keys"] == {"alice": user_key("alice", REALM, PW_ALICE), "bob": user_key("bob", REALM, PW_BOB)}
    assert todo["secrets"] == [SECRET_A, SECRET_B]


def test_plan_remove_everything():
    todo = plan([SECRET_A], {"alice": "k"}, REALM, [], [])
    assert todo["remove_secrets"] == [SECRET_A]
    assert todo["remove_users"] == ["alice"]
    assert todo["add_secrets"] == todo["add_users"] == todo["update_users"] == []
    assert todo["keys"] == {} and todo["secrets"] == []


def test_plan_mixed_add_remove_update():
    current_users = {
        "alice": user_key("alice", REALM, PW_ALICE),  # password changes
        "bob": user_key("bob", REALM, PW_BOB),  # unchanged
        "zed": "deadbeef",  # undeclared
    }
    todo = plan(
        [SECRET_OLD, SECRET_A],
        current_users,
        REALM,
        [SECRET_A, SECRET_B],
        _users(("alice", PW_ALICE_NEW), ("bob", PW_BOB), ("carol", PW_CAROL)),
    )
    assert todo["add_secrets"] == [SECRET_B]
    assert todo["remove_secrets"] == [SECRET_OLD]
    assert todo["add_users"] == ["carol"]
    assert todo["remove_users"] == ["zed"]
    assert todo["update_users"] == ["alice"]
    assert todo["keys"]["alice"] == user_key("alice", REALM, PW_ALICE_NEW)


def test_plan_no_op():
    current_users = {"alice": user_key("alice", REALM, PW_ALICE)}
    todo = plan([SECRET_A, SECRET_B], current_users, REALM, [SECRET_B, SECRET_A], _users(("alice", PW_ALICE)))
    for key in ("add_secrets", "remove_secrets", "add_users", "remove_users", "update_users"):
        assert todo[key] == [], key
    assert todo["secrets"] == [SECRET_B, SECRET_A]  # declared order, the first one mints


def test_plan_user_key_depends_on_realm():
    current_users = {"alice": user_key("alice", OTHER_REALM, PW_ALICE)}
    todo = plan([], current_users, REALM, [], _users(("alice", PW_ALICE)))
    assert todo["update_users"] == ["alice"]


def test_plan_duplicate_secrets_collapsed():
    todo = plan([], {}, REALM, [SECRET_B, SECRET_A, SECRET_B, SECRET_A], [])
    assert todo["add_secrets"] == [SECRET_B, SECRET_A]
    assert todo["secrets"] == [SECRET_B, SECRET_A]
    todo = plan([SECRET_A], {}, REALM, [SECRET_A, SECRET_A], [])
    assert todo["add_secrets"] == [] and todo["remove_secrets"] == [] and todo["secrets"] == [SECRET_A]

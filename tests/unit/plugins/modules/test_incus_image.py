# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for veza.coturn.incus_image against the fake Incus daemon (tests/unit/plugins/incus_fake.py)."""

from __future__ import annotations

from ansible_collections.veza.coturn.plugins.modules import incus_image
from ansible_collections.veza.coturn.tests.unit.plugins.incus_fake import FINGERPRINT, run_main


def _image(capsys, fake, check_mode=False, **args):
    args = dict(dict(alias="test-deb12", state="absent"), **args)
    return run_main(
        capsys, incus_image.main, dict(args, socket=fake.socket, _ansible_check_mode=check_mode, _ansible_diff=True)
    )


def test_delete_check_mode_then_real_then_idempotent(fake, capsys):
    code, out = _image(capsys, fake, check_mode=True)
    assert code == 0 and out["changed"] is True and out["actions"] == ["delete"]
    assert out["image"] == {"alias": "test-deb12", "fingerprint": FINGERPRINT}
    assert out["diff"]["before"] == {"state": "present", "alias": "test-deb12", "fingerprint": FINGERPRINT}
    assert fake.writes == [] and FINGERPRINT in fake.images
    code, out = _image(capsys, fake)
    assert code == 0 and out["changed"] is True
    assert fake.writes == [("DELETE", "/1.0/images/" + FINGERPRINT)]
    assert FINGERPRINT not in fake.images and "test-deb12" not in fake.aliases
    assert any(r[1].endswith("/wait") for r in fake.requests)  # the deletion was waited for
    fake.requests.clear()
    code, out = _image(capsys, fake)
    assert code == 0 and out["changed"] is False and out["image"] == {} and fake.writes == []


def test_only_absent_is_supported(fake, capsys):
    code, out = _image(capsys, fake, state="present")
    assert code == 1 and out["msg"].startswith("value of state must be one of: absent, got: present")

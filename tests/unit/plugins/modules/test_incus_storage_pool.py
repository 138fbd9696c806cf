# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for veza.coturn.incus_storage_pool against the fake Incus daemon (tests/unit/plugins/incus_fake.py)."""

from __future__ import annotations

from ansible_collections.veza.coturn.plugins.modules import incus_storage_pool
from ansible_collections.veza.coturn.tests.unit.plugins.incus_fake import run_main


def _pool(capsys, fake, check_mode=False, **args):
    args = dict(dict(name="default", driver="dir"), **args)
    return run_main(
        capsys,
        incus_storage_pool.main,
        dict(args, socket=fake.socket, _ansible_check_mode=check_mode, _ansible_diff=True),
    )


def test_create_check_mode_then_real_then_idempotent(fake, capsys):
    code, out = _pool(capsys, fake, check_mode=True)
    assert code == 0 and out["changed"] is True and out["actions"] == ["create"]
    assert out["diff"] == {"before": {"state": "absent"}, "after": {"state": "present", "driver": "dir"}}
    assert fake.writes == [] and fake.pools == {}
    code, out = _pool(capsys, fake)
    assert code == 0 and out["changed"] is True and out["storage_pool"]["driver"] == "dir"
    post = [r for r in fake.requests if r[0] == "POST"][0]
    assert post[1] == "/1.0/storage-pools" and post[3] == {"name": "default", "driver": "dir"}
    fake.requests.clear()
    code, out = _pool(capsys, fake, driver="btrfs")  # an existing pool is left as it is
    assert code == 0 and out["changed"] is False and fake.writes == []
    assert fake.pools["default"]["driver"] == "dir"


def test_config_on_create_and_refusal(fake, capsys):
    code, out = _pool(capsys, fake, name="p2", config={"source": "/srv/p2", "x.flag": True})
    assert code == 0 and fake.pools["p2"]["config"] == {"source": "/srv/p2", "x.flag": "true"}
    code, out = _pool(capsys, fake, name="p3", driver="ceph")
    assert code == 1 and out["msg"] == (
        'incus_storage_pool: Incus refused to create storage pool "p3": ' 'Driver "ceph" is not supported'
    )

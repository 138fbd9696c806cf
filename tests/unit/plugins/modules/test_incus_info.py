# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for veza.coturn.incus_info against the fake Incus daemon (tests/unit/plugins/incus_fake.py)."""

from __future__ import annotations

import pytest

from ansible_collections.veza.coturn.plugins.modules import incus_info
from ansible_collections.veza.coturn.tests.unit.plugins.incus_fake import FINGERPRINT, run_main


def _info(capsys, fake, **args):
    return run_main(capsys, incus_info.main, dict(args, socket=fake.socket, _ansible_check_mode=True))


def test_server(fake, capsys):
    code, out = _info(capsys, fake)
    assert code == 0 and out["changed"] is False and out["exists"] is True
    assert out["metadata"]["api_version"] == "1.0"
    assert fake.requests[-1][:3] == ("GET", "/1.0", {})


@pytest.mark.parametrize(
    "kind, name, path",
    [
        ("network", "vz br", "/1.0/networks/vz%20br"),
        ("storage_pool", "pool", "/1.0/storage-pools/pool"),
        ("image_alias", "debian/12", "/1.0/images/aliases/debian%2F12"),
        ("instance", "turn1", "/1.0/instances/turn1"),
    ],
)
def test_missing_resource_is_not_an_error(fake, capsys, kind, name, path):
    code, out = _info(capsys, fake, kind=kind, name=name)
    assert code == 0 and out["exists"] is False and out["metadata"] == {}
    assert fake.requests[-1][0] == "GET"


def test_existing_resources_and_project(fake, capsys):
    fake.networks["vzbr0"] = {
        "name": "vzbr0",
        "type": "bridge",
        "managed": True,
        "config": {"ipv4.address": "10.210.30.1/24"},
    }
    code, out = _info(capsys, fake, kind="network", name="vzbr0", project="default")
    assert code == 0 and out["exists"] is True
    assert out["metadata"]["config"] == {"ipv4.address": "10.210.30.1/24"}
    assert fake.requests[-1][2] == {"project": "default"}
    code, out = _info(capsys, fake, kind="image_alias", name="test-deb12")
    assert out["exists"] is True and out["metadata"]["target"] == FINGERPRINT
    assert fake.requests[-1][2] == {}
    fake.add_instance("turn1", config={"user.veza.exposure": "nat 198.51.100.1"})
    code, out = _info(capsys, fake, kind="instance", name="turn1")
    assert out["metadata"]["config"]["user.veza.exposure"] == "nat 198.51.100.1"


def test_name_required_and_unreachable_daemon(fake, capsys, tmp_path):
    code, out = _info(capsys, fake, kind="network")
    assert code == 1 and out["msg"] == "kind is network but all of the following are missing: name"
    code, out = run_main(capsys, incus_info.main, dict(socket=str(tmp_path / "none.sock")))
    assert code == 1
    assert out["msg"].startswith("incus_info: cannot reach Incus at unix:%s" % (tmp_path / "none.sock"))

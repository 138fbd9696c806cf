# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for incus_instance's options: what normalize_params does after the argument spec."""

from __future__ import annotations

import pytest

from ansible_collections.veza.coturn.plugins.module_utils._incus.errors import ModuleFailure
from ansible_collections.veza.coturn.tests.unit.plugins.incus_fake import options


def test_normalize_coerces_values():
    p = options(
        name="hb-x",
        config={"a.b": True, "c.d": 3, "e.f": 1.5, "g.h": None},
        devices={"p": {"type": "proxy", "nat": False, "port": 80}, "q": None},
    )
    assert p["config"] == {"a.b": "true", "c.d": "3", "e.f": "1.5", "g.h": None}
    assert p["devices"] == {"p": {"type": "proxy", "nat": "false", "port": "80"}}
    assert p["state"] == "started" and p["project"] == "default" and p["profiles"] == ["default"]


def test_source_is_shaped_for_the_api():
    assert options(name="hb-x", source={"alias": "a"})["source"] == {"type": "image", "alias": "a", "mode": "pull"}


# Only what the argument spec cannot say: each message once, from normalize_params.
@pytest.mark.parametrize(
    "params, message",
    [
        ({"name": ""}, "incus_instance: name: a non-empty string is required"),
        ({"project": ""}, "incus_instance: project: a non-empty string is required"),
        ({"wait_timeout": -3}, "incus_instance: wait_timeout: must be a positive number of seconds (got -3)"),
        ({"profiles": ["default", ""]}, "incus_instance: profiles: value must be a list of profile names"),
        ({"source": {"alias": ""}}, "incus_instance: source.alias: value must be a non-empty string"),
        (
            {"source": {"alias": "a", "protocol": "incus"}},
            "incus_instance: source.protocol: only meaningful together with source.server",
        ),
        (
            {"config": {"volatile.uuid": None}},
            "incus_instance: config.volatile.uuid: volatile keys are maintained by Incus and cannot be managed",
        ),
        (
            {"devices": {"e": {"type": ""}}},
            'incus_instance: devices.e: the key "type" is required (nic, disk, proxy, ...)',
        ),
        ({"url": "https://"}, "incus_instance: url: must look like https://host:8443 (got 'https://')"),
    ],
)
def test_checks_the_spec_cannot_express(params, message):
    with pytest.raises(ModuleFailure) as err:
        options(**dict({"name": "hb-x"}, **params))
    assert err.value.msg == message

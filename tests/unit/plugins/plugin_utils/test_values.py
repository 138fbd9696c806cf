# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The value kinds (plugin_utils/_values), the filters over them, and the
rule that every string option of every role has a kind."""

from __future__ import annotations

import glob
import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.veza.coturn.plugins.filter import values as value_filters
from ansible_collections.veza.coturn.plugins.plugin_utils import _values

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))

# The payloads of issue 11: each must be refused by every one-line kind.
HOSTILE = {
    "newline-directive": "x\nno-auth",
    "carriage-return": "x\rno-auth",
    "unicode-line-separator": "x\u2028no-auth",
    "nul": "x\x00y",
    "leading-space": " x",
    "trailing-space": "x ",
    "ten-thousand": "a" * 10000,
}
ONE_LINE_KINDS = sorted(k for k, kind in _values.KINDS.items() if not kind.multiline)


@pytest.mark.parametrize("kind", ONE_LINE_KINDS)
@pytest.mark.parametrize("payload", sorted(HOSTILE))
def test_one_line_kinds_refuse_hostile_values(kind, payload):
    assert _values.problem(HOSTILE[payload], kind) is not None


@pytest.mark.parametrize("kind", sorted(_values.KINDS))
def test_every_kind_takes_its_own_example_or_says_what_it_is(kind):
    example = _values.KINDS[kind].example
    if " " not in example:  # "the output of ..." examples describe, not show
        assert _values.problem(example, kind) is None


@pytest.mark.parametrize(
    "kind, value",
    [
        ("realm", "turn.veza.test"),
        ("realm", "TURN-1.example.org"),
        ("secret", "a" * 256),
        ("secret", "Zm9vYmFy+/=="),
        ("turn_username", "alice@example.org"),
        ("turn_url", "turn:198.51.100.1:3478?transport=udp"),
        ("turn_url", "turns:turn.example.org:5349?transport=tcp"),
        ("turn_url", "turn:[2001:db8::1]:3478"),
        ("stun_url", "stun:turn.example.org"),
        ("ip_range", "10.0.0.1-10.0.0.9"),
        ("ip_range", "fd00::/8"),
        ("ip", "::1"),
        ("ipv4", "10.210.30.10"),
        ("http_url", "https://images.linuxcontainers.org"),
        ("http_url", "http://[2001:db8::1]:8080/debian"),
        ("abs_path", "/var/lib/turn/turndb"),
        ("local_path", "/home/zoë/my certs/fullchain.pem"),
        ("command", "systemctl restart webrtc-backend"),
        ("unix_name", "www-data"),
        ("unix_name", "1000"),
        ("cert_name", "*.example.org"),
        ("instance_name", "coturn-1"),
        ("image_alias", "debian/12"),
        ("pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        ("incus_config_value", "lxc.mount.auto = proc\nlxc.apparmor.profile = unconfined"),
        ("ip_or_empty", ""),
        ("secret_or_empty", ""),
    ],
)
def test_good_values_pass(kind, value):
    assert _values.problem(value, kind) is None


@pytest.mark.parametrize(
    "kind, value, phrase",
    [
        ("realm", "turn.veza.test\nno-auth", "holds a line break at character 15"),
        ("realm", "turn veza", "holds the character ' ' at character 5"),
        ("realm", "é.test", "holds the non-ASCII character U+00E9 at character 1"),
        ("realm", "a" * 128, "is 128 characters long, more than 127"),
        ("realm", "-bad.test", "starts or ends with '-'"),
        ("realm", "", "is empty"),
        ("turn_url", "turn:198.51.100.1:3478?transport=udp\nWEBRTC_X=1", "holds a line break at character 37"),
        ("turn_url", "turn://turn.example.org", "has '//' after the scheme"),
        ("turn_url", "turn:h:3478?transport=sctp", "has a query other than"),
        ("turn_url", "stun:h", "does not start with turn: or turns:"),
        ("stun_url", "stun:h?transport=udp", "which a STUN URI cannot have"),
        ("stun_url", "stun:h:0", "is not a number from 1 to 65535"),
        ("turn_url", "turn:2001:db8::1", "is not a number"),
        ("secret", "abc#defghijklmnopq", "holds a character outside that set at character 4"),
        ("secret", "a" * 257, "more than 256"),
        ("turn_username", "a:b", "holds the character ':' at character 2"),
        ("ip_range", "10.0.0.0/33", "is neither an address"),
        ("ip_range", "10.0.0.9-10.0.0.1", "is neither an address"),
        ("http_url", "http://deb.debian.org/deb ian", "has a path with characters"),
        ("http_url", "ftp://deb.debian.org", "is not an http:// or https:// URL"),
        ("abs_path", "var/lib", "is not an absolute path"),
        ("ifname", "a" * 16, "more than 15"),
        ("ipv4", "::1", "is not an IPv4 address"),
        ("command", "reload\nrm -rf /", "holds a line break"),
        ("pem", "hello", "holds no '-----BEGIN ...-----' line"),
        ("local_path", "   ", "starts or ends with white space"),
    ],
)
def test_bad_values_are_named(kind, value, phrase):
    found = _values.problem(value, kind)
    assert found is not None and phrase in found, found


def test_messages_name_the_variable_and_never_show_a_secret():
    secret = "hunter2hunter2hunter2\nno-auth"
    text = _values.message("coturn", "coturn_auth_secrets[0]", "secret", secret)
    assert text.startswith("coturn: coturn_auth_secrets[0] must be a secret")
    assert "hunter2" not in text and "29 characters, not shown" in text
    text = _values.message("coturn", "coturn_realm", "realm", "x" * 10000)
    assert "(10000 characters)" in text and len(text) < 400


def test_problems_walk_lists_dicts_and_incus_config():
    found = _values.problems(
        "r",
        {
            "users": "static_users",
            "config": "incus_config",
            "urls": "turn_url",
            "unset": "realm",
            "ip": "ip_or_empty",
        },
        {
            "users": [{"name": "a:b", "password": "x y"}],
            "config": {"raw.lxc": "a\nb", "bad key": "1"},
            "urls": ["turn:h", "turn:h\nX=1"],
            "unset": None,
            "ip": "",
        },
    )
    assert [f.split(" must ")[0] for f in found] == [
        "r: users[0].name",
        "r: users[0].password",
        "r: config keys",
        "r: urls[1]",
    ]


def test_value_problems_filter_pairs_names_and_values():
    assert value_filters.value_problems({"a": "realm", "b": "ip"}, ["turn.example.org", "10.0.0.1"], "r") == []
    with pytest.raises(AnsibleFilterError, match="2 variable names but 1 values"):
        value_filters.value_problems({"a": "realm", "b": "ip"}, ["x"], "r")
    with pytest.raises(AnsibleFilterError, match="unknown value kind"):
        value_filters.value_problems({"a": "nosuch"}, ["x"], "r")


@pytest.mark.parametrize("value", ["x\ny", "x\r", "x\u2028", "x\x00", "x\x1b[31m"])
def test_one_line_filter_refuses_what_would_split_a_line(value):
    with pytest.raises(AnsibleFilterError, match="coturn_realm holds"):
        value_filters.one_line(value, "coturn_realm")


def test_one_line_filter_passes_one_line():
    assert value_filters.one_line("turn.veza.test", "coturn_realm") == "turn.veza.test"
    assert value_filters.one_line(3478, "port") == "3478"


@pytest.mark.parametrize(
    "address, phrase",
    [
        ("10.210.30.1", "is the bridge's own address"),
        ("10.210.30.0", "network address"),
        ("10.210.30.255", "broadcast address"),
        ("10.210.31.5", "is not on the bridge's subnet"),
        ("10.210.30.10", ""),
    ],
)
def test_host_address_problem(address, phrase):
    found = value_filters.host_address_problem(address, "10.210.30.1/24")
    assert (phrase in found) if phrase else found == ""


def _role_options():
    for path in sorted(glob.glob(os.path.join(REPO, "roles", "*", "meta", "argument_specs.yml"))):
        role = path.split(os.sep)[-3]
        with open(path, encoding="utf-8") as f:
            spec = yaml.safe_load(f)["argument_specs"]["main"]["options"]
        for name, option in spec.items():
            yield role, name, option


def _kinds(role):
    path = os.path.join(REPO, "roles", role, "vars", "main.yml")
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)["__%s_value_kinds" % role]


# Options whose every value the argument spec already restricts (choices),
# or that are not strings.
def _needs_kind(option):
    if option.get("choices"):
        return False
    kind = option.get("type", "str")
    return (
        kind in ("str", "path", "raw")
        or (kind in ("list", "dict") and option.get("elements", "str") in ("str", "dict"))
        or kind == "dict"
    )


@pytest.mark.parametrize("role, name, option", list(_role_options()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_string_option_has_a_kind(role, name, option):
    kinds = _kinds(role)
    if _needs_kind(option):
        assert name in kinds, "%s has no kind in roles/%s/vars/main.yml __%s_value_kinds" % (name, role, role)
    if name in kinds:
        kind = kinds[name]
        assert kind in _values.DICT_KINDS or kind == "incus_config" or _values.kind_of(kind)

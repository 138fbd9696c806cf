# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the standard-library address helpers (plugin_utils/_net.py) and
the filter and test plugins that expose them."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.veza.coturn.plugins.filter import network as network_filters
from ansible_collections.veza.coturn.plugins.plugin_utils import _net
from ansible_collections.veza.coturn.plugins.plugin_utils._net import (
    cidr_host,
    cidr_prefix,
    ip_in_cidr,
    ip_range,
    is_cidr,
    is_ip_literal,
)
from ansible_collections.veza.coturn.plugins.test import network as network_tests

# --------------------------------------------------------------------------
# is_ip_literal


@pytest.mark.parametrize(
    "value",
    [
        "10.210.30.1",
        "0.0.0.0",
        "255.255.255.255",
        "127.0.0.1",
        "::",
        "::1",
        "fe80::1",
        "2001:db8::42",
        "2001:0db8:0000:0000:0000:0000:0000:0001",
        "::ffff:10.0.0.1",
    ],
)
def test_is_ip_literal_true(value):
    assert is_ip_literal(value) is True


@pytest.mark.parametrize(
    "value",
    [
        "",
        " ",
        "turn.example.org",
        "localhost",
        "10.0.0",
        "10.0.0.256",
        "10.0.0.1/32",
        "10.0.0.0/24",
        "2001:db8::/32",
        "::1/128",
        " 10.0.0.1",
        "10.0.0.1 ",
        "10.0.0.1-10.0.0.2",
        "[::1]",
        "10.0.0.1:3478",
        None,
        167772161,
        1.5,
        [],
        "gggg::1",
    ],
)
def test_is_ip_literal_false(value):
    assert is_ip_literal(value) is False


# --------------------------------------------------------------------------
# is_cidr


@pytest.mark.parametrize(
    "value",
    [
        "10.0.0.0/8",
        "10.210.30.0/24",
        "10.210.30.1/24",
        "10.0.0.1/32",
        "0.0.0.0/0",
        "2001:db8::/32",
        "fe80::1/64",
        "::1/128",
        "::/0",
    ],
)
def test_is_cidr_true(value):
    assert is_cidr(value) is True


@pytest.mark.parametrize(
    "value",
    [
        "10.0.0.0",
        "::1",
        "",
        "/24",
        "10.0.0.0/",
        "10.0.0.0/33",
        "2001:db8::/129",
        "10.0.0.0/-1",
        "10.0.0.0/x",
        "host.example/24",
        "10.0.0.256/24",
        None,
        10,
        "10.0.0.0/8/8",
    ],
)
def test_is_cidr_false(value):
    assert is_cidr(value) is False


# --------------------------------------------------------------------------
# cidr_host


@pytest.mark.parametrize(
    "cidr, index, want",
    [
        ("10.210.30.0/24", 1, "10.210.30.1"),
        ("10.210.30.0/24", 254, "10.210.30.254"),
        ("10.210.30.0/24", "10", "10.210.30.10"),
        ("10.210.30.77/24", 1, "10.210.30.1"),  # host bits are ignored
        ("10.0.0.0/8", 256, "10.0.1.0"),
        ("192.168.0.0/30", 2, "192.168.0.2"),
        ("192.168.0.0/31", 1, "192.168.0.1"),  # /31: no broadcast address to exclude
        ("2001:db8::/64", 1, "2001:db8::1"),
        ("2001:db8::/64", 65536, "2001:db8::1:0"),
        ("2001:db8::/127", 1, "2001:db8::1"),
        ("fd00:10:210:30::/64", "16", "fd00:10:210:30::10"),
    ],
)
def test_cidr_host(cidr, index, want):
    assert cidr_host(cidr, index) == want


def test_cidr_host_default_index_is_first_host():
    assert cidr_host("10.210.30.0/24") == "10.210.30.1"
    assert cidr_host("2001:db8::/64") == "2001:db8::1"


@pytest.mark.parametrize(
    "cidr, index",
    [
        ("10.210.30.0/24", 0),  # network address
        ("10.210.30.0/24", -1),
        ("10.210.30.0/24", 255),  # broadcast
        ("10.210.30.0/24", 256),
        ("192.168.0.0/30", 3),
        ("192.168.0.0/31", 2),
        ("10.0.0.1/32", 1),
        ("2001:db8::/127", 2),
        ("2001:db8::1/128", 1),
        ("2001:db8::/64", 0),
    ],
)
def test_cidr_host_out_of_range(cidr, index):
    with pytest.raises(AnsibleFilterError, match=r"cidr_host: .* has no host number " + str(index)):
        cidr_host(cidr, index)


@pytest.mark.parametrize("index", ["abc", "1.5", None, [1]])
def test_cidr_host_bad_index(index):
    with pytest.raises(AnsibleFilterError, match=r"cidr_host: index .* is not an integer"):
        cidr_host("10.210.30.0/24", index)


@pytest.mark.parametrize("cidr", ["nonsense", "", "10.0.0.0/33", "10.0.0.256/24", None])
def test_cidr_host_bad_cidr(cidr):
    with pytest.raises(AnsibleFilterError, match=r"cidr_host: .* is not a CIDR such as 10\.210\.30\.0/24"):
        cidr_host(cidr, 1)


# --------------------------------------------------------------------------
# cidr_prefix


@pytest.mark.parametrize(
    "value, want",
    [
        ("10.210.30.1/24", "10.210.30.0/24"),
        ("10.210.30.0/24", "10.210.30.0/24"),
        ("10.255.1.2/8", "10.0.0.0/8"),
        ("10.0.0.1", "10.0.0.1/32"),
        ("10.0.0.1/255.255.0.0", "10.0.0.0/16"),
        ("2001:db8::1/64", "2001:db8::/64"),
        ("2001:DB8:0:0::1/48", "2001:db8::/48"),
        ("::1", "::1/128"),
    ],
)
def test_cidr_prefix(value, want):
    assert cidr_prefix(value) == want


@pytest.mark.parametrize("value", ["nonsense", "", "10.0.0.0/33", "2001:db8::/129", "10.0.0.0/x"])
def test_cidr_prefix_bad(value):
    with pytest.raises(AnsibleFilterError, match=r"cidr_prefix: .* is not a CIDR"):
        cidr_prefix(value)


# --------------------------------------------------------------------------
# ip_in_cidr


@pytest.mark.parametrize(
    "address, cidr, want",
    [
        ("10.210.30.5", "10.210.30.0/24", True),
        ("10.210.30.0", "10.210.30.0/24", True),
        ("10.210.30.255", "10.210.30.0/24", True),
        ("10.210.31.0", "10.210.30.0/24", False),
        ("10.210.30.5", "10.210.30.77/24", True),  # host bits ignored
        ("192.168.1.1", "10.0.0.0/8", False),
        ("10.0.0.1", "10.0.0.1", True),
        ("10.0.0.1", "0.0.0.0/0", True),
        ("2001:db8::5", "2001:db8::/32", True),
        ("2001:db9::5", "2001:db8::/32", False),
        ("10.0.0.1", "::/0", False),  # families never mix
        ("::ffff:10.0.0.1", "10.0.0.0/8", False),
        ("::1", "10.0.0.0/8", False),
        ("turn.example.org", "10.0.0.0/8", False),  # not an address
        ("10.0.0.0/8", "10.0.0.0/8", False),
        ("", "10.0.0.0/8", False),
        (None, "10.0.0.0/8", False),
    ],
)
def test_ip_in_cidr(address, cidr, want):
    assert ip_in_cidr(address, cidr) is want


def test_ip_in_cidr_bad_cidr():
    with pytest.raises(AnsibleFilterError, match=r"ip_in_cidr: 'nonsense' is not a CIDR"):
        ip_in_cidr("10.0.0.1", "nonsense")


def test_ip_in_cidr_bad_address_short_circuits_bad_cidr():
    # a non-address is simply "not in"; the CIDR is not even parsed
    assert ip_in_cidr("nonsense", "nonsense") is False


# --------------------------------------------------------------------------
# ip_range


@pytest.mark.parametrize(
    "value, want",
    [
        ("10.0.0.0/8", "10.0.0.0-10.255.255.255"),
        ("10.210.30.0/24", "10.210.30.0-10.210.30.255"),
        ("10.210.30.9/24", "10.210.30.0-10.210.30.255"),
        ("172.16.0.0/12", "172.16.0.0-172.31.255.255"),
        ("192.168.0.0/31", "192.168.0.0-192.168.0.1"),
        ("0.0.0.0/0", "0.0.0.0-255.255.255.255"),
        ("10.0.0.1/32", "10.0.0.1"),
        ("10.0.0.1", "10.0.0.1"),
        (" 10.0.0.1 ", "10.0.0.1"),
        ("::1", "::1"),
        ("::1/128", "::1"),
        ("fe80::/10", "fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
        ("2001:db8::/126", "2001:db8::-2001:db8::3"),
        ("10.0.0.1-10.0.0.9", "10.0.0.1-10.0.0.9"),
        (" 10.0.0.1-10.0.0.9 ", "10.0.0.1-10.0.0.9"),
        ("2001:db8::1-2001:db8::9", "2001:db8::1-2001:db8::9"),
    ],
)
def test_ip_range(value, want):
    assert ip_range(value) == want


@pytest.mark.parametrize("value", ["nonsense", "", "10.0.0.0/33", "10.0.0.256", "10.0.0.0/8-x", None])
def test_ip_range_garbage(value):
    with pytest.raises(AnsibleFilterError, match=r"ip_range: .* is not a CIDR"):
        ip_range(value)


@pytest.mark.parametrize(
    "value", ["a-b", "10.0.0.1-", "-10.0.0.1", "10.0.0.1-host", "10.0.0.1 - 10.0.0.2", "10.0.0.1-10.0.0.2-10.0.0.3"]
)
def test_ip_range_bad_range(value):
    with pytest.raises(AnsibleFilterError, match=r"ip_range: .* is not FIRST-LAST with two addresses"):
        ip_range(value)


@pytest.mark.parametrize("value", ["10.0.0.9-10.0.0.1", "10.0.0.1-::1", "::1-10.0.0.1"])
def test_ip_range_inconsistent_range_rejected(value):
    with pytest.raises(AnsibleFilterError, match=r"ip_range: "):
        ip_range(value)


# --------------------------------------------------------------------------
# plugin maps


def test_filter_module_map():
    filters = network_filters.FilterModule().filters()
    assert filters == {
        "cidr_host": cidr_host,
        "cidr_prefix": cidr_prefix,
        "ip_range": ip_range,
        "ip_kind": _net.ip_kind,
    }
    assert filters["cidr_host"] is _net.cidr_host


def test_test_module_map():
    tests = network_tests.TestModule().tests()
    assert tests == {"is_ip_literal": is_ip_literal, "is_cidr": is_cidr, "ip_in_cidr": ip_in_cidr}
    assert tests["ip_in_cidr"]("10.0.0.1", "10.0.0.0/8") is True


@pytest.mark.parametrize(
    "address, kind",
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.1.2.3", "private"),
        ("100.64.0.1", "private"),
        ("198.51.100.1", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("8.8.8.8", "global"),
        ("2606:4700::1111", "global"),
    ],
)
def test_ip_kind(address, kind):
    assert _net.ip_kind(address) == kind


def test_ip_kind_refuses_a_name():
    with pytest.raises(AnsibleFilterError, match="ip_kind: 'turn.example.org' is not an IP address"):
        _net.ip_kind("turn.example.org")

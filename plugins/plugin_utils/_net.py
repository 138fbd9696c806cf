# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address helpers behind the network filters and tests (standard library only).

ansible.utils' ipaddr family needs the netaddr library; these need nothing,
so a fresh controller can validate input before it installs anything.
They raise AnsibleFilterError and run on the controller only, hence
plugin_utils (module_utils may not import ansible.errors).
host_address_problem() raises nothing: it names what is wrong with a
container's static address, for the value checks (plugin_utils/_values).
"""

from __future__ import annotations

import ipaddress

from ansible.errors import AnsibleFilterError


def _network(value, name):
    try:
        return ipaddress.ip_network(str(value), strict=False)
    except ValueError as exc:
        raise AnsibleFilterError(f"{name}: {value!r} is not a CIDR such as 10.210.30.0/24 ({exc})") from exc


def is_ip_literal(value):
    """True when value is a bare IPv4 or IPv6 address (no prefix, no name)."""
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True


def is_cidr(value):
    """True when value is ADDRESS/PREFIX with an explicit prefix length."""
    text = str(value)
    if "/" not in text:
        return False
    try:
        ipaddress.ip_interface(text)
    except ValueError:
        return False
    return True


def cidr_host(value, index=1):
    """The index-th host address of a CIDR (1 = the first usable one)."""
    net = _network(value, "cidr_host")
    try:
        index = int(index)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"cidr_host: index {index!r} is not an integer") from exc
    if index < 1 or index >= net.num_addresses - (1 if net.version == 4 and net.prefixlen < 31 else 0):
        raise AnsibleFilterError(f"cidr_host: {net} has no host number {index}")
    return str(net.network_address + index)


def cidr_prefix(value):
    """The canonical network of a CIDR: 10.210.30.1/24 -> 10.210.30.0/24."""
    return str(_network(value, "cidr_prefix"))


def ip_in_cidr(address, cidr):
    """True when address lies inside cidr."""
    if not is_ip_literal(address):
        return False
    return ipaddress.ip_address(str(address)) in _network(cidr, "ip_in_cidr")


def ip_range(value):
    """coturn's range form of a CIDR or address: 10.0.0.0/8 -> 10.0.0.0-10.255.255.255.

    coturn 4.6 reads denied-peer-ip/allowed-peer-ip as an address or a
    FIRST-LAST range; a range given that way already is passed through.
    """
    text = str(value).strip()
    if "-" in text and "/" not in text:
        first, _sep, last = text.partition("-")
        if is_ip_literal(first) and is_ip_literal(last):
            low, high = ipaddress.ip_address(first), ipaddress.ip_address(last)
            if low.version == high.version and low <= high:
                return text
        raise AnsibleFilterError(
            f"ip_range: {value!r} is not FIRST-LAST with two addresses of one family, FIRST <= LAST"
        )
    if is_ip_literal(text):
        return text
    net = _network(text, "ip_range")
    if net.num_addresses == 1:
        return str(net.network_address)
    return f"{net.network_address}-{net.broadcast_address}"


def ip_kind(value):
    """What kind of address value is, for checks on a public address.

    One of loopback, unspecified, multicast, link-local, private (RFC 1918,
    CGNAT, documentation, benchmark and other non-global ranges) or global.
    """
    try:
        address = ipaddress.ip_address(str(value))
    except ValueError as exc:
        raise AnsibleFilterError(f"ip_kind: {value!r} is not an IP address") from exc
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for kind, flag in (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("multicast", address.is_multicast),
        ("link-local", address.is_link_local),
    ):
        if flag:
            return kind
    return "global" if address.is_global else "private"


def host_address_problem(address, subnet):
    """Why address cannot be a container's static address on subnet (the bridge's ADDRESS/PREFIX), or None."""
    try:
        ip = ipaddress.ip_address(str(address))
        bridge = ipaddress.ip_interface(str(subnet))
    except ValueError:
        return None  # the kind checks name a malformed value
    net = bridge.network
    if ip.version != net.version or ip not in net:
        return "is not on the bridge's subnet"
    if ip == bridge.ip:
        return "is the bridge's own address, the containers' gateway"
    if ip == net.network_address and net.prefixlen < net.max_prefixlen - 1:
        return "is the subnet's network address"
    if net.version == 4 and ip == net.broadcast_address and net.prefixlen < 31:
        return "is the subnet's broadcast address"
    return None

# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How an instance's status and addresses are reported (pure functions on Incus' answers)."""

from __future__ import annotations


def status_to_state(status):
    if status is None:
        return "absent"
    return {"Running": "started", "Stopped": "stopped", "Frozen": "frozen"}.get(status, status.lower())


def ipv4_addresses(state):
    """``{iface: [ipv4, ...]}`` from GET /1.0/instances/<name>/state, loopback excluded."""
    result = {}
    for iface, info in sorted(((state or {}).get("network") or {}).items()):
        if iface == "lo":
            continue
        addrs = [
            a.get("address")
            for a in (info or {}).get("addresses") or []
            if a.get("family") == "inet" and a.get("address") and not a.get("address").startswith("127.")
        ]
        if addrs:
            result[iface] = addrs
    return result


def first_ipv4(addresses):
    if not addresses:
        return None
    if addresses.get("eth0"):
        return addresses["eth0"][0]
    for iface in sorted(addresses):
        if addresses[iface]:
            return addresses[iface][0]
    return None

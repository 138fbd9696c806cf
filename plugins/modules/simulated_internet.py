#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A simulated internet of network namespaces for tests and the local site."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: simulated_internet
short_description: Build a simulated internet out of network namespaces
version_added: 0.1.0
description:
  - Creates a namespace holding a bridge (the "internet"), joins this host to
    it with a veth pair carrying the host's public address, and adds one
    namespace per simulated machine, each with its own address on that
    bridge. Nothing leaves the machine.
  - Optionally installs a guard in nftables that drops traffic forwarded from
    an Incus bridge to private, link-local and CGNAT ranges, so that a relay
    wrongly accepting a forbidden peer still reaches nothing.
  - Refuses C(192.0.2.0/24) and C(203.0.113.0/24), because on the machines this
    project runs on, the uplink and the package mirror live there.
  - Needs root and C(ip) (iproute2) and, for the guard, C(nft).
options:
  state:
    description: C(present) builds or completes the network, C(absent) removes all of it.
    type: str
    choices: [present, absent]
    default: present
  namespace:
    description: Name of the "internet" namespace.
    type: str
    default: vz-inet
  host_interface:
    description: Host end of the veth pair into the internet (at most 15 characters).
    type: str
    default: vzpub0
  host_address:
    description: Host's public address with prefix, for example C(198.51.100.1/24).
    type: str
    required: true
  hosts:
    description: Simulated machines, each a namespace with one address on the internet.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Namespace name (at most 12 characters).
        type: str
        required: true
      address:
        description: Address with prefix, inside the internet's subnet.
        type: str
        required: true
  guard_bridge:
    description: Incus bridge whose forwarded traffic to private ranges is dropped; empty for no guard.
    type: str
    default: ""
  guard_allow:
    description: Destination ranges the guard lets through anyway (the test's own ranges).
    type: list
    elements: str
    default: []
author:
  - veza.coturn developers (@veza-coturn)
"""

EXAMPLES = r"""
- name: Simulated internet with a client and a peer
  veza.coturn.simulated_internet:
    host_address: 198.51.100.1/24
    hosts:
      - {name: vz-client, address: 198.51.100.10/24}
      - {name: vz-peer, address: 198.51.100.20/24}
    guard_bridge: vzbr0
    guard_allow: [10.210.30.0/24, 198.18.0.0/15]
"""

RETURN = r"""
actions:
  description: What was done, in order.
  returned: always
  type: list
  elements: str
  sample: ["netns add vz-inet", "veth vzpub0"]
"""

import hashlib
import ipaddress
import os

from ansible.module_utils.basic import AnsibleModule

_FORBIDDEN = [ipaddress.ip_network("192.0.2.0/24"), ipaddress.ip_network("203.0.113.0/24")]
_GUARDED = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10"]


class _Net:
    def __init__(self, module):
        self.module = module
        self.actions = []

    def run(self, *argv, check=True):
        rc, out, err = self.module.run_command(list(argv))
        if check and rc != 0:
            self.module.fail_json(
                msg=f"simulated_internet: {' '.join(argv)} failed: {err.strip() or out.strip()}", actions=self.actions
            )
        return rc, out

    def change(self, label, *commands):
        self.actions.append(label)
        if not self.module.check_mode:
            for argv in commands:
                self.run(*argv)

    def netns_exists(self, name):
        return os.path.exists(f"/run/netns/{name}")

    def link_exists(self, name, netns=None):
        prefix = ["ip", "-n", netns] if netns else ["ip"]
        return self.run(*prefix, "link", "show", "dev", name, check=False)[0] == 0

    def has_address(self, name, cidr, netns=None):
        prefix = ["ip", "-n", netns] if netns else ["ip"]
        rc, out = self.run(*prefix, "-o", "addr", "show", "dev", name, check=False)
        return rc == 0 and f" {cidr} " in out


def _guard_table(p):
    # One table per test network, so that removing one leaves the others.
    return "veza_guard_" + p["namespace"].replace("-", "_")


def _guard_ruleset(table, bridge, allow):
    allow_set = ", ".join(allow)
    guarded = ", ".join(_GUARDED)
    body = (
        f"table inet {table} {{\n"
        f"  chain forward {{\n"
        f"    type filter hook forward priority filter - 5; policy accept;\n"
        + (f'    iifname "{bridge}" ip daddr {{ {allow_set} }} accept\n' if allow else "")
        + f'    iifname "{bridge}" ip daddr {{ {guarded} }} drop\n'
        f'    iifname "{bridge}" ip6 daddr {{ fc00::/7, fe80::/10 }} drop\n'
        f"  }}\n"
        f"}}\n"
    )
    digest = hashlib.sha256(body.encode()).hexdigest()[:16]
    return body.replace("{\n  chain", f'{{\n  comment "veza {digest}"\n  chain', 1), digest


def ensure_present(net, p):
    inet = p["namespace"]
    if not net.netns_exists(inet):
        net.change(
            f"netns add {inet}",
            ["ip", "netns", "add", inet],
            ["ip", "-n", inet, "link", "set", "lo", "up"],
            ["ip", "-n", inet, "link", "add", "br0", "type", "bridge"],
            ["ip", "-n", inet, "link", "set", "br0", "up"],
        )
    hif = p["host_interface"]
    if not net.link_exists(hif):
        net.change(
            f"veth {hif}",
            ["ip", "link", "add", hif, "type", "veth", "peer", "name", "up0", "netns", inet],
            ["ip", "-n", inet, "link", "set", "up0", "master", "br0", "up"],
            ["ip", "link", "set", hif, "up"],
        )
    if not net.has_address(hif, p["host_address"]):
        net.change(f"address {p['host_address']} on {hif}", ["ip", "addr", "replace", p["host_address"], "dev", hif])
    for host in p["hosts"]:
        ns, cidr = host["name"], host["address"]
        side = f"v-{ns}"[:15]
        if not net.netns_exists(ns):
            net.change(f"netns add {ns}", ["ip", "netns", "add", ns], ["ip", "-n", ns, "link", "set", "lo", "up"])
        if not net.link_exists("eth0", ns):
            net.change(
                f"veth {side}",
                ["ip", "link", "add", side, "netns", inet, "type", "veth", "peer", "name", "eth0", "netns", ns],
                ["ip", "-n", inet, "link", "set", side, "master", "br0", "up"],
                ["ip", "-n", ns, "link", "set", "eth0", "up"],
            )
        if not net.has_address("eth0", cidr, ns):
            net.change(f"address {cidr} in {ns}", ["ip", "-n", ns, "addr", "replace", cidr, "dev", "eth0"])
    if p["guard_bridge"]:
        table = _guard_table(p)
        ruleset, digest = _guard_ruleset(table, p["guard_bridge"], p["guard_allow"])
        rc, out = net.run("nft", "list", "table", "inet", table, check=False)
        if rc != 0 or f"veza {digest}" not in out:
            commands = [["nft", "delete", "table", "inet", table]] if rc == 0 else []
            net.actions.append(f"guard {p['guard_bridge']}")
            if not net.module.check_mode:
                for argv in commands:
                    net.run(*argv)
                rc2, _out, err = net.module.run_command(["nft", "-f", "-"], data=ruleset)
                if rc2 != 0:
                    net.module.fail_json(msg=f"simulated_internet: nft refused the guard ruleset: {err.strip()}")


def ensure_absent(net, p):
    table = _guard_table(p)
    # Without the nft tool the guard can be neither listed nor removed (a
    # host that never had nft has none): the namespaces still go.
    if net.module.get_bin_path("nft"):
        rc, _out = net.run("nft", "list", "table", "inet", table, check=False)
        if rc == 0:
            net.change("guard removed", ["nft", "delete", "table", "inet", table])
    for host in p["hosts"]:
        if net.netns_exists(host["name"]):
            net.change(f"netns delete {host['name']}", ["ip", "netns", "delete", host["name"]])
    if net.link_exists(p["host_interface"]):
        net.change(f"veth {p['host_interface']} removed", ["ip", "link", "delete", p["host_interface"]])
    if net.netns_exists(p["namespace"]):
        net.change(f"netns delete {p['namespace']}", ["ip", "netns", "delete", p["namespace"]])


def _validate(module, p):
    for label, cidr in [("host_address", p["host_address"])] + [
        (f"hosts[{i}].address", h["address"]) for i, h in enumerate(p["hosts"])
    ]:
        try:
            iface = ipaddress.ip_interface(cidr)
        except ValueError:
            module.fail_json(
                msg=f"simulated_internet: {label} {cidr!r} is not an address with prefix such as 198.51.100.10/24"
            )
        if "/" not in cidr:
            module.fail_json(
                msg=f"simulated_internet: {label} {cidr!r} needs a prefix length, such as 198.51.100.10/24"
            )
        if any(iface.network.overlaps(bad) for bad in _FORBIDDEN):
            module.fail_json(
                msg=(
                    f"simulated_internet: {label} {cidr} overlaps 192.0.2.0/24 or 203.0.113.0/24, where this "
                    "machine's uplink and package mirror live; use 198.51.100.0/24"
                )
            )
    for name in [p["namespace"]] + [h["name"] for h in p["hosts"]]:
        if not name or len(name) > 12 or "/" in name:
            module.fail_json(msg=f"simulated_internet: namespace name {name!r} must be 1-12 characters without '/'")
    if len(p["host_interface"]) > 15:
        module.fail_json(msg=f"simulated_internet: host_interface {p['host_interface']!r} is longer than 15 characters")


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["present", "absent"], default="present"),
            namespace=dict(type="str", default="vz-inet"),
            host_interface=dict(type="str", default="vzpub0"),
            host_address=dict(type="str", required=True),
            hosts=dict(
                type="list",
                elements="dict",
                default=[],
                options=dict(name=dict(type="str", required=True), address=dict(type="str", required=True)),
            ),
            guard_bridge=dict(type="str", default=""),
            guard_allow=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    _validate(module, p)
    net = _Net(module)
    if p["state"] == "present":
        ensure_present(net, p)
    else:
        ensure_absent(net, p)
    module.exit_json(changed=bool(net.actions), actions=net.actions)


if __name__ == "__main__":
    main()

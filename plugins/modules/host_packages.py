#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Report which of the packages a role needs are installed, installable or missing."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: host_packages
short_description: Tell, without changing the host, whether the packages a role needs can be had
version_added: 0.2.0
description:
  - Sorts Debian package names into installed, installable (an APT source
    offers a candidate) and missing (neither), so that a role's preflight can
    stop the run, naming its variable, before anything changes.
  - When a package is not installed and the host's package lists do not
    offer it (they may be old or empty), or when O(sources) are given, fresh
    lists are fetched into a temporary folder and removed afterwards; the
    host's own lists, caches and sources are not touched.
  - Never changes anything, so it runs the same in check mode.
options:
  names:
    description: Package names the role would install.
    type: list
    elements: str
    required: true
  sources:
    description:
      - One-line APT source entries (C(deb [options] URI suite component...))
        that the role adds before it installs, considered besides the host's
        own sources.
    type: list
    elements: str
    default: []
notes:
  - On a host without dpkg and APT every name is reported missing and RV(apt) is false.
author:
  - veza.coturn developers (@veza-coturn)
"""

EXAMPLES = r"""
- name: Look for the simulated internet's tools
  veza.coturn.host_packages:
    names: [nftables, iproute2]
  register: __packages

- name: Refuse a package that cannot be installed
  ansible.builtin.assert:
    that: __packages.missing | length == 0
    fail_msg: "{{ __packages.missing | join(', ') }} cannot be installed on this host"

- name: Incus from a source the role adds later
  veza.coturn.host_packages:
    names: [incus-base]
    sources:
      - deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main
"""

RETURN = r"""
apt:
  description: Whether the host has dpkg and APT.
  returned: always
  type: bool
installed:
  description: Installed packages among O(names), with their versions.
  returned: always
  type: dict
  sample: {iproute2: 6.1.0-3}
installable:
  description: Packages among O(names) that are not installed but have an installation candidate, with its version.
  returned: always
  type: dict
  sample: {nftables: 1.0.6-2+deb12u2}
missing:
  description: Packages among O(names) that are neither installed nor installable (names that cannot be Debian package names included).
  returned: always
  type: list
  elements: str
  sample: [no-such-package]
invalid:
  description: Names among O(names) that cannot be Debian package names (never passed to dpkg or APT).
  returned: always
  type: list
  elements: str
reason:
  description: Why the packages in RV(missing) cannot be had, in words for a refusal message; empty when none is missing.
  returned: always
  type: str
  sample: no configured APT source offers it
lists:
  description: C(host) when the host's package lists answered, C(fetched) when fresh ones were fetched for the question.
  returned: always
  type: str
lists_error:
  description: Why fetching fresh lists failed (the last line apt-get printed); the packages it could not confirm are in RV(missing).
  returned: when fetching failed
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.veza.coturn.plugins.module_utils import _apt


def main():
    module = AnsibleModule(
        argument_spec=dict(
            names=dict(type="list", elements="str", required=True),
            sources=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    names, sources = module.params["names"], module.params["sources"]
    bad = [line for line in sources if "\n" in line or "\r" in line or not line.startswith("deb ")]
    if bad:
        module.fail_json(
            msg="host_packages: sources: each entry must be one line starting with 'deb ' "
            f"(got {', '.join(repr(line) for line in bad)})"
        )
    query = _apt.AptQuery(
        lambda argv: module.run_command(argv, environ_update=_apt.ENV),
        lambda tool: module.get_bin_path(tool) is not None,
    )
    module.exit_json(changed=False, **_apt.check(query, names, sources))


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: incus_network
short_description: Create an Incus-managed network and keep the given config keys
version_added: 0.1.0
description:
  - Creates the managed network (a bridge by default) with O(config) when the Incus daemon has none of
    that name, over its unix socket.
  - On an existing network, sets the O(config) keys whose values differ (merge semantics; keys not given
    are left alone). A network of that name that is not Incus-managed or of another type is an error.
  - Idempotent; supports check mode and diff mode.
author:
  - veza.coturn developers (@veza-coturn)
options:
  name:
    description: Name of the network.
    type: str
    required: true
  type:
    description: Network type, used on create and required of an existing network.
    type: str
    default: bridge
  config:
    description:
      - Network config keys (for example C(ipv4.address), C(ipv4.nat)). Values are compared and sent as
        strings; booleans become C(true)/C(false).
    type: dict
    default: {}
  socket:
    description: Path of the Incus daemon's unix socket.
    type: path
    default: /var/lib/incus/unix.socket
seealso:
  - module: veza.coturn.incus_info
"""

EXAMPLES = r"""
- name: Create the managed bridge
  veza.coturn.incus_network:
    name: vzbr0
    config:
      ipv4.address: 10.210.30.1/24
      ipv4.nat: true
      ipv6.address: none
"""

RETURN = r"""
network:
  description: The network as Incus reports it after the run (predicted in check mode).
  returned: success
  type: dict
  sample: {"name": "vzbr0", "type": "bridge", "managed": true, "config": {"ipv4.address": "10.210.30.1/24"}}
actions:
  description: What was done (or would be done in check mode).
  returned: success
  type: list
  elements: str
  sample: [create]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.veza.coturn.plugins.module_utils._incus.module import (
    client_from_params,
    run_module,
    socket_spec,
)
from ansible_collections.veza.coturn.plugins.module_utils._incus.resources import ensure_network


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            type=dict(type="str", default="bridge"),
            config=dict(type="dict", default={}),
            **socket_spec(),
        ),
        supports_check_mode=True,
    )
    params = module.params
    run_module(
        module,
        "incus_network",
        lambda: ensure_network(
            client_from_params(params),
            params["name"],
            params["type"],
            params["config"],
            check_mode=module.check_mode,
            diff=module._diff,
        ),
    )


if __name__ == "__main__":
    main()

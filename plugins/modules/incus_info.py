#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: incus_info
short_description: Read one Incus resource through the Incus REST API
version_added: 0.1.0
description:
  - Reads the server, a network, a storage pool, an image alias or an instance from the Incus daemon,
    over its unix socket, and returns what Incus answers.
  - A resource Incus does not know (HTTP 404) is not an error; RV(exists) is false.
  - Read-only; runs in check mode too.
author:
  - veza.coturn developers (@veza-coturn)
options:
  kind:
    description: What to read. C(server) is the daemon itself (C(GET /1.0)); it exists when the daemon answers.
    type: str
    choices: [server, network, storage_pool, image_alias, instance]
    default: server
  name:
    description: Name of the network, storage pool, image alias or instance. Required unless O(kind=server).
    type: str
  project:
    description: Incus project to read in. Not sent when omitted (the daemon's default project).
    type: str
  socket:
    description: Path of the Incus daemon's unix socket.
    type: path
    default: /var/lib/incus/unix.socket
notes:
  - Fails when the daemon cannot be reached or refuses the request for another reason than a missing resource.
  - Talks to the daemon directly; the C(incus) client is not needed.
seealso:
  - module: veza.coturn.incus_instance
  - module: veza.coturn.incus_network
  - module: veza.coturn.incus_storage_pool
  - module: veza.coturn.incus_image
"""

EXAMPLES = r"""
- name: Ask whether the Incus API answers
  veza.coturn.incus_info:
  register: ping
  failed_when: false

- name: Read the bridge
  veza.coturn.incus_info:
    kind: network
    name: vzbr0
  register: bridge

- name: Show its address when it exists
  ansible.builtin.debug:
    msg: "{{ bridge.metadata.config['ipv4.address'] }}"
  when: bridge.exists
"""

RETURN = r"""
exists:
  description: Whether Incus knows the resource (for O(kind=server), whether the daemon answered).
  returned: success
  type: bool
  sample: true
metadata:
  description: The resource as Incus returns it (the C(metadata) of its answer); empty when it does not exist.
  returned: success
  type: dict
  sample: {"name": "vzbr0", "type": "bridge", "managed": true, "config": {"ipv4.address": "10.210.30.1/24"}}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.veza.coturn.plugins.module_utils._incus.module import (
    client_from_params,
    run_module,
    socket_spec,
)
from ansible_collections.veza.coturn.plugins.module_utils._incus.resources import read


def main():
    module = AnsibleModule(
        argument_spec=dict(
            kind=dict(
                type="str", default="server", choices=["server", "network", "storage_pool", "image_alias", "instance"]
            ),
            name=dict(type="str"),
            project=dict(type="str"),
            **socket_spec(),
        ),
        required_if=[("kind", kind, ("name",)) for kind in ("network", "storage_pool", "image_alias", "instance")],
        supports_check_mode=True,
    )
    params = module.params

    def work():
        exists, metadata = read(client_from_params(params), params["kind"], params["name"], params["project"])
        return {"changed": False, "exists": exists, "metadata": metadata}

    run_module(module, "incus_info", work)


if __name__ == "__main__":
    main()

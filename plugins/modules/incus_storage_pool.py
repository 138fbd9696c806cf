#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: incus_storage_pool
short_description: Create an Incus storage pool when it is missing
version_added: 0.1.0
description:
  - Creates the storage pool with O(driver) (and O(config)) when the Incus daemon has none of that name,
    over its unix socket.
  - An existing pool is left as it is; its driver and config are not compared.
  - Idempotent; supports check mode and diff mode.
author:
  - veza.coturn developers (@veza-coturn)
options:
  name:
    description: Name of the storage pool.
    type: str
    required: true
  driver:
    description: Storage driver used on create (C(dir), C(btrfs), C(zfs), C(lvm), ...).
    type: str
    required: true
  config:
    description: Pool config keys used on create. Values are sent as strings; booleans become C(true)/C(false).
    type: dict
  socket:
    description: Path of the Incus daemon's unix socket.
    type: path
    default: /var/lib/incus/unix.socket
seealso:
  - module: veza.coturn.incus_info
"""

EXAMPLES = r"""
- name: Create the storage pool
  veza.coturn.incus_storage_pool:
    name: default
    driver: dir
"""

RETURN = r"""
storage_pool:
  description: The pool as Incus reports it after the run (predicted in check mode).
  returned: success
  type: dict
  sample: {"name": "default", "driver": "dir", "status": "Created"}
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
from ansible_collections.veza.coturn.plugins.module_utils._incus.resources import ensure_storage_pool


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            driver=dict(type="str", required=True),
            config=dict(type="dict"),
            **socket_spec(),
        ),
        supports_check_mode=True,
    )
    params = module.params
    run_module(
        module,
        "incus_storage_pool",
        lambda: ensure_storage_pool(
            client_from_params(params),
            params["name"],
            params["driver"],
            params["config"],
            check_mode=module.check_mode,
            diff=module._diff,
        ),
    )


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: incus_image
short_description: Remove the Incus image a local alias points to
version_added: 0.1.0
description:
  - Deletes the image that the local image alias O(alias) points to (the alias goes with it), over the
    Incus daemon's unix socket. Nothing is done when the alias does not exist.
  - Only O(state=absent) is supported. Getting an image stays with the C(incus) client
    (C(incus image copy) from a simplestreams server, C(incus image import) of a built image), which the
    API offers only as a simplestreams pull or a streamed upload.
  - Idempotent; supports check mode and diff mode.
author:
  - veza.coturn developers (@veza-coturn)
options:
  alias:
    description: Local image alias (default project).
    type: str
    required: true
  state:
    description: C(absent) deletes the image.
    type: str
    choices: [absent]
    default: absent
  wait_timeout:
    description: Seconds to wait for the deletion to finish.
    type: int
    default: 60
  socket:
    description: Path of the Incus daemon's unix socket.
    type: path
    default: /var/lib/incus/unix.socket
seealso:
  - module: veza.coturn.incus_info
"""

EXAMPLES = r"""
- name: Drop the old image before replacing it
  veza.coturn.incus_image:
    alias: debian-12-coturn
    state: absent
"""

RETURN = r"""
image:
  description: The alias and the fingerprint of the image deleted (or to delete in check mode); empty when there was none.
  returned: success
  type: dict
  sample: {"alias": "debian-12-coturn", "fingerprint": "abb3b0423a99e3d30961d199f8c9a46c7fd848f6af50c8b48c7215105531f87b"}
actions:
  description: What was done (or would be done in check mode).
  returned: success
  type: list
  elements: str
  sample: [delete]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.veza.coturn.plugins.module_utils._incus.module import (
    client_from_params,
    run_module,
    socket_spec,
)
from ansible_collections.veza.coturn.plugins.module_utils._incus.resources import remove_image


def main():
    module = AnsibleModule(
        argument_spec=dict(
            alias=dict(type="str", required=True),
            state=dict(type="str", default="absent", choices=["absent"]),
            wait_timeout=dict(type="int", default=60),
            **socket_spec(),
        ),
        supports_check_mode=True,
    )
    params = module.params
    run_module(
        module,
        "incus_image",
        lambda: remove_image(
            client_from_params(params),
            params["alias"],
            wait_timeout=params["wait_timeout"],
            check_mode=module.check_mode,
            diff=module._diff,
        ),
    )


if __name__ == "__main__":
    main()

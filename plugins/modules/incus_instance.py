#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: incus_instance
short_description: Manage an Incus instance through the Incus REST API
version_added: 0.1.0
description:
  - Creates, updates, starts, stops and deletes an Incus container or virtual machine by talking
    to the Incus REST API directly, over the daemon's unix socket (default) or over HTTPS with a
    trusted client certificate.
  - Manages the instance's profiles, its local C(config) keys (merge semantics), its local devices
    (authoritative), its description, the ephemeral flag and its run state.
  - Background operations are waited for; Incus' own error text is reported when it refuses a change.
  - Idempotent; supports check mode and diff mode.
author:
  - veza.coturn developers (@veza-coturn)
options:
  name:
    description: Name of the instance.
    type: str
    required: true
  state:
    description:
      - C(present) creates the instance when missing (without starting it) and updates it, leaving its
        run state alone.
      - C(started) and C(stopped) also bring it into that run state (a frozen instance is unfrozen
        by C(started)).
      - C(restarted) starts a stopped instance and restarts a running one; it always reports a change.
      - C(absent) stops the instance when it runs, then deletes it.
    type: str
    choices: [present, started, stopped, restarted, absent]
    default: started
  project:
    description: Incus project the instance lives in.
    type: str
    default: default
  target:
    description:
      - Cluster member to create the instance on. Used on create only; an existing instance is never
        moved (a warning is emitted when it lives elsewhere).
      - Leave unset on a standalone (non-clustered) daemon, which refuses a target.
    type: str
  type:
    description:
      - Instance type. Used on create; an existing instance of the other type is an error.
    type: str
    choices: [container, virtual-machine]
    default: container
  source:
    description:
      - Where the instance's root filesystem comes from. Used on create only; changing it later does
        not rebuild the instance.
      - Required when the instance does not exist yet and O(state) is not C(absent).
    type: dict
    suboptions:
      type:
        description: Source type. C(none) creates an empty instance.
        type: str
        choices: [image, none]
        default: image
      alias:
        description:
          - Image alias. Without O(source.server) it must exist on the daemon (in O(project)), which
            is checked before anything is created.
        type: str
      fingerprint:
        description: Image fingerprint (or a unique prefix of it).
        type: str
      server:
        description: Remote image server URL (for example C(https://images.linuxcontainers.org)).
        type: str
      protocol:
        description: Protocol of O(source.server).
        type: str
        choices: [simplestreams, incus]
      mode:
        description: Transfer mode.
        type: str
        choices: [pull]
        default: pull
  profiles:
    description: Profiles applied to the instance, in order (authoritative).
    type: list
    elements: str
    default: [default]
  config:
    description:
      - Instance configuration keys (for example C(limits.cpu), C(boot.autostart)).
      - Merge semantics. Only the keys given here are set and compared; keys not given are left
        untouched (Incus maintains C(volatile.*) keys itself). A key whose value is V(null) is removed.
      - Values are sent as strings; booleans become C(true)/C(false), numbers their decimal text.
    type: dict
  devices:
    description:
      - The instance's own (local, non-profile) devices, as a mapping of device name to a mapping of
        device keys to values (the C(type) key is required). Values are compared as strings; booleans
        become C(true)/C(false).
      - Authoritative when given. After the run the instance's local devices are exactly these;
        local devices not listed are removed. Devices inherited from profiles are not affected.
        A device whose value is V(null) is simply not wanted.
      - When omitted, the local devices are left alone.
    type: dict
  ephemeral:
    description: Whether the instance is ephemeral (deleted by Incus when it stops).
    type: bool
    default: false
  description:
    description: Instance description. Left alone when omitted.
    type: str
  socket:
    description: Path of the Incus daemon's unix socket. Ignored when O(url) is set.
    type: path
    default: /var/lib/incus/unix.socket
  url:
    description: HTTPS URL of a remote Incus daemon (C(https://host:8443)). Takes precedence over O(socket).
    type: str
  client_cert:
    description: Path of the PEM client certificate trusted by the remote daemon (HTTPS only).
    type: path
  client_key:
    description: Path of the PEM private key of O(client_cert) (HTTPS only).
    type: path
  server_cert:
    description:
      - Path of the remote daemon's certificate (or of a CA) to trust (HTTPS only). When set, the
        certificate is pinned and the host name is not checked (Incus servers use self-signed
        certificates).
    type: path
  validate_certs:
    description: Verify the remote daemon's certificate (HTTPS only).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for each background operation, for a graceful stop, and for O(wait_for_ipv4).
      - Creating the instance (which may download and unpack an image) is given five times as long,
        at least 300 seconds.
    type: int
    default: 60
  force_stop:
    description: Stop the instance forcibly (no clean shutdown) when it has to be stopped.
    type: bool
    default: false
  wait_for_ipv4:
    description:
      - When the instance ends up running, wait (up to O(wait_timeout) seconds) until it reports an
        IPv4 address on a non-loopback interface, and return it in RV(ipv4).
      - Not done in check mode for an instance that would only be created or started.
    type: bool
    default: false
notes:
  - Talks to the daemon directly; the C(incus) client is not needed.
  - The user running the module needs access to the socket (root or the C(incus-admin) group).
seealso:
  - name: Incus REST API
    description: The API this module uses.
    link: https://linuxcontainers.org/incus/docs/main/rest-api/
"""

EXAMPLES = r"""
- name: Run the TURN container with a static address and a NAT proxy device
  veza.coturn.incus_instance:
    name: turn1
    source:
      alias: debian-12-coturn
    profiles: [default]
    config:
      boot.autostart: true
      limits.cpu: 2
      limits.memory: 1GiB
    devices:
      root:
        type: disk
        path: /
        pool: default
      eth0:
        type: nic
        network: incusbr0
        name: eth0
        ipv4.address: 10.210.0.10
      turn-udp:
        type: proxy
        nat: true
        listen: udp:198.51.100.10:3478
        connect: udp:10.210.0.10:3478
    wait_for_ipv4: true
  register: turn1

- name: Create from a remote image server on a given cluster member, leave it stopped
  veza.coturn.incus_instance:
    name: turn2
    state: stopped
    target: node2
    source:
      server: https://images.linuxcontainers.org
      protocol: simplestreams
      alias: debian/12

- name: Remove a config key
  veza.coturn.incus_instance:
    name: turn1
    state: present
    config:
      user.note: null

- name: Manage an instance on a remote daemon over HTTPS
  veza.coturn.incus_instance:
    name: turn1
    url: https://incus.example.net:8443
    client_cert: /etc/veza/incus-client.crt
    client_key: /etc/veza/incus-client.key
    server_cert: /etc/veza/incus-server.crt
    state: stopped

- name: Delete it
  veza.coturn.incus_instance:
    name: turn1
    state: absent
"""

RETURN = r"""
instance:
  description:
    - The instance as Incus reports it after the run (predicted in check mode); empty when absent.
  returned: always
  type: dict
  contains:
    name:
      description: Instance name.
      type: str
    status:
      description: Incus status (C(Running), C(Stopped), C(Frozen), ...).
      type: str
    type:
      description: C(container) or C(virtual-machine).
      type: str
    project:
      description: Project of the instance.
      type: str
    location:
      description: Cluster member holding the instance (C(none) on a standalone daemon).
      type: str
    profiles:
      description: Profiles applied.
      type: list
      elements: str
    config:
      description: All local config keys, including those maintained by Incus (C(volatile.*)).
      type: dict
    devices:
      description: Local devices.
      type: dict
    expanded_devices:
      description: Devices after profiles are applied.
      type: dict
    ephemeral:
      description: Ephemeral flag.
      type: bool
    description:
      description: Description.
      type: str
    addresses:
      description: IPv4 addresses per interface (loopback excluded) while the instance runs.
      type: dict
      sample: {"eth0": ["10.210.0.10"]}
  sample:
    name: turn1
    status: Running
    type: container
    addresses: {"eth0": ["10.210.0.10"]}
ipv4:
  description: The first IPv4 address reported on a non-loopback interface (C(eth0) preferred), or null.
  returned: always
  type: str
  sample: 10.210.0.10
actions:
  description: What was done (or would be done in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [create, start]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.veza.coturn.plugins.module_utils._incus.client import DEFAULT_SOCKET
from ansible_collections.veza.coturn.plugins.module_utils._incus.instance import InstanceManager
from ansible_collections.veza.coturn.plugins.module_utils._incus.instance_options import MODULE, normalize_params
from ansible_collections.veza.coturn.plugins.module_utils._incus.module import client_from_params, run_module


def argument_spec():
    return dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="started", choices=["present", "started", "stopped", "restarted", "absent"]),
        project=dict(type="str", default="default"),
        target=dict(type="str"),
        type=dict(type="str", default="container", choices=["container", "virtual-machine"]),
        source=dict(
            type="dict",
            options=dict(
                type=dict(type="str", default="image", choices=["image", "none"]),
                alias=dict(type="str"),
                fingerprint=dict(type="str"),
                server=dict(type="str"),
                protocol=dict(type="str", choices=["simplestreams", "incus"]),
                mode=dict(type="str", default="pull", choices=["pull"]),
            ),
            mutually_exclusive=[("alias", "fingerprint")],
        ),
        profiles=dict(type="list", elements="str", default=["default"]),
        config=dict(type="dict"),
        devices=dict(type="dict"),
        ephemeral=dict(type="bool", default=False),
        description=dict(type="str"),
        socket=dict(type="path", default=DEFAULT_SOCKET),
        url=dict(type="str"),
        client_cert=dict(type="path"),
        client_key=dict(type="path", no_log=False),
        server_cert=dict(type="path"),
        validate_certs=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=60),
        force_stop=dict(type="bool", default=False),
        wait_for_ipv4=dict(type="bool", default=False),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)

    def work():
        params = normalize_params(module.params)
        manager = InstanceManager(params, client_from_params(params), check_mode=module.check_mode, diff=module._diff)
        return manager.run()

    run_module(module, MODULE, work)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, veza.coturn developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: turn_probe
short_description: Prove that a TURN/STUN server relays, and explain why not
version_added: 0.1.0
description:
  - A pure-Python STUN/TURN client (RFC 5389/8489, RFC 5766/8656) that checks a coturn server the way
    a WebRTC client uses it, one step after the other, and stops at the first failure with a failure
    class and an explanation of what to fix.
  - C(binding) sends a STUN Binding request and reports the mapped (server reflexive) address.
  - C(allocate) asks for a UDP relay with the long-term credential mechanism (unauthenticated request,
    401 with REALM and NONCE, authenticated retry; one retry on 438 Stale Nonce) and checks the relayed
    address against O(expected_relayed_ip).
  - C(permission) installs a permission for the probe's own plain UDP "peer" socket.
  - C(peer_first) has that peer socket send first to the relayed address, the client must receive it
    (Data indication or ChannelData); the client then answers with Send indications and the peer must
    receive them from exactly the relayed address. This is the only check that crosses the exposure
    of the relay port range; two allocations talking to each other do not, because coturn relays
    between its own allocations internally.
  - C(relay) makes a second allocation and measures round trips between the two (ChannelData one
    way, Send indication back).
  - Every allocation made is released at the end (Refresh with LIFETIME 0, best effort).
  - Steps that a selected check needs are run too (C(peer_first) needs C(permission), which needs
    C(allocate)).
  - The module changes nothing and always reports C(changed=false); it runs the same in check mode.
author:
  - veza.coturn developers (@veza-coturn)
options:
  host:
    description:
      - Address or name of the TURN/STUN server. Names are resolved in the module's own network
        namespace, before O(netns) is entered.
    type: str
    required: true
  port:
    description:
      - Server port (coturn C(listening-port), or C(tls-listening-port) for O(transport=tls)).
    type: int
    default: 3478
  transport:
    description:
      - Transport between the probe and the server. The relay itself is always UDP.
    type: str
    choices: [udp, tcp, tls]
    default: udp
  server_name:
    description:
      - Name for TLS SNI and certificate verification. Defaults to O(host).
    type: str
  ca_file:
    description:
      - CA bundle (PEM) to verify the server certificate with. Defaults to the system store.
      - Mutually exclusive with O(insecure).
    type: path
  insecure:
    description:
      - Use TLS without verifying the certificate or its name.
    type: bool
    default: false
  timeout:
    description:
      - Time budget in seconds of each step (a step may send several requests; UDP requests are
        retransmitted with a 500 ms RTO that doubles, within this budget).
    type: float
    default: 3
  username:
    description:
      - TURN username. With coturn C(use-auth-secret) it is C(expiry[:user]), as minted by the
        C(veza.coturn.turn_rest_credentials) filter.
      - Required together with O(password).
    type: str
  password:
    description:
      - TURN password (credential).
    type: str
  realm:
    description:
      - Expected realm. A server that announces another realm fails with class C(realm_mismatch).
      - When omitted, the realm the server announces is used.
    type: str
  expected_relayed_ip:
    description:
      - IP address the relayed address must have (the public IP of the exposure). Anything else
        fails with class C(wrong_relayed_address).
    type: str
  peer_address:
    description:
      - Local IP the probe's own plain UDP peer socket binds to (port 0).
      - When omitted the peer socket binds to the wildcard address.
      - The permission is installed for the address the server sees for the peer, learned with a
        Binding request from the peer socket; when that gets no answer, for O(peer_address) or the
        local address towards the server.
    type: str
  peer_netns:
    description:
      - Network namespace to create the peer socket in, by name (C(/run/netns/NAME), as made by
        C(ip netns add)) or as an absolute path such as C(/proc/PID/ns/net).
      - Needs root (CAP_SYS_ADMIN).
    type: str
  netns:
    description:
      - Network namespace to create the client (TURN) sockets in, same forms as O(peer_netns).
      - Needs root (CAP_SYS_ADMIN).
    type: str
  checks:
    description:
      - Checks to run, always in the order binding, allocate, permission, peer_first, relay.
    type: list
    elements: str
    choices: [binding, allocate, permission, peer_first, relay]
    default: [binding, allocate, permission, peer_first, relay]
  peer_permission_only:
    description:
      - IP addresses to send only a CreatePermission request for, after the allocation, to test
        coturn's peer rules. No data is ever sent towards them.
      - The outcome per address is returned in RV(permissions); a refusal does not fail the module.
    type: list
    elements: str
    default: []
  count:
    description:
      - Datagrams sent per round-trip step (C(peer_first) each way, C(relay)); any loss fails with
        class C(relay_loss).
    type: int
    default: 3
  software:
    description:
      - Value of the SOFTWARE attribute sent with every request.
    type: str
    default: veza.coturn turn_probe
attributes:
  check_mode:
    description: Runs the same in check mode; nothing is changed either way.
    support: full
  diff_mode:
    description: Nothing to diff.
    support: none
  platform:
    description: Linux (namespaces need C(setns)); sockets only otherwise.
    support: full
    platforms: posix
notes:
  - Failure classes in RV(failure.class) C(no_answer), C(unauthorized), C(realm_mismatch),
    C(wrong_credentials_441), C(stale_nonce), C(forbidden_peer), C(insufficient_capacity),
    C(wrong_relayed_address), C(peer_unreachable), C(relay_loss), C(tls_error), C(protocol_error),
    and C(setup_error) for problems on the probe's side (namespace missing, not root,
    O(peer_address) not local).
  - The core is the plain function C(run_probe(params\)) in the collection's
    C(plugins/module_utils/_turn_probe/) package (standard library only) that returns the result
    dictionary, for tests and programs that do not go through Ansible.
"""

EXAMPLES = r"""
- name: Prove the relay through the public address, with REST credentials
  veza.coturn.turn_probe:
    host: turn.example.org
    username: "{{ turn_creds.username }}"
    password: "{{ turn_creds.password }}"
    realm: turn.example.org
    expected_relayed_ip: 198.51.100.10
  register: probe
  delegate_to: localhost

- name: Peer on the simulated internet sends first; client behind a test NAT
  veza.coturn.turn_probe:
    host: 198.51.100.10
    username: "{{ user }}"
    password: "{{ credential }}"
    netns: vz-client
    peer_netns: vz-peer
    peer_address: 198.51.100.77
    expected_relayed_ip: 198.51.100.10
    count: 5
  become: true

- name: TLS listener with a private CA, STUN and allocation only
  veza.coturn.turn_probe:
    host: 198.51.100.10
    port: 5349
    transport: tls
    server_name: turn.example.org
    ca_file: /etc/veza/ca.pem
    username: "{{ user }}"
    password: "{{ credential }}"
    checks: [binding, allocate]

- name: Forbidden peers must be refused (only CreatePermission is sent)
  veza.coturn.turn_probe:
    host: 198.51.100.10
    username: "{{ user }}"
    password: "{{ credential }}"
    checks: [allocate]
    peer_permission_only: [10.0.0.1, 169.254.169.254, 127.0.0.1]
  register: rules

- name: Check the verdicts
  ansible.builtin.assert:
    that: rules.permissions | dict2items | map(attribute='value.result') | unique == ['forbidden']
"""

RETURN = r"""
mapped_address:
  description: Server reflexive address of the client socket, C(ip:port) (C([ip]:port) for IPv6).
  returned: when binding or allocate succeeded
  type: str
  sample: 198.51.100.77:40211
relayed_address:
  description: Relayed transport address of the (first) allocation.
  returned: when allocate succeeded
  type: str
  sample: 198.51.100.10:49160
server_software:
  description: SOFTWARE attribute announced by the server.
  returned: when the server sent one
  type: str
  sample: Coturn-4.6.1 'Gorst'
realm:
  description: Realm announced by the server in its 401 challenge.
  returned: when allocate was tried
  type: str
  sample: turn.example.org
rtt_ms:
  description: Median round-trip time of the relay check, milliseconds.
  returned: when the relay check ran
  type: float
  sample: 0.84
peer_first:
  description: Details of the peer_first check.
  returned: when the peer_first check ran
  type: dict
  contains:
    peer_address:
      description: Local address of the peer socket.
      type: str
    peer_reflexive:
      description: Address the server saw for the peer (Binding from the peer socket), or null.
      type: str
    permission_ip:
      description: IP the permission was installed for.
      type: str
    seen_from:
      description: Peer address in the Data indications the client received.
      type: str
    sent:
      description: Datagrams sent by the peer to the relayed address.
      type: int
    received:
      description: Of these, received by the client.
      type: int
    via:
      description: How the client received them, C(data) (Data indication) or C(channel).
      type: str
    return_sent:
      description: Send indications from the client back to the peer.
      type: int
    return_received:
      description: Of these, received by the peer.
      type: int
    return_source:
      description: Source address of what the peer received (must be the relayed address).
      type: str
  sample:
    peer_address: 127.0.0.1:41000
    peer_reflexive: 127.0.0.1:41000
    permission_ip: 127.0.0.1
    seen_from: 127.0.0.1:41000
    sent: 3
    received: 3
    via: data
    return_sent: 3
    return_received: 3
    return_source: 127.0.0.1:49012
relay:
  description: Details of the relay check between two allocations.
  returned: when the relay check ran
  type: dict
  contains:
    second_relayed_address:
      description: Relayed address of the second allocation.
      type: str
    sent:
      description: Round trips attempted.
      type: int
    received:
      description: Round trips completed.
      type: int
    loss_percent:
      description: Lost round trips, percent.
      type: float
    rtts_ms:
      description: Each completed round trip, milliseconds.
      type: list
      elements: float
  sample:
    second_relayed_address: 127.0.0.1:49013
    sent: 3
    received: 3
    loss_percent: 0.0
    rtts_ms: [0.9, 0.8, 0.84]
permissions:
  description:
    - Outcome per address of O(peer_permission_only).
    - C(result) is C(allowed) (success), C(forbidden) (403) or C(other) (any other error, or no
      answer); C(code) and C(reason) come from the error response.
  returned: always
  type: dict
  sample:
    10.0.0.1: {result: forbidden, code: 403, reason: Forbidden IP}
    198.51.100.20: {result: allowed, code: null, reason: null}
steps:
  description: Every step run, in order, with its outcome, duration and a short detail.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: >-
        Step name, one of binding, allocate, peer_permission_only, permission, peer_first, relay,
        release.
      type: str
    ok:
      description: Whether the step succeeded.
      type: bool
    ms:
      description: Duration in milliseconds.
      type: float
    detail:
      description: What was observed, or the failure explanation.
      type: str
  sample:
    - {name: binding, ok: true, ms: 0.7, detail: "mapped address 127.0.0.1:40211"}
failure:
  description: Null on success; otherwise the first failure.
  returned: always
  type: dict
  contains:
    class:
      description: Failure class (see the notes).
      type: str
    explanation:
      description: What went wrong in which step, and what to fix; also the module's C(msg).
      type: str
    step:
      description: Step that failed.
      type: str
  sample:
    class: peer_unreachable
    step: peer_first
    explanation: "peer_first: none of 3 datagrams ..."
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.veza.coturn.plugins.module_utils._turn_probe.params import ARGUMENT_SPEC, ProbeParamError
from ansible_collections.veza.coturn.plugins.module_utils._turn_probe.probe import run_probe


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
        required_together=[["username", "password"]],
    )
    try:
        # The spec has checked types and choices; run_probe checks what it cannot express.
        result = run_probe(module.params, spec_applied=True)
    except ProbeParamError as exc:
        module.fail_json(msg="turn_probe: %s" % exc, changed=False)
    msg = result.pop("msg")
    if result["failure"]:
        module.fail_json(msg=msg, **result)
    module.exit_json(msg=msg, **result)


if __name__ == "__main__":
    main()

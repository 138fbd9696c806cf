# -*- coding: utf-8 -*-
# Copyright: (c) 2025, veza.coturn developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One probe run: the plan of steps, running them with a deadline each,
the result dictionary and its message, and releasing what was allocated.
"""

from __future__ import annotations

import ipaddress
import time

from ansible_collections.veza.coturn.plugins.module_utils._stun.client import TurnClient
from ansible_collections.veza.coturn.plugins.module_utils._stun.errors import StunErrorResponse
from ansible_collections.veza.coturn.plugins.module_utils._stun.protocol import XOR_RELAYED_ADDRESS
from ansible_collections.veza.coturn.plugins.module_utils._stun.transport import open_transport
from ansible_collections.veza.coturn.plugins.module_utils._turn_probe.failures import ProbeFailure, classify
from ansible_collections.veza.coturn.plugins.module_utils._turn_probe.params import normalize_params
from ansible_collections.veza.coturn.plugins.module_utils._turn_probe.steps import ProbeSteps

STEP_ORDER = ["binding", "allocate", "peer_permission_only", "permission", "peer_first", "relay"]


def _plan(p):
    want = set(p["checks"])
    if "peer_first" in want:
        want.add("permission")
    if want & {"permission", "relay"} or p["peer_permission_only"]:
        want.add("allocate")
    if p["peer_permission_only"]:
        want.add("peer_permission_only")
    return [s for s in STEP_ORDER if s in want]


class Probe(ProbeSteps):
    """One run of the probe: its steps in order, the result, the cleanup."""

    def __init__(self, p):
        self.p = p
        host = "[%s]" % p["host"] if ":" in p["host"] else p["host"]
        self.where = "%s:%s over %s" % (host, p["port"], p["transport"])
        self.main = None
        self.allocations = []
        self.clients = []
        self.peer = None
        self.peer_info = None
        self.relayed = None
        self.relay_family = (
            6
            if any(a and ipaddress.ip_address(a).version == 6 for a in (p["expected_relayed_ip"], p["peer_address"]))
            else None
        )
        self.result = dict(
            changed=False,
            mapped_address=None,
            relayed_address=None,
            server_software=None,
            realm=None,
            rtt_ms=None,
            peer_first=None,
            relay=None,
            permissions={},
            steps=[],
            failure=None,
        )

    # -- framework --------------------------------------------------------
    def run(self):
        plan = _plan(self.p)
        try:
            for name in plan:
                self._step(name, getattr(self, "_step_" + name))
        except ProbeFailure as failure:
            self.result["failure"] = {"class": failure.cls, "explanation": failure.explanation, "step": failure.step}
        finally:
            self._release()
        if self.result["failure"]:
            self.result["msg"] = "turn_probe: " + self.result["failure"]["explanation"]
        else:
            self.result["msg"] = "turn_probe: %s passed against %s" % (", ".join(plan), self.where)
        return self.result

    def _step(self, name, fn):
        start = time.monotonic()
        deadline = start + self.p["timeout"]
        try:
            detail = fn(deadline)
        except ProbeFailure as failure:
            failure.step = name
            self._record(name, False, start, failure.explanation)
            raise
        except Exception as exc:  # classify everything a step can raise
            failure = classify(name, exc, self.where, self.p, self.result["realm"])
            failure.step = name
            self._record(name, False, start, failure.explanation)
            raise failure
        self._record(name, True, start, detail)

    def _record(self, name, ok, start, detail):
        self.result["steps"].append(
            {
                "name": name,
                "ok": ok,
                "ms": round((time.monotonic() - start) * 1000.0, 2),
                "detail": detail,
            }
        )

    # -- resources --------------------------------------------------------
    def _open_client(self):
        p = self.p
        transport = open_transport(
            p["transport"],
            p["host"],
            p["port"],
            p["timeout"],
            ns=p["netns"],
            server_name=p["server_name"],
            ca_file=p["ca_file"],
            insecure=p["insecure"],
        )
        client = TurnClient(transport, p["username"], p["password"], p["software"])
        self.clients.append(client)
        return client

    def _main_client(self):
        if self.main is None:
            self.main = self._open_client()
        return self.main

    def _note_software(self, client):
        if client.last_software and not self.result["server_software"]:
            self.result["server_software"] = client.last_software

    def _allocate(self, client, deadline):
        p = self.p
        try:
            answer = client.allocate(deadline, family=self.relay_family)
        except StunErrorResponse as exc:
            if exc.code != 401:
                raise
            client.learn_challenge(exc.message)
            self._note_software(client)
            if client.realm is None or client.nonce is None:
                raise ProbeFailure("protocol_error", "allocate: 401 from %s without REALM and NONCE" % self.where)
            self.result["realm"] = client.realm
            if p["realm"] is not None and client.realm != p["realm"]:
                raise ProbeFailure(
                    "realm_mismatch",
                    (
                        "allocate: %s announces realm %r but realm is %r: coturn's realm= and the realm "
                        "the credentials are made for must be the same" % (self.where, client.realm, p["realm"])
                    ),
                )
            if p["username"] is None:
                raise ProbeFailure(
                    "unauthorized",
                    ("allocate: %s requires authentication (401) but username/password are not set" % self.where),
                )
            answer = client.allocate(deadline, family=self.relay_family)
        self.allocations.append(client)
        self._note_software(client)
        relayed = answer.xor_address(XOR_RELAYED_ADDRESS)
        if relayed is None:
            raise ProbeFailure("protocol_error", "allocate: success from %s without XOR-RELAYED-ADDRESS" % self.where)
        return answer, relayed

    def _release(self):
        deadline = time.monotonic() + min(self.p["timeout"], 1.0)
        released = 0
        problems = []
        start = time.monotonic()
        for client in reversed(self.allocations):
            try:
                client.refresh(max(deadline, time.monotonic() + 0.2), lifetime=0)
                released += 1
            except Exception as exc:  # best effort; the allocation expires anyway
                problems.append(str(exc))
        for client in self.clients:
            client.close()
        if self.peer is not None:
            self.peer.close()
        if self.allocations:
            detail = "released %d of %d allocation(s)" % (released, len(self.allocations))
            if problems:
                detail += " (%s; they expire on their own)" % "; ".join(problems)
            self._record("release", not problems, start, detail)


def run_probe(params, spec_applied=False):
    """Run the probe; ``params`` uses the module's option names.

    Returns the result dict (with ``msg`` and ``failure``); raises
    ProbeParamError for invalid parameters. ``spec_applied``: the params
    come from an AnsibleModule that already checked ARGUMENT_SPEC (see
    ``normalize_params``).
    """
    return Probe(normalize_params(params, spec_applied)).run()

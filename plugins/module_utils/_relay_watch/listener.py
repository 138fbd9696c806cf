# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One relay listener probed with turn_probe's run_probe, and what its metrics and log line need."""

from __future__ import annotations

import ipaddress

from ansible_collections.veza.coturn.plugins.module_utils._turn_probe.params import ProbeParamError
from ansible_collections.veza.coturn.plugins.module_utils._turn_probe.probe import run_probe
from ansible_collections.veza.coturn.plugins.module_utils._relay_watch.certificates import tls_not_after
from ansible_collections.veza.coturn.plugins.module_utils._relay_watch.errors import WatchError

SOFTWARE = "veza.coturn relay-watch"


def _relayed_ip(address):
    """The IP of turn_probe's "ip:port" or "[ip]:port"."""
    return address.rsplit(":", 1)[0].strip("[]")


def probe_listener(config, relay, listener, creds, probe=None, not_after=None):
    """Probe one listener; a dict of what the metrics and the log need."""
    probe = probe or run_probe
    not_after = not_after or tls_not_after
    turn = creds.username is not None and not relay["stun_only"]
    checks = ["binding"]
    params = {
        "host": relay["host"],
        "port": listener["port"],
        "transport": listener["transport"],
        "timeout": config["timeout"],
        "software": SOFTWARE,
    }
    if turn:
        checks.append("allocate")
        if relay["peer_address"]:
            checks += ["permission", "peer_first"]
        params.update(
            username=creds.username,
            password=creds.password,
            realm=relay["realm"],
            expected_relayed_ip=relay["expected_relayed_ip"],
            peer_address=relay["peer_address"],
        )
    if listener["transport"] == "tls":
        params.update(server_name=relay["server_name"], ca_file=relay["ca_file"])
    params["checks"] = checks
    outcome = {
        "relay": relay["name"],
        "listener": listener["url"],
        "transport": listener["transport"],
        "checks": checks,
        "up": False,
        "rtt": None,
        "match": None,
        "failure_class": None,
        "explanation": None,
        "software": None,
        "not_after": None,
    }
    try:
        result = probe(params)
    except ProbeParamError as exc:
        raise WatchError(f"relay {relay['name']} listener {listener['url']}: {exc}") from None
    except Exception as exc:  # a bug in the probe must not cost the other listeners their metrics
        result = {
            "failure": {"class": "internal_error", "explanation": f"{type(exc).__name__}: {exc}", "step": None},
            "steps": [],
            "relayed_address": None,
            "server_software": None,
        }
    failure = result.get("failure")
    outcome["software"] = result.get("server_software")
    if failure:
        outcome["failure_class"], outcome["explanation"] = failure["class"], failure["explanation"]
    else:
        outcome["up"] = True
        binding = [step for step in result["steps"] if step["name"] == "binding" and step["ok"]]
        if binding:
            outcome["rtt"] = binding[0]["ms"] / 1000.0
    relayed = result.get("relayed_address")
    if turn and relay["expected_relayed_ip"] and relayed:
        same = ipaddress.ip_address(_relayed_ip(relayed)) == ipaddress.ip_address(relay["expected_relayed_ip"])
        outcome["match"] = 1 if same else 0
    # Nothing to shake hands with when the first step found no listener.
    silent = failure and failure["class"] == "no_answer" and failure.get("step") == "binding"
    if listener["transport"] == "tls" and not silent:
        outcome["not_after"] = not_after(relay["host"], listener["port"], relay["server_name"], config["timeout"])
    return outcome

# -*- coding: utf-8 -*-
# Copyright: (c) 2025, veza.coturn developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The probe's options: the module's argument spec, and the checks it cannot express.

``normalize_params`` takes the options either straight from a caller
(the relay watch, tests: it then also does what the spec does for a module:
unknown options, types, choices) or from the module, whose AnsibleModule
has already applied ARGUMENT_SPEC (``spec_applied``): then only the checks
the spec cannot express are made (ranges, non-empty values, options that
exclude each other, IP literals, files, namespace names), in the same
order and with the same messages either way.
"""

from __future__ import annotations

import ipaddress
import os

from ansible_collections.veza.coturn.plugins.module_utils._netns import netns_path

CHECKS = ["binding", "allocate", "permission", "peer_first", "relay"]
MAX_COUNT = 100
MAX_PERMISSION_ONLY = 64
MAX_TIMEOUT = 300.0

ARGUMENT_SPEC = dict(
    host=dict(type="str", required=True),
    port=dict(type="int", default=3478),
    transport=dict(type="str", default="udp", choices=["udp", "tcp", "tls"]),
    server_name=dict(type="str"),
    ca_file=dict(type="path"),
    insecure=dict(type="bool", default=False),
    timeout=dict(type="float", default=3.0),
    username=dict(type="str"),
    password=dict(type="str", no_log=True),
    realm=dict(type="str"),
    expected_relayed_ip=dict(type="str"),
    peer_address=dict(type="str"),
    peer_netns=dict(type="str"),
    netns=dict(type="str"),
    checks=dict(type="list", elements="str", choices=CHECKS, default=list(CHECKS)),
    peer_permission_only=dict(type="list", elements="str", default=[]),
    count=dict(type="int", default=3),
    software=dict(type="str", default="veza.coturn turn_probe"),
)


class ProbeParamError(ValueError):
    """A parameter is invalid; the message names the option."""


def _ip(value, option):
    try:
        return ipaddress.ip_address(str(value).strip())
    except ValueError:
        raise ProbeParamError("%s must be an IP address literal, got %r" % (option, value))


def normalize_params(params, spec_applied=False):
    """Fill defaults and validate; raise ProbeParamError naming the option.

    With ``spec_applied`` (the module, after AnsibleModule checked
    ARGUMENT_SPEC) the checks the spec makes are left out: they cannot
    fail there. Explicit nulls still get the defaults, and username and
    password are still checked together (the spec's required_together
    counts an option given as null as given).
    """
    p = {}
    for name, spec in ARGUMENT_SPEC.items():
        value = params.get(name)
        if value is None:
            value = spec.get("default")
            value = list(value) if isinstance(value, list) else value
        p[name] = value
    if not spec_applied:
        unknown = sorted(k for k in set(params) - set(ARGUMENT_SPEC) if not k.startswith("_ansible"))
        if unknown:
            raise ProbeParamError("unknown option(s): %s" % ", ".join(unknown))
    if not p["host"] or not str(p["host"]).strip():
        raise ProbeParamError("host is required and must not be empty")
    p["host"] = str(p["host"]).strip()
    if not spec_applied:
        try:
            p["port"] = int(p["port"])
        except (TypeError, ValueError):
            raise ProbeParamError("port must be an integer, got %r" % (p["port"],))
    if not 1 <= p["port"] <= 65535:
        raise ProbeParamError("port must be between 1 and 65535, got %d" % p["port"])
    if not spec_applied:
        if p["transport"] not in ("udp", "tcp", "tls"):
            raise ProbeParamError("transport must be one of udp, tcp, tls, got %r" % (p["transport"],))
        try:
            p["timeout"] = float(p["timeout"])
        except (TypeError, ValueError):
            raise ProbeParamError("timeout must be a number of seconds, got %r" % (p["timeout"],))
    if not 0 < p["timeout"] <= MAX_TIMEOUT:
        raise ProbeParamError("timeout must be > 0 and <= %d seconds, got %s" % (MAX_TIMEOUT, p["timeout"]))
    if not spec_applied:
        try:
            p["count"] = int(p["count"])
        except (TypeError, ValueError):
            raise ProbeParamError("count must be an integer, got %r" % (p["count"],))
    if not 1 <= p["count"] <= MAX_COUNT:
        raise ProbeParamError("count must be between 1 and %d, got %d" % (MAX_COUNT, p["count"]))
    if (p["username"] is None) != (p["password"] is None):
        raise ProbeParamError("username and password must be given together")
    checks = p["checks"]
    if not spec_applied and isinstance(checks, str):
        checks = [c.strip() for c in checks.split(",")]
    if not checks:
        raise ProbeParamError("checks must name at least one of %s" % ", ".join(CHECKS))
    if not spec_applied:
        bad = [c for c in checks if c not in CHECKS]
        if bad:
            raise ProbeParamError(
                "checks: unknown check(s) %s; choose from %s" % (", ".join(map(str, bad)), ", ".join(CHECKS))
            )
    p["checks"] = [c for c in CHECKS if c in checks]
    if p["insecure"] and p["ca_file"]:
        raise ProbeParamError("insecure and ca_file are mutually exclusive")
    if p["ca_file"] and not os.path.isfile(p["ca_file"]):
        raise ProbeParamError("ca_file %s does not exist or is not a file" % p["ca_file"])
    if p["expected_relayed_ip"] is not None:
        p["expected_relayed_ip"] = str(_ip(p["expected_relayed_ip"], "expected_relayed_ip"))
    if p["peer_address"] is not None:
        p["peer_address"] = str(_ip(p["peer_address"], "peer_address"))
    addrs = p["peer_permission_only"] or []
    if len(addrs) > MAX_PERMISSION_ONLY:
        raise ProbeParamError(
            "peer_permission_only takes at most %d addresses, got %d" % (MAX_PERMISSION_ONLY, len(addrs))
        )
    p["peer_permission_only"] = [str(_ip(a, "peer_permission_only")) for a in addrs]
    for option in ("netns", "peer_netns"):
        if p[option]:
            try:
                netns_path(p[option])
            except ValueError as exc:
                raise ProbeParamError("%s: %s" % (option, exc))
    return p

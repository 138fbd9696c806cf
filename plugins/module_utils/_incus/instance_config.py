# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""incus_instance's desired state: what the instance should be, and how it differs from what it is.

Pure functions of the module's params (after :func:`.instance_options.normalize_params`)
and of the instance as Incus returns it: the writable body a PUT sends, whether
an update is needed, the state actions that bring the status to ``state``, the
managed view the diff shows, the instance as the module returns it and the one
check mode predicts. :class:`~.instance.InstanceManager` performs the calls.
"""

from __future__ import annotations

import copy

from ansible_collections.veza.coturn.plugins.module_utils._incus.instance_view import status_to_state

# The writable part of an instance (what PUT /1.0/instances/<name> takes).
WRITABLE = ("architecture", "config", "devices", "ephemeral", "profiles", "stateful", "description")


def desired_config(params, current):
    config = dict(current or {})
    for key, value in (params["config"] or {}).items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    return config


def desired_devices(params, current):
    if params["devices"] is None:
        return copy.deepcopy(current or {})
    return copy.deepcopy(params["devices"])


def desired_writable(params, inst):
    body = dict((k, copy.deepcopy(inst.get(k))) for k in WRITABLE if k in inst)
    body["config"] = desired_config(params, inst.get("config"))
    body["devices"] = desired_devices(params, inst.get("devices"))
    body["profiles"] = list(params["profiles"])
    body["ephemeral"] = params["ephemeral"]
    if params["description"] is not None:
        body["description"] = params["description"]
    return body


def update_needed(params, inst):
    want = desired_writable(params, inst)
    for key in ("config", "devices", "profiles", "ephemeral", "description"):
        if key in want and want[key] != inst.get(key):
            return True
    return False


def state_actions(state, status):
    if state == "started":
        if status == "Running":
            return []
        return ["unfreeze"] if status == "Frozen" else ["start"]
    if state == "stopped":
        return ["stop"] if status in ("Running", "Frozen") else []
    if state == "restarted":
        if status == "Running":
            return ["restart"]
        return ["unfreeze", "restart"] if status == "Frozen" else ["start"]
    return []


def managed_view(params, inst, status=None):
    """The managed view used for the diff."""
    if inst is None:
        return {"state": "absent"}
    declared = params["config"] or {}
    config = inst.get("config") or {}
    out = {
        "state": status_to_state(status or inst.get("status")),
        "profiles": list(inst.get("profiles") or []),
        "config": dict((k, config[k]) for k in sorted(declared) if k in config),
        "devices": copy.deepcopy(inst.get("devices") or {}),
        "ephemeral": bool(inst.get("ephemeral")),
    }
    if params["description"] is not None:
        out["description"] = inst.get("description", "")
    return out


def public_instance(inst, addresses=None):
    if inst is None:
        return {}
    keys = (
        "name",
        "status",
        "type",
        "project",
        "location",
        "profiles",
        "config",
        "devices",
        "expanded_devices",
        "ephemeral",
        "description",
        "architecture",
    )
    out = dict((k, copy.deepcopy(inst.get(k))) for k in keys)
    out["addresses"] = addresses or {}
    return out


def predicted_instance(params, inst, status):
    """The instance check mode reports: ``inst`` (``None``: not created yet) with the writes applied."""
    if inst is None:
        inst = {
            "name": params["name"],
            "type": params["type"],
            "project": params["project"],
            "location": params["target"] or "none",
            "config": {},
            "devices": {},
            "expanded_devices": {},
            "profiles": [],
            "ephemeral": False,
            "description": "",
            "architecture": None,
        }
    pred = copy.deepcopy(inst)
    pred.update(desired_writable(params, inst))
    pred["status"] = status
    if params["devices"] is not None or "expanded_devices" not in pred:
        # profile devices are unknown here; local devices override them
        expanded = dict(inst.get("expanded_devices") or {})
        for name in inst.get("devices") or {}:
            expanded.pop(name, None)
        expanded.update(pred["devices"])
        pred["expanded_devices"] = expanded
    return pred

# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Incus resources other than instances: read one; ensure a network, a storage pool; drop an image.

Independent of Ansible, like :mod:`.instance`: each ``ensure_*`` function
takes an :class:`~.client.IncusClient`, what is wanted and whether to act
(``check_mode``), and returns the module result (``changed``, ``actions``,
the resource, and ``diff`` when asked), or raises
:class:`~.errors.ModuleFailure`.
"""

from __future__ import annotations

import urllib.parse

from ansible_collections.veza.coturn.plugins.module_utils._incus.errors import IncusError, ModuleFailure

# What incus_info can read: the path of one resource of each kind.
PATHS = {
    "server": "/1.0",
    "network": "/1.0/networks/%s",
    "storage_pool": "/1.0/storage-pools/%s",
    "image_alias": "/1.0/images/aliases/%s",
    "instance": "/1.0/instances/%s",
}


def resource_path(kind, name=None):
    path = PATHS[kind]
    if "%s" in path:
        path = path % urllib.parse.quote(name, safe="")
    return path


def read(client, kind, name=None, project=None):
    """Return ``(exists, metadata)``: ``(False, {})`` when Incus answers 404."""
    query = {"project": project} if project else None
    try:
        meta, dummy = client.request("GET", resource_path(kind, name), query=query)
    except IncusError as exc:
        if exc.not_found:
            return False, {}
        raise
    return True, meta or {}


def _as_str(value):
    """Config values as Incus stores them: booleans as true/false, the rest as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _refused(module, what, name, exc):
    return ModuleFailure('%s: Incus refused to %s "%s": %s' % (module, what, name, exc.error), error_code=exc.status)


def _result(actions, resource_key, resource, diff, before, after):
    result = {"changed": bool(actions), "actions": actions, resource_key: resource}
    if diff:
        result["diff"] = {"before": before, "after": after}
    return result


def ensure_network(client, name, type_, config, check_mode=False, diff=False):
    """Create the managed network when missing; set the given ``config`` keys (merge) when it differs."""
    module = "incus_network"
    want = dict((str(k), _as_str(v)) for k, v in (config or {}).items())
    exists, net = read(client, "network", name)
    if not exists:
        actions = ["create"]
        before = {"state": "absent"}
        if not check_mode:
            try:
                client.request("POST", "/1.0/networks", body={"name": name, "type": type_, "config": want})
            except IncusError as exc:
                raise _refused(module, "create network", name, exc)
    else:
        if not net.get("managed") or net.get("type") != type_:
            raise ModuleFailure(
                '%s: network "%s" exists and is not an Incus-managed %s (managed: %s, type: %s)'
                % (module, name, type_, bool(net.get("managed")), net.get("type"))
            )
        current = net.get("config") or {}
        declared = dict((k, current[k]) for k in want if k in current)
        actions = [] if declared == want else ["update"]
        before = {"state": "present", "type": net.get("type"), "config": declared}
        if actions and not check_mode:
            try:
                client.request("PATCH", resource_path("network", name), body={"config": want})
            except IncusError as exc:
                raise _refused(module, "update network", name, exc)
    after = {"state": "present", "type": type_, "config": want}
    if check_mode or not actions:
        final = dict(net, name=name, type=type_, config=dict(net.get("config") or {}, **want))
    else:
        dummy, final = read(client, "network", name)
    return _result(actions, "network", final, diff, before, after)


def ensure_storage_pool(client, name, driver, config=None, check_mode=False, diff=False):
    """Create the storage pool when missing; an existing pool is left as it is."""
    exists, pool = read(client, "storage_pool", name)
    if exists:
        state = {"state": "present", "driver": pool.get("driver")}
        return _result([], "storage_pool", pool, diff, state, state)
    body = {"name": name, "driver": driver}
    if config:
        body["config"] = dict((str(k), _as_str(v)) for k, v in config.items())
    if check_mode:
        pool = dict(body, config=body.get("config", {}))
    else:
        try:
            client.request("POST", "/1.0/storage-pools", body=body)
        except IncusError as exc:
            raise _refused("incus_storage_pool", "create storage pool", name, exc)
        dummy, pool = read(client, "storage_pool", name)
    return _result(["create"], "storage_pool", pool, diff, {"state": "absent"}, {"state": "present", "driver": driver})


def remove_image(client, alias, wait_timeout=60, check_mode=False, diff=False):
    """Delete the image the local ``alias`` points to (the alias goes with it)."""
    exists, meta = read(client, "image_alias", alias)
    if not exists:
        return _result([], "image", {}, diff, {"state": "absent"}, {"state": "absent"})
    fingerprint = meta.get("target") or ""
    if not check_mode:
        try:
            client.request(
                "DELETE", "/1.0/images/%s" % urllib.parse.quote(fingerprint, safe=""), wait_timeout=wait_timeout
            )
        except IncusError as exc:
            if not exc.not_found:
                raise _refused("incus_image", "delete the image of alias", alias, exc)
    before = {"state": "present", "alias": alias, "fingerprint": fingerprint}
    return _result(["delete"], "image", {"alias": alias, "fingerprint": fingerprint}, diff, before, {"state": "absent"})

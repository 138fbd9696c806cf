# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The REST resources of the fake Incus daemon (tests/unit/plugins/incus_fake.py).

:class:`FakeIncusHandlers` answers one request (``handle``) for the endpoints
the modules use: the server, networks, storage pools, images and aliases,
operations and their ``/wait``, instances and their state. It is mixed into
:class:`~.incus_fake.FakeIncus`, which holds the in-memory state it reads and
changes (instances, profiles, networks, pools, images, operations) and the
helpers it calls (``get``, ``add_instance``, ``new_operation``, ``etag``...).
A handler returns ``(kind, metadata, etag)`` or raises :class:`_Error`.
"""

from __future__ import annotations

import urllib.parse


class _Error(Exception):
    def __init__(self, code, msg):
        super().__init__(msg)
        self.code = code
        self.msg = msg


class FakeIncusHandlers:
    """The fake daemon's request dispatch and resource handlers (a mixin of FakeIncus)."""

    # -- request dispatch ---------------------------------------------------
    def handle(self, method, path, query, body, headers):
        project = query.get("project", "default")
        parts = [urllib.parse.unquote(x) for x in path.strip("/").split("/")]
        if parts[:1] != ["1.0"]:
            raise _Error(404, "not found")
        rest = parts[1:]
        if rest == [] and method == "GET":
            return "sync", {"api_version": "1.0", "auth": "trusted", "environment": {"server_version": "6.0.0"}}, None
        if rest[:1] == ["networks"]:
            return self.network(method, rest[1:], body)
        if rest[:1] == ["storage-pools"]:
            return self.storage_pool(method, rest[1:], body)
        if rest[:1] == ["images"] and len(rest) == 2 and method == "DELETE":
            return self.delete_image(rest[1])
        if rest[:1] == ["operations"] and len(rest) == 3 and rest[2] == "wait":
            return self.op_wait(rest[1], float(query.get("timeout", "-1")))
        if rest[:2] == ["images", "aliases"] and len(rest) == 3 and method == "GET":
            if rest[2] not in self.aliases:
                raise _Error(404, "Image alias not found")
            return "sync", {"name": rest[2], "target": self.aliases[rest[2]], "type": "container"}, None
        if rest[:1] == ["images"] and len(rest) == 2 and method == "GET":
            matches = [f for f in self.images if f.startswith(rest[1])]
            if len(matches) != 1:
                raise _Error(404, "Image not found")
            return "sync", {"fingerprint": matches[0]}, None
        if rest == ["instances"] and method == "POST":
            return self.create(project, query, body)
        if rest[:1] == ["instances"] and len(rest) == 2:
            name = rest[1]
            if method == "GET":
                inst = self.get(project, name)
                return "sync", self.public(inst), self.etag(inst)
            if method == "PUT":
                return self.update(project, name, body, headers)
            if method == "DELETE":
                return self.delete(project, name)
        if rest[:1] == ["instances"] and len(rest) == 3 and rest[2] == "state":
            if method == "GET":
                return "sync", self.state(project, rest[1]), None
            if method == "PUT":
                return self.change_state(project, rest[1], body)
        raise _Error(404, "not found")

    @staticmethod
    def _strings(config):
        for key, value in (config or {}).items():
            if not isinstance(value, str):
                raise _Error(
                    400, "json: cannot unmarshal %s into Go struct field .config of type string" % type(value).__name__
                )
        return dict(config or {})

    def network(self, method, rest, body):
        if not rest and method == "POST":
            name = body.get("name")
            if name in self.networks:
                raise _Error(409, 'Network "%s" already exists' % name)
            self.networks[name] = {
                "name": name,
                "type": body.get("type") or "bridge",
                "managed": True,
                "config": self._strings(body.get("config")),
                "status": "Created",
                "description": "",
            }
            return "sync", None, None
        if len(rest) == 1:
            net = self.networks.get(rest[0])
            if net is None:
                raise _Error(404, "Network not found")
            if method == "GET":
                return "sync", net, None
            if method == "PATCH":
                net["config"].update(self._strings(body.get("config")))
                return "sync", None, None
        raise _Error(404, "not found")

    def storage_pool(self, method, rest, body):
        if not rest and method == "POST":
            name = body.get("name")
            if name in self.pools:
                raise _Error(409, 'Storage pool "%s" already exists' % name)
            if body.get("driver") not in ("dir", "btrfs", "zfs", "lvm"):
                raise _Error(400, 'Driver "%s" is not supported' % body.get("driver"))
            self.pools[name] = {
                "name": name,
                "driver": body["driver"],
                "status": "Created",
                "config": self._strings(body.get("config")),
                "description": "",
            }
            return "sync", None, None
        if len(rest) == 1 and method == "GET":
            if rest[0] not in self.pools:
                raise _Error(404, "Storage pool not found")
            return "sync", self.pools[rest[0]], None
        raise _Error(404, "not found")

    def delete_image(self, fingerprint):
        if fingerprint not in self.images:
            raise _Error(404, "Image not found")

        def do():
            self.images.discard(fingerprint)
            for alias, target in list(self.aliases.items()):
                if target == fingerprint:
                    del self.aliases[alias]

        return "async", self.new_operation("Deleting image", do), None

    def op_wait(self, op_id, timeout):
        op = self.operations.get(op_id)
        if op is None:
            raise _Error(404, "Operation not found")
        op["_done"].wait(None if timeout < 0 else timeout)
        meta = dict((k, v) for k, v in op.items() if not k.startswith("_"))
        if op["status"] == "Failure" and self.failed_op_as_error:
            raise _Error(500, op["err"])
        return "sync", meta, None

    def create(self, project, query, body):
        name = body.get("name")
        if (project, name) in self.instances:
            raise _Error(409, 'Instance "%s" already exists' % name)
        if query.get("target"):
            raise _Error(400, "Target only allowed when clustered")
        self.validate_config(body.get("config") or {})
        self.validate_devices(body.get("devices") or {})
        src = body.get("source") or {}

        def do():
            if src.get("type") == "image":
                if src.get("server"):
                    raise _Error(
                        400,
                        "Failed getting remote image info: Failed getting image: "
                        'The requested image couldn\'t be found for fingerprint "%s"'
                        % (src.get("alias") or src.get("fingerprint")),
                    )
                if src.get("alias") and src["alias"] not in self.aliases:
                    raise _Error(400, "Image not provided for instance creation")
            inst = self.add_instance(
                name,
                project=project,
                config=body.get("config"),
                devices=body.get("devices"),
                profiles=body.get("profiles") or ["default"],
                type_=body.get("type") or "container",
                ephemeral=bool(body.get("ephemeral")),
            )
            inst["description"] = body.get("description", "")
            if "root" not in inst["expanded_devices"]:
                del self.instances[(project, name)]
                raise _Error(
                    400,
                    "Failed creating instance record: Failed initializing "
                    "instance: Invalid devices: Failed detecting root disk device: "
                    "No root device could be found",
                )

        return "async", self.new_operation("Creating instance", do), None

    def update(self, project, name, body, headers):
        inst = self.get(project, name)
        match = headers.get("if-match")
        if match and match != self.etag(inst):
            raise _Error(412, "ETag doesn't match: %s vs %s" % (self.etag(inst).strip('"'), match))
        self.validate_config(body.get("config") or {})
        self.validate_devices(body.get("devices") or {})
        old_volatile = dict((k, v) for k, v in inst["config"].items() if k.startswith("volatile."))
        new_volatile = dict((k, v) for k, v in (body.get("config") or {}).items() if k.startswith("volatile."))
        if old_volatile != new_volatile:
            raise _Error(400, "Volatile keys cannot be changed or removed through PUT")

        def do():
            for key in ("config", "devices", "profiles", "ephemeral", "description"):
                if key in body:
                    inst[key] = body[key]
            self._expand(inst)

        return "async", self.new_operation("Updating instance", do), None

    def delete(self, project, name):
        inst = self.get(project, name)
        if inst["status"] != "Stopped":
            raise _Error(400, "Instance is running")

        def do():
            del self.instances[(project, name)]

        return "async", self.new_operation("Deleting instance", do), None

    def state(self, project, name):
        inst = self.get(project, name)
        network = {}
        if inst["status"] == "Running":
            network["lo"] = {
                "addresses": [{"family": "inet", "address": "127.0.0.1", "netmask": "8", "scope": "local"}]
            }
            addrs = [{"family": "inet6", "address": "fe80::1", "netmask": "64", "scope": "link"}]
            inst["_polls"] += 1
            if inst["_polls"] > self.ipv4_after_polls:
                addrs.insert(0, {"family": "inet", "address": self.addresses(inst), "netmask": "24", "scope": "global"})
            network["eth0"] = {"addresses": addrs, "state": "up"}
        return {"status": inst["status"], "status_code": inst["status_code"], "network": network}

    def change_state(self, project, name, body):
        inst = self.get(project, name)
        action = body.get("action")
        status = inst["status"]
        if action == "start" and status == "Running":
            raise _Error(400, "The instance is already running")
        if action == "stop" and status == "Stopped":
            raise _Error(400, "The instance is already stopped")
        if action == "unfreeze" and status != "Frozen":
            raise _Error(400, "The instance is not frozen")

        def do():
            if action == "start":
                if "root" not in inst["expanded_devices"]:
                    raise _Error(400, 'Failed to start device "root": No root device')
                self._set(inst, "Running")
            elif action == "stop":
                self._set(inst, "Stopped")
                if inst["ephemeral"]:
                    del self.instances[(project, name)]
            elif action == "restart":
                inst["_polls"] = 0
                self._set(inst, "Running")
            elif action == "unfreeze":
                self._set(inst, "Running")
            elif action == "freeze":
                self._set(inst, "Frozen")
            else:
                raise _Error(400, "Unknown action %s" % action)

        return "async", self.new_operation("%s instance" % action.capitalize(), do), None

    @staticmethod
    def _set(inst, status):
        inst["status"] = status
        inst["status_code"] = {"Running": 103, "Stopped": 102, "Frozen": 110}[status]
        inst["config"]["volatile.last_state.power"] = status.upper()
        if status == "Running":
            inst["_polls"] = 0

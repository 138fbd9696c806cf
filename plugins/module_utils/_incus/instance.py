# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The instance manager behind incus_instance: desired vs current, and the calls that close the gap.

Independent of Ansible: :class:`InstanceManager` reads the instance through an
:class:`~.client.IncusClient`, plans the actions (create, update, start, stop,
restart, unfreeze, delete), performs them unless in check mode, and returns
the module's result or raises :class:`~.errors.ModuleFailure`. What the
instance should be, and whether it differs, is :mod:`.instance_config`.
"""

from __future__ import annotations

import copy
import time
import urllib.parse

from ansible_collections.veza.coturn.plugins.module_utils._incus.errors import IncusError, ModuleFailure
from ansible_collections.veza.coturn.plugins.module_utils._incus.instance_config import (
    WRITABLE,
    desired_config,
    desired_devices,
    desired_writable,
    managed_view,
    predicted_instance,
    public_instance,
    state_actions,
    update_needed,
)
from ansible_collections.veza.coturn.plugins.module_utils._incus.instance_options import MODULE
from ansible_collections.veza.coturn.plugins.module_utils._incus.instance_view import first_ipv4, ipv4_addresses

__all__ = ("InstanceManager", "WRITABLE")


class InstanceManager:
    """The module's logic, independent of Ansible.

    ``params`` is a dict of module options (checked by the argument spec,
    then by :func:`.instance_options.normalize_params`), ``client`` an
    :class:`IncusClient` (or anything with the same ``request``/``wait_operation``
    methods). :meth:`run` returns
    the result dict or raises :class:`ModuleFailure`.
    """

    def __init__(self, params, client, check_mode=False, diff=False, sleep=time.sleep, clock=time.monotonic):
        self.p = params
        self.client = client
        self.check_mode = check_mode
        self.diff = diff
        self.sleep = sleep
        self.clock = clock
        self.actions = []  # planned (and, outside check mode, performed) in order
        self.done = []  # performed so far (reported when a later step fails)
        self.warnings = []
        self.name = self.p["name"]
        self.quoted = urllib.parse.quote(self.name, safe="")
        self.path = "/1.0/instances/%s" % self.quoted

    # -- API helpers --------------------------------------------------------
    def _query(self, **extra):
        q = {"project": self.p["project"]}
        q.update(extra)
        return q

    def _api(self, what, method, path, body=None, query=None, headers=None, wait_timeout=None):
        try:
            return self.client.request(
                method,
                path,
                body=body,
                query=query or self._query(),
                headers=headers,
                wait_timeout=wait_timeout or self.p["wait_timeout"],
            )
        except IncusError as exc:
            raise ModuleFailure(
                'Incus refused to %s instance "%s": %s' % (what, self.name, exc.error),
                error_code=exc.status,
                actions=list(self.done),
            )

    def fetch(self):
        """Return ``(instance, etag)``, ``(None, None)`` when it does not exist."""
        try:
            return self.client.request("GET", self.path, query=self._query())
        except IncusError as exc:
            if exc.not_found:
                return None, None
            raise ModuleFailure(
                'Incus refused to read instance "%s": %s' % (self.name, exc.error),
                error_code=exc.status,
                actions=list(self.done),
            )

    def fetch_state(self):
        try:
            meta, dummy = self.client.request("GET", self.path + "/state", query=self._query())
        except IncusError as exc:
            if exc.not_found:
                return None
            raise ModuleFailure(
                'Incus refused to read the state of instance "%s": %s' % (self.name, exc.error),
                error_code=exc.status,
                actions=list(self.done),
            )
        return meta or {}

    def _check_source(self):
        src = self.p["source"]
        if src is None:
            raise ModuleFailure(
                '%s: source: required to create instance "%s" (it does not exist in project "%s")'
                % (MODULE, self.name, self.p["project"]),
                actions=list(self.done),
            )
        if src["type"] != "image" or src.get("server"):
            return
        if "alias" in src:
            path = "/1.0/images/aliases/%s" % urllib.parse.quote(src["alias"], safe="")
            label = 'source.alias: image alias "%s"' % src["alias"]
        else:
            path = "/1.0/images/%s" % urllib.parse.quote(src["fingerprint"], safe="")
            label = 'source.fingerprint: image "%s"' % src["fingerprint"]
        try:
            self.client.request("GET", path, query=self._query())
        except IncusError as exc:
            if exc.not_found:
                raise ModuleFailure(
                    '%s: %s does not exist on the Incus daemon (project "%s"); import the image '
                    "or set source.server to pull it from a remote" % (MODULE, label, self.p["project"]),
                    actions=list(self.done),
                )
            raise ModuleFailure(
                "Incus refused to look up %s: %s" % (label, exc.error), error_code=exc.status, actions=list(self.done)
            )

    # -- desired state (instance_config) -----------------------------------
    def desired_config(self, current):
        return desired_config(self.p, current)

    def desired_devices(self, current):
        return desired_devices(self.p, current)

    def _desired_writable(self, inst):
        return desired_writable(self.p, inst)

    def update_needed(self, inst):
        return update_needed(self.p, inst)

    def state_actions(self, status):
        return state_actions(self.p["state"], status)

    def view(self, inst, status=None):
        """The managed view used for the diff."""
        return managed_view(self.p, inst, status)

    # -- writes -------------------------------------------------------------
    def _create(self):
        src = dict(self.p["source"])
        body = {
            "name": self.name,
            "type": self.p["type"],
            "source": src,
            "profiles": list(self.p["profiles"]),
            "config": dict((k, v) for k, v in (self.p["config"] or {}).items() if v is not None),
            "devices": copy.deepcopy(self.p["devices"] or {}),
            "ephemeral": self.p["ephemeral"],
            "start": False,
        }
        if self.p["description"] is not None:
            body["description"] = self.p["description"]
        query = self._query()
        if self.p["target"]:
            query["target"] = self.p["target"]
        try:
            self.client.request(
                "POST", "/1.0/instances", body=body, query=query, wait_timeout=max(self.p["wait_timeout"], 60) * 5
            )
        except IncusError as exc:
            label = []
            if src.get("alias"):
                label.append('source.alias "%s"' % src["alias"])
            elif src.get("fingerprint"):
                label.append('source.fingerprint "%s"' % src["fingerprint"])
            if src.get("server"):
                label.append("source.server %s" % src["server"])
            if self.p["target"]:
                label.append('target "%s"' % self.p["target"])
            raise ModuleFailure(
                'Incus refused to create instance "%s": %s%s'
                % (self.name, exc.error, " (%s)" % ", ".join(label) if label else ""),
                error_code=exc.status,
                actions=list(self.done),
            )

    def _update(self):
        inst, etag = self.fetch()
        if inst is None:
            raise ModuleFailure(
                'Incus refused to update instance "%s": it disappeared' % self.name, actions=list(self.done)
            )
        body = self._desired_writable(inst)
        headers = {"If-Match": etag} if etag else None
        self._api("update", "PUT", self.path, body=body, headers=headers)

    def _change_state(self, action):
        force = self.p["force_stop"]
        body = {"action": action, "timeout": self.p["wait_timeout"], "force": False, "stateful": False}
        if action in ("stop", "restart"):
            body["force"] = force
        if action == "stop":
            inst, dummy = self.fetch()
            if inst is not None and inst.get("status") == "Frozen":
                body["force"] = True
            if body["force"]:
                body["timeout"] = -1
        what = {"start": "start", "stop": "stop", "restart": "restart", "unfreeze": "unfreeze", "freeze": "freeze"}[
            action
        ]
        self._api(what, "PUT", self.path + "/state", body=body, wait_timeout=self.p["wait_timeout"] + 30)

    def _delete(self):
        try:
            self.client.request("DELETE", self.path, query=self._query(), wait_timeout=self.p["wait_timeout"] + 30)
        except IncusError as exc:
            if exc.not_found:  # an ephemeral instance vanishes when stopped
                return
            raise ModuleFailure(
                'Incus refused to delete instance "%s": %s' % (self.name, exc.error),
                error_code=exc.status,
                actions=list(self.done),
            )

    def _wait_ipv4(self):
        deadline = self.clock() + self.p["wait_timeout"]
        while True:
            addresses = ipv4_addresses(self.fetch_state())
            if addresses:
                return addresses
            if self.clock() >= deadline:
                raise ModuleFailure(
                    '%s: wait_for_ipv4: instance "%s" reported no IPv4 address on a non-loopback '
                    "interface within %ss" % (MODULE, self.name, self.p["wait_timeout"]),
                    actions=list(self.done),
                    changed=bool(self.done),
                )
            self.sleep(0.5)

    def _perform(self, action):
        if action == "create":
            self._create()
        elif action == "update":
            self._update()
        elif action == "delete":
            self._delete()
        else:
            self._change_state(action)
        self.done.append(action)

    # -- result helpers -----------------------------------------------------
    public = staticmethod(public_instance)

    def _predicted(self, inst, status):
        return predicted_instance(self.p, inst, status)

    # -- main ---------------------------------------------------------------
    def run(self):
        p = self.p
        inst, dummy = self.fetch()
        before = self.view(inst)
        result = {"changed": False, "actions": self.actions, "warnings": self.warnings}

        if p["state"] == "absent":
            if inst is not None:
                if inst.get("status") in ("Running", "Frozen"):
                    self.actions.append("stop")
                self.actions.append("delete")
                if not self.check_mode:
                    if "stop" in self.actions:
                        self._perform("stop")
                    self._perform("delete")
            result.update(changed=bool(self.actions), instance={}, ipv4=None)
            if self.diff:
                result["diff"] = {"before": before, "after": {"state": "absent"}}
            return result

        if inst is None:
            self._check_source()
            self.actions.append("create")
            status = "Stopped"
            if p["state"] in ("started", "restarted"):
                self.actions.append("start")
                status = "Running"
            if not self.check_mode:
                for action in self.actions:
                    self._perform(action)
            predicted = self._predicted(None, status)
        else:
            if inst.get("type") and inst["type"] != p["type"]:
                raise ModuleFailure(
                    '%s: type: instance "%s" exists as a %s, not a %s; the type cannot be changed '
                    "(delete it first)" % (MODULE, self.name, inst["type"], p["type"])
                )
            location = inst.get("location")
            if p["target"] and location not in (None, "", "none", p["target"]):
                self.warnings.append(
                    'target is used on create only: instance "%s" stays on %s, not %s'
                    % (self.name, location, p["target"])
                )
            status = inst.get("status")
            to_state = self.state_actions(status)
            update = self.update_needed(inst)
            # stop first (changes that need a stopped instance), start last
            plan = []
            if "stop" in to_state:
                plan.append("stop")
            if update:
                plan.append("update")
            plan.extend(a for a in to_state if a != "stop")
            self.actions.extend(plan)
            if not self.check_mode:
                for action in plan:
                    self._perform(action)
            final_status = status
            if p["state"] in ("started", "restarted"):
                final_status = "Running"
            elif p["state"] == "stopped":
                final_status = "Stopped"
            predicted = self._predicted(inst, final_status)

        if self.check_mode:
            final = predicted
        else:
            final, dummy = self.fetch()  # None: an ephemeral instance we stopped

        addresses = {}
        # in check mode only an instance that already runs can report addresses
        really_running = (
            final is not None
            and final.get("status") == "Running"
            and (not self.check_mode or (inst is not None and inst.get("status") == "Running"))
        )
        if really_running:
            if p["wait_for_ipv4"]:
                addresses = self._wait_ipv4()
            else:
                addresses = ipv4_addresses(self.fetch_state())

        result.update(
            changed=bool(self.actions),
            instance=self.public(final, addresses),
            ipv4=first_ipv4(addresses),
        )
        if self.diff:
            result["diff"] = {"before": before, "after": self.view(final)}
        return result

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake Incus daemon for the unit tests of the Incus modules and their module_utils.

The fake daemon is a threaded HTTP server on a unix socket in a temporary
directory (or on loopback with TLS). It keeps instances, networks, storage
pools and images in memory and implements the endpoints the modules use, with
background operations that finish shortly after they are created (so the
client really has to wait on them). ``tests/unit/plugins/conftest.py`` serves
it as the ``fake`` fixture. The REST resource handlers are in
``incus_fake_handlers.py``; this file holds the state, the HTTP plumbing and
the helpers the tests call (``serve_unix``, ``options``, ``run``, ``run_main``, ``base``).
"""

from __future__ import annotations

import hashlib
import http.server
import json
import socketserver
import threading
import time
import urllib.parse
import uuid

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.veza.coturn.plugins.module_utils._incus.client import IncusClient
from ansible_collections.veza.coturn.plugins.module_utils._incus.errors import ModuleFailure
from ansible_collections.veza.coturn.plugins.module_utils._incus.instance import InstanceManager
from ansible_collections.veza.coturn.plugins.module_utils._incus.instance_options import normalize_params
from ansible_collections.veza.coturn.plugins.modules.incus_instance import argument_spec
from ansible_collections.veza.coturn.tests.unit.plugins.incus_fake_handlers import FakeIncusHandlers, _Error

FINGERPRINT = "abb3b0423a99e3d30961d199f8c9a46c7fd848f6af50c8b48c7215105531f87b"
WRITABLE = ("architecture", "config", "devices", "ephemeral", "profiles", "stateful", "description")
ALLOWED_CONFIG_PREFIXES = (
    "boot.",
    "limits.",
    "security.",
    "user.",
    "environment.",
    "raw.",
    "linux.",
    "snapshots.",
    "cloud-init.",
    "image.",
    "volatile.",
)


# --------------------------------------------------------------------------
# The fake daemon
# --------------------------------------------------------------------------
class FakeIncus(FakeIncusHandlers):
    """In-memory Incus daemon state plus the request log."""

    def __init__(self):
        self.lock = threading.RLock()
        self.instances = {}  # (project, name) -> instance dict
        self.aliases = {"test-deb12": FINGERPRINT}
        self.images = {FINGERPRINT}
        self.profiles = {
            "default": {"root": {"type": "disk", "path": "/", "pool": "default"}},
            "net": {"eth0": {"type": "nic", "network": "incusbr-t", "name": "eth0"}},
        }
        self.networks = {}  # name -> network dict
        self.pools = {}  # name -> storage pool dict
        self.operations = {}
        self.requests = []
        self.op_delay = 0.02
        self.ipv4_after_polls = 0  # state polls before an address appears
        self.failed_op_as_error = True  # what Incus 6.0 does on /wait of a failed op
        self._ip = 10
        self.server = None

    # -- helpers ------------------------------------------------------------
    @property
    def writes(self):
        return [(m, p) for (m, p, q, b, h) in self.requests if m != "GET"]

    def add_instance(
        self,
        name,
        project="default",
        status="Stopped",
        config=None,
        devices=None,
        profiles=("default",),
        type_="container",
        ephemeral=False,
    ):
        inst = {
            "name": name,
            "project": project,
            "type": type_,
            "status": status,
            "status_code": 103 if status == "Running" else 102,
            "architecture": "x86_64",
            "location": "none",
            "stateful": False,
            "description": "",
            "ephemeral": ephemeral,
            "profiles": list(profiles),
            "config": dict({"volatile.base_image": FINGERPRINT, "volatile.uuid": str(uuid.uuid4())}, **(config or {})),
            "devices": dict(devices or {}),
            "created_at": "2026-01-01T00:00:00Z",
            "last_used_at": "2026-01-01T00:00:00Z",
            "_polls": 0,
        }
        self._expand(inst)
        self.instances[(project, name)] = inst
        return inst

    def _expand(self, inst):
        expanded_devices = {}
        expanded_config = {}
        for prof in inst["profiles"]:
            expanded_devices.update(json.loads(json.dumps(self.profiles.get(prof, {}))))
        expanded_devices.update(json.loads(json.dumps(inst["devices"])))
        expanded_config.update(inst["config"])
        inst["expanded_devices"] = expanded_devices
        inst["expanded_config"] = expanded_config

    @staticmethod
    def etag(inst):
        doc = json.dumps(dict((k, inst.get(k)) for k in WRITABLE), sort_keys=True)
        return '"%s"' % hashlib.sha256(doc.encode()).hexdigest()

    @staticmethod
    def public(inst):
        return dict((k, v) for k, v in inst.items() if not k.startswith("_"))

    def get(self, project, name):
        inst = self.instances.get((project, name))
        if inst is None:
            raise _Error(404, 'Failed to fetch instance "%s" in project "%s": Instance not found' % (name, project))
        return inst

    def new_operation(self, description, func):
        op_id = str(uuid.uuid4())
        op = {
            "id": op_id,
            "class": "task",
            "description": description,
            "status": "Running",
            "status_code": 103,
            "err": "",
            "metadata": None,
            "may_cancel": False,
            "resources": {},
            "location": "none",
            "_done": threading.Event(),
        }
        self.operations[op_id] = op

        def worker():
            time.sleep(self.op_delay)
            try:
                with self.lock:
                    func()
                op.update(status="Success", status_code=200)
            except _Error as exc:
                op.update(status="Failure", status_code=400, err=exc.msg)
            op["_done"].set()

        threading.Thread(target=worker, daemon=True).start()
        return op

    @staticmethod
    def validate_config(config):
        for key in config:
            if not key.startswith(ALLOWED_CONFIG_PREFIXES):
                raise _Error(400, "Invalid config: Unknown configuration key: %s" % key)

    @staticmethod
    def validate_devices(devices):
        for name, dev in devices.items():
            if not isinstance(dev, dict) or not dev.get("type"):
                raise _Error(
                    400, 'Invalid devices: Device validation failed for "%s": ' "Missing device type in config" % name
                )
            for key, value in dev.items():
                if not isinstance(value, str):
                    raise _Error(400, "json: cannot unmarshal %s into Go struct field" % type(value).__name__)

    def addresses(self, inst):
        eth = inst["expanded_devices"].get("eth0", {})
        if "ipv4.address" in eth:
            return eth["ipv4.address"]
        if "_ip" not in inst:
            self._ip += 1
            inst["_ip"] = "10.210.0.%d" % self._ip
        return inst["_ip"]


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def address_string(self):
        return "unix"

    def _serve(self):
        fake = self.server.fake
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        headers = dict((k.lower(), v) for k, v in self.headers.items())
        with fake.lock:
            fake.requests.append((self.command, parsed.path, query, body, headers))
        try:
            if self.command == "GET" and parsed.path.endswith("/wait"):
                kind, meta, etag = fake.handle(self.command, parsed.path, query, body, headers)
            else:
                with fake.lock:
                    kind, meta, etag = fake.handle(self.command, parsed.path, query, body, headers)
        except _Error as exc:
            return self._send(
                exc.code,
                {
                    "type": "error",
                    "status": "",
                    "status_code": 0,
                    "operation": "",
                    "error_code": exc.code,
                    "error": exc.msg,
                    "metadata": None,
                },
            )
        if kind == "async":
            pub = dict((k, v) for k, v in meta.items() if not k.startswith("_"))
            return self._send(
                202,
                {
                    "type": "async",
                    "status": "Operation created",
                    "status_code": 100,
                    "operation": "/1.0/operations/" + meta["id"],
                    "error_code": 0,
                    "error": "",
                    "metadata": pub,
                },
            )
        return self._send(
            200,
            {
                "type": "sync",
                "status": "Success",
                "status_code": 200,
                "operation": "",
                "error_code": 0,
                "error": "",
                "metadata": meta,
            },
            etag,
        )

    def _send(self, code, doc, etag=None):
        data = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if etag:
            self.send_header("Etag", etag)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class _TLSServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def _serve_forever(server):
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return thread


def serve_unix(tmp_path):
    """Run a fake daemon on ``tmp_path/incus.sock``; yield its state (with ``socket`` and ``client``)."""
    state = FakeIncus()
    sock = str(tmp_path / "incus.sock")
    server = _UnixServer(sock, _Handler)
    server.fake = state
    _serve_forever(server)
    state.socket = sock
    state.client = IncusClient(socket_path=sock, timeout=5)
    yield state
    server.shutdown()
    server.server_close()


def options(**params):
    """incus_instance's options as its main() hands them on: the argument spec, then normalize_params.

    A problem the spec finds raises :class:`ModuleFailure` with the message the module would fail with.
    """
    result = ArgumentSpecValidator(argument_spec()).validate(params)
    if result.error_messages:
        raise ModuleFailure(result.errors.msg)
    return normalize_params(result.validated_parameters)


def run(fake, check_mode=False, diff=False, **params):
    mgr = InstanceManager(
        options(**params), fake.client, check_mode=check_mode, diff=diff, sleep=lambda s: time.sleep(0.01)
    )
    return mgr.run()


def run_main(capsys, main, args):
    """Run a module's ``main()`` with ``args``; return ``(exit code, result)``."""
    from ansible.module_utils.testing import patch_module_args

    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            main()
    out = json.loads(capsys.readouterr().out)
    return exc.value.code, out


BASE_DEVICES = {
    "root": {"type": "disk", "path": "/", "pool": "default"},
    "eth0": {"type": "nic", "network": "incusbr-t", "name": "eth0", "ipv4.address": "10.210.0.10"},
}


def base(**extra):
    params = dict(
        name="hb-turn",
        source={"alias": "test-deb12"},
        profiles=["default"],
        config={"boot.autostart": True, "limits.cpu": 2, "user.note": "hi"},
        devices=json.loads(json.dumps(BASE_DEVICES)),
    )
    params.update(extra)
    return params

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the Incus REST client (unix socket, operations, HTTPS with client certificates)."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import time

import pytest

from ansible_collections.veza.coturn.plugins.module_utils import _incus
from ansible_collections.veza.coturn.plugins.module_utils._incus.client import IncusClient
from ansible_collections.veza.coturn.plugins.module_utils._incus.errors import IncusError, ModuleFailure
from ansible_collections.veza.coturn.plugins.module_utils._incus.instance import InstanceManager
from ansible_collections.veza.coturn.tests.unit.plugins.incus_fake import (
    FakeIncus,
    _Handler,
    _serve_forever,
    _TLSServer,
    base,
    options,
)


def test_unreachable_daemon(tmp_path):
    client = IncusClient(socket_path=str(tmp_path / "missing.sock"), timeout=1)
    with pytest.raises(ModuleFailure) as err:
        InstanceManager(options(name="hb-x"), client).run()
    assert "cannot reach Incus at unix:%s" % (tmp_path / "missing.sock") in err.value.msg


def test_client_wait_operation_timeout(fake):
    fake.op_delay = 3
    op = fake.new_operation("Slow", lambda: None)
    start = time.monotonic()
    with pytest.raises(IncusError) as err:
        fake.client.wait_operation("/1.0/operations/%s" % op["id"], timeout=1)
    assert "still running after 1s" in str(err.value)
    assert time.monotonic() - start < 2.5


# -- HTTPS with client certificates (loopback only) -------------------------
def _openssl_cert(tmp_path, name):
    key, crt = str(tmp_path / (name + ".key")), str(tmp_path / (name + ".crt"))
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=%s" % name,
            "-keyout",
            key,
            "-out",
            crt,
        ],
        check=True,
        capture_output=True,
    )
    return crt, key


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not available")
def test_https_with_client_certificate(tmp_path):
    srv_crt, srv_key = _openssl_cert(tmp_path, "incus-server")
    cli_crt, cli_key = _openssl_cert(tmp_path, "veza-client")
    state = FakeIncus()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(srv_crt, srv_key)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cli_crt)
    server = _TLSServer(("127.0.0.1", 0), _Handler, bind_and_activate=False)
    server.socket = ctx.wrap_socket(socket.socket(socket.AF_INET, socket.SOCK_STREAM), server_side=True)
    server.server_bind()
    server.server_activate()
    server.fake = state
    _serve_forever(server)
    try:
        url = "https://127.0.0.1:%d" % server.server_address[1]
        client = IncusClient(url=url, client_cert=cli_crt, client_key=cli_key, server_cert=srv_crt, timeout=5)
        res = InstanceManager(options(**base()), client).run()
        assert res["actions"] == ["create", "start"]
        assert state.instances[("default", "hb-turn")]["status"] == "Running"
        # without the pinned server certificate the default trust store refuses it
        strict = IncusClient(url=url, client_cert=cli_crt, client_key=cli_key, timeout=5)
        with pytest.raises(ModuleFailure) as err:
            InstanceManager(options(**base()), strict).run()
        assert "cannot reach Incus at %s" % url in err.value.msg
        assert "CERTIFICATE_VERIFY_FAILED" in err.value.msg
        lax = IncusClient(url=url, client_cert=cli_crt, client_key=cli_key, validate_certs=False)
        assert InstanceManager(options(**base()), lax).run()["changed"] is False
    finally:
        server.shutdown()
        server.server_close()


def test_module_utils_is_private():
    assert os.path.basename(os.path.dirname(_incus.__file__)) == "_incus"

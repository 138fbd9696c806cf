# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""coturn's ``turnserver`` on loopback, for the tests that run the probe
against the real thing: ``start_coturn`` is the body of a module-scoped
fixture (skips when turnserver is not installed), ``real_params`` the
probe's options against it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import shutil
import socket
import subprocess
import time

import pytest

from ansible_collections.veza.coturn.plugins.module_utils._turn_probe.probe import run_probe
from ansible_collections.veza.coturn.tests.unit.plugins.fake_turn import LOOP

TURNSERVER = shutil.which("turnserver") or next(
    (p for p in ("/usr/bin/turnserver", "/usr/sbin/turnserver") if os.path.exists(p)), None
)
SECRET = "unit-test-secret"
REAL_REALM = "probe.test"


def _free_port():
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
    ):
        tcp.bind((LOOP, 0))
        port = tcp.getsockname()[1]
        udp.bind((LOOP, port))  # the port must be free for both
        return port


def rest_credentials(secret, ttl=600, user="probe"):
    username = "%d:%s" % (int(time.time()) + ttl, user)
    password = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
    return username, password


def start_coturn(tmp_path_factory):
    """Start turnserver and yield where it listens; a fixture's body (``yield from start_coturn(...)``)."""
    if not TURNSERVER:
        pytest.skip("coturn's turnserver is not installed")
    tmp = tmp_path_factory.mktemp("coturn")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    tls = (
        shutil.which("openssl")
        and subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-keyout",
                str(key),
                "-out",
                str(cert),
                "-subj",
                "/CN=turn.probe.test",
                "-addext",
                "subjectAltName=DNS:turn.probe.test,IP:127.0.0.1",
            ],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    for dummy in range(5):  # a port picked free may be taken again in between
        port = _free_port()
        tls_port = _free_port()
        cmd = [
            TURNSERVER,
            "-n",
            "--no-cli",
            "--log-file=stdout",
            "--simple-log",
            "--listening-ip=%s" % LOOP,
            "--relay-ip=%s" % LOOP,
            "--listening-port=%d" % port,
            "--tls-listening-port=%d" % tls_port,
            "--min-port=49000",
            "--max-port=49100",
            "--use-auth-secret",
            "--static-auth-secret=%s" % SECRET,
            "--realm=%s" % REAL_REALM,
            "--allow-loopback-peers",
            "--denied-peer-ip=127.0.0.66",
            "--no-dtls",
            "--userdb=%s" % (tmp / "turndb"),
            "--pidfile=%s" % (tmp / "turnserver.pid"),
        ]
        cmd += ["--cert=%s" % cert, "--pkey=%s" % key] if tls else ["--no-tls"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for dummy in range(50):  # up to 5 s for the listener
            if proc.poll() is not None:
                break
            result = run_probe(dict(host=LOOP, port=port, checks=["binding"], timeout=0.1))
            if result["failure"] is None:
                break
            time.sleep(0.1)
        if proc.poll() is None:
            break
    else:
        pytest.skip("turnserver did not start")
    try:
        yield dict(port=port, tls_port=tls_port if tls else None, cert=str(cert))
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def real_params(coturn, **over):
    username, password = rest_credentials(SECRET)
    p = dict(
        host=LOOP,
        port=coturn["port"],
        username=username,
        password=password,
        realm=REAL_REALM,
        peer_address=LOOP,
        expected_relayed_ip=LOOP,
        timeout=1.5,
    )
    p.update(over)
    return p

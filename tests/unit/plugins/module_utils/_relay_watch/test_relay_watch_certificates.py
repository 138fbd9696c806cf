# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The relay watch program of the backend host (plugins/module_utils/_relay_watch/):
the TLS certificate expiry.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading

import pytest

from ansible_collections.veza.coturn.plugins.module_utils._relay_watch.certificates import (
    certificate_not_after,
    tls_not_after,
)
from ansible_collections.veza.coturn.tests.unit.plugins.fake_turn import LOOP

# --------------------------------------------------------------------------
# TLS certificate expiry


def _certificate(tmp_path, days):
    if not shutil.which("openssl"):
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / f"cert{days}.pem", tmp_path / f"key{days}.pem"
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
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            str(days),
            "-subj",
            "/CN=turn.veza.test",
        ],
        check=True,
        capture_output=True,
    )
    end = subprocess.run(
        ["openssl", "x509", "-enddate", "-noout", "-in", str(cert)], check=True, capture_output=True, text=True
    )
    return cert, key, ssl.cert_time_to_seconds(end.stdout.strip().split("=", 1)[1])


@pytest.mark.parametrize("days", [30, 20000])  # UTCTime before 2050, GeneralizedTime after
def test_certificate_not_after(tmp_path, days):
    cert, _key, expected = _certificate(tmp_path, days)
    der = ssl.PEM_cert_to_DER_cert(cert.read_text())
    assert certificate_not_after(der) == expected
    with pytest.raises(ValueError):
        certificate_not_after(der[:40])
    with pytest.raises(ValueError):
        certificate_not_after(b"\x02\x01\x00")


def test_tls_not_after_of_an_unverifiable_certificate(tmp_path):
    cert, key, expected = _certificate(tmp_path, 30)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    server = socket.socket()
    server.bind((LOOP, 0))
    server.listen(1)
    server.settimeout(2)

    def serve():
        try:
            conn = server.accept()[0]
            with ctx.wrap_socket(conn, server_side=True) as tls:
                tls.settimeout(2)
                tls.recv(1)
        except (OSError, ssl.SSLError):
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        # Self-signed, so verification would fail: the expiry is read all the same.
        assert tls_not_after(LOOP, server.getsockname()[1], "turn.veza.test", 1.0) == expected
    finally:
        thread.join(3)
        server.close()
    assert tls_not_after(LOOP, 9, None, 0.5) is None  # nothing listens: no expiry

# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The notAfter of the certificate a TLS listener presents, verified or not."""

from __future__ import annotations

import calendar
import socket
import time

from ansible_collections.veza.coturn.plugins.module_utils._stun.transport import resolve, tls_context


def _der_item(data, pos):
    """(tag, start of the contents, end of the contents) of the DER item at pos."""
    if pos + 2 > len(data):
        raise ValueError("truncated DER")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        size = length & 0x7F
        if not 1 <= size <= 4 or pos + size > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[pos : pos + size], "big")
        pos += size
    if pos + length > len(data):
        raise ValueError("truncated DER")
    return tag, pos, pos + length


def certificate_not_after(der):
    """notAfter of a DER X.509 certificate, as Unix time; ValueError when it cannot be read.

    A few lines of DER rather than ssl's getpeercert(), which only parses a
    certificate that passed verification: an expired one is exactly the
    certificate whose expiry must still be reported.
    """
    tag, pos, _end = _der_item(der, 0)  # Certificate
    if tag != 0x30:
        raise ValueError("not a certificate")
    tag, pos, end = _der_item(der, pos)  # TBSCertificate
    if tag != 0x30:
        raise ValueError("not a certificate")
    fields = []
    while pos < end and len(fields) < 5:
        tag, start, pos = _der_item(der, pos)
        fields.append((tag, start, pos))
    if fields and fields[0][0] == 0xA0:  # [0] version
        fields = fields[1:]
    if len(fields) < 4 or [f[0] for f in fields[:4]] != [0x02, 0x30, 0x30, 0x30]:
        raise ValueError("unexpected TBSCertificate layout")
    _tag, start, _end = fields[3]  # Validity
    _tag, _start, after = _der_item(der, start)  # notBefore
    tag, start, end = _der_item(der, after)  # notAfter
    text = der[start:end].decode("ascii")
    if tag == 0x17 and len(text) == 13 and text.endswith("Z"):  # UTCTime YYMMDDHHMMSSZ
        year = int(text[:2])
        text = ("19" if year >= 50 else "20") + text
    elif not (tag == 0x18 and len(text) == 15 and text.endswith("Z")):  # GeneralizedTime YYYYMMDDHHMMSSZ
        raise ValueError(f"unexpected notAfter {text!r}")
    return calendar.timegm(time.strptime(text[:14], "%Y%m%d%H%M%S"))


def tls_not_after(host, port, server_name, timeout):
    """notAfter (Unix time) of the certificate the TLS listener presents, verified or not; None when none is seen."""
    try:
        family, addr = resolve(host, port, socket.SOCK_STREAM)
        ctx = tls_context(insecure=True)
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(addr)
            with ctx.wrap_socket(sock, server_hostname=server_name or host) as tls:
                der = tls.getpeercert(binary_form=True)
        return certificate_not_after(der) if der else None
    except (OSError, ValueError):
        return None

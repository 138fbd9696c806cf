# -*- coding: utf-8 -*-
# Copyright: (c) 2025, veza.coturn developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The probe's failures: their classes and the explanations that say what to fix."""

from __future__ import annotations

import socket
import ssl
import time

from ansible_collections.veza.coturn.plugins.module_utils._netns import NetnsError
from ansible_collections.veza.coturn.plugins.module_utils._stun.errors import (
    StunErrorResponse,
    StunProtocolError,
    StunTimeout,
    TlsError,
)
from ansible_collections.veza.coturn.plugins.module_utils._stun.protocol import (
    CHANNEL_BIND,
    CREATE_PERMISSION,
    METHOD_NAMES,
)


class ProbeFailure(Exception):
    """A step failed: failure class, explanation (the module's msg) and the step."""

    def __init__(self, cls, explanation, step=None):
        super().__init__(explanation)
        self.cls = cls
        self.explanation = explanation
        self.step = step


def rest_expiry_hint(username):
    """coturn REST usernames start with a UNIX expiry time."""
    head = (username or "").split(":", 1)[0]
    if head.isdigit() and len(head) >= 9:
        expiry = int(head)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(expiry))
        if expiry < time.time():
            return " The REST username expired at %s." % stamp
        return " (The REST username is valid until %s, so check the shared secret.)" % stamp
    return ""


def classify(step, exc, where, p, realm):
    """The failure an exception of step means; where is "host:port over transport", realm the one coturn announced."""
    if isinstance(exc, NetnsError):
        return ProbeFailure("setup_error", "%s: %s" % (step, exc))
    if isinstance(exc, (StunTimeout, socket.timeout)):
        return ProbeFailure(
            "no_answer",
            (
                "%s: no answer from %s within %ss: coturn's listening-ip/listening-port is wrong, a "
                "firewall drops the traffic, or the exposure (NAT forwarding / proxy device) of the "
                "listener port is missing" % (step, where, p["timeout"])
            ),
        )
    if isinstance(exc, (ssl.SSLError, TlsError)):  # before OSError: SSLError is one
        return ProbeFailure(
            "tls_error",
            (
                "%s: TLS with %s failed: %s (check tls-listening-port, the certificate chain and its "
                "names against server_name/ca_file, or use insecure for a self-signed test)" % (step, where, exc)
            ),
        )
    if isinstance(exc, ConnectionRefusedError):
        return ProbeFailure(
            "no_answer",
            (
                "%s: %s refused (ICMP port unreachable or TCP reset): nothing listens there; coturn "
                "is down, its listening-ip/listening-port is wrong, or the listener exposure is "
                "missing" % (step, where)
            ),
        )
    if isinstance(exc, socket.gaierror):
        return ProbeFailure("no_answer", "%s: host %s does not resolve: %s" % (step, p["host"], exc))
    if isinstance(exc, StunErrorResponse):
        return classify_response(step, exc, where, p["username"], realm)
    if isinstance(exc, StunProtocolError):
        return ProbeFailure("protocol_error", "%s: invalid answer from %s: %s" % (step, where, exc))
    if isinstance(exc, ConnectionError):
        return ProbeFailure("no_answer", "%s: %s closed the connection: %s" % (step, where, exc))
    if isinstance(exc, OSError):
        return ProbeFailure("no_answer", "%s: cannot talk to %s: %s" % (step, where, exc))
    return ProbeFailure("protocol_error", "%s: unexpected %s: %s" % (step, type(exc).__name__, exc))


def classify_response(step, exc, where, username, realm):
    """The failure an error response (StunErrorResponse) means."""
    code, reason = exc.code, exc.reason
    what = "%s: %s answered %d %s to %s" % (step, where, code, reason, METHOD_NAMES.get(exc.method, exc.method))
    if code == 401:
        return ProbeFailure(
            "unauthorized",
            (
                "%s after authenticating as %r in realm %r: the username/credential do not match "
                "coturn's: wrong shared secret (use-auth-secret: the secrets in coturn's userdb or "
                "static-auth-secret) or password, an expired REST username, or an unknown user.%s"
                % (what, username, realm, rest_expiry_hint(username))
            ),
        )
    if code == 441:
        return ProbeFailure(
            "wrong_credentials_441",
            (
                "%s: the credentials differ from the ones this allocation was made with, or coturn "
                "rejects this username outright (441 Wrong Credentials)" % what
            ),
        )
    if code == 438:
        return ProbeFailure(
            "stale_nonce",
            (
                "%s even after retrying with the new nonce: coturn keeps rejecting its own nonces "
                "(stale-nonce too short, or clock trouble)" % what
            ),
        )
    if code == 403 and exc.method in (CREATE_PERMISSION, CHANNEL_BIND):
        return ProbeFailure(
            "forbidden_peer",
            (
                "%s: the peer address is denied by coturn's peer rules (denied-peer-ip, "
                "allowed-peer-ip, no-loopback-peers / allow-loopback-peers, no-multicast-peers)" % what
            ),
        )
    if code == 508:
        return ProbeFailure(
            "insufficient_capacity",
            (
                "%s: no relay port left: the relay range (min-port..max-port) is exhausted or too "
                "small, or relay-ip cannot be bound; size it to at least twice the expected "
                "allocations" % what
            ),
        )
    if code == 486:
        return ProbeFailure(
            "insufficient_capacity", ("%s: allocation quota reached: raise coturn's user-quota/total-quota" % what)
        )
    if code == 400:
        return ProbeFailure(
            "protocol_error",
            (
                "%s: coturn rejected the request as malformed (it also says this for a realm it "
                "does not serve)" % what
            ),
        )
    return ProbeFailure("protocol_error", what)

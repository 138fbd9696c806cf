# -*- coding: utf-8 -*-
# Copyright: (c) 2025, veza.coturn developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the STUN/TURN client raises on purpose."""

from __future__ import annotations

from ansible_collections.veza.coturn.plugins.module_utils._stun.protocol import METHOD_NAMES


class StunError(Exception):
    """Base class of everything this module raises on purpose."""


class StunProtocolError(StunError, ValueError):
    """Bytes that are not a valid STUN message / ChannelData frame."""


class StunTimeout(StunError):
    """No matching answer before the deadline."""


class TlsError(StunError):
    """TLS set-up failed in a way ssl does not report as SSLError."""


class StunErrorResponse(StunError):
    """The server answered with an error response."""

    def __init__(self, method, code, reason, message=None):
        self.method = method
        self.code = code
        self.reason = reason
        self.message = message
        super().__init__("%s error %d %s" % (METHOD_NAMES.get(method, hex(method)), code, reason))

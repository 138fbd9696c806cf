# -*- coding: utf-8 -*-
# Copyright: (c) 2025, veza.coturn developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""STUN/TURN codec and a small client (RFC 5389/8489, RFC 5766/8656).

Private helper of the ``turn_probe`` module: standard library only, no
Ansible imports, so it can be tested and reused on its own.

- ``protocol``: the numbers (methods, classes, attribute types, timing);
- ``errors``: what the client raises on purpose;
- ``codec``: STUN messages and attribute values, encoded and decoded;
- ``framing``: ChannelData and TCP/TLS stream framing;
- ``transport``: UDP, TCP and TLS transports;
- ``client``: the TURN client (allocate, permission, channel, refresh).

Network namespaces are ``_netns``'s. The names below are the ones code
outside the collection's module_utils uses as ``_stun.NAME`` (molecule's
helper scripts, the integration tests).
"""

from __future__ import annotations

from ansible_collections.veza.coturn.plugins.module_utils._netns import netns
from ansible_collections.veza.coturn.plugins.module_utils._stun.client import TurnClient
from ansible_collections.veza.coturn.plugins.module_utils._stun.codec import format_address
from ansible_collections.veza.coturn.plugins.module_utils._stun.errors import StunError, StunErrorResponse
from ansible_collections.veza.coturn.plugins.module_utils._stun.protocol import XOR_RELAYED_ADDRESS
from ansible_collections.veza.coturn.plugins.module_utils._stun.transport import UdpTransport, open_transport

__all__ = [
    "StunError",
    "StunErrorResponse",
    "TurnClient",
    "UdpTransport",
    "XOR_RELAYED_ADDRESS",
    "format_address",
    "netns",
    "open_transport",
]

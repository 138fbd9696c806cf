# -*- coding: utf-8 -*-
# Copyright: (c) 2025, veza.coturn developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""STUN/TURN numbers (RFC 5389/8489, RFC 5766/8656): methods, classes,
attribute types, address families, channel range and retransmission timing.
"""

from __future__ import annotations

import struct

MAGIC_COOKIE = 0x2112A442
MAGIC_COOKIE_BYTES = struct.pack("!I", MAGIC_COOKIE)
FINGERPRINT_XOR = 0x5354554E
HEADER_LEN = 20

# Methods
BINDING = 0x001
ALLOCATE = 0x003
REFRESH = 0x004
SEND = 0x006
DATA = 0x007
CREATE_PERMISSION = 0x008
CHANNEL_BIND = 0x009

METHOD_NAMES = {
    BINDING: "Binding",
    ALLOCATE: "Allocate",
    REFRESH: "Refresh",
    SEND: "Send",
    DATA: "Data",
    CREATE_PERMISSION: "CreatePermission",
    CHANNEL_BIND: "ChannelBind",
}

# Classes
REQUEST = 0
INDICATION = 1
SUCCESS = 2
ERROR = 3

# Attributes
MAPPED_ADDRESS = 0x0001
USERNAME = 0x0006
MESSAGE_INTEGRITY = 0x0008
ERROR_CODE = 0x0009
UNKNOWN_ATTRIBUTES = 0x000A
CHANNEL_NUMBER = 0x000C
LIFETIME = 0x000D
XOR_PEER_ADDRESS = 0x0012
DATA_ATTR = 0x0013
REALM = 0x0014
NONCE = 0x0015
XOR_RELAYED_ADDRESS = 0x0016
REQUESTED_ADDRESS_FAMILY = 0x0017
EVEN_PORT = 0x0018
REQUESTED_TRANSPORT = 0x0019
DONT_FRAGMENT = 0x001A
XOR_MAPPED_ADDRESS = 0x0020
RESERVATION_TOKEN = 0x0022
SOFTWARE = 0x8022
ALTERNATE_SERVER = 0x8023
FINGERPRINT = 0x8028

FAMILY_IPV4 = 0x01
FAMILY_IPV6 = 0x02
PROTO_UDP = 17

CHANNEL_MIN = 0x4000
CHANNEL_MAX = 0x4FFF

# RFC 5389 section 7.2.1: initial RTO 500 ms, doubled per retransmission,
# Rc = 7 transmissions at most.
RTO_INITIAL = 0.5
MAX_TRANSMISSIONS = 7

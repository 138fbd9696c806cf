# -*- coding: utf-8 -*-
# Copyright: (c) 2025, veza.coturn developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TURN client: requests with retransmission and long-term credentials,
Allocate, Refresh, CreatePermission, ChannelBind, Send and received data.
"""

from __future__ import annotations

import ipaddress
import struct
import time

from ansible_collections.veza.coturn.plugins.module_utils._stun.codec import (
    Message,
    decode,
    encode_xor_address,
    long_term_key,
)
from ansible_collections.veza.coturn.plugins.module_utils._stun.errors import (
    StunErrorResponse,
    StunProtocolError,
    StunTimeout,
)
from ansible_collections.veza.coturn.plugins.module_utils._stun.framing import (
    decode_channel_data,
    encode_channel_data,
    is_channel_data,
)
from ansible_collections.veza.coturn.plugins.module_utils._stun.protocol import (
    ALLOCATE,
    BINDING,
    CHANNEL_BIND,
    CHANNEL_NUMBER,
    CREATE_PERMISSION,
    DATA,
    DATA_ATTR,
    ERROR,
    FAMILY_IPV6,
    INDICATION,
    LIFETIME,
    MAX_TRANSMISSIONS,
    METHOD_NAMES,
    NONCE,
    PROTO_UDP,
    REALM,
    REFRESH,
    REQUEST,
    REQUESTED_ADDRESS_FAMILY,
    REQUESTED_TRANSPORT,
    RTO_INITIAL,
    SEND,
    SOFTWARE,
    SUCCESS,
    USERNAME,
    XOR_PEER_ADDRESS,
)


class TurnClient(object):
    """STUN/TURN client over one transport, with long-term credentials.

    Requests retransmit over UDP (RTO 500 ms doubling, at most 7 sends) and
    never wait past the caller's deadline.  Data indications and ChannelData
    that arrive while a response is awaited are queued for ``recv_data``.
    """

    def __init__(self, transport, username=None, password=None, software=None):
        self.transport = transport
        self.username = username
        self.password = password
        self.software = software
        self.realm = None
        self.nonce = None
        self.key = None
        self.channels = {}
        self.inbox = []
        self.last_software = None
        self.stale_nonce_retries = 0

    # -- credentials ------------------------------------------------------
    def learn_challenge(self, response):
        """Take REALM/NONCE from a 401/438 answer."""
        realm = response.text(REALM)
        nonce = response.get(NONCE)
        if realm is not None:
            self.realm = realm
        if nonce is not None:
            self.nonce = nonce
        if self.username is not None and self.realm is not None:
            self.key = long_term_key(self.username, self.realm, self.password or "")

    @property
    def authenticated(self):
        return self.key is not None and self.nonce is not None

    # -- plumbing ---------------------------------------------------------
    def _build(self, method, cls, attrs, auth):
        msg = Message(method, cls)
        for attr_type, value in attrs:
            if callable(value):  # XOR addresses need the transaction id
                value = value(msg.transaction_id)
            msg.add(attr_type, value)
        if self.software:
            msg.add_text(SOFTWARE, self.software)
        key = None
        if auth and self.authenticated:
            msg.add_text(USERNAME, self.username)
            msg.add_text(REALM, self.realm)
            msg.add(NONCE, self.nonce)
            key = self.key
        return msg, msg.encode(key=key, fingerprint=True)

    def _dispatch(self, frame):
        """Decode one frame; return a Message if it is a response."""
        if is_channel_data(frame):
            channel, data = decode_channel_data(frame)
            peer = self.channels.get(channel)
            if peer is not None:
                self.inbox.append((peer, data, "channel"))
            return None
        msg = decode(frame)
        if msg.method == DATA and msg.cls == INDICATION:
            peer = msg.xor_address(XOR_PEER_ADDRESS)
            data = msg.get(DATA_ATTR)
            if peer is not None and data is not None:
                self.inbox.append((peer, data, "data"))
            return None
        if msg.cls in (SUCCESS, ERROR):
            return msg
        return None

    def transact(self, method, attrs, deadline, auth=True):
        """Send one request, return the answer (success or error message)."""
        msg, wire = self._build(method, REQUEST, attrs, auth)
        rto = RTO_INITIAL
        sends = 0
        limit = 1 if self.transport.reliable else MAX_TRANSMISSIONS
        next_send = time.monotonic()
        while True:
            now = time.monotonic()
            if now >= deadline:
                raise StunTimeout("no answer to %s" % METHOD_NAMES.get(method, method))
            if now >= next_send and sends < limit:
                self.transport.send(wire)
                sends += 1
                # After the last transmission only the deadline is left.
                next_send = now + rto if sends < limit else deadline
                rto *= 2
            frame = self.transport.recv(max(min(deadline, next_send) - now, 0.0))
            if frame is None:
                continue
            try:
                answer = self._dispatch(frame)
            except StunProtocolError:
                if self.transport.reliable:
                    raise  # a broken stream cannot resynchronise
                continue  # stray datagram
            if answer is None or answer.transaction_id != msg.transaction_id:
                continue
            if answer.method != method:
                raise StunProtocolError(
                    "answer to %s has method %s"
                    % (METHOD_NAMES.get(method, method), METHOD_NAMES.get(answer.method, answer.method))
                )
            sw = answer.text(SOFTWARE)
            if sw:
                self.last_software = sw
            return answer

    def request(self, method, attrs, deadline, auth=True):
        """Send a request, retrying once on 438 Stale Nonce.

        Returns the success response, raises StunErrorResponse otherwise.
        """
        for attempt in (1, 2):
            answer = self.transact(method, attrs, deadline, auth=auth)
            if answer.cls == SUCCESS:
                if auth and self.authenticated and answer.check_integrity(self.key) is False:
                    raise StunProtocolError(
                        "%s response MESSAGE-INTEGRITY does not verify" % METHOD_NAMES.get(method, method)
                    )
                return answer
            code, reason = answer.error() or (0, "error response without ERROR-CODE")
            if code == 438 and attempt == 1 and auth and answer.get(NONCE) is not None:
                self.learn_challenge(answer)
                self.stale_nonce_retries += 1
                continue
            raise StunErrorResponse(method, code, reason, answer)
        raise AssertionError("unreachable")

    # -- TURN operations --------------------------------------------------
    def binding(self, deadline):
        return self.request(BINDING, [], deadline, auth=False)

    def allocate(self, deadline, lifetime=None, family=None):
        attrs = [(REQUESTED_TRANSPORT, struct.pack("!B3x", PROTO_UDP))]
        if family == 6:
            attrs.append((REQUESTED_ADDRESS_FAMILY, struct.pack("!B3x", FAMILY_IPV6)))
        if lifetime is not None:
            attrs.append((LIFETIME, struct.pack("!I", lifetime)))
        return self.request(ALLOCATE, attrs, deadline, auth=True)

    def refresh(self, deadline, lifetime=600):
        return self.request(REFRESH, [(LIFETIME, struct.pack("!I", lifetime))], deadline)

    def create_permission(self, peers, deadline):
        """``peers``: iterable of (ip, port); port is ignored by servers."""
        attrs = [(XOR_PEER_ADDRESS, _xor_attr(ip, port)) for ip, port in peers]
        return self.request(CREATE_PERMISSION, attrs, deadline)

    def channel_bind(self, channel, peer, deadline):
        answer = self.request(
            CHANNEL_BIND,
            [
                (CHANNEL_NUMBER, struct.pack("!H2x", channel)),
                (XOR_PEER_ADDRESS, _xor_attr(peer[0], peer[1])),
            ],
            deadline,
        )
        self.channels[channel] = (str(ipaddress.ip_address(peer[0])), peer[1])
        return answer

    def send_indication(self, peer, data):
        wire = self._build(
            SEND,
            INDICATION,
            [
                (XOR_PEER_ADDRESS, _xor_attr(peer[0], peer[1])),
                (DATA_ATTR, data),
            ],
            auth=False,
        )[1]
        self.transport.send(wire)

    def send_channel(self, channel, data):
        self.transport.send(encode_channel_data(channel, data, pad=self.transport.reliable))

    def recv_data(self, deadline):
        """Next (peer, data, via) from Data indications/ChannelData, or None."""
        while True:
            if self.inbox:
                return self.inbox.pop(0)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            frame = self.transport.recv(left)
            if frame is None:
                return None
            try:
                self._dispatch(frame)
            except StunProtocolError:
                if self.transport.reliable:
                    raise

    def close(self):
        self.transport.close()


def _xor_attr(ip, port):
    return lambda tid: encode_xor_address(ip, port, tid)

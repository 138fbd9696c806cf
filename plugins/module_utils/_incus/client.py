# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Minimal Incus REST API client (standard library only): the HTTP transport.

Private helper of the veza.coturn collection: talks to the Incus daemon over
its unix socket (``http.client`` on an ``AF_UNIX`` socket) or over HTTPS with
a TLS client certificate, decodes Incus' JSON envelopes, waits on background
operations and turns every failure into :class:`IncusError` carrying the HTTP
status code and Incus' own error text.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import time
import urllib.parse

from ansible_collections.veza.coturn.plugins.module_utils._incus.errors import IncusError

DEFAULT_SOCKET = "/var/lib/incus/unix.socket"


class _UnixHTTPConnection(http.client.HTTPConnection):
    """``HTTPConnection`` over an ``AF_UNIX`` stream socket."""

    def __init__(self, path, timeout):
        super().__init__("incus", timeout=timeout)
        self._socket_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class IncusClient:
    """A small synchronous client for the Incus REST API.

    Either ``socket_path`` (default) or ``url`` (``https://host:8443``) is used.
    For HTTPS, ``client_cert``/``client_key`` are the paths of the trusted
    client certificate and key, ``server_cert`` the path of the server
    certificate (or CA) to trust; ``validate_certs=False`` disables server
    verification altogether.
    """

    def __init__(
        self,
        socket_path=DEFAULT_SOCKET,
        url=None,
        client_cert=None,
        client_key=None,
        server_cert=None,
        validate_certs=True,
        timeout=30,
    ):
        self.socket_path = socket_path or DEFAULT_SOCKET
        self.url = url
        self.timeout = timeout
        self._ssl_context = None
        self._host = None
        self._port = None
        self._base = ""
        if url:
            parsed = urllib.parse.urlsplit(url)
            if parsed.scheme != "https" or not parsed.hostname:
                raise IncusError("url must look like https://host:8443 (got %r)" % url)
            self._host = parsed.hostname
            self._port = parsed.port or 8443
            self._base = parsed.path.rstrip("/")
            self._ssl_context = self._make_ssl_context(client_cert, client_key, server_cert, validate_certs)

    @staticmethod
    def _make_ssl_context(client_cert, client_key, server_cert, validate_certs):
        try:
            if not validate_certs:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            elif server_cert:
                # Incus servers usually present a self-signed certificate:
                # trust exactly that certificate (pinning), whatever its name.
                ctx = ssl.create_default_context(cafile=server_cert)
                ctx.check_hostname = False
            else:
                ctx = ssl.create_default_context()
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            if client_cert:
                ctx.load_cert_chain(client_cert, client_key or None)
        except (OSError, ssl.SSLError) as exc:
            raise IncusError("cannot set up TLS: %s" % exc)
        return ctx

    @property
    def endpoint(self):
        if self.url:
            return self.url
        return "unix:" + self.socket_path

    def _connection(self, timeout):
        if self.url:
            return http.client.HTTPSConnection(self._host, self._port, timeout=timeout, context=self._ssl_context)
        return _UnixHTTPConnection(self.socket_path, timeout)

    @staticmethod
    def build_path(path, query=None):
        if query:
            query = dict((k, v) for k, v in query.items() if v not in (None, ""))
        if query:
            sep = "&" if "?" in path else "?"
            path = path + sep + urllib.parse.urlencode(query)
        return path

    def raw_request(self, method, path, body=None, headers=None, timeout=None):
        """Perform one HTTP request; return ``(status, headers, decoded_json)``.

        Transport failures raise :class:`IncusError` with ``status=None``.
        """
        hdrs = {"Accept": "application/json", "User-Agent": "veza.coturn"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        if headers:
            hdrs.update(headers)
        conn = self._connection(timeout or self.timeout)
        try:
            conn.request(method, self._base + path, body=data, headers=hdrs)
            resp = conn.getresponse()
            raw = resp.read()
            status = resp.status
            resp_headers = dict((k.lower(), v) for k, v in resp.getheaders())
        except (OSError, http.client.HTTPException) as exc:
            raise IncusError(
                "cannot reach Incus at %s: %s" % (self.endpoint, exc), status=None, method=method, path=path
            )
        finally:
            conn.close()
        try:
            doc = json.loads(raw.decode("utf-8")) if raw else {}
        except ValueError:
            snippet = raw[:200].decode("utf-8", "replace")
            raise IncusError(
                "Incus answered %s %s with HTTP %d and a non-JSON body: %s" % (method, path, status, snippet),
                status=status,
                method=method,
                path=path,
            )
        return status, resp_headers, doc

    def request(self, method, path, body=None, query=None, headers=None, wait=True, wait_timeout=60):
        """Perform an API call and return ``(metadata, etag)``.

        Error envelopes raise :class:`IncusError` with Incus' error text.
        When the answer is an async operation and ``wait`` is true, the
        operation is waited for (``wait_timeout`` seconds) and its metadata
        returned instead.
        """
        full = self.build_path(path, query)
        status, resp_headers, doc = self.raw_request(method, full, body=body, headers=headers)
        if not isinstance(doc, dict):
            raise IncusError(
                "unexpected answer to %s %s: %r" % (method, full, doc), status=status, method=method, path=full
            )
        if doc.get("type") == "error" or status >= 400:
            err = doc.get("error") or http.client.responses.get(status, "HTTP %d" % status)
            raise IncusError(err, status=doc.get("error_code") or status, method=method, path=full)
        etag = resp_headers.get("etag")
        if doc.get("type") == "async" and wait:
            op = doc.get("operation") or ""
            if not op:
                op_id = (doc.get("metadata") or {}).get("id")
                op = "/1.0/operations/%s" % op_id
            return self.wait_operation(op, wait_timeout), etag
        return doc.get("metadata"), etag

    def wait_operation(self, operation, timeout=60):
        """Wait for a background operation; return its metadata on success.

        ``operation`` is the operation URL (``/1.0/operations/<id>``) or id.
        Failure raises :class:`IncusError` with the operation's ``err``; an
        operation still running after ``timeout`` seconds raises too.
        """
        if not operation.startswith("/"):
            operation = "/1.0/operations/%s" % operation
        op_path, dummy, op_query = operation.partition("?")
        query = dict(urllib.parse.parse_qsl(op_query))
        deadline = time.monotonic() + max(int(timeout), 1)
        while True:
            remaining = max(int(deadline - time.monotonic()), 1)
            query["timeout"] = remaining
            path = self.build_path(op_path + "/wait", query)
            status, dummy, doc = self.raw_request("GET", path, timeout=remaining + 30)
            if not isinstance(doc, dict):
                raise IncusError("unexpected answer to GET %s: %r" % (path, doc), status=status)
            if doc.get("type") == "error" or status >= 400:
                raise IncusError(
                    doc.get("error") or "operation failed (HTTP %d)" % status,
                    status=doc.get("error_code") or status,
                    method="GET",
                    path=path,
                )
            meta = doc.get("metadata") or {}
            op_status = meta.get("status")
            if op_status == "Success":
                return meta
            if op_status in ("Failure", "Cancelled"):
                raise IncusError(
                    meta.get("err") or "operation %s" % op_status.lower(),
                    status=meta.get("status_code"),
                    method="GET",
                    path=path,
                )
            if time.monotonic() >= deadline:
                raise IncusError(
                    "operation %s still %s after %ss" % (operation, (op_status or "running").lower(), timeout),
                    status=meta.get("status_code"),
                    method="GET",
                    path=path,
                )

    # Convenience wrappers -------------------------------------------------
    def get(self, path, query=None):
        return self.request("GET", path, query=query)

    def exists(self, path, query=None):
        try:
            self.request("GET", path, query=query)
        except IncusError as exc:
            if exc.not_found:
                return False
            raise
        return True

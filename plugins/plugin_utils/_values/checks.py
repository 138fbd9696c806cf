# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks behind the value kinds: each takes a one-line text and returns what is wrong with it, or None."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ansible_collections.veza.coturn.plugins.plugin_utils import _net

_DNS_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DNS_NAME = re.compile(rf"{_DNS_LABEL}(?:\.{_DNS_LABEL})*\.?\Z")
SECRET_CHARS = "!%*+,-./:=?@[]^_{}~"
ABS_PATH = re.compile(r"/[A-Za-z0-9._+@/-]*\Z")
_URL_PATH = re.compile(r"[A-Za-z0-9._~%/+:@=-]*\Z")
DEB_SUITE = re.compile(r"[a-z0-9][a-z0-9.+-]*\Z")
PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]+\Z")
INSTANCE_NAME = re.compile(r"[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?\Z")
INCUS_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
IMAGE_ALIAS = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*\Z")
IFNAME = re.compile(r"[A-Za-z0-9_.-]+\Z")
INVENTORY_HOST = re.compile(r"[A-Za-z0-9_.:-]+\Z")
UNIX_NAME = re.compile(r"(?:[a-z_][a-z0-9_-]*\$?|[0-9]+)\Z")
CIPHER_LIST = re.compile(r"[A-Za-z0-9+:!@=_.-]+\Z")


def pattern(regex, phrase):
    def check(text):
        return None if regex.match(text) else phrase

    return check


def charset(regex_class, reveal=True):
    """A check naming the first character outside regex_class (only its place for a secret)."""
    one = re.compile(regex_class + r"\Z")

    def check(text):
        for index, char in enumerate(text, 1):
            if not one.match(char):
                if reveal:
                    return f"holds the character {char!r} at character {index}"
                return f"holds a character outside that set at character {index}"
        return None

    return check


_dns_chars = charset(r"[A-Za-z0-9.-]")


def dns_name(text):
    problem = _dns_chars(text)
    if problem:
        return problem
    if not _DNS_NAME.match(text) or text.endswith("."):
        return "has an empty label, a label over 63 characters or one that starts or ends with '-'"
    return None


def cert_name(text):
    return dns_name(text[2:] if text.startswith("*.") else text)


def _host(text):
    """A URL's host: an IP literal (IPv6 in brackets) or a DNS name."""
    if text.startswith("["):
        return (
            None
            if text.endswith("]") and ":" in text and _net.is_ip_literal(text[1:-1])
            else ("has a host in brackets that is not an IPv6 address")
        )
    if _net.is_ip_literal(text):
        return None if ":" not in text else "has an IPv6 host without brackets"
    return (
        None
        if text and len(text) <= 253 and _DNS_NAME.match(text)
        else ("has a host that is neither an IP address nor a DNS name")
    )


def _split_host_port(rest):
    """host[:port] of a STUN or TURN URI (RFC 7064/7065): (host, port or None, problem)."""
    if rest.startswith("["):
        close = rest.find("]")
        if close < 0:
            return None, None, "has an unclosed '[' in its host"
        host, tail = rest[: close + 1], rest[close + 1 :]
    else:
        host, sep, port = rest.partition(":")
        tail = sep + port
    if tail and not tail.startswith(":"):
        return None, None, "has characters after its host that are not ':PORT'"
    port = tail[1:] if tail else None
    if port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
        return None, None, f"has a port {port!r} that is not a number from 1 to 65535"
    return host, port, None


def ice_url(schemes, transports):
    def check(text):
        scheme, sep, rest = text.partition(":")
        if not sep or scheme.lower() not in schemes:
            return "does not start with " + " or ".join(f"{s}:" for s in schemes)
        if rest.startswith("//"):
            return "has '//' after the scheme (STUN and TURN URIs have none: turn:HOST:PORT)"
        rest, qsep, query = rest.partition("?")
        if qsep:
            if not transports:
                return "has a query ('?'), which a STUN URI cannot have"
            if query.lower() not in {f"transport={t}" for t in transports}:
                return "has a query other than " + " or ".join(f"?transport={t}" for t in transports)
        host, dummy, problem = _split_host_port(rest)
        return problem or _host(host)

    return check


def http_url(text):
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        return f"cannot be read as a URL ({exc})"
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "is not an http:// or https:// URL"
    if parts.query or parts.fragment or parts.username or parts.password:
        return "has a query, a fragment or credentials, which APT and Incus do not take here"
    host, dummy, problem = _split_host_port(parts.netloc)
    problem = problem or _host(host)
    if problem:
        return problem
    return (
        None if _URL_PATH.match(parts.path) else "has a path with characters other than letters, digits and ._~%/+:@=-"
    )


def ip(text):
    return None if _net.is_ip_literal(text) else "is not an IP address"


def ipv4(text):
    return None if _net.is_ip_literal(text) and ":" not in text else "is not an IPv4 address"


def cidr(text):
    return None if _net.is_cidr(text) else "is not ADDRESS/PREFIX"


def ip_range(text):
    try:
        _net.ip_range(text)
    except Exception:  # pylint: disable=broad-exception-caught  # AnsibleFilterError, kept generic
        return "is neither an address, a CIDR nor FIRST-LAST of one family with FIRST <= LAST"
    return None


def ifname(text):
    if len(text) > 15:
        return "is longer than 15 characters, the kernel's limit for an interface name"
    if text in (".", ".."):
        return "is '.' or '..'"
    return None if IFNAME.match(text) else "holds characters other than letters, digits and _.-"


def pem(text):
    if "-----BEGIN " not in text:
        return "holds no '-----BEGIN ...-----' line"
    return None

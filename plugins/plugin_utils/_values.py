# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One validator per kind of value that reaches a line-based file or a command line.

turnserver.conf, the backend's env file, systemd units, sources.list and
the command lines the roles run all read one value per line (or per
word): a line break inside a value is a second directive, a space a second
word, a '#' the start of a comment. Every role names the kind of each of
its string options (``__<role>_value_kinds`` in its vars/main.yml) and its
preflight runs them through ``problems()`` before anything changes; the
templates pass the same values through ``one_line()`` as a last guard.

A kind says what the value must be, in words an operator can act on, and
gives an example. Values of secret kinds are never shown in a message.
Standard library only: runs on a fresh controller.
"""

from __future__ import annotations

import ipaddress
import json
import re
import unicodedata
from urllib.parse import urlsplit

from ansible_collections.veza.coturn.plugins.plugin_utils._net import ip_range, is_cidr, is_ip_literal

# Line breaks as Python's str.splitlines() sees them: any of them can end a
# line for some reader of the file.
LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"

_DNS_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DNS_NAME = re.compile(rf"{_DNS_LABEL}(?:\.{_DNS_LABEL})*\.?\Z")
_SECRET_CHARS = "!%*+,-./:=?@[]^_{}~"
_ABS_PATH = re.compile(r"/[A-Za-z0-9._+@/-]*\Z")
_URL_PATH = re.compile(r"[A-Za-z0-9._~%/+:@=-]*\Z")
_DEB_SUITE = re.compile(r"[a-z0-9][a-z0-9.+-]*\Z")
_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]+\Z")
_INSTANCE_NAME = re.compile(r"[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?\Z")
_INCUS_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_IMAGE_ALIAS = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*\Z")
_IFNAME = re.compile(r"[A-Za-z0-9_.-]+\Z")
_INVENTORY_HOST = re.compile(r"[A-Za-z0-9_.:-]+\Z")
_UNIX_NAME = re.compile(r"(?:[a-z_][a-z0-9_-]*\$?|[0-9]+)\Z")
_CIPHER_LIST = re.compile(r"[A-Za-z0-9+:!@=_.-]+\Z")
_INCUS_CONFIG_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")


class Kind:
    """What a value of this kind must be, and how to tell."""

    def __init__(self, what, example, check=None, max_length=None, secret=False,
                 ascii_only=True, multiline=False):
        self.what = what
        self.example = example
        self.check = check
        self.max_length = max_length
        self.secret = secret
        self.ascii_only = ascii_only
        self.multiline = multiline


def _pattern(regex, phrase):
    def check(text):
        return None if regex.match(text) else phrase
    return check


def _charset(regex_class, reveal=True):
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


_dns_chars = _charset(r"[A-Za-z0-9.-]")


def _dns_name(text):
    problem = _dns_chars(text)
    if problem:
        return problem
    if not _DNS_NAME.match(text) or text.endswith("."):
        return "has an empty label, a label over 63 characters or one that starts or ends with '-'"
    return None


def _cert_name(text):
    return _dns_name(text[2:] if text.startswith("*.") else text)


def _host(text):
    """A URL's host: an IP literal (IPv6 in brackets) or a DNS name."""
    if text.startswith("["):
        return None if text.endswith("]") and ":" in text and is_ip_literal(text[1:-1]) else (
            "has a host in brackets that is not an IPv6 address")
    if is_ip_literal(text):
        return None if ":" not in text else "has an IPv6 host without brackets"
    return None if text and len(text) <= 253 and _DNS_NAME.match(text) else (
        "has a host that is neither an IP address nor a DNS name")


def _split_host_port(rest):
    """host[:port] of a STUN or TURN URI (RFC 7064/7065): (host, port or None, problem)."""
    if rest.startswith("["):
        close = rest.find("]")
        if close < 0:
            return None, None, "has an unclosed '[' in its host"
        host, tail = rest[:close + 1], rest[close + 1:]
    else:
        host, sep, port = rest.partition(":")
        tail = sep + port
    if tail and not tail.startswith(":"):
        return None, None, "has characters after its host that are not ':PORT'"
    port = tail[1:] if tail else None
    if port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
        return None, None, f"has a port {port!r} that is not a number from 1 to 65535"
    return host, port, None


def _ice_url(schemes, transports):
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


def _http_url(text):
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
    return None if _URL_PATH.match(parts.path) else "has a path with characters other than letters, digits and ._~%/+:@=-"


def _ip(text):
    return None if is_ip_literal(text) else "is not an IP address"


def _ipv4(text):
    return None if is_ip_literal(text) and ":" not in text else "is not an IPv4 address"


def _cidr(text):
    return None if is_cidr(text) else "is not ADDRESS/PREFIX"


def _ip_range(text):
    try:
        ip_range(text)
    except Exception:  # pylint: disable=broad-exception-caught  # AnsibleFilterError, kept generic
        return "is neither an address, a CIDR nor FIRST-LAST of one family with FIRST <= LAST"
    return None


def _ifname(text):
    if len(text) > 15:
        return "is longer than 15 characters, the kernel's limit for an interface name"
    if text in (".", ".."):
        return "is '.' or '..'"
    return None if _IFNAME.match(text) else "holds characters other than letters, digits and _.-"


def _pem(text):
    if "-----BEGIN " not in text:
        return "holds no '-----BEGIN ...-----' line"
    return None


KINDS = {
    "realm": Kind(
        "a DNS-like name of letters, digits, '-' and '.', at most 127 characters (coturn's limit for a realm)",
        "turn.example.org", _dns_name, max_length=127),
    "cert_name": Kind("a DNS name, '*.' first for a wildcard", "turn.example.org", _cert_name, max_length=255),
    "secret": Kind(
        f"a secret of letters, digits and {_SECRET_CHARS} only (no spaces, quotes, '#', '\\', '$', '`', "
        "';', '&', '|', '<', '>' or parentheses), at most 256 characters (coturn's limit)",
        "the output of `openssl rand -hex 32`",
        _charset(r"[A-Za-z0-9" + re.escape(_SECRET_CHARS) + r"]", reveal=False),
        max_length=256, secret=True),
    "turn_username": Kind(
        "a TURN user name of letters, digits and ._@+=/- (no ':', which TURN REST user names use "
        "between expiry and name), at most 256 characters", "alice",
        _charset(r"[A-Za-z0-9._@+=/-]"), max_length=256),
    "stun_url": Kind("a STUN URI (RFC 7064): stun: or stuns:, a host and an optional port",
                     "stun:turn.example.org:3478", _ice_url(("stun", "stuns"), ()), max_length=2048),
    "turn_url": Kind("a TURN URI (RFC 7065): turn: or turns:, a host, an optional port and ?transport=udp or tcp",
                     "turn:turn.example.org:3478?transport=udp", _ice_url(("turn", "turns"), ("udp", "tcp")),
                     max_length=2048),
    "ip": Kind("an IPv4 or IPv6 address", "198.51.100.7", _ip, max_length=64),
    "ipv4": Kind("an IPv4 address", "10.210.30.10", _ipv4, max_length=15),
    "cidr": Kind("ADDRESS/PREFIX", "10.210.30.0/24", _cidr, max_length=64),
    "ip_range": Kind("an address, a CIDR or FIRST-LAST", "10.210.30.0/24", _ip_range, max_length=128),
    "abs_path": Kind("an absolute path of letters, digits and ._+@-/", "/var/lib/turn/turndb",
                     _pattern(_ABS_PATH, "is not an absolute path of letters, digits and ._+@-/"), max_length=4095),
    # Read by Python on the controller, never written into a file or a command
    # line: any character but line breaks and control characters.
    "local_path": Kind("a path on the controller", "output/tls", max_length=4095, ascii_only=False),
    "http_url": Kind("an http:// or https:// URL without spaces, quotes, query or fragment",
                     "http://deb.debian.org/debian", _http_url, max_length=2048),
    "deb_suite": Kind("a Debian suite name", "bookworm",
                      _pattern(_DEB_SUITE, "is not a suite name of lower-case letters, digits and .+-"),
                      max_length=64),
    "package": Kind("a Debian package name", "coturn",
                    _pattern(_PACKAGE, "is not a package name of lower-case letters, digits and +.- "
                             "(two characters or more)"), max_length=128),
    "instance_name": Kind("an Incus instance name: a letter first, then letters, digits and '-', "
                          "at most 63 characters, no '-' at the end", "coturn-1",
                          _pattern(_INSTANCE_NAME, "is not a valid instance name"), max_length=63),
    "incus_name": Kind("an Incus object name of letters, digits and ._-, at most 63 characters", "default",
                       _pattern(_INCUS_NAME, "holds characters other than letters, digits and ._-"),
                       max_length=63),
    "image_alias": Kind("an image alias of letters, digits and ._/-", "debian-12-coturn",
                        _pattern(_IMAGE_ALIAS, "holds characters other than letters, digits and ._/-"),
                        max_length=255),
    "ifname": Kind("an interface name of letters, digits and _.-, at most 15 characters", "vzbr0", _ifname,
                   max_length=15),
    "netns": Kind("a network namespace name of letters, digits and _.-", "vz-client",
                  _pattern(_IFNAME, "holds characters other than letters, digits and _.-"), max_length=64),
    "inventory_host": Kind("an inventory host name", "localhost",
                           _pattern(_INVENTORY_HOST, "holds characters other than letters, digits and _.:-"),
                           max_length=253),
    "unix_name": Kind("a user or group name (lower-case letters, digits, _ and -) or a number", "www-data",
                      _pattern(_UNIX_NAME, "is not a user or group name"), max_length=32),
    # Run as an argument vector by ansible.builtin.command, never written to a
    # file: non-ASCII is fine, a second line is not.
    "command": Kind("a command on one line", "systemctl restart webrtc-backend", max_length=4096,
                    ascii_only=False),
    "cipher_list": Kind("an OpenSSL cipher string of letters, digits and +:!@=_.-", "ECDHE+AESGCM:ECDHE+CHACHA20",
                        _pattern(_CIPHER_LIST, "holds characters other than letters, digits and +:!@=_.-"),
                        max_length=1024),
    "pem": Kind("PEM text (-----BEGIN CERTIFICATE----- ...)", "the content of fullchain.pem", _pem,
                max_length=65536, multiline=True),
    "pem_key": Kind("an unencrypted PEM private key (-----BEGIN PRIVATE KEY----- ...)", "the content of privkey.pem",
                    _pem, max_length=65536, multiline=True, secret=True),
    # Incus takes instance config as JSON through its API: raw.lxc and
    # cloud-init.* values are several lines by design.
    "incus_config_value": Kind("an Incus config value", "2", max_length=1048576, multiline=True,
                               ascii_only=False),
}

# Options holding a list of dicts: the kind of each key.
DICT_KINDS = {
    "static_users": {"name": "turn_username", "password": "secret"},
    "netns_hosts": {"name": "netns", "address": "cidr"},
}

_OR_EMPTY = "_or_empty"


def kind_of(name):
    """(Kind, empty allowed) for 'kind' or 'kind_or_empty'."""
    empty_ok = name.endswith(_OR_EMPTY)
    base = name[:-len(_OR_EMPTY)] if empty_ok else name
    if base not in KINDS:
        raise KeyError(f"unknown value kind {name!r}; known: {', '.join(sorted(KINDS))} (each may end in {_OR_EMPTY})")
    return KINDS[base], empty_ok


def _position(text, chars):
    for index, char in enumerate(text, 1):
        if char in chars:
            return index
    return None


def _control(text, multiline):
    for index, char in enumerate(text, 1):
        if multiline and char in "\n\r\t":
            continue
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            return index, char
    return None


def problem(value, kind_name):
    """What is wrong with value as kind_name, as a phrase ('holds a line break at character 15'), or None."""
    kind, empty_ok = kind_of(kind_name)
    if isinstance(value, (bool, dict, list, tuple, set)):
        return f"is a {type(value).__name__}, not a string"
    text = "" if value is None else str(value)
    if text == "":
        return None if empty_ok else "is empty"
    if not kind.multiline:
        index = _position(text, LINE_BREAKS)
        if index:
            return f"holds a line break at character {index}"
    found = _control(text, kind.multiline)
    if found:
        return f"holds the control character U+{ord(found[1]):04X} at character {found[0]}"
    # PEM ends with a line break; one-line values may not start or end with space.
    if not kind.multiline and text != text.strip():
        return "starts or ends with white space"
    if kind.max_length and len(text) > kind.max_length:
        return f"is {len(text)} characters long, more than {kind.max_length}"
    if kind.ascii_only:
        for index, char in enumerate(text, 1):
            if ord(char) > 126:
                return f"holds the non-ASCII character U+{ord(char):04X} at character {index}"
    if kind.check:
        return kind.check(text)
    return None


def shown(value, secret=False):
    """How a value appears in a message: JSON (escapes visible), shortened, never a secret."""
    text = "" if value is None else str(value)
    if secret:
        return f"{len(text)} characters, not shown"
    if len(text) > 80:
        return f"{json.dumps(text[:60])}... ({len(text)} characters)"
    return json.dumps(text)


def message(role, name, kind_name, value):
    """The preflight message for one value, or None when it is fine."""
    found = problem(value, kind_name)
    if found is None:
        return None
    kind, empty_ok = kind_of(kind_name)
    what = kind.what + (", or empty" if empty_ok else "")
    return f"{role}: {name} must be {what}, such as {kind.example} (got {shown(value, kind.secret)}: it {found})."


def problems(role, kinds, values):
    """Every message for the values of one role, in the order of kinds.

    kinds maps a variable name to a kind name, or to a dict kind name from
    DICT_KINDS (a list of dicts); values maps the same names to their
    values (a variable that is not defined is None and skipped). A list is
    checked element by element and named VAR[INDEX].
    """
    found = []
    for name, kind_name in kinds.items():
        value = values.get(name)
        if value is None:
            continue
        if kind_name in DICT_KINDS:
            found.extend(_dict_problems(role, name, DICT_KINDS[kind_name], value))
            continue
        if kind_name == "incus_config":
            found.extend(_incus_config_problems(role, name, value))
            continue
        if isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                text = message(role, f"{name}[{index}]", kind_name, item)
                if text:
                    found.append(text)
            continue
        text = message(role, name, kind_name, value)
        if text:
            found.append(text)
    return found


def _dict_problems(role, name, keys, value):
    if not isinstance(value, (list, tuple)):
        return [f"{role}: {name} must be a list of dicts with keys {', '.join(keys)} (got a {type(value).__name__})."]
    found = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            found.append(f"{role}: {name}[{index}] must be a dict with keys {', '.join(keys)} "
                         f"(got a {type(item).__name__}).")
            continue
        for key, kind_name in keys.items():
            if key in item:
                text = message(role, f"{name}[{index}].{key}", kind_name, item[key])
                if text:
                    found.append(text)
    return found


def _incus_config_problems(role, name, value):
    if not isinstance(value, dict):
        return [f"{role}: {name} must be a dict of Incus config keys (got a {type(value).__name__})."]
    found = []
    for key, item in value.items():
        if not _INCUS_CONFIG_KEY.match(str(key)) or len(str(key)) > 255:
            found.append(f"{role}: {name} keys must be Incus config keys of letters, digits and ._-, "
                         f"such as limits.cpu (got {shown(key)}).")
            continue
        # An empty value unsets the key in Incus.
        text = message(role, f"{name}[{json.dumps(str(key))}]", "incus_config_value_or_empty", item)
        if text:
            found.append(text)
    return found


def one_line(value, name="value"):
    """The value unchanged when it holds no line break or control character; else a problem phrase."""
    text = "" if value is None else str(value)
    index = _position(text, LINE_BREAKS)
    if index:
        return None, f"{name} holds a line break at character {index}"
    found = _control(text, False)
    if found:
        return None, f"{name} holds the control character U+{ord(found[1]):04X} at character {found[0]}"
    return text, None


def host_address_problem(address, subnet):
    """Why address cannot be a container's static address on subnet (the bridge's ADDRESS/PREFIX), or None."""
    try:
        ip = ipaddress.ip_address(str(address))
        bridge = ipaddress.ip_interface(str(subnet))
    except ValueError:
        return None  # the kind checks name a malformed value
    net = bridge.network
    if ip.version != net.version or ip not in net:
        return "is not on the bridge's subnet"
    if ip == bridge.ip:
        return "is the bridge's own address, the containers' gateway"
    if ip == net.network_address and net.prefixlen < net.max_prefixlen - 1:
        return "is the subnet's network address"
    if net.version == 4 and ip == net.broadcast_address and net.prefixlen < 31:
        return "is the subnet's broadcast address"
    return None

# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The value kinds: what a value of each kind must be, an example, and the check that tells."""

from __future__ import annotations

import re

from ansible_collections.veza.coturn.plugins.plugin_utils._values import checks


class Kind:
    """What a value of this kind must be, and how to tell."""

    def __init__(self, what, example, check=None, max_length=None, secret=False, ascii_only=True, multiline=False):
        self.what = what
        self.example = example
        self.check = check
        self.max_length = max_length
        self.secret = secret
        self.ascii_only = ascii_only
        self.multiline = multiline


KINDS = {
    "realm": Kind(
        "a DNS-like name of letters, digits, '-' and '.', at most 127 characters (coturn's limit for a realm)",
        "turn.example.org",
        checks.dns_name,
        max_length=127,
    ),
    "cert_name": Kind("a DNS name, '*.' first for a wildcard", "turn.example.org", checks.cert_name, max_length=255),
    "secret": Kind(
        f"a secret of letters, digits and {checks.SECRET_CHARS} only (no spaces, quotes, '#', '\\', '$', '`', "
        "';', '&', '|', '<', '>' or parentheses), at most 256 characters (coturn's limit)",
        "the output of `openssl rand -hex 32`",
        checks.charset(r"[A-Za-z0-9" + re.escape(checks.SECRET_CHARS) + r"]", reveal=False),
        max_length=256,
        secret=True,
    ),
    "turn_username": Kind(
        "a TURN user name of letters, digits and ._@+=/- (no ':', which TURN REST user names use "
        "between expiry and name), at most 256 characters",
        "alice",
        checks.charset(r"[A-Za-z0-9._@+=/-]"),
        max_length=256,
    ),
    "stun_url": Kind(
        "a STUN URI (RFC 7064): stun: or stuns:, a host and an optional port",
        "stun:turn.example.org:3478",
        checks.ice_url(("stun", "stuns"), ()),
        max_length=2048,
    ),
    "turn_url": Kind(
        "a TURN URI (RFC 7065): turn: or turns:, a host, an optional port and ?transport=udp or tcp",
        "turn:turn.example.org:3478?transport=udp",
        checks.ice_url(("turn", "turns"), ("udp", "tcp")),
        max_length=2048,
    ),
    "ip": Kind("an IPv4 or IPv6 address", "198.51.100.7", checks.ip, max_length=64),
    "ipv4": Kind("an IPv4 address", "10.210.30.10", checks.ipv4, max_length=15),
    "cidr": Kind("ADDRESS/PREFIX", "10.210.30.0/24", checks.cidr, max_length=64),
    "ip_range": Kind("an address, a CIDR or FIRST-LAST", "10.210.30.0/24", checks.ip_range, max_length=128),
    "abs_path": Kind(
        "an absolute path of letters, digits and ._+@-/",
        "/var/lib/turn/turndb",
        checks.pattern(checks.ABS_PATH, "is not an absolute path of letters, digits and ._+@-/"),
        max_length=4095,
    ),
    # Read by Python on the controller, never written into a file or a command
    # line: any character but line breaks and control characters.
    "local_path": Kind("a path on the controller", "output/tls", max_length=4095, ascii_only=False),
    "http_url": Kind(
        "an http:// or https:// URL without spaces, quotes, query or fragment",
        "http://deb.debian.org/debian",
        checks.http_url,
        max_length=2048,
    ),
    "deb_suite": Kind(
        "a Debian suite name",
        "bookworm",
        checks.pattern(checks.DEB_SUITE, "is not a suite name of lower-case letters, digits and .+-"),
        max_length=64,
    ),
    "package": Kind(
        "a Debian package name",
        "coturn",
        checks.pattern(
            checks.PACKAGE, "is not a package name of lower-case letters, digits and +.- (two characters or more)"
        ),
        max_length=128,
    ),
    "instance_name": Kind(
        "an Incus instance name: a letter first, then letters, digits and '-', "
        "at most 63 characters, no '-' at the end",
        "coturn-1",
        checks.pattern(checks.INSTANCE_NAME, "is not a valid instance name"),
        max_length=63,
    ),
    "incus_name": Kind(
        "an Incus object name of letters, digits and ._-, at most 63 characters",
        "default",
        checks.pattern(checks.INCUS_NAME, "holds characters other than letters, digits and ._-"),
        max_length=63,
    ),
    "image_alias": Kind(
        "an image alias of letters, digits and ._/-",
        "debian-12-coturn",
        checks.pattern(checks.IMAGE_ALIAS, "holds characters other than letters, digits and ._/-"),
        max_length=255,
    ),
    "ifname": Kind(
        "an interface name of letters, digits and _.-, at most 15 characters", "vzbr0", checks.ifname, max_length=15
    ),
    "netns": Kind(
        "a network namespace name of letters, digits and _.-",
        "vz-client",
        checks.pattern(checks.IFNAME, "holds characters other than letters, digits and _.-"),
        max_length=64,
    ),
    "inventory_host": Kind(
        "an inventory host name",
        "localhost",
        checks.pattern(checks.INVENTORY_HOST, "holds characters other than letters, digits and _.:-"),
        max_length=253,
    ),
    "unix_name": Kind(
        "a user or group name (lower-case letters, digits, _ and -) or a number",
        "www-data",
        checks.pattern(checks.UNIX_NAME, "is not a user or group name"),
        max_length=32,
    ),
    # Run as an argument vector by ansible.builtin.command, never written to a
    # file: non-ASCII is fine, a second line is not.
    "command": Kind("a command on one line", "systemctl restart webrtc-backend", max_length=4096, ascii_only=False),
    "cipher_list": Kind(
        "an OpenSSL cipher string of letters, digits and +:!@=_.-",
        "ECDHE+AESGCM:ECDHE+CHACHA20",
        checks.pattern(checks.CIPHER_LIST, "holds characters other than letters, digits and +:!@=_.-"),
        max_length=1024,
    ),
    "pem": Kind(
        "PEM text (-----BEGIN CERTIFICATE----- ...)",
        "the content of fullchain.pem",
        checks.pem,
        max_length=65536,
        multiline=True,
    ),
    "pem_key": Kind(
        "an unencrypted PEM private key (-----BEGIN PRIVATE KEY----- ...)",
        "the content of privkey.pem",
        checks.pem,
        max_length=65536,
        multiline=True,
        secret=True,
    ),
    # Incus takes instance config as JSON through its API: raw.lxc and
    # cloud-init.* values are several lines by design.
    "incus_config_value": Kind("an Incus config value", "2", max_length=1048576, multiline=True, ascii_only=False),
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
    base = name[: -len(_OR_EMPTY)] if empty_ok else name
    if base not in KINDS:
        raise KeyError(f"unknown value kind {name!r}; known: {', '.join(sorted(KINDS))} (each may end in {_OR_EMPTY})")
    return KINDS[base], empty_ok

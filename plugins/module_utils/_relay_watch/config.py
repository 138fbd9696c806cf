# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The relay watch's JSON configuration, checked key by key."""

from __future__ import annotations

import ipaddress
import json
import os

from ansible_collections.veza.coturn.plugins.module_utils import _turn_rest
from ansible_collections.veza.coturn.plugins.module_utils._turn_probe.params import MAX_TIMEOUT
from ansible_collections.veza.coturn.plugins.module_utils._relay_watch.errors import WatchError

DEFAULT_TIMEOUT = 3.0
TRANSPORTS = ("udp", "tcp", "tls")
URL_SCHEMES = ("stun:", "stuns:", "turn:", "turns:")

_TOP_KEYS = ("env", "metrics", "timeout", "relays")
_RELAY_KEYS = (
    "name",
    "host",
    "realm",
    "expected_relayed_ip",
    "server_name",
    "ca_file",
    "peer_address",
    "listeners",
    "stun_only",
)
_LISTENER_KEYS = ("transport", "port", "url")


def _describe(value):
    return json.dumps(value) if isinstance(value, (str, int, float, bool, type(None))) else type(value).__name__


def _keys(obj, where, allowed, required):
    if not isinstance(obj, dict):
        raise WatchError(f"{where} must be a JSON object (got {_describe(obj)})")
    unknown = sorted(set(obj) - set(allowed))
    if unknown:
        raise WatchError(
            f"{where or 'the top level'} has the unknown key(s) {', '.join(unknown)}; the keys are {', '.join(allowed)}"
        )
    for key in required:
        if key not in obj:
            raise WatchError(f"{_join(where, key)} is missing; it is required")


def _join(where, key):
    return f"{where}.{key}" if where else key


def _text(value, key, what="a non-empty string"):
    if not isinstance(value, str) or not value.strip() or _turn_rest.one_line_problem(value):
        raise WatchError(f"{key} must be {what} on one line (got {_describe(value)})")
    return value.strip()


def _absolute(value, key):
    value = _text(value, key, "an absolute path")
    if not os.path.isabs(value):
        raise WatchError(f"{key} must be an absolute path (got {_describe(value)})")
    return value


def _optional(obj, key, where, check):
    value = obj.get(key)
    return None if value is None else check(value, _join(where, key))


def _ip(value, key):
    try:
        return str(ipaddress.ip_address(value.strip() if isinstance(value, str) else value))
    except (TypeError, ValueError):
        raise WatchError(
            f"{key} must be an IP address literal such as 198.51.100.1, or null (got {_describe(value)})"
        ) from None


def _timeout(value, key):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_TIMEOUT:
        raise WatchError(
            f"{key} must be a number of seconds above 0 and at most {MAX_TIMEOUT:g} (got {_describe(value)})"
        )
    return float(value)


def _port(value, key):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise WatchError(f"{key} must be an integer from 1 to 65535 (got {_describe(value)})")
    return value


def _listener(obj, where):
    _keys(obj, where, _LISTENER_KEYS, _LISTENER_KEYS)
    transport = obj["transport"]
    if transport not in TRANSPORTS:
        raise WatchError(f"{where}.transport must be one of {', '.join(TRANSPORTS)} (got {_describe(transport)})")
    url = _text(obj["url"], f"{where}.url", "a STUN/TURN URL such as turn:198.51.100.1:3478?transport=udp")
    if not url.startswith(URL_SCHEMES):
        raise WatchError(f"{where}.url must start with {', '.join(URL_SCHEMES)} (got {_describe(url)})")
    return {"transport": transport, "port": _port(obj["port"], f"{where}.port"), "url": url}


def _relay(obj, where):
    _keys(obj, where, _RELAY_KEYS, ("name", "host", "listeners"))
    relay = {
        "name": _text(obj["name"], f"{where}.name"),
        "host": _text(obj["host"], f"{where}.host", "an address or name"),
        "realm": _optional(obj, "realm", where, _text),
        "expected_relayed_ip": _optional(obj, "expected_relayed_ip", where, _ip),
        "server_name": _optional(obj, "server_name", where, _text),
        "ca_file": _optional(obj, "ca_file", where, _absolute),
        "peer_address": _optional(obj, "peer_address", where, _ip),
        "stun_only": obj.get("stun_only", False),
    }
    if not isinstance(relay["stun_only"], bool):
        raise WatchError(f"{where}.stun_only must be true or false (got {_describe(relay['stun_only'])})")
    if relay["ca_file"] and not os.path.isfile(relay["ca_file"]):
        raise WatchError(
            f"{where}.ca_file {relay['ca_file']} does not exist or is not a file; it must be the PEM CA bundle "
            f"of the relay's certificate, or null for the system store"
        )
    listeners = obj["listeners"]
    if not isinstance(listeners, list) or not listeners:
        raise WatchError(
            f"{where}.listeners must be a non-empty list of {{transport, port, url}} objects (got {_describe(listeners)})"
        )
    relay["listeners"] = [_listener(item, f"{where}.listeners[{i}]") for i, item in enumerate(listeners)]
    urls = [item["url"] for item in relay["listeners"]]
    for i, url in enumerate(urls):
        if url in urls[:i]:
            raise WatchError(
                f"{where}.listeners[{i}].url {url} is already the url of listeners[{urls.index(url)}]; "
                f"each listener needs its own url (it is the metrics' listener label)"
            )
    return relay


def check_config(raw):
    """The configuration with defaults filled in; WatchError naming the key that is wrong."""
    _keys(raw, "", _TOP_KEYS, ("env", "metrics", "relays"))
    config = {
        "env": _absolute(raw["env"], "env"),
        "metrics": _absolute(raw["metrics"], "metrics"),
        "timeout": _timeout(raw.get("timeout", DEFAULT_TIMEOUT), "timeout"),
    }
    if not config["metrics"].endswith(".prom"):
        raise WatchError(
            f"metrics must name a file ending in .prom, the only files node_exporter's textfile collector reads "
            f"(got {_describe(config['metrics'])})"
        )
    relays = raw["relays"]
    if not isinstance(relays, list) or not relays:
        raise WatchError(f"relays must be a non-empty list of relay objects (got {_describe(relays)})")
    config["relays"] = [_relay(item, f"relays[{i}]") for i, item in enumerate(relays)]
    names = [relay["name"] for relay in config["relays"]]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise WatchError(
                f"relays[{i}].name {name} is already the name of relays[{names.index(name)}]; "
                f"each relay needs its own name (it is the metrics' relay label)"
            )
    return config


def load_config(path):
    """Read and check the JSON configuration at path; WatchError starting with the path."""
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except OSError as exc:
        raise WatchError(f"cannot read the configuration {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise WatchError(f"{path} is not JSON: {exc}") from None
    try:
        return check_config(raw)
    except WatchError as exc:
        raise WatchError(f"{path}: {exc}") from None

# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""incus_instance's options: what its argument spec cannot check or shape.

The argument spec has already checked every option's type and choices,
``source``'s keys and that ``source.alias`` and ``source.fingerprint`` are not
both given. What is left is done here, once: values that must be non-empty,
the cross-field rules of an image source, config and device values coerced
to the strings Incus stores (the spec types those mappings only as ``dict``),
and the URL's form.
"""

from __future__ import annotations

import urllib.parse

from ansible_collections.veza.coturn.plugins.module_utils._incus.errors import ModuleFailure

MODULE = "incus_instance"


def _fail(where, problem):
    raise ModuleFailure("%s: %s: %s" % (MODULE, where, problem))


def _scalar_to_str(value, where):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return str(value)
    _fail(where, "value must be a string, number or boolean (got %s)" % type(value).__name__)


def _source(source):
    source = dict((k, v) for k, v in source.items() if v is not None)
    for key in ("alias", "fingerprint", "server", "protocol", "mode"):
        if key in source and not source[key]:
            _fail("source.%s" % key, "value must be a non-empty string")
    if source["type"] == "image":
        if "alias" not in source and "fingerprint" not in source:
            _fail("source", "an image source needs alias or fingerprint")
        if "protocol" in source and "server" not in source:
            _fail("source.protocol", "only meaningful together with source.server")
    return source


def _config(config):
    """Merge semantics: ``None`` removes the key."""
    norm = {}
    for key, value in config.items():
        key = str(key)
        norm[key] = None if value is None else _scalar_to_str(value, "config.%s" % key)
        if key.startswith("volatile."):
            _fail("config.%s" % key, "volatile keys are maintained by Incus and cannot be managed")
    return norm


def _devices(devices):
    """Authoritative; a ``None`` device is not wanted."""
    norm = {}
    for name, dev in devices.items():
        name = str(name)
        if dev is None:
            continue
        if not isinstance(dev, dict):
            _fail("devices.%s" % name, "value must be a mapping of strings")
        ndev = {}
        for key, value in dev.items():
            key = str(key)
            if value is None:
                _fail("devices.%s.%s" % (name, key), "value must be a string, number or boolean (got null)")
            ndev[key] = _scalar_to_str(value, "devices.%s.%s" % (name, key))
        if not ndev.get("type"):
            _fail("devices.%s" % name, 'the key "type" is required (nic, disk, proxy, ...)')
        norm[name] = ndev
    return norm


def normalize_params(params):
    """Return incus_instance's options, checked and shaped, from spec-validated ``params``.

    Raises :class:`ModuleFailure` with a message naming the option and the problem.
    """
    p = dict(params)
    if not p.get("name"):
        _fail("name", "a non-empty string is required")
    if not p.get("project"):
        _fail("project", "a non-empty string is required")
    if isinstance(p["wait_timeout"], bool) or p["wait_timeout"] <= 0:
        _fail("wait_timeout", "must be a positive number of seconds (got %r)" % (p["wait_timeout"],))
    if not all(p["profiles"]):
        _fail("profiles", "value must be a list of profile names")
    if p["source"] is not None:
        p["source"] = _source(p["source"])
    if p["config"] is not None:
        p["config"] = _config(p["config"])
    if p["devices"] is not None:
        p["devices"] = _devices(p["devices"])
    if p["url"] is not None:
        parsed = urllib.parse.urlsplit(p["url"])
        if parsed.scheme != "https" or not parsed.hostname:
            _fail("url", "must look like https://host:8443 (got %r)" % p["url"])
    return p

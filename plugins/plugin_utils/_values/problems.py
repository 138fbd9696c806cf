# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The messages: what is wrong with a value of a kind, said the same way for every role, never showing a secret."""

from __future__ import annotations

import json
import re
import unicodedata

from ansible_collections.veza.coturn.plugins.plugin_utils._values.kinds import DICT_KINDS, kind_of

# Line breaks as Python's str.splitlines() sees them: any of them can end a
# line for some reader of the file.
LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"

_INCUS_CONFIG_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")


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
            found.append(
                f"{role}: {name}[{index}] must be a dict with keys {', '.join(keys)} " f"(got a {type(item).__name__})."
            )
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
            found.append(
                f"{role}: {name} keys must be Incus config keys of letters, digits and ._-, "
                f"such as limits.cpu (got {shown(key)})."
            )
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

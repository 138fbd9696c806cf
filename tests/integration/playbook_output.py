# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading ansible-playbook output and host snapshots, for the bad-input tests."""

from __future__ import annotations

import difflib
import json
import re

PREFLIGHT_PLAY = "Preflight every part before anything changes"

_PLAY = re.compile(r"^PLAY \[(.*)\] \*+$", re.M)
_FAILED = re.compile(r"^(?:fatal|failed): \[([^\]]+)\].*?=> (\{.*\})$", re.M)


def plays(output):
    """[(play name, its part of the output)] in the order they ran."""
    heads = list(_PLAY.finditer(output))
    ends = [h.start() for h in heads[1:]] + [len(output)]
    return [(h.group(1), output[h.start() : end]) for h, end in zip(heads, ends)]


def errors(text):
    """Messages of the failed tasks in text (one JSON result a line)."""
    found = []
    for match in _FAILED.finditer(text):
        result = json.loads(match.group(2))
        found.append("[%s] %s" % (match.group(1), result.get("msg", "")))
        found.extend("[%s] %s" % (match.group(1), e) for e in result.get("argument_errors", []))
    return found


def state_diff(before, after):
    """A unified diff of the parts of two host_state() snapshots that differ."""
    lines = []
    for key in before:
        if before[key] != after.get(key):
            lines.extend(
                difflib.unified_diff(
                    json.dumps(before[key], indent=1, sort_keys=True).splitlines(),
                    json.dumps(after.get(key), indent=1, sort_keys=True).splitlines(),
                    key + " before",
                    key + " after",
                    lineterm="",
                )
            )
    return "\n".join(lines)

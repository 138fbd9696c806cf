# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backend env file: KEY=VALUE lines, comments and everything else kept as they are."""

from __future__ import annotations

import re
import unicodedata

from ansible_collections.veza.coturn.plugins.module_utils._turn_rest.errors import TurnRestError

# The variables the webrtc_backend_env role writes (templates/webrtc.env.j2).
ENV_STUN_URLS = "WEBRTC_STUN_URLS"
ENV_TURN_URLS = "WEBRTC_TURN_URLS"
ENV_USERNAME = "WEBRTC_TURN_USERNAME"
ENV_CREDENTIAL = "WEBRTC_TURN_CREDENTIAL"
ENV_SECRET = "WEBRTC_TURN_SHARED_SECRET"
ENV_TTL = "WEBRTC_TURN_CREDENTIAL_TTL"

# As plugins/plugin_utils/_values: what would end or split a line of the
# env file for one reader or another.
LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"

_ENV_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)\Z", re.DOTALL)


def one_line_problem(text):
    """Why text cannot be the value of a KEY=VALUE line (a line break or control character), or None."""
    for index, char in enumerate(text, 1):
        if char in LINE_BREAKS:
            return f"holds a line break at character {index}"
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            return f"holds the control character U+{ord(char):04X} at character {index}"
    return None


class EnvFile:
    """The lines of an env file; set() changes one KEY=VALUE line and leaves every other byte as it was."""

    def __init__(self, path, text):
        self.path = path
        # Split on LF only and keep a CR before it, so CRLF files and stray
        # characters in other lines come back byte for byte.
        self.lines = text.split("\n")
        self.keys = {}
        for number, line in enumerate(self.lines):
            body = line[:-1] if line.endswith("\r") else line
            match = _ENV_ASSIGNMENT.match(body)
            if match:  # comments and anything else are kept, never read
                self.keys.setdefault(match.group(1), []).append(number)

    @classmethod
    def read(cls, path):
        """The env file at path; TurnRestError when it cannot be read or is not UTF-8."""
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise TurnRestError(f"cannot read the env file {path}: {exc.strerror or exc}") from exc
        try:
            return cls(path, data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise TurnRestError(
                f"{path} is not UTF-8 text (byte {exc.start + 1}); the webrtc_backend_env role writes UTF-8"
            ) from exc

    def _number(self, key):
        numbers = self.keys.get(key, [])
        if len(numbers) > 1:
            shown = ", ".join(str(n + 1) for n in numbers)
            raise TurnRestError(f"{self.path}: {key} is set on several lines ({shown}); it must be set once")
        return numbers[0] if numbers else None

    def get(self, key, default=None):
        """The value of key (the text after the first '='), or default when no line sets it."""
        number = self._number(key)
        if number is None:
            return default
        body = self.lines[number]
        body = body[:-1] if body.endswith("\r") else body
        return body.split("=", 1)[1]

    def set(self, key, value):
        """Replace the value on the line that sets key; that line must exist and value must fit on it."""
        value = str(value)
        problem = one_line_problem(value)
        if problem:
            raise TurnRestError(
                f"{self.path}: the new value of {key} {problem}; refusing to write it into a line-based file"
            )
        number = self._number(key)
        if number is None:
            raise TurnRestError(
                f"{self.path} has no {key}= line to renew; the webrtc_backend_env role writes one in rest mode"
            )
        ending = "\r" if self.lines[number].endswith("\r") else ""
        self.lines[number] = f"{key}={value}{ending}"

    def text(self):
        return "\n".join(self.lines)

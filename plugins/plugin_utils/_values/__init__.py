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

By concern: checks (the check behind each kind), kinds (the table of
kinds, with what each must be and an example) and problems (the messages,
and one_line). host_address_problem is _net's, with the other address
helpers. The names below are the package's interface.
"""

from __future__ import annotations

from ansible_collections.veza.coturn.plugins.plugin_utils._net import host_address_problem
from ansible_collections.veza.coturn.plugins.plugin_utils._values.kinds import DICT_KINDS, KINDS, Kind, kind_of
from ansible_collections.veza.coturn.plugins.plugin_utils._values.problems import (
    LINE_BREAKS,
    message,
    one_line,
    problem,
    problems,
    shown,
)

__all__ = [
    "DICT_KINDS",
    "KINDS",
    "LINE_BREAKS",
    "Kind",
    "host_address_problem",
    "kind_of",
    "message",
    "one_line",
    "problem",
    "problems",
    "shown",
]

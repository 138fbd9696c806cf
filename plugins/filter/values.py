# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input checks the roles share: one validator per kind of value (plugin_utils/_values)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.veza.coturn.plugins.plugin_utils import _net, _values


def value_problems(kinds, values, role):
    """Messages for every value of a role that is not of its kind (empty list when all are fine).

    kinds: {variable: kind}; values: their values in the same order (what
    query('ansible.builtin.vars', *kinds, default=None) returns).
    """
    if not isinstance(kinds, dict):
        raise AnsibleFilterError(
            f"value_problems: the input must be a dict of variable names to kinds, not {type(kinds).__name__}"
        )
    values = list(values)
    if len(values) != len(kinds):
        raise AnsibleFilterError(f"value_problems: {len(kinds)} variable names but {len(values)} values")
    try:
        return _values.problems(str(role), kinds, dict(zip(kinds, values)))
    except KeyError as exc:
        raise AnsibleFilterError(f"value_problems: {exc.args[0]}") from exc


def one_line(value, name):
    """The value as text, refused when a line break or control character would split a line of the file."""
    text, problem = _values.one_line(value, str(name))
    if problem:
        raise AnsibleFilterError(f"one_line: {problem}; refusing to write it into a line-based file")
    return text


def host_address_problem(address, subnet):
    """Why address cannot be a static address on subnet (ADDRESS/PREFIX of the bridge), or ''."""
    return _net.host_address_problem(address, subnet) or ""


class FilterModule:
    """Value checks for veza.coturn."""

    def filters(self):
        return {
            "value_problems": value_problems,
            "one_line": one_line,
            "host_address_problem": host_address_problem,
        }

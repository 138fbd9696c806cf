# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's main() for real in a test, the way Ansible hands it its arguments."""

from __future__ import annotations

import json

import pytest

from ansible.module_utils.testing import patch_module_args


def run_main(module, capsys, check_mode=False, diff=False, **params):
    """Return (exit code, raw stdout, result) of module.main() with these options."""
    args = dict(params)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    capsys.readouterr()
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            module.main()
    raw = capsys.readouterr().out
    return exc.value.code, raw, json.loads(raw)

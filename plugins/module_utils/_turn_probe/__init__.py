# -*- coding: utf-8 -*-
# Copyright: (c) 2025, veza.coturn developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TURN/STUN probe behind the ``turn_probe`` module.

``run_probe(params)`` takes the module's option names and returns the
module's result dictionary (with ``msg`` and ``failure``); it raises
ProbeParamError for an invalid parameter. Standard library and the
collection's ``_stun`` and ``_netns`` only, no Ansible imports: the backend
host's relay watch (``_relay_watch``) runs it as a plain program's library.

- ``params``: the argument spec and the checks it cannot express;
- ``probe``: one run: the plan, the steps with their deadlines, the result, the cleanup;
- ``steps``: what each step sends and expects;
- ``failures``: failure classes and the explanations that say what to fix.

``run_probe`` is here for the callers that import it from the package (the
integration tests).
"""

from __future__ import annotations

from ansible_collections.veza.coturn.plugins.module_utils._turn_probe.probe import run_probe

__all__ = ["run_probe"]

# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the Incus modules share where they meet Ansible.

The ``socket`` option every module has, the client built from the options,
and one way of turning a manager's result or failure into ``exit_json`` /
``fail_json``.
"""

from __future__ import annotations

from ansible_collections.veza.coturn.plugins.module_utils._incus.client import DEFAULT_SOCKET, IncusClient
from ansible_collections.veza.coturn.plugins.module_utils._incus.errors import IncusError, ModuleFailure


def socket_spec():
    """The ``socket`` option (the modules other than incus_instance reach the local daemon only)."""
    return dict(socket=dict(type="path", default=DEFAULT_SOCKET))


def client_from_params(params, timeout=30):
    """An :class:`IncusClient` for the module options (``url`` and the TLS options when present)."""
    return IncusClient(
        socket_path=params.get("socket"),
        url=params.get("url"),
        client_cert=params.get("client_cert"),
        client_key=params.get("client_key"),
        server_cert=params.get("server_cert"),
        validate_certs=params.get("validate_certs", True),
        timeout=timeout,
    )


def run_module(module, name, work):
    """Exit ``module`` with what ``work()`` returns, or fail it with the failure's message.

    A :class:`ModuleFailure` fails with its own message and extra keys
    (``changed`` is true when ``actions`` were done); an :class:`IncusError`
    fails with ``<name>: <Incus' error>``. The result's ``warnings`` become
    module warnings.
    """
    try:
        result = work()
    except ModuleFailure as exc:
        extra = dict(exc.extra)
        extra.setdefault("changed", bool(extra.get("actions")))
        module.fail_json(msg=exc.msg, **extra)
    except IncusError as exc:
        module.fail_json(msg="%s: %s" % (name, exc.error), error_code=exc.status)
    for warning in result.pop("warnings", []):
        module.warn(warning)
    module.exit_json(**result)

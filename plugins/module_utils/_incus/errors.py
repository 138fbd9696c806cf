# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The two failures of the Incus helpers.

:class:`IncusError` is an Incus API call that failed (raised by the client);
:class:`ModuleFailure` is a module that must fail with a given message (raised
by the managers, turned into ``fail_json`` by the modules).
"""

from __future__ import annotations


class IncusError(Exception):
    """An Incus API call failed.

    ``status`` is the HTTP status (or the operation's status code, or ``None``
    when the daemon could not be reached at all); ``error`` is Incus' own
    error text (or a description of the transport failure).
    """

    def __init__(self, error, status=None, method=None, path=None):
        self.error = str(error)
        self.status = status
        self.method = method
        self.path = path
        super().__init__(self.error)

    @property
    def not_found(self):
        return self.status == 404

    def __str__(self):
        return self.error


class ModuleFailure(Exception):
    """The module must fail with ``msg``; ``extra`` goes into the result."""

    def __init__(self, msg, **extra):
        super().__init__(msg)
        self.msg = msg
        self.extra = extra

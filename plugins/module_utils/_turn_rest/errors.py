# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one error of the TURN REST code: standard library only, like the rest of the package."""

from __future__ import annotations


class TurnRestError(ValueError):
    """A value, file or command refused; the message says which, what is wrong and what would do."""

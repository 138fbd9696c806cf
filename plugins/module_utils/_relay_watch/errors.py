# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The relay watch's own error."""

from __future__ import annotations


class WatchError(Exception):
    """The configuration, the env file or the metrics file is wrong: one line, exit status 2."""

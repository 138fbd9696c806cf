# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address tests for preflight asserts: `x is veza.coturn.is_ip_literal`."""

from __future__ import annotations

from ansible_collections.veza.coturn.plugins.plugin_utils._net import ip_in_cidr, is_cidr, is_ip_literal


class TestModule:
    """Address tests for veza.coturn."""

    def tests(self):
        return {
            "is_ip_literal": is_ip_literal,
            "is_cidr": is_cidr,
            "ip_in_cidr": ip_in_cidr,
        }

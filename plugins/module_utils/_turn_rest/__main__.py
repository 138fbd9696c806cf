# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The renewal program: ``python3 -m ansible_collections.veza.coturn.plugins.module_utils._turn_rest renew ...``.

The webrtc_backend_env role also installs this very file as the program
(/usr/local/lib/veza-coturn/turn_rest.py), with the package copied beside
it under its package path: a script's own folder comes first on sys.path,
so the absolute import below finds the package there. Hence no relative
import in this file.
"""

from __future__ import annotations

from ansible_collections.veza.coturn.plugins.module_utils._turn_rest.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

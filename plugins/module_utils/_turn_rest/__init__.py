# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TURN REST credentials, RTCIceServer lists, and their renewal in the backend env file.

One implementation for both ends: the ``turn_credentials`` filter plugin
imports it on the controller, and the webrtc_backend_env role copies this
package to the backend host, where a timer runs its ``__main__``

    python3 turn_rest.py renew --config FILE
    python3 turn_rest.py renew --env FILE --ice FILE [--reload-command JSON-ARGV] [--margin SECONDS]

before the credential in the env file expires. Hence standard library
only, no Ansible imports, and Python 3.8 syntax (the oldest target Python
ansible-core 2.19 supports).

By concern: credentials (minting and the keep rule), ice (RTCIceServer
lists and their JSON), env_file (reading and changing the env file),
atomic (atomic writes), renewal (renew, reload, put back), cli (the
command line) and __main__ (the program). The names below are the
package's interface; the relay watch and the filters import them from here.
"""

from __future__ import annotations

from ansible_collections.veza.coturn.plugins.module_utils._turn_rest.atomic import write_atomically
from ansible_collections.veza.coturn.plugins.module_utils._turn_rest.cli import main
from ansible_collections.veza.coturn.plugins.module_utils._turn_rest.credentials import (
    MIN_SECRET_LENGTH,
    kept_expiry,
    mint,
)
from ansible_collections.veza.coturn.plugins.module_utils._turn_rest.env_file import (
    ENV_CREDENTIAL,
    ENV_SECRET,
    ENV_STUN_URLS,
    ENV_TTL,
    ENV_TURN_URLS,
    ENV_USERNAME,
    LINE_BREAKS,
    EnvFile,
    one_line_problem,
)
from ansible_collections.veza.coturn.plugins.module_utils._turn_rest.errors import TurnRestError
from ansible_collections.veza.coturn.plugins.module_utils._turn_rest.ice import ice_servers, ice_servers_json
from ansible_collections.veza.coturn.plugins.module_utils._turn_rest.renewal import (
    describe,
    renew,
    renew_and_reload,
    utc,
)

__all__ = [
    "ENV_CREDENTIAL",
    "ENV_SECRET",
    "ENV_STUN_URLS",
    "ENV_TTL",
    "ENV_TURN_URLS",
    "ENV_USERNAME",
    "LINE_BREAKS",
    "MIN_SECRET_LENGTH",
    "EnvFile",
    "TurnRestError",
    "describe",
    "ice_servers",
    "ice_servers_json",
    "kept_expiry",
    "main",
    "mint",
    "one_line_problem",
    "renew",
    "renew_and_reload",
    "utc",
    "write_atomically",
]

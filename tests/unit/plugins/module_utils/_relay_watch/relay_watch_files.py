# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The files a relay watch run reads (env file, configuration) and runs of its
command line, for the tests of plugins/module_utils/_relay_watch/.
"""

from __future__ import annotations

import json

from ansible_collections.veza.coturn.plugins.module_utils._relay_watch.cli import main
from ansible_collections.veza.coturn.tests.unit.plugins.fake_turn import LOOP, PASSWORD, REALM, USER

NOW = 1_796_408_000
SECRET = "Recognisable-Shared-Secret-0123456789"
STATIC_USER = "static-backend-user"
STATIC_PASSWORD = "Recognisable-Static-Password-42"


def write_env(tmp_path, text):
    path = tmp_path / "webrtc.env"
    path.write_text(text)
    return str(path)


def static_env(tmp_path, user=USER, password=PASSWORD):
    return write_env(
        tmp_path,
        f"# managed\nWEBRTC_STUN_URLS=stun:{LOOP}:3478\nWEBRTC_TURN_URLS=turn:{LOOP}:3478\n"
        f"WEBRTC_TURN_USERNAME={user}\nWEBRTC_TURN_CREDENTIAL={password}\n",
    )


def rest_env(tmp_path, username=str(NOW + 150), credential="c3RvcmVkLWNyZWRlbnRpYWwtdmFsdWU=", secret=SECRET):
    return write_env(
        tmp_path,
        f"WEBRTC_TURN_URLS=turn:{LOOP}:3478\nWEBRTC_TURN_USERNAME={username}\n"
        f"WEBRTC_TURN_CREDENTIAL={credential}\n"
        f"WEBRTC_TURN_SHARED_SECRET={secret}\nWEBRTC_TURN_CREDENTIAL_TTL=600\n",
    )


def listener(port, transport="udp"):
    scheme = "turns" if transport == "tls" else "turn"
    return {
        "transport": transport,
        "port": port,
        "url": f"{scheme}:{LOOP}:{port}?transport={'udp' if transport == 'udp' else 'tcp'}",
    }


def relay(port, **over):
    item = {
        "name": "coturn-local",
        "host": LOOP,
        "realm": REALM,
        "expected_relayed_ip": LOOP,
        "server_name": None,
        "ca_file": None,
        "peer_address": None,
        "listeners": [listener(port)],
        "stun_only": False,
    }
    item.update(over)
    return item


def make_config(tmp_path, env, relays, **over):
    (tmp_path / "textfile").mkdir(exist_ok=True)
    config = {"env": env, "metrics": str(tmp_path / "textfile" / "veza_coturn.prom"), "timeout": 0.5, "relays": relays}
    config.update(over)
    path = tmp_path / "relay-watch.json"
    path.write_text(json.dumps(config))
    return str(path), config


def run(capsys, config_path, **kw):
    status = main(["--config", config_path], **kw)
    out, err = capsys.readouterr()
    return status, out, err


def metrics_of(config):
    with open(config["metrics"], encoding="utf-8") as handle:
        return handle.read()

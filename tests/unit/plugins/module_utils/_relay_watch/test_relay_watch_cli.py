# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The relay watch program of the backend host (plugins/module_utils/_relay_watch/):
the command line, with a stand-in probe where only the program around the
probe is under test, and run the way the backend host runs it: the files the
relay_watch role installs, copied alone under their package path,
``python3 -m`` with nothing but that PYTHONPATH.
"""

from __future__ import annotations

import os
import subprocess
import sys

import yaml

from ansible_collections.veza.coturn.plugins.module_utils._relay_watch import cli
from ansible_collections.veza.coturn.plugins.plugin_utils._zipapp import build
from ansible_collections.veza.coturn.tests.unit.plugins.fake_turn import FakeTurn, LOOP
from ansible_collections.veza.coturn.tests.unit.plugins.module_utils._relay_watch.relay_watch_files import (
    NOW,
    listener,
    make_config,
    metrics_of,
    relay,
    run,
    static_env,
    write_env,
)

MODULE_UTILS = os.path.dirname(os.path.dirname(os.path.abspath(cli.__file__)))
INSTALL_TASKS = os.path.join(MODULE_UTILS, "..", "..", "roles", "relay_watch", "tasks", "install.yml")


def installed_program():
    """What the relay_watch role installs: its python_program task's entry point, built the same way."""
    with open(INSTALL_TASKS, encoding="utf-8") as handle:
        tasks = yaml.safe_load(handle)
    for task in tasks:
        if "veza.coturn.python_program" in task:
            return build(MODULE_UTILS, task["veza.coturn.python_program"]["entry"])
    raise AssertionError("no veza.coturn.python_program task in %s" % INSTALL_TASKS)


def test_unwritable_metrics_file_is_status_2(tmp_path, capsys):
    path, config = make_config(tmp_path, static_env(tmp_path), [relay(3478)])
    os.mkdir(config["metrics"])
    status, out, err = run(capsys, path, probe=_fake_probe({}))
    assert (status, out) == (2, "")
    assert f"cannot write the metrics file {config['metrics']}" in err


# --------------------------------------------------------------------------
# Runs with a stand-in probe


def _fake_probe(failures, calls=None):
    """A probe that fails the listeners whose port is in failures (port -> class) and passes the rest."""

    def probe(params):
        if calls is not None:
            calls.append(params)
        steps = [{"name": "binding", "ok": True, "ms": 2.5, "detail": ""}]
        failure = None
        if params["port"] in failures:
            failure = {
                "class": failures[params["port"]],
                "explanation": f"binding: {params['host']} failed",
                "step": "allocate",
            }
        return {
            "failure": failure,
            "steps": steps,
            "server_software": "Coturn-4.6.1 'Gorst'",
            "relayed_address": f"{LOOP}:49152" if "allocate" in params["checks"] else None,
        }

    return probe


def test_exit_0_when_all_listeners_are_up(tmp_path, capsys):
    calls = []
    relays = [
        relay(3478, listeners=[listener(3478), listener(3478, "tcp"), listener(5349, "tls")]),
        relay(3479, name="second"),
    ]
    path, config = make_config(tmp_path, static_env(tmp_path), relays)
    status, out, err = run(capsys, path, probe=_fake_probe({}, calls), not_after=lambda *a: NOW + 86400, now=NOW)
    assert (status, err) == (0, "")
    assert out == "relay-watch: 4/4 listeners of 2 relays up\n"
    assert [(c["port"], c["transport"], c["checks"]) for c in calls] == [
        (3478, "udp", ["binding", "allocate"]),
        (3478, "tcp", ["binding", "allocate"]),
        (5349, "tls", ["binding", "allocate"]),
        (3479, "udp", ["binding", "allocate"]),
    ]
    assert "server_name" in calls[2] and "server_name" not in calls[0]
    text = metrics_of(config)
    assert text.count("veza_coturn_relay_up{") == 4 and " 0\n" not in text.split("# HELP veza_coturn_relay_rtt")[0]
    assert (
        'veza_coturn_tls_certificate_expiry_seconds{relay="coturn-local",listener="turns:127.0.0.1:5349?transport=tcp"} 86400'
        in text
    )
    assert "veza_coturn_relay_rtt_seconds{" in text and " 0.0025\n" in text
    assert "veza_coturn_watch_last_run_timestamp_seconds 1796408000\n" in text
    assert "veza_coturn_relay_failure" not in text


def test_exit_1_when_a_listener_fails_and_metrics_are_still_written(tmp_path, capsys):
    relays = [relay(3478, listeners=[listener(3478), listener(3480, "tcp")])]
    path, config = make_config(tmp_path, static_env(tmp_path), relays)
    status, out, err = run(capsys, path, probe=_fake_probe({3480: "unauthorized"}))
    assert status == 1
    assert out == "relay-watch: 1/2 listeners of 1 relay up\n"
    assert (
        err == f"relay-watch: coturn-local turn:{LOOP}:3480?transport=tcp FAILED unauthorized: binding: {LOOP} failed\n"
    )
    text = metrics_of(config)
    assert (
        f'veza_coturn_relay_up{{relay="coturn-local",listener="turn:{LOOP}:3480?transport=tcp",transport="tcp"}} 0'
        in text
    )
    assert (
        f'veza_coturn_relay_failure{{relay="coturn-local",listener="turn:{LOOP}:3480?transport=tcp",transport="tcp",class="unauthorized"}} 1'
        in text
    )


def test_checks_per_mode(tmp_path, capsys):
    calls = []
    relays = [relay(1, name="stun", stun_only=True), relay(2, name="peer", peer_address=LOOP)]
    path, config = make_config(tmp_path, static_env(tmp_path), relays)
    assert run(capsys, path, probe=_fake_probe({}, calls))[0] == 0
    assert [c["checks"] for c in calls] == [["binding"], ["binding", "allocate", "permission", "peer_first"]]
    assert "username" not in calls[0] and calls[1]["peer_address"] == LOOP
    calls.clear()
    off = write_env(tmp_path, "WEBRTC_TURN_USERNAME=\nWEBRTC_TURN_CREDENTIAL=\n")
    path, config = make_config(tmp_path, off, relays)
    status, out, err = run(capsys, path, probe=_fake_probe({}, calls))
    assert [c["checks"] for c in calls] == [["binding"], ["binding"]]
    assert out == f"relay-watch: 2/2 listeners of 2 relays up (binding only: TURN is off in {off})\n"
    assert "relayed_address_match" not in metrics_of(config) and "credential_expiry" not in metrics_of(config)


def test_a_crashing_probe_costs_one_listener_only(tmp_path, capsys):
    def probe(params):
        if params["port"] == 1:
            raise RuntimeError("boom")
        return _fake_probe({})(params)

    path, config = make_config(tmp_path, static_env(tmp_path), [relay(1, listeners=[listener(1), listener(2)])])
    status, out, err = run(capsys, path, probe=probe)
    assert status == 1 and "FAILED internal_error: RuntimeError: boom" in err
    assert 'class="internal_error"} 1' in metrics_of(config)


# --------------------------------------------------------------------------
# As the backend host runs it


def test_runs_as_the_one_file_the_role_installs(tmp_path):
    program = tmp_path / "relay_watch.pyz"
    program.write_bytes(installed_program())
    with FakeTurn() as server:
        path, config = make_config(tmp_path, static_env(tmp_path), [relay(server.port)])
        python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
        # -E -S: no PYTHONPATH and no site-packages, so nothing but the program's own files.
        done = subprocess.run(
            [python, "-E", "-S", str(program), "--config", path],
            cwd="/",
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "relay-watch: 1/1 listener of 1 relay up\n"
    assert "veza_coturn_relay_up{" in metrics_of(config)

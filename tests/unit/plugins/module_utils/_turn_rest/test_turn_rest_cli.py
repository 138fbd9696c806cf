# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The renewal program's command line (_turn_rest.cli, __main__), as the backend host's timer runs it.

The program is built the way the webrtc_backend_env role installs it (one
zipapp from the python_program action's builder, turn_rest.pyz) and run as
``python -E -S turn_rest.pyz`` (no site-packages, so no Ansible; no
PYTHONPATH) with the real clock. ``python -m`` on the package runs the same
program.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile

import pytest

from ansible_collections.veza.coturn.plugins.module_utils import _turn_rest as tr
from ansible_collections.veza.coturn.plugins.plugin_utils._zipapp import build

from turn_rest_files import NOW, OFF_ENV, SECRET, STATIC_ENV, snapshot, utc

PACKAGE = os.path.dirname(tr.__file__)
PACKAGE_PATH = os.path.join("ansible_collections", "veza", "coturn", "plugins", "module_utils", "_turn_rest")


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    """The renewal program as the role installs it: one zipapp, turn_rest.pyz."""
    lib = tmp_path_factory.mktemp("lib")
    (lib / "turn_rest.pyz").write_bytes(build(os.path.dirname(PACKAGE), "_turn_rest.cli"))
    os.makedirs(lib / PACKAGE_PATH)
    for name in sorted(os.listdir(PACKAGE)):
        if name.endswith(".py"):
            shutil.copy(os.path.join(PACKAGE, name), lib / PACKAGE_PATH / name)
    return lib


# --------------------------------------------------------------------------
# the command line, as the backend host's timer runs it


@pytest.fixture
def run_cli(program):
    def run(*args):
        # -E -S: no site-packages, no PYTHONPATH: the program runs on its own, as on a host without Ansible,
        # finding its package beside it (-I would also drop the program's own folder from sys.path).
        done = subprocess.run(
            [sys.executable, "-E", "-S", str(program / "turn_rest.pyz"), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
            cwd="/",
        )
        assert SECRET not in done.stdout + done.stderr
        return done

    return run


def appender(log):
    return json.dumps([sys.executable, "-c", "import sys; open(sys.argv[1], 'a').write('reload\\n')", str(log)])


def credentials_in(env):
    return [
        line.split("=", 1)[1] for line in env.read_text().splitlines() if line.startswith("WEBRTC_TURN_CREDENTIAL=")
    ]


def test_cli_reloads_once_per_change(due, tmp_path, run_cli):
    env, ice = due
    log = tmp_path / "reloads.log"
    old_credential = credentials_in(env)
    first = run_cli("renew", "--env", str(env), "--ice", str(ice), "--reload-command", appender(log))
    assert first.returncode == 0 and first.stderr == ""
    username = re.search(r"(?m)^WEBRTC_TURN_USERNAME=(.*)$", env.read_text()).group(1)
    assert first.stdout == (
        f"renewed: {env} and {ice} now hold username {username}, expires {utc(int(username))}; " "reload command run\n"
    )
    for credential in old_credential + credentials_in(env):
        assert credential not in first.stdout + first.stderr
    assert log.read_text() == "reload\n"
    second = run_cli("renew", "--env", str(env), "--ice", str(ice), "--reload-command", appender(log))
    assert second.returncode == 0 and second.stderr == ""
    assert second.stdout == (
        f"kept: {env} holds username {username}, expires {utc(int(username))}; "
        f"renewal due from {utc(int(username) - 43200)}\n"
    )
    assert log.read_text() == "reload\n"
    assert sorted(os.listdir(tmp_path)) == ["ice_servers.json", "reloads.log", "webrtc.env"]


def test_cli_without_reload_command(due, run_cli):
    env, ice = due
    done = run_cli("renew", "--env", str(env), "--ice", str(ice))
    assert (
        done.returncode == 0 and done.stdout.startswith("renewed: ") and done.stdout.endswith("; no reload command\n")
    )


def test_cli_failed_reload_puts_the_files_back_and_the_next_run_retries(due, tmp_path, run_cli):
    env, ice = due
    before = [env.read_bytes(), ice.read_bytes()]
    # a reload that fails after printing the env file: its output must not reach ours
    failing = json.dumps([sys.executable, "-c", "import sys; print(open(sys.argv[1]).read()); sys.exit(3)", str(env)])
    done = run_cli("renew", "--env", str(env), "--ice", str(ice), "--reload-command", failing)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "exited with status 3" in done.stderr and "put back the previous" in done.stderr
    assert [env.read_bytes(), ice.read_bytes()] == before
    log = tmp_path / "reloads.log"
    again = run_cli("renew", "--env", str(env), "--ice", str(ice), "--reload-command", appender(log))
    assert again.returncode == 0 and again.stdout.startswith("renewed: ") and log.read_text() == "reload\n"


def test_cli_reload_command_that_cannot_start(due, run_cli):
    env, ice = due
    before = [env.read_bytes(), ice.read_bytes()]
    done = run_cli("renew", "--env", str(env), "--ice", str(ice), "--reload-command", '["/nonexistent/reload"]')
    assert done.returncode == 1 and "could not be started (No such file or directory)" in done.stderr
    assert [env.read_bytes(), ice.read_bytes()] == before


@pytest.mark.parametrize("command", ["systemctl reload backend", "[]", '[""]', '["a", 1]', '"x"', "{}"])
def test_cli_refuses_a_reload_command_that_is_not_an_argv(due, command, run_cli):
    env, ice = due
    before = snapshot(env, ice)
    done = run_cli("renew", "--env", str(env), "--ice", str(ice), "--reload-command", command)
    assert done.returncode == 1 and done.stdout == "" and done.stderr.count("\n") == 1
    assert "argument --reload-command: must be a JSON list of non-empty strings" in done.stderr
    assert snapshot(env, ice) == before


@pytest.mark.parametrize("text", [STATIC_ENV, OFF_ENV])
def test_cli_static_and_turn_off_are_skipped_without_reload(tmp_path, text, run_cli):
    env = tmp_path / "webrtc.env"
    env.write_text(text)
    log = tmp_path / "reloads.log"
    done = run_cli("renew", "--env", str(env), "--ice", str(tmp_path / "ice.json"), "--reload-command", appender(log))
    assert done.returncode == 0
    assert done.stdout == (
        f"skipped: {env} has no WEBRTC_TURN_SHARED_SECRET (static credentials or TURN off); " "nothing to renew\n"
    )
    assert env.read_text() == text and not log.exists() and not (tmp_path / "ice.json").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["renew", "--env", "/nonexistent/webrtc.env", "--ice", "/nonexistent/ice.json"],
            "renew: cannot read the env file /nonexistent/webrtc.env: No such file or directory",
        ),
        (["renew", "--env", "x"], "renew takes either --config FILE or both --env FILE and --ice FILE"),
        (
            ["renew", "--config", "c.json", "--env", "x", "--ice", "y"],
            "renew takes either --config FILE or both --env FILE and --ice FILE",
        ),
        (
            ["renew", "--config", "/nonexistent/renew.json"],
            "renew: cannot read the renewal settings /nonexistent/renew.json: No such file or directory",
        ),
        ([], "the following arguments are required: COMMAND"),
        (
            ["renew", "--env", "x", "--ice", "y", "--margin", "-5"],
            "argument --margin: must be a whole number of seconds, 0 or more",
        ),
    ],
)
def test_cli_failures_are_one_line_and_status_1(args, message, run_cli):
    done = run_cli(*args)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and message in done.stderr


def test_cli_bad_secret_is_not_echoed(due, run_cli):
    env, ice = due
    env.write_text(env.read_text().replace(SECRET, "hunter2-short"))
    done = run_cli("renew", "--env", str(env), "--ice", str(ice))
    assert done.returncode == 1
    assert (
        "WEBRTC_TURN_SHARED_SECRET: the shared secret must be a string of at least 16 characters (got 13)"
        in done.stderr
    )
    assert "hunter2" not in done.stderr


def test_main_in_process_with_a_fixed_clock(deployed, capsys):
    env, ice = deployed
    assert tr.main(["renew", "--env", str(env), "--ice", str(ice), "--margin", "600"], now=NOW + 100) == 0
    out = capsys.readouterr()
    assert out.out == (
        f"renewed: {env} and {ice} now hold username {NOW + 700}, expires 2023-11-14T22:25:00Z; " "no reload command\n"
    )
    assert out.err == ""


def write_config(path, **config):
    path.write_text(json.dumps(config))
    return str(path)


def test_cli_config_file_splits_the_reload_command_line_without_a_shell(due, tmp_path, run_cli):
    env, ice = due
    log = tmp_path / "reloads.log"
    # A ';' and a quoted argument: shlex keeps both as arguments, no shell runs.
    line = " ".join(shlex.quote(arg) for arg in json.loads(appender(log))) + " ';' 'two words'"
    config = write_config(tmp_path / "renew.json", env=str(env), ice=str(ice), reload_command_line=line)
    first = run_cli("renew", "--config", config)
    assert (
        first.returncode == 0 and first.stdout.startswith("renewed: ") and first.stdout.endswith("reload command run\n")
    )
    assert log.read_text() == "reload\n"
    second = run_cli("renew", "--config", config)
    assert second.returncode == 0 and second.stdout.startswith("kept: ") and log.read_text() == "reload\n"


@pytest.mark.parametrize(
    "config, message",
    [
        ({"env": "x"}, 'must be a JSON object with the paths "env" and "ice"'),
        ({"env": "x", "ice": "y", "reload_command_line": "a 'b"}, "reload_command_line in"),
        ({"env": "x", "ice": "y", "reload_command_line": ["a"]}, "reload_command_line in"),
        ({"env": "x", "ice": "y", "margin": -1}, "margin in"),
    ],
)
def test_cli_config_file_refused(tmp_path, config, message, run_cli):
    done = run_cli("renew", "--config", write_config(tmp_path / "renew.json", **config))
    assert done.returncode == 1 and done.stdout == "" and done.stderr.count("\n") == 1 and message in done.stderr


def test_the_program_and_python_m_name_themselves_as_before_the_package(program):
    # The installed program is turn_rest.pyz; python -m on the package still says _turn_rest.py, as the module file did.
    installed = subprocess.run(
        [sys.executable, "-E", "-S", str(program / "turn_rest.pyz")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd="/",
    )
    assert (installed.returncode, installed.stdout) == (1, "")
    assert installed.stderr == "turn_rest.pyz: the following arguments are required: COMMAND (see --help)\n"
    module = subprocess.run(
        [sys.executable, "-S", "-m", "ansible_collections.veza.coturn.plugins.module_utils._turn_rest"],
        env={"PYTHONPATH": str(program)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd="/",
    )
    assert (module.returncode, module.stdout) == (1, "")
    assert module.stderr == "_turn_rest.py: the following arguments are required: COMMAND (see --help)\n"
    assert not (program / "__init__.py").exists()  # ansible_collections and below: namespace packages up to _turn_rest


def test_the_program_holds_the_package_as_it_is(program):

    with zipfile.ZipFile(program / "turn_rest.pyz") as archive:
        for name in sorted(os.listdir(PACKAGE)):
            if name.endswith(".py"):
                with open(os.path.join(PACKAGE, name), "rb") as handle:
                    assert archive.read(PACKAGE_PATH + "/" + name) == handle.read()

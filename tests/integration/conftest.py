# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for the integration tests: run ansible-playbook, snapshot the host.

Both are also fixtures of the same names (test modules should not import a
``conftest``: tests/unit has one too).

``run_playbook`` runs a playbook of this checkout against ``inventory/local``
with JSON extra vars (so that types survive). ``host_state`` returns what a
run must not change on this machine: Incus instances, managed networks and
image aliases, network namespaces and addresses, the nftables ruleset, and
the files the roles write in the backend container (``backend.py``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import pytest

import backend

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(REPO, ".venv", "bin", "ansible-playbook")
if not os.path.exists(ANSIBLE_PLAYBOOK):
    ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")


def run_playbook(extra_vars, playbook="playbooks/site.yml", inventory="inventory/local", tags=None, timeout=120):
    """Run ``ansible-playbook``; return (rc, stdout + stderr).

    Results are printed as one JSON object a line (``fatal: [h]: FAILED! =>
    {...}``) so that messages can be read back exactly.
    """
    text = json.dumps(extra_vars)
    if len(text) > 100000:
        # One argument may not exceed 128 KiB (MAX_ARG_STRLEN): pass a file.
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write(text)
        text = "@" + f.name
    cmd = [ANSIBLE_PLAYBOOK, playbook, "-i", inventory, "-e", text]
    if tags:
        cmd += ["--tags", ",".join(tags)]
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
        ANSIBLE_CALLBACK_RESULT_FORMAT="json",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
    )
    proc = subprocess.run(
        cmd,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    if text.startswith("@"):
        os.unlink(text[1:])
    return proc.returncode, proc.stdout


def _run(*cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=True).stdout


def _incus(path):
    return json.loads(_run("incus", "query", path))


def host_state():
    """What a failed preflight must leave untouched, as comparable data."""
    instances = {
        i["name"]: {
            "status": i["status"],
            "config": {k: v for k, v in i["config"].items() if not k.startswith("volatile.")},
            "devices": i["devices"],
        }
        for i in _incus("/1.0/instances?recursion=1")
    }
    networks = {n["name"]: n["config"] for n in _incus("/1.0/networks?recursion=1") if n["managed"]}
    aliases = {a["name"]: a["target"] for a in _incus("/1.0/images/aliases?recursion=1")}
    return {
        "instances": instances,
        "networks": networks,
        "image_aliases": aliases,
        "netns": sorted(_run("ip", "netns", "list").splitlines()),
        "addresses": sorted(_run("ip", "-br", "addr").splitlines()),
        "nft_ruleset": _run("nft", "list", "ruleset"),
        "backend_files": backend.state(),
        # The package checks of preflight fetch lists into a scratch folder:
        # the host's packages, sources and lists stay as they were.
        "packages": _run("dpkg-query", "-W", "-f", "${Package} ${Version} ${db:Status-Abbrev}\n"),
        "apt_sources_and_lists": _tree_state("/etc/apt/sources.list.d", "/var/lib/apt/lists"),
        "containers": {
            name: _container_state(name)
            for name, i in instances.items()
            if i["status"] == "Running" and name.startswith("coturn-")
        },
    }


def _tree_state(*folders):
    """(mtime, size) of every file directly in the folders."""
    state = {}
    for folder in folders:
        for entry in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
            path = os.path.join(folder, entry)
            if os.path.isfile(path) and entry != "lock":
                info = os.stat(path)
                state[path] = (info.st_mtime_ns, info.st_size)
    return state


# Inside each running coturn container: the files the roles write and the
# process they restart. Checksums only: the userdb holds secrets.
_CONTAINER_FILES = (
    "/etc/turnserver.conf",
    "/var/lib/turn/turndb",
    "/etc/systemd/system/coturn.service.d/hardening.conf",
    "/etc/coturn/cert.pem",
    "/etc/coturn/key.pem",
)


def _container_state(name):
    script = (
        'for f in %s; do [ -e "$f" ] && sha256sum "$f"; done; '
        "systemctl show -p MainPID --value coturn" % " ".join(_CONTAINER_FILES)
    )
    return _run("incus", "exec", name, "--", "sh", "-c", script)


@pytest.fixture(name="run_playbook", scope="session")
def _run_playbook_fixture():
    return run_playbook


@pytest.fixture(name="host_state", scope="session")
def _host_state_fixture():
    return host_state

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credentials both sides agree on, proven on the deployed local site.

Deploys ``inventory/local`` (what ``make deploy`` does), then checks with
coturn's own client and with turn_probe, from the simulated internet, that
the env file's credential allocates, that expired or foreign credentials are
refused, that changing the declared secrets re-syncs coturn's userdb without
a restart, and that static mode works the same way. The site is put back to
its defaults at the end.

Runs only as root with VEZA_INTEGRATION=1 (``make integration``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import time

import pytest

import backend

from ansible_collections.veza.coturn.plugins.module_utils._turn_probe import run_probe

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(REPO, ".venv", "bin", "ansible-playbook")
SECRET_FILE = os.path.join(REPO, "output", "secrets", "coturn_auth_secret")
PUBLIC_IP = "198.51.100.1"
CLIENT_NS, PEER_NS, PEER_IP = "vz-client", "vz-peer", "198.51.100.20"
INSTANCE = "coturn-local"

pytestmark = pytest.mark.skipif(
    os.environ.get("VEZA_INTEGRATION") != "1"
    or os.geteuid() != 0
    or not shutil.which("incus")
    or not shutil.which("turnutils_uclient"),
    reason="needs VEZA_INTEGRATION=1, root, Incus and coturn's client tools",
)


def deploy(extra=None, skip_verify=False, verbose=False):
    """Run site.yml on the local inventory; return (rc, recap {host: counts}, output)."""
    cmd = [PLAYBOOK, "playbooks/site.yml", "-i", "inventory/local"] + (["-vvv"] if verbose else [])
    if extra:
        cmd += ["-e", json.dumps(extra)]
    if skip_verify:
        cmd += ["--skip-tags", "verify"]
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900, check=False)
    recap = {
        m.group(1): {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
        for m in re.finditer(r"^(\S+)\s+:\s+(ok=.*)$", proc.stdout, re.M)
    }
    return proc.returncode, recap, proc.stdout + proc.stderr


def env_file():
    """The backend container's env file (backend.py)."""
    return backend.env_file()


def coturn_pid():
    out = subprocess.run(
        ["incus", "exec", INSTANCE, "--", "systemctl", "show", "-p", "MainPID", "--value", "coturn"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out not in ("", "0"), "coturn is not running"
    return out


def uclient(username, password):
    """coturn's own client from the simulated internet, two allocations relaying."""
    return subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            CLIENT_NS,
            "timeout",
            "20",
            "turnutils_uclient",
            "-u",
            username,
            "-w",
            password,
            "-y",
            "-n",
            "10",
            "-m",
            "1",
            "-l",
            "120",
            PUBLIC_IP,
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def probe(username, password, checks=("allocate", "permission", "peer_first")):
    return run_probe(
        dict(
            host=PUBLIC_IP,
            username=username,
            password=password,
            netns=CLIENT_NS,
            peer_netns=PEER_NS,
            peer_address=PEER_IP,
            expected_relayed_ip=PUBLIC_IP,
            checks=list(checks),
            timeout=3,
        )
    )


def secret_values():
    """Every secret the local site holds: generated files and the env file's."""
    values = []
    secrets_dir = os.path.dirname(SECRET_FILE)
    for name in os.listdir(secrets_dir):
        with open(os.path.join(secrets_dir, name), encoding="utf-8") as handle:
            values.append(handle.read().strip())
    env = env_file()
    values += [env[k] for k in ("WEBRTC_TURN_CREDENTIAL", "WEBRTC_TURN_SHARED_SECRET") if k in env]
    assert all(len(v) >= 8 for v in values)
    return values


def assert_no_secret_in(output):
    leaked = [v[:4] + "..." for v in secret_values() if v in output]
    assert not leaked, f"secrets in the playbook output: {leaked}"


def rest_credential(secret, expires_at):
    username = str(expires_at)
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


@pytest.fixture(scope="module")
def site():
    rc, recap, out = deploy()
    assert rc == 0, out[-3000:]
    yield
    rc, recap, out = deploy()
    assert rc == 0, out[-3000:]


def test_rest_env_credential_allocates(site):
    env = env_file()
    assert env["WEBRTC_TURN_URLS"].startswith(f"turn:{PUBLIC_IP}:3478")
    assert env["WEBRTC_TURN_CREDENTIAL_TTL"] == "86400"
    result = uclient(env["WEBRTC_TURN_USERNAME"], env["WEBRTC_TURN_CREDENTIAL"])
    assert "Total lost packets 0 (0.000000%)" in result.stdout, result.stdout[-2000:] + result.stderr
    probed = probe(env["WEBRTC_TURN_USERNAME"], env["WEBRTC_TURN_CREDENTIAL"])
    assert probed["failure"] is None, probed["failure"]
    assert probed["relayed_address"].split(":")[0] == PUBLIC_IP


def test_env_file_and_ice_servers_are_private(site):
    for path in (backend.ENV_PATH, backend.ICE_PATH):
        assert backend.stat(path) == ("600", "root", "root"), path
    servers = json.loads(backend.read(backend.ICE_PATH))
    env = env_file()
    assert servers[0] == {"urls": [f"stun:{PUBLIC_IP}:3478"]}
    assert servers[1]["username"] == env["WEBRTC_TURN_USERNAME"]
    assert servers[1]["credential"] == env["WEBRTC_TURN_CREDENTIAL"]


def test_no_secret_in_verbose_output(site):
    rc, recap, out = deploy(verbose=True)
    assert rc == 0, out[-3000:]
    assert "Validating arguments" in out and "Sync the credentials" in out
    assert_no_secret_in(out)


def test_expired_credential_is_refused(site):
    with open(SECRET_FILE, encoding="utf-8") as handle:
        secret = handle.read().strip()
    username, password = rest_credential(secret, int(time.time()) - 60)
    probed = probe(username, password, checks=("allocate",))
    assert probed["failure"]["class"] == "unauthorized", probed["failure"]
    assert "Total lost packets 0" not in uclient(username, password).stdout


def test_credential_from_a_foreign_secret_gets_401(site):
    username, password = rest_credential("not-the-secret-coturn-holds-0123456789", int(time.time()) + 600)
    probed = probe(username, password, checks=("allocate",))
    assert probed["failure"]["class"] == "unauthorized"
    assert "401" in probed["failure"]["explanation"]


def test_changing_secrets_resyncs_without_restart(site):
    with open(SECRET_FILE, encoding="utf-8") as handle:
        old = handle.read().strip()
    new = "IntegrationRotationSecret0123456789abcdef"
    pid = coturn_pid()
    rc, recap, out = deploy({"veza_turn_secrets": [new, old]}, skip_verify=True)
    assert rc == 0, out[-3000:]
    assert recap[INSTANCE]["changed"] >= 1
    assert coturn_pid() == pid, "coturn restarted for a credential change"
    for secret in (new, old):
        probed = probe(*rest_credential(secret, int(time.time()) + 600), checks=("allocate",))
        assert probed["failure"] is None, probed["failure"]
    env = env_file()
    assert env["WEBRTC_TURN_SHARED_SECRET"] == new
    assert probe(env["WEBRTC_TURN_USERNAME"], env["WEBRTC_TURN_CREDENTIAL"])["failure"] is None
    rc, recap, out = deploy({"veza_turn_secrets": [new, old]}, skip_verify=True)
    assert rc == 0 and all(counts["changed"] == 0 for counts in recap.values()), recap
    # Back to the old secret alone: the new one is refused at once, still no restart.
    rc, recap, out = deploy(skip_verify=True)
    assert rc == 0, out[-3000:]
    assert coturn_pid() == pid
    probed = probe(*rest_credential(new, int(time.time()) + 600), checks=("allocate",))
    assert probed["failure"]["class"] == "unauthorized"


def test_static_mode_env_credential_allocates(site):
    rc, recap, out = deploy({"veza_turn_auth": "static"}, verbose=True)
    assert rc == 0, out[-3000:]
    assert_no_secret_in(out)
    env = env_file()
    assert env["WEBRTC_TURN_USERNAME"] == "veza"
    assert "WEBRTC_TURN_SHARED_SECRET" not in env
    result = uclient(env["WEBRTC_TURN_USERNAME"], env["WEBRTC_TURN_CREDENTIAL"])
    assert "Total lost packets 0 (0.000000%)" in result.stdout, result.stdout[-2000:] + result.stderr
    assert probe("veza", "wrong-password-for-veza", checks=("allocate",))["failure"]["class"] == "unauthorized"
    rc, recap, out = deploy({"veza_turn_auth": "static"}, skip_verify=True)
    assert rc == 0 and all(counts["changed"] == 0 for counts in recap.values()), recap

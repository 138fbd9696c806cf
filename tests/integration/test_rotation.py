# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/rotate_credentials.yml on the deployed local site.

While the rotation runs, two allocations made with the old credential
exchange packets through the relay, and a watcher allocates with whatever
credential the backend env file holds at that moment: nothing may be lost,
no allocation may be refused, and coturn's main PID may not change.

Runs only as root with VEZA_INTEGRATION=1 (``make integration``).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import threading
import time

import pytest

from ansible_collections.veza.coturn.plugins.module_utils import _stun

import backend
import test_credentials
from test_credentials import CLIENT_NS, PUBLIC_IP, REPO, coturn_pid, deploy, env_file, probe

# Skipped under the same conditions as test_credentials.
pytestmark = test_credentials.pytestmark

PLAYBOOK = os.path.join(REPO, ".venv", "bin", "ansible-playbook")
STATE_FILE = os.path.join(REPO, "output", "secrets", "rotation.json")
# In the backend container, where the reload command runs.
RELOAD_LOG = "/root/veza-test-rotation-reloads"
# The backend's reload command in every run of this module, rotations and
# deploys alike: the role also writes it into the renewal settings, so a
# deploy without it would change that file.
RELOAD_COMMAND = f'sh -c "echo reload >> {RELOAD_LOG}"'
# Every loop below is bounded by this.
MAX_SECONDS = 240


def rotate(*extra, wait=True):
    """Run rotate_credentials.yml; return the Popen (wait=False) or (rc, output)."""
    cmd = [
        PLAYBOOK,
        "playbooks/rotate_credentials.yml",
        "-i",
        "inventory/local",
        "-e",
        json.dumps({"webrtc_backend_env_reload_command": RELOAD_COMMAND}),
    ]
    for item in extra:
        cmd += ["-e", item]
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    if not wait:
        return proc
    out, _err = proc.communicate(timeout=MAX_SECONDS)
    return proc.returncode, out


def recap_changed(output):
    import re

    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)", output, re.M)}


class Relay:
    """Two allocations of the same client side, relaying to each other."""

    def __init__(self, username, password):
        self.clients = []
        deadline = time.monotonic() + 5
        for _side in range(2):
            with _stun.netns(CLIENT_NS):
                transport = _stun.UdpTransport.open(PUBLIC_IP, 3478)
            client = _stun.TurnClient(transport, username, password)
            try:
                client.allocate(deadline)
            except _stun.StunErrorResponse as exc:
                if exc.code != 401:
                    raise
                client.learn_challenge(exc.message)
            else:
                raise AssertionError("the first Allocate was not challenged")
            answer = client.allocate(deadline)
            client.relayed = answer.xor_address(_stun.XOR_RELAYED_ADDRESS)
            self.clients.append(client)
        a, b = self.clients
        a.create_permission([b.relayed], deadline)
        b.create_permission([a.relayed], deadline)
        a.channel_bind(0x4000, b.relayed, deadline)
        b.channel_bind(0x4000, a.relayed, deadline)
        self.sent = self.received = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        a, b = self.clients
        end = time.monotonic() + MAX_SECONDS
        while not self.stop.is_set() and time.monotonic() < end:
            for src, dst in ((a, b), (b, a)):
                payload = b"seq%08d" % self.sent
                src.send_channel(0x4000, payload)
                self.sent += 1
                got = dst.recv_data(time.monotonic() + 1.0)
                if got is not None and got[1] == payload:
                    self.received += 1
            time.sleep(0.02)

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5)
        for client in self.clients:
            client.close()


class Watcher:
    """Allocates with the backend env's credential of the moment, all along."""

    def __init__(self):
        self.refused, self.checked, self.versions = [], 0, []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        end = time.monotonic() + MAX_SECONDS
        while not self.stop.is_set() and time.monotonic() < end:
            env = env_file()
            digest = hashlib.sha256(json.dumps(env, sort_keys=True).encode()).hexdigest()
            if not self.versions or self.versions[-1] != digest:
                self.versions.append(digest)
            result = probe(env["WEBRTC_TURN_USERNAME"], env["WEBRTC_TURN_CREDENTIAL"], checks=("allocate",))
            self.checked += 1
            if result["failure"] is not None:
                self.refused.append(result["failure"]["explanation"])
            time.sleep(0.3)

    def close(self):
        self.stop.set()
        self.thread.join(timeout=10)


def deploy_site():
    """site.yml without verify, with this module's reload command; (rc, recap, output)."""
    return deploy({"webrtc_backend_env_reload_command": RELOAD_COMMAND}, skip_verify=True)


@pytest.fixture(scope="module")
def deployed_site():
    """One deploy before the first test and one without the reload command after the last; each test's teardown deploys."""
    rc, _recap, out = deploy_site()
    assert rc == 0, out[-3000:]
    yield
    rc, _recap, out = deploy(skip_verify=True)
    assert rc == 0, out[-3000:]


@pytest.fixture()
def clean_site(deployed_site):  # pylint: disable=unused-argument
    """The site as deployed (by the module's first deploy or the previous test's teardown), no rotation state."""
    if os.path.exists(STATE_FILE):
        os.unlink(STATE_FILE)
    backend.sh(f"rm -f {RELOAD_LOG}")
    yield
    if os.path.exists(STATE_FILE):  # a failed test must not leave a rotation half done
        rotate("credential_rotation_grace_seconds=0")
    rc, _recap, out = deploy_site()
    assert rc == 0, out[-3000:]


def reloads():
    """How often the backend's reload command ran in the backend container."""
    return len(backend.sh(f"cat {RELOAD_LOG} 2>/dev/null; true").split())


def test_rotation_drops_nothing_and_restarts_nothing(clean_site):
    old = env_file()
    pid = coturn_pid()
    relay = Relay(old["WEBRTC_TURN_USERNAME"], old["WEBRTC_TURN_CREDENTIAL"])
    watcher = Watcher()
    relay.thread.start()
    watcher.thread.start()
    try:
        rc, out = rotate(
            "credential_rotation_start=true", "credential_rotation_grace_seconds=5", "credential_rotation_wait=true"
        )
        assert rc == 0, out[-3000:]
        time.sleep(1)
    finally:
        relay.close()
        watcher.close()
    assert relay.sent > 100 and relay.received == relay.sent, (relay.sent, relay.received)
    assert watcher.checked > 5 and not watcher.refused, watcher.refused
    assert len(watcher.versions) == 2, "the backend env file should change exactly once"
    assert reloads() == 1
    assert coturn_pid() == pid
    assert not os.path.exists(STATE_FILE)

    new = env_file()
    assert new["WEBRTC_TURN_SHARED_SECRET"] != old["WEBRTC_TURN_SHARED_SECRET"]
    refused = probe(old["WEBRTC_TURN_USERNAME"], old["WEBRTC_TURN_CREDENTIAL"], checks=("allocate",))
    assert refused["failure"]["class"] == "unauthorized"
    assert probe(new["WEBRTC_TURN_USERNAME"], new["WEBRTC_TURN_CREDENTIAL"])["failure"] is None

    rc, out = rotate()
    assert rc == 0 and all(n == 0 for n in recap_changed(out).values()), out[-2000:]
    rc, recap, out = deploy_site()
    assert rc == 0 and all(c["changed"] == 0 for c in recap.values()), recap


def test_stop_after_switch_then_retire(clean_site):
    old = env_file()
    # The names the options had before the rotation was a role are refused, not ignored.
    rc, out = rotate("rotate_start=true")
    assert rc != 0 and "rotate_start is now credential_rotation_start" in out, out[-2000:]
    assert not os.path.exists(STATE_FILE)
    rc, out = rotate("credential_rotation_start=true", "credential_rotation_grace_seconds=3")
    assert rc == 0 and "Run this playbook again" in out, out[-2000:]
    switched = env_file()
    assert switched["WEBRTC_TURN_SHARED_SECRET"] != old["WEBRTC_TURN_SHARED_SECRET"]
    # Both are accepted until retirement.
    for env in (old, switched):
        assert (
            probe(env["WEBRTC_TURN_USERNAME"], env["WEBRTC_TURN_CREDENTIAL"], checks=("allocate",))["failure"] is None
        )
    time.sleep(3.5)
    rc, out = rotate()
    assert rc == 0, out[-2000:]
    assert env_file() == switched and reloads() == 1
    assert (
        probe(old["WEBRTC_TURN_USERNAME"], old["WEBRTC_TURN_CREDENTIAL"], checks=("allocate",))["failure"]["class"]
        == "unauthorized"
    )


@pytest.mark.parametrize("interrupt_when", ["state_written", "env_switched"])
def test_interrupted_rotation_converges(clean_site, interrupt_when):
    watcher = Watcher()
    watcher.thread.start()
    try:
        before = backend.read()
        proc = rotate(
            "credential_rotation_start=true",
            "credential_rotation_grace_seconds=30",
            "credential_rotation_wait=true",
            wait=False,
        )
        end = time.monotonic() + 120
        while time.monotonic() < end and proc.poll() is None:
            if interrupt_when == "state_written" and os.path.exists(STATE_FILE):
                break
            if interrupt_when == "env_switched" and backend.read() != before:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the rotation ended before it could be interrupted"
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C
        proc.communicate(timeout=60)
        assert os.path.exists(STATE_FILE)
        rc, out = rotate("credential_rotation_grace_seconds=2", "credential_rotation_wait=true")
        assert rc == 0, out[-3000:]
        time.sleep(0.5)
    finally:
        watcher.close()
    assert watcher.checked > 3 and not watcher.refused, watcher.refused
    assert not os.path.exists(STATE_FILE)
    rc, recap, out = deploy_site()
    assert rc == 0 and all(c["changed"] == 0 for c in recap.values()), recap

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credential rotation: how soon the new credential allocates, and what a live call loses meanwhile.

The collection's way: `playbooks/rotate_credentials.yml` (start, grace 5 s,
wait: add, switch, grace, retire, store) on the benchmark's own relay
(benchmarks/inventories/deploy: bench-deploy at 198.51.100.193), so that the
local site's secrets are not rotated. The seed's way, side by side in the
same run: its operational note (change the static `user=` in
turnserver.conf and reload coturn; Debian's unit has no reload, so coturn
restarts), that is benchmarks/seed_sequence.sh run again with the new
password, on bench-seed (198.51.100.194).

For each, while it runs:

- a live session (a UDP allocation made with the OLD credential from the
  client namespace vz-dclient, a channel to turnutils_peer in vz-dpeer)
  sends 50 packets a second through the relay and counts the echoes;
- a prober allocates with the NEW credential (minted from the new secret,
  or the new static password) every 0.25 s, with the collection's STUN
  client (plugins/module_utils/_stun), until it succeeds, then checks
  every 2 s whether the OLD credential is still accepted.

Figures: seconds from the start until the new credential allocates on every
relay, seconds until the old one is refused, the run's total, and packets
sent, echoed and lost by the live session.

The two alternate which goes first over --rounds rounds (each rotates from
the credential the round before left); the figures are medians.

    .venv/bin/python benchmarks/rotation.py [--rounds 3] [--rate 50] [--grace 5] [--window 20] [--keep]

Needs root and the image debian-12-coturn (`make deploy`); deploys
bench-deploy and bench-seed itself when they are missing and removes them
(and vz-dinet) at the end unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".collections"))

# pylint: disable=wrong-import-position
from _common import REPO, VENV_BIN, ansible_env, plot_path, progress, section, write_result  # noqa: E402
from ansible_collections.veza.coturn.plugins.module_utils import _stun  # noqa: E402
from ansible_collections.veza.coturn.plugins.module_utils import _turn_rest  # noqa: E402

NAME = "rotation"
INVENTORY = "benchmarks/inventories/deploy"
OUTPUT = os.path.join(REPO, "output", "bench-deploy")
SECRET_FILE = os.path.join(OUTPUT, "secrets", "coturn_auth_secret")
STATE_FILE = os.path.join(OUTPUT, "secrets", "rotation.json")
SEED = os.path.join(REPO, "benchmarks", "seed_sequence.sh")
SEED_TLS_DIR = os.path.join(OUTPUT, "seed-tls")
SITE_RELAY = "198.51.100.193"
SEED_RELAY = "198.51.100.194"
CLIENT_NS = "vz-dclient"
PEER_NS = "vz-dpeer"
PEER = ("198.51.100.210", 3480)
TIMEOUT = 300  # every loop and run below is bounded by this
CHANNEL = 0x4000


COLL = "rotate_credentials.yml (collection)"
SEED_LABEL = "seed: new user= in turnserver.conf, restart"


def rest(secret, user):
    """A REST credential of secret, minted afresh at each call."""

    def credential():
        minted = _turn_rest.mint(secret, 600, user=user)
        return minted["username"], minted["credential"]

    return credential


def rotate(handle, new_secret, grace):
    """Start rotate_credentials.yml (start, wait, grace) with new_secret; the Popen."""
    fd, vars_file = tempfile.mkstemp(suffix=".json")
    with os.fdopen(fd, "w") as vars_handle:  # mode 0600: the new secret never on a command line
        json.dump({"credential_rotation_new_secret": new_secret}, vars_handle)
    try:
        return subprocess.Popen(  # pylint: disable=consider-using-with
            [
                os.path.join(VENV_BIN, "ansible-playbook"),
                "-i",
                INVENTORY,
                "playbooks/rotate_credentials.yml",
                "-e",
                "credential_rotation_start=true",
                "-e",
                f"credential_rotation_grace_seconds={grace}",
                "-e",
                "credential_rotation_wait=true",
                "-e",
                "@" + vars_file,
            ],
            cwd=REPO,
            # profile_tasks stamps every task with the time since the first: the phases' timeline.
            env=ansible_env(ANSIBLE_NOCOLOR="1", ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks"),
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    finally:
        # ansible-playbook reads it at start-up; give it the time to.
        threading.Timer(20, os.unlink, [vars_file]).start()


def run_playbook(args, log, extra_env=None):
    env = ansible_env(ANSIBLE_NOCOLOR="1", **(extra_env or {}))
    with open(log, "w", encoding="utf-8") as handle:
        proc = subprocess.run(
            [os.path.join(VENV_BIN, "ansible-playbook"), "-i", INVENTORY] + args,
            cwd=REPO,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            timeout=TIMEOUT * 2,
            check=False,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"ansible-playbook {' '.join(args)} failed (rc {proc.returncode}), see {log}")


def seed_env(password):
    return dict(os.environ, WEBRTC_TURN_CREDENTIAL=password, SEED_TLS_DIR=SEED_TLS_DIR, SMOKE_NETNS="")


def container_exists(name):
    return subprocess.run(["incus", "info", name], capture_output=True, check=False, timeout=60).returncode == 0


def allocate(host, username, password, deadline):
    """One fresh allocation from the client namespace; a TurnClient holding it, or raises."""
    with _stun.netns(CLIENT_NS):
        transport = _stun.UdpTransport.open(host, 3478)
    client = _stun.TurnClient(transport, username, password, software="veza.coturn rotation benchmark")
    try:
        try:
            client.allocate(deadline)
        except _stun.StunErrorResponse as exc:
            if exc.code != 401:
                raise
            client.learn_challenge(exc.message)
        client.relayed = client.allocate(deadline, lifetime=600).xor_address(_stun.XOR_RELAYED_ADDRESS)
    except BaseException:
        client.close()
        raise
    return client


def accepted(host, username, password):
    """Does the relay allocate with this credential now? (releases the allocation)"""
    try:
        client = allocate(host, username, password, time.monotonic() + 1.0)
    except (_stun.StunError, OSError):
        return False
    try:
        client.refresh(time.monotonic() + 1.0, lifetime=0)
    except (_stun.StunError, OSError):
        pass
    client.close()
    return True


class LiveSession:
    """An allocation made with the old credential, sending RATE packets/s to the peer echo."""

    def __init__(self, host, username, password, rate):
        self.client = allocate(host, username, password, time.monotonic() + 5)
        deadline = time.monotonic() + 5
        self.client.create_permission([PEER], deadline)
        self.client.channel_bind(CHANNEL, PEER, deadline)
        self.rate = rate
        self.sent = 0
        self.echoed = set()
        self.errors = []
        self.timeline = []  # (t, sent, echoed) every second
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.t0 = None

    def start(self, t0):
        self.t0 = t0
        self.thread.start()

    def _drain(self, until):
        while True:
            got = self.client.recv_data(until)
            if got is None:
                return
            data = got[1]
            if data.startswith(b"seq"):
                self.echoed.add(int(data[3:11]))

    def _run(self):
        interval = 1.0 / self.rate
        end = time.monotonic() + TIMEOUT
        next_send = time.monotonic()
        next_mark = next_send + 1
        next_permission = next_send + 120
        while not self.stop.is_set() and time.monotonic() < end:
            now = time.monotonic()
            if now >= next_send:
                try:
                    self.client.send_channel(CHANNEL, b"seq%08d" % self.sent + b"x" * 100)
                except OSError as exc:
                    self.errors.append(str(exc))
                self.sent += 1
                next_send += interval
            if now >= next_permission:  # a permission lives 300 s
                next_permission = now + 120
                try:
                    self.client.create_permission([PEER], now + 1)
                except (_stun.StunError, OSError) as exc:
                    self.errors.append(f"permission refresh: {exc}")
            if now >= next_mark:
                self.timeline.append((now - self.t0, self.sent, len(self.echoed)))
                next_mark += 1
            try:
                self._drain(min(next_send, next_mark))
            except (_stun.StunError, OSError) as exc:
                self.errors.append(str(exc))
                time.sleep(interval)
        # The last echoes.
        try:
            self._drain(time.monotonic() + 1.0)
        except (_stun.StunError, OSError):
            pass

    def close(self):
        self.stop.set()
        self.thread.join(timeout=10)
        try:
            self.client.refresh(time.monotonic() + 1.0, lifetime=0)
        except (_stun.StunError, OSError):
            pass
        self.client.close()


class Prober:
    """Polls until the new credential allocates, then until the old one is refused."""

    def __init__(self, host, new, old):
        self.host, self.new, self.old = host, new, old
        self.new_at = self.old_refused_at = None
        self.attempts = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.t0 = None

    def start(self, t0):
        self.t0 = t0
        self.thread.start()

    def _run(self):
        end = time.monotonic() + TIMEOUT
        while not self.stop.is_set() and time.monotonic() < end:
            self.attempts += 1
            if self.new_at is None:
                if accepted(self.host, *self.new()):
                    self.new_at = time.monotonic() - self.t0
                    continue
                time.sleep(0.25)
            elif self.old_refused_at is None:
                if not accepted(self.host, *self.old()):
                    self.old_refused_at = time.monotonic() - self.t0
                    return
                time.sleep(2)
            else:
                return

    def close(self, wait_old=0.0):
        deadline = time.monotonic() + wait_old
        while self.old_refused_at is None and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        self.stop.set()
        self.thread.join(timeout=10)


def measure(label, host, old, new, start_change, rate, log, min_window=0.0):
    """Run start_change() (returns a Popen) under a live session and a prober; a result dict.

    The live session runs until the change is done and the new credential
    allocates, plus 1 s, and at least min_window seconds: the same call
    length for both sides.
    """
    session = LiveSession(host, *old(), rate=rate)
    prober = Prober(host, new, old)
    t0 = time.monotonic()
    session.start(t0)
    prober.start(t0)
    try:
        with open(log, "w", encoding="utf-8") as handle:
            proc = start_change(handle)
            rc = proc.wait(timeout=TIMEOUT)
        total = time.monotonic() - t0
        if rc != 0:
            raise RuntimeError(f"{label}: the change failed (rc {rc}), see {log}")
        # Until the new credential works, or the bound.
        while prober.new_at is None and prober.thread.is_alive() and time.monotonic() - t0 < TIMEOUT:
            time.sleep(0.2)
        time.sleep(1)
        while time.monotonic() - t0 < min_window:
            time.sleep(0.2)
        window = time.monotonic() - t0
    finally:
        session.close()
        prober.close(wait_old=5)
    lost = session.sent - len(session.echoed)
    result = {
        "label": label,
        "total": total,
        "new_at": prober.new_at,
        "old_refused_at": prober.old_refused_at,
        "sent": session.sent,
        "echoed": len(session.echoed),
        "lost": lost,
        "loss_percent": 100.0 * lost / session.sent if session.sent else None,
        "window": window,
        # Echoes still arriving in the last second: the call survived.
        "alive": len(session.timeline) >= 2 and session.timeline[-1][2] > session.timeline[-2][2],
        "timeline": session.timeline,
        "errors": session.errors[:5],
    }
    progress(
        NAME,
        f"{label}: new credential allocates at {fmt(prober.new_at)} s, old refused at {fmt(prober.old_refused_at)} s, "
        f"run {total:.1f} s; live session ({window:.1f} s) sent {session.sent}, echoed {len(session.echoed)}, "
        f"lost {lost}, {'alive' if result['alive'] else 'dead'} at the end",
    )
    return result


def phases(log):
    """[(play name, seconds since the playbook's start when its first task began)] from a profile_tasks log."""
    out, play = [], None
    with open(log, encoding="utf-8") as handle:
        for line in handle:
            match = re.match(r"^PLAY \[(.*)\] \*+", line)
            if match:
                play = match.group(1)
                continue
            match = re.search(r"\)\s+(\d+):(\d\d):(\d\d\.\d+) \*+$", line.rstrip())
            if match and play is not None:
                h, m, sec = match.groups()
                out.append((play, int(h) * 3600 + int(m) * 60 + float(sec)))
                play = None
    return out


def fmt(value):
    return "-" if value is None else f"{value:.1f}"


def plot(results):
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    path, filename = plot_path(NAME, "live-session")
    fig, ax = plt.subplots(figsize=(8, 4))
    for res in results:
        timeline = res["timeline"]
        if len(timeline) < 2:
            continue
        xs = [t for t, _s, _e in timeline[1:]]
        lost = [(s - e) - (s0 - e0) for (t, s, e), (_t0, s0, e0) in zip(timeline[1:], timeline[:-1])]
        (line,) = ax.plot(xs, lost, label=res["label"])
        if res["new_at"] is not None:
            ax.axvline(res["new_at"], color=line.get_color(), linestyle="--", alpha=0.6)
    ax.set_xlabel("seconds since the start of the rotation (dashed: the new credential allocates)")
    ax.set_ylabel("packets not echoed, per second")
    ax.set_title("A live call during a credential rotation (last round)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return filename


def main():  # pylint: disable=too-many-locals,too-many-statements
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=50, help="packets per second of the live session")
    parser.add_argument("--grace", type=int, default=5, help="credential_rotation_grace_seconds")
    parser.add_argument("--rounds", type=int, default=3, help="rotations of each, interleaved")
    parser.add_argument("--window", type=float, default=20.0, help="seconds of live call at least, for each")
    parser.add_argument("--keep", action="store_true", help="keep bench-deploy, bench-seed and vz-dinet")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit(f"{NAME}: run as root")
    started = time.monotonic()
    log_dir = os.path.join(REPO, ".cache", "bench", NAME)
    os.makedirs(log_dir, exist_ok=True)
    seed_password = secrets.token_urlsafe(18)
    runs = {COLL: [], SEED_LABEL: []}
    peer = None
    try:
        if not container_exists("bench-deploy"):  # a new relay: no secrets or rotation of an old one
            shutil.rmtree(OUTPUT, ignore_errors=True)
        if os.path.exists(STATE_FILE):  # a rotation left half done by an interrupted run: finish it
            progress(NAME, "finishing a rotation left in progress")
            run_playbook(
                ["playbooks/rotate_credentials.yml", "-e", "credential_rotation_grace_seconds=0"],
                os.path.join(log_dir, "finish.log"),
            )
        progress(NAME, "relay bench-deploy: site.yml on benchmarks/inventories/deploy (changes nothing if deployed)")
        run_playbook(["molecule/shared/create.yml"], os.path.join(log_dir, "create.log"))
        run_playbook(["playbooks/site.yml"], os.path.join(log_dir, "site.log"))
        progress(NAME, "relay bench-seed: seed_sequence.sh")
        subprocess.run(
            ["bash", SEED],
            cwd=REPO,
            env=seed_env(seed_password),
            check=True,
            timeout=TIMEOUT,
            capture_output=True,
        )
        peer = subprocess.Popen(  # pylint: disable=consider-using-with
            ["ip", "netns", "exec", PEER_NS, "timeout", str(TIMEOUT * 4), "turnutils_peer", "-L", PEER[0], "-p"]
            + [str(PEER[1])],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(0.5)

        for rnd in range(args.rounds):
            with open(SECRET_FILE, encoding="utf-8") as handle:
                old_secret = handle.read().strip()
            new_secret = secrets.token_urlsafe(36)
            seed_old, seed_new = seed_password, secrets.token_urlsafe(18)

            def collection(label, rnd=rnd, old_secret=old_secret, new_secret=new_secret):
                return measure(
                    label,
                    SITE_RELAY,
                    rest(old_secret, "bench-live"),
                    rest(new_secret, "bench-new"),
                    lambda handle: rotate(handle, new_secret, args.grace),
                    args.rate,
                    os.path.join(log_dir, f"rotate{rnd}.log"),
                    min_window=args.window,
                )

            def seed(label, rnd=rnd, seed_old=seed_old, seed_new=seed_new):
                return measure(
                    label,
                    SEED_RELAY,
                    lambda: ("veza", seed_old),
                    lambda: ("veza", seed_new),
                    lambda handle: subprocess.Popen(  # pylint: disable=consider-using-with
                        ["bash", SEED], cwd=REPO, env=seed_env(seed_new), stdout=handle, stderr=subprocess.STDOUT
                    ),
                    args.rate,
                    os.path.join(log_dir, f"seed-rotate{rnd}.log"),
                    min_window=args.window,
                )

            order = ((COLL, collection), (SEED_LABEL, seed))
            for label, fn in order if rnd % 2 == 0 else order[::-1]:
                progress(NAME, f"round {rnd + 1}/{args.rounds}: {label}, under a live session")
                runs[label].append(fn(label))
            seed_password = seed_new
    finally:
        if peer is not None:
            os.killpg(peer.pid, 15)
            peer.wait(timeout=10)
        if args.keep:
            progress(NAME, "--keep: bench-deploy, bench-seed and vz-dinet stay")
        else:
            progress(NAME, "removing bench-deploy, bench-seed, vz-dinet and output/bench-deploy")
            try:
                if container_exists("bench-seed"):
                    subprocess.run(["incus", "delete", "--force", "bench-seed"], check=True, timeout=120)
                run_playbook(["playbooks/teardown.yml"], os.path.join(log_dir, "teardown.log"))
                shutil.rmtree(OUTPUT, ignore_errors=True)
            except (RuntimeError, subprocess.SubprocessError) as exc:
                progress(NAME, f"cleanup failed: {exc}")

    def med(label, key):
        values = [r[key] for r in runs[label] if r[key] is not None]
        return statistics.median(values) if values else None

    def each(label, key):
        return " / ".join(fmt(r[key]) for r in runs[label])

    rows = []
    for label in (COLL, SEED_LABEL):
        sent = sum(r["sent"] for r in runs[label])
        lost = sum(r["lost"] for r in runs[label])
        rows.append(
            [
                label,
                None if med(label, "new_at") is None else round(med(label, "new_at"), 1),
                each(label, "new_at"),
                None if med(label, "old_refused_at") is None else round(med(label, "old_refused_at"), 1),
                round(med(label, "total"), 1),
                sent,
                sent - lost,
                lost,
                round(100.0 * lost / sent, 2) if sent else None,
                sum(1 for r in runs[label] if r["alive"]),
            ]
        )
    coll_new, seed_new_at = med(COLL, "new_at"), med(SEED_LABEL, "new_at")
    ratio = coll_new / seed_new_at if coll_new and seed_new_at else None
    results = [runs[COLL][-1], runs[SEED_LABEL][-1]]
    findings = [
        f"The new credential allocates on the relay {fmt(coll_new)} s after rotate_credentials.yml starts "
        f"(the whole rotation with a {args.grace} s grace: {med(COLL, 'total'):.1f} s), against {fmt(seed_new_at)} s "
        "for the seed's edit-and-restart" + (f" ({ratio:.2f}x)" if ratio else "") + f"; medians of {args.rounds} "
        "rounds, interleaved.",
        f"A live call holding an allocation made with the old credential lost {rows[0][7]} of {rows[0][5]} "
        f"packets over the collection's {args.rounds} rotations and {rows[1][7]} of {rows[1][5]} over the seed's, "
        f"with the same call length (at least {args.window:.0f} s each); the seed's restart drops every allocation: "
        "the call is gone until the client allocates again.",
    ]
    timeline = phases(os.path.join(log_dir, f"rotate{args.rounds - 1}.log"))
    plots = []
    try:
        plots.append(plot(results))
    except ImportError as exc:
        progress(NAME, f"no plot: {exc}")
    seconds = round(time.monotonic() - started, 1)
    path = write_result(
        NAME,
        "Credential rotation under a live call",
        [
            section(
                "Rotation: until the new credential allocates, and what a live session loses",
                [
                    "rotation",
                    "new allocates at (s, median)",
                    "new allocates at, each round",
                    "old refused at (s, median)",
                    "run (s, median)",
                    "sent (all rounds)",
                    "echoed",
                    "lost",
                    "loss %",
                    f"calls alive at the end (of {args.rounds})",
                ],
                rows,
                notes=[
                    f"Same run, {args.rounds} interleaved rounds on two relays of the same image. Live session: UDP "
                    f"allocation with the old credential, ChannelData at {args.rate} packets/s to turnutils_peer (echo) "
                    "on the simulated internet, counted until the run ends and the new credential works, plus 1 s, "
                    f"and at least {args.window:.0f} s (the same call length on both sides).",
                    "New credential probed every 0.25 s (Allocate from the client namespace, released at once); "
                    "the old one every 2 s after that. The collection's run includes all its phases: add, switch "
                    f"(no backend in this inventory), a {args.grace} s grace, retire, store.",
                    "Ratio of the times until the new credential allocates, collection/seed: "
                    + (f"{ratio:.2f}." if ratio else "n/a."),
                ],
            ),
            section(
                "rotate_credentials.yml, last round: when each play began (profile_tasks, seconds since its first task)",
                ["play", "began at (s)"],
                [[name, round(at, 1)] for name, at in timeline],
                notes=[
                    "profile_tasks counts from the first task, after Python and Ansible started up (about 1 to 2 s); "
                    "the prober's figures above count from the process start. A play that matched no host (Phase 2 "
                    "here: this inventory has no backend) has no line."
                ],
            ),
        ],
        findings=findings,
        plots=plots,
        seconds=seconds,
    )
    progress(NAME, f"done in {seconds} s: {path}")


if __name__ == "__main__":
    main()

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/site.yml against the seed's manual command sequence: a new relay, and a rerun.

Three figures, each taken side by side with the seed's sequence
(benchmarks/seed_sequence.sh: incus launch of the same local image, nat
proxy devices, apt-get install coturn, an envsubst-rendered turnserver.conf,
a TLS pair, enable + start, turnutils_uclient as the smoke test) in the same
run:

a. a new coturn container from scratch: site.yml on the benchmark's own
   inventory (benchmarks/inventories/deploy: container bench-deploy,
   198.51.100.193 on the simulated internet vz-dinet) against the script
   making bench-seed (198.51.100.194);
b. a rerun with nothing to change: site.yml again (changed=0) against the
   script again on the existing container (what an operator reruns);
c. a rerun of the whole local site (`site.yml -i inventory/local`: relay,
   backend container, backend env, relay watch, verify; deployed by `make
   deploy`) with the profile_roles callback, total and per role, against
   the script's rerun; (c) changes nothing on the local site.

The reruns alternate which goes first. The bench containers, the simulated
internet and output/bench-deploy are removed at the end unless --keep.

    .venv/bin/python benchmarks/deploy.py [--rounds 2] [--keep] [--no-local]

Needs root, Incus with the image debian-12-coturn (`make deploy`) and, for
(c), the local site deployed.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# pylint: disable=wrong-import-position
from _common import REPO, VENV_BIN, ansible_env, plot_path, progress, section, write_result  # noqa: E402

NAME = "deploy"
INVENTORY = "benchmarks/inventories/deploy"
LOCAL_INVENTORY = "inventory/local"
SEED = os.path.join(REPO, "benchmarks", "seed_sequence.sh")
SEED_CONTAINER = "bench-seed"
SITE_CONTAINER = "bench-deploy"
OUTPUT = os.path.join(REPO, "output", "bench-deploy")
SEED_TLS_DIR = os.path.join(OUTPUT, "seed-tls")
TIMEOUT = 600
CALLBACKS = "ansible.posix.profile_roles,ansible.posix.profile_tasks"


def playbook(inventory, path, log):
    """Run a playbook with the role and task profiles; (seconds, output)."""
    env = ansible_env(ANSIBLE_CALLBACKS_ENABLED=CALLBACKS, ANSIBLE_NOCOLOR="1", PROFILE_TASKS_TASK_OUTPUT_LIMIT="8")
    start = time.monotonic()
    proc = subprocess.run(
        [os.path.join(VENV_BIN, "ansible-playbook"), "-i", inventory, path],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    seconds = time.monotonic() - start
    with open(log, "w", encoding="utf-8") as handle:
        handle.write(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError(f"{path} -i {inventory} failed (rc {proc.returncode}), see {log}:\n{proc.stdout[-3000:]}")
    return seconds, proc.stdout


def recap(output):
    """{host: (ok, changed)} from the PLAY RECAP (ok counts the changed tasks too)."""
    return {
        m.group(1): (int(m.group(2)), int(m.group(3)))
        for m in re.finditer(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)", output, re.M)
    }


def profile(output, heading):
    """[(name, seconds)] from a profile callback's recap (ROLES RECAP or TASKS RECAP)."""
    rows, inside = [], False
    for line in output.splitlines():
        if line.startswith(heading):
            inside = True
            continue
        if inside:
            if line.startswith(("~~~", "total")) or (line.strip() == "" and rows):
                break
            match = re.match(r"^(.*?) -+ (\d+\.\d+)s$", line.strip())
            if match:
                rows.append((match.group(1).strip(), float(match.group(2))))
    return rows


def seed(password, log):
    """Run the seed's sequence; seconds."""
    env = dict(
        os.environ,
        WEBRTC_TURN_CREDENTIAL=password,
        SEED_TLS_DIR=SEED_TLS_DIR,
        SMOKE_NETNS="vz-dclient",
        SMOKE_PEER_NETNS="vz-dpeer",
        SMOKE_PEER_IP="198.51.100.210",
    )
    start = time.monotonic()
    proc = subprocess.run(
        ["bash", SEED], cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    seconds = time.monotonic() - start
    with open(log, "w", encoding="utf-8") as handle:
        handle.write(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError(f"seed_sequence.sh failed (rc {proc.returncode}), see {log}:\n{proc.stderr[-2000:]}")
    return seconds


def container_exists(name):
    return subprocess.run(["incus", "info", name], capture_output=True, check=False, timeout=60).returncode == 0


def clean(log_dir):
    """Remove the bench containers, the simulated internet and the benchmark's output (ours only)."""
    if container_exists(SEED_CONTAINER):
        subprocess.run(["incus", "delete", "--force", SEED_CONTAINER], check=True, timeout=120)
    playbook(INVENTORY, "playbooks/teardown.yml", os.path.join(log_dir, "teardown.log"))
    shutil.rmtree(OUTPUT, ignore_errors=True)


def plot(fig_rows, local_roles):
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    path, filename = plot_path(NAME, "seconds")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [3, 2]})
    ax = axes[0]
    labels = [r[0] for r in fig_rows]
    xs = range(len(labels))
    ax.bar([x - 0.2 for x in xs], [r[1] for r in fig_rows], width=0.4, label="playbooks/site.yml")
    ax.bar([x + 0.2 for x in xs], [r[2] for r in fig_rows], width=0.4, label="seed_sequence.sh")
    for x, row in zip(xs, fig_rows):
        ax.text(x, max(row[1], row[2]) * 1.02, f"{row[3]:.1f}x", ha="center", fontsize=9)
    ax.set_xticks(list(xs))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel("seconds (median)")
    ax.set_title("site.yml vs the seed's commands, same run")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax = axes[1]
    if local_roles:
        names = [n for n, _s in local_roles][::-1]
        ax.barh(names, [s for _n, s in local_roles][::-1])
        ax.set_xlabel("seconds")
        ax.set_title("local site rerun, per role (profile_roles)", fontsize=10)
        ax.tick_params(axis="y", labelsize=7)
    else:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return filename


def median_roles(outputs):
    per = {}
    for out in outputs:
        for name, seconds in profile(out, "ROLES RECAP"):
            per.setdefault(name, []).append(seconds)
    rows = [(name, statistics.median(values)) for name, values in per.items()]
    return sorted(rows, key=lambda r: -r[1])


def task_counts(output):
    """{role: task headers run for it} (skipped tasks included: each costs a round on the controller)."""
    counts = {}
    for match in re.finditer(r"^TASK \[(?:[\w.]+\.)?(\w+) : ", output, re.M):
        counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    return counts


def median_tasks(outputs, limit=6):
    per = {}
    for out in outputs:
        for name, seconds in profile(out, "TASKS RECAP"):
            per.setdefault(name, []).append(seconds)
    rows = [(name, statistics.median(values)) for name, values in per.items()]
    return sorted(rows, key=lambda r: -r[1])[:limit]


def main():  # pylint: disable=too-many-locals,too-many-statements
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="rerun rounds of (b) and (c)")
    parser.add_argument("--keep", action="store_true", help="keep bench-deploy, bench-seed and vz-dinet")
    parser.add_argument("--no-local", action="store_true", help="skip (c), the local site's rerun")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit(f"{NAME}: run as root")
    started = time.monotonic()
    log_dir = os.path.join(REPO, ".cache", "bench", NAME)
    os.makedirs(log_dir, exist_ok=True)
    password = secrets.token_urlsafe(24)
    times = {k: {"site": [], "seed": []} for k in ("fresh", "rerun", "local")}
    changed = {k: [] for k in ("fresh", "rerun", "local")}
    tasks = {k: [] for k in ("fresh", "rerun", "local")}
    outputs = {k: [] for k in ("fresh", "rerun", "local")}
    do_local = not args.no_local and container_exists("coturn-local")
    if not args.no_local and not do_local:
        progress(NAME, "the local site is not deployed (no coturn-local): (c) is skipped")

    def site(kind, inventory, tag):
        seconds, out = playbook(inventory, "playbooks/site.yml", os.path.join(log_dir, f"site-{tag}.log"))
        times[kind]["site"].append(seconds)
        changed[kind].append(sum(c for _ok, c in recap(out).values()))
        tasks[kind].append(sum(ok for ok, _c in recap(out).values()))
        outputs[kind].append(out)
        progress(NAME, f"{kind}: site.yml -i {inventory} {seconds:.1f} s, changed={changed[kind][-1]}")

    def script(kind, tag):
        seconds = seed(password, os.path.join(log_dir, f"seed-{tag}.log"))
        times[kind]["seed"].append(seconds)
        progress(NAME, f"{kind}: seed_sequence.sh {seconds:.1f} s")

    try:
        progress(NAME, "clean slate: bench-deploy, bench-seed, vz-dinet and output/bench-deploy removed")
        clean(log_dir)
        progress(NAME, "simulated internet vz-dinet (198.51.100.192/27 on vzpub4, .193 and .194 on the host)")
        playbook(INVENTORY, "molecule/shared/create.yml", os.path.join(log_dir, "create.log"))

        progress(NAME, "(a) a new relay: site.yml (bench-deploy), then the seed's sequence (bench-seed)")
        site("fresh", INVENTORY, "fresh")
        script("fresh", "fresh")

        for rnd in range(args.rounds):
            progress(NAME, f"(b) rerun, round {rnd + 1}/{args.rounds}")
            order = ("site", "seed") if rnd % 2 == 0 else ("seed", "site")
            for who in order:
                if who == "site":
                    site("rerun", INVENTORY, f"rerun{rnd}")
                else:
                    script("rerun", f"rerun{rnd}")
        if do_local:
            for rnd in range(args.rounds):
                progress(NAME, f"(c) local site rerun, round {rnd + 1}/{args.rounds}")
                order = ("seed", "site") if rnd % 2 == 0 else ("site", "seed")
                for who in order:
                    if who == "site":
                        site("local", LOCAL_INVENTORY, f"local{rnd}")
                    else:
                        script("local", f"local{rnd}")
    finally:
        if args.keep:
            progress(NAME, "--keep: bench-deploy, bench-seed and vz-dinet stay")
        else:
            progress(NAME, "removing bench-deploy, bench-seed, vz-dinet and output/bench-deploy")
            try:
                clean(log_dir)
            except (RuntimeError, subprocess.SubprocessError) as exc:
                progress(NAME, f"cleanup failed: {exc}")

    labels = {
        "fresh": "(a) new relay from scratch",
        "rerun": "(b) rerun, nothing to change (bench-deploy)",
        "local": "(c) rerun of the whole local site",
    }
    rows, fig_rows = [], []
    for kind in ("fresh", "rerun", "local"):
        if not times[kind]["site"]:
            continue
        site_s = statistics.median(times[kind]["site"])
        seed_s = statistics.median(times[kind]["seed"])
        rows.append(
            [
                labels[kind],
                round(site_s, 1),
                round(seed_s, 1),
                round(site_s / seed_s, 2),
                " / ".join(f"{s:.1f}" for s in times[kind]["site"]),
                " / ".join(f"{s:.1f}" for s in times[kind]["seed"]),
                max(changed[kind]),
                max(tasks[kind]),
                round(site_s / max(tasks[kind]), 2),
            ]
        )
        fig_rows.append((labels[kind].split(" ", 1)[0], site_s, seed_s, site_s / seed_s))
        progress(NAME, f"{labels[kind]}: site.yml {site_s:.1f} s, seed {seed_s:.1f} s, ratio {site_s / seed_s:.2f}")

    sections = [
        section(
            "site.yml against the seed's command sequence (seconds, median)",
            [
                "run",
                "site.yml",
                "seed_sequence.sh",
                "ratio site/seed",
                "site.yml runs",
                "seed runs",
                "changed",
                "tasks ok",
                "s per task",
            ],
            rows,
            notes=[
                "Same run, side by side; the reruns alternate which goes first. changed: the largest sum of "
                "changed= over the PLAY RECAP (a rerun must show 0); tasks ok: the sum of ok= (tasks run on a host, "
                "changed ones included), and site.yml's seconds per such task.",
                "site.yml includes its preflight, the simulated internet, the Incus host checks and verify.yml "
                "(turn_probe over UDP, TCP and TLS with peer-first delivery); the seed's sequence includes its "
                "smoke test (turnutils_uclient -n 5 to turnutils_peer; about 2 to 6 s of its own timers).",
            ],
        )
    ]
    roles = {kind: median_roles(outputs[kind]) for kind in outputs}
    for kind in ("fresh", "rerun", "local"):
        if roles[kind]:
            sections.append(
                section(
                    f"Where site.yml spends its time: {labels[kind]} (profile_roles, median seconds)",
                    ["role or action", "seconds", "tasks (skipped included)"],
                    [[name, round(s, 2), task_counts(outputs[kind][-1]).get(name, "")] for name, s in roles[kind]],
                    notes=[
                        "Slowest tasks (profile_tasks, median): "
                        + "; ".join(f"{n} {s:.2f} s" for n, s in median_tasks(outputs[kind]))
                    ],
                )
            )
    findings = []
    for row in rows:
        findings.append(f"{row[0]}: site.yml {row[1]} s against {row[2]} s for the seed's commands ({row[3]}x).")
    if times["local"]["site"]:
        local_s = statistics.median(times["local"]["site"])
        findings.append(
            f"design.md asks at most 15 s for a rerun of the whole site; the local site's took {local_s:.1f} s "
            f"({max(tasks['local'])} tasks, {local_s / max(tasks['local']):.2f} s each)."
        )
    if outputs["local"]:
        headers = sum(task_counts(outputs["local"][-1]).values())
        findings.append(
            f"Of the local rerun's {headers} role task headers (skipped included), most change nothing and check "
            "little; at this machine's cost per task, the count of tasks is what decides the rerun time."
        )
    if roles["local"]:
        top = roles["local"][:3]
        findings.append("The local site's rerun spends most in " + ", ".join(f"{n} ({s:.1f} s)" for n, s in top) + ".")
    plots = []
    try:
        plots.append(plot(fig_rows, roles["local"] or roles["rerun"]))
    except ImportError as exc:
        progress(NAME, f"no plot: {exc}")
    seconds = round(time.monotonic() - started, 1)
    path = write_result(
        NAME,
        "Deploy: site.yml against the seed's manual sequence",
        sections,
        findings=findings,
        plots=plots,
        seconds=seconds,
    )
    progress(NAME, f"done in {seconds} s: {path}")


if __name__ == "__main__":
    main()

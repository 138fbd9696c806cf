# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a task inside the coturn container costs, with and without pipelining.

Every task of the coturn role is an `incus exec` round plus file pushes; the
design turns pipelining on in ansible.cfg for that reason. This runs the same
playbook of N `stat` tasks against the deployed container, alternating the
two settings, and prints the per-task cost of each and their ratio, measured
side by side in this one run (against a raw `incus exec true` as the floor).

    .venv/bin/python benchmarks/task_overhead.py [--tasks 20] [--rounds 3] [--host coturn-local]

Needs the local site deployed (`make deploy`) and root.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import progress, section, write_result  # noqa: E402  (a script beside its helpers)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLAYBOOK = os.path.join(REPO, ".venv", "bin", "ansible-playbook")


def playbook(host, tasks):
    lines = ["---", f"- hosts: {host}", "  gather_facts: false", "  tasks:"]
    for i in range(tasks):
        lines += [f"    - name: stat {i}", "      ansible.builtin.stat:", "        path: /etc/turnserver.conf"]
    return "\n".join(lines) + "\n"


def run(path, pipelining, inventory):
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
        ANSIBLE_PIPELINING="true" if pipelining else "false",
    )
    start = time.monotonic()
    subprocess.run(
        [PLAYBOOK, "-i", inventory, path], cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL, timeout=600
    )
    return time.monotonic() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--host", default="coturn-local")
    parser.add_argument("--inventory", default="inventory/local")
    args = parser.parse_args()

    progress("task_overhead", f"raw incus exec x{args.tasks} on {args.host}")
    started = time.monotonic()
    raw = []
    for _task in range(args.tasks):
        start = time.monotonic()
        subprocess.run(["incus", "exec", args.host, "--", "true"], check=True, timeout=30)
        raw.append(time.monotonic() - start)

    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as handle:
        handle.write(playbook(args.host, args.tasks))
    try:
        # Fixed cost of a playbook run (start-up, inventory, one connection).
        with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as empty:
            empty.write(playbook(args.host, 1))
        times = {True: [], False: []}
        base = {True: [], False: []}
        for round_ in range(args.rounds):
            progress(
                "task_overhead", f"round {round_ + 1}/{args.rounds}: {args.tasks} stat tasks, pipelining on and off"
            )
            for pipelining in (True, False):  # alternate, so drift hits both alike
                base[pipelining].append(run(empty.name, pipelining, args.inventory))
                times[pipelining].append(run(handle.name, pipelining, args.inventory))
    finally:
        os.unlink(handle.name)
        os.unlink(empty.name)

    per_task = {p: (statistics.median(times[p]) - statistics.median(base[p])) / (args.tasks - 1) for p in (True, False)}
    floor = statistics.median(raw)
    rows = [
        ["raw `incus exec true`", f"{floor * 1000:.0f}", "1.00"],
        ["task with pipelining", f"{per_task[True] * 1000:.0f}", f"{per_task[True] / floor:.2f}"],
        ["task without pipelining", f"{per_task[False] * 1000:.0f}", f"{per_task[False] / floor:.2f}"],
    ]
    write_result(
        "task_overhead",
        "What a task inside the coturn container costs",
        [
            section(
                f"Per task, {args.tasks} `stat` tasks per run, median of {args.rounds} rounds, on {args.host}",
                ["what", "ms", "x raw incus exec"],
                rows,
            )
        ],
        findings=[
            f"A task in the container costs {per_task[True] * 1000:.0f} ms with pipelining, "
            f"{per_task[False] / per_task[True]:.2f}x that without, {per_task[True] / floor:.1f}x a raw `incus exec`."
        ],
        seconds=round(time.monotonic() - started, 1),
    )


if __name__ == "__main__":
    main()

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench`: every benchmark under benchmarks/ in one run, and the report.

Runs each benchmark script in turn (their progress shows as they go), then
writes benchmarks/results/README.md from the results they leave (one table
per measurement, the findings, the plots) with the machine it ran on, and
prints it. A benchmark that fails is reported as failed and the others still
run; the exit status says whether all of them finished.

    .venv/bin/python benchmarks/run.py [--only NAME ...] [--quick]

Run as root with the local site deployed (`make deploy`), nothing else
heavy on the machine: every figure is a ratio taken side by side in this
run, but a busy machine still widens the noise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import REPO, RESULTS, machine_info, progress  # noqa: E402  (a script beside its helpers)

# In this order: the quick ones first, the data plane (minutes) last but one,
# the deploy benchmark (which builds containers) last.
BENCHMARKS = ("minting", "task_overhead", "rotation", "dataplane", "deploy")
QUICK_FLAG = {"dataplane", "deploy", "rotation"}  # the ones with a shorter mode


def _cell(value):
    return str(value).replace("|", "\\|").replace("\n", " ")


def render(results, failed, machine, started, seconds):
    lines = [
        "# veza.coturn benchmarks",
        "",
        f"Run {started} UTC by `make bench`, {seconds:.0f} s in all. Every figure is taken side by side with its "
        "reference in this one run; read the ratios, not the absolute numbers.",
        "",
        "| machine | |",
        "| --- | --- |",
    ]
    lines += [f"| {key} | {_cell(value)} |" for key, value in machine.items() if value]
    for result in results:
        lines += ["", f"## {result['title']}", ""]
        if result.get("seconds") is not None:
            lines += [f"`benchmarks/{result['name']}.py`, {result['seconds']} s.", ""]
        for finding in result.get("findings", []):
            lines.append(f"- {finding}")
        if result.get("findings"):
            lines.append("")
        for table in result.get("sections", []):
            lines += [f"### {table['heading']}", ""]
            lines.append("| " + " | ".join(_cell(c) for c in table["columns"]) + " |")
            lines.append("| " + " | ".join(["---"] * len(table["columns"])) + " |")
            lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table["rows"]]
            lines.append("")
            lines += [f"{note}" for note in table.get("notes", [])]
            if table.get("notes"):
                lines.append("")
        lines += [f"![{plot}]({plot})" for plot in result.get("plots", [])]
    if failed:
        lines += ["", "## Did not finish", ""]
        lines += [f"- `benchmarks/{name}.py`: {why}" for name, why in failed]
    return "\n".join(lines).rstrip() + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run these benchmarks only")
    parser.add_argument("--quick", action="store_true", help="the shorter mode of the benchmarks that have one")
    args = parser.parse_args()
    if os.geteuid() != 0:
        parser.exit(1, "run.py: run as root (the benchmarks create namespaces and containers)\n")

    os.makedirs(RESULTS, exist_ok=True)
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    begin = time.monotonic()
    names = args.only or BENCHMARKS
    results, failed = [], []
    for number, name in enumerate(names, 1):
        script = os.path.join(REPO, "benchmarks", f"{name}.py")
        if not os.path.exists(script):
            failed.append((name, "no such benchmark in this checkout"))
            continue
        progress("bench", f"{number}/{len(names)}: {name}")
        result_path = os.path.join(RESULTS, f"{name}.json")
        if os.path.exists(result_path):
            os.unlink(result_path)  # a stale result must not pass for this run's
        command = [sys.executable, script] + (["--quick"] if args.quick and name in QUICK_FLAG else [])
        done = subprocess.run(command, cwd=REPO, check=False)
        if done.returncode != 0 or not os.path.exists(result_path):
            failed.append((name, f"exit status {done.returncode}, no result written"))
            progress("bench", f"{name} failed (exit status {done.returncode}); going on with the others")
            continue
        with open(result_path, encoding="utf-8") as handle:
            results.append(json.load(handle))

    report = render(results, failed, machine_info(), started, time.monotonic() - begin)
    with open(os.path.join(RESULTS, "README.md"), "w", encoding="utf-8") as handle:
        handle.write(report)
    sys.stdout.write(report)
    progress("bench", f"report: {os.path.relpath(os.path.join(RESULTS, 'README.md'), REPO)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every benchmark under benchmarks/ shares: progress, results, the machine.

A benchmark is a script `benchmarks/<name>.py` that prints its progress with
`progress()` while it runs and ends with `write_result()`; `benchmarks/run.py`
(`make bench`) runs them in one go and renders benchmarks/results/README.md
from the JSON files they leave. Every figure a benchmark reports is taken side
by side with its reference in the same run: numbers on a shared 2-core
machine drift from one minute to the next, ratios much less.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(REPO, "benchmarks", "results")
VENV_BIN = os.path.join(REPO, ".venv", "bin")


def progress(name, message):
    """One line on stderr, at once: a benchmark can run for minutes."""
    sys.stderr.write(f"[{time.strftime('%H:%M:%S')} {name}] {message}\n")
    sys.stderr.flush()


def ansible_env(**extra):
    """The environment `make` gives ansible-playbook: this checkout's config and venv."""
    env = dict(os.environ)
    env["ANSIBLE_CONFIG"] = os.path.join(REPO, "ansible.cfg")
    env["PATH"] = VENV_BIN + os.pathsep + env.get("PATH", "")
    env.update(extra)
    return env


def plot_path(name, suffix):
    """Where a benchmark's plot goes; returns (absolute path, name relative to results/)."""
    os.makedirs(RESULTS, exist_ok=True)
    filename = f"{name}-{suffix}.png"
    return os.path.join(RESULTS, filename), filename


def section(heading, columns, rows, notes=()):
    """One table of a result: rows are lists of cells (str, int or float)."""
    return {"heading": heading, "columns": list(columns), "rows": [list(r) for r in rows], "notes": list(notes)}


def write_result(name, title, sections, findings=(), plots=(), seconds=None):
    """benchmarks/results/<name>.json, read by run.py to build the report."""
    os.makedirs(RESULTS, exist_ok=True)
    result = {
        "name": name,
        "title": title,
        "sections": list(sections),
        "findings": list(findings),
        "plots": list(plots),
        "seconds": seconds,
        "finished": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }
    path = os.path.join(RESULTS, f"{name}.json")
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=1, sort_keys=True)
        handle.write("\n")
    os.replace(path + ".tmp", path)
    return path


def _first_line(argv):
    if not shutil.which(argv[0]):
        return None
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else None


def machine_info():
    """What the figures were measured on, for the report's header."""
    model = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = None
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            kib = int(handle.readline().split()[1])
            memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    os_name = None
    try:
        with open("/etc/os-release", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("PRETTY_NAME="):
                    os_name = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return {
        "host": platform.node(),
        "os": os_name,
        "kernel": platform.release(),
        "cpu": model,
        "cores": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "incus": _first_line(["incus", "version"]),
    }

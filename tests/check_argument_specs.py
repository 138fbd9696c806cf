"""Every role's defaults/main.yml and meta/argument_specs.yml name the same keys.

The check prometheus-community/ansible runs in CI: a default nobody documents,
or a documented option with no default, is how roles drift.
"""

from __future__ import annotations

import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent


def problems():
    found = []
    for role in sorted((ROOT / "roles").iterdir()):
        if not role.is_dir():
            continue
        specs_file = role / "meta" / "argument_specs.yml"
        defaults_file = role / "defaults" / "main.yml"
        if not specs_file.exists():
            found.append(f"{role.name}: meta/argument_specs.yml is missing")
            continue
        specs = yaml.safe_load(specs_file.read_text())["argument_specs"]["main"].get("options", {})
        defaults = yaml.safe_load(defaults_file.read_text()) or {} if defaults_file.exists() else {}
        for key in sorted(set(defaults) - set(specs)):
            found.append(f"{role.name}: {key} has a default but no argument spec")
        for key in sorted(set(specs) - set(defaults)):
            found.append(f"{role.name}: {key} has an argument spec but no default")
        for key in sorted(set(specs) | set(defaults)):
            if not key.startswith(role.name + "_"):
                found.append(f"{role.name}: {key} is not prefixed with the role name")
    return found


def main():
    found = problems()
    for line in found:
        print(line)
    print(f"argument specs: {len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

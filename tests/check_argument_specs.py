"""Every role's defaults/main.yml and meta/argument_specs.yml agree.

The check prometheus-community/ansible runs in CI, and one step further: the
two files name the same keys, and each spec states the default the role
really has (the same value, or for a computed default the same Jinja
string). A default nobody documents, a documented option with no default,
or a documented default that is not the real one is how roles drift.
"""

from __future__ import annotations

import json
import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
MISSING = object()


def _show(value):
    if value is MISSING:
        return "(none)"
    return json.dumps(value, sort_keys=True)


def _same(spec_default, default):
    # YAML reads `default: 3478` and `3478` alike; a spec may quote a number
    # ("0640") that defaults/main.yml quotes too: compare what YAML gives.
    return spec_default == default and type(spec_default) is type(default)


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
        defaults = (yaml.safe_load(defaults_file.read_text()) or {}) if defaults_file.exists() else {}
        for key in sorted(set(defaults) - set(specs)):
            found.append(f"{role.name}: {key} has a default but no argument spec")
        for key in sorted(set(specs) - set(defaults)):
            found.append(f"{role.name}: {key} has an argument spec but no default")
        for key in sorted(set(specs) | set(defaults)):
            if not key.startswith(role.name + "_"):
                found.append(f"{role.name}: {key} is not prefixed with the role name")
        for key in sorted(set(specs) & set(defaults)):
            stated = (specs[key] or {}).get("default", MISSING)
            real = defaults[key]
            if not _same(stated, real):
                found.append(
                    f"{role.name}: {key}: meta/argument_specs.yml states default {_show(stated)}, "
                    f"defaults/main.yml has {_show(real)}"
                )
    return found


def main():
    found = problems()
    for line in found:
        print(line)
    print(f"argument specs: {len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

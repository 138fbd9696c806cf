# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One Python program file (a zipapp) from the collection's own module_utils.

The programs the roles install on hosts (the credential renewal, the relay
watch) are the collection's module_utils packages, unchanged. Copied file by
file they cost one `incus exec` round per file on every run (30 files, 17 s
of a 64 s rerun); as one zip archive they cost one. The archive holds the
packages under their import path, so the absolute imports they use work as
they do under Ansible, and a __main__.py that calls the entry point's
main(). It is byte-identical from run to run (sorted entries, fixed
timestamps, stored uncompressed): a rerun compares checksums and copies
nothing.
"""

from __future__ import annotations

import io
import os
import re
import zipfile

PACKAGE = "ansible_collections.veza.coturn.plugins.module_utils"
_PACKAGE_PATH = PACKAGE.replace(".", "/")
_IMPORT = re.compile(
    r"^\s*(?:from|import)\s+" + re.escape(PACKAGE) + r"(?:\.(?P<dotted>\w+)|\s+import\s+(?P<names>[\w ,]+))",
    re.MULTILINE,
)
_NAME = re.compile(r"^_[a-z][a-z0-9_]*$")
_ENTRY = re.compile(r"^_[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
# 1980-01-01, the earliest time a zip entry can carry.
_EPOCH = (1980, 1, 1, 0, 0, 0)


class ZipappError(ValueError):
    """The entry point or a module it needs is not in module_utils."""


def _unit_files(module_utils, name):
    """The files of one top-level module_utils unit: a private package or module."""
    path = os.path.join(module_utils, name)
    if os.path.isdir(path):
        found = []
        for folder, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            found += [os.path.join(folder, f) for f in sorted(files) if f.endswith(".py")]
        return found
    if os.path.isfile(path + ".py"):
        return [path + ".py"]
    raise ZipappError(f"{PACKAGE}.{name} is neither a package nor a module in {module_utils}")


def _imports(source):
    """The top-level module_utils units a file imports by absolute name."""
    units = set()
    for match in _IMPORT.finditer(source):
        if match.group("dotted"):
            units.add(match.group("dotted"))
        else:
            units.update(n.strip().split(" ")[0] for n in match.group("names").split(",") if n.strip())
    return units


def collect(module_utils, entry):
    """Every module_utils file the entry point's unit needs, as {archive name: bytes}."""
    if not _ENTRY.match(entry or ""):
        raise ZipappError(
            f"entry must name a module of {PACKAGE} like _turn_rest.cli (a private unit, then dotted "
            f"lower-case names), got {entry!r}"
        )
    wanted, seen, files = [entry.split(".")[0]], set(), {}
    while wanted:
        unit = wanted.pop()
        if unit in seen:
            continue
        if not _NAME.match(unit):
            raise ZipappError(f"{PACKAGE}.{unit} is imported by the program but is not a private module_utils unit")
        seen.add(unit)
        for path in _unit_files(module_utils, unit):
            with open(path, "rb") as handle:
                data = handle.read()
            name = _PACKAGE_PATH + "/" + os.path.relpath(path, module_utils).replace(os.sep, "/")
            files[name] = data
            wanted += sorted(_imports(data.decode("utf-8")) - seen)
    entry_file = _PACKAGE_PATH + "/" + entry.replace(".", "/")
    if entry_file + ".py" not in files and entry_file + "/__init__.py" not in files:
        raise ZipappError(f"{PACKAGE}.{entry} is not a module in {module_utils}")
    return files


def build(module_utils, entry):
    """The zipapp's bytes: the units the entry needs, empty package markers, a __main__.py."""
    files = collect(module_utils, entry)
    parts = _PACKAGE_PATH.split("/")
    # Empty __init__.py up to module_utils: zipimport does not find
    # namespace packages on every Python the hosts may run.
    for depth in range(1, len(parts) + 1):
        files.setdefault("/".join(parts[:depth]) + "/__init__.py", b"")
    files["__main__.py"] = (
        f'"""Built by veza.coturn from its module_utils; runs {PACKAGE}.{entry}.main()."""\n'
        f"from {PACKAGE}.{entry} import main\n\n"
        "raise SystemExit(main())\n"
    ).encode("utf-8")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.create_system = 3  # Unix, whatever the controller is
            archive.writestr(info, files[name])
    return out.getvalue()

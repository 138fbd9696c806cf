# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which Debian packages a host has, and which it could install, without changing it.

Used by the roles' preflight: a package the run would install but that no
configured APT source (nor a source the role is about to add) provides stops
the run before anything changes, instead of failing half-way at the install.
Package lists fetched for the question go to a temporary folder: the host's
own lists, caches and sources stay as they were.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile

# Debian policy 5.6.1: lower case letters, digits, '+', '-', '.'; at least two
# characters, starting with a letter or digit.
PACKAGE_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")

ENV = {"LC_ALL": "C", "LANG": "C", "DEBIAN_FRONTEND": "noninteractive"}


def bad_names(names):
    """The names that cannot be Debian package names."""
    return [name for name in names if not PACKAGE_NAME.match(name or "")]


def parse_dpkg_query(output):
    """``dpkg-query -W -f '${Package}\\t${db:Status-Abbrev}\\t${Version}\\n'`` -> {name: version} installed."""
    installed = {}
    for line in output.splitlines():
        fields = line.split("\t")
        if len(fields) == 3 and fields[1].startswith("ii"):
            installed[fields[0].split(":")[0]] = fields[2]
    return installed


def parse_policy(output):
    """``apt-cache policy NAME...`` -> {name: candidate version} for names that have one."""
    candidates = {}
    name = None
    for line in output.splitlines():
        if line and not line[0].isspace() and line.endswith(":"):
            name = line[:-1].split(":")[0]
        elif name and line.strip().startswith("Candidate:"):
            version = line.split(":", 1)[1].strip()
            if version and version != "(none)":
                candidates[name] = version
            name = None
    return candidates


class AptQuery:
    """Asks dpkg and apt through ``run(argv) -> (rc, stdout, stderr)`` (AnsibleModule.run_command)."""

    def __init__(self, run, which):
        self._run = run
        self._which = which

    def available(self):
        """Whether this host has dpkg and APT at all."""
        return all(self._which(tool) for tool in ("dpkg-query", "apt-get", "apt-cache"))

    def installed(self, names):
        """{name: version} of the names that are installed."""
        _rc, out, _err = self._run(
            ["dpkg-query", "-W", "-f", "${Package}\t${db:Status-Abbrev}\t${Version}\n"] + list(names)
        )
        # rc 1 only means some name is unknown to dpkg: the others are listed.
        return parse_dpkg_query(out)

    def candidates(self, names, options=()):
        """{name: candidate version} with the lists ``options`` point at."""
        _rc, out, _err = self._run(["apt-cache"] + list(options) + ["policy"] + list(names))
        return parse_policy(out)

    def fresh_candidates(self, names, sources):
        """Candidates from lists fetched now into a temporary folder.

        The host's sources plus ``sources`` (one-line ``deb`` entries of a
        source a role adds before it installs). Returns (candidates, error).
        """
        scratch = tempfile.mkdtemp(prefix="veza-apt-")
        try:
            parts = os.path.join(scratch, "sources.list.d")
            os.makedirs(os.path.join(scratch, "lists", "partial"))
            os.makedirs(os.path.join(scratch, "cache", "archives", "partial"))
            os.makedirs(parts)
            system_parts = "/etc/apt/sources.list.d"
            if os.path.isdir(system_parts):
                for entry in sorted(os.listdir(system_parts)):
                    if entry.endswith((".list", ".sources")):
                        os.symlink(os.path.join(system_parts, entry), os.path.join(parts, entry))
            if sources:
                with open(os.path.join(parts, "zz-veza-preflight.list"), "w", encoding="utf-8") as handle:
                    handle.write("".join(line + "\n" for line in sources))
            options = [
                "-o",
                "Dir::State::Lists=" + os.path.join(scratch, "lists"),
                "-o",
                "Dir::Cache=" + os.path.join(scratch, "cache"),
                "-o",
                "Dir::Etc::SourceParts=" + parts,
                # The scratch folder is root's: fetch as root rather than _apt.
                "-o",
                "APT::Sandbox::User=root",
            ]
            rc, _out, err = self._run(["apt-get"] + options + ["-q", "update"])
            if rc != 0:
                return {}, err.strip().splitlines()[-1] if err.strip() else f"apt-get update exited {rc}"
            return self.candidates(names, options), None
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def check(query, names, sources):
    """Sort ``names`` into installed, installable and missing; never changes the host."""
    invalid = bad_names(names)
    result = {
        "apt": query.available(),
        "installed": {},
        "installable": {},
        "missing": [],
        "lists": "host",
        "invalid": invalid,
    }
    names = [name for name in names if name not in invalid]
    if not result["apt"]:
        result["missing"] = invalid + names
        result["reason"] = reason(result)
        return result
    result["installed"] = query.installed(names) if names else {}
    wanted = [name for name in names if name not in result["installed"]]
    result["missing"] = list(invalid)
    if not wanted:
        result["reason"] = reason(result)
        return result
    found = query.candidates(wanted)
    if sources or any(name not in found for name in wanted):
        # The host's lists may be old, empty, or lack the source a role adds.
        fresh, error = query.fresh_candidates(wanted, sources)
        if error:
            result["lists_error"] = error  # what the host's own lists offer still counts
        else:
            found, result["lists"] = fresh, "fetched"
    result["installable"] = {name: found[name] for name in wanted if name in found}
    result["missing"] += [name for name in wanted if name not in found]
    result["reason"] = reason(result)
    return result


def reason(result):
    """Why the missing packages cannot be had, for a role's refusal message."""
    if not result["apt"]:
        return "this host has no APT: install them yourself and empty the list"
    parts = []
    if result["invalid"]:
        parts.append("not a Debian package name: " + ", ".join(json.dumps(name) for name in result["invalid"]))
    if set(result["missing"]) - set(result["invalid"]):
        parts.append("no configured APT source offers it")
    if "lists_error" in result:
        parts.append("fetching package lists failed: " + result["lists_error"])
    return "; ".join(parts)

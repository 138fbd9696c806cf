# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The zipapp builder behind the python_program action (plugin_utils/_zipapp.py)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile

import pytest

from ansible_collections.veza.coturn.plugins import module_utils
from ansible_collections.veza.coturn.plugins.plugin_utils._zipapp import PACKAGE, ZipappError, build, collect

MODULE_UTILS = list(module_utils.__path__)[0]  # a namespace package: its one folder
PREFIX = PACKAGE.replace(".", "/") + "/"


def units(files):
    return sorted({name[len(PREFIX) :].split("/")[0].removesuffix(".py") for name in files})


def test_the_relay_watch_takes_what_it_imports_and_nothing_else():
    assert units(collect(MODULE_UTILS, "_relay_watch.cli")) == [
        "_netns",
        "_relay_watch",
        "_stun",
        "_turn_probe",
        "_turn_rest",
    ]


def test_the_renewal_program_is_its_package_alone():
    assert units(collect(MODULE_UTILS, "_turn_rest.cli")) == ["_turn_rest"]


def test_the_archive_is_the_same_bytes_every_time():
    assert build(MODULE_UTILS, "_relay_watch.cli") == build(MODULE_UTILS, "_relay_watch.cli")


def test_the_archive_holds_the_files_as_they_are():
    with zipfile.ZipFile(io.BytesIO(build(MODULE_UTILS, "_turn_rest.cli"))) as archive:
        names = archive.namelist()
        assert names == sorted(names)
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        with open(os.path.join(MODULE_UTILS, "_turn_rest", "credentials.py"), "rb") as handle:
            assert archive.read(PREFIX + "_turn_rest/credentials.py") == handle.read()
        main = archive.read("__main__.py").decode()
        assert f"from {PACKAGE}._turn_rest.cli import main" in main


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("", "entry must name a module"),
        ("turn_rest.cli", "entry must name a module"),
        ("_turn_rest.cli\nimport os", "entry must name a module"),
        ("_turn_rest.nothing", "is not a module"),
        ("_nothing.cli", "is neither a package nor a module"),
    ],
)
def test_an_entry_that_is_not_there_is_refused_by_name(entry, message):
    with pytest.raises(ZipappError, match=message):
        build(MODULE_UTILS, entry)


@pytest.mark.parametrize(("entry", "prog"), [("_relay_watch.cli", "relay-watch"), ("_turn_rest.cli", "watch.pyz")])
def test_the_program_runs_on_a_bare_python(tmp_path, entry, prog):
    # -E -S: no site-packages and no PYTHONPATH, as on a host without Ansible.
    path = tmp_path / "watch.pyz"
    path.write_bytes(build(MODULE_UTILS, entry))
    done = subprocess.run(
        [sys.executable, "-E", "-S", str(path), "--help"], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: {prog}")

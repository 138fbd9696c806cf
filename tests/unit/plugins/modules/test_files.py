# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""veza.coturn.files: several folders and files in one round; main() runs for real in a temporary folder."""

from __future__ import annotations

import grp
import os
import pwd
import stat

import pytest

from ansible_collections.veza.coturn.plugins.modules import files as files_module
from ansible_collections.veza.coturn.tests.unit.plugins.module_main import run_main

OWNER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name
SECRET = "s3cret-key-material-0123456789"


def run(capsys, check_mode=False, diff=False, **params):
    return run_main(files_module, capsys, check_mode=check_mode, diff=diff, **params)


def entry(path, content, mode="0640", **extra):
    return {"path": str(path), "content": content, "owner": OWNER, "group": GROUP, "mode": mode, **extra}


def folder(path, mode="0750"):
    return {"path": str(path), "owner": OWNER, "group": GROUP, "mode": mode}


def test_writes_what_is_missing_then_changes_nothing(tmp_path, capsys):
    conf, key = tmp_path / "etc" / "a.conf", tmp_path / "etc" / "key.pem"
    params = {
        "directories": [folder(tmp_path / "etc")],
        "files": [entry(conf, "a=1\n"), entry(key, SECRET, secret=True)],
    }
    code, _raw, result = run(capsys, **params)
    assert code == 0 and result["changed"]
    assert result["changed_paths"] == [str(tmp_path / "etc"), str(conf), str(key)]
    assert conf.read_text() == "a=1\n" and key.read_text() == SECRET
    assert stat.S_IMODE(key.stat().st_mode) == 0o640 and stat.S_IMODE((tmp_path / "etc").stat().st_mode) == 0o750
    code, _raw, result = run(capsys, **params)
    assert code == 0 and not result["changed"] and result["changed_paths"] == []


def test_check_mode_reports_and_writes_nothing(tmp_path, capsys):
    conf = tmp_path / "new" / "a.conf"
    code, _raw, result = run(
        capsys, check_mode=True, directories=[folder(tmp_path / "new")], files=[entry(conf, "a=1\n")]
    )
    assert code == 0 and result["changed"] and result["changed_paths"] == [str(tmp_path / "new"), str(conf)]
    assert not (tmp_path / "new").exists()


def test_a_changed_file_hands_back_what_it_held_and_a_new_one_none(tmp_path, capsys):
    old, new = tmp_path / "old.conf", tmp_path / "new.conf"
    old.write_text("a=1\n")
    code, _raw, result = run(
        capsys, files=[entry(old, "a=2\n", keep_previous=True), entry(new, "b=1\n", keep_previous=True)]
    )
    assert code == 0 and result["previous"] == {str(old): "a=1\n", str(new): None}
    assert old.read_text() == "a=2\n"


def test_only_the_mode_differs(tmp_path, capsys):
    conf = tmp_path / "a.conf"
    conf.write_text("a=1\n")
    os.chmod(conf, 0o644)
    code, _raw, result = run(capsys, files=[entry(conf, "a=1\n", mode="0600")])
    assert code == 0 and result["changed_paths"] == [str(conf)] and stat.S_IMODE(conf.stat().st_mode) == 0o600


def test_a_secret_is_in_no_result_and_no_diff(tmp_path, capsys):
    key = tmp_path / "key.pem"
    key.write_text("old-" + SECRET)
    code, raw, result = run(capsys, diff=True, files=[entry(key, SECRET, secret=True, keep_previous=True)])
    assert code == 0 and result["changed"]
    assert SECRET not in raw and result["previous"] == {}
    assert result["diff"][0]["after"] == "(secret, not shown)\n"


def test_a_plain_file_shows_its_diff(tmp_path, capsys):
    conf = tmp_path / "a.conf"
    conf.write_text("a=1\n")
    code, _raw, result = run(capsys, diff=True, files=[entry(conf, "a=2\n")])
    assert code == 0 and result["diff"] == [
        {"before_header": str(conf), "after_header": str(conf), "before": "a=1\n", "after": "a=2\n"}
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"files": [{"path": "relative.conf", "content": "x"}]}, "is not an absolute path"),
        ({"files": [{"path": "/nonexistent-veza/dir/a.conf", "content": "x"}]}, "does not exist: list it under"),
        ({"files": [{"path": "/tmp/veza-x.conf", "content": "x", "owner": "no-such-user-veza"}]}, "is not a user"),
        ({"directories": [{"path": "/etc/passwd"}]}, "is not a folder"),
        ({"files": [{"path": "/tmp/veza-x.conf", "content": "x", "mode": "99"}]}, "mode"),
    ],
)
def test_what_cannot_be_made_is_refused_by_name(capsys, params, message):
    code, _raw, result = run(capsys, **params)
    assert code == 1 and result["failed"] and message in result["msg"]
    assert not os.path.exists("/tmp/veza-x.conf")

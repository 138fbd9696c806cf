# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run ``ansible-test sanity`` on this checkout, offline.

Two things stand between ``ansible-test`` and a plain clone of this repository:

* it only tests a collection that sits in an ``ansible_collections/NS/NAME``
  folder, and resolves symbolic links first, so the ``.collections`` link
  does not do; the files git tracks (and untracked ones it does not ignore)
  are copied to ``.cache/sanity/ansible_collections/veza/coturn`` instead;
* it bootstraps pip into each of its virtualenvs with a ``get-pip`` script
  downloaded from a CI file server that this network does not reach.  It
  reads that script from ``~/.ansible/test/cache/get_pip_<version>.py``
  when the file is there, so one is written that runs the pip package of
  the virtualenv running this script (a copy of the package only, without
  its metadata, so the new virtualenv's pip is not mistaken for an
  installed one).

Arguments after the script name go to ``ansible-test sanity``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pip
from ansible_test._internal import python_requirements

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COPY = os.path.join(REPO, ".cache", "sanity", "ansible_collections", "veza", "coturn")
CACHE = os.path.expanduser("~/.ansible/test/cache")
# Written into the bootstrap script so that a script of someone else's
# (a real get-pip download) is never overwritten.
MARKER = "# veza.coturn offline pip bootstrap"

BOOTSTRAP = '''{marker}
"""ansible-test's pip bootstrap without a download: runs a copy of pip {source_version}."""
import sys

sys.path.insert(0, {path!r})
from pip._internal.cli.main import main  # noqa: E402

# As get-pip.py: its arguments are packages and pip options for an install;
# --no-setuptools and --no-wheel are get-pip's own (install only what is named).
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--upgrade", "--force-reinstall"] + args))
'''


class _Python:  # pylint: disable=too-few-public-methods
    """What get_venv_packages reads of ansible-test's PythonConfig."""

    def __init__(self, version):
        self.version = version


def write_bootstrap():
    """Provide the pip bootstrap script ansible-test looks for in its cache."""
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    pip_version = python_requirements.get_venv_packages(_Python(version))["pip"]
    script = os.path.join(CACHE, f"get_pip_{pip_version.replace('.', '_')}.py")
    if os.path.exists(script):
        with open(script, encoding="utf-8") as handle:
            if MARKER not in handle.readline():
                return script
    package_root = os.path.join(CACHE, "veza_coturn_pip")
    shutil.rmtree(package_root, ignore_errors=True)
    shutil.copytree(os.path.dirname(pip.__file__), os.path.join(package_root, "pip"))
    os.makedirs(CACHE, exist_ok=True)
    with open(script, "w", encoding="utf-8") as handle:
        handle.write(BOOTSTRAP.format(marker=MARKER, source_version=pip.__version__, path=package_root))
    return script


def copy_checkout():
    """Copy what git would commit into an ansible_collections tree."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.decode()
    shutil.rmtree(COPY, ignore_errors=True)
    for relative in filter(None, listing.split("\0")):
        source = os.path.join(REPO, relative)
        if not os.path.isfile(source):  # deleted in the work tree, not yet committed
            continue
        target = os.path.join(COPY, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    # ansible-test lists a collection's files with git when it is a checkout.
    subprocess.run(["git", "init", "-q"], cwd=COPY, check=True)
    subprocess.run(["git", "add", "-A"], cwd=COPY, check=True)


def main():
    """Copy, bootstrap, run; exit with ansible-test's status."""
    # ansible-test only warns and skips its shellcheck test without it.
    if not shutil.which("shellcheck"):
        print(
            "sanity: shellcheck is not installed, and ansible-test would skip its shellcheck test;"
            " `make test-prerequisites` installs it (Debian package shellcheck).",
            file=sys.stderr,
        )
        return 1
    copy_checkout()
    write_bootstrap()
    ansible_test = os.path.join(os.path.dirname(sys.executable), "ansible-test")
    command = [ansible_test, "sanity", "--local", "--python", f"{sys.version_info[0]}.{sys.version_info[1]}"]
    return subprocess.run(command + sys.argv[1:], cwd=COPY, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make ``ansible_collections.veza.coturn`` importable from this checkout.

The repository root is the collection; ``.collections/ansible_collections/
veza/coturn`` links back to it (the same link ``ansible.cfg`` relies on).
Idempotent and safe when several test files or helpers race to create it.
Under ``ansible-test units`` the checkout already sits in an
``ansible_collections/veza/coturn`` tree and nothing is done.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_COLLECTIONS = os.path.join(_REPO, ".collections")
_LINK = os.path.join(_COLLECTIONS, "ansible_collections", "veza", "coturn")


def _already_in_collection_tree():
    parts = _REPO.rstrip(os.sep).split(os.sep)
    return parts[-3:] == ["ansible_collections", "veza", "coturn"]


if not _already_in_collection_tree():
    if not os.path.lexists(_LINK):
        os.makedirs(os.path.dirname(_LINK), exist_ok=True)
        try:
            os.symlink("../../..", _LINK)
        except FileExistsError:
            pass
    if _COLLECTIONS not in sys.path:
        sys.path.insert(0, _COLLECTIONS)


@pytest.fixture
def scratch_netns(request):
    """A network namespace of the test's own, only loopback up; removed afterwards."""
    if os.geteuid() != 0 or not shutil.which("ip"):
        pytest.skip("needs root and iproute2")
    name = "vzc-%d-%d" % (os.getpid(), abs(hash(request.node.nodeid)) % 10000)
    if subprocess.run(["ip", "netns", "add", name], capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot create a network namespace here")
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True, capture_output=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures shared by the plugin unit tests."""

from __future__ import annotations

import pytest

from ansible_collections.veza.coturn.tests.unit.plugins.incus_fake import serve_unix


@pytest.fixture
def fake(tmp_path):
    """A fake Incus daemon on a unix socket (tests/unit/plugins/incus_fake.py)."""
    yield from serve_unix(tmp_path)

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The package check behind host_packages: parsing dpkg/apt output and sorting names.

dpkg and apt are faked here (their output is what bookworm's print); the
integration tests run the module against the real ones.
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.veza.coturn.plugins.module_utils import _apt

POLICY = """nftables:
  Installed: (none)
  Candidate: 1.0.6-2+deb12u2
  Version table:
     1.0.6-2+deb12u2 500
        500 http://deb.debian.org/debian bookworm/main amd64 Packages
incus-base:
  Installed: (none)
  Candidate: (none)
  Version table:
libc6:amd64:
  Installed: 2.36-9+deb12u10
  Candidate: 2.36-9+deb12u10
"""

DPKG = "iproute2\tii \t6.1.0-3\nconntrack\trc \t1:1.4.7-1+b2\nlibc6:amd64\tii \t2.36-9+deb12u10\n"


def test_policy_keeps_only_real_candidates():
    assert _apt.parse_policy(POLICY) == {"nftables": "1.0.6-2+deb12u2", "libc6": "2.36-9+deb12u10"}


def test_dpkg_query_counts_only_installed_packages():
    # "rc": removed, configuration files left: not installed.
    assert _apt.parse_dpkg_query(DPKG) == {"iproute2": "6.1.0-3", "libc6": "2.36-9+deb12u10"}


@pytest.mark.parametrize(
    "name, ok",
    [
        ("nftables", True),
        ("g++", True),
        ("libc6.1", True),
        ("x", False),
        ("Nftables", False),
        ("-rf", False),
        ("a b", False),
        ("nft\nables", False),
        ("", False),
    ],
)
def test_package_names(name, ok):
    assert (_apt.bad_names([name]) == []) is ok


class FakeApt:
    """dpkg-query and apt-cache answers; records every command."""

    def __init__(self, installed, host_lists, fresh_lists, update_rc=0, tools=True):
        self.installed, self.host_lists, self.fresh_lists = installed, host_lists, fresh_lists
        self.update_rc, self.tools, self.commands = update_rc, tools, []

    def run(self, argv):
        self.commands.append(argv)
        fresh = any(str(arg).startswith("Dir::State::Lists=") for arg in argv)
        if argv[0] == "dpkg-query":
            names = argv[3:]
            return 1, "".join(f"{n}\tii \t1.0\n" for n in names if n in self.installed), ""
        if argv[0] == "apt-get":
            parts = next(a.split("=", 1)[1] for a in argv if str(a).startswith("Dir::Etc::SourceParts="))
            self.parts_seen = sorted(os.listdir(parts))
            extra = os.path.join(parts, "zz-veza-preflight.list")
            self.extra_seen = open(extra, encoding="utf-8").read() if os.path.exists(extra) else None
            return self.update_rc, "", "" if self.update_rc == 0 else "E: Failed to fetch something\n"
        if argv[0] == "apt-cache":
            names = argv[argv.index("policy") + 1 :]
            lists = self.fresh_lists if fresh else self.host_lists
            return 0, "".join(f"{n}:\n  Installed: (none)\n  Candidate: {lists.get(n, '(none)')}\n" for n in names), ""
        raise AssertionError(argv)

    def which(self, _tool):
        return self.tools


def _check(fake, names, sources=()):
    return _apt.check(_apt.AptQuery(fake.run, fake.which), names, list(sources))


def test_everything_installed_asks_apt_nothing():
    fake = FakeApt({"iproute2", "nftables"}, {}, {})
    result = _check(fake, ["iproute2", "nftables"])
    assert result["missing"] == [] and result["installable"] == {} and result["lists"] == "host"
    assert [c[0] for c in fake.commands] == ["dpkg-query"] and result["reason"] == ""


def test_host_lists_answer_without_a_fetch():
    fake = FakeApt({"iproute2"}, {"nftables": "1.0.6"}, {})
    result = _check(fake, ["iproute2", "nftables"])
    assert result["installable"] == {"nftables": "1.0.6"} and result["lists"] == "host"
    assert "apt-get" not in [c[0] for c in fake.commands]


def test_old_host_lists_lead_to_fresh_ones_in_a_scratch_folder():
    fake = FakeApt(set(), {}, {"nftables": "1.0.6"})
    result = _check(fake, ["nftables", "veza-no-such"])
    assert result == {
        "apt": True,
        "installed": {},
        "installable": {"nftables": "1.0.6"},
        "missing": ["veza-no-such"],
        "lists": "fetched",
        "invalid": [],
        "reason": "no configured APT source offers it",
    }
    update = next(c for c in fake.commands if c[0] == "apt-get")
    scratch = next(a.split("=", 1)[1] for a in update if str(a).startswith("Dir::State::Lists="))
    assert "veza-apt-" in scratch
    assert not os.path.exists(os.path.dirname(scratch)), "the scratch folder is removed"


def test_a_source_the_role_adds_is_asked_too():
    line = "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main"
    fake = FakeApt(set(), {}, {"incus-base": "6.0.4"})
    result = _check(fake, ["incus-base"], [line])
    assert result["installable"] == {"incus-base": "6.0.4"}
    assert fake.extra_seen == line + "\n"
    assert "zz-veza-preflight.list" in fake.parts_seen


def test_a_failed_fetch_is_reported_and_the_host_lists_still_count():
    fake = FakeApt(set(), {"conntrack": "1.4.7"}, {"nftables": "1.0.6"}, update_rc=100)
    result = _check(fake, ["nftables", "conntrack"])
    assert result["missing"] == ["nftables"] and result["lists_error"] == "E: Failed to fetch something"
    assert result["installable"] == {"conntrack": "1.4.7"} and result["lists"] == "host"
    assert (
        result["reason"]
        == "no configured APT source offers it; fetching package lists failed: E: Failed to fetch something"
    )


def test_a_host_without_apt_has_everything_missing():
    fake = FakeApt(set(), {}, {}, tools=False)
    result = _check(fake, ["nftables"])
    assert result["apt"] is False and result["missing"] == ["nftables"] and fake.commands == []
    assert result["reason"] == "this host has no APT: install them yourself and empty the list"


def test_a_name_that_cannot_be_a_package_is_missing_and_never_reaches_apt():
    fake = FakeApt({"iproute2"}, {}, {})
    result = _check(fake, ["iproute2", "nft\nables", "-o=x"])
    assert result["missing"] == ["nft\nables", "-o=x"] and result["invalid"] == ["nft\nables", "-o=x"]
    assert all("-o=x" not in command and "nft\nables" not in command for command in fake.commands)
    assert result["reason"] == 'not a Debian package name: "nft\\nables", "-o=x"'

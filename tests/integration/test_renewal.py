# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backend's TURN REST credential is renewed on time by its own timer.

The local site's backend container runs the veza-turn-renew timer that
webrtc_backend_env installs. With a TTL of 60 s (renewal once 30 s are left)
and the timer every 10 s, the test watches the env file for two renewals
while allocating every few seconds with whatever credential the file holds
at that moment, from the simulated internet:

* no allocation is ever refused (no 401 across the renewals);
* the backend's reload command ran exactly once per renewal, after the new
  credential was in the file, and never otherwise;
* the credential from before the first renewal is refused once it expired;
* the renewal's journal lines name the files and the username, never the
  secret or a credential.

No test waits a day: the TTL makes it short (about 100 s).
"""

from __future__ import annotations

import os
import time

import pytest

import backend
from test_credentials import deploy, env_file, probe, secret_values

TTL, INTERVAL = 60, 10
RELOAD_SCRIPT = "/usr/local/bin/veza-test-reload"
RELOAD_LOG = "/root/veza-test-reloads"
# The reload command of the test: one line per run, with the username the
# env file holds when it runs.
RELOAD_SOURCE = """#!/bin/sh
set -e
. /etc/veza/webrtc.env
echo "$(date +%s) $WEBRTC_TURN_USERNAME" >> /root/veza-test-reloads
"""
RENEWAL_VARS = {
    "webrtc_backend_env_credential_ttl": TTL,
    "webrtc_backend_env_renewal_interval": INTERVAL,
    "webrtc_backend_env_reload_command": RELOAD_SCRIPT,
}
# Bounded: two renewals come at about 30 s and 60 s after the deploy's mint.
WATCH_SECONDS = 140
PROBE_EVERY = 3

pytestmark = pytest.mark.skipif(
    os.environ.get("VEZA_INTEGRATION") != "1" or os.geteuid() != 0,
    reason="needs VEZA_INTEGRATION=1, root and the local site",
)


@pytest.fixture(scope="module")
def short_lived_site():
    rc, dummy, out = deploy(skip_verify=True)
    assert rc == 0, out[-3000:]
    backend.sh(
        "cat > %s <<'EOF'\n%sEOF\nchmod 0755 %s; rm -f %s" % (RELOAD_SCRIPT, RELOAD_SOURCE, RELOAD_SCRIPT, RELOAD_LOG)
    )
    rc, dummy, out = deploy(RENEWAL_VARS)
    assert rc == 0, out[-3000:]
    yield
    # Back to the site's own TTL, no reload command, nothing of the test left.
    backend.sh("rm -f %s %s" % (RELOAD_SCRIPT, RELOAD_LOG))
    rc, dummy, out = deploy(skip_verify=True)
    assert rc == 0, out[-3000:]


def reloads():
    """[(time, username the env file held)] of every run of the reload command."""
    text = backend.sh("cat %s 2>/dev/null || true" % RELOAD_LOG)
    return [tuple(line.split(" ", 1)) for line in text.splitlines() if line]


def test_credential_renewed_before_expiry_without_a_refused_allocation(short_lived_site):
    first = env_file()
    assert first["WEBRTC_TURN_CREDENTIAL_TTL"] == str(TTL)
    start = time.time()
    # The deploy minted the first credential and ran the reload once for it.
    assert [u for dummy, u in reloads()] == [first["WEBRTC_TURN_USERNAME"]]
    first_reloads = len(reloads())

    seen = [first["WEBRTC_TURN_USERNAME"]]
    refused, probes = [], 0
    end = time.monotonic() + WATCH_SECONDS
    while time.monotonic() < end and len(seen) < 3:
        env = env_file()
        if env["WEBRTC_TURN_USERNAME"] != seen[-1]:
            seen.append(env["WEBRTC_TURN_USERNAME"])
        # Renewed with half the TTL left, by a timer every INTERVAL s.
        assert int(env["WEBRTC_TURN_USERNAME"]) - time.time() > TTL // 2 - INTERVAL - 3, env["WEBRTC_TURN_USERNAME"]
        result = probe(env["WEBRTC_TURN_USERNAME"], env["WEBRTC_TURN_CREDENTIAL"], checks=("allocate",))
        probes += 1
        if result["failure"] is not None:
            refused.append((round(time.time() - start), result["failure"]["class"], result["failure"]["explanation"]))
        time.sleep(PROBE_EVERY)
    assert len(seen) >= 3, "the timer renewed %d time(s) in %d s" % (len(seen) - 1, WATCH_SECONDS)
    assert not refused, refused
    assert probes >= 10

    # Once per renewal, each after the renewed credential was in the file.
    after = reloads()[first_reloads:]
    assert [u for dummy, u in after] == seen[1:], after

    journal = backend.sh("journalctl -u veza-turn-renew --no-pager -o cat --since=@%d" % int(start))
    renewed = [line for line in journal.splitlines() if line.startswith("renewed:")]
    assert len(renewed) == len(seen) - 1, journal
    for username in seen[1:]:
        assert any(username in line for line in renewed), (username, journal)
    leaked = [v[:4] + "..." for v in secret_values() + [first["WEBRTC_TURN_CREDENTIAL"]] if v in journal]
    assert not leaked, leaked

    print(
        "renewal: %d renewals in %d s, %d allocations, none refused; reloads %s"
        % (len(seen) - 1, time.time() - start, probes, [u for dummy, u in after])
    )

    # The first credential is not valid forever: coturn refuses it after its expiry.
    wait = int(first["WEBRTC_TURN_USERNAME"]) + 2 - time.time()
    assert wait < WATCH_SECONDS, wait
    time.sleep(max(0, wait))
    result = probe(first["WEBRTC_TURN_USERNAME"], first["WEBRTC_TURN_CREDENTIAL"], checks=("allocate",))
    assert result["failure"] is not None and result["failure"]["class"] == "unauthorized", result["failure"]
    current = env_file()
    assert (
        probe(current["WEBRTC_TURN_USERNAME"], current["WEBRTC_TURN_CREDENTIAL"], checks=("allocate",))["failure"]
        is None
    )

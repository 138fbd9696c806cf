# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The relay watch sees a relay go down and come back, with no rerun.

The local site's backend container runs the veza-relay-watch timer
(roles/relay_watch) every INTERVAL s; it probes coturn-local through its
public address (the nat hairpin of turn_instance) and writes node_exporter's
textfile. The test stops coturn in its container:

* every listener's veza_coturn_relay_up goes to 0 within one watch period,
  and the journal names the failure class of each;
* it returns to 1 within one period after coturn is started again;
* node_exporter serves the same values, and reads the file without error;
* no secret, credential or username reaches the journal or the metrics file.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import urllib.request

import pytest

import backend
from test_credentials import INSTANCE, deploy, env_file, secret_values

INTERVAL = 15
METRICS = "/var/lib/prometheus/node-exporter/veza_coturn.prom"
LISTENERS = (
    "turn:198.51.100.1:3478?transport=udp",
    "turn:198.51.100.1:3478?transport=tcp",
    "turns:198.51.100.1:5349?transport=tcp",
)
# One period, plus the run itself (at most a few probe timeouts).
DEADLINE = INTERVAL + 15

pytestmark = pytest.mark.skipif(
    os.environ.get("VEZA_INTEGRATION") != "1" or os.geteuid() != 0,
    reason="needs VEZA_INTEGRATION=1, root and the local site",
)


def up():
    """{listener: value of veza_coturn_relay_up} from the metrics file."""
    text = backend.sh("cat %s" % METRICS)
    return {
        m.group(1): int(m.group(2))
        for m in re.finditer(
            r'^veza_coturn_relay_up\{relay="coturn-local",listener="([^"]+)",[^}]*\} (\d)$', text, re.M
        )
    }


def wait_for(value, deadline):
    start = time.monotonic()
    seen = {}
    while time.monotonic() - start < deadline:
        seen = up()
        if sorted(seen) == sorted(LISTENERS) and set(seen.values()) == {value}:
            return time.monotonic() - start
        time.sleep(1)
    raise AssertionError("relay_up did not become %d within %d s: %s" % (value, deadline, seen))


@pytest.fixture(scope="module")
def watched_site():
    rc, dummy, out = deploy({"relay_watch_interval": INTERVAL}, skip_verify=True)
    assert rc == 0, out[-3000:]
    yield
    subprocess.run(["incus", "exec", INSTANCE, "--", "systemctl", "start", "coturn"], check=False)
    rc, dummy, out = deploy(skip_verify=True)
    assert rc == 0, out[-3000:]


def test_watch_sees_a_stopped_relay_and_its_return(watched_site):
    wait_for(1, DEADLINE)
    since = int(time.time())
    subprocess.run(["incus", "exec", INSTANCE, "--", "systemctl", "stop", "coturn"], check=True)
    try:
        down_after = wait_for(0, DEADLINE)
        metrics_down = backend.sh("cat %s" % METRICS)
    finally:
        subprocess.run(["incus", "exec", INSTANCE, "--", "systemctl", "start", "coturn"], check=True)
    back_after = wait_for(1, DEADLINE)
    print("relay watch: down after %.0f s, up again after %.0f s (period %d s)" % (down_after, back_after, INTERVAL))

    classes = dict(
        re.findall(
            r'^veza_coturn_relay_failure\{relay="coturn-local",listener="([^"]+)",[^}]*class="([a-z_]+)"\} 1$',
            metrics_down,
            re.M,
        )
    )
    assert sorted(classes) == sorted(LISTENERS), metrics_down
    journal = backend.sh("journalctl -u veza-relay-watch --no-pager -o cat --since=@%d" % since)
    for listener, cls in classes.items():
        assert re.search(r"^relay-watch: coturn-local %s FAILED %s: \S" % (re.escape(listener), cls), journal, re.M), (
            listener,
            cls,
            journal,
        )
    assert "relay-watch: 3/3 listeners of 1 relay up" in journal
    print("journal while down:", [line for line in journal.splitlines() if "FAILED" in line][:3])

    # What node_exporter serves is what the file says, read without error.
    with urllib.request.urlopen("http://10.210.30.30:9100/metrics", timeout=10) as response:
        served = response.read().decode()
    assert "node_textfile_scrape_error 0" in served
    assert re.search(
        r'^veza_coturn_relay_up\{listener="turn:198.51.100.1:3478\?transport=udp",relay="coturn-local",'
        r'transport="udp"\} 1$',
        served,
        re.M,
    ), served[-2000:]


def test_no_secret_in_the_journal_or_the_metrics(watched_site):
    env = env_file()
    everything = backend.sh("journalctl --no-pager -o cat -u veza-relay-watch -u veza-turn-renew") + backend.sh(
        "cat %s" % METRICS
    )
    values = secret_values() + [env["WEBRTC_TURN_CREDENTIAL"]]
    leaked = [v[:4] + "..." for v in values if v in everything]
    assert not leaked, leaked
    # Nor the username the backend hands out, in the watch's own output.
    assert env["WEBRTC_TURN_USERNAME"] not in backend.sh(
        "journalctl --no-pager -o cat -u veza-relay-watch"
    ) + backend.sh("cat %s" % METRICS)

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The relay watch program of the backend host (plugins/module_utils/_relay_watch/):
the metrics text and its atomic file.
"""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.veza.coturn.plugins.module_utils._relay_watch.metrics import (
    escape_label,
    format_value,
    render,
    write_metrics,
)
from ansible_collections.veza.coturn.tests.unit.plugins.module_utils._relay_watch.relay_watch_files import NOW

# --------------------------------------------------------------------------
# Metrics


GOLDEN = r"""# HELP veza_coturn_relay_up 1 when the probe of the relay listener through its public address passed, else 0.
# TYPE veza_coturn_relay_up gauge
veza_coturn_relay_up{relay="coturn-local",listener="turn:198.51.100.1:3478?transport=udp",transport="udp"} 1
veza_coturn_relay_up{relay="coturn-local",listener="turns:198.51.100.1:5349?transport=tcp",transport="tls"} 0
veza_coturn_relay_up{relay="we\"ird\\relay\nname",listener="turn:[2001:db8::1]:3478?transport=tcp",transport="tcp"} 0
# HELP veza_coturn_relay_rtt_seconds Seconds the STUN Binding transaction took (tcp/tls: with the connection and TLS handshake); only for listeners that are up.
# TYPE veza_coturn_relay_rtt_seconds gauge
veza_coturn_relay_rtt_seconds{relay="coturn-local",listener="turn:198.51.100.1:3478?transport=udp",transport="udp"} 0.001235
# HELP veza_coturn_relay_relayed_address_match 1 when the relayed address of the probe's allocation has the relay's expected IP, else 0.
# TYPE veza_coturn_relay_relayed_address_match gauge
veza_coturn_relay_relayed_address_match{relay="coturn-local",listener="turn:198.51.100.1:3478?transport=udp",transport="udp"} 1
veza_coturn_relay_relayed_address_match{relay="we\"ird\\relay\nname",listener="turn:[2001:db8::1]:3478?transport=tcp",transport="tcp"} 0
# HELP veza_coturn_relay_failure 1 for a failing listener, with the failure class turn_probe gives.
# TYPE veza_coturn_relay_failure gauge
veza_coturn_relay_failure{relay="coturn-local",listener="turns:198.51.100.1:5349?transport=tcp",transport="tls",class="tls_error"} 1
veza_coturn_relay_failure{relay="we\"ird\\relay\nname",listener="turn:[2001:db8::1]:3478?transport=tcp",transport="tcp",class="wrong_relayed_address"} 1
# HELP veza_coturn_relay_info The SOFTWARE the relay announces (coturn's version), value 1.
# TYPE veza_coturn_relay_info gauge
veza_coturn_relay_info{relay="coturn-local",listener="turn:198.51.100.1:3478?transport=udp",software="Coturn-4.6.1 'Gorst'"} 1
veza_coturn_relay_info{relay="we\"ird\\relay\nname",listener="turn:[2001:db8::1]:3478?transport=tcp",software="Fake \"Turn\" \\ 1"} 1
# HELP veza_coturn_tls_certificate_expiry_seconds Seconds until the notAfter of the certificate the TLS listener presents (negative: expired).
# TYPE veza_coturn_tls_certificate_expiry_seconds gauge
veza_coturn_tls_certificate_expiry_seconds{relay="coturn-local",listener="turns:198.51.100.1:5349?transport=tcp"} -3600
# HELP veza_coturn_backend_credential_expiry_seconds Seconds until the TURN REST username in the backend env file expires (negative: expired).
# TYPE veza_coturn_backend_credential_expiry_seconds gauge
veza_coturn_backend_credential_expiry_seconds 150
# HELP veza_coturn_watch_last_run_timestamp_seconds Unix time the relay watch run started.
# TYPE veza_coturn_watch_last_run_timestamp_seconds gauge
veza_coturn_watch_last_run_timestamp_seconds 1796408000.25
# HELP veza_coturn_watch_duration_seconds Duration of the relay watch run, seconds.
# TYPE veza_coturn_watch_duration_seconds gauge
veza_coturn_watch_duration_seconds 1.5
"""


def outcome(relay_name, url, transport, **over):
    item = {
        "relay": relay_name,
        "listener": url,
        "transport": transport,
        "checks": ["binding", "allocate"],
        "up": True,
        "rtt": None,
        "match": None,
        "failure_class": None,
        "explanation": None,
        "software": None,
        "not_after": None,
    }
    item.update(over)
    return item


def test_render_golden_text_with_escaped_labels():
    outcomes = [
        outcome(
            "coturn-local",
            "turn:198.51.100.1:3478?transport=udp",
            "udp",
            rtt=0.0012346,
            match=1,
            software="Coturn-4.6.1 'Gorst'",
        ),
        outcome(
            "coturn-local",
            "turns:198.51.100.1:5349?transport=tcp",
            "tls",
            up=False,
            failure_class="tls_error",
            explanation="binding: TLS ...",
            not_after=NOW - 3600,
        ),
        outcome(
            'we"ird\\relay\nname',
            "turn:[2001:db8::1]:3478?transport=tcp",
            "tcp",
            up=False,
            match=0,
            failure_class="wrong_relayed_address",
            software='Fake "Turn" \\ 1',
        ),
    ]
    assert render(outcomes, NOW + 150, NOW + 0.25, 1.5, now=NOW) == GOLDEN


def test_render_leaves_out_empty_families():
    text = render([outcome("r", "stun:h:1", "udp", checks=["binding"], rtt=0.002)], None, NOW, 0.0)
    names = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")]
    assert names == [
        "veza_coturn_relay_up",
        "veza_coturn_relay_rtt_seconds",
        "veza_coturn_watch_last_run_timestamp_seconds",
        "veza_coturn_watch_duration_seconds",
    ]
    assert "veza_coturn_watch_duration_seconds 0\n" in text


def test_escape_label_and_values():
    assert escape_label('a\\b"c\nd') == 'a\\\\b\\"c\\nd'
    assert [format_value(v) for v in (True, 0, -5, 2.0, 0.25, 1e-05, 1796408000.125)] == [
        "1",
        "0",
        "-5",
        "2",
        "0.25",
        "1e-05",
        "1796408000.125",
    ]


def test_write_metrics_is_atomic_with_mode_0644(tmp_path):
    target = tmp_path / "veza_coturn.prom"
    old_umask = os.umask(0o077)
    try:
        write_metrics(str(target), "first 1\n")
        assert stat.S_IMODE(os.stat(target).st_mode) == 0o644
        inode = os.stat(target).st_ino
        write_metrics(str(target), "second 2\n")
    finally:
        os.umask(old_umask)
    assert target.read_text() == "second 2\n"
    assert os.stat(target).st_ino != inode  # replaced by a rename, not rewritten in place
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o644
    assert os.listdir(tmp_path) == ["veza_coturn.prom"]


def test_write_metrics_failure_leaves_nothing_behind(tmp_path):
    target = tmp_path / "veza_coturn.prom"
    target.mkdir()  # the rename onto a directory fails
    with pytest.raises(OSError):
        write_metrics(str(target), "x 1\n")
    assert os.listdir(tmp_path) == ["veza_coturn.prom"]

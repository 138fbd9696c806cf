# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The metrics file: the Prometheus text exposition format, replaced atomically."""

from __future__ import annotations

import os
import tempfile

_FAMILIES = (
    ("veza_coturn_relay_up", "1 when the probe of the relay listener through its public address passed, else 0."),
    (
        "veza_coturn_relay_rtt_seconds",
        "Seconds the STUN Binding transaction took (tcp/tls: with the connection and TLS handshake); "
        "only for listeners that are up.",
    ),
    (
        "veza_coturn_relay_relayed_address_match",
        "1 when the relayed address of the probe's allocation has the relay's expected IP, else 0.",
    ),
    ("veza_coturn_relay_failure", "1 for a failing listener, with the failure class turn_probe gives."),
    ("veza_coturn_relay_info", "The SOFTWARE the relay announces (coturn's version), value 1."),
    (
        "veza_coturn_tls_certificate_expiry_seconds",
        "Seconds until the notAfter of the certificate the TLS listener presents (negative: expired).",
    ),
    (
        "veza_coturn_backend_credential_expiry_seconds",
        "Seconds until the TURN REST username in the backend env file expires (negative: expired).",
    ),
    ("veza_coturn_watch_last_run_timestamp_seconds", "Unix time the relay watch run started."),
    ("veza_coturn_watch_duration_seconds", "Duration of the relay watch run, seconds."),
)


def escape_label(value):
    """A label value as the text exposition format wants it: backslash, double quote and line feed escaped."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_value(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    value = float(value)
    return "%d" % value if value.is_integer() and abs(value) < 1e15 else repr(value)


def _sample(name, labels, value):
    if labels:
        inner = ",".join(f'{key}="{escape_label(val)}"' for key, val in labels)
        return f"{name}{{{inner}}} {format_value(value)}"
    return f"{name} {format_value(value)}"


def render(outcomes, credential_expiry, started, duration, now=None):
    """The metrics file's text; families without samples are left out. now (default started) is the reference of the expiries."""
    now = started if now is None else now
    samples = {name: [] for name, _help in _FAMILIES}
    for o in outcomes:
        base = [("relay", o["relay"]), ("listener", o["listener"]), ("transport", o["transport"])]
        samples["veza_coturn_relay_up"].append((base, 1 if o["up"] else 0))
        if o["up"] and o["rtt"] is not None:
            samples["veza_coturn_relay_rtt_seconds"].append((base, round(o["rtt"], 6)))
        if o["match"] is not None:
            samples["veza_coturn_relay_relayed_address_match"].append((base, o["match"]))
        if not o["up"]:
            samples["veza_coturn_relay_failure"].append((base + [("class", o["failure_class"])], 1))
        if o["software"]:
            samples["veza_coturn_relay_info"].append((base[:2] + [("software", o["software"])], 1))
        if o["not_after"] is not None:
            samples["veza_coturn_tls_certificate_expiry_seconds"].append((base[:2], int(round(o["not_after"] - now))))
    if credential_expiry is not None:
        samples["veza_coturn_backend_credential_expiry_seconds"].append(([], int(round(credential_expiry - now))))
    samples["veza_coturn_watch_last_run_timestamp_seconds"].append(([], round(started, 3)))
    samples["veza_coturn_watch_duration_seconds"].append(([], round(duration, 3)))
    lines = []
    for name, help_text in _FAMILIES:
        if samples[name]:
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} gauge")
            lines.extend(_sample(name, labels, value) for labels, value in samples[name])
    return "\n".join(lines) + "\n"


def write_metrics(path, text):
    """Replace path with text in one rename: a temporary file in the same directory, synced, mode 0644."""
    directory = os.path.dirname(path)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fchmod(handle.fileno(), 0o644)
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    try:  # best effort: the new file is in place; some file systems refuse to sync a directory
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass

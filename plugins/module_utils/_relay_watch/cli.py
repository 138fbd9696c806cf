# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The relay watch's command line: probe every listener, write the metrics, one line per failure and one per run."""

from __future__ import annotations

import argparse
import os
import sys
import time

from ansible_collections.veza.coturn.plugins.module_utils._relay_watch.config import load_config
from ansible_collections.veza.coturn.plugins.module_utils._relay_watch.credentials import read_credentials
from ansible_collections.veza.coturn.plugins.module_utils._relay_watch.errors import WatchError
from ansible_collections.veza.coturn.plugins.module_utils._relay_watch.listener import probe_listener
from ansible_collections.veza.coturn.plugins.module_utils._relay_watch.metrics import render, write_metrics

PROG = "relay-watch"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (status 2, as other configuration errors)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def _plural(count, word):
    return f"{count} {word}" + ("" if count == 1 else "s")


def main(argv=None, now=None, probe=None, not_after=None):
    """The command line; returns the exit status. now, probe and not_after are for tests."""
    parser = _Parser(
        prog=PROG,
        description="Probe every TURN relay listener through its public address and write Prometheus metrics "
        "for node_exporter's textfile collector.",
    )
    parser.add_argument("--config", required=True, metavar="FILE", help="JSON settings written by the veza.coturn role")
    args = parser.parse_args(argv)
    started = time.time() if now is None else now
    clock = time.monotonic()
    try:
        config = load_config(args.config)
        directory = os.path.dirname(config["metrics"])
        if not os.path.isdir(directory):
            raise WatchError(
                f"{args.config}: the directory of metrics, {directory}, does not exist; it must be node_exporter's "
                f"textfile collector directory (--collector.textfile.directory), made before the watch runs"
            )
        creds = read_credentials(config["env"], started)
        outcomes = []
        for relay in config["relays"]:
            for listener in relay["listeners"]:
                outcome = probe_listener(config, relay, listener, creds, probe, not_after)
                outcomes.append(outcome)
                if not outcome["up"]:
                    explanation = creds.redact(" ".join(str(outcome["explanation"]).split()))
                    sys.stderr.write(
                        f"{PROG}: {outcome['relay']} {outcome['listener']} FAILED {outcome['failure_class']}: {explanation}\n"
                    )
                    sys.stderr.flush()
    except WatchError as exc:
        sys.stderr.write(f"{PROG}: {exc}\n")
        return 2
    text = render(outcomes, creds.expiry, started, time.monotonic() - clock)
    try:
        write_metrics(config["metrics"], creds.redact(text, usernames=False))
    except OSError as exc:
        sys.stderr.write(f"{PROG}: cannot write the metrics file {config['metrics']}: {exc.strerror or exc}\n")
        return 2
    up = sum(1 for o in outcomes if o["up"])
    summary = f"{PROG}: {up}/{len(outcomes)} {'listener' if len(outcomes) == 1 else 'listeners'} of {_plural(len(config['relays']), 'relay')} up"
    if creds.username is None:
        summary += f" (binding only: TURN is off in {config['env']})"
    sys.stdout.write(summary + "\n")
    return 0 if up == len(outcomes) else 1

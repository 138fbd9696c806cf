# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TURN REST credentials per second: the collection's minting code against a bare HMAC loop.

Mints with `_turn_rest.mint()` (plugins/module_utils/_turn_rest/credentials.py,
what the backend host's renewal program runs) and with the
`turn_rest_credentials` filter function (plugins/filter/turn_credentials.py,
what the roles run: a thin wrapper over it), and, as the reference, a bare
loop written here: the same username (`<now + ttl>:<user>`) and
base64(HMAC-SHA1(secret, username)), nothing checked. The three run in
interleaved rounds, in a rotating order, so that drift of this shared
machine hits them alike; the figures are the median rate of each and its
ratio to the bare loop.

    .venv/bin/python benchmarks/minting.py [--rounds 9] [--count 20000]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".collections"))

# pylint: disable=wrong-import-position
from _common import machine_info, plot_path, progress, section, write_result  # noqa: E402
from ansible_collections.veza.coturn.plugins.filter import turn_credentials  # noqa: E402
from ansible_collections.veza.coturn.plugins.module_utils import _turn_rest  # noqa: E402

NAME = "minting"
SECRET = "bench-secret-0123456789abcdefghijklmnopqrstuvwxyzAB"  # 50 characters, like a generated one
TTL = 86400
USER = "veza-bench"


def bare(count):
    """The reference: expiry, username, base64(HMAC-SHA1), nothing else."""
    key = SECRET.encode("utf-8")
    last = None
    for _i in range(count):
        username = f"{int(time.time()) + TTL}:{USER}"
        digest = hmac.new(key, username.encode("utf-8"), hashlib.sha1).digest()
        last = {"username": username, "credential": base64.b64encode(digest).decode("ascii")}
    return last


def module_utils(count):
    last = None
    for _i in range(count):
        last = _turn_rest.mint(SECRET, TTL, user=USER)
    return last


def filter_plugin(count):
    last = None
    for _i in range(count):
        last = turn_credentials.turn_rest_credentials(SECRET, ttl=TTL, user=USER)
    return last


KINDS = (
    ("bare HMAC-SHA1 + base64 loop (reference)", bare),
    ("module_utils _turn_rest.mint()", module_utils),
    ("filter turn_rest_credentials", filter_plugin),
)


def check_agree():
    """All three produce the same credential for the same username (else the comparison means nothing)."""
    ref = bare(1)
    minted = _turn_rest.mint(SECRET, TTL, user=USER, now=int(ref["username"].split(":")[0]) - TTL)
    filtered = turn_credentials.turn_rest_credentials(SECRET, ttl=TTL, user=USER, now=minted["expires_at"] - TTL)
    for got in (minted, filtered):
        if (got["username"], got["credential"]) != (ref["username"], ref["credential"]):
            raise SystemExit(f"{NAME}: the minting code and the bare loop disagree: {got} vs {ref}")


def plot(rates, rounds):
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    path, filename = plot_path(NAME, "rates")
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, _fn in KINDS:
        ax.plot(range(1, rounds + 1), [r / 1000 for r in rates[label]], marker="o", label=label)
    ax.set_xlabel("round (the three interleaved in each)")
    ax.set_ylabel("thousand credentials per second")
    ax.set_ylim(bottom=0)
    ax.set_title("TURN REST minting rate, side by side")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return filename


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--count", type=int, default=20000, help="credentials per kind and round")
    args = parser.parse_args()
    started = time.monotonic()

    check_agree()
    progress(NAME, f"{args.rounds} rounds of {args.count} credentials per kind, interleaved")
    for _label, fn in KINDS:  # warm up
        fn(min(args.count, 2000))
    rates = {label: [] for label, _fn in KINDS}
    for rnd in range(args.rounds):
        order = KINDS[rnd % 3 :] + KINDS[: rnd % 3]  # rotate who goes first
        for label, fn in order:
            start = time.perf_counter()
            fn(args.count)
            rates[label].append(args.count / (time.perf_counter() - start))
        progress(
            NAME,
            f"round {rnd + 1}/{args.rounds}: "
            + ", ".join(f"{label.split(' ', maxsplit=1)[0]} {rates[label][-1]:,.0f}/s" for label, _fn in KINDS),
        )

    ref_label = KINDS[0][0]
    ref = statistics.median(rates[ref_label])
    rows = []
    for label, _fn in KINDS:
        med = statistics.median(rates[label])
        # Per-round ratio (same round, side by side), then its median.
        ratios = [r / b for r, b in zip(rates[label], rates[ref_label])]
        rows.append(
            [
                label,
                round(med),
                round(min(rates[label])),
                round(max(rates[label])),
                round(1e6 / med, 2),
                round(statistics.median(ratios), 3),
            ]
        )
        progress(NAME, f"{label}: median {med:,.0f}/s, {1e6 / med:.2f} us each, x{statistics.median(ratios):.3f}")

    plots = []
    try:
        plots.append(plot(rates, args.rounds))
    except ImportError as exc:
        progress(NAME, f"no plot: {exc}")

    mint_ratio = rows[1][5]
    filter_ratio = rows[2][5]
    findings = [
        f"The collection mints {rows[1][1]:,} credentials/s through module_utils and {rows[2][1]:,}/s through the "
        f"filter: {mint_ratio:.2f}x and {filter_ratio:.2f}x the bare HMAC-SHA1 + base64 loop "
        f"({ref:,.0f}/s), measured in the same rounds.",
        "The checks (secret length, TTL, user, clock) and the dict cost "
        f"{(1e6 / statistics.median(rates[KINDS[1][0]]) - 1e6 / ref):.2f} us per credential; a backend mints "
        "one per call or per renewal, so minting is never the bottleneck.",
    ]
    seconds = round(time.monotonic() - started, 1)
    path = write_result(
        NAME,
        "TURN REST credential minting rate",
        [
            section(
                "Credentials per second (median of interleaved rounds)",
                ["minting code", "per second", "min", "max", "us each", "ratio to bare loop"],
                rows,
                notes=[
                    f"{args.rounds} rounds x {args.count} credentials per kind; secret of {len(SECRET)} characters, "
                    f"TTL {TTL}, user {USER!r}; ratio = median over rounds of (rate / bare rate in the same round).",
                    f"Machine: {machine_info().get('cpu')}, Python {machine_info().get('python')}.",
                ],
            )
        ],
        findings=findings,
        plots=plots,
        seconds=seconds,
    )
    progress(NAME, f"done in {seconds} s: {path}")


if __name__ == "__main__":
    main()

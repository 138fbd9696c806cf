# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hold TURN allocations across a certificate renewal, then refresh them.

Run in the background by verify_tls_renewal.yml:

1. opens a TLS connection (chain checked against --ca-file for
   --server-name) and a UDP socket from --netns, allocates on both, notes the
   certificate the server presented, writes --ready (JSON);
2. waits (at most --timeout seconds) until --go exists: meanwhile the
   playbook renews the certificate and coturn reloads it;
3. sends Refresh on both allocations (over the same TLS connection and UDP
   socket), opens a new TLS connection and notes the certificate presented
   now, releases everything and writes --result (JSON).

The TURN password comes from the TURN_PASSWORD environment variable, never
the command line. Uses the collection's own STUN client (module_utils/_stun).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time


def cert_sha256(transport):
    return hashlib.sha256(transport.sock.getpeercert(binary_form=True)).hexdigest()


def main():
    parser = argparse.ArgumentParser()
    for opt in ("host", "server-name", "ca-file", "netns", "username", "realm", "ready", "go", "result", "collections"):
        parser.add_argument("--" + opt, required=True)
    parser.add_argument("--tls-port", type=int, default=5349)
    parser.add_argument("--udp-port", type=int, default=3478)
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()
    sys.path.insert(0, args.collections)
    from ansible_collections.veza.coturn.plugins.module_utils import _stun  # pylint: disable=import-outside-toplevel

    password = os.environ["TURN_PASSWORD"]
    step = 5.0

    def client(kind, port):
        transport = _stun.open_transport(
            kind, args.host, port, step, ns=args.netns, server_name=args.server_name, ca_file=args.ca_file
        )
        turn = _stun.TurnClient(transport, args.username, password, software="veza.coturn renewal check")
        try:
            turn.allocate(time.monotonic() + step, lifetime=600)
        except _stun.StunErrorResponse as exc:
            if exc.code != 401:
                raise
            turn.learn_challenge(exc.message)
        answer = turn.allocate(time.monotonic() + step, lifetime=600)
        return turn, _stun.format_address(answer.xor_address(_stun.XOR_RELAYED_ADDRESS))

    result = {}
    tls, result["tls_relayed"] = client("tls", args.tls_port)
    udp, result["udp_relayed"] = client("udp", args.udp_port)
    result["cert_before"] = cert_sha256(tls.transport)
    with open(args.ready, "w", encoding="utf-8") as handle:
        json.dump(result, handle)

    deadline = time.monotonic() + args.timeout
    while not os.path.exists(args.go):
        if time.monotonic() > deadline:
            result["error"] = "no go file within %ss" % args.timeout
            break
        time.sleep(0.2)

    result["held_s"] = round(args.timeout - (deadline - time.monotonic()), 1)
    for name, turn in (("tls", tls), ("udp", udp)):
        try:
            answer = turn.refresh(time.monotonic() + step, lifetime=600)
            result[name + "_refresh"] = "ok, lifetime %s" % answer.lifetime()
        except Exception as exc:  # pylint: disable=broad-except
            result[name + "_refresh"] = "failed: %s" % exc
    fresh = _stun.open_transport(
        "tls", args.host, args.tls_port, step, ns=args.netns, server_name=args.server_name, ca_file=args.ca_file
    )
    result["cert_after"] = cert_sha256(fresh)
    fresh.close()
    for turn in (tls, udp):
        try:
            turn.refresh(time.monotonic() + step, lifetime=0)
        except Exception:  # pylint: disable=broad-except
            pass
        turn.close()
    with open(args.result, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main())

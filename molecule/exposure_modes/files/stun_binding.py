# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""python3 stun_binding.py COLLECTIONS HOST PORT SOURCE_PORT [COUNT] [TIMEOUT]

STUN Binding requests from one fixed local UDP port (run it inside the
client namespace with ``ip netns exec``), so that every request shares one
5-tuple and thus one conntrack entry on the Incus host: what a client
keeping its socket across an exposure change looks like. Prints JSON:
the mapped address of each answer, or the error.
"""

from __future__ import annotations

import json
import socket
import sys
import time


def main():
    collections, host, port, source_port = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    count = int(sys.argv[5]) if len(sys.argv) > 5 else 2
    timeout = float(sys.argv[6]) if len(sys.argv) > 6 else 2.0
    sys.path.insert(0, collections)
    from ansible_collections.veza.coturn.plugins.module_utils import _stun  # pylint: disable=import-outside-toplevel

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("0.0.0.0", source_port))
    sock.connect((host, port))
    client = _stun.TurnClient(_stun.UdpTransport(sock), software="veza.coturn exposure switch check")
    answers = []
    for _request in range(count):
        start = time.monotonic()
        try:
            answer = client.binding(start + timeout)
            answers.append(
                {
                    "mapped": _stun.format_address(answer.mapped_address()),
                    "ms": round((time.monotonic() - start) * 1000, 2),
                }
            )
        except (_stun.StunError, OSError) as exc:
            answers.append(
                {"error": "%s: %s" % (type(exc).__name__, exc), "ms": round((time.monotonic() - start) * 1000, 2)}
            )
    sock.close()
    print(json.dumps({"source_port": source_port, "answers": answers}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

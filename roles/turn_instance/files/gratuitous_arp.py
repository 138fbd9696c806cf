# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""python3 gratuitous_arp.py INTERFACE ADDRESS [COUNT]

Announce ADDRESS with INTERFACE's MAC (gratuitous ARP requests): neighbours
that cached another MAC for it (the container's macvlan NIC, before it
became routed) update their entry now instead of after their ARP timeout.
Standard library only; needs root (AF_PACKET).
"""

import socket
import struct
import sys
import time


def build_frame(mac, address):
    """Broadcast ARP request whose sender and target IP are both ``address``."""
    if len(mac) != 6:
        raise ValueError("a MAC address has 6 bytes, got %d" % len(mac))
    ip = socket.inet_aton(address)
    return (
        b"\xff" * 6
        + mac
        + b"\x08\x06"  # Ethernet: broadcast, ARP
        + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1)  # Ethernet/IPv4, request
        + mac
        + ip
        + b"\x00" * 6
        + ip
    )


def main():
    ifname, address = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    try:
        sock.bind((ifname, 0x0806))
        mac = sock.getsockname()[4]
        frame = build_frame(mac, address)
        for i in range(count):
            sock.send(frame)
            if i + 1 < count:
                time.sleep(0.05)
    finally:
        sock.close()
    print("announced %s on %s (%s) %d times" % (address, ifname, mac.hex(":"), count))


if __name__ == "__main__":
    main()

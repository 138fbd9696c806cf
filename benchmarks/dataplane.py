# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The relay's data plane: audio-like sessions through coturn in each exposure mode vs bare coturn.

Deploys one relay per exposure mode (bench-nat, bench-routed, bench-macvlan,
bench-proxy) with the collection's own playbooks/site.yml on
benchmarks/inventories/dataplane, starts the host's own turnserver (the
Debian coturn package, the same binary) in the namespace vz-bbase of the
same simulated internet with the container's configuration (the baseline:
no Incus in between), and then, count by count, runs the load generator
(benchmarks/_loadgen.py) from the client namespace through each of them in
turn, interleaved so that drift hits all alike. Each session is one TURN
allocation sending 50 packets/s of 172 bytes to an echo peer (coturn's
turnutils_peer) in the peer namespace, which sends each back.

Per count and mode: delivered round trips/s, loss, RTT median and p99,
coturn's CPU (from /proc/<pid>/stat; the container's turnserver is a host
pid), the generator's CPU, the whole machine's CPU per relayed packet, and
the receive-buffer drops in coturn's network namespace; ratios against the
baseline at the same count. Then the generator alone at the highest count
(client straight to the peer), and the user-space proxy device (STUN only)
against nat with Binding requests.

    .venv/bin/python benchmarks/dataplane.py [--quick] [--keep] [--no-deploy]

Needs root, Incus and the host's coturn package (turnserver, turnutils_peer).
Takes about 8 minutes (--quick about 3). Removes what it deployed at the end
(playbooks/teardown.yml) unless --keep.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (  # noqa: E402 (after the path)
    REPO,
    VENV_BIN,
    ansible_env,
    plot_path,
    progress,
    section,
    write_result,
)

NAME = "dataplane"
INVENTORY = os.path.join(REPO, "benchmarks", "inventories", "dataplane")
SECRET_FILE = os.path.join(REPO, "output", "bench-dataplane", "secrets", "coturn_auth_secret")
LOADGEN = os.path.join(REPO, "benchmarks", "_loadgen.py")
REALM = "turn.bench.test"
CLIENT_NS, CLIENT = "vz-bclient", "198.51.100.140"
PEER_NS, PEER, PEER_PORTS = "vz-bpeer", "198.51.100.150", [3480, 3481]
BASE_NS, BASE = "vz-bbase", "198.51.100.160"
PROXY_EXTRA = ("198.51.100.130/26", "vzpub3")
# Relaying targets: name -> (public address, container or None for the baseline).
RELAYS = {
    "baseline": ("198.51.100.160", None),
    "nat": ("198.51.100.129", "bench-nat"),
    "routed": ("198.51.100.134", "bench-routed"),
    "macvlan": ("198.51.100.135", "bench-macvlan"),
    # bench-nat with net.bridge.bridge-nf-call-iptables=0 for the run (--hairpin-variant).
    "nat-nohairpin": ("198.51.100.129", "bench-nat"),
}
BRIDGE_NF = "/proc/sys/net/bridge/bridge-nf-call-iptables"
PROXY = ("198.51.100.130", "bench-proxy")
PROXY_CONTAINER_ADDRESS = "10.210.30.44"
CLK = os.sysconf("SC_CLK_TCK")

_started = []  # processes this run started, ended at exit


def _cleanup():
    for proc in _started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
    _started.clear()


atexit.register(_cleanup)


def run(argv, timeout=900, **kw):
    return subprocess.run(argv, check=True, timeout=timeout, cwd=REPO, **kw)


def playbook(*args, timeout=900):
    cmd = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", INVENTORY, *args]
    out = subprocess.run(cmd, cwd=REPO, env=ansible_env(), capture_output=True, text=True, timeout=timeout, check=False)
    if out.returncode != 0:
        sys.stderr.write(out.stdout[-6000:] + out.stderr[-2000:])
        raise SystemExit(f"{' '.join(args)} failed (rc {out.returncode})")
    return out.stdout


BRIDGE, BRIDGE_GATEWAY = "vzbr0", "10.210.30.1"
CONTAINERS = {"bench-nat": "10.210.30.41", "bench-routed": "10.210.30.42", "bench-macvlan": "10.210.30.43"}
CONTAINERS["bench-proxy"] = "10.210.30.44"
LEASES = f"/var/lib/incus/networks/{BRIDGE}/dnsmasq.leases"


def _dhcp_release(address, mac, client_id):
    """A DHCPRELEASE to the bridge's dnsmasq for a lease of a container that is gone."""
    chaddr = bytes.fromhex(mac.replace(":", "")) + b"\0" * 10
    head = struct.pack(
        "!BBBBIHH4s4s4s4s16s",
        1,
        1,
        6,
        0,
        int.from_bytes(os.urandom(4), "big"),
        0,
        0,
        socket.inet_aton(address),
        b"\0" * 4,
        b"\0" * 4,
        b"\0" * 4,
        chaddr,
    )
    options = b"\x63\x82\x53\x63" + bytes([53, 1, 7, 54, 4]) + socket.inet_aton(BRIDGE_GATEWAY)
    if client_id and client_id != "*":
        raw = bytes.fromhex(client_id.replace(":", ""))
        options += bytes([61, len(raw)]) + raw
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, BRIDGE.encode())
        sock.sendto(head + b"\0" * 192 + options + b"\xff", (BRIDGE_GATEWAY, 67))


def release_stale_leases():
    """Incus does not always release a deleted container's lease: the next container with that
    static address then gets a dynamic one (dnsmasq still holds it for the old MAC) and its
    coturn cannot bind. Release the leases of this benchmark's addresses held by a MAC that no
    container of ours has now."""
    try:
        with open(LEASES, encoding="utf-8") as handle:
            leases = [line.split() for line in handle]
    except OSError:
        return
    for name, address in CONTAINERS.items():
        mac = subprocess.run(
            ["incus", "config", "get", name, "volatile.eth0.hwaddr"], capture_output=True, text=True, check=False
        ).stdout.strip()
        for lease in leases:
            if len(lease) >= 5 and lease[2] == address and lease[1] != mac:
                progress(NAME, f"releasing the stale DHCP lease of {address} (MAC {lease[1]}, container gone)")
                _dhcp_release(address, lease[1], lease[4])


def deploy():
    release_stale_leases()
    progress(NAME, "deploy: simulated internet vz-binet")
    playbook("playbooks/site.yml", "--tags", "simulated_internet")
    # The proxy relay's own host address, as molecule's create.yml adds its own.
    run(["ip", "address", "replace", PROXY_EXTRA[0], "dev", PROXY_EXTRA[1]])
    progress(NAME, "deploy: playbooks/site.yml (bench-nat, bench-routed, bench-macvlan, bench-proxy)")
    start = time.monotonic()
    out = playbook("playbooks/site.yml")
    recap = [line for line in out.splitlines() if re.match(r"^\S+\s+: ok=", line)]
    progress(
        NAME, f"deploy done in {time.monotonic() - start:.0f} s: " + "; ".join(" ".join(r.split()[:4]) for r in recap)
    )


def teardown():
    progress(NAME, "teardown: playbooks/teardown.yml")
    playbook("playbooks/teardown.yml")
    release_stale_leases()


def pids_of(container):
    """Host pids of the container's turnserver (its cgroup names the container)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/comm", encoding="utf-8") as handle:
                if handle.read().strip() != "turnserver":
                    continue
            with open(f"/proc/{pid}/cgroup", encoding="utf-8") as handle:
                if re.search(rf"lxc\.payload\.{re.escape(container)}(/|$)", handle.read(), re.M):
                    found.append(int(pid))
        except OSError:
            continue
    return found


def forkproxy_pids(container_address):
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            continue
        if b"forkproxy" in argv and any(a.startswith(b"udp:" + container_address.encode()) for a in argv):
            found.append(int(pid))
    return found


def cpu_of(pid):
    """utime + stime of a process and its threads, in seconds."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK
    except (OSError, IndexError, ValueError):
        return 0.0


def machine_busy():
    with open("/proc/stat", encoding="utf-8") as handle:
        cpu = [int(v) for v in handle.readline().split()[1:]]
    return (sum(cpu) - cpu[3] - cpu[4]) / CLK  # all but idle and iowait


def udp_counters(pid):
    """UDP counters of the network namespace the pid lives in."""
    try:
        with open(f"/proc/{pid}/net/snmp", encoding="utf-8") as handle:
            lines = [line.split() for line in handle if line.startswith("Udp:")]
        return dict(zip(lines[0][1:], (int(v) for v in lines[1][1:])))
    except (OSError, IndexError, ValueError):
        return {}


def start_baseline(secret, workdir):
    """The host's turnserver in vz-bbase with the container's configuration, addresses swapped."""
    conf = subprocess.run(
        ["incus", "file", "pull", "bench-nat/etc/turnserver.conf", "-"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    lines = []
    for line in conf.splitlines():
        key = line.split("=", 1)[0].strip()
        if key in ("listening-ip", "relay-ip", "external-ip", "userdb", "syslog", "allowed-peer-ip"):
            continue
        lines.append(line)
    lines += [
        f"listening-ip={BASE}",
        f"relay-ip={BASE}",
        f"allowed-peer-ip={BASE}",
        # The container keeps its secrets in the userdb; the same scheme, the secret given here.
        f"static-auth-secret={secret}",
        f"log-file={workdir}/turnserver.log",
        f"pidfile={workdir}/turnserver.pid",
    ]
    path = os.path.join(workdir, "turnserver.conf")
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        ["ip", "netns", "exec", BASE_NS, "/usr/bin/turnserver", "-c", path],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _started.append(proc)
    for dummy in range(50):
        time.sleep(0.1)
        if proc.poll() is not None:
            raise SystemExit("the baseline turnserver exited at once: see " + workdir)
        # ip netns exec execs turnserver in place: the pid is the Popen's.
        try:
            with open(f"/proc/{proc.pid}/comm", encoding="utf-8") as handle:
                if handle.read().strip() == "turnserver":
                    return proc, proc.pid
        except OSError:
            pass
    raise SystemExit("the baseline turnserver did not start")


def start_peers():
    for port in PEER_PORTS:
        proc = subprocess.Popen(  # pylint: disable=consider-using-with
            ["ip", "netns", "exec", PEER_NS, "turnutils_peer", "-p", str(port), "-L", PEER],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _started.append(proc)
    time.sleep(0.5)


def ksoftirqd_pids():
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/comm", encoding="utf-8") as handle:
                    if handle.read().startswith("ksoftirqd/"):
                        found.append(int(pid))
            except OSError:
                pass
    return found


def peer_pids():
    return [p.pid for p in _started if p.args[:5] == ["ip", "netns", "exec", PEER_NS, "turnutils_peer"]]


def loadgen(mode, sessions, server, secret, duration, watch_pids, ns=CLIENT_NS):
    """One bounded run of the generator; CPU of watch_pids and of the machine over its traffic window."""
    cfg = {
        "mode": mode,
        "sessions": sessions,
        "workers": 2,
        "server": server,
        "server_port": 3478,
        "peer": PEER,
        "peer_ports": PEER_PORTS,
        "client": CLIENT,
        "secret": secret,
        "realm": REALM,
        "interval": 0.02,
        "size": 172,
        "duration": duration,
        "drain": 1.0,
        "setup_timeout": 30,
        "lifetime": 120,
    }
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        ["ip", "netns", "exec", ns, sys.executable, LOADGEN, json.dumps(cfg)],
        stdout=subprocess.PIPE,
        text=True,
    )
    _started.append(proc)
    marks, result, gen_pids = {}, None, []
    others = peer_pids() + ksoftirqd_pids()
    deadline = time.monotonic() + duration + 120
    try:
        for line in proc.stdout:
            tag, dummy, data = line.partition(" ")
            if tag == "PIDS":
                gen_pids = json.loads(data)["pids"]
            if tag in ("START", "END"):
                marks[tag] = (
                    time.monotonic(),
                    {p: cpu_of(p) for p in watch_pids + gen_pids + others},
                    machine_busy(),
                    {p: udp_counters(p) for p in watch_pids[:1]},
                )
            elif tag == "RESULT":
                result = json.loads(data)
            if time.monotonic() > deadline:
                break
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
        _started.remove(proc)
    if not result or "error" in result or "START" not in marks or "END" not in marks:
        return {"error": (result or {}).get("error", "no result"), "sessions": sessions}
    (t0, cpu0, busy0, udp0), (t1, cpu1, busy1, udp1) = marks["START"], marks["END"]
    span = t1 - t0
    result["span"] = span
    result["server_cpu"] = sum(cpu1[p] - cpu0[p] for p in watch_pids) / span
    # Ours: the relay, the generator, the echo peers and the softirq threads (where the
    # kernel's packet path runs when it is not charged to the sender); others' work
    # on this shared machine is left out.
    ours = sum(cpu1[p] - cpu0[p] for p in set(watch_pids + gen_pids + others))
    result["machine_cpu"] = (busy1 - busy0) / span
    result["loss"] = 100.0 * (1 - result["received"] / result["sent"]) if result["sent"] else 100.0
    result["delivered"] = result["received"] / span  # round trips back at the client per second
    result["gen_cpu"] = result["cpu"] / span
    if udp0 and watch_pids:
        first = watch_pids[0]
        result["rcvbuf_errors"] = udp1[first].get("RcvbufErrors", 0) - udp0[first].get("RcvbufErrors", 0)
    # Whole-machine CPU per relayed packet: each round trip crosses the relay twice.
    packets = 2 * result["received"]
    result["us_per_packet"] = 1e6 * ours / packets if packets else None
    result["coturn_us_per_packet"] = 1e6 * result["server_cpu"] * span / packets if packets else None
    result["machine_us_per_packet"] = 1e6 * (busy1 - busy0) / packets if packets else None
    result["our_cpu"] = ours / span
    return result


@contextlib.contextmanager
def hairpin_off(active):
    """bridge-nf-call-iptables=0 for one run, put back at once (it is the host's, shared)."""
    if not active or not os.path.exists(BRIDGE_NF):
        yield
        return
    with open(BRIDGE_NF, encoding="utf-8") as handle:
        before = handle.read().strip()
    try:
        with open(BRIDGE_NF, "w", encoding="utf-8") as handle:
            handle.write("0\n")
        yield
    finally:
        with open(BRIDGE_NF, "w", encoding="utf-8") as handle:
            handle.write(before + "\n")


def fmt(value, digits=1):
    return "-" if value is None else round(value, digits)


def ratio(value, base):
    return None if value is None or not base else value / base


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three counts, 4 s each: a smoke run of about 3 minutes")
    parser.add_argument("--keep", action="store_true", help="leave the relays deployed at the end")
    parser.add_argument("--no-deploy", action="store_true", help="use the relays already deployed")
    parser.add_argument("--counts", help="comma-separated session counts")
    parser.add_argument("--modes", default="baseline,nat,routed,macvlan")
    parser.add_argument(
        "--hairpin-variant",
        action="store_true",
        help="also bench-nat with bridge-nf-call-iptables=0 during its runs (briefly turns the host's off)",
    )
    args = parser.parse_args()
    began = time.monotonic()
    if args.counts:
        counts = [int(c) for c in args.counts.split(",")]
    elif args.quick:
        counts = [100, 300, 500]
    else:
        counts = [50, 100, 200, 300, 350, 400, 450, 500, 600, 800, 1000]
    duration = 4.0 if args.quick else 8.0
    modes = args.modes.split(",") + (["nat-nohairpin"] if args.hairpin_variant else [])
    workdir = tempfile.mkdtemp(prefix="bench-dataplane-")
    deployed = False
    try:
        if not args.no_deploy:
            deploy()
            deployed = True
        with open(SECRET_FILE, encoding="utf-8") as handle:
            secret = handle.read().strip()
        start_peers()
        _proc, base_pid = start_baseline(secret, workdir)
        progress(NAME, f"baseline turnserver pid {base_pid} in {BASE_NS}")
        watch = {"baseline": [base_pid]}
        for mode in modes:
            if mode != "baseline":
                watch[mode] = pids_of(RELAYS[mode][1])
                if not watch[mode]:
                    raise SystemExit(f"no turnserver found in {RELAYS[mode][1]}")
        results = {m: {} for m in modes}
        gave_up = set()
        for step, count in enumerate(counts):
            # Rotate the order count by count: drift hits every mode alike.
            order = modes[step % len(modes) :] + modes[: step % len(modes)]
            for mode in order:
                if mode in gave_up:
                    continue
                with hairpin_off(mode == "nat-nohairpin"):
                    r = loadgen("turn", count, RELAYS[mode][0], secret, duration, watch[mode])
                results[mode][count] = r
                if "error" in r:
                    progress(NAME, f"{count:4d} sessions {mode:8s}: {r['error']}")
                    continue
                progress(
                    NAME,
                    f"{count:4d} sessions {mode:8s}: ready {r['ready']}, loss {r['loss']:.2f}%, "
                    f"{r['delivered']:.0f}/s back, RTT {1000 * r.get('rtt_median', 0):.2f}/"
                    f"{1000 * r.get('rtt_p99', 0):.1f} ms, coturn {100 * r['server_cpu']:.0f}%, "
                    f"gen {100 * r['gen_cpu']:.0f}%, machine {100 * r['machine_cpu']:.0f}%, "
                    f"rcvbuf drops {r.get('rcvbuf_errors', '-')}",
                )
                # Clearly past its limit twice: the higher counts say nothing new.
                prev = results[mode].get(counts[step - 1]) if step else None
                if r["loss"] > 10 and prev and prev.get("loss", 100) > 3:
                    gave_up.add(mode)
            if gave_up >= set(modes):
                break
        top = max(c for m in modes for c in results[m])
        progress(NAME, f"generator only: {top} sessions straight to the peer")
        direct = loadgen("direct", top, PEER, secret, duration, [])
        binding = {}
        for count in [100, 300] if args.quick else [100, 300, 600]:
            for label, (address, container) in (("nat", RELAYS["nat"]), ("proxy", PROXY)):
                # The proxy's cost includes incusd's forkproxy, which re-sends every packet.
                pids = pids_of(container) + (forkproxy_pids(PROXY_CONTAINER_ADDRESS) if label == "proxy" else [])
                r = loadgen("binding", count, address, secret, duration / 2, pids)
                binding[(label, count)] = r
                if "error" not in r:
                    progress(
                        NAME,
                        f"STUN {count * 50}/s via {label}: loss {r['loss']:.2f}%, RTT "
                        f"{1000 * r.get('rtt_median', 0):.2f}/{1000 * r.get('rtt_p99', 0):.1f} ms, "
                        f"machine {100 * r['machine_cpu']:.0f}%",
                    )
        report(modes, counts, results, direct, binding, duration, began)
    finally:
        _cleanup()
        shutil.rmtree(workdir, ignore_errors=True)  # the baseline's config holds the secret
        if deployed and not args.keep:
            teardown()
    return 0


def highest(results, limit=1.0):
    """The highest count under limit % loss, every lower count measured too."""
    best = 0
    for count in sorted(results):
        r = results[count]
        if "error" in r or r["loss"] >= limit or r["ready"] < r["sessions"]:
            break
        best = count
    return best


def report(modes, counts, results, direct, binding, duration, began):
    base = results.get("baseline", {})
    rows = []
    for count in counts:
        for mode in modes:
            r = results[mode].get(count)
            if not r or "error" in r:
                continue
            b = base.get(count) if mode != "baseline" else None
            b_ok = b and "error" not in b
            rows.append(
                [
                    count,
                    mode,
                    f"{r['ready']}/{r['sessions']}",
                    round(r["delivered"]),
                    round(r["loss"], 2),
                    round(1000 * r.get("rtt_median", 0), 2),
                    round(1000 * r.get("rtt_p99", 0), 1),
                    round(100 * r["server_cpu"]),
                    fmt(ratio(r["server_cpu"], b["server_cpu"]), 2) if b_ok else "-",
                    round(100 * r["gen_cpu"]),
                    fmt(ratio(r["gen_cpu"], b["gen_cpu"]), 2) if b_ok else "-",
                    round(100 * r["machine_cpu"]),
                    fmt(r["us_per_packet"], 2),
                    fmt(ratio(r["us_per_packet"], b["us_per_packet"]), 2) if b_ok else "-",
                    fmt(r["coturn_us_per_packet"], 2),
                    fmt(ratio(r["coturn_us_per_packet"], b["coturn_us_per_packet"]), 2) if b_ok else "-",
                    r.get("rcvbuf_errors", "-"),
                ]
            )
    tops = {m: highest(results[m]) for m in modes}
    capacity_rows = []
    for mode in modes:
        top = tops[mode]
        r = results[mode].get(top)
        b = base.get(top)
        capacity_rows.append(
            [
                mode,
                top,
                fmt(ratio(top, tops.get("baseline")), 2) if "baseline" in tops else "-",
                fmt(r["us_per_packet"], 2) if r else "-",
                fmt(ratio(r["us_per_packet"], b["us_per_packet"]), 2) if r and b and "error" not in b else "-",
            ]
        )
    sections = [
        section(
            "Highest session count under 1% loss (50 packets/s of 172 bytes each way per session)",
            ["mode", "sessions", "vs baseline", "CPU µs per relayed packet there", "vs baseline there"],
            capacity_rows,
            notes=[f"Each step: {duration:.0f} s of traffic after setup, counts {', '.join(map(str, counts))}."],
        ),
        section(
            "Per count and mode",
            [
                "sessions",
                "mode",
                "allocated",
                "round trips/s",
                "loss %",
                "RTT median ms",
                "RTT p99 ms",
                "coturn CPU %",
                "vs base",
                "generator CPU %",
                "vs base",
                "machine CPU %",
                "µs/relayed pkt",
                "vs base",
                "coturn µs/relayed pkt",
                "vs base",
                "coturn rcvbuf drops",
            ],
            rows,
            notes=[
                "CPU % is of one core (the machine has 2). µs/relayed pkt: the CPU of coturn, the generator, the "
                "echo peers and ksoftirqd over the traffic window (where the kernel's packet path is charged) "
                "divided by the packets the relay forwarded (two per echoed round trip); machine CPU % also "
                "counts other work on this shared machine.",
                "baseline: the host's turnserver (same Debian package) in a namespace of the simulated internet, "
                "the container's turnserver.conf with its addresses, no Incus in between.",
            ],
        ),
    ]
    if "error" not in direct:
        sections.append(
            section(
                "Generator only (client straight to the echo peer, no TURN)",
                [
                    "sessions",
                    "packets/s sent",
                    "loss %",
                    "RTT median ms",
                    "RTT p99 ms",
                    "generator CPU %",
                    "machine CPU %",
                ],
                [
                    [
                        direct["sessions"],
                        round(direct["sent"] / direct["span"]),
                        round(direct["loss"], 2),
                        round(1000 * direct.get("rtt_median", 0), 2),
                        round(1000 * direct.get("rtt_p99", 0), 1),
                        round(100 * direct["gen_cpu"]),
                        round(100 * direct["machine_cpu"]),
                    ]
                ],
            )
        )
    brows = []
    for (label, count), r in sorted(binding.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if "error" in r:
            continue
        brows.append(
            [
                count * 50,
                label,
                round(r["delivered"]),
                round(r["loss"], 2),
                round(1000 * r.get("rtt_median", 0), 2),
                round(1000 * r.get("rtt_p99", 0), 1),
                round(100 * r["server_cpu"]),
                round(100 * r["machine_cpu"]),
                fmt(1e6 * r["our_cpu"] * r["span"] / r["received"] if r["received"] else None, 2),
            ]
        )
    sections.append(
        section(
            "Listener only: STUN Binding through the user-space proxy device vs nat",
            [
                "requests/s offered",
                "exposure",
                "answers/s",
                "loss %",
                "RTT median ms",
                "RTT p99 ms",
                "coturn (+ forkproxy) CPU %",
                "machine CPU %",
                "µs per answer (relay, proxy, generator, softirq)",
            ],
            brows,
            notes=["proxy relays nothing (refused by the collection): it is measured as a STUN listener only."],
        )
    )
    findings = []
    bt = tops.get("baseline")
    if bt and bt == max(results["baseline"]):
        bt = f"{bt} or more (it never lost 1% here)"
    for mode in modes:
        if mode == "baseline":
            continue
        r = results[mode].get(tops[mode]) or {}
        b = base.get(tops[mode]) or {}
        cpu_ratio = ratio(r.get("us_per_packet"), b.get("us_per_packet"))
        coturn_ratio = ratio(r.get("coturn_us_per_packet"), b.get("coturn_us_per_packet"))
        findings.append(
            f"{mode} holds {tops[mode]} sessions under 1% loss where bare coturn holds {bt} "
            f"({ratio(tops[mode], tops.get('baseline')) or 0:.2f}x); at {tops[mode]} sessions coturn spends "
            + (
                f"{coturn_ratio:.2f}x the baseline's CPU per relayed packet, and coturn, generator, peers and "
                f"softirq together {cpu_ratio:.2f}x."
                if cpu_ratio and coturn_ratio
                else "an unknown CPU."
            )
        )
    if "error" not in direct:
        findings.append(
            f"The generator alone sends {direct['sessions']} sessions ({round(direct['sent'] / direct['span'])} "
            f"packets/s) to the echo peer with {direct['loss']:.2f}% loss at {100 * direct['gen_cpu']:.0f}% of a core: "
            "it is not what limits the relays."
        )
    for count in sorted({c for dummy, c in binding}):
        p, n = binding.get(("proxy", count), {}), binding.get(("nat", count), {})
        if "error" in p or "error" in n or not p or not n:
            continue
        findings.append(
            f"STUN Binding at {count * 50}/s: the proxy device answers with {p['loss']:.2f}% loss, RTT median "
            f"{1000 * p.get('rtt_median', 0):.2f} ms, the relay and its forkproxy at {100 * p['server_cpu']:.0f}% "
            f"of a core; nat {n['loss']:.2f}%, {1000 * n.get('rtt_median', 0):.2f} ms, coturn at "
            f"{100 * n['server_cpu']:.0f}%."
        )
    plots = make_plots(modes, results)
    seconds = time.monotonic() - began
    path = write_result(
        NAME,
        "Relay data plane: audio-like sessions per exposure mode vs bare coturn",
        sections,
        findings=findings,
        plots=plots,
        seconds=round(seconds),
    )
    progress(NAME, f"wrote {path} after {seconds:.0f} s")
    for line in findings:
        progress(NAME, line)


def make_plots(modes, results):
    try:
        import matplotlib  # pylint: disable=import-outside-toplevel

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    except ImportError:
        return []
    plots = []
    for suffix, key, label in (
        ("loss", "loss", "loss %"),
        ("cpu", "us_per_packet", "CPU µs per relayed packet (relay, generator, peers, softirq)"),
        ("rtt", "rtt_p99", "RTT p99 (s)"),
    ):
        fig, ax = plt.subplots(figsize=(7, 4))
        for mode in modes:
            points = sorted(
                (c, r[key]) for c, r in results[mode].items() if "error" not in r and r.get(key) is not None
            )
            if points:
                ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=mode)
        if key == "loss":
            ax.axhline(1.0, color="grey", linestyle="--", linewidth=0.8)
            ax.set_yscale("symlog", linthresh=1.0)
            ax.set_ylim(bottom=0)
        if key == "rtt_p99":
            ax.set_yscale("log")
        ax.set_xlabel("sessions (50 packets/s each way)")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        ax.legend()
        path, rel = plot_path(NAME, suffix)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        plots.append(rel)
    return plots


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())

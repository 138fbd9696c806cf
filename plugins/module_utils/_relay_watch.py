# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Relay watch: probe every TURN relay through its public address, for Prometheus.

A program for the WebRTC backend host, run by a systemd timer. The
collection's module_utils files are copied there verbatim under their
package path (no __init__.py files: implicit namespace packages) and run as

    PYTHONPATH=/usr/local/lib/veza-coturn python3 -m \\
        ansible_collections.veza.coturn.plugins.module_utils._relay_watch --config FILE

Each listener of each relay gets the probe turn_probe runs from verify.yml
(_turn_probe.run_probe): binding, then allocate with the backend's own
credential (read from its env file, or minted for 300 s from the shared
secret when the env file holds one), then permission and peer_first when the
relay has a peer_address. The relay check (two allocations) is not run: coturn
relays between its own allocations internally, so it proves nothing about the
exposure and doubles the allocations of every run. The outcome goes to a
Prometheus textfile (node_exporter's textfile collector), written atomically;
each failing listener is one line on stderr, the run one line on stdout.
Exit status 0 when every listener is up, 1 when one is not (the metrics file
is written all the same), 2 when the configuration, the env file or the
metrics file is wrong.

Standard library and the collection's _stun, _turn_probe and _turn_rest only,
no Ansible imports, Python 3.8 syntax. The shared secret, the credential and
the username never reach stdout, stderr or the metrics file.
"""

from __future__ import annotations

import argparse
import calendar
import ipaddress
import json
import os
import socket
import sys
import tempfile
import time

from ansible_collections.veza.coturn.plugins.module_utils import _stun, _turn_probe, _turn_rest

PROG = "relay-watch"
SOFTWARE = "veza.coturn relay-watch"
DEFAULT_TIMEOUT = 3.0
MINT_TTL = 300
TRANSPORTS = ("udp", "tcp", "tls")
URL_SCHEMES = ("stun:", "stuns:", "turn:", "turns:")
# Shorter values are not searched for in the output: they would match
# unrelated text (ports, counts) and a secret that short hides nothing.
MIN_REDACTED_LENGTH = 6
REDACTED = "<redacted>"

_TOP_KEYS = ("env", "metrics", "timeout", "relays")
_RELAY_KEYS = ("name", "host", "realm", "expected_relayed_ip", "server_name", "ca_file", "peer_address", "listeners", "stun_only")
_LISTENER_KEYS = ("transport", "port", "url")


class WatchError(Exception):
    """The configuration, the env file or the metrics file is wrong: one line, exit status 2."""


# --------------------------------------------------------------------------
# Configuration


def _describe(value):
    return json.dumps(value) if isinstance(value, (str, int, float, bool, type(None))) else type(value).__name__


def _keys(obj, where, allowed, required):
    if not isinstance(obj, dict):
        raise WatchError(f"{where} must be a JSON object (got {_describe(obj)})")
    unknown = sorted(set(obj) - set(allowed))
    if unknown:
        raise WatchError(f"{where or 'the top level'} has the unknown key(s) {', '.join(unknown)}; the keys are {', '.join(allowed)}")
    for key in required:
        if key not in obj:
            raise WatchError(f"{_join(where, key)} is missing; it is required")


def _join(where, key):
    return f"{where}.{key}" if where else key


def _text(value, key, what="a non-empty string"):
    if not isinstance(value, str) or not value.strip() or _turn_rest.one_line_problem(value):
        raise WatchError(f"{key} must be {what} on one line (got {_describe(value)})")
    return value.strip()


def _absolute(value, key):
    value = _text(value, key, "an absolute path")
    if not os.path.isabs(value):
        raise WatchError(f"{key} must be an absolute path (got {_describe(value)})")
    return value


def _optional(obj, key, where, check):
    value = obj.get(key)
    return None if value is None else check(value, _join(where, key))


def _ip(value, key):
    try:
        return str(ipaddress.ip_address(value.strip() if isinstance(value, str) else value))
    except (TypeError, ValueError):
        raise WatchError(f"{key} must be an IP address literal such as 198.51.100.1, or null (got {_describe(value)})") from None


def _timeout(value, key):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= _turn_probe.MAX_TIMEOUT:
        raise WatchError(f"{key} must be a number of seconds above 0 and at most {_turn_probe.MAX_TIMEOUT:g} (got {_describe(value)})")
    return float(value)


def _port(value, key):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise WatchError(f"{key} must be an integer from 1 to 65535 (got {_describe(value)})")
    return value


def _listener(obj, where):
    _keys(obj, where, _LISTENER_KEYS, _LISTENER_KEYS)
    transport = obj["transport"]
    if transport not in TRANSPORTS:
        raise WatchError(f"{where}.transport must be one of {', '.join(TRANSPORTS)} (got {_describe(transport)})")
    url = _text(obj["url"], f"{where}.url", "a STUN/TURN URL such as turn:198.51.100.1:3478?transport=udp")
    if not url.startswith(URL_SCHEMES):
        raise WatchError(f"{where}.url must start with {', '.join(URL_SCHEMES)} (got {_describe(url)})")
    return {"transport": transport, "port": _port(obj["port"], f"{where}.port"), "url": url}


def _relay(obj, where):
    _keys(obj, where, _RELAY_KEYS, ("name", "host", "listeners"))
    relay = {
        "name": _text(obj["name"], f"{where}.name"),
        "host": _text(obj["host"], f"{where}.host", "an address or name"),
        "realm": _optional(obj, "realm", where, _text),
        "expected_relayed_ip": _optional(obj, "expected_relayed_ip", where, _ip),
        "server_name": _optional(obj, "server_name", where, _text),
        "ca_file": _optional(obj, "ca_file", where, _absolute),
        "peer_address": _optional(obj, "peer_address", where, _ip),
        "stun_only": obj.get("stun_only", False),
    }
    if not isinstance(relay["stun_only"], bool):
        raise WatchError(f"{where}.stun_only must be true or false (got {_describe(relay['stun_only'])})")
    if relay["ca_file"] and not os.path.isfile(relay["ca_file"]):
        raise WatchError(f"{where}.ca_file {relay['ca_file']} does not exist or is not a file; it must be the PEM CA bundle "
                         f"of the relay's certificate, or null for the system store")
    listeners = obj["listeners"]
    if not isinstance(listeners, list) or not listeners:
        raise WatchError(f"{where}.listeners must be a non-empty list of {{transport, port, url}} objects (got {_describe(listeners)})")
    relay["listeners"] = [_listener(item, f"{where}.listeners[{i}]") for i, item in enumerate(listeners)]
    urls = [item["url"] for item in relay["listeners"]]
    for i, url in enumerate(urls):
        if url in urls[:i]:
            raise WatchError(f"{where}.listeners[{i}].url {url} is already the url of listeners[{urls.index(url)}]; "
                             f"each listener needs its own url (it is the metrics' listener label)")
    return relay


def check_config(raw):
    """The configuration with defaults filled in; WatchError naming the key that is wrong."""
    _keys(raw, "", _TOP_KEYS, ("env", "metrics", "relays"))
    config = {
        "env": _absolute(raw["env"], "env"),
        "metrics": _absolute(raw["metrics"], "metrics"),
        "timeout": _timeout(raw.get("timeout", DEFAULT_TIMEOUT), "timeout"),
    }
    if not config["metrics"].endswith(".prom"):
        raise WatchError(f"metrics must name a file ending in .prom, the only files node_exporter's textfile collector reads "
                         f"(got {_describe(config['metrics'])})")
    relays = raw["relays"]
    if not isinstance(relays, list) or not relays:
        raise WatchError(f"relays must be a non-empty list of relay objects (got {_describe(relays)})")
    config["relays"] = [_relay(item, f"relays[{i}]") for i, item in enumerate(relays)]
    names = [relay["name"] for relay in config["relays"]]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise WatchError(f"relays[{i}].name {name} is already the name of relays[{names.index(name)}]; "
                             f"each relay needs its own name (it is the metrics' relay label)")
    return config


def load_config(path):
    """Read and check the JSON configuration at path; WatchError starting with the path."""
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except OSError as exc:
        raise WatchError(f"cannot read the configuration {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise WatchError(f"{path} is not JSON: {exc}") from None
    try:
        return check_config(raw)
    except WatchError as exc:
        raise WatchError(f"{path}: {exc}") from None


# --------------------------------------------------------------------------
# The backend's credential


class Credentials:
    """What the probe authenticates with, and what must never be shown."""

    def __init__(self, username=None, password=None, source=None, expiry=None, secrets=(), usernames=()):
        self.username = username  # None: TURN is off, binding only
        self.password = password
        self.source = source  # words for the username in explanations
        self.expiry = expiry  # the env file's REST username expiry (Unix time), or None
        self.secrets = [s for s in secrets if s]
        self.usernames = [u for u in usernames if u]

    def redact(self, text, usernames=True):
        """text without the secret and the credentials, and without the usernames unless usernames is false.

        A probe explanation names the username (turn_probe: "after
        authenticating as '1796408188'"); it is replaced by where it came
        from. The metrics file never holds one, and is only searched for the
        secrets there: a username may be a word of a relay name.
        """
        if usernames:
            for name in self.usernames:
                text = text.replace(repr(name), self.source or "the username")
        values = self.secrets + (self.usernames if usernames else [])
        for value in sorted(values, key=len, reverse=True):
            if len(value) >= MIN_REDACTED_LENGTH:
                text = text.replace(value, REDACTED)
        return text


def rest_expiry(username):
    """The expiry time a TURN REST username starts with, or None for another username."""
    head = (username or "").split(":", 1)[0]
    if head.isascii() and head.isdigit() and len(head) >= 9:
        return int(head)
    return None


def read_credentials(env_path, now):
    """The probe's credential from the backend env file; WatchError naming the file and the key.

    With WEBRTC_TURN_SHARED_SECRET (rest mode) a credential valid for
    MINT_TTL seconds is minted, as a backend that mints per call does; the
    env file's own WEBRTC_TURN_USERNAME is reported through its expiry.
    Otherwise WEBRTC_TURN_USERNAME/WEBRTC_TURN_CREDENTIAL are used as they
    are; both empty means TURN is off.
    """
    try:
        env = _turn_rest.EnvFile.read(env_path)
        username = env.get(_turn_rest.ENV_USERNAME, "")
        credential = env.get(_turn_rest.ENV_CREDENTIAL, "")
        secret = env.get(_turn_rest.ENV_SECRET, "")
    except _turn_rest.TurnRestError as exc:
        raise WatchError(str(exc)) from None
    expiry = rest_expiry(username)
    if secret:
        try:
            minted = _turn_rest.mint(secret, MINT_TTL, now=now)
        except _turn_rest.TurnRestError as exc:
            raise WatchError(f"{env_path}: {_turn_rest.ENV_SECRET}: {exc}") from None
        return Credentials(minted["username"], minted["credential"], f"a username minted from {_turn_rest.ENV_SECRET}", expiry,
                           secrets=(secret, minted["credential"], credential), usernames=(minted["username"], username))
    if bool(username) != bool(credential):
        have, empty = (_turn_rest.ENV_USERNAME, _turn_rest.ENV_CREDENTIAL) if username else (_turn_rest.ENV_CREDENTIAL, _turn_rest.ENV_USERNAME)
        raise WatchError(f"{env_path} sets {have} but {empty} is empty or missing; both must be set (TURN on) or both empty (TURN off)")
    if not username:
        return Credentials(expiry=None)
    return Credentials(username, credential, f"the {_turn_rest.ENV_USERNAME} of {env_path}", expiry,
                       secrets=(credential,), usernames=(username,))


# --------------------------------------------------------------------------
# Probing


def _der_item(data, pos):
    """(tag, start of the contents, end of the contents) of the DER item at pos."""
    if pos + 2 > len(data):
        raise ValueError("truncated DER")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        size = length & 0x7F
        if not 1 <= size <= 4 or pos + size > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[pos:pos + size], "big")
        pos += size
    if pos + length > len(data):
        raise ValueError("truncated DER")
    return tag, pos, pos + length


def certificate_not_after(der):
    """notAfter of a DER X.509 certificate, as Unix time; ValueError when it cannot be read.

    A few lines of DER rather than ssl's getpeercert(), which only parses a
    certificate that passed verification: an expired one is exactly the
    certificate whose expiry must still be reported.
    """
    tag, pos, _end = _der_item(der, 0)  # Certificate
    if tag != 0x30:
        raise ValueError("not a certificate")
    tag, pos, end = _der_item(der, pos)  # TBSCertificate
    if tag != 0x30:
        raise ValueError("not a certificate")
    fields = []
    while pos < end and len(fields) < 5:
        tag, start, pos = _der_item(der, pos)
        fields.append((tag, start, pos))
    if fields and fields[0][0] == 0xA0:  # [0] version
        fields = fields[1:]
    if len(fields) < 4 or [f[0] for f in fields[:4]] != [0x02, 0x30, 0x30, 0x30]:
        raise ValueError("unexpected TBSCertificate layout")
    _tag, start, _end = fields[3]  # Validity
    _tag, _start, after = _der_item(der, start)  # notBefore
    tag, start, end = _der_item(der, after)  # notAfter
    text = der[start:end].decode("ascii")
    if tag == 0x17 and len(text) == 13 and text.endswith("Z"):  # UTCTime YYMMDDHHMMSSZ
        year = int(text[:2])
        text = ("19" if year >= 50 else "20") + text
    elif not (tag == 0x18 and len(text) == 15 and text.endswith("Z")):  # GeneralizedTime YYYYMMDDHHMMSSZ
        raise ValueError(f"unexpected notAfter {text!r}")
    return calendar.timegm(time.strptime(text[:14], "%Y%m%d%H%M%S"))


def tls_not_after(host, port, server_name, timeout):
    """notAfter (Unix time) of the certificate the TLS listener presents, verified or not; None when none is seen."""
    try:
        family, addr = _stun.resolve(host, port, socket.SOCK_STREAM)
        ctx = _stun.tls_context(insecure=True)
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(addr)
            with ctx.wrap_socket(sock, server_hostname=server_name or host) as tls:
                der = tls.getpeercert(binary_form=True)
        return certificate_not_after(der) if der else None
    except (OSError, ValueError):
        return None


def _relayed_ip(address):
    """The IP of turn_probe's "ip:port" or "[ip]:port"."""
    return address.rsplit(":", 1)[0].strip("[]")


def probe_listener(config, relay, listener, creds, probe=None, not_after=None):
    """Probe one listener; a dict of what the metrics and the log need."""
    probe = probe or _turn_probe.run_probe
    not_after = not_after or tls_not_after
    turn = creds.username is not None and not relay["stun_only"]
    checks = ["binding"]
    params = {"host": relay["host"], "port": listener["port"], "transport": listener["transport"],
              "timeout": config["timeout"], "software": SOFTWARE}
    if turn:
        checks.append("allocate")
        if relay["peer_address"]:
            checks += ["permission", "peer_first"]
        params.update(username=creds.username, password=creds.password, realm=relay["realm"],
                      expected_relayed_ip=relay["expected_relayed_ip"], peer_address=relay["peer_address"])
    if listener["transport"] == "tls":
        params.update(server_name=relay["server_name"], ca_file=relay["ca_file"])
    params["checks"] = checks
    outcome = {"relay": relay["name"], "listener": listener["url"], "transport": listener["transport"], "checks": checks,
               "up": False, "rtt": None, "match": None, "failure_class": None, "explanation": None, "software": None,
               "not_after": None}
    try:
        result = probe(params)
    except _turn_probe.ProbeParamError as exc:
        raise WatchError(f"relay {relay['name']} listener {listener['url']}: {exc}") from None
    except Exception as exc:  # a bug in the probe must not cost the other listeners their metrics
        result = {"failure": {"class": "internal_error", "explanation": f"{type(exc).__name__}: {exc}", "step": None},
                  "steps": [], "relayed_address": None, "server_software": None}
    failure = result.get("failure")
    outcome["software"] = result.get("server_software")
    if failure:
        outcome["failure_class"], outcome["explanation"] = failure["class"], failure["explanation"]
    else:
        outcome["up"] = True
        binding = [step for step in result["steps"] if step["name"] == "binding" and step["ok"]]
        if binding:
            outcome["rtt"] = binding[0]["ms"] / 1000.0
    relayed = result.get("relayed_address")
    if turn and relay["expected_relayed_ip"] and relayed:
        same = ipaddress.ip_address(_relayed_ip(relayed)) == ipaddress.ip_address(relay["expected_relayed_ip"])
        outcome["match"] = 1 if same else 0
    # Nothing to shake hands with when the first step found no listener.
    silent = failure and failure["class"] == "no_answer" and failure.get("step") == "binding"
    if listener["transport"] == "tls" and not silent:
        outcome["not_after"] = not_after(relay["host"], listener["port"], relay["server_name"], config["timeout"])
    return outcome


# --------------------------------------------------------------------------
# Metrics


_FAMILIES = (
    ("veza_coturn_relay_up", "1 when the probe of the relay listener through its public address passed, else 0."),
    ("veza_coturn_relay_rtt_seconds", "Seconds the STUN Binding transaction took (tcp/tls: with the connection and TLS handshake); "
                                      "only for listeners that are up."),
    ("veza_coturn_relay_relayed_address_match", "1 when the relayed address of the probe's allocation has the relay's expected IP, else 0."),
    ("veza_coturn_relay_failure", "1 for a failing listener, with the failure class turn_probe gives."),
    ("veza_coturn_relay_info", "The SOFTWARE the relay announces (coturn's version), value 1."),
    ("veza_coturn_tls_certificate_expiry_seconds", "Seconds until the notAfter of the certificate the TLS listener presents (negative: expired)."),
    ("veza_coturn_backend_credential_expiry_seconds", "Seconds until the TURN REST username in the backend env file expires (negative: expired)."),
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


# --------------------------------------------------------------------------
# Command line


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (status 2, as other configuration errors)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def _plural(count, word):
    return f"{count} {word}" + ("" if count == 1 else "s")


def main(argv=None, now=None, probe=None, not_after=None):
    """The command line; returns the exit status. now, probe and not_after are for tests."""
    parser = _Parser(prog=PROG, description="Probe every TURN relay listener through its public address and write Prometheus metrics "
                                            "for node_exporter's textfile collector.")
    parser.add_argument("--config", required=True, metavar="FILE", help="JSON settings written by the veza.coturn role")
    args = parser.parse_args(argv)
    started = time.time() if now is None else now
    clock = time.monotonic()
    try:
        config = load_config(args.config)
        directory = os.path.dirname(config["metrics"])
        if not os.path.isdir(directory):
            raise WatchError(f"{args.config}: the directory of metrics, {directory}, does not exist; it must be node_exporter's "
                             f"textfile collector directory (--collector.textfile.directory), made before the watch runs")
        creds = read_credentials(config["env"], started)
        outcomes = []
        for relay in config["relays"]:
            for listener in relay["listeners"]:
                outcome = probe_listener(config, relay, listener, creds, probe, not_after)
                outcomes.append(outcome)
                if not outcome["up"]:
                    explanation = creds.redact(" ".join(str(outcome["explanation"]).split()))
                    sys.stderr.write(f"{PROG}: {outcome['relay']} {outcome['listener']} FAILED {outcome['failure_class']}: {explanation}\n")
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


if __name__ == "__main__":
    raise SystemExit(main())  # as sys.exit(main()); the sanity pylint refuses sys.exit in module_utils

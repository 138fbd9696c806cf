# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Relay watch: probe every TURN relay through its public address, for Prometheus.

A program for the WebRTC backend host, run by a systemd timer. The
collection's module_utils files it needs are copied there verbatim under
their package path (ansible_collections/veza/coturn/plugins/module_utils are
implicit namespace packages, without __init__.py; the private packages
_relay_watch, _turn_probe and _stun keep theirs) and run as

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

Standard library and the collection's _stun, _netns, _turn_probe and _turn_rest only,
no Ansible imports, Python 3.8 syntax. The shared secret, the credential and
the username never reach stdout, stderr or the metrics file.

- ``config``: the JSON configuration, checked key by key;
- ``credentials``: the backend's credential from its env file, and redaction;
- ``listener``: one listener probed, and what its metrics need;
- ``certificates``: the notAfter of the certificate a TLS listener presents;
- ``metrics``: the Prometheus text format, written atomically;
- ``cli``: the command line (``__main__`` runs it).
"""

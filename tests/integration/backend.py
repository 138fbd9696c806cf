# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local site's backend container and the files the roles write in it.

inventory/local runs the WebRTC backend in the container ``backend-local``
(roles/backend_instance); its env file and iceServers JSON are inside it, at
the webrtc_backend_env role's default paths.
"""

from __future__ import annotations

import subprocess

NAME = "backend-local"
ENV_PATH = "/etc/veza/webrtc.env"
ICE_PATH = "/etc/veza/ice_servers.json"
# What the roles write there: the two files, the renewal's and the watch's.
FILES = (
    ENV_PATH,
    ICE_PATH,
    "/etc/veza-coturn/turn-renew.json",
    "/etc/veza-coturn/relay-watch.json",
    "/etc/systemd/system/veza-turn-renew.service",
    "/etc/systemd/system/veza-turn-renew.timer",
    "/etc/systemd/system/veza-relay-watch.service",
    "/etc/systemd/system/veza-relay-watch.timer",
)


def sh(script, check=True):
    """Run a shell script in the container; return its stdout."""
    return subprocess.run(
        ["incus", "exec", NAME, "--", "sh", "-c", script], capture_output=True, text=True, check=check
    ).stdout


def read(path=ENV_PATH):
    return subprocess.run(["incus", "exec", NAME, "--", "cat", path], capture_output=True, text=True, check=True).stdout


def env_file():
    """The env file as a dict (comments and blank lines left out)."""
    return dict(line.split("=", 1) for line in read().splitlines() if line and not line.startswith("#"))


def stat(path):
    """(octal mode, owner, group) of a file in the container."""
    mode, owner, group = sh("stat -c '%%a %%U %%G' %s" % path).split()
    return mode, owner, group


def state():
    """(mtime, sha256) of every file the roles write in the container, where it exists.

    Empty when the container does not exist (yet)."""
    proc = subprocess.run(
        [
            "incus",
            "exec",
            NAME,
            "--",
            "sh",
            "-c",
            'for f in %s; do [ -e "$f" ] && echo "$(stat -c %%Y.%%y "$f") $(sha256sum "$f")"; done; true'
            % " ".join(FILES),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout if proc.returncode == 0 else ""

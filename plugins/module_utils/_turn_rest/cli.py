# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The renewal program's command line: renew --config FILE, or --env FILE --ice FILE [--reload-command] [--margin]."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys

from ansible_collections.veza.coturn.plugins.module_utils._turn_rest.errors import TurnRestError
from ansible_collections.veza.coturn.plugins.module_utils._turn_rest.renewal import describe, renew_and_reload


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and status 1, like every other failure."""

    def error(self, message):
        self.exit(1, f"{self.prog}: {message} (see --help)\n")


def _reload_command(text):
    try:
        argv = json.loads(text)
    except ValueError:
        argv = None
    if not isinstance(argv, list) or not argv or not all(isinstance(arg, str) and arg for arg in argv):
        raise argparse.ArgumentTypeError(
            'must be a JSON list of non-empty strings, the command and its arguments, such as \'["systemctl", "reload", "backend"]\''
        )
    return argv


def _margin(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number of seconds, 0 or more (got {text!r})")
    return value


def _read_config(path):
    """The renewal settings the webrtc_backend_env role writes (JSON): env, ice, reload_command_line, margin.

    A file rather than arguments, so that nothing of the reload command has
    to survive systemd's ExecStart= quoting; reload_command_line is split
    the way ansible.builtin.command splits it (shlex, no shell).
    """
    try:
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError) as exc:
        raise TurnRestError(
            f"cannot read the renewal settings {path}: {getattr(exc, 'strerror', None) or exc}"
        ) from exc
    if not isinstance(config, dict) or not all(
        isinstance(config.get(key), str) and config[key] for key in ("env", "ice")
    ):
        raise TurnRestError(f'the renewal settings {path} must be a JSON object with the paths "env" and "ice"')
    line = config.get("reload_command_line") or ""
    try:
        reload_command = shlex.split(line) if isinstance(line, str) else None
    except ValueError as exc:
        raise TurnRestError(f"reload_command_line in {path} is not a command line ({exc})") from exc
    if reload_command is None:
        raise TurnRestError(f"reload_command_line in {path} must be a string, the command and its arguments")
    margin = config.get("margin")
    if margin is not None and (isinstance(margin, bool) or not isinstance(margin, int) or margin < 0):
        raise TurnRestError(f"margin in {path} must be a whole number of seconds, 0 or more (got {margin!r})")
    return config["env"], config["ice"], reload_command or None, margin


def _program_name():
    """The name messages start with: the installed program's (turn_rest.pyz); _turn_rest.py when run with -m, as before it was a package."""
    name = os.path.basename(sys.argv[0])
    return "_turn_rest.py" if name in ("", "__main__.py") else name


def main(argv=None, now=None):
    """The command line; returns the exit status. now is for tests (a Unix timestamp instead of the clock)."""
    parser = _Parser(prog=_program_name(), description="TURN REST credentials of the veza.coturn collection.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    renew_parser = commands.add_parser(
        "renew",
        help="renew the credential in the backend env file when it is due",
        description="Renew the TURN REST credential in the env file and the iceServers JSON when less than "
        "--margin seconds (default half the TTL) are left; reload the backend when they changed. "
        "Prints one line: skipped, kept, renewed or repaired.",
    )
    renew_parser.add_argument(
        "--config",
        metavar="FILE",
        help="JSON settings written by the webrtc_backend_env role (env, ice, reload_command_line, "
        "margin), instead of the options below",
    )
    renew_parser.add_argument("--env", metavar="FILE", help="the env file (WEBRTC_TURN_* lines)")
    renew_parser.add_argument("--ice", metavar="FILE", help="the iceServers JSON file")
    renew_parser.add_argument(
        "--reload-command",
        type=_reload_command,
        metavar="JSON-ARGV",
        help='run when a file changed, without a shell, e.g. \'["systemctl", "reload", "backend"]\'',
    )
    renew_parser.add_argument(
        "--margin",
        type=_margin,
        metavar="SECONDS",
        help="renew when this many seconds or fewer are left (default: half the TTL)",
    )
    args = parser.parse_args(argv)
    if bool(args.config) == bool(args.env or args.ice) or not (args.config or (args.env and args.ice)):
        parser.error("renew takes either --config FILE or both --env FILE and --ice FILE")
    try:
        if args.config:
            env, ice, reload_command, margin = _read_config(args.config)
        else:
            env, ice, reload_command, margin = args.env, args.ice, args.reload_command, args.margin
        result = renew_and_reload(env, ice, reload_command, now=now, margin=margin)
    except TurnRestError as exc:
        sys.stderr.write(f"{parser.prog} renew: {exc}\n")
        return 1
    sys.stdout.write(describe(result) + "\n")
    return 0

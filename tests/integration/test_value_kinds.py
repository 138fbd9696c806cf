# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every string option of every role, fed hostile values through playbooks/site.yml.

Generated from the roles' argument specs: for each role and each payload of
issue 11 (a line break with a directive after it, '#', leading and trailing
spaces, empty, non-ASCII, 10,000 characters), one run of
``ansible-playbook playbooks/site.yml -i inventory/local`` sets *every*
string option of that role to the payload (list options to a one-element
list, lists of dicts to one dict with every key set to it). The run must:

* fail in the preflight play, with no later play entered;
* name every option that is refused (``ROLE: VAR`` or ``ROLE: VAR[0]``);
* not name an option that ACCEPTED says takes the payload, and why;
* change nothing: turnserver.conf, the drop-in, the userdb and coturn's
  PID in the container, the env file and ice_servers.json, Incus objects,
  namespaces, nftables (the ``host_state`` fixture).

Options with ``choices`` are not fed: their argument spec refuses any
other value before the role runs. Needs the local site deployed, root, the
incus client and VEZA_INTEGRATION=1.
"""

from __future__ import annotations

import glob
import os
import shutil

import pytest
import yaml

import playbook_output
from playbook_output import PREFLIGHT_PLAY

pytestmark = pytest.mark.skipif(
    not (os.environ.get("VEZA_INTEGRATION") == "1" and os.geteuid() == 0 and shutil.which("incus")),
    reason="needs VEZA_INTEGRATION=1, root and the incus client",
)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PAYLOADS = {
    "newline-directive": "x\nno-auth",
    "hash": "x#no-auth",
    "spaces-around": " x ",
    "empty": "",
    "non-ascii": "tür.example.org",
    "ten-thousand": "a" * 10000,
}

# (kind, payload) pairs a role takes, and why. Everything else is refused.
_EMPTY_OK = 'empty means "not set" for this option (its default is empty)'
ACCEPTED = {
    ("local_path", "non-ascii"): "a controller path read by Python, never written into a file or a command line",
    ("local_path", "hash"): 'a controller path read by Python; "#" is a file-name character there',
    ("command", "non-ascii"): "the reload command runs as an argument vector, never written to a file",
    ("command", "hash"): 'the reload command runs as an argument vector without a shell: "#" is no comment',
    ("incus_config", "newline-directive"): "Incus takes config as JSON; raw.lxc and cloud-init values span lines",
    ("incus_config", "hash"): "Incus takes config as JSON through its API",
    ("incus_config", "spaces-around"): "Incus takes config as JSON through its API",
    ("incus_config", "empty"): "an empty Incus config value unsets the key",
    ("incus_config", "non-ascii"): "Incus takes config as JSON through its API",
    ("incus_config", "ten-thousand"): "Incus config values may be long (cloud-init user data)",
    ("pem", "hash"): None,
    ("pem_key", "hash"): None,  # refused: no BEGIN line
}


def _kinds(role):
    with open(os.path.join(REPO, "roles", role, "vars", "main.yml"), encoding="utf-8") as f:
        return yaml.safe_load(f)["__%s_value_kinds" % role]


def _options(role):
    with open(os.path.join(REPO, "roles", role, "meta", "argument_specs.yml"), encoding="utf-8") as f:
        return yaml.safe_load(f)["argument_specs"]["main"]["options"]


def _accepted(kind, payload):
    if ACCEPTED.get((kind, payload)):
        return ACCEPTED[(kind, payload)]
    if payload == "empty" and kind.endswith("_or_empty"):
        return _EMPTY_OK
    base = kind[: -len("_or_empty")] if kind.endswith("_or_empty") else kind
    return ACCEPTED.get((base, payload))


def _value(option, payload):
    text = PAYLOADS[payload]
    if option.get("type") == "dict" and option.get("options"):
        return {key: text for key in option["options"]}
    if option.get("type") == "dict":
        return {"user.veza-test": text}
    if option.get("type") == "list" and option.get("elements") == "dict":
        return [{"name": text, "password": text, "address": text}]
    if option.get("type") == "list":
        return [text]
    return text


def _cases():
    for path in sorted(glob.glob(os.path.join(REPO, "roles", "*", "meta", "argument_specs.yml"))):
        role = path.split(os.sep)[-3]
        for payload in PAYLOADS:
            yield pytest.param(role, payload, id="%s-%s" % (role, payload))


# A role site.yml does not run is fed through the playbook that runs it, and
# must stop in that playbook's first play.
PLAYBOOKS = {"credential_rotation": ("playbooks/rotate_credentials.yml", "Rotation state")}


@pytest.mark.parametrize("role, payload", list(_cases()))
def test_every_string_option_refuses_or_takes_with_reason(role, payload, run_playbook, host_state):
    kinds, options = _kinds(role), _options(role)
    fed = {name: _value(options[name], payload) for name in kinds if not options[name].get("choices")}
    refused = sorted(n for n in fed if not _accepted(kinds[n], payload))
    # A list of dicts whose keys take the payload (empty password?) still
    # has a key that refuses it: every dict kind refuses every payload here.
    before = host_state()
    playbook, first_play = PLAYBOOKS.get(role, ("playbooks/site.yml", PREFLIGHT_PLAY))
    rc, output = run_playbook(fed, playbook=playbook, timeout=300)
    after = host_state()
    if after != before:
        pytest.fail("the run changed this host:\n" + playbook_output.state_diff(before, after), pytrace=False)
    assert "Traceback" not in output, output
    plays = playbook_output.plays(output)
    assert (
        rc != 0 and plays and plays[0][0] == first_play and len(plays) == 1
    ), "not stopped in preflight (rc %s): %s\n%s" % (rc, [p for p, dummy in plays], output[-4000:])
    message = "\n".join(playbook_output.errors(plays[0][1]))
    # An option is named as VAR, VAR[i] (a list item) or VAR.KEY (a key of a dict option).
    missing = [n for n in refused if not any("%s: %s%s" % (role, n, end) in message for end in (" ", "[", "."))]
    assert not missing, "not named: %s\n%s" % (missing, message)
    wrongly = [
        n for n in fed if n not in refused and any("%s: %s%s" % (role, n, end) in message for end in (" ", "[", "."))
    ]
    assert not wrongly, "refused although ACCEPTED says it is taken: %s\n%s" % (wrongly, message)
    assert "a" * 100 not in message, "a 10,000-character value was echoed whole"

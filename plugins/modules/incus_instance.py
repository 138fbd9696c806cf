#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: incus_instance
short_description: Manage an Incus instance through the Incus REST API
version_added: 0.1.0
description:
  - Creates, updates, starts, stops and deletes an Incus container or virtual machine by talking
    to the Incus REST API directly, over the daemon's unix socket (default) or over HTTPS with a
    trusted client certificate.
  - Manages the instance's profiles, its local C(config) keys (merge semantics), its local devices
    (authoritative), its description, the ephemeral flag and its run state.
  - Background operations are waited for; Incus' own error text is reported when it refuses a change.
  - Idempotent; supports check mode and diff mode.
author:
  - veza.coturn developers (@veza-coturn)
options:
  name:
    description: Name of the instance.
    type: str
    required: true
  state:
    description:
      - C(present) creates the instance when missing (without starting it) and updates it, leaving its
        run state alone.
      - C(started) and C(stopped) also bring it into that run state (a frozen instance is unfrozen
        by C(started)).
      - C(restarted) starts a stopped instance and restarts a running one; it always reports a change.
      - C(absent) stops the instance when it runs, then deletes it.
    type: str
    choices: [present, started, stopped, restarted, absent]
    default: started
  project:
    description: Incus project the instance lives in.
    type: str
    default: default
  target:
    description:
      - Cluster member to create the instance on. Used on create only; an existing instance is never
        moved (a warning is emitted when it lives elsewhere).
      - Leave unset on a standalone (non-clustered) daemon, which refuses a target.
    type: str
  type:
    description:
      - Instance type. Used on create; an existing instance of the other type is an error.
    type: str
    choices: [container, virtual-machine]
    default: container
  source:
    description:
      - Where the instance's root filesystem comes from. Used on create only; changing it later does
        not rebuild the instance.
      - Required when the instance does not exist yet and O(state) is not C(absent).
    type: dict
    suboptions:
      type:
        description: Source type. C(none) creates an empty instance.
        type: str
        choices: [image, none]
        default: image
      alias:
        description:
          - Image alias. Without O(source.server) it must exist on the daemon (in O(project)), which
            is checked before anything is created.
        type: str
      fingerprint:
        description: Image fingerprint (or a unique prefix of it).
        type: str
      server:
        description: Remote image server URL (for example C(https://images.linuxcontainers.org)).
        type: str
      protocol:
        description: Protocol of O(source.server).
        type: str
        choices: [simplestreams, incus]
      mode:
        description: Transfer mode.
        type: str
        choices: [pull]
        default: pull
  profiles:
    description: Profiles applied to the instance, in order (authoritative).
    type: list
    elements: str
    default: [default]
  config:
    description:
      - Instance configuration keys (for example C(limits.cpu), C(boot.autostart)).
      - Merge semantics. Only the keys given here are set and compared; keys not given are left
        untouched (Incus maintains C(volatile.*) keys itself). A key whose value is V(null) is removed.
      - Values are sent as strings; booleans become C(true)/C(false), numbers their decimal text.
    type: dict
  devices:
    description:
      - The instance's own (local, non-profile) devices, as a mapping of device name to a mapping of
        device keys to values (the C(type) key is required). Values are compared as strings; booleans
        become C(true)/C(false).
      - Authoritative when given. After the run the instance's local devices are exactly these;
        local devices not listed are removed. Devices inherited from profiles are not affected.
        A device whose value is V(null) is simply not wanted.
      - When omitted, the local devices are left alone.
    type: dict
  ephemeral:
    description: Whether the instance is ephemeral (deleted by Incus when it stops).
    type: bool
    default: false
  description:
    description: Instance description. Left alone when omitted.
    type: str
  socket:
    description: Path of the Incus daemon's unix socket. Ignored when O(url) is set.
    type: path
    default: /var/lib/incus/unix.socket
  url:
    description: HTTPS URL of a remote Incus daemon (C(https://host:8443)). Takes precedence over O(socket).
    type: str
  client_cert:
    description: Path of the PEM client certificate trusted by the remote daemon (HTTPS only).
    type: path
  client_key:
    description: Path of the PEM private key of O(client_cert) (HTTPS only).
    type: path
  server_cert:
    description:
      - Path of the remote daemon's certificate (or of a CA) to trust (HTTPS only). When set, the
        certificate is pinned and the host name is not checked (Incus servers use self-signed
        certificates).
    type: path
  validate_certs:
    description: Verify the remote daemon's certificate (HTTPS only).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for each background operation, for a graceful stop, and for O(wait_for_ipv4).
      - Creating the instance (which may download and unpack an image) is given five times as long,
        at least 300 seconds.
    type: int
    default: 60
  force_stop:
    description: Stop the instance forcibly (no clean shutdown) when it has to be stopped.
    type: bool
    default: false
  wait_for_ipv4:
    description:
      - When the instance ends up running, wait (up to O(wait_timeout) seconds) until it reports an
        IPv4 address on a non-loopback interface, and return it in RV(ipv4).
      - Not done in check mode for an instance that would only be created or started.
    type: bool
    default: false
notes:
  - Talks to the daemon directly; the C(incus) client is not needed.
  - The user running the module needs access to the socket (root or the C(incus-admin) group).
seealso:
  - name: Incus REST API
    description: The API this module uses.
    link: https://linuxcontainers.org/incus/docs/main/rest-api/
"""

EXAMPLES = r"""
- name: Run the TURN container with a static address and a NAT proxy device
  veza.coturn.incus_instance:
    name: turn1
    source:
      alias: debian-12-coturn
    profiles: [default]
    config:
      boot.autostart: true
      limits.cpu: 2
      limits.memory: 1GiB
    devices:
      root:
        type: disk
        path: /
        pool: default
      eth0:
        type: nic
        network: incusbr0
        name: eth0
        ipv4.address: 10.210.0.10
      turn-udp:
        type: proxy
        nat: true
        listen: udp:198.51.100.10:3478
        connect: udp:10.210.0.10:3478
    wait_for_ipv4: true
  register: turn1

- name: Create from a remote image server on a given cluster member, leave it stopped
  veza.coturn.incus_instance:
    name: turn2
    state: stopped
    target: node2
    source:
      server: https://images.linuxcontainers.org
      protocol: simplestreams
      alias: debian/12

- name: Remove a config key
  veza.coturn.incus_instance:
    name: turn1
    state: present
    config:
      user.note: null

- name: Manage an instance on a remote daemon over HTTPS
  veza.coturn.incus_instance:
    name: turn1
    url: https://incus.example.net:8443
    client_cert: /etc/veza/incus-client.crt
    client_key: /etc/veza/incus-client.key
    server_cert: /etc/veza/incus-server.crt
    state: stopped

- name: Delete it
  veza.coturn.incus_instance:
    name: turn1
    state: absent
"""

RETURN = r"""
instance:
  description:
    - The instance as Incus reports it after the run (predicted in check mode); empty when absent.
  returned: always
  type: dict
  contains:
    name:
      description: Instance name.
      type: str
    status:
      description: Incus status (C(Running), C(Stopped), C(Frozen), ...).
      type: str
    type:
      description: C(container) or C(virtual-machine).
      type: str
    project:
      description: Project of the instance.
      type: str
    location:
      description: Cluster member holding the instance (C(none) on a standalone daemon).
      type: str
    profiles:
      description: Profiles applied.
      type: list
      elements: str
    config:
      description: All local config keys, including those maintained by Incus (C(volatile.*)).
      type: dict
    devices:
      description: Local devices.
      type: dict
    expanded_devices:
      description: Devices after profiles are applied.
      type: dict
    ephemeral:
      description: Ephemeral flag.
      type: bool
    description:
      description: Description.
      type: str
    addresses:
      description: IPv4 addresses per interface (loopback excluded) while the instance runs.
      type: dict
      sample: {"eth0": ["10.210.0.10"]}
  sample:
    name: turn1
    status: Running
    type: container
    addresses: {"eth0": ["10.210.0.10"]}
ipv4:
  description: The first IPv4 address reported on a non-loopback interface (C(eth0) preferred), or null.
  returned: always
  type: str
  sample: 10.210.0.10
actions:
  description: What was done (or would be done in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [create, start]
"""

import copy
import time
import urllib.parse

from collections.abc import Mapping

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.veza.coturn.plugins.module_utils._incus import (
    DEFAULT_SOCKET,
    IncusClient,
    IncusError,
)

MODULE = 'incus_instance'
STATES = ('present', 'started', 'stopped', 'restarted', 'absent')
TYPES = ('container', 'virtual-machine')
SOURCE_TYPES = ('image', 'none')
# The writable part of an instance (what PUT /1.0/instances/<name> takes).
WRITABLE = ('architecture', 'config', 'devices', 'ephemeral', 'profiles', 'stateful', 'description')


class ModuleFailure(Exception):
    """The module must fail with ``msg``; ``extra`` goes into the result."""

    def __init__(self, msg, **extra):
        super().__init__(msg)
        self.msg = msg
        self.extra = extra


def _fail(where, problem):
    raise ModuleFailure('%s: %s: %s' % (MODULE, where, problem))


def _scalar_to_str(value, where):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return str(value)
    _fail(where, 'value must be a string, number or boolean (got %s)' % type(value).__name__)


def normalize_params(params):
    """Validate and normalise module parameters.

    Works on a plain dict (no Ansible needed): fills in defaults, coerces
    config/device values to strings and raises :class:`ModuleFailure` with a
    message naming the option and the problem.
    """
    p = dict(params)
    defaults = {
        'state': 'started', 'project': 'default', 'type': 'container',
        'profiles': ['default'], 'ephemeral': False, 'socket': DEFAULT_SOCKET,
        'validate_certs': True, 'wait_timeout': 60, 'force_stop': False,
        'wait_for_ipv4': False,
    }
    for key, value in defaults.items():
        if p.get(key) is None:
            p[key] = copy.deepcopy(value)
    for key in ('target', 'source', 'config', 'devices', 'description', 'url',
                'client_cert', 'client_key', 'server_cert'):
        p.setdefault(key, None)

    if not isinstance(p.get('name'), str) or not p['name']:
        _fail('name', 'a non-empty string is required')
    if p['state'] not in STATES:
        _fail('state', 'must be one of %s (got %r)' % (', '.join(STATES), p['state']))
    if p['type'] not in TYPES:
        _fail('type', 'must be one of %s (got %r)' % (', '.join(TYPES), p['type']))
    if not isinstance(p['project'], str) or not p['project']:
        _fail('project', 'a non-empty string is required')
    for key in ('ephemeral', 'validate_certs', 'force_stop', 'wait_for_ipv4'):
        if not isinstance(p[key], bool):
            _fail(key, 'value must be a boolean (got %r)' % (p[key],))
    if isinstance(p['wait_timeout'], bool) or not isinstance(p['wait_timeout'], int) \
            or p['wait_timeout'] <= 0:
        _fail('wait_timeout', 'must be a positive number of seconds (got %r)' % (p['wait_timeout'],))

    profiles = p['profiles']
    if not isinstance(profiles, (list, tuple)) or \
            not all(isinstance(x, str) and x for x in profiles):
        _fail('profiles', 'value must be a list of profile names')
    p['profiles'] = [str(x) for x in profiles]

    # source
    source = p['source']
    if source is not None:
        if not isinstance(source, Mapping):
            _fail('source', 'value must be a mapping')
        source = dict((k, v) for k, v in source.items() if v is not None)
        unknown = set(source) - {'type', 'alias', 'fingerprint', 'server', 'protocol', 'mode'}
        if unknown:
            _fail('source', 'unsupported keys: %s' % ', '.join(sorted(unknown)))
        source.setdefault('type', 'image')
        if source['type'] not in SOURCE_TYPES:
            _fail('source.type', 'must be one of %s (got %r)' % (', '.join(SOURCE_TYPES), source['type']))
        for key in ('alias', 'fingerprint', 'server', 'protocol', 'mode'):
            if key in source and (not isinstance(source[key], str) or not source[key]):
                _fail('source.%s' % key, 'value must be a non-empty string')
        if source['type'] == 'image':
            if 'alias' in source and 'fingerprint' in source:
                _fail('source', 'give either alias or fingerprint, not both')
            if 'alias' not in source and 'fingerprint' not in source:
                _fail('source', 'an image source needs alias or fingerprint')
            source.setdefault('mode', 'pull')
            if source['mode'] != 'pull':
                _fail('source.mode', 'only "pull" is supported (got %r)' % source['mode'])
            if 'protocol' in source and source['protocol'] not in ('simplestreams', 'incus'):
                _fail('source.protocol', 'must be simplestreams or incus (got %r)' % source['protocol'])
            if 'protocol' in source and 'server' not in source:
                _fail('source.protocol', 'only meaningful together with source.server')
        p['source'] = source

    # config: merge semantics, None removes
    config = p['config']
    if config is not None:
        if not isinstance(config, Mapping):
            _fail('config', 'value must be a mapping of strings')
        norm = {}
        for key, value in config.items():
            key = str(key)
            norm[key] = None if value is None else _scalar_to_str(value, 'config.%s' % key)
            if key.startswith('volatile.'):
                _fail('config.%s' % key, 'volatile keys are maintained by Incus and cannot be managed')
        p['config'] = norm

    # devices: authoritative; None device = not wanted
    devices = p['devices']
    if devices is not None:
        if not isinstance(devices, Mapping):
            _fail('devices', 'value must be a mapping of device names to mappings of strings')
        norm = {}
        for name, dev in devices.items():
            name = str(name)
            if dev is None:
                continue
            if not isinstance(dev, Mapping):
                _fail('devices.%s' % name, 'value must be a mapping of strings')
            ndev = {}
            for key, value in dev.items():
                key = str(key)
                if value is None:
                    _fail('devices.%s.%s' % (name, key),
                          'value must be a string, number or boolean (got null)')
                ndev[key] = _scalar_to_str(value, 'devices.%s.%s' % (name, key))
            if not ndev.get('type'):
                _fail('devices.%s' % name, 'the key "type" is required (nic, disk, proxy, ...)')
            norm[name] = ndev
        p['devices'] = norm

    if p['description'] is not None and not isinstance(p['description'], str):
        _fail('description', 'value must be a string')
    if p['url'] is not None:
        parsed = urllib.parse.urlsplit(p['url'])
        if parsed.scheme != 'https' or not parsed.hostname:
            _fail('url', 'must look like https://host:8443 (got %r)' % p['url'])
    return p


def _status_to_state(status):
    if status is None:
        return 'absent'
    return {'Running': 'started', 'Stopped': 'stopped', 'Frozen': 'frozen'}.get(status, status.lower())


def ipv4_addresses(state):
    """``{iface: [ipv4, ...]}`` from GET /1.0/instances/<name>/state, loopback excluded."""
    result = {}
    for iface, info in sorted(((state or {}).get('network') or {}).items()):
        if iface == 'lo':
            continue
        addrs = [a.get('address') for a in (info or {}).get('addresses') or []
                 if a.get('family') == 'inet' and a.get('address')
                 and not a.get('address').startswith('127.')]
        if addrs:
            result[iface] = addrs
    return result


def first_ipv4(addresses):
    if not addresses:
        return None
    if addresses.get('eth0'):
        return addresses['eth0'][0]
    for iface in sorted(addresses):
        if addresses[iface]:
            return addresses[iface][0]
    return None


class InstanceManager:
    """The module's logic, independent of Ansible.

    ``params`` is a dict of module options (validated with
    :func:`normalize_params`), ``client`` an :class:`IncusClient` (or anything
    with the same ``request``/``wait_operation`` methods). :meth:`run` returns
    the result dict or raises :class:`ModuleFailure`.
    """

    def __init__(self, params, client, check_mode=False, diff=False,
                 sleep=time.sleep, clock=time.monotonic):
        self.p = normalize_params(params)
        self.client = client
        self.check_mode = check_mode
        self.diff = diff
        self.sleep = sleep
        self.clock = clock
        self.actions = []   # planned (and, outside check mode, performed) in order
        self.done = []      # performed so far (reported when a later step fails)
        self.warnings = []
        self.name = self.p['name']
        self.quoted = urllib.parse.quote(self.name, safe='')
        self.path = '/1.0/instances/%s' % self.quoted

    # -- API helpers --------------------------------------------------------
    def _query(self, **extra):
        q = {'project': self.p['project']}
        q.update(extra)
        return q

    def _api(self, what, method, path, body=None, query=None, headers=None, wait_timeout=None):
        try:
            return self.client.request(method, path, body=body, query=query or self._query(),
                                       headers=headers,
                                       wait_timeout=wait_timeout or self.p['wait_timeout'])
        except IncusError as exc:
            raise ModuleFailure('Incus refused to %s instance "%s": %s' % (what, self.name, exc.error),
                                error_code=exc.status, actions=list(self.done))

    def fetch(self):
        """Return ``(instance, etag)``, ``(None, None)`` when it does not exist."""
        try:
            return self.client.request('GET', self.path, query=self._query())
        except IncusError as exc:
            if exc.not_found:
                return None, None
            raise ModuleFailure('Incus refused to read instance "%s": %s' % (self.name, exc.error),
                                error_code=exc.status, actions=list(self.done))

    def fetch_state(self):
        try:
            meta, dummy = self.client.request('GET', self.path + '/state', query=self._query())
        except IncusError as exc:
            if exc.not_found:
                return None
            raise ModuleFailure('Incus refused to read the state of instance "%s": %s'
                                % (self.name, exc.error), error_code=exc.status,
                                actions=list(self.done))
        return meta or {}

    def _check_source(self):
        src = self.p['source']
        if src is None:
            raise ModuleFailure(
                '%s: source: required to create instance "%s" (it does not exist in project "%s")'
                % (MODULE, self.name, self.p['project']), actions=list(self.done))
        if src['type'] != 'image' or src.get('server'):
            return
        if 'alias' in src:
            path = '/1.0/images/aliases/%s' % urllib.parse.quote(src['alias'], safe='')
            label = 'source.alias: image alias "%s"' % src['alias']
        else:
            path = '/1.0/images/%s' % urllib.parse.quote(src['fingerprint'], safe='')
            label = 'source.fingerprint: image "%s"' % src['fingerprint']
        try:
            self.client.request('GET', path, query=self._query())
        except IncusError as exc:
            if exc.not_found:
                raise ModuleFailure(
                    '%s: %s does not exist on the Incus daemon (project "%s"); import the image '
                    'or set source.server to pull it from a remote' % (MODULE, label, self.p['project']),
                    actions=list(self.done))
            raise ModuleFailure('Incus refused to look up %s: %s' % (label, exc.error),
                                error_code=exc.status, actions=list(self.done))

    # -- desired state ------------------------------------------------------
    def desired_config(self, current):
        config = dict(current or {})
        for key, value in (self.p['config'] or {}).items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value
        return config

    def desired_devices(self, current):
        if self.p['devices'] is None:
            return copy.deepcopy(current or {})
        return copy.deepcopy(self.p['devices'])

    def _desired_writable(self, inst):
        body = dict((k, copy.deepcopy(inst.get(k))) for k in WRITABLE if k in inst)
        body['config'] = self.desired_config(inst.get('config'))
        body['devices'] = self.desired_devices(inst.get('devices'))
        body['profiles'] = list(self.p['profiles'])
        body['ephemeral'] = self.p['ephemeral']
        if self.p['description'] is not None:
            body['description'] = self.p['description']
        return body

    def update_needed(self, inst):
        want = self._desired_writable(inst)
        for key in ('config', 'devices', 'profiles', 'ephemeral', 'description'):
            if key in want and want[key] != inst.get(key):
                return True
        return False

    def state_actions(self, status):
        state = self.p['state']
        if state == 'started':
            if status == 'Running':
                return []
            return ['unfreeze'] if status == 'Frozen' else ['start']
        if state == 'stopped':
            return ['stop'] if status in ('Running', 'Frozen') else []
        if state == 'restarted':
            if status == 'Running':
                return ['restart']
            return ['unfreeze', 'restart'] if status == 'Frozen' else ['start']
        return []

    def view(self, inst, status=None):
        """The managed view used for the diff."""
        if inst is None:
            return {'state': 'absent'}
        declared = self.p['config'] or {}
        config = inst.get('config') or {}
        out = {
            'state': _status_to_state(status or inst.get('status')),
            'profiles': list(inst.get('profiles') or []),
            'config': dict((k, config[k]) for k in sorted(declared) if k in config),
            'devices': copy.deepcopy(inst.get('devices') or {}),
            'ephemeral': bool(inst.get('ephemeral')),
        }
        if self.p['description'] is not None:
            out['description'] = inst.get('description', '')
        return out

    # -- writes -------------------------------------------------------------
    def _create(self):
        src = dict(self.p['source'])
        body = {
            'name': self.name,
            'type': self.p['type'],
            'source': src,
            'profiles': list(self.p['profiles']),
            'config': dict((k, v) for k, v in (self.p['config'] or {}).items() if v is not None),
            'devices': copy.deepcopy(self.p['devices'] or {}),
            'ephemeral': self.p['ephemeral'],
            'start': False,
        }
        if self.p['description'] is not None:
            body['description'] = self.p['description']
        query = self._query()
        if self.p['target']:
            query['target'] = self.p['target']
        try:
            self.client.request('POST', '/1.0/instances', body=body, query=query,
                                wait_timeout=max(self.p['wait_timeout'], 60) * 5)
        except IncusError as exc:
            label = []
            if src.get('alias'):
                label.append('source.alias "%s"' % src['alias'])
            elif src.get('fingerprint'):
                label.append('source.fingerprint "%s"' % src['fingerprint'])
            if src.get('server'):
                label.append('source.server %s' % src['server'])
            if self.p['target']:
                label.append('target "%s"' % self.p['target'])
            raise ModuleFailure('Incus refused to create instance "%s": %s%s'
                                % (self.name, exc.error,
                                   ' (%s)' % ', '.join(label) if label else ''),
                                error_code=exc.status, actions=list(self.done))

    def _update(self):
        inst, etag = self.fetch()
        if inst is None:
            raise ModuleFailure('Incus refused to update instance "%s": it disappeared' % self.name,
                                actions=list(self.done))
        body = self._desired_writable(inst)
        headers = {'If-Match': etag} if etag else None
        self._api('update', 'PUT', self.path, body=body, headers=headers)

    def _change_state(self, action):
        force = self.p['force_stop']
        body = {'action': action, 'timeout': self.p['wait_timeout'], 'force': False, 'stateful': False}
        if action in ('stop', 'restart'):
            body['force'] = force
        if action == 'stop':
            inst, dummy = self.fetch()
            if inst is not None and inst.get('status') == 'Frozen':
                body['force'] = True
            if body['force']:
                body['timeout'] = -1
        what = {'start': 'start', 'stop': 'stop', 'restart': 'restart',
                'unfreeze': 'unfreeze', 'freeze': 'freeze'}[action]
        self._api(what, 'PUT', self.path + '/state', body=body,
                  wait_timeout=self.p['wait_timeout'] + 30)

    def _delete(self):
        try:
            self.client.request('DELETE', self.path, query=self._query(),
                                wait_timeout=self.p['wait_timeout'] + 30)
        except IncusError as exc:
            if exc.not_found:  # an ephemeral instance vanishes when stopped
                return
            raise ModuleFailure('Incus refused to delete instance "%s": %s' % (self.name, exc.error),
                                error_code=exc.status, actions=list(self.done))

    def _wait_ipv4(self):
        deadline = self.clock() + self.p['wait_timeout']
        while True:
            addresses = ipv4_addresses(self.fetch_state())
            if addresses:
                return addresses
            if self.clock() >= deadline:
                raise ModuleFailure(
                    '%s: wait_for_ipv4: instance "%s" reported no IPv4 address on a non-loopback '
                    'interface within %ss' % (MODULE, self.name, self.p['wait_timeout']),
                    actions=list(self.done), changed=bool(self.done))
            self.sleep(0.5)

    def _perform(self, action):
        if action == 'create':
            self._create()
        elif action == 'update':
            self._update()
        elif action == 'delete':
            self._delete()
        else:
            self._change_state(action)
        self.done.append(action)

    # -- result helpers -----------------------------------------------------
    @staticmethod
    def public(inst, addresses=None):
        if inst is None:
            return {}
        keys = ('name', 'status', 'type', 'project', 'location', 'profiles', 'config',
                'devices', 'expanded_devices', 'ephemeral', 'description', 'architecture')
        out = dict((k, copy.deepcopy(inst.get(k))) for k in keys)
        out['addresses'] = addresses or {}
        return out

    def _predicted(self, inst, status):
        if inst is None:
            inst = {
                'name': self.name, 'type': self.p['type'], 'project': self.p['project'],
                'location': self.p['target'] or 'none', 'config': {}, 'devices': {},
                'expanded_devices': {}, 'profiles': [], 'ephemeral': False,
                'description': '', 'architecture': None,
            }
        pred = copy.deepcopy(inst)
        pred.update(self._desired_writable(inst))
        pred['status'] = status
        if self.p['devices'] is not None or 'expanded_devices' not in pred:
            # profile devices are unknown here; local devices override them
            expanded = dict(inst.get('expanded_devices') or {})
            for name in (inst.get('devices') or {}):
                expanded.pop(name, None)
            expanded.update(pred['devices'])
            pred['expanded_devices'] = expanded
        return pred

    # -- main ---------------------------------------------------------------
    def run(self):
        p = self.p
        inst, dummy = self.fetch()
        before = self.view(inst)
        result = {'changed': False, 'actions': self.actions, 'warnings': self.warnings}

        if p['state'] == 'absent':
            if inst is not None:
                if inst.get('status') in ('Running', 'Frozen'):
                    self.actions.append('stop')
                self.actions.append('delete')
                if not self.check_mode:
                    if 'stop' in self.actions:
                        self._perform('stop')
                    self._perform('delete')
            result.update(changed=bool(self.actions), instance={}, ipv4=None)
            if self.diff:
                result['diff'] = {'before': before, 'after': {'state': 'absent'}}
            return result

        if inst is None:
            self._check_source()
            self.actions.append('create')
            status = 'Stopped'
            if p['state'] in ('started', 'restarted'):
                self.actions.append('start')
                status = 'Running'
            if not self.check_mode:
                for action in self.actions:
                    self._perform(action)
            predicted = self._predicted(None, status)
        else:
            if inst.get('type') and inst['type'] != p['type']:
                raise ModuleFailure(
                    '%s: type: instance "%s" exists as a %s, not a %s; the type cannot be changed '
                    '(delete it first)' % (MODULE, self.name, inst['type'], p['type']))
            location = inst.get('location')
            if p['target'] and location not in (None, '', 'none', p['target']):
                self.warnings.append(
                    'target is used on create only: instance "%s" stays on %s, not %s'
                    % (self.name, location, p['target']))
            status = inst.get('status')
            state_actions = self.state_actions(status)
            update = self.update_needed(inst)
            # stop first (changes that need a stopped instance), start last
            plan = []
            if 'stop' in state_actions:
                plan.append('stop')
            if update:
                plan.append('update')
            plan.extend(a for a in state_actions if a != 'stop')
            self.actions.extend(plan)
            if not self.check_mode:
                for action in plan:
                    self._perform(action)
            final_status = status
            if p['state'] in ('started', 'restarted'):
                final_status = 'Running'
            elif p['state'] == 'stopped':
                final_status = 'Stopped'
            predicted = self._predicted(inst, final_status)

        if self.check_mode:
            final = predicted
        else:
            final, dummy = self.fetch()  # None: an ephemeral instance we stopped

        addresses = {}
        # in check mode only an instance that already runs can report addresses
        really_running = (final is not None and final.get('status') == 'Running' and
                          (not self.check_mode or (inst is not None and
                                                   inst.get('status') == 'Running')))
        if really_running:
            if p['wait_for_ipv4']:
                addresses = self._wait_ipv4()
            else:
                addresses = ipv4_addresses(self.fetch_state())

        result.update(
            changed=bool(self.actions),
            instance=self.public(final, addresses),
            ipv4=first_ipv4(addresses),
        )
        if self.diff:
            result['diff'] = {'before': before, 'after': self.view(final)}
        return result


def argument_spec():
    return dict(
        name=dict(type='str', required=True),
        state=dict(type='str', default='started', choices=list(STATES)),
        project=dict(type='str', default='default'),
        target=dict(type='str'),
        type=dict(type='str', default='container', choices=list(TYPES)),
        source=dict(type='dict', options=dict(
            type=dict(type='str', default='image', choices=list(SOURCE_TYPES)),
            alias=dict(type='str'),
            fingerprint=dict(type='str'),
            server=dict(type='str'),
            protocol=dict(type='str', choices=['simplestreams', 'incus']),
            mode=dict(type='str', default='pull', choices=['pull']),
        ), mutually_exclusive=[('alias', 'fingerprint')]),
        profiles=dict(type='list', elements='str', default=['default']),
        config=dict(type='dict'),
        devices=dict(type='dict'),
        ephemeral=dict(type='bool', default=False),
        description=dict(type='str'),
        socket=dict(type='path', default=DEFAULT_SOCKET),
        url=dict(type='str'),
        client_cert=dict(type='path'),
        client_key=dict(type='path', no_log=False),
        server_cert=dict(type='path'),
        validate_certs=dict(type='bool', default=True),
        wait_timeout=dict(type='int', default=60),
        force_stop=dict(type='bool', default=False),
        wait_for_ipv4=dict(type='bool', default=False),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        params = normalize_params(module.params)
        client = IncusClient(
            socket_path=params['socket'], url=params['url'],
            client_cert=params['client_cert'], client_key=params['client_key'],
            server_cert=params['server_cert'], validate_certs=params['validate_certs'],
            timeout=30)
        manager = InstanceManager(params, client, check_mode=module.check_mode, diff=module._diff)
        result = manager.run()
    except ModuleFailure as exc:
        extra = dict(exc.extra)
        extra.setdefault('changed', bool(extra.get('actions')))
        module.fail_json(msg=exc.msg, **extra)
    except IncusError as exc:
        module.fail_json(msg='%s: %s' % (MODULE, exc.error), error_code=exc.status)
    for warning in result.pop('warnings', []):
        module.warn(warning)
    module.exit_json(**result)


if __name__ == '__main__':
    main()

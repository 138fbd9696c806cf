# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for veza.coturn.incus_instance against a fake Incus daemon.

The fake daemon is a threaded HTTP server on a unix socket in a temporary
directory. It keeps instances in memory and implements the endpoints the
module uses, with background operations that finish shortly after they are
created (so the client really has to wait on them).
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import socket
import socketserver
import ssl
import subprocess
import threading
import time
import urllib.parse
import uuid

import pytest

from ansible_collections.veza.coturn.plugins.module_utils import _incus
from ansible_collections.veza.coturn.plugins.module_utils._incus import (
    IncusClient, IncusError,
)
from ansible_collections.veza.coturn.plugins.modules import incus_instance
from ansible_collections.veza.coturn.plugins.modules.incus_instance import (
    InstanceManager, ModuleFailure, normalize_params,
)

FINGERPRINT = 'abb3b0423a99e3d30961d199f8c9a46c7fd848f6af50c8b48c7215105531f87b'
WRITABLE = ('architecture', 'config', 'devices', 'ephemeral', 'profiles', 'stateful', 'description')
ALLOWED_CONFIG_PREFIXES = ('boot.', 'limits.', 'security.', 'user.', 'environment.', 'raw.',
                           'linux.', 'snapshots.', 'cloud-init.', 'image.', 'volatile.')


# --------------------------------------------------------------------------
# The fake daemon
# --------------------------------------------------------------------------
class _Error(Exception):
    def __init__(self, code, msg):
        super().__init__(msg)
        self.code = code
        self.msg = msg


class FakeIncus:
    """In-memory Incus daemon state plus the request log."""

    def __init__(self):
        self.lock = threading.RLock()
        self.instances = {}          # (project, name) -> instance dict
        self.aliases = {'test-deb12': FINGERPRINT}
        self.images = {FINGERPRINT}
        self.profiles = {
            'default': {'root': {'type': 'disk', 'path': '/', 'pool': 'default'}},
            'net': {'eth0': {'type': 'nic', 'network': 'incusbr-t', 'name': 'eth0'}},
        }
        self.operations = {}
        self.requests = []
        self.op_delay = 0.02
        self.ipv4_after_polls = 0    # state polls before an address appears
        self.failed_op_as_error = True   # what Incus 6.0 does on /wait of a failed op
        self._ip = 10
        self.server = None

    # -- helpers ------------------------------------------------------------
    @property
    def writes(self):
        return [(m, p) for (m, p, q, b, h) in self.requests if m != 'GET']

    def add_instance(self, name, project='default', status='Stopped', config=None, devices=None,
                     profiles=('default',), type_='container', ephemeral=False):
        inst = {
            'name': name, 'project': project, 'type': type_, 'status': status,
            'status_code': 103 if status == 'Running' else 102,
            'architecture': 'x86_64', 'location': 'none', 'stateful': False,
            'description': '', 'ephemeral': ephemeral, 'profiles': list(profiles),
            'config': dict({'volatile.base_image': FINGERPRINT,
                            'volatile.uuid': str(uuid.uuid4())}, **(config or {})),
            'devices': dict(devices or {}),
            'created_at': '2026-01-01T00:00:00Z', 'last_used_at': '2026-01-01T00:00:00Z',
            '_polls': 0,
        }
        self._expand(inst)
        self.instances[(project, name)] = inst
        return inst

    def _expand(self, inst):
        expanded_devices = {}
        expanded_config = {}
        for prof in inst['profiles']:
            expanded_devices.update(json.loads(json.dumps(self.profiles.get(prof, {}))))
        expanded_devices.update(json.loads(json.dumps(inst['devices'])))
        expanded_config.update(inst['config'])
        inst['expanded_devices'] = expanded_devices
        inst['expanded_config'] = expanded_config

    @staticmethod
    def etag(inst):
        doc = json.dumps(dict((k, inst.get(k)) for k in WRITABLE), sort_keys=True)
        return '"%s"' % hashlib.sha256(doc.encode()).hexdigest()

    @staticmethod
    def public(inst):
        return dict((k, v) for k, v in inst.items() if not k.startswith('_'))

    def get(self, project, name):
        inst = self.instances.get((project, name))
        if inst is None:
            raise _Error(404, 'Failed to fetch instance "%s" in project "%s": Instance not found'
                         % (name, project))
        return inst

    def new_operation(self, description, func):
        op_id = str(uuid.uuid4())
        op = {'id': op_id, 'class': 'task', 'description': description, 'status': 'Running',
              'status_code': 103, 'err': '', 'metadata': None, 'may_cancel': False,
              'resources': {}, 'location': 'none', '_done': threading.Event()}
        self.operations[op_id] = op

        def worker():
            time.sleep(self.op_delay)
            try:
                with self.lock:
                    func()
                op.update(status='Success', status_code=200)
            except _Error as exc:
                op.update(status='Failure', status_code=400, err=exc.msg)
            op['_done'].set()

        threading.Thread(target=worker, daemon=True).start()
        return op

    @staticmethod
    def validate_config(config):
        for key in config:
            if not key.startswith(ALLOWED_CONFIG_PREFIXES):
                raise _Error(400, 'Invalid config: Unknown configuration key: %s' % key)

    @staticmethod
    def validate_devices(devices):
        for name, dev in devices.items():
            if not isinstance(dev, dict) or not dev.get('type'):
                raise _Error(400, 'Invalid devices: Device validation failed for "%s": '
                             'Missing device type in config' % name)
            for key, value in dev.items():
                if not isinstance(value, str):
                    raise _Error(400, 'json: cannot unmarshal %s into Go struct field' %
                                 type(value).__name__)

    def addresses(self, inst):
        eth = inst['expanded_devices'].get('eth0', {})
        if 'ipv4.address' in eth:
            return eth['ipv4.address']
        if '_ip' not in inst:
            self._ip += 1
            inst['_ip'] = '10.210.0.%d' % self._ip
        return inst['_ip']

    # -- request dispatch ---------------------------------------------------
    def handle(self, method, path, query, body, headers):
        project = query.get('project', 'default')
        parts = [urllib.parse.unquote(x) for x in path.strip('/').split('/')]
        if parts[:1] != ['1.0']:
            raise _Error(404, 'not found')
        rest = parts[1:]
        if rest[:1] == ['operations'] and len(rest) == 3 and rest[2] == 'wait':
            return self.op_wait(rest[1], float(query.get('timeout', '-1')))
        if rest[:2] == ['images', 'aliases'] and len(rest) == 3 and method == 'GET':
            if rest[2] not in self.aliases:
                raise _Error(404, 'Image alias not found')
            return 'sync', {'name': rest[2], 'target': self.aliases[rest[2]], 'type': 'container'}, None
        if rest[:1] == ['images'] and len(rest) == 2 and method == 'GET':
            matches = [f for f in self.images if f.startswith(rest[1])]
            if len(matches) != 1:
                raise _Error(404, 'Image not found')
            return 'sync', {'fingerprint': matches[0]}, None
        if rest == ['instances'] and method == 'POST':
            return self.create(project, query, body)
        if rest[:1] == ['instances'] and len(rest) == 2:
            name = rest[1]
            if method == 'GET':
                inst = self.get(project, name)
                return 'sync', self.public(inst), self.etag(inst)
            if method == 'PUT':
                return self.update(project, name, body, headers)
            if method == 'DELETE':
                return self.delete(project, name)
        if rest[:1] == ['instances'] and len(rest) == 3 and rest[2] == 'state':
            if method == 'GET':
                return 'sync', self.state(project, rest[1]), None
            if method == 'PUT':
                return self.change_state(project, rest[1], body)
        raise _Error(404, 'not found')

    def op_wait(self, op_id, timeout):
        op = self.operations.get(op_id)
        if op is None:
            raise _Error(404, 'Operation not found')
        op['_done'].wait(None if timeout < 0 else timeout)
        meta = dict((k, v) for k, v in op.items() if not k.startswith('_'))
        if op['status'] == 'Failure' and self.failed_op_as_error:
            raise _Error(500, op['err'])
        return 'sync', meta, None

    def create(self, project, query, body):
        name = body.get('name')
        if (project, name) in self.instances:
            raise _Error(409, 'Instance "%s" already exists' % name)
        if query.get('target'):
            raise _Error(400, 'Target only allowed when clustered')
        self.validate_config(body.get('config') or {})
        self.validate_devices(body.get('devices') or {})
        src = body.get('source') or {}

        def do():
            if src.get('type') == 'image':
                if src.get('server'):
                    raise _Error(400, 'Failed getting remote image info: Failed getting image: '
                                 'The requested image couldn\'t be found for fingerprint "%s"'
                                 % (src.get('alias') or src.get('fingerprint')))
                if src.get('alias') and src['alias'] not in self.aliases:
                    raise _Error(400, 'Image not provided for instance creation')
            inst = self.add_instance(name, project=project, config=body.get('config'),
                                     devices=body.get('devices'),
                                     profiles=body.get('profiles') or ['default'],
                                     type_=body.get('type') or 'container',
                                     ephemeral=bool(body.get('ephemeral')))
            inst['description'] = body.get('description', '')
            if 'root' not in inst['expanded_devices']:
                del self.instances[(project, name)]
                raise _Error(400, 'Failed creating instance record: Failed initializing '
                             'instance: Invalid devices: Failed detecting root disk device: '
                             'No root device could be found')
        return 'async', self.new_operation('Creating instance', do), None

    def update(self, project, name, body, headers):
        inst = self.get(project, name)
        match = headers.get('if-match')
        if match and match != self.etag(inst):
            raise _Error(412, 'ETag doesn\'t match: %s vs %s' % (self.etag(inst).strip('"'), match))
        self.validate_config(body.get('config') or {})
        self.validate_devices(body.get('devices') or {})
        old_volatile = dict((k, v) for k, v in inst['config'].items() if k.startswith('volatile.'))
        new_volatile = dict((k, v) for k, v in (body.get('config') or {}).items()
                            if k.startswith('volatile.'))
        if old_volatile != new_volatile:
            raise _Error(400, 'Volatile keys cannot be changed or removed through PUT')

        def do():
            for key in ('config', 'devices', 'profiles', 'ephemeral', 'description'):
                if key in body:
                    inst[key] = body[key]
            self._expand(inst)
        return 'async', self.new_operation('Updating instance', do), None

    def delete(self, project, name):
        inst = self.get(project, name)
        if inst['status'] != 'Stopped':
            raise _Error(400, 'Instance is running')

        def do():
            del self.instances[(project, name)]
        return 'async', self.new_operation('Deleting instance', do), None

    def state(self, project, name):
        inst = self.get(project, name)
        network = {}
        if inst['status'] == 'Running':
            network['lo'] = {'addresses': [{'family': 'inet', 'address': '127.0.0.1',
                                            'netmask': '8', 'scope': 'local'}]}
            addrs = [{'family': 'inet6', 'address': 'fe80::1', 'netmask': '64', 'scope': 'link'}]
            inst['_polls'] += 1
            if inst['_polls'] > self.ipv4_after_polls:
                addrs.insert(0, {'family': 'inet', 'address': self.addresses(inst),
                                 'netmask': '24', 'scope': 'global'})
            network['eth0'] = {'addresses': addrs, 'state': 'up'}
        return {'status': inst['status'], 'status_code': inst['status_code'], 'network': network}

    def change_state(self, project, name, body):
        inst = self.get(project, name)
        action = body.get('action')
        status = inst['status']
        if action == 'start' and status == 'Running':
            raise _Error(400, 'The instance is already running')
        if action == 'stop' and status == 'Stopped':
            raise _Error(400, 'The instance is already stopped')
        if action == 'unfreeze' and status != 'Frozen':
            raise _Error(400, 'The instance is not frozen')

        def do():
            if action == 'start':
                if 'root' not in inst['expanded_devices']:
                    raise _Error(400, 'Failed to start device "root": No root device')
                self._set(inst, 'Running')
            elif action == 'stop':
                self._set(inst, 'Stopped')
                if inst['ephemeral']:
                    del self.instances[(project, name)]
            elif action == 'restart':
                inst['_polls'] = 0
                self._set(inst, 'Running')
            elif action == 'unfreeze':
                self._set(inst, 'Running')
            elif action == 'freeze':
                self._set(inst, 'Frozen')
            else:
                raise _Error(400, 'Unknown action %s' % action)
        return 'async', self.new_operation('%s instance' % action.capitalize(), do), None

    @staticmethod
    def _set(inst, status):
        inst['status'] = status
        inst['status_code'] = {'Running': 103, 'Stopped': 102, 'Frozen': 110}[status]
        inst['config']['volatile.last_state.power'] = status.upper()
        if status == 'Running':
            inst['_polls'] = 0


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def address_string(self):
        return 'unix'

    def _serve(self):
        fake = self.server.fake
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length) if length else b''
        body = json.loads(raw) if raw else None
        headers = dict((k.lower(), v) for k, v in self.headers.items())
        with fake.lock:
            fake.requests.append((self.command, parsed.path, query, body, headers))
        try:
            if self.command == 'GET' and parsed.path.endswith('/wait'):
                kind, meta, etag = fake.handle(self.command, parsed.path, query, body, headers)
            else:
                with fake.lock:
                    kind, meta, etag = fake.handle(self.command, parsed.path, query, body, headers)
        except _Error as exc:
            return self._send(exc.code, {'type': 'error', 'status': '', 'status_code': 0,
                                         'operation': '', 'error_code': exc.code,
                                         'error': exc.msg, 'metadata': None})
        if kind == 'async':
            pub = dict((k, v) for k, v in meta.items() if not k.startswith('_'))
            return self._send(202, {'type': 'async', 'status': 'Operation created',
                                    'status_code': 100, 'operation': '/1.0/operations/' + meta['id'],
                                    'error_code': 0, 'error': '', 'metadata': pub})
        return self._send(200, {'type': 'sync', 'status': 'Success', 'status_code': 200,
                                'operation': '', 'error_code': 0, 'error': '', 'metadata': meta},
                          etag)

    def _send(self, code, doc, etag=None):
        data = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        if etag:
            self.send_header('Etag', etag)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class _TLSServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def _serve_forever(server):
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05},
                              daemon=True)
    thread.start()
    return thread


@pytest.fixture
def fake(tmp_path):
    state = FakeIncus()
    sock = str(tmp_path / 'incus.sock')
    server = _UnixServer(sock, _Handler)
    server.fake = state
    _serve_forever(server)
    state.socket = sock
    state.client = IncusClient(socket_path=sock, timeout=5)
    yield state
    server.shutdown()
    server.server_close()


def run(fake, check_mode=False, diff=False, **params):
    mgr = InstanceManager(params, fake.client, check_mode=check_mode, diff=diff,
                          sleep=lambda s: time.sleep(0.01))
    return mgr.run()


BASE_DEVICES = {
    'root': {'type': 'disk', 'path': '/', 'pool': 'default'},
    'eth0': {'type': 'nic', 'network': 'incusbr-t', 'name': 'eth0',
             'ipv4.address': '10.210.0.10'},
}


def base(**extra):
    params = dict(name='hb-turn', source={'alias': 'test-deb12'}, profiles=['default'],
                  config={'boot.autostart': True, 'limits.cpu': 2, 'user.note': 'hi'},
                  devices=json.loads(json.dumps(BASE_DEVICES)))
    params.update(extra)
    return params


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------
def test_create_and_start(fake):
    res = run(fake, wait_for_ipv4=True, **base(description='TURN relay'))
    assert res['changed'] is True
    assert res['actions'] == ['create', 'start']
    inst = fake.instances[('default', 'hb-turn')]
    assert inst['status'] == 'Running'
    assert inst['config']['boot.autostart'] == 'true'
    assert inst['config']['limits.cpu'] == '2'
    assert inst['devices'] == BASE_DEVICES
    assert inst['description'] == 'TURN relay'
    post = [r for r in fake.requests if r[0] == 'POST'][0]
    assert post[1] == '/1.0/instances'
    assert post[2] == {'project': 'default'}          # no target on a standalone daemon
    assert post[3]['source'] == {'type': 'image', 'alias': 'test-deb12', 'mode': 'pull'}
    assert post[3]['type'] == 'container'
    assert post[3]['start'] is False
    # every async operation was waited on
    waits = [r for r in fake.requests if r[1].endswith('/wait')]
    assert len(waits) == 2
    out = res['instance']
    assert out['name'] == 'hb-turn' and out['status'] == 'Running'
    assert out['type'] == 'container' and out['location'] == 'none'
    assert out['profiles'] == ['default']
    assert out['config']['volatile.base_image'] == FINGERPRINT
    assert out['devices'] == BASE_DEVICES
    assert out['expanded_devices']['root']['pool'] == 'default'
    assert out['addresses'] == {'eth0': ['10.210.0.10']}
    assert res['ipv4'] == '10.210.0.10'


def test_create_with_target_and_project_query(fake):
    with pytest.raises(ModuleFailure) as err:
        run(fake, **base(target='node2', project='default'))
    assert err.value.msg == ('Incus refused to create instance "hb-turn": Target only allowed '
                             'when clustered (source.alias "test-deb12", target "node2")')
    post = [r for r in fake.requests if r[0] == 'POST'][0]
    assert post[2] == {'project': 'default', 'target': 'node2'}


def test_idempotent_rerun_makes_no_write_request(fake):
    run(fake, **base())
    fake.requests.clear()
    res = run(fake, **base())
    assert res['changed'] is False
    assert res['actions'] == []
    assert fake.writes == []
    assert res['instance']['status'] == 'Running'
    # strings given as strings compare equal to coerced ones
    fake.requests.clear()
    res = run(fake, **base(config={'boot.autostart': 'true', 'limits.cpu': '2', 'user.note': 'hi'}))
    assert res['changed'] is False and fake.writes == []


def test_config_merge_and_removal(fake):
    fake.add_instance('hb-turn', status='Running', devices=BASE_DEVICES,
                      config={'user.keep': 'me', 'user.old': 'x', 'limits.cpu': '1'})
    res = run(fake, state='started', **base(config={'limits.cpu': 4, 'user.old': None,
                                                    'security.nesting': False}))
    assert res['changed'] is True and res['actions'] == ['update']
    cfg = fake.instances[('default', 'hb-turn')]['config']
    assert cfg['limits.cpu'] == '4'
    assert cfg['security.nesting'] == 'false'
    assert 'user.old' not in cfg
    assert cfg['user.keep'] == 'me'                       # undeclared: untouched
    assert cfg['volatile.base_image'] == FINGERPRINT      # Incus' own keys: untouched
    put = [r for r in fake.requests if r[0] == 'PUT' and r[1] == '/1.0/instances/hb-turn'][0]
    assert put[4]['if-match'].startswith('"')
    # removing an absent key again is a no-op
    fake.requests.clear()
    res = run(fake, **base(config={'limits.cpu': 4, 'user.old': None, 'security.nesting': False}))
    assert res['changed'] is False and fake.writes == []


def test_update_uses_etag_and_reports_conflict(fake):
    fake.add_instance('hb-turn', status='Stopped', devices=BASE_DEVICES)
    orig = fake.update

    def racing_update(project, name, body, headers):
        fake.instances[(project, name)]['config']['user.race'] = 'other writer'
        return orig(project, name, body, headers)

    fake.update = racing_update
    with pytest.raises(ModuleFailure) as err:
        run(fake, state='stopped', **base())
    assert err.value.msg.startswith('Incus refused to update instance "hb-turn": ETag doesn\'t match')
    put = [r for r in fake.requests if r[0] == 'PUT'][0]
    assert put[4]['if-match'].startswith('"')


def test_devices_add_change_remove(fake):
    fake.add_instance('hb-turn', status='Running', profiles=['default', 'net'], devices={
        'root': {'type': 'disk', 'path': '/', 'pool': 'default'},
        'eth0': {'type': 'nic', 'network': 'incusbr-t', 'name': 'eth0',
                 'ipv4.address': '10.210.0.9'},
        'stale': {'type': 'proxy', 'listen': 'tcp:0.0.0.0:80', 'connect': 'tcp:127.0.0.1:80'},
    })
    devices = json.loads(json.dumps(BASE_DEVICES))
    devices['turn-udp'] = {'type': 'proxy', 'nat': True, 'listen': 'udp:198.51.100.10:3478',
                           'connect': 'udp:10.210.0.10:3478'}
    devices['gone'] = None
    res = run(fake, **base(profiles=['default', 'net'], devices=devices))
    assert res['actions'] == ['update']
    inst = fake.instances[('default', 'hb-turn')]
    assert set(inst['devices']) == {'root', 'eth0', 'turn-udp'}
    assert inst['devices']['eth0']['ipv4.address'] == '10.210.0.10'
    assert inst['devices']['turn-udp']['nat'] == 'true'
    assert res['instance']['addresses'] == {'eth0': ['10.210.0.10']}
    # profile devices are not local devices and are not touched
    assert fake.profiles['net']['eth0'] == {'type': 'nic', 'network': 'incusbr-t', 'name': 'eth0'}
    fake.requests.clear()
    res = run(fake, **base(profiles=['default', 'net'], devices=devices))
    assert res['changed'] is False and fake.writes == []


def test_devices_omitted_are_left_alone_and_empty_mapping_removes_all(fake):
    fake.add_instance('hb-turn', status='Stopped', devices={'extra': {'type': 'none'}})
    res = run(fake, state='stopped', name='hb-turn')
    assert res['changed'] is False
    assert fake.instances[('default', 'hb-turn')]['devices'] == {'extra': {'type': 'none'}}
    res = run(fake, state='stopped', name='hb-turn', devices={})
    assert res['actions'] == ['update']
    assert fake.instances[('default', 'hb-turn')]['devices'] == {}


def test_profiles_are_authoritative(fake):
    fake.add_instance('hb-turn', status='Stopped', profiles=['default', 'net'])
    res = run(fake, state='stopped', name='hb-turn', profiles=['default'])
    assert res['actions'] == ['update']
    assert fake.instances[('default', 'hb-turn')]['profiles'] == ['default']


def test_state_transitions(fake):
    fake.add_instance('hb-turn', status='Stopped', devices=BASE_DEVICES)
    params = base()
    assert run(fake, state='present', **params)['actions'] == ['update']  # config added
    assert fake.instances[('default', 'hb-turn')]['status'] == 'Stopped'
    assert run(fake, state='started', **params)['actions'] == ['start']
    assert fake.instances[('default', 'hb-turn')]['status'] == 'Running'
    assert run(fake, state='present', **params)['changed'] is False
    fake.requests.clear()
    res = run(fake, state='stopped', force_stop=True, wait_timeout=7, **params)
    assert res['actions'] == ['stop']
    assert res['instance']['status'] == 'Stopped' and res['ipv4'] is None
    state_put = [r for r in fake.requests if r[1].endswith('/state') and r[0] == 'PUT'][0]
    assert state_put[3]['action'] == 'stop' and state_put[3]['force'] is True
    assert run(fake, state='stopped', **params)['changed'] is False
    res = run(fake, state='restarted', **params)
    assert res['actions'] == ['start'] and res['changed'] is True
    res = run(fake, state='restarted', **params)
    assert res['actions'] == ['restart'] and res['changed'] is True
    fake.instances[('default', 'hb-turn')]['status'] = 'Frozen'
    assert run(fake, state='started', **params)['actions'] == ['unfreeze']
    assert fake.instances[('default', 'hb-turn')]['status'] == 'Running'


def test_graceful_stop_sends_timeout(fake):
    fake.add_instance('hb-turn', status='Running', devices=BASE_DEVICES)
    run(fake, state='stopped', wait_timeout=9, name='hb-turn', devices=BASE_DEVICES)
    body = [r for r in fake.requests if r[1].endswith('/state') and r[0] == 'PUT'][0][3]
    assert body == {'action': 'stop', 'timeout': 9, 'force': False, 'stateful': False}


def test_stop_before_update_and_update_before_start(fake):
    fake.add_instance('hb-turn', status='Running', devices=BASE_DEVICES)
    res = run(fake, state='stopped', **base())
    assert res['actions'] == ['stop', 'update']
    res = run(fake, state='started', **base(config={'limits.cpu': 3}))
    assert res['actions'] == ['update', 'start']


def test_check_mode_makes_no_write_requests(fake):
    # create
    res = run(fake, check_mode=True, **base())
    assert res['changed'] is True and res['actions'] == ['create', 'start']
    assert res['instance']['status'] == 'Running'
    assert res['instance']['devices'] == BASE_DEVICES
    assert res['instance']['config'] == {'boot.autostart': 'true', 'limits.cpu': '2',
                                         'user.note': 'hi'}
    assert fake.writes == [] and fake.instances == {}
    # update + stop
    fake.add_instance('hb-turn', status='Running', devices={'root': BASE_DEVICES['root']})
    fake.requests.clear()
    res = run(fake, check_mode=True, state='stopped', **base())
    assert res['actions'] == ['stop', 'update']
    assert res['instance']['status'] == 'Stopped'
    assert res['instance']['devices'] == BASE_DEVICES
    assert fake.writes == []
    assert fake.instances[('default', 'hb-turn')]['devices'] == {'root': BASE_DEVICES['root']}
    # absent
    res = run(fake, check_mode=True, state='absent', name='hb-turn')
    assert res['actions'] == ['stop', 'delete'] and res['changed'] is True
    assert fake.writes == [] and ('default', 'hb-turn') in fake.instances


def test_diff_content(fake):
    fake.add_instance('hb-turn', status='Stopped', config={'user.note': 'old', 'user.other': 'x'},
                      devices={'root': BASE_DEVICES['root']})
    res = run(fake, diff=True, check_mode=True, **base(config={'user.note': 'new', 'user.gone': None,
                                                               'limits.cpu': 2}))
    assert res['diff']['before'] == {
        'state': 'stopped', 'profiles': ['default'], 'ephemeral': False,
        'config': {'user.note': 'old'},
        'devices': {'root': BASE_DEVICES['root']},
    }
    assert res['diff']['after'] == {
        'state': 'started', 'profiles': ['default'], 'ephemeral': False,
        'config': {'limits.cpu': '2', 'user.note': 'new'},
        'devices': BASE_DEVICES,
    }
    # a real run yields the same "after"
    real = run(fake, diff=True, **base(config={'user.note': 'new', 'user.gone': None,
                                               'limits.cpu': 2}))
    assert real['diff'] == res['diff']
    # creation and deletion
    res = run(fake, diff=True, check_mode=True, **base(name='hb-new', description='d'))
    assert res['diff']['before'] == {'state': 'absent'}
    assert res['diff']['after']['state'] == 'started'
    assert res['diff']['after']['description'] == 'd'
    res = run(fake, diff=True, check_mode=True, state='absent', name='hb-turn')
    assert res['diff']['after'] == {'state': 'absent'}
    assert res['diff']['before']['state'] == 'started'
    # no diff unless asked
    assert 'diff' not in run(fake, **base())


def test_absent_stops_then_deletes(fake):
    fake.add_instance('hb-turn', status='Running', devices=BASE_DEVICES)
    res = run(fake, state='absent', name='hb-turn')
    assert res == {'changed': True, 'actions': ['stop', 'delete'], 'warnings': [],
                   'instance': {}, 'ipv4': None}
    writes = fake.writes
    assert writes == [('PUT', '/1.0/instances/hb-turn/state'), ('DELETE', '/1.0/instances/hb-turn')]
    assert fake.instances == {}
    fake.requests.clear()
    res = run(fake, state='absent', name='hb-turn')
    assert res['changed'] is False and fake.writes == []


def test_absent_ephemeral_instance_vanishing_on_stop(fake):
    fake.add_instance('hb-eph', status='Running', devices=BASE_DEVICES, ephemeral=True)
    res = run(fake, state='absent', name='hb-eph')
    assert res['actions'] == ['stop', 'delete'] and fake.instances == {}


def test_missing_alias_names_source_alias(fake):
    for check_mode in (True, False):
        with pytest.raises(ModuleFailure) as err:
            run(fake, check_mode=check_mode, **base(source={'alias': 'debian-12-coturn'}))
        assert 'source.alias' in err.value.msg
        assert '"debian-12-coturn"' in err.value.msg
        assert err.value.msg.startswith('incus_instance: source.alias: image alias '
                                        '"debian-12-coturn" does not exist')
    assert fake.writes == []
    # fingerprint prefixes are accepted, unknown ones named
    assert run(fake, **base(source={'fingerprint': FINGERPRINT[:12]}))['actions'] == ['create', 'start']
    with pytest.raises(ModuleFailure) as err:
        run(fake, **base(name='hb-other', source={'fingerprint': 'ffff'}))
    assert 'source.fingerprint' in err.value.msg


def test_missing_source_on_create(fake):
    with pytest.raises(ModuleFailure) as err:
        run(fake, name='hb-turn')
    assert err.value.msg == ('incus_instance: source: required to create instance "hb-turn" '
                             '(it does not exist in project "default")')
    # but not needed to delete or to manage an existing instance
    assert run(fake, name='hb-turn', state='absent')['changed'] is False


@pytest.mark.parametrize('as_error', [True, False])
def test_api_error_text_is_surfaced(fake, as_error):
    fake.failed_op_as_error = as_error
    src = {'alias': 'debian/12', 'server': 'https://images.example.invalid',
           'protocol': 'simplestreams'}
    with pytest.raises(ModuleFailure) as err:
        run(fake, **base(source=src))
    assert err.value.msg == (
        'Incus refused to create instance "hb-turn": Failed getting remote image info: Failed '
        'getting image: The requested image couldn\'t be found for fingerprint "debian/12" '
        '(source.alias "debian/12", source.server https://images.example.invalid)')
    assert err.value.extra['actions'] == []


def test_api_error_on_update_and_start(fake):
    fake.add_instance('hb-turn', status='Stopped', devices=BASE_DEVICES)
    with pytest.raises(ModuleFailure) as err:
        run(fake, **base(config={'bogus.key': 'x'}))
    assert err.value.msg == ('Incus refused to update instance "hb-turn": Invalid config: '
                             'Unknown configuration key: bogus.key')
    assert err.value.extra['error_code'] == 400
    fake.add_instance('hb-noroot', status='Stopped')
    fake.instances[('default', 'hb-noroot')]['expanded_devices'] = {}
    fake.instances[('default', 'hb-noroot')]['profiles'] = []
    with pytest.raises(ModuleFailure) as err:
        run(fake, name='hb-noroot', profiles=[])
    assert err.value.msg == ('Incus refused to start instance "hb-noroot": Failed to start device '
                             '"root": No root device')


def test_type_mismatch_is_an_error(fake):
    fake.add_instance('hb-vm', type_='virtual-machine')
    with pytest.raises(ModuleFailure) as err:
        run(fake, name='hb-vm', state='stopped')
    assert err.value.msg.startswith('incus_instance: type: instance "hb-vm" exists as a '
                                    'virtual-machine, not a container')


def test_wait_for_ipv4_polls_until_address(fake):
    fake.ipv4_after_polls = 3
    res = run(fake, wait_for_ipv4=True, **base(devices={'root': BASE_DEVICES['root'],
                                                        'eth0': {'type': 'nic', 'name': 'eth0',
                                                                 'network': 'incusbr-t'}}))
    assert res['ipv4'].startswith('10.210.0.')
    assert res['instance']['addresses'] == {'eth0': [res['ipv4']]}
    polls = [r for r in fake.requests if r[0] == 'GET' and r[1].endswith('/state')]
    assert len(polls) == 4
    fake.ipv4_after_polls = 10 ** 6
    fake.instances[('default', 'hb-turn')]['_polls'] = 0
    with pytest.raises(ModuleFailure) as err:
        InstanceManager(dict(name='hb-turn', wait_for_ipv4=True, wait_timeout=1), fake.client,
                        sleep=lambda s: time.sleep(0.05)).run()
    assert err.value.msg == ('incus_instance: wait_for_ipv4: instance "hb-turn" reported no IPv4 '
                             'address on a non-loopback interface within 1s')


@pytest.mark.parametrize('params, message', [
    ({'devices': {'eth0': 'nic'}},
     'incus_instance: devices.eth0: value must be a mapping of strings'),
    ({'devices': {'eth0': {'type': 'nic', 'mtu': [1500]}}},
     'incus_instance: devices.eth0.mtu: value must be a string, number or boolean (got list)'),
    ({'devices': {'eth0': {'type': 'nic', 'mtu': None}}},
     'incus_instance: devices.eth0.mtu: value must be a string, number or boolean (got null)'),
    ({'devices': {'eth0': {'network': 'x'}}},
     'incus_instance: devices.eth0: the key "type" is required (nic, disk, proxy, ...)'),
    ({'devices': ['eth0']},
     'incus_instance: devices: value must be a mapping of device names to mappings of strings'),
    ({'config': {'limits.cpu': {'n': 1}}},
     'incus_instance: config.limits.cpu: value must be a string, number or boolean (got dict)'),
    ({'config': 'limits.cpu'}, 'incus_instance: config: value must be a mapping of strings'),
    ({'config': {'volatile.uuid': 'x'}},
     'incus_instance: config.volatile.uuid: volatile keys are maintained by Incus and cannot be '
     'managed'),
    ({'profiles': 'default'}, 'incus_instance: profiles: value must be a list of profile names'),
    ({'state': 'running'},
     "incus_instance: state: must be one of present, started, stopped, restarted, absent "
     "(got 'running')"),
    ({'source': {'alias': 'a', 'fingerprint': 'b'}},
     'incus_instance: source: give either alias or fingerprint, not both'),
    ({'source': {'type': 'image'}},
     'incus_instance: source: an image source needs alias or fingerprint'),
    ({'source': {'alias': 'a', 'protocol': 'lxd', 'server': 'https://x'}},
     "incus_instance: source.protocol: must be simplestreams or incus (got 'lxd')"),
    ({'wait_timeout': 0}, 'incus_instance: wait_timeout: must be a positive number of seconds (got 0)'),
    ({'url': 'http://host:8443'},
     "incus_instance: url: must look like https://host:8443 (got 'http://host:8443')"),
])
def test_bad_options(params, message):
    with pytest.raises(ModuleFailure) as err:
        normalize_params(dict(name='hb-x', **params))
    assert err.value.msg == message


def test_normalize_coerces_values():
    p = normalize_params({'name': 'hb-x', 'config': {'a.b': True, 'c.d': 3, 'e.f': 1.5, 'g.h': None},
                          'devices': {'p': {'type': 'proxy', 'nat': False, 'port': 80}, 'q': None}})
    assert p['config'] == {'a.b': 'true', 'c.d': '3', 'e.f': '1.5', 'g.h': None}
    assert p['devices'] == {'p': {'type': 'proxy', 'nat': 'false', 'port': '80'}}
    assert p['state'] == 'started' and p['project'] == 'default' and p['profiles'] == ['default']


def test_unreachable_daemon(tmp_path):
    client = IncusClient(socket_path=str(tmp_path / 'missing.sock'), timeout=1)
    with pytest.raises(ModuleFailure) as err:
        InstanceManager({'name': 'hb-x'}, client).run()
    assert 'cannot reach Incus at unix:%s' % (tmp_path / 'missing.sock') in err.value.msg


def test_client_wait_operation_timeout(fake):
    fake.op_delay = 3
    op = fake.new_operation('Slow', lambda: None)
    start = time.monotonic()
    with pytest.raises(IncusError) as err:
        fake.client.wait_operation('/1.0/operations/%s' % op['id'], timeout=1)
    assert 'still running after 1s' in str(err.value)
    assert time.monotonic() - start < 2.5


# -- through AnsibleModule ---------------------------------------------------
def _run_main(capsys, args):
    from ansible.module_utils.testing import patch_module_args
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            incus_instance.main()
    out = json.loads(capsys.readouterr().out)
    return exc.value.code, out


def test_main_check_diff_and_real_run(fake, capsys):
    args = dict(base(), socket=fake.socket, _ansible_check_mode=True, _ansible_diff=True)
    code, out = _run_main(capsys, args)
    assert code == 0, out
    assert out['changed'] is True and out['actions'] == ['create', 'start']
    assert out['diff']['before'] == {'state': 'absent'}
    assert fake.writes == []
    args['_ansible_check_mode'] = False
    code, out = _run_main(capsys, args)
    assert code == 0 and out['changed'] is True and out['instance']['status'] == 'Running'
    code, out = _run_main(capsys, args)
    assert code == 0 and out['changed'] is False


def test_main_fail_json_messages(fake, capsys):
    code, out = _run_main(capsys, dict(base(devices={'eth0': 'nic'}), socket=fake.socket))
    assert code == 1
    assert out['failed'] is True
    assert out['msg'] == 'incus_instance: devices.eth0: value must be a mapping of strings'
    code, out = _run_main(capsys, dict(base(), socket=fake.socket, wait_timeout='soon'))
    assert code == 1 and 'wait_timeout' in out['msg']
    code, out = _run_main(capsys, dict(base(source={'alias': 'nope'}), socket=fake.socket))
    assert code == 1 and out['msg'].startswith('incus_instance: source.alias: image alias "nope"')
    assert out['changed'] is False


# -- HTTPS with client certificates (loopback only) -------------------------
def _openssl_cert(tmp_path, name):
    key, crt = str(tmp_path / (name + '.key')), str(tmp_path / (name + '.crt'))
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
                    'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj',
                    '/CN=%s' % name, '-keyout', key, '-out', crt],
                   check=True, capture_output=True)
    return crt, key


@pytest.mark.skipif(shutil.which('openssl') is None, reason='openssl not available')
def test_https_with_client_certificate(tmp_path):
    srv_crt, srv_key = _openssl_cert(tmp_path, 'incus-server')
    cli_crt, cli_key = _openssl_cert(tmp_path, 'veza-client')
    state = FakeIncus()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(srv_crt, srv_key)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cli_crt)
    server = _TLSServer(('127.0.0.1', 0), _Handler, bind_and_activate=False)
    server.socket = ctx.wrap_socket(socket.socket(socket.AF_INET, socket.SOCK_STREAM),
                                    server_side=True)
    server.server_bind()
    server.server_activate()
    server.fake = state
    _serve_forever(server)
    try:
        url = 'https://127.0.0.1:%d' % server.server_address[1]
        client = IncusClient(url=url, client_cert=cli_crt, client_key=cli_key, server_cert=srv_crt,
                             timeout=5)
        res = InstanceManager(base(), client).run()
        assert res['actions'] == ['create', 'start']
        assert state.instances[('default', 'hb-turn')]['status'] == 'Running'
        # without the pinned server certificate the default trust store refuses it
        strict = IncusClient(url=url, client_cert=cli_crt, client_key=cli_key, timeout=5)
        with pytest.raises(ModuleFailure) as err:
            InstanceManager(base(), strict).run()
        assert 'cannot reach Incus at %s' % url in err.value.msg
        assert 'CERTIFICATE_VERIFY_FAILED' in err.value.msg
        lax = IncusClient(url=url, client_cert=cli_crt, client_key=cli_key, validate_certs=False)
        assert InstanceManager(base(), lax).run()['changed'] is False
    finally:
        server.shutdown()
        server.server_close()


def test_module_utils_is_private():
    assert os.path.basename(_incus.__file__) == '_incus.py'

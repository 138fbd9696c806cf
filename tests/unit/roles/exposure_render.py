# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rendering the roles' defaults, vars and templates for the exposure tests
(test_exposure.py, test_exposure_coturn.py).

Ansible's templating engine renders them with the collection's filters loaded
(``collection_loader``), one exposure mode at a time, from the variables a
host of the role would have (``role_variables``): coturn is handed the
endpoint turn_instance published, as playbooks/site.yml does.
"""

from __future__ import annotations

import os
import sys

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLES = os.path.join(REPO, "roles")

PUBLIC = "198.51.100.70"
BRIDGE_IP = "10.210.30.33"


def collection_loader():
    """Filters such as veza.coturn.ip_range resolve through Ansible's collection
    loader (tests/conftest.py links this checkout under .collections). A test
    module's autouse, module-scoped fixture yields from this generator: it is
    installed for that module's tests only, once every test module has been
    imported, and removed afterwards with the modules it loaded, so that the
    other test modules keep importing the collection as a plain package."""
    modules = {name: mod for name, mod in sys.modules.items() if name.startswith("ansible_collections")}
    for name in modules:
        del sys.modules[name]
    meta_path, path_hooks = list(sys.meta_path), list(sys.path_hooks)
    _AnsibleCollectionFinder(paths=[os.path.join(REPO, ".collections")])._install()
    yield
    _AnsibleCollectionFinder._remove()  # pylint: disable=protected-access
    sys.meta_path[:], sys.path_hooks[:] = meta_path, path_hooks
    sys.path_importer_cache.clear()
    for name in [name for name in sys.modules if name.startswith("ansible_collections")]:
        del sys.modules[name]
    sys.modules.update(modules)


def load_role_file(role, kind):
    return DataLoader().load_from_file(os.path.join(ROLES, role, kind, "main.yml"), trusted_as_template=True) or {}


def published_endpoint(variables):
    """turn_instance_endpoint as roles/turn_instance/tasks/facts.yml publishes it for this host."""
    task = DataLoader().load_from_file(
        os.path.join(ROLES, "turn_instance", "tasks", "facts.yml"), trusted_as_template=True
    )[0]
    scope = dict(variables, item=variables["inventory_hostname"], hostvars={})
    scope.update(task["vars"])
    return Templar(loader=DataLoader(), variables=scope).template(
        task["ansible.builtin.set_fact"]["turn_instance_endpoint"]
    )


def role_variables(role, **overrides):
    variables = {"inventory_hostname": "coturn-test", "ansible_managed": "Ansible managed"}
    if role == "coturn":
        variables.update(load_role_file("turn_instance", "defaults"))
        variables["coturn_realm"] = "turn.example.test"
    variables.update(load_role_file(role, "defaults"))
    variables.update(load_role_file(role, "vars"))
    variables.update(
        {"turn_instance_public_ip": PUBLIC, "turn_instance_ipv4_address": BRIDGE_IP, "turn_instance_uplink": "uplink0"}
    )
    if role == "coturn":
        # coturn is handed the endpoint turn_instance published, as
        # playbooks/site.yml does (playbooks/vars/coturn_endpoint.yml).
        variables.update({k: v for k, v in overrides.items() if k.startswith("turn_instance_")})
        variables["turn_instance_endpoint"] = published_endpoint(variables)
        variables.update(
            DataLoader().load_from_file(
                os.path.join(REPO, "playbooks", "vars", "coturn_endpoint.yml"), trusted_as_template=True
            )
        )
    variables.update(overrides)
    return variables


def render(role, expression, **overrides):
    variables = role_variables(role, **overrides)
    return Templar(loader=DataLoader(), variables=variables).template(trust_as_template(expression))


def render_file(role, template, **overrides):
    with open(os.path.join(ROLES, role, "templates", template), encoding="utf-8") as handle:
        return render(role, handle.read(), **overrides)

#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The work is done by the action plugin of the same name, on the controller
# (plugins/action/python_program.py): this file is the documentation.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: python_program
short_description: Install one of the collection's programs on a host as a single Python file
version_added: 0.1.0
description:
  - Builds a Python zip application (PEP 441) on the controller from the collection's own
    C(plugins/module_utils) packages, the entry point's package and every private package it imports, under
    their import path, with a C(__main__.py) that calls the entry point's C(main()); and copies that one file
    to the host like M(ansible.builtin.copy).
  - The archive is byte-identical from run to run, so a rerun compares checksums and changes nothing. One file
    costs one round to the host, where copying a package file by file costs one round per file.
  - Run it with the host's Python, C(python3 DEST ARGS...); it needs nothing but the standard library where the
    packages need nothing else.
options:
  entry:
    description:
      - The module under C(ansible_collections.veza.coturn.plugins.module_utils) whose C(main()) the program runs,
        like C(_turn_rest.cli).
    type: str
    required: true
  dest:
    description: Absolute path of the program on the host.
    type: path
    required: true
  owner:
    description: Owner of the file.
    type: str
    default: root
  group:
    description: Group of the file.
    type: str
    default: root
  mode:
    description: Mode of the file.
    type: raw
    default: "0644"
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
notes:
  - The controller's copy of the collection is what gets installed; the host needs no collection.
author:
  - veza.coturn developers (@veza-coturn)
"""

EXAMPLES = r"""
- name: Install the renewal program
  veza.coturn.python_program:
    entry: _turn_rest.cli
    dest: /usr/local/lib/veza-coturn/turn_rest.pyz
    mode: "0755"
"""

RETURN = r"""
entry:
  description: The entry point the program runs.
  returned: always
  type: str
  sample: _turn_rest.cli
size:
  description: Size of the program in bytes.
  returned: always
  type: int
  sample: 94210
"""

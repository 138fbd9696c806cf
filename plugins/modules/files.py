#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write several folders and files of one host in one round."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: files
short_description: Make several folders and files of a host what they should be, in one round
version_added: 0.1.0
description:
  - Creates the folders, then writes each file whose content, owner, group or mode differs from what is asked,
    atomically (a temporary file in the same folder, renamed over the old one).
  - One module run for all of them. Inside a container every task costs a round of C(incus exec), and writing
    a role's files one M(ansible.builtin.template) at a time costs two each.
  - Render the contents on the controller (C(lookup('ansible.builtin.template', ...))) and pass them here.
  - Tells which files changed (RV(changed_paths)), so that the tasks after it restart or reload for the files
    that need it; and can hand back what a file held before, for a rollback.
options:
  directories:
    description: Folders to create (with their parents) before the files are written.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the folder.
        type: path
        required: true
      owner:
        description: Owner.
        type: str
        default: root
      group:
        description: Group.
        type: str
        default: root
      mode:
        description: Mode, octal.
        type: str
        default: "0755"
  files:
    description: Files to write.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the file; its folder must exist or be in O(directories).
        type: path
        required: true
      content:
        description: What the file holds, as text.
        type: str
        required: true
      owner:
        description: Owner.
        type: str
        default: root
      group:
        description: Group.
        type: str
        default: root
      mode:
        description: Mode, octal.
        type: str
        default: "0644"
      secret:
        description:
          - The content is a secret. It never appears in the result or a diff; give the task C(no_log) as well.
        type: bool
        default: false
      keep_previous:
        description: Return what the file held before this run changed it, in RV(previous).
        type: bool
        default: false
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Files marked O(files[].secret) show no content in the diff.
author:
  - veza.coturn developers (@veza-coturn)
"""

EXAMPLES = r"""
- name: Write coturn's configuration and its unit's drop-in
  veza.coturn.files:
    directories:
      - path: /etc/systemd/system/coturn.service.d
    files:
      - path: /etc/turnserver.conf
        content: "{{ lookup('ansible.builtin.template', 'turnserver.conf.j2') }}"
        group: turnserver
        mode: "0640"
        keep_previous: true
  register: written
"""

RETURN = r"""
changed_paths:
  description: The folders and files this run created or changed (or would, in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/turnserver.conf]
previous:
  description:
    - For each changed file with O(files[].keep_previous), what it held before; null where it did not exist.
  returned: always
  type: dict
  sample: {"/etc/turnserver.conf": "listening-port=3478\n"}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.veza.coturn.plugins.module_utils._files import FilesError, ensure_directory, ensure_file

_ATTRIBUTES = {
    "owner": {"type": "str", "default": "root"},
    "group": {"type": "str", "default": "root"},
}

argument_spec = {
    "directories": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "path": {"type": "path", "required": True},
            "mode": {"type": "str", "default": "0755"},
            **_ATTRIBUTES,
        },
    },
    "files": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "path": {"type": "path", "required": True},
            "content": {"type": "str", "required": True},
            "mode": {"type": "str", "default": "0644"},
            "secret": {"type": "bool", "default": False},
            "keep_previous": {"type": "bool", "default": False},
            **_ATTRIBUTES,
        },
    },
}


def _text(data):
    return None if data is None else data.decode("utf-8", errors="replace")


def main():
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    for spec in module.params["files"]:
        if spec["secret"]:
            module.no_log_values.add(spec["content"])
    for spec in module.params["directories"] + module.params["files"]:
        if not spec["path"].startswith("/"):
            module.fail_json(msg=f"files: {spec['path']!r} is not an absolute path")
    changed_paths, previous, diffs = [], {}, []
    try:
        for spec in module.params["directories"]:
            if ensure_directory(spec, module.check_mode):
                changed_paths.append(spec["path"])
        for spec in module.params["files"]:
            changed, before = ensure_file(spec, module.check_mode)
            if not changed:
                continue
            changed_paths.append(spec["path"])
            if spec["keep_previous"] and not spec["secret"]:
                previous[spec["path"]] = _text(before)
            if module._diff:
                hidden = "(secret, not shown)\n"
                diffs.append(
                    {
                        "before_header": spec["path"],
                        "after_header": spec["path"],
                        "before": hidden if spec["secret"] else _text(before) or "",
                        "after": hidden if spec["secret"] else spec["content"],
                    }
                )
    except (FilesError, OSError) as exc:
        module.fail_json(msg=f"files: {exc}", changed_paths=changed_paths)
    result = {"changed": bool(changed_paths), "changed_paths": changed_paths, "previous": previous}
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()

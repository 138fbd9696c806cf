# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for veza.coturn.python_program: build the zipapp here, copy it there."""

from __future__ import annotations

import os
import shutil
import tempfile

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.veza.coturn.plugins.plugin_utils._zipapp import ZipappError, build

MODULE_UTILS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "module_utils")

ARGUMENT_SPEC = {
    "entry": {"type": "str", "required": True},
    "dest": {"type": "path", "required": True},
    "owner": {"type": "str", "default": "root"},
    "group": {"type": "str", "default": "root"},
    "mode": {"type": "raw", "default": "0644"},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = True
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):
        super().run(tmp, task_vars)
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        if not os.path.isabs(args["dest"]):
            raise AnsibleActionFail(
                f"python_program: dest must be an absolute path on the host, like "
                f"/usr/local/lib/veza-coturn/program.pyz, got {args['dest']!r}"
            )
        try:
            data = build(MODULE_UTILS, args["entry"])
        except ZipappError as exc:
            raise AnsibleActionFail(f"python_program: {exc}") from exc

        local_tempdir = tempfile.mkdtemp(dir=C.DEFAULT_LOCAL_TMP)
        try:
            source = os.path.join(local_tempdir, os.path.basename(args["dest"]))
            with open(source, "wb") as handle:
                handle.write(data)
            new_task = self._task.copy()
            new_task.args = {
                "src": source,
                "dest": args["dest"],
                "owner": args["owner"],
                "group": args["group"],
                "mode": args["mode"],
            }
            copy_action = self._shared_loader_obj.action_loader.get(
                "ansible.legacy.copy",
                task=new_task,
                connection=self._connection,
                play_context=self._play_context,
                loader=self._loader,
                templar=self._templar,
                shared_loader_obj=self._shared_loader_obj,
            )
            result = copy_action.run(task_vars=task_vars)
        finally:
            shutil.rmtree(local_tempdir, ignore_errors=True)
            self._remove_tmp_path(self._connection._shell.tmpdir)
        result["entry"] = args["entry"]
        result["size"] = len(data)
        return result

# -*- coding: utf-8 -*-
# Copyright: veza.coturn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private Incus helpers of the veza.coturn collection, split by concern.

``errors``            the failures (IncusError, ModuleFailure)
``client``            the REST client over the unix socket or HTTPS (transport only)
``instance_options``  incus_instance's checks the argument spec cannot express
``instance``          the instance manager (desired vs current, create/update/start/stop/delete)
``instance_view``     how an instance's status and addresses are reported
``resources``         read a resource; the network, storage pool and image managers
``module``            what the modules share to meet Ansible (client options, failure handling)
"""

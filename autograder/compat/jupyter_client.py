"""Overrides of jupyter_client 8 internals used to start and reach grading kernels.

- :class:`PromptClient` replaces ``KernelClient._async_wait_for_ready`` (and calls the private
  ``_handle_kernel_info_reply``): ready means a ``kernel_info_reply`` on shell, then any message on
  IOPub (ipykernel answers each subscription with ``iopub_welcome``), without the final 0.2 s of
  IOPub silence jupyter_client waits for (it only drops startup status messages, which nbclient
  ignores: it reads only messages whose parent is its own request).
- :class:`ProvisionerHookKernelManager` overrides ``AsyncKernelManager._async_pre_start_kernel`` to
  install a provisioner of its own (a kernel forked by a fork server) before jupyter_client picks one.
- :func:`set_kernel_spec` sets the private ``_kernel_spec`` (no kernelspec lookup on disk).
- :func:`replace_channel` sets a client's private ``_iopub_channel`` / ``_shell_channel`` (what the public
  ``iopub_channel`` / ``shell_channel`` properties return once created) to a wrapper of the grader's.
- :class:`HandleProvisioner` is a ``LocalProvisioner`` whose ``launch_kernel`` does not start a
  process but takes a Popen-like handle, filling ``process``, ``pid``, ``pgid`` as the original does.
"""

import math
import time
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner

from autograder.compat import require

PINNED = "8"
require("jupyter_client", PINNED)


class PromptClient(AsyncKernelClient):
    """jupyter_client's client, without the 0.2 s of IOPub silence its ``wait_for_ready`` waits for last."""

    async def _async_wait_for_ready(self, timeout=None):
        deadline = time.monotonic() + (math.inf if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:
                    await self.iopub_channel.get_msg(timeout=0.2)
                except Empty:
                    pass
                else:
                    self._handle_kernel_info_reply(reply)
                    return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")

    wait_for_ready = _async_wait_for_ready


class ProvisionerHookKernelManager(AsyncKernelManager):
    """An AsyncKernelManager that may bring its own provisioner (:meth:`own_provisioner`)."""

    def own_provisioner(self):
        """A provisioner to use instead of jupyter_client's choice, or None."""
        return None

    async def _async_pre_start_kernel(self, **kw):
        if self.provisioner is None:
            self.provisioner = self.own_provisioner()
        return await super()._async_pre_start_kernel(**kw)


def set_kernel_spec(manager, spec):
    manager._kernel_spec = spec


def replace_channel(client, name, channel):
    """Make ``client.<name>_channel`` return ``channel`` (``name``: "iopub" or "shell")."""
    setattr(client, f"_{name}_channel", channel)


class HandleProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner around a process it did not start (:meth:`start_process`)."""

    def start_process(self, connection_file):
        """A Popen-like handle (``poll``, ``wait``, ``kill``, ``send_signal``) of the kernel process."""
        raise NotImplementedError

    async def launch_kernel(self, cmd, **kwargs):
        self.process = self.start_process(self.parent.connection_file)
        self.pid = None
        self.pgid = None
        self.cwd = kwargs.get("cwd")
        return self.connection_info

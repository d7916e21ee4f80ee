"""The worker's side of the fork server: one zygote per slot, a forked kernel per job.

A :class:`Zygote` is started once per worker slot, in the same bubblewrap sandbox as a kernel (plus
the capability to build namespaces, see :mod:`autograder.sandbox.zygote`), with the course's imports done.
Each job then costs a fork instead of a Python start and seconds of imports. Its root is read-only (a
kernel inherits it): nothing a kernel writes outside its own tmpfs mounts can reach the next kernel.
As root the slot has a control group whose limit is ``--memory-mb`` plus what the zygote itself holds;
the zygote runs in its ``server`` child and each kernel in a child of its own, limited to ``--memory-mb``
and removed after the job, so a kernel's usage is never charged to the next one; the zygote's
``oom_score_adj`` is -1000 (the OOM killer spares it) and no kernel can see or signal it (another PID
namespace). Jobs of a slot run one after another; the previous kernel's whole namespace is gone before
the next is forked.

:class:`ZygoteProvisioner` plugs a forked kernel into jupyter_client: nbclient talks to it over
the job's unix sockets exactly as to a kernel it started itself.
"""

import json
import os
import select
import subprocess
import time
from pathlib import Path

from autograder.common.retry import FORK, GaveUp
from autograder.compat.jupyter_client import HandleProvisioner
from autograder.sandbox import programs
from autograder.sandbox.bwrap import KernelSandbox, environment_paths, share_mounts_below
from autograder.sandbox.spec import IsolationSpec

START_TIMEOUT = 120.0  # seconds for a zygote to import the course's libraries on a busy machine
REPLY_TIMEOUT = 30.0


class ZygoteFailed(RuntimeError):
    """The fork server could not start or answer: the worker falls back to a fresh sandbox per kernel."""


class _Refused(Exception):
    """The fork server refused one fork (EAGAIN while the previous kernel's processes are reaped)."""


class Zygote:
    """A fork server in its sandbox, for one worker slot (one kernel at a time)."""

    def __init__(self, box, folder, slot, limits, files, preload):
        """``preload``: the import lines the server runs once (the course's, see ``Master.preload``)."""
        self.box, self.folder, self.slot, self.limits = box, Path(folder), slot, limits
        # a kernel sees this folder read-only (the forked child re-binds it so), its own job folder writable:
        # nothing a kernel writes can reach the next student
        self.folder.mkdir(mode=0o711, parents=True, exist_ok=True)
        # as root each job folder is a tmpfs mounted below this folder after the server started: shared, so
        # that it appears in the server's sandbox
        self._unshare = share_mounts_below(self.folder) if box.enabled and box.root else (lambda: None)
        # the server's own sandbox: a kernel's, with room for its imports until its real limit is known (below)
        spec = IsolationSpec.of(limits).with_memory(limits.memory_mb + 1024)
        self.kernel_spec = IsolationSpec.of(limits)
        self.sandbox = KernelSandbox(box, self.folder, slot, spec, files={}, capabilities=("CAP_SYS_ADMIN",),
                                     own_folder=False, server=True)
        self.job_group = None
        self.jobs = 0
        config = {"preload": list(preload), "view": spec.fork_view(), "environment": environment_paths(),
                  "files": {inside: Path(host).read_text() for inside, host in files.items()}}
        config_path = self.folder / "zygote.json"
        config_path.write_text(json.dumps(config))
        config_path.chmod(0o644)
        # the zygote's source goes on the command line: nothing of the repository is mounted in the sandbox
        cmd = self.sandbox.command(programs.command("zygote", config_path))
        self.log = open(self.folder / "zygote.log", "ab")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                     env=self.sandbox.launch_env(), cwd=self.folder, bufsize=0)
        self._buffer = b""
        ready = self._read(START_TIMEOUT)
        if not ready or not ready.get("ready"):
            self.close()
            raise ZygoteFailed(f"the fork server did not start ({self._log_tail()})")
        self.vmsize_mb = int(ready.get("vmsize_kb", 0)) // 1024  # the course libraries' address space
        if self.sandbox.group is not None:  # now that its imports are in: the kernels get --memory-mb on top
            _oom, peak, _pids = self.sandbox.stats()
            self.sandbox.group.set_memory(limits.memory_mb + int(peak or 0) + 64)
            self._protect()
        self.job = None

    def kernel_rlimits(self):
        """The rlimits a forked kernel sets on itself: a kernel's own (``--memory-mb``, not the server's), as a
        freshly started kernel gets them; as root its memory limit is its own control group."""
        return self.kernel_spec.rlimits(cgroup=self.sandbox.group is not None, baseline_mb=self.vmsize_mb)

    def kernel_filter(self):
        """The seccomp program a forked kernel installs (base64), or None (with a memory cgroup)."""
        if self.sandbox.group is not None or not self.sandbox.sandbox.enabled:
            return None
        import base64

        from autograder.sandbox import seccomp

        return base64.b64encode(seccomp.memory_filter()).decode()

    def server_pids(self):
        """Host pids of the server's processes (the launcher that became bwrap, bwrap's, the zygote)."""
        import psutil

        root = psutil.Process(self.proc.pid)
        return [root.pid] + [p.pid for p in root.children(recursive=True)]

    def _protect(self):
        """As root: the OOM killer spares the fork server and its sandbox's processes (a kernel sets its own
        score to 1000; tests read the actual ``oom_score_adj``)."""
        for pid in self.server_pids():
            try:
                Path(f"/proc/{pid}/oom_score_adj").write_text("-1000")
            except OSError:
                pass

    def _host_pid(self, ns_pid):
        """The host pid of the server's child that is ``ns_pid`` in the server's PID namespace."""
        import psutil

        for child in psutil.Process(self.proc.pid).children(recursive=True):
            try:
                for line in Path(f"/proc/{child.pid}/status").read_text().splitlines():
                    if line.startswith("NSpid:") and line.split()[1:] == [str(child.pid), str(ns_pid)]:
                        return child.pid
            except OSError:
                continue
        return None

    def _log_tail(self):
        try:
            return (self.folder / "zygote.log").read_text(errors="replace").strip().splitlines()[-1][:300]
        except (OSError, IndexError):
            return "no log"

    def _read(self, timeout):
        """The next JSON line from the zygote, or None after ``timeout`` seconds or at its end."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = max(0.0, deadline - time.monotonic())
            readable, _, _ = select.select([self.proc.stdout], [], [], min(remaining, 0.5))
            if readable:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    return None
                self._buffer += chunk
            elif remaining <= 0:
                return None
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def _send(self, obj):
        try:
            self.proc.stdin.write((json.dumps(obj) + "\n").encode())
        except (BrokenPipeError, OSError) as err:
            raise ZygoteFailed(f"the fork server went away ({self._log_tail()})") from err

    def alive(self):
        return self.proc.poll() is None

    def spawn(self, connection_file, env, log, rlimits):
        """Fork a kernel for ``connection_file``; returns a :class:`ForkedKernel`.

        As root the forked process is moved into a control group of its own before it is released to build
        its namespaces and become the kernel: everything of the job is limited and counted there."""
        self.end_job()
        self.jobs += 1
        if self.sandbox.group is not None:
            self.job_group = self.sandbox.group.child(f"job-{self.jobs}").create(self.kernel_spec.memory_mb,
                                                                                   self.kernel_spec.processes)
        request = {"spawn": {"connection_file": str(connection_file), "env": env, "log": str(log), "rlimits": rlimits,
                             "seccomp": self.kernel_filter()}}

        def attempt():
            self._send(request)
            reply = self._read(REPLY_TIMEOUT)
            if reply and "pid" in reply:
                return reply
            if reply and "error" in reply:  # refused while an earlier kernel's processes are reaped: again
                raise _Refused(reply["error"])
            raise ZygoteFailed(f"the fork server did not fork a kernel ({self._log_tail()})")

        try:
            reply = FORK.call(attempt, retry_on=_Refused)
        except GaveUp as err:
            raise ZygoteFailed(f"the fork server did not fork a kernel ({err})") from None
        if self.job_group is not None:
            host_pid = self._host_pid(reply["pid"])
            if host_pid is None:
                self._send({"kill": True})
                raise ZygoteFailed("the forked kernel's process was not found on the host")
            self.job_group.add(host_pid)
        self._send({"release": True})  # now it builds its namespaces and becomes the kernel
        self.job = ForkedKernel(self)
        return self.job

    def stats(self):
        """(oom killed, peak MB, process limit hit) of the current job's own control group."""
        if self.job_group is None:
            return False, None, False
        return self.job_group.stats()

    def end_job(self):
        """Kill what is left of the last job and remove its control group."""
        if self.job_group is not None:
            self.job_group.remove()
            self.job_group = None

    def close(self):
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
        self.end_job()
        self.sandbox.cleanup()
        self.log.close()
        self._unshare()


class ForkedKernel:
    """A Popen-like handle of a forked kernel (what jupyter_client's provisioner expects)."""

    stdin = stdout = stderr = None
    pid = None

    def __init__(self, zygote):
        self.zygote = zygote
        self.returncode = None

    def poll(self):
        if self.returncode is None:
            reply = self.zygote._read(0) if self.zygote.alive() else {"exit": -9}
            if reply and "exit" in reply:
                self.returncode = reply["exit"]
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("kernel", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum):
        self.kill()

    def kill(self):
        if self.returncode is None and self.zygote.alive():
            self.zygote._send({"kill": True})

    terminate = kill


class ZygoteProvisioner(HandleProvisioner):
    """jupyter_client's local provisioner, with the kernel forked by the slot's zygote."""

    zygote = None
    spawn_args = None

    def start_process(self, connection_file):
        return self.zygote.spawn(connection_file, **self.spawn_args)

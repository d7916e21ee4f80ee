"""The worker's side of the fork server: one zygote per slot, a forked kernel per job.

A :class:`Zygote` is started once per worker slot, in the same bubblewrap sandbox as a kernel (plus
the capability to build namespaces, see :mod:`autograder.sandbox.zygote`), with the course's imports done.
Each job then costs a fork instead of a Python start and seconds of imports. As root the zygote and
its current kernel share the slot's control group: its memory limit is ``--memory-mb`` plus what
the zygote itself holds, so a kernel can use as much as a freshly started one would, and the
zygote is the last process the OOM killer would pick. Jobs of a slot run one after another; the
previous kernel's whole namespace is gone before the next is forked.

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
from autograder.sandbox.bwrap import KernelSandbox
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
        # the server's own sandbox: a kernel's, with room for its imports until its real limit is known (below)
        spec = IsolationSpec.of(limits).with_memory(limits.memory_mb + 1024)
        self.sandbox = KernelSandbox(box, self.folder, slot, spec, files={}, capabilities=("CAP_SYS_ADMIN",),
                                     own_folder=False)
        config = {"preload": list(preload), "view": spec.fork_view(),
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
        if self.sandbox.group is not None:  # now that its imports are in: the kernels get --memory-mb on top
            _oom, peak, _pids = self.sandbox.stats()
            self.sandbox.group.set_memory(limits.memory_mb + int(peak or 0) + 64)
            self._protect()
        self.job = None

    def kernel_rlimits(self):
        """The rlimits a forked kernel sets on itself: the server's spec's (as root the memory limit is the
        slot's cgroup, which the kernel shares with the server)."""
        return self.sandbox.spec.rlimits(cgroup=self.sandbox.group is not None)

    def _protect(self):
        """As root: the OOM killer spares the zygote (its kernel is the one that grew)."""
        try:
            import psutil

            for child in psutil.Process(self.proc.pid).children(recursive=True):
                if "zygote.py" in " ".join(child.cmdline()):
                    Path(f"/proc/{child.pid}/oom_score_adj").write_text("-1000")
        except (OSError, ImportError, Exception):  # noqa: BLE001 - best effort; the limit holds anyway
            pass

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
        """Fork a kernel for ``connection_file``; returns a :class:`ForkedKernel`."""
        if self.sandbox.group is not None:
            self.sandbox.group.reset_peak()
        self.counters = self.sandbox.group.counters() if self.sandbox.group is not None else {}
        request = {"spawn": {"connection_file": str(connection_file), "env": env, "log": str(log), "rlimits": rlimits}}

        def attempt():
            self._send(request)
            reply = self._read(REPLY_TIMEOUT)
            if reply and "pid" in reply:
                return reply
            if reply and "error" in reply:  # refused while an earlier kernel's processes are reaped: again
                raise _Refused(reply["error"])
            raise ZygoteFailed(f"the fork server did not fork a kernel ({self._log_tail()})")

        try:
            FORK.call(attempt, retry_on=_Refused)
        except GaveUp as err:
            raise ZygoteFailed(f"the fork server did not fork a kernel ({err})") from None
        self.job = ForkedKernel(self)
        return self.job

    def stats(self):
        """(oom killed, peak MB, process limit hit) of the current job: counters since it started."""
        if self.sandbox.group is None:
            return False, None, False
        now = self.sandbox.group.counters()
        oom = now.get("oom", 0) > self.counters.get("oom", 0)
        pids = now.get("pids_max", 0) > self.counters.get("pids_max", 0)
        return oom, now.get("peak_mb"), pids

    def close(self):
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
        self.sandbox.cleanup()
        self.log.close()


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

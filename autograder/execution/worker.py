"""Run one job on this machine: prepare the notebook, execute it in a sandboxed kernel, report facts.

:func:`run_job` is the unit of work of both engines: a process of the local pool calls it, and so
does a Dask worker (``dask.distributed``). It makes no verdict: it returns a
:class:`~autograder.common.records.KernelRun` with the executed notebook, the raw records the kernel sent
during each test cell, and the facts about the kernel (death, timeouts, memory, processes). A bug
here becomes ``grader_error`` with the traceback, never the student's status.
"""

import asyncio
import functools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.common.records import KernelRun
from autograder.execution import layout, notebook_io
from autograder.execution.execute import SandboxedExecute, make_kernel_manager, not_run_output
from autograder.sandbox import bwrap as sandbox
from autograder.sandbox import forkserver
from autograder.sandbox.spec import IsolationSpec

_MEMORY_ERRORS = ("MemoryError", "_ArrayMemoryError", "OutOfMemoryError")


class _Process:
    """What a worker process keeps between jobs: its sandbox, staging folder and free slots."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sandboxes = {}
        self.staging = None
        self.free = list(range(sandbox.UID_BLOCK - 1))
        self.font_cache = None
        self.zygotes = {}  # slot -> ((limits, preload), Zygote)
        self.fork_disabled = os.environ.get("AUTOGRADER_FORK_SERVER", "1") == "0"

    def zygote(self, box, slot, limits, preload):
        """The slot's fork server (started on first use, restarted when it died), or None."""
        if self.fork_disabled:
            return None
        known = self.zygotes.get(slot)
        if known is not None and (known[0] != (limits, preload) or not known[1].alive()):
            self.drop_zygote(slot)
            known = None
        if known is None:
            try:
                zygote = forkserver.Zygote(box, self.staging / f"zygote-{slot}", slot, limits, _font_files(), preload)
            except forkserver.ZygoteFailed:
                self.fork_disabled = True  # this machine cannot: fresh sandboxes from now on
                return None
            self.zygotes[slot] = known = ((limits, preload), zygote)
        return known[1]

    def drop_zygote(self, slot, disable=False):
        known = self.zygotes.pop(slot, None)
        if known is not None:
            known[1].close()
        if disable:
            self.fork_disabled = True

    def sandbox(self, enabled):
        with self.lock:
            if enabled not in self.sandboxes:
                self.sandboxes[enabled] = sandbox.probe(f"{sandbox.batch_tag()}-w{os.getpid()}", enabled=enabled)
            if self.staging is None:  # inside the batch's folder (local pool), else in the temp folder (Dask)
                root = os.environ.get("AUTOGRADER_STAGING") or None
                self.staging = Path(tempfile.mkdtemp(prefix=f"autograder-w{os.getpid()}-", dir=root))
                os.chmod(self.staging, 0o711)  # sandbox users traverse to their own folder only
                try:
                    self.font_cache = sandbox.matplotlib_font_cache()
                except Exception:  # noqa: BLE001 - kernels then build their own
                    self.font_cache = None
            return self.sandboxes[enabled]

    @contextmanager
    def slot(self, preferred=None):
        with self.lock:
            slot = preferred if preferred in self.free else min(self.free)
            self.free.remove(slot)
        try:
            yield slot
        finally:
            with self.lock:
                self.free.append(slot)


_PROCESS = _Process()


def worker_name():
    return f"{socket.gethostname()}:{os.getpid()}"


def run_job(job, master, limits, sandboxed=True, slot=None):
    """Grade-independent facts of one job (see the module docstring)."""
    started = time.monotonic()
    base = {"student_id": job.student_id, "assignment_id": job.assignment_id, "worker": worker_name()}
    if job.invalid:
        return KernelRun(invalid=job.invalid, notes=job.notes, **base)
    if job.notebook is None:
        return KernelRun(missing=True, notes=job.notes, **base)
    try:
        try:
            nb, notes, repairs, language = layout.prepare_edition(job.notebook, master, master.kernel_nb_json,
                                                                  job.student_id)
        except notebook_io.InvalidNotebook as err:
            return KernelRun(invalid=str(err), notes=job.notes, **base)
        prepared = time.monotonic()
        try:
            box = _PROCESS.sandbox(sandboxed)
        except sandbox.SandboxUnavailable:  # no student code ran: tried again later, as a kernel that did not
            # start (without root another kernel's fork bomb may hold every process the shared uid may have)
            return KernelRun(grader_error=traceback.format_exc()[-4000:], died_at=-1, notes=job.notes, **base)
        with _PROCESS.slot(slot) as slot_index:
            facts = _execute(nb, master, limits, box, slot_index)
        facts["timings"].update(prepare=prepared - started, total=time.monotonic() - started)
        return KernelRun(notes=tuple(job.notes) + tuple(notes), repairs=tuple(repairs), language=language, **facts,
                         **base)
    except Exception:  # noqa: BLE001 - a grader bug: reported as such, the batch goes on
        return KernelRun(grader_error=traceback.format_exc()[-4000:], notes=job.notes, **base)


def _font_files():
    if _PROCESS.font_cache is None:
        return {}
    return {f".config/matplotlib/{_PROCESS.font_cache.name}": _PROCESS.font_cache}


@functools.cache
def _address_space_mb(preload):
    """MB of address space a Python that imported ``preload`` (the course's import lines) maps, measured once."""
    report = "print(next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmSize')))"
    code = "\n".join([*preload, report])
    try:
        done = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=300,
                              env={"PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"})
        return int(done.stdout.strip().splitlines()[-1]) // 1024
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return 4096  # a generous guess: the limit then bounds less, never honest work


def _baseline_mb(box, preload):
    """Without a memory cgroup, a fresh kernel's address space is limited on top of the course libraries'."""
    if not box.enabled or box.hierarchy is not None:
        return None
    return _address_space_mb(tuple(preload))


@contextmanager
def _fresh_start(box, slot, limits, preload=()):
    """A new sandbox and a new Python for one kernel (no fork server)."""
    job = sandbox.JobFolder(_PROCESS.staging / f"k{slot}-{os.urandom(4).hex()}", sandbox.uid_for(box, slot),
                            root=box.enabled and box.root)
    kernel_box = None
    try:
        kernel_box = sandbox.KernelSandbox(box, job.path, slot, IsolationSpec.of(limits), files=_font_files(),
                                           baseline_mb=_baseline_mb(box, preload))
        km = make_kernel_manager(kernel_box, job.path)
        env = kernel_box.launch_env() if box.enabled else kernel_box.kernel_env()
        yield _Start(km, job, job.log_writer, env, finish=lambda _executor: (_exit_code(km), kernel_box.stats()))
    finally:
        if kernel_box is not None:
            kernel_box.kill()
            kernel_box.cleanup()
        job.close()


@contextmanager
def _forked_start(zygote):
    """A kernel forked by the slot's fork server, in namespaces (and a control group) of its own."""
    job = sandbox.JobFolder(zygote.folder / f"job-{os.urandom(4).hex()}", zygote.sandbox.uid,
                            root=zygote.sandbox.sandbox.root)
    spawn = {"env": zygote.sandbox.kernel_env(), "log": job.log_path, "rlimits": zygote.kernel_rlimits()}
    km = make_kernel_manager(None, job.path, zygote=zygote, spawn_args=spawn)

    def finish(executor):
        forked = zygote.job
        if forked is not None:
            forked.kill()
            forked.wait(timeout=30)
        exit_code = forked.returncode if forked is not None else None
        if exit_code == -9 and executor.died_at is None:
            exit_code = None  # killed by us at shutdown, after the last cell
        return exit_code, zygote.stats()

    try:
        yield _Start(km, job, None, zygote.sandbox.kernel_env(), finish)
    finally:
        zygote.end_job()
        job.close()


@dataclass
class _Start:
    """How one kernel starts and ends: its manager, job folder, environment, and what to collect when it is done."""

    manager: object
    job: object  # the kernel's JobFolder (its log is read through a descriptor opened before the start)
    log_file: object  # where the kernel's stdout and stderr go (None: the fork server opens the job's log)
    env: dict
    finish: object  # executor -> (exit code, (oom killed, peak MB, process limit hit))


def _run_kernel(nb, master, limits, start):
    executor = SandboxedExecute(nb, start.manager, limits, master.probe_source, master.plans_json)
    asyncio.run(executor.run(env=start.env, log_file=start.log_file))
    exit_code, stats = start.finish(executor)
    return executor, exit_code, stats, start.job.log_tail()


def _execute(nb, master, limits, box, slot):
    zygote = _PROCESS.zygote(box, slot, limits, master.preload) if box.enabled else None
    if zygote is not None:
        try:
            with _forked_start(zygote) as start:
                executor, exit_code, (oom, peak, pids_hit), log_text = _run_kernel(nb, master, limits, start)
        except forkserver.ZygoteFailed:
            _PROCESS.drop_zygote(slot, disable=True)
            zygote = None
    forked = zygote is not None
    if zygote is None:
        with _fresh_start(box, slot, limits, master.preload) as start:
            executor, exit_code, (oom, peak, pids_hit), log_text = _run_kernel(nb, master, limits, start)
    if executor.died_at is not None:
        where = "while starting" if executor.died_at < 0 else f"in cell {executor.died_at + 1}"
        executor.mark_not_run(f"not run: the kernel died {where}")
    elif executor.unresponsive is not None or executor.boot_failed:
        executor.mark_not_run("not run: the kernel was stopped at its time limit" if not executor.boot_failed
                              else "not run: " + executor.boot_failed)
    memory_cells = tuple(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and any(
        o.get("output_type") == "error" and o.get("ename") in _MEMORY_ERRORS for o in c.get("outputs", [])))
    process_limit = pids_hit or any(
        "Resource temporarily unavailable" in str(o.get("evalue", "")) + str(o.get("text", ""))
        for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    records = {}
    for index, texts in executor.records.items():
        grade_id = nb.cells[index].metadata.get("nbgrader", {}).get("grade_id")
        if grade_id:
            records.setdefault(grade_id, []).extend(texts)
    return {
        "notebook": nbformat.writes(nb),
        "records": records,
        "stray_records": executor.stray_records,
        "died_at": executor.died_at,
        "exit_code": exit_code,
        "timed_out": tuple(executor.timed_out),
        "unresponsive": executor.unresponsive,
        "notebook_timeout": executor.notebook_timeout,
        "oom_killed": oom,
        "memory_errors": memory_cells,
        "cpu_limit": exit_code is not None and exit_code in (-signal.SIGXCPU, 128 + signal.SIGXCPU),
        "process_limit": process_limit,
        "output_dropped": sum(executor.dropped.values()),
        "malformed_messages": sum(executor.malformed.values()),
        "peak_memory_mb": peak,
        # no student code runs before the kernel answers and the probe is installed: a failure there is ours
        "grader_error": ("the kernel did not start: " + (log_text.strip().splitlines() or ["no log"])[-1][:300])
                        if executor.died_at == -1 else
                        (executor.boot_failed if executor.boot_failed and executor.died_at is None
                         and executor.unresponsive is None else ""),
        "timings": {"kernel_start": executor.start_seconds, "cells": executor.cells_seconds},
        "forked": forked,
    }


def _exit_code(km):
    proc = getattr(getattr(km, "provisioner", None), "process", None)
    return proc.poll() if proc is not None else None


__all__ = ["run_job", "not_run_output", "worker_name"]

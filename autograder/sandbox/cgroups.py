"""Memory and process limits per kernel with Linux control groups (v1 or v2), when we may create them.

Root can create groups here (cgroup v1: the ``memory`` and ``pids`` controllers). Each kernel gets
its own group below ``autograder-<grader pid>`` in the grader's own group: the memory limit counts
what the kernel really uses (resident memory and its tmpfs files, not address space), the pids
limit caps a fork bomb, and killing every process of the group ends a kernel with all its children.
Where no group can be created (an ordinary user without delegation) :func:`probe` returns None and
the sandbox falls back to rlimits.
"""

import os
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from autograder.common.retry import CGROUP_REMOVE, GaveUp

ROOT = Path("/sys/fs/cgroup")


def _own_paths():
    """controller -> our group's path, from /proc/self/cgroup ("" for the v2 hierarchy)."""
    paths = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _id, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            paths[name] = path.lstrip("/")
    return paths


@dataclass(frozen=True)
class Hierarchy:
    """Where per-kernel groups are made: a folder per controller (v1), or one folder (v2)."""

    version: int
    folders: tuple  # (controller, folder) pairs; v2: (("unified", folder),)

    def group(self, name):
        return Group(self, name)


def probe(tag):
    """A writable hierarchy for this grader (``tag``: e.g. its pid), or None."""
    try:
        own = _own_paths()
        if (ROOT / "memory" / "memory.limit_in_bytes").exists() or (ROOT / "memory").is_dir():
            folders = []
            for controller in ("memory", "pids"):
                base = ROOT / controller / own.get(controller, "") / f"autograder-{tag}"
                base.mkdir(exist_ok=True)
                folders.append((controller, str(base)))
            hierarchy = Hierarchy(1, tuple(folders))
        elif (ROOT / "cgroup.controllers").exists():
            base = ROOT / own.get("", "") / f"autograder-{tag}"
            base.mkdir(exist_ok=True)
            (base / "cgroup.subtree_control").write_text("+memory +pids")
            hierarchy = Hierarchy(2, (("unified", str(base)),))
        else:
            return None
        test = hierarchy.group("probe")
        test.create(memory_mb=64, processes=8)
        test.remove()
        return hierarchy
    except OSError:
        return None


def remove_hierarchy(hierarchy):
    """Remove the grader's folders (after every group was removed)."""
    for _controller, folder in hierarchy.folders:
        for child in Path(folder).glob("*"):
            if child.is_dir():
                _remove_tree(child)
        _rmdir(Path(folder))


def _remove_tree(folder):
    """Kill the processes of ``folder`` and of every group below it, and remove them, deepest first (a
    worker's group holds its fork servers' groups, which hold their server's and their kernels' groups: a
    folder with a child group cannot be removed)."""
    for top, dirs, _files in os.walk(folder, topdown=False):
        for name in dirs:
            Group.kill_folder(Path(top) / name)
            _rmdir(Path(top) / name)
    Group.kill_folder(folder)
    _rmdir(Path(folder))


def _rmdir(path):
    """Remove a group's folder; its last processes may take a moment to leave it."""
    def attempt():
        try:
            path.rmdir()
        except FileNotFoundError:
            pass

    try:
        CGROUP_REMOVE.call(attempt)
    except GaveUp:
        pass


def remove_batch(batch_pid):
    """Remove every folder of the batch ``batch_pid`` (its workers' groups), at the end of the batch."""
    remove_stale(alive=lambda pid: pid != int(batch_pid) and psutil.pid_exists(pid))


def remove_stale(alive=psutil.pid_exists):
    """Remove the folders of graders that were killed (their processes are killed first)."""
    try:
        own = _own_paths()
    except OSError:
        return
    candidates = [ROOT / c / own.get(c, "") for c in ("memory", "pids")] + [ROOT / own.get("", "")]
    for base in candidates:
        if not base.is_dir():
            continue
        for folder in base.glob("autograder-*"):
            match = re.match(r"autograder-[a-z]*(\d+)", folder.name)
            if match and not alive(int(match.group(1))):
                remove_hierarchy(Hierarchy(1, (("?", str(folder)),)))


class Group:
    """One kernel's group in every controller of a :class:`Hierarchy`."""

    def __init__(self, hierarchy, name, parent=None):
        self.hierarchy = hierarchy
        base = parent.folders if parent is not None else dict(hierarchy.folders)
        self.folders = {c: Path(f) / name for c, f in base.items()}

    def child(self, name):
        """A group below this one (not created yet): a fork server's kernel gets one per job, so that what a
        kernel uses is limited and counted on its own and never charged to the next one."""
        return Group(self.hierarchy, name, parent=self)

    def enable_children(self):
        """Let children of this group have memory and pids limits (cgroup v2; v1 needs nothing)."""
        if self.hierarchy.version == 2:
            for folder in self.folders.values():
                (folder / "cgroup.subtree_control").write_text("+memory +pids")

    def create(self, memory_mb, processes):
        """Make the group's folders with its memory (no swap) and process limits (``memory_mb`` None: none)."""
        for folder in self.folders.values():
            folder.mkdir(exist_ok=True)
        if memory_mb is not None:
            self.set_memory(memory_mb)
        for controller, folder in self.folders.items():
            if self.hierarchy.version == 2:
                (folder / "memory.swap.max").exists() and (folder / "memory.swap.max").write_text("0")
            if self.hierarchy.version == 2 or controller == "pids":
                (folder / "pids.max").write_text(str(processes))
        return self

    def set_memory(self, memory_mb):
        """The memory limit (v1: memory and memory+swap alike, so nothing escapes into swap)."""
        limit = str(int(memory_mb) * 2**20)
        for controller, folder in self.folders.items():
            if self.hierarchy.version == 2:
                (folder / "memory.max").write_text(limit)
            elif controller == "memory":
                swap = folder / "memory.memsw.limit_in_bytes"
                if swap.exists():  # memory+swap must stay >= memory: order the two writes
                    try:
                        swap.write_text(limit)
                    except OSError:
                        pass
                (folder / "memory.limit_in_bytes").write_text(limit)
                if swap.exists():
                    try:
                        swap.write_text(limit)
                    except OSError:
                        pass

    def reset_peak(self):
        for controller, folder in self.folders.items():
            try:
                if self.hierarchy.version == 1 and controller == "memory":
                    (folder / "memory.max_usage_in_bytes").write_text("0")
                elif self.hierarchy.version == 2 and (folder / "memory.peak").exists():
                    (folder / "memory.peak").write_text("0")
            except OSError:
                pass

    def counters(self):
        """Cumulative counters (OOM kills, pids-limit hits) and the peak memory since the last reset."""
        out = {"oom": 0, "pids_max": 0, "peak_mb": None}
        for controller, folder in self.folders.items():
            try:
                if self.hierarchy.version == 2:
                    out["oom"] = _keyed(folder / "memory.events").get("oom_kill", 0)
                    out["pids_max"] = _keyed(folder / "pids.events").get("max", 0)
                    if (folder / "memory.peak").exists():
                        out["peak_mb"] = int((folder / "memory.peak").read_text()) / 2**20
                elif controller == "memory":
                    control = _keyed(folder / "memory.oom_control")
                    out["oom"] = control["oom_kill"] if "oom_kill" in control else int(
                        (folder / "memory.failcnt").read_text())
                    out["peak_mb"] = int((folder / "memory.max_usage_in_bytes").read_text()) / 2**20
                elif controller == "pids":
                    out["pids_max"] = _keyed(folder / "pids.events").get("max", 0)
            except (OSError, ValueError):
                continue
        return out

    def procs_files(self):
        return [str(f / "cgroup.procs") for f in self.folders.values()]

    def add(self, pid):
        """Move process ``pid`` (all its threads) into this group."""
        for procs in self.procs_files():
            Path(procs).write_text(str(pid))

    @staticmethod
    def kill_folder(folder):
        """SIGKILL every process of a group until it is empty (a fork bomb races the first rounds)."""
        procs = Path(folder) / "cgroup.procs"
        kill = Path(folder) / "cgroup.kill"
        for _ in range(500):
            try:
                if kill.exists():
                    kill.write_text("1")
                pids = [int(p) for p in procs.read_text().split()]
            except OSError:
                return
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.01)

    def kill(self):
        for folder in self.folders.values():
            self.kill_folder(folder)

    def stats(self):
        """(oom_killed, peak memory in MB, process limit hit) of this group since it was made."""
        counters = self.counters()
        return counters["oom"] > 0, counters["peak_mb"], counters["pids_max"] > 0

    def remove(self):
        self.kill()
        for folder in self.folders.values():
            _remove_tree(folder)  # children first (a fork server's server and jobs)


def _keyed(path):
    out = {}
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("-").isdigit():
            out[parts[0]] = int(parts[1])
    return out

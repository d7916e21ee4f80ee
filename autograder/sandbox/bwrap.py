"""The sandbox every grading kernel runs in: bubblewrap, control groups and rlimits.

What a kernel sees (built by ``bwrap``, Debian's ``bubblewrap``):

- new user, PID, IPC, UTS, cgroup and network namespaces: no network at all (its own loopback
  only), no other process, no host socket (host folders holding unix sockets are not mounted);
- a read-only view of ``/usr`` and the Python environment (the interpreter's prefix and the
  virtual environment), nothing else of the host: not the repository, the reference package,
  the source notebooks, the gradebook, the submissions or the host's ``/tmp``;
- private, size-capped tmpfs folders for ``/tmp``, ``/dev/shm`` and the home folder (its working
  directory), gone with the kernel;
- the folder of its own connection file and sockets (the grader talks to it over unix sockets);
- an unprivileged uid (as root: one uid per worker slot), no new privileges, no nested user
  namespaces, killed with the grader.

Limits: a memory cgroup (what the kernel really uses, tmpfs files included) and a pids cgroup per
kernel when the grader may create them (root); otherwise RLIMIT_DATA and RLIMIT_NPROC. Always
RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_NOFILE, no core dumps, and wall-clock timers in the executor.

:func:`probe` finds out once per process what this machine allows and raises
:class:`SandboxUnavailable` rather than grade unsandboxed (``--no-sandbox`` is explicit).
"""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from autograder.sandbox import cgroups, linux, programs, seccomp
from autograder.sandbox.spec import INNER_UID, JOB_FOLDER_BYTES, JOB_FOLDER_INODES, IsolationSpec

UID_BASE, UID_BLOCK = 1_000_000, 64  # as root: uid = base + (grader pid % 10000) * block + slot


class SandboxUnavailable(RuntimeError):
    """This machine cannot run the sandbox; the message says why (one line)."""


@dataclass(frozen=True)
class Sandbox:
    """What this machine lets the grader do, found once per process by :func:`probe`."""

    enabled: bool
    root: bool
    bwrap: str = ""
    hierarchy: cgroups.Hierarchy | None = None
    tag: str = ""
    notes: tuple = ()

    def describe(self):
        if not self.enabled:
            return "OFF (--no-sandbox): kernels run unconfined as the grader's user, with network and all files"
        memory = ("memory and processes by cgroup" if self.hierarchy
                  else "memory by RLIMIT_DATA and RLIMIT_AS (shared mappings within the address space, "
                       "memfd_create refused; files in the private tmpfs mounts count besides, up to their size), "
                       "processes by RLIMIT_NPROC")
        users = "one uid per worker slot" if self.root else "the grader's uid in a user namespace"
        return (f"bubblewrap: no network, no host files but the Python environment, private /tmp; "
                f"{memory}; kernels run as {users}")


def _readable_by_others(path):
    """Every ancestor of ``path`` can be traversed by any user."""
    current = "/"
    for part in Path(os.path.realpath(path)).parts[1:]:
        current = os.path.join(current, part)
        if not os.stat(current).st_mode & 0o001:
            return False
    return True


def environment_paths():
    """The folders of the Python environment a kernel needs (interpreter prefix, virtualenv)."""
    found = []
    for path in (sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable))):
        real = os.path.realpath(path)
        if not any(real == f or real.startswith(f + os.sep) for f in found):
            found = [f for f in found if not f.startswith(real + os.sep)] + [real]
    venv = os.path.abspath(sys.prefix)  # the virtualenv as its own path (its python is a symlink)
    if venv not in found:
        found.append(venv)
    return found


def probe(tag, enabled=True):
    """Start a trivial sandbox once; a :class:`Sandbox` or :class:`SandboxUnavailable`."""
    root = os.geteuid() == 0
    if not enabled:
        return Sandbox(enabled=False, root=root, notes=("--no-sandbox",))
    bwrap = shutil.which("bwrap")
    if not bwrap:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed: `apt-get install bubblewrap`, "
                                 "or pass --no-sandbox to grade without isolation")
    hierarchy = cgroups.probe(tag) if root else None
    sandbox = Sandbox(enabled=True, root=root, bwrap=bwrap, hierarchy=hierarchy, tag=str(tag),
                      notes=() if hierarchy or not root else ("no memory cgroup could be created: RLIMIT_DATA",))
    scratch = Path(f"/tmp/autograder-probe-{os.getpid()}")
    scratch.mkdir(mode=0o711, exist_ok=True)
    try:
        kernel = KernelSandbox(sandbox, scratch, slot=UID_BLOCK - 1,
                               spec=IsolationSpec(memory_mb=512, processes=32, disk_mb=16, cpu_seconds=30))
        cmd = kernel.command([sys.executable, "-I", "-c", "import os; assert os.getuid() != 0"])
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=60, env=kernel.launch_env())
        except (OSError, subprocess.SubprocessError) as err:
            raise SandboxUnavailable(f"the sandbox could not start: {err}") from None
        if done.returncode != 0:
            last = (done.stderr.decode(errors="replace").strip().splitlines() or [f"exit {done.returncode}"])[-1]
            raise SandboxUnavailable(f"the sandbox could not start Python ({last[:200]}); {_likely_cause(last)}")
        kernel.cleanup()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return sandbox


def _likely_cause(message):
    """What a failed sandbox start most likely means, from bubblewrap's last line."""
    if "execvp" in message or "No such file" in message:
        return (f"the Python environment ({', '.join(environment_paths())}) is not visible inside the sandbox: "
                "a grader bug, please report it; meanwhile --no-sandbox grades without isolation")
    if "Permission denied" in message or "Operation not permitted" in message or "setting up uid map" in message:
        return "unprivileged user namespaces may be disabled (run as root, or pass --no-sandbox)"
    return "pass --no-sandbox to grade without isolation"


def batch_tag():
    """The grading batch this process works for (the grading parent's pid), else this process."""
    return os.environ.get("AUTOGRADER_BATCH") or str(os.getpid())


def uid_for(sandbox, slot):
    """As root: the uid of a worker slot, unique per batch and slot (base + (batch pid % 10000) * 64 + slot)."""
    if not sandbox.root:
        return None
    return UID_BASE + (int(batch_tag()) % 10_000) * UID_BLOCK + slot


class KernelSandbox:
    """The sandbox of one kernel (or of a fork server): its folder, cgroup, and the command that starts it.

    ``folder`` (on the host, created by the caller) receives the connection file, the unix sockets
    and the launcher's config; it is the only host folder the kernel can write to. ``spec`` is what
    the kernel sees and may use.
    """

    def __init__(self, sandbox, folder, slot, spec, files=None, capabilities=(), own_folder=True, server=False,
                 baseline_mb=None):
        """``server``: a fork server's sandbox: its processes go to a ``server`` child of its group, and each
        kernel it forks to a child of its own; the group's limit covers both. Else a kernel's: without a memory
        cgroup its address space is limited (``baseline_mb``: the course libraries', see
        :meth:`~autograder.sandbox.spec.IsolationSpec.rlimits`) and ``memfd_create`` refused
        (:mod:`autograder.sandbox.seccomp`); its OOM score is raised to 1000 (it goes before anything else)."""
        self.server, self.baseline_mb = server, baseline_mb
        self.sandbox = sandbox
        self.folder = Path(folder)
        self.uid = uid_for(sandbox, slot)
        self.spec = spec
        self.files = dict(files or {})  # path inside HOME -> host file copied into the sandbox
        self.capabilities = tuple(capabilities)  # kept in the sandbox's user namespace (the fork server only)
        self.group = self.members = None
        if sandbox.enabled and sandbox.hierarchy is not None:
            self.group = sandbox.hierarchy.group(f"{self.folder.name}-{os.getpid()}").create(spec.memory_mb,
                                                                                              spec.processes)
            self.members = self.group
            if server:
                self.group.enable_children()
                self.members = self.group.child("server").create(None, spec.processes)
        if self.uid is not None and own_folder:  # the fork server's folder stays root's
            os.chown(self.folder, self.uid, self.uid)

    def own(self, path):
        """Give a file of the kernel's folder to the sandbox user (as root)."""
        if self.uid is not None and os.path.exists(path):
            os.chown(path, self.uid, self.uid)

    def launch_env(self):
        """The environment of the launcher and bubblewrap (the kernel's own is set by bubblewrap)."""
        return {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}

    def kernel_env(self):
        return self.spec.env(os.path.dirname(os.path.abspath(sys.executable)))

    def rlimits(self):
        """The rlimits of what this sandbox starts; without cgroups and root, also a process limit."""
        nproc = None
        if self.group is None and not self.sandbox.root:
            nproc = _own_process_count() + self.spec.processes
        baseline = None if self.server else self.baseline_mb
        return self.spec.rlimits(cgroup=self.group is not None, processes=nproc, baseline_mb=baseline)

    def memory_filter(self):
        """The seccomp program a kernel of this sandbox gets (bytes), or None (a fork server, or a memory cgroup)."""
        if self.server or self.group is not None or not self.sandbox.enabled:
            return None
        return seccomp.memory_filter()

    def command(self, kernel_argv):
        """The full command: launcher (limits, uid), then bwrap (namespaces, mounts), then the kernel."""
        if not self.sandbox.enabled:
            return list(kernel_argv)
        config = {"cgroup_procs": self.members.procs_files() if self.members else [], "rlimits": self.rlimits(),
                  "uid": self.uid, "stage": [], "files": {}, "oom_score_adj": None if self.server else 1000}
        binds = []
        for index, path in enumerate(environment_paths()):
            source = path
            if self.uid is not None and not _readable_by_others(path):
                source = str(self.folder / f"stage-{index}")
                config["stage"].append([path, source])
            binds += ["--ro-bind", source, path]
        files = []
        for index, (inside, host) in enumerate(sorted(self.files.items())):
            config["files"][f"f{index}"] = str(host)
            files += ["--file", f"{{fd:f{index}}}", f"{self.spec.home}/{inside}"]
        config_path = self.folder / "launcher.json"
        cmd = programs.command("launcher", config_path, "--", self.sandbox.bwrap,
                               "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-net", "--unshare-uts",
                               "--unshare-cgroup-try", "--disable-userns", "--die-with-parent", "--new-session",
                               "--uid", str(INNER_UID), "--gid", str(INNER_UID), "--hostname", "grader")
        for capability in self.capabilities:
            cmd += ["--cap-add", capability]
        program = self.memory_filter()
        if program is not None:
            (self.folder / "seccomp.bpf").write_bytes(program)
            config["files"]["seccomp"] = str(self.folder / "seccomp.bpf")
            cmd += ["--seccomp", "{fd:seccomp}"]
        cmd += _system_binds()
        # the private tmpfs mounts first, then the environment: a venv or interpreter under /tmp (a checkout in
        # /tmp) is bound on top of the private /tmp instead of being hidden by it
        cmd += self.spec.bwrap_args()
        cmd += binds
        cmd += files
        cmd += ["--bind", str(self.folder), str(self.folder), "--chdir", self.spec.home, "--clearenv"]
        for key, value in self.kernel_env().items():
            cmd += ["--setenv", key, value]
        cmd += self.spec.read_only_args()
        config_path.write_text(json.dumps(config))
        return cmd + ["--"] + list(kernel_argv)

    def stats(self):
        """(oom killed, peak MB, process limit hit) of the sandbox's cgroup since it was made."""
        return self.group.stats() if self.group else (False, None, False)

    def kill(self):
        if self.group is not None:
            self.group.kill()

    def cleanup(self):
        if self.group is not None:
            self.group.remove()
            self.group = None


class JobFolder:
    """The host folder of one kernel: its connection file, its unix sockets and its log.

    It is the only host path a kernel can write to, so as root it is a size-capped tmpfs of its own
    (:data:`~autograder.sandbox.spec.JOB_FOLDER_BYTES`, :data:`~autograder.sandbox.spec.JOB_FOLDER_INODES`
    files), mounted before the kernel starts and detached after it: what a kernel writes there never
    reaches the host's disk and is gone with the job. Without root it is a plain folder (each file capped by
    RLIMIT_FSIZE, not their number). The kernel's log is created and opened here before the kernel
    starts: the worker reads it through that descriptor, never by a path the kernel could replace.
    """

    def __init__(self, path, uid=None, root=False):
        self.path = Path(path)
        self.path.mkdir(mode=0o700)
        self.mounted = False
        if root:
            owner = f",uid={uid},gid={uid}" if uid is not None else ""
            linux.mount("tmpfs", str(self.path), "tmpfs", linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC,
                        f"size={JOB_FOLDER_BYTES},nr_inodes={JOB_FOLDER_INODES},mode=0700{owner}")
            self.mounted = True
        elif uid is not None:
            os.chown(self.path, uid, uid)
        self.log_path = self.path / "kernel.log"
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        if uid is not None:
            os.fchown(fd, uid, uid)
        self.log_writer = os.fdopen(fd, "wb")  # what a kernel started here writes to (a fork server opens it anew)
        self._log_reader = os.open(self.log_path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)

    def log_tail(self, limit=20_000):
        """The end of the kernel's log, read through the descriptor opened before the kernel started."""
        try:
            size = os.fstat(self._log_reader).st_size
            return os.pread(self._log_reader, limit, max(0, size - limit)).decode("utf-8", errors="replace")
        except OSError:
            return ""

    def close(self):
        for closing in (self.log_writer.close, lambda: os.close(self._log_reader)):
            try:
                closing()
            except OSError:
                pass
        if self.mounted:
            try:
                linux.umount(str(self.path))
            except OSError:
                pass
        shutil.rmtree(self.path, ignore_errors=True)  # fd-based: never follows a link the kernel left


def share_mounts_below(folder):
    """As root: make ``folder`` a shared mount, so that job folders mounted below it later appear inside a
    sandbox that bound it earlier (a fork server's). Returns a function that undoes it."""
    linux.mount(str(folder), str(folder), None, linux.MS_BIND)
    linux.mount(None, str(folder), None, linux.MS_SHARED)

    def undo():
        try:
            linux.umount(str(folder))
        except OSError:
            pass
    return undo


def _system_binds():
    """``/usr`` and the merged-/usr symlinks (or real folders), plus the few /etc files libraries read."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "lib", "lib64", "sbin", "lib32", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for name in ("/etc/ld.so.cache", "/etc/fonts", "/etc/localtime", "/etc/alternatives"):
        if os.path.exists(name):
            args += ["--ro-bind", name, name]
    return args


def _own_process_count():
    try:
        import psutil

        me = os.getuid()
        return sum(1 for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real == me)
    except Exception:  # noqa: BLE001 - psutil missing or a race: a generous guess
        return 512


def matplotlib_font_cache():
    """Matplotlib's font list, built once per matplotlib version in ``~/.cache/autograder``.

    Copied into every kernel's home (``--file``): without it each fresh kernel that imports
    matplotlib rebuilds it (1-3 s) and writes "Matplotlib is building the font cache" on stderr,
    which nbgrader scores as a failure in a test cell.
    """
    from importlib.metadata import version

    cache_root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "autograder"
    target = cache_root / f"matplotlib-{version('matplotlib')}"
    found = sorted(target.glob("fontlist-*.json"))
    if found:
        return found[-1]
    building = cache_root / f".matplotlib-{os.getpid()}"
    building.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], capture_output=True, timeout=300,
                   check=False, env={"MPLCONFIGDIR": str(building), "PATH": "/usr/bin:/bin", "HOME": str(building)})
    if not any(building.glob("fontlist-*.json")):
        shutil.rmtree(building, ignore_errors=True)
        return None
    shutil.rmtree(target, ignore_errors=True)
    os.replace(building, target)
    return sorted(target.glob("fontlist-*.json"))[-1]

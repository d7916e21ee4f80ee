"""The resource-limited, isolated kernel each submission runs in.

What a grading kernel gets (see ``kernel_exec.py`` for the steps inside the namespace):

- a fresh kernel per submission, working directory = a private copy of that submission;
- a scrubbed environment: ``PYTHONPATH`` names a folder holding only a copy of the ``solutions``
  package, ``HOME`` and ``TMPDIR`` are private, BLAS/OpenMP use one thread;
- rlimits: address space (``--memory-mb``), CPU seconds, number of processes, file size;
- when the grader runs as root: no network (``unshare --net``; the kernel talks to the grader
  over unix sockets), its own user id per worker slot (RLIMIT_NPROC then caps that kernel
  alone; root ignores it), and a private mount namespace hiding the repository, the gradebook
  folder and the submissions;
- as an ordinary user: rlimits always; no network through a user namespace
  (``unshare --user --map-root-user --net``) when the system allows it, otherwise network stays
  on, RLIMIT_NPROC counts all of the user's processes, and :func:`probe` says so in the summary.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

from autograder import paths

KERNEL_EXEC = Path(__file__).with_name("kernel_exec.py")
# Sandbox uids: one block of 64 per grader process (unique while it runs), one uid per slot.
UID_BASE, UID_BLOCK = 1_000_000, 64
# Threads count against RLIMIT_NPROC on Linux: an ipykernel uses ~10, torch a few more.
NPROC_LIMIT = 64
FSIZE_LIMIT = 256 * 2**20


@dataclass
class Isolation:
    """What this machine lets the grader do, found once per batch by :func:`probe`."""

    root: bool
    unshare: list = field(default_factory=list)  # command prefix, [] when unavailable
    mount_namespace: bool = False
    separate_uids: bool = False
    notes: list = field(default_factory=list)

    def describe(self):
        network = "off (unshare --net)" if self.unshare else "ON (unshare unavailable)"
        users = "one uid per worker slot" if self.separate_uids else "the grader's own uid"
        mounts = "course files hidden" if self.mount_namespace else "course files visible"
        return f"network {network}; kernels run as {users}; {mounts}"


def _runs(cmd, **kwargs):
    """(succeeded, last line of stderr) of a short command."""
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=30, **kwargs)
    except (OSError, subprocess.SubprocessError) as err:
        return False, str(err)
    lines = proc.stderr.decode(errors="replace").strip().splitlines()
    return proc.returncode == 0, lines[-1] if lines else f"exit status {proc.returncode}"


def probe(staging):
    """Find which isolation works here by starting the sandbox wrapper once (about 0.1 s)."""
    iso = Isolation(root=os.geteuid() == 0)
    unshare = shutil.which("unshare")
    if iso.root and unshare and _runs([unshare, "--mount", "--net", "true"])[0]:
        iso.unshare = [unshare, "--mount", "--net", "--propagation", "private"]
        iso.mount_namespace = True
    elif unshare and _runs([unshare, "--user", "--map-root-user", "--net", "true"])[0]:
        iso.unshare = [unshare, "--user", "--map-root-user", "--net"]
        iso.notes.append("not root: kernels keep the grader's uid (RLIMIT_NPROC counts all its processes)")
    else:
        iso.notes.append("unshare --net is not permitted here: kernels can reach the network")
    if iso.root:
        # Check the whole chain once: namespace, exposed interpreter, uid drop, exec of python.
        slot_dir = Path(staging) / "probe"
        slot_dir.mkdir(parents=True, exist_ok=True)
        uid = sandbox_uid(UID_BLOCK - 1)
        config = _wrapper_config(iso, slot_dir, uid, memory_mb=2048, cpu_seconds=30, hide=[])
        config_path = slot_dir / "sandbox.json"
        config_path.write_text(json.dumps(config))
        os.chown(slot_dir, uid, uid)
        cmd = iso.unshare + [sys.executable, str(KERNEL_EXEC), str(config_path), "--",
                             sys.executable, "-c", "import os; assert os.getuid() != 0"]
        ok, reason = _runs(cmd, cwd=slot_dir, env=kernel_env(slot_dir))
        if ok:
            iso.separate_uids = True
        else:
            iso.notes.append(f"kernels run as root: the sandbox uid could not start Python ({reason})")
            iso.mount_namespace = False
            if iso.unshare:
                iso.unshare = [iso.unshare[0], "--net"]
        kill_uid(uid)
        shutil.rmtree(slot_dir, ignore_errors=True)
    return iso


def sandbox_uid(slot, grader_pid=None):
    """The uid of a worker slot of the grader process ``grader_pid`` (default: this process)."""
    return UID_BASE + (grader_pid or os.getpid()) * UID_BLOCK + slot


def kill_uid(uid, rounds=200, reap=False):
    """SIGKILL every process of ``uid`` (a fork bomb included) and reap what we can.

    As that uid, ``kill(-1)`` reaches all its processes at once. Killed processes stay zombies,
    still counted by RLIMIT_NPROC, until their parent reaps them: grading workers are child
    subreapers (:func:`become_subreaper`), so the orphans of a dead kernel are their children
    and are reaped here (``reap=True``, workers only: reaping in the grading parent would steal
    the exit status of its pool workers), and the next kernel of the slot starts with its full
    process budget.
    """
    if os.geteuid() != 0 or uid is None:
        return
    for _ in range(rounds):
        live = _pids_of_uid(uid)
        if live:
            pid = os.fork()
            if pid == 0:  # child: become the uid, kill everything it owns but ourselves
                try:
                    os.setresgid(uid, uid, uid)
                    os.setresuid(uid, uid, uid)
                    os.kill(-1, signal.SIGKILL)
                finally:
                    os._exit(0)
            os.waitpid(pid, 0)
        if reap:
            reap_children()
        if not live and (not reap or not _pids_of_uid(uid, zombies=True)):
            return
        time.sleep(0.01)


def reap_children():
    """Collect every exited child (and adopted orphan) without blocking."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def become_subreaper():
    """Adopt the orphans of our descendants (Linux PR_SET_CHILD_SUBREAPER), to reap them."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _pids_of_uid(uid, zombies=False):
    """Processes owned by ``uid``: live ones, or zombies too."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid != uid:
                    continue
                with open(f"/proc/{entry.name}/stat", "rb") as fh:
                    state = fh.read().rsplit(b")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if zombies or state not in (b"Z", b"X"):
                found.append(int(entry.name))
    return found


def kill_stale_sandboxes():
    """Kill sandbox processes left by a grader that was SIGKILLed (their grader pid is gone)."""
    if os.geteuid() != 0:
        return 0
    stale = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            uid = entry.stat().st_uid
        except OSError:
            continue
        if uid >= UID_BASE and (uid - UID_BASE) // UID_BLOCK != os.getpid():
            grader_pid = (uid - UID_BASE) // UID_BLOCK
            if not Path(f"/proc/{grader_pid}").exists():
                stale.add(uid)
    for uid in stale:
        kill_uid(uid)
    return len(stale)


def kernel_env(kernel_dir, pylib=None):
    """The whole environment of a grading kernel: nothing inherited from the grader."""
    home = Path(kernel_dir) / "home"
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "TMPDIR": str(home / "tmp"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(home / ".matplotlib"),
        "IPYTHONDIR": str(home / ".ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NBGRADER_EXECUTION": "autograde",
    }
    if pylib is not None:
        env["PYTHONPATH"] = str(pylib)
    return env


def _wrapper_config(iso, kernel_dir, uid, memory_mb, cpu_seconds, hide):
    limits = {
        "AS": int(memory_mb) * 2**20,
        "CPU": int(cpu_seconds),
        "FSIZE": FSIZE_LIMIT,
        "CORE": 0,
    }
    if uid is not None:
        limits["NPROC"] = NPROC_LIMIT
    elif not iso.root:  # best effort: the limit counts every process of this user
        limits["NPROC"] = _user_process_count() + NPROC_LIMIT
    return {
        "mount_namespace": iso.mount_namespace,
        "uid": uid,
        "gid": uid,
        "limits": limits,
        "expose": [os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix),
                   str(Path(kernel_dir).parent)],
        "staging": str(kernel_dir),
        "chown": [str(Path(kernel_dir) / "kernel.json")],
        "hide": [str(p) for p in hide],
    }


def _user_process_count():
    return len(_pids_of_uid(os.geteuid()))


def default_hidden_paths(extra=()):
    """What a kernel must not see: the repository (except its virtualenv) and ``extra`` paths."""
    keep = {os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix)}
    hidden = []
    for entry in sorted(paths.REPO.iterdir()):
        real = os.path.realpath(entry)
        if entry.is_dir() and not any(k == real or k.startswith(real + os.sep) for k in keep):
            hidden.append(real)
    hidden += [os.path.realpath(p) for p in extra if p and os.path.exists(p)]
    return hidden


class SandboxKernelManager(AsyncKernelManager):
    """An ipykernel started through ``kernel_exec.py`` with the wrapper config of its job."""

    sandbox_prefix: list = []

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        return list(self.sandbox_prefix) + cmd


@dataclass
class KernelSlot:
    """The files of one kernel: private folder, connection file, unix sockets, log, config."""

    root: Path
    uid: int | None

    @property
    def work(self):
        return self.root / "work"

    @property
    def log(self):
        return self.root / "kernel.log"


def prepare_slot(staging, job_name, uid):
    """A private folder (mode 700, owned by the sandbox uid) for one kernel."""
    root = Path(staging) / job_name
    shutil.rmtree(root, ignore_errors=True)
    for sub in ("work", "home/tmp", "home/.ipython"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    mpl = Path(staging) / "matplotlib"
    if mpl.is_dir():
        shutil.copytree(mpl, root / "home" / ".matplotlib")
    else:
        (root / "home" / ".matplotlib").mkdir()
    os.chmod(root, 0o700)
    return KernelSlot(root=root, uid=uid)


def chown_tree(path, uid):
    if uid is None:
        return
    for dirpath, dirnames, filenames in os.walk(path):
        os.chown(dirpath, uid, uid)
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), uid, uid, follow_symlinks=False)


def make_kernel_manager(iso, slot, memory_mb, cpu_seconds, hide):
    """A kernel manager whose kernel starts inside the sandbox described by ``iso``."""
    uid = slot.uid if iso.separate_uids else None
    config = _wrapper_config(iso, slot.root, uid, memory_mb, cpu_seconds, hide)
    config_path = slot.root / "sandbox.json"
    config_path.write_text(json.dumps(config))
    km = SandboxKernelManager(
        kernel_name="python3",
        transport="ipc",
        ip=str(slot.root / "ipc"),
        connection_file=str(slot.root / "kernel.json"),
    )
    km.sandbox_prefix = list(iso.unshare) + [sys.executable, str(KERNEL_EXEC), str(config_path), "--"]
    return km


def matplotlib_cache(dest):
    """Matplotlib's font cache in ``dest``, for :func:`prepare_slot` to copy into every kernel's home.

    Without it every fresh kernel that imports matplotlib rebuilds the cache (seconds) and logs
    "Matplotlib is building the font cache" on stderr, and nbgrader scores a test cell with
    stderr output 0. The cache is built once per matplotlib version into the grader's user cache
    (``$XDG_CACHE_HOME/autograder``, default ``~/.cache/autograder``) and copied from there, so a
    batch does not pay the ~1 s of building it; a failure there falls back to building in ``dest``.
    """
    dest = Path(dest)
    try:
        from importlib.metadata import version

        cache_root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "autograder"
        cached = cache_root / f"matplotlib-{version('matplotlib')}"
        if not any(cached.glob("fontlist-*.json")):
            building = cache_root / f".matplotlib-{os.getpid()}"
            _build_matplotlib_cache(building)
            if not any(building.glob("fontlist-*.json")):
                raise OSError("matplotlib wrote no font cache")
            shutil.rmtree(cached, ignore_errors=True)
            os.replace(building, cached)
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(cached, dest)
    except Exception:  # noqa: BLE001 - unwritable home, missing matplotlib: build in place
        shutil.rmtree(dest, ignore_errors=True)
        _build_matplotlib_cache(dest)
    return dest


def _build_matplotlib_cache(dest):
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    env = {**kernel_env(dest), "MPLCONFIGDIR": str(dest)}
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env, capture_output=True,
                   timeout=300, check=False)


def copy_solutions(dest):
    """``dest/solutions``: the reference package alone, for the kernels' PYTHONPATH."""
    dest = Path(dest)
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(paths.SOLUTIONS, dest / "solutions",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for dirpath, _dirnames, _filenames in os.walk(dest):
        os.chmod(dirpath, 0o755)
    return dest

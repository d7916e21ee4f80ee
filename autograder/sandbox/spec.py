"""One isolation spec: what a grading kernel sees and what it may use, declared once.

Both ways of starting a kernel render this spec: a fresh ``bwrap`` sandbox per kernel
(:meth:`IsolationSpec.bwrap_args`, :mod:`autograder.sandbox.bwrap`) and a kernel forked by the
slot's fork server, which builds the same view with mount calls (:meth:`IsolationSpec.fork_view`,
:mod:`autograder.sandbox.zygote`). The environment and the rlimits are the same in both.
"""

from dataclasses import dataclass, replace

HOME = "/home/student"
INNER_UID = 1000  # the kernel's uid inside its user namespace
# without a memory cgroup: the address space a kernel may map beyond --memory-mb and the course libraries' own
# (measured: a kernel after chapter 5's cells maps 0.7 GB more than its fork server, thread stacks and malloc
# arenas included); shared mappings count there, not in RLIMIT_DATA
THREAD_ALLOWANCE_MB = 768
JOB_FOLDER_BYTES = 8 * 2**20  # the job folder's tmpfs (as root): connection file, sockets, the kernel's log
JOB_FOLDER_INODES = 64


@dataclass(frozen=True)
class Tmpfs:
    """A private, size-capped tmpfs mounted for each kernel (gone with it)."""

    path: str
    mode: str


@dataclass(frozen=True)
class IsolationSpec:
    """The view and the limits of one kernel (the batch's :class:`~autograder.common.records.Limits`)."""

    memory_mb: int
    processes: int
    disk_mb: int
    cpu_seconds: int
    home: str = HOME
    tmpfs: tuple = (Tmpfs("/tmp", "1777"), Tmpfs("/dev/shm", "1777"), Tmpfs(HOME, "0700"))
    home_dirs: tuple = (".config/matplotlib", ".ipython")  # created in the home tmpfs

    @classmethod
    def of(cls, limits):
        return cls(memory_mb=limits.memory_mb, processes=limits.processes, disk_mb=limits.disk_mb,
                   cpu_seconds=limits.cpu_limit)

    def with_memory(self, memory_mb):
        return replace(self, memory_mb=memory_mb)

    @property
    def disk_bytes(self):
        return int(self.disk_mb) * 2**20

    def env(self, python_bin):
        """The kernel's whole environment (nothing of the grader's is inherited)."""
        return {
            "PATH": f"{python_bin}:/usr/local/bin:/usr/bin:/bin",
            "HOME": self.home, "USER": "student", "LOGNAME": "student", "TMPDIR": "/tmp",
            "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{self.home}/.config/matplotlib",
            "IPYTHONDIR": f"{self.home}/.ipython", "JUPYTER_PLATFORM_DIRS": "1",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "NBGRADER_EXECUTION": "autograde",
        }

    def rlimits(self, cgroup, processes=None, baseline_mb=None):
        """The kernel's rlimits. With a memory cgroup (``cgroup``), RLIMIT_AS only stops a single absurd
        allocation at once (MemoryError instead of the OOM killer); without one, RLIMIT_DATA is the
        memory limit, RLIMIT_AS (``baseline_mb``: the course libraries' address space, when known) bounds
        shared mappings, which RLIMIT_DATA does not count, and ``processes`` becomes RLIMIT_NPROC."""
        limits = {"CPU": int(self.cpu_seconds), "FSIZE": self.disk_bytes, "NOFILE": 1024, "CORE": 0}
        if cgroup:
            limits["AS"] = (int(self.memory_mb) + 4096) * 2**20
        else:
            limits["DATA"] = int(self.memory_mb) * 2**20
            if baseline_mb is not None:
                limits["AS"] = (int(self.memory_mb) + int(baseline_mb) + THREAD_ALLOWANCE_MB) * 2**20
            if processes is not None:
                limits["NPROC"] = processes
        return limits

    def bwrap_args(self):
        """The private mounts as bubblewrap arguments (before the binds of the environment)."""
        args = ["--proc", "/proc", "--dev", "/dev"]
        for mount in self.tmpfs:
            args += ["--perms", mount.mode, "--size", str(self.disk_bytes), "--tmpfs", mount.path]
        for folder in self.home_dirs:
            args += ["--dir", f"{self.home}/{folder}"]
        return args

    @staticmethod
    def read_only_args():
        """Last: the sandbox's own root and ``/dev`` read-only. Only the private tmpfs mounts (and the job's own
        size-capped folder) stay writable: nothing written outside them can outlive a kernel or reach the next
        one (a forked kernel inherits its fork server's root)."""
        return ["--remount-ro", "/dev", "--remount-ro", "/"]

    def fork_view(self):
        """The private mounts as data for the fork server, which mounts them in each kernel's namespace."""
        return {"home": self.home, "disk_bytes": self.disk_bytes,
                "tmpfs": [[mount.path, mount.mode] for mount in self.tmpfs], "home_dirs": list(self.home_dirs)}

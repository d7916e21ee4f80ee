"""The fork server of one worker slot: imports the course's libraries once, forks a fresh kernel per job.

Run inside a bubblewrap sandbox as a program (``python -I -c SOURCE CONFIG.json``, see
:mod:`autograder.sandbox.programs`: the repository is not mounted there) that is the kernels' sandbox
plus one capability, CAP_SYS_ADMIN in the sandbox's own user namespace, used only to build each
kernel's private namespaces. Importing numpy, torch, scikit-learn and matplotlib costs seconds of CPU
per process; a forked kernel finds them imported (copy-on-write memory, shared with nobody).

For every ``spawn`` request (a line of JSON on stdin) the server forks, and the child:

1. gets new mount, PID, IPC, network and UTS namespaces and the view of the isolation spec
   (:mod:`autograder.sandbox.spec`: empty size-capped tmpfs over ``/tmp``, ``/dev/shm`` and the home
   folder, so nothing of an earlier kernel survives), its own ``/proc``, no network, no System V
   objects of anyone else;
2. forks the namespace's init (PID 1, which reaps orphans and dies with the child), which forks
   the kernel (PID 2);
3. the kernel drops every capability (it stays the unprivileged sandbox user), forbids privilege
   gain, takes its rlimits, a fresh environment and fresh random seeds, and becomes an ipykernel
   with the job's connection file.

The server answers ``{"pid": ...}`` and later ``{"exit": status}`` (the kernel's exit status: its
code, or minus the signal that killed it), and kills a job on ``kill``. It never runs student code
itself, keeps no state of a job, and is not visible from any kernel (another PID namespace).
"""

import json
import os
import resource
import select
import signal
import sys

from autograder.sandbox.linux import (
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWPID,
    CLONE_NEWUTS,
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_REC,
    PR_SET_DUMPABLE,
    PR_SET_NO_NEW_PRIVS,
    PR_SET_PDEATHSIG,
    bind_read_only,
    drop_capabilities,
    install_seccomp,
    mount,
    prctl,
    unshare,
)


def _private_mounts(config, job_folder):
    """The kernel's view (:meth:`autograder.sandbox.spec.IsolationSpec.fork_view`) in new namespaces."""
    unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS)
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    keep = os.open(job_folder, os.O_PATH | os.O_DIRECTORY)  # the job's folder may lie below a new tmpfs
    parent = os.path.dirname(job_folder)  # read-only for the kernel: nothing in it outlives the job
    bind_read_only(parent, parent)
    view = config["view"]
    targets = [target for target, _mode in view["tmpfs"]]
    hidden = [(os.open(path, os.O_PATH | os.O_DIRECTORY), path) for path in config.get("environment", ())
              if any(path == t or path.startswith(t.rstrip("/") + "/") for t in targets)]
    for target, mode in view["tmpfs"]:
        mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, f"size={view['disk_bytes']},mode={mode}")
    for keep_env, path in hidden:  # the Python environment under /tmp (a checkout there): bound again, read-only
        os.makedirs(path, exist_ok=True)
        bind_read_only(f"/proc/self/fd/{keep_env}", path)
        os.close(keep_env)
    if not os.path.isdir(job_folder):  # covered by a new tmpfs: recreate its path (the sockets' path)
        os.makedirs(job_folder)
    mount(f"/proc/self/fd/{keep}", job_folder, None, MS_BIND)  # the job's own folder stays writable
    os.close(keep)
    for folder in view["home_dirs"]:
        os.makedirs(os.path.join(view["home"], folder), exist_ok=True)
    for inside, content in config.get("files", {}).items():  # e.g. matplotlib's font list
        os.makedirs(os.path.dirname(os.path.join(view["home"], inside)), exist_ok=True)
        with open(os.path.join(view["home"], inside), "w") as fh:
            fh.write(content)


def _init(kernel_pid):
    """PID 1 of the kernel's namespace: reap every orphan, exit with the kernel's status."""
    status = 1
    while True:
        try:
            pid, raw = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(status)
        if pid == kernel_pid:
            status = 128 + os.WTERMSIG(raw) if os.WIFSIGNALED(raw) else os.WEXITSTATUS(raw)
            # the namespace dies with its init: every process the kernel left is killed now
            os._exit(status)


def _kernel(job):
    """Become the kernel: limits, no capabilities, a fresh environment, then ipykernel."""
    for name, value in job["rlimits"].items():
        resource.setrlimit(getattr(resource, f"RLIMIT_{name}"), (value, value))
    # the job's log was created (and opened for reading) by the worker before the fork: opened, never created
    log = os.open(job["log"], os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW)
    os.dup2(log, 1)
    os.dup2(log, 2)
    devnull = os.open("/dev/null", os.O_RDONLY)
    os.dup2(devnull, 0)
    drop_capabilities()
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    if job.get("seccomp"):  # no memory cgroup: memfd_create refused (autograder.sandbox.seccomp)
        import base64

        install_seccomp(base64.b64decode(job["seccomp"]))
    prctl(PR_SET_DUMPABLE, 1)  # an ordinary process of its own namespace again
    try:  # the kernel goes first under memory pressure, never its fork server (raising it needs no privilege)
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write("1000")
    except OSError:
        pass
    os.environ.clear()
    os.environ.update(job["env"])
    os.chdir(job["env"]["HOME"])
    import random

    random.seed()
    if "numpy" in sys.modules:  # a fork shares its parent's random state: draw a new one, as a new process would
        sys.modules["numpy"].random.seed()
    sys.argv = ["ipykernel_launcher", "-f", job["connection_file"], "--HistoryManager.hist_file=:memory:"]
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(sys.argv[1:])
    app.start()
    os._exit(0)


def _wait_for_quiet(timeout=20.0):
    """Until the previous kernel's processes are all gone (killed ones count against the process limit
    until they are reaped): only this server and the sandbox's init remain in our PID namespace."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        others = [p for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, os.getpid())]
        if not others:
            return
        time.sleep(0.02)


def spawn(job, config):
    """Fork the job's process tree; returns (the pid of its first process, the descriptor that releases it).

    The child waits until the worker released it (after moving it into the job's control group, as root),
    so that everything the job starts is counted there."""
    _wait_for_quiet()
    release_r, release_w = os.pipe()
    pid = os.fork()
    if pid:
        os.close(release_r)
        return pid, release_w
    try:
        os.close(release_w)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.read(release_r, 1) != b"x":  # the server went away, or killed the job
            os._exit(97)
        os.close(release_r)
        _private_mounts(config, os.path.dirname(job["connection_file"]))
        init = os.fork()  # PID 1 of the new PID namespace
        if init == 0:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
            kernel = os.fork()
            if kernel == 0:
                prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
                try:
                    _kernel(job)
                except BaseException as err:  # noqa: BLE001 - setup failed: say so in the log, distinct status
                    os.write(2, f"autograder kernel setup failed: {err!r}\n".encode())
                    os._exit(97)
            _init(kernel)
        _, raw = os.waitpid(init, 0)
        os._exit(os.WEXITSTATUS(raw) if os.WIFEXITED(raw) else 128 + os.WTERMSIG(raw))
    except BaseException:  # noqa: BLE001
        import traceback

        os.write(2, ("autograder kernel setup failed:\n" + traceback.format_exc()).encode())
        os._exit(97)


def _reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def serve(config):
    """Answer spawn/kill requests on stdin until it closes; report each job's exit."""
    namespace = {}
    for line in config.get("preload", []):  # the course's imports, once
        exec(line, namespace)  # noqa: S102 - the course's own import lines (chapter setups), never student code
    del namespace
    prctl(PR_SET_DUMPABLE, 0)  # nothing of ours can be traced or read through /proc
    job_pid = release = None
    vmsize = next((int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmSize:")), 0)
    _reply({"ready": True, "threads": len(os.listdir("/proc/self/task")), "vmsize_kb": vmsize})
    while True:
        readable, _, _ = select.select([sys.stdin], [], [], 0.01 if job_pid is not None else 0.05)
        if job_pid is not None:
            pid, raw = os.waitpid(job_pid, os.WNOHANG)
            if pid:
                code = os.WEXITSTATUS(raw) if os.WIFEXITED(raw) else 128 + os.WTERMSIG(raw)
                _reply({"exit": -(code - 128) if code > 128 else code})
                job_pid = None
        if not readable:
            continue
        line = sys.stdin.readline()
        if not line:
            if job_pid is not None:
                os.kill(job_pid, signal.SIGKILL)
            return
        request = json.loads(line)
        if "spawn" in request:
            try:
                job_pid, release = spawn(request["spawn"], config)
            except OSError as err:  # e.g. EAGAIN while an earlier kernel's processes are still being reaped
                _reply({"error": str(err)})
                continue
            _reply({"pid": job_pid})
        elif "release" in request and release is not None:
            os.write(release, b"x")
            os.close(release)
            release = None
        elif "kill" in request and job_pid is not None:
            try:
                os.kill(job_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if release is not None:
                os.close(release)
                release = None


if __name__ == "__main__":
    with open(sys.argv[1]) as fh:
        serve(json.load(fh))

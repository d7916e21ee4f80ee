"""Put one grading kernel into its limits, then exec bubblewrap (which builds the sandbox around it).

Run as a program (standard library and :mod:`autograder.sandbox.linux` only, see
:mod:`autograder.sandbox.programs`): ``launcher CONFIG.json -- bwrap ARGS... -- KERNEL ARGS...``. In order:

1. join the kernel's control groups (memory, pids: root only), so that everything the kernel
   starts is counted and can be killed as one group;
2. when run as root: in a private mount namespace, bind read-only the folders the kernel needs
   whose ancestors an unprivileged user cannot traverse (the Python installation below /root) to
   stage folders bubblewrap can reach, then become the sandbox user (its own uid per worker slot);
3. set the rlimits (CPU time, file size, open files, no core dumps; and, without cgroups, data
   size and processes);
4. forbid privilege gain, die with the grader, and exec bubblewrap with the files it copies into
   the sandbox or reads (``{fd:NAME}`` in the arguments becomes an open file descriptor: ``--file``,
   ``--seccomp``); a kernel's OOM score is raised to 1000 first.

Any failure exits with status 97 and one line on stderr (the grader reports it as a grader error).
"""

import json
import os
import resource
import signal
import sys

from autograder.sandbox.linux import (
    CLONE_NEWNS,
    MS_REC,
    MS_SLAVE,
    PR_SET_NO_NEW_PRIVS,
    PR_SET_PDEATHSIG,
    bind_read_only,
    mount,
    prctl,
    unshare,
)

SETUP_FAILED = 97


def stage(pairs):
    """Bind each (private folder, stage folder) read-only in a mount namespace of our own: a slave of the
    host's, so that a job folder the worker mounts later below a fork server's folder still appears there."""
    unshare(CLONE_NEWNS)
    mount(None, "/", None, MS_REC | MS_SLAVE)
    for source, target in pairs:
        os.makedirs(target, exist_ok=True)
        bind_read_only(source, target)


def main(argv):
    config_path, separator, *command = argv
    if separator != "--" or not command:
        raise SystemExit("usage: launcher.py CONFIG -- BWRAP...")
    with open(config_path) as fh:
        config = json.load(fh)
    parent = os.getppid()
    for procs in config.get("cgroup_procs", []):
        with open(procs, "w") as fh:
            fh.write(str(os.getpid()))
    if config.get("stage"):
        stage(config["stage"])
    fds = {}
    for name, path in config.get("files", {}).items():  # opened before dropping privileges
        fds[name] = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        os.set_inheritable(fds[name], True)
    for name, value in config.get("rlimits", {}).items():
        resource.setrlimit(getattr(resource, f"RLIMIT_{name}"), (value, value))
    if config.get("oom_score_adj") is not None:  # a kernel goes first under memory pressure (raising is free)
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write(str(config["oom_score_adj"]))
    uid = config.get("uid")
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the grader died while we were starting
        os._exit(SETUP_FAILED)
    for name, fd in fds.items():
        command = [arg.replace(f"{{fd:{name}}}", str(fd)) for arg in command]
    os.execv(command[0], command)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except Exception as err:  # noqa: BLE001 - one line for the grader, then a distinctive status
        print(f"autograder sandbox setup failed: {err}", file=sys.stderr, flush=True)
        os._exit(SETUP_FAILED)

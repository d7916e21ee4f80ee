"""Start one grading kernel inside its sandbox, then become the kernel.

Run by path (``python kernel_exec.py CONFIG.json -- KERNEL_CMD...``), never imported by the
kernel: it uses the standard library only, so the kernel's ``sys.path`` needs nothing from
the repository. It runs as the first process of a fresh mount and network namespace when the
grader may create them (``unshare --mount --net``, root only) and then, in order:

1. makes the Python installation reachable for an unprivileged user (a tmpfs with a
   traversable mode over a private ancestor such as ``/root``, the interpreter bound back
   into it) and hides the course material (the repository except its virtual environment,
   the gradebook folder, the submissions) under empty read-only tmpfs mounts;
2. sets the resource limits (address space, CPU time, processes, file size, no core dumps);
3. drops to the sandbox user (its own uid per worker slot, so RLIMIT_NPROC counts only the
   kernel's own processes), forbids privilege gain (``PR_SET_NO_NEW_PRIVS``) and asks to be
   killed with its parent (``PR_SET_PDEATHSIG``);
4. ``execve``\\s the kernel command: same pid, so the grader sees the kernel's exit status.

Any failure before the exec exits with status 97 and a one-line reason on stderr.
"""

import ctypes
import json
import os
import resource
import signal
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV = 1, 2, 4
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
SETUP_FAILED = 97

_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source, target, fstype, flags, data=None):
    enc = [None if v is None else os.fsencode(v) for v in (source, target, fstype, data)]
    if _libc.mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {fstype or 'bind'} on {target}: {os.strerror(err)}")


def _umount(target):
    _libc.umount2(os.fsencode(target), MNT_DETACH)


def _traversable_by_others(path):
    return bool(os.stat(path).st_mode & 0o001)


def _first_private_ancestor(path):
    """Topmost ancestor of ``path`` (itself included) that other users cannot traverse."""
    parts = os.path.realpath(path).split(os.sep)[1:]
    current = "/"
    for part in parts:
        current = os.path.join(current, part)
        if not _traversable_by_others(current):
            return current
    return None


def expose(paths, staging):
    """Make each path of ``paths`` reachable by any user without exposing its private ancestors."""
    by_ancestor = {}
    for path in paths:
        path = os.path.realpath(path)
        ancestor = _first_private_ancestor(os.path.dirname(path))
        if ancestor is not None:
            by_ancestor.setdefault(ancestor, []).append(path)
    for n, (ancestor, inner) in enumerate(sorted(by_ancestor.items())):
        staged = []
        for k, path in enumerate(inner):
            stage = os.path.join(staging, f"expose-{n}-{k}")
            os.makedirs(stage, exist_ok=True)
            _mount(path, stage, None, MS_BIND | MS_REC)
            staged.append((stage, path))
        _mount("tmpfs", ancestor, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755")
        for stage, path in staged:
            os.makedirs(path, exist_ok=True)
            _mount(stage, path, None, MS_BIND | MS_REC)
            _umount(stage)


def hide(paths):
    """Cover each existing path with an empty read-only mount (a tmpfs for folders, /dev/null for files)."""
    for path in paths:
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=0555")
        elif os.path.isfile(path):
            _mount("/dev/null", path, None, MS_BIND)


def set_limits(limits):
    for name, value in limits.items():
        resource.setrlimit(getattr(resource, f"RLIMIT_{name}"), (value, value))


def drop_privileges(uid, gid):
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)


def main(argv):
    config_path, separator, *command = argv
    if separator != "--" or not command:
        raise SystemExit("usage: kernel_exec.py CONFIG -- KERNEL_CMD...")
    with open(config_path) as fh:
        config = json.load(fh)
    parent = os.getppid()
    if config.get("mount_namespace"):
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
        if config.get("uid") is not None:
            expose(config.get("expose", []), config["staging"])
        hide(config.get("hide", []))
    set_limits(config.get("limits", {}))
    if config.get("uid") is not None:
        for path in config.get("chown", []):  # e.g. the connection file, written 0600 by the grader
            if os.path.exists(path):
                os.chown(path, config["uid"], config["gid"])
        drop_privileges(config["uid"], config["gid"])
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the grader died while we were starting
        os._exit(SETUP_FAILED)
    os.execve(command[0], command, os.environ)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except Exception as err:  # noqa: BLE001 - one line for the grader, then a distinctive status
        print(f"autograder sandbox setup failed: {err}", file=sys.stderr, flush=True)
        os._exit(SETUP_FAILED)

"""The Linux calls the sandbox programs make: mounts, namespaces, capabilities, process controls.

Standard library only: :mod:`autograder.sandbox.launcher` and :mod:`autograder.sandbox.zygote` run
as programs where nothing of the repository is mounted, and :mod:`autograder.sandbox.programs`
hands them this module's source.
"""

import ctypes
import os

CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWIPC = 0x00020000, 0x20000000, 0x08000000
CLONE_NEWNET, CLONE_NEWUTS = 0x40000000, 0x04000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_REC, MS_PRIVATE, MS_SLAVE, MS_SHARED = 4096, 16384, 1 << 18, 1 << 19, 1 << 20
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP = 1, 4, 38, 22
SECCOMP_MODE_FILTER = 2

libc = ctypes.CDLL(None, use_errno=True)


def check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(source, target, fstype=None, flags=0, data=None):
    check(libc.mount(os.fsencode(source) if source else None, os.fsencode(target),
                     fstype.encode() if fstype else None, ctypes.c_ulong(flags), data.encode() if data else None),
          f"mount {source} on {target}")


def bind_read_only(source, target):
    """``target`` shows ``source``, read-only, without devices or set-uid programs."""
    mount(source, target, None, MS_BIND | MS_REC)
    mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def umount(target, flags=MNT_DETACH):
    check(libc.umount2(os.fsencode(target), ctypes.c_int(flags)), f"umount {target}")


def mounts_below(folder):
    """Mount points strictly below ``folder`` in this mount namespace, deepest first."""
    import re

    prefix = os.path.realpath(folder).rstrip("/") + "/"
    points = set()
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as fh:
        for line in fh:
            fields = line.split()
            if len(fields) > 4:  # the mount point, with space, tab, newline and backslash escaped in octal
                point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
                if point.startswith(prefix):
                    points.add(point)
    return sorted(points, key=len, reverse=True)


def detach_below(folder):
    """Detach every mount below ``folder`` (a worker killed with its fork servers leaves their shared binds
    and job folders mounted; removing the folder cannot remove a mount point)."""
    for point in mounts_below(folder):
        try:
            umount(point)
        except OSError:
            pass


def unshare(flags):
    check(libc.unshare(flags), "unshare")


def prctl(option, value):
    libc.prctl(option, value, 0, 0, 0)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_capabilities():
    """No capability left in any set (version 3 capset: two 32-bit words)."""
    header = _CapHeader(0x20080522, 0)
    data = (_CapData * 2)()
    check(libc.capset(ctypes.byref(header), ctypes.byref(data)), "capset")


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install_seccomp(program):
    """Load a compiled seccomp BPF program (bytes, 8 per instruction) for this process (after no_new_privs)."""
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    check(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "seccomp")

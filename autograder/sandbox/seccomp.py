"""The one system call a kernel without a memory cgroup may not make: ``memfd_create``.

Without root there is no memory cgroup: RLIMIT_DATA bounds private memory and RLIMIT_AS every mapping
(shared ones included), but a memory file written with ``write(2)`` and never mapped is in neither; each
is capped by RLIMIT_FSIZE, not their number. So such a kernel gets a seccomp filter (built by libseccomp
through ``pyseccomp``) under which ``memfd_create`` fails with EPERM. Files in ``/dev/shm`` and ``/tmp``
are bounded by their tmpfs sizes. No course library needs memfd_create (the pre-flight proves it for the
batch). As root the memory cgroup counts all of it and no filter is installed.
"""

import errno
import functools
import tempfile


@functools.cache
def memory_filter():
    """The compiled BPF program (bytes): everything allowed but ``memfd_create`` (EPERM)."""
    import pyseccomp

    rules = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    rules.add_rule(pyseccomp.ERRNO(errno.EPERM), "memfd_create")
    with tempfile.TemporaryFile() as fh:
        rules.export_bpf(fh)
        fh.seek(0)
        return fh.read()

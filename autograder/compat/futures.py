"""Override of a private part of the standard library's ``concurrent.futures`` (Python 3.11).

``ProcessPoolExecutor`` has no public way to kill its worker processes: ``shutdown`` waits for the
running tasks (a notebook can run for minutes). :func:`kill_workers` kills the processes of its
private ``_processes`` map (pid -> ``multiprocessing.Process``) so that an interrupted or broken
batch stops at once.
"""

import sys

from autograder.compat import UnsupportedVersion

PINNED = (3, 11)
if sys.version_info[:2] != PINNED:
    raise UnsupportedVersion(f"Python {sys.version_info[0]}.{sys.version_info[1]} is running; "
                             f"autograder/compat/futures.py was written for {PINNED[0]}.{PINNED[1]}")


def kill_workers(executor):
    """SIGKILL every worker process of ``executor`` (a ProcessPoolExecutor)."""
    for proc in list((getattr(executor, "_processes", None) or {}).values()):
        try:
            proc.kill()
        except (OSError, AttributeError):
            pass

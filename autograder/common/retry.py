"""The grader's one retry policy: how often, and how long apart, something that may work later is tried.

Used where a failure is nobody's fault and usually passes: a kernel that could not start while a
classmate's fork bomb held every process (:data:`KERNEL_START`), a worker process lost mid-job
(:data:`WORKER_LOST`), a fork refused while the previous kernel is being reaped
(:data:`FORK`), a control group still busy while its last process exits (:data:`CGROUP_REMOVE`).
The scheduler asks :meth:`Retry.delay` and :meth:`Retry.exhausted` (it defers jobs instead of
sleeping); blocking callers use :meth:`Retry.call`.
"""

import time
from dataclasses import dataclass


class GaveUp(Exception):
    """Every attempt failed; ``__cause__`` is the last failure."""


@dataclass(frozen=True)
class Retry:
    """At most ``attempts`` tries in all, or until ``within`` seconds have passed (when given).

    The wait before try ``n + 1`` is ``wait * n`` when ``linear``, else ``wait``.
    """

    attempts: int
    wait: float = 0.0
    linear: bool = False
    within: float | None = None

    def delay(self, failures):
        """Seconds to wait after the ``failures``-th failure."""
        return self.wait * failures if self.linear else self.wait

    def exhausted(self, failures, started=None):
        """True when no try is left after ``failures`` failures (and, with ``within``, since ``started``)."""
        if failures >= self.attempts:
            return True
        return self.within is not None and started is not None and time.monotonic() - started > self.within

    def call(self, attempt, retry_on=(OSError,)):
        """``attempt()`` until it returns without raising ``retry_on``; :class:`GaveUp` when none is left."""
        started, failures = time.monotonic(), 0
        while True:
            try:
                return attempt()
            except retry_on as err:
                failures += 1
                if self.exhausted(failures, started):
                    raise GaveUp(str(err)) from err
            time.sleep(self.delay(failures))


# a kernel that failed before any student code ran: 3 tries, 2 s then 4 s apart
KERNEL_START = Retry(attempts=3, wait=2.0, linear=True)
# a worker process that died during a job (the job is resubmitted at once): 3 runs in all
WORKER_LOST = Retry(attempts=3)
# a fork the fork server refused while the previous kernel's processes are reaped
FORK = Retry(attempts=10**6, wait=0.25, within=30.0)
# removing a control group whose last process is still exiting
CGROUP_REMOVE = Retry(attempts=50, wait=0.02)

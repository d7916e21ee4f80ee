"""A wall-clock deadline for work done in the grading parent's main thread (judging one submission).

:func:`deadline` arms ``SIGALRM``: when the time is up, :class:`DeadlineExceeded` is raised wherever the
main thread is (between two Python bytecodes: a single numpy call finishes first, which is why the
work it guards is also bounded in size). It derives from ``BaseException`` so that no ``except
Exception`` of the code it interrupts can swallow it. Outside the main thread it does nothing (the
caller's own limits apply there).
"""

import signal
import threading
from contextlib import contextmanager


class DeadlineExceeded(BaseException):
    """The work did not finish within its deadline."""


@contextmanager
def deadline(seconds):
    """Raise :class:`DeadlineExceeded` in this block after ``seconds`` (no nesting: the inner one wins)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(_signum, _frame):
        raise DeadlineExceeded(f"more than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

"""A wall-clock deadline for bounded work in any thread (judging one submission, rendering its page).

:func:`deadline` raises :class:`DeadlineExceeded` in the guarded block when the time is up, wherever the block's
thread is (between two Python bytecodes: a single numpy call finishes first, which is why the work it guards is
also bounded in size). In the main thread it arms ``SIGALRM``; in any other thread (a Dask worker runs its tasks
in threads) a :class:`threading.Timer` sends the exception to the guarded thread with CPython's
``PyThreadState_SetAsyncExc``, under a lock and a flag so that it can never arrive after the block ended. (The
libraries that do this, ``stopit`` and ``func-timeout``, are unmaintained since 2018 and 2019: the thirty lines
below are easier to keep.) It derives from ``BaseException`` so that no ``except Exception`` of the code it
interrupts can swallow it.
"""

import ctypes
import signal
import threading
from contextlib import contextmanager


class DeadlineExceeded(BaseException):
    """The work did not finish within its deadline."""


@contextmanager
def deadline(seconds):
    """Raise :class:`DeadlineExceeded` in this block after ``seconds`` (no nesting: the inner one wins)."""
    if not seconds:
        yield
        return
    if threading.current_thread() is not threading.main_thread():
        with _thread_deadline(seconds):
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


_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)
_set_async_exc.restype = ctypes.c_int


@contextmanager
def _thread_deadline(seconds):
    """:func:`deadline` outside the main thread: the exception is sent to this thread by a timer thread."""
    target = threading.get_ident()
    lock = threading.Lock()
    state = {"open": True, "sent": False}

    def expired():
        with lock:
            if state["open"]:  # the block has not ended: it is still the one interrupted
                state["sent"] = True
                _set_async_exc(target, ctypes.py_object(DeadlineExceeded))

    timer = threading.Timer(seconds, expired)
    timer.daemon = True
    try:
        timer.start()
        yield
    finally:
        with lock:
            state["open"] = False
            timer.cancel()
            if state["sent"]:  # sent but perhaps not yet raised: cleared, it must not reach the code after the block
                _set_async_exc(target, ctypes.py_object())

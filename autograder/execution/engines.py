"""Where jobs run: a pool of local worker processes, or a Dask cluster (``--scheduler``).

Both run the grading parent's task function (:func:`autograder.grading.verdicts.grade_task`: a job in
a sandboxed kernel through :func:`execute_task`, then judged and rendered on the worker) and return its
typed record; the worker process is as trusted as the parent (the kernel is not: it is a fresh process in
bubblewrap), the parent checks each result's shape and is the only writer of the gradebook. An engine's
:meth:`wait` returns the finished futures; a future's ``result()`` raises :class:`WorkerLost` when
the process that ran it died (the parent runs the task again, see :mod:`autograder.common.retry`)
and :class:`EngineGone` when the cluster itself went away.
"""

import concurrent.futures as cf
import multiprocessing as mp
import os
import signal
import time

from autograder.compat import futures as futures_compat

LOST_AFTER = 20.0  # seconds without the scheduler before a batch gives up (what was recorded is kept)


class WorkerLost(Exception):
    """The worker process running a task died; the task may be run again."""


class EngineGone(Exception):
    """The engine cannot run anything any more (the scheduler went away)."""


def execute_task(job, master, limits, sandboxed):
    from autograder.execution import worker

    return worker.run_job(job, master, limits, sandboxed=sandboxed, slot=_SLOT.get("slot"))



_SLOT = {}


def _init_local_worker(slots, grader_pid):
    """Pool initializer: the parent handles Ctrl-C; take a slot; die with the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    _SLOT["slot"] = slots.get()
    if os.getppid() != grader_pid:
        os._exit(1)


class LocalEngine:
    """``workers`` forked processes (they start in milliseconds with the grading libraries imported)."""

    name = "local"

    def __init__(self, workers):
        self.workers = workers
        self.executor = None
        self.start()

    def describe(self):
        return f"{self.workers} local worker(s)"

    def start(self):
        ctx = mp.get_context("fork")
        slots = ctx.Queue()
        for slot in range(self.workers):
            slots.put(slot)
        self.executor = cf.ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_init_local_worker,
                                               initargs=(slots, os.getpid()))

    def share(self, value):
        """A value every task of the batch receives (the local pool pickles it per task: it is small)."""
        return value

    def submit(self, fn, *args):
        try:
            return self.executor.submit(fn, *args)
        except cf.process.BrokenProcessPool:
            self.restart()
            return self.executor.submit(fn, *args)

    def wait(self, futures, timeout=1.0):
        done, _ = cf.wait(futures, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return done

    def result(self, future):
        try:
            return future.result()
        except cf.process.BrokenProcessPool as err:
            raise WorkerLost(str(err) or "a worker process died") from None

    def restart(self):
        self.kill()
        self.start()

    def abandon(self, future):
        """A task ran past its deadline: its worker is lost. The pool cannot kill one process of its own, so
        the caller restarts the whole pool (:meth:`restart`) and runs every task of it again."""
        future.cancel()

    def kill(self):
        if self.executor is None:
            return
        futures_compat.kill_workers(self.executor)
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = None

    def close(self):
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None


class DaskEngine:
    """A ``dask.distributed`` cluster: the instructor starts ``dask scheduler`` and ``dask worker`` s."""

    name = "dask"

    def __init__(self, address, timeout=10, security=None):
        from distributed import Client

        self.address = address
        try:
            self.client = Client(address, timeout=timeout, security=security, set_as_default=False)
        except (OSError, TimeoutError) as err:
            raise EngineGone(f"cannot reach the Dask scheduler at {address}: {str(err).splitlines()[0][:160]}") \
                from None
        self.started = time.monotonic()
        self.unreachable_since = None

    def share(self, value):
        """Send ``value`` (an assignment's master: plans, probe) to every worker once, not with each task."""
        try:
            return self.client.scatter(value, broadcast=True)
        except Exception as err:  # noqa: BLE001
            raise EngineGone(f"the Dask scheduler {self.address} went away ({type(err).__name__})") from None

    def describe(self):
        try:
            workers = self.client.scheduler_info().get("workers", {})
            threads = sum(w.get("nthreads", 1) for w in workers.values())
            return f"Dask scheduler {self.address}: {len(workers)} worker(s), {threads} thread(s)"
        except Exception:  # noqa: BLE001
            return f"Dask scheduler {self.address}"

    @property
    def workers(self):
        try:
            return max(1, sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values()))
        except Exception:  # noqa: BLE001
            return 1

    def submit(self, fn, *args):
        # pure=False: a resubmitted job runs again. retries=0: Dask does not rerun a task whose worker died
        # (result() raises WorkerLost); the grading parent resubmits it, counting its attempts
        try:
            return self.client.submit(fn, *args, pure=False, retries=0)
        except Exception as err:  # noqa: BLE001 - a closed client
            raise EngineGone(f"the Dask scheduler {self.address} went away ({type(err).__name__})") from None

    def wait(self, futures, timeout=1.0):
        if self.client.status != "running":  # reconnecting: give the scheduler a grace period
            self.unreachable_since = self.unreachable_since or time.monotonic()
            if self.client.status not in ("connecting",) or time.monotonic() - self.unreachable_since > LOST_AFTER:
                raise EngineGone(f"the Dask scheduler {self.address} went away")
        else:
            self.unreachable_since = None
        deadline = time.monotonic() + timeout
        while True:  # futures report their state themselves: no default client is needed
            done = {f for f in futures if f.done()}
            if done or time.monotonic() >= deadline:
                return done
            time.sleep(0.02)

    def abandon(self, future):
        """A task ran past its deadline: cancel it and restart the worker running it (its nanny starts a
        fresh process, so a thread stuck in the task does not outlive it). Best effort: a worker without a
        nanny keeps its stuck thread, and the task runs again elsewhere all the same."""
        try:
            running = [address for address, keys in self.client.processing().items() if future.key in keys]
            future.cancel()
            if running:
                self.client.restart_workers(running, timeout=60, raise_for_error=False)
        except Exception:  # noqa: BLE001 - the scheduler may be going away: wait() reports that
            pass

    def result(self, future):
        from distributed import KilledWorker

        try:
            return future.result(timeout=60)
        except KilledWorker as err:
            raise WorkerLost(f"the task killed {err.args[-1] if err.args else 'its'} worker(s)") from None
        except Exception as err:
            if future.status in ("cancelled", "lost") or self.client.status not in ("running", "connecting"):
                raise EngineGone(f"the Dask scheduler {self.address} went away ({type(err).__name__})") from None
            raise

    def kill(self):
        self.close()

    def close(self):
        try:
            self.client.close(timeout=5)
        except Exception:  # noqa: BLE001
            pass

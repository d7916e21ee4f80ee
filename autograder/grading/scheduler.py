"""The batch loop: jobs to workers, their verdicts checked here, results into the gradebook.

A submission is one task on a worker and one step here, each a typed record:

1. :func:`~autograder.grading.verdicts.grade_task` (:class:`RunTask`): on a worker, its notebook runs in a
   sandboxed kernel (a :class:`~autograder.common.records.KernelRun`), the worker decides the
   :class:`~autograder.common.records.Outcome` with :func:`autograder.grading.decide.decide` (decode, judge,
   diagnose, nbgrader's scores, leak check) and renders the feedback page, and returns a
   :class:`~autograder.common.records.GradedRun` (facts, verdict, judged notebook, page; never the raw records);
2. :meth:`Grader._verdict`: this process checks its shape (:func:`~autograder.grading.verdicts.checked`: a
   malformed result is the submission's grader error), then :meth:`Grader._record` writes the page and the
   graded notebook and queues the gradebook entry; :meth:`Grader._flush` writes the queued entries in one
   transaction every :data:`FLUSH_RESULTS` results or :data:`FLUSH_SECONDS` seconds and at the end (Ctrl-C
   included), whole submissions only (Ctrl-C waits for the end of a flush). A SIGKILL loses the unflushed
   entries: the next run grades those submissions again.

A kernel that could not start, and a worker process that died, are tried again under the policies
of :mod:`autograder.common.retry` (a lost worker runs the whole task again); a task that raised becomes the
submission's grader error. Runs the worker did not judge (the last failed start, the last lost worker, a
task that raised) are decided here, with the same :func:`~autograder.grading.decide.decide`.

One submission can never stop the batch: everything this process does for it (check, record) runs inside
one boundary (:meth:`Grader._guarded`), where any exception becomes that submission's ``grader_error`` (its
traceback in grader.log) and the batch goes on. Judging that raised on the worker is recorded exactly as
if it had raised here: a submission whose own records made judging fail twice in a row on the same file is
listed for review and not graded again until it changes (:data:`JUDGING_FAILED`). Every task has a
wall-clock deadline here (:meth:`Grader._deadline`): past it, its worker is treated as lost and replaced
(:meth:`~autograder.execution.engines.LocalEngine.abandon`).
"""

import signal
import time
import traceback
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass

from nbformat import NotebookNode

from autograder.common.records import Job, KernelRun, Outcome, Status
from autograder.common.retry import KERNEL_START, WORKER_LOST
from autograder.common.words import N_
from autograder.execution import engines
from autograder.grading import feedback, gradebook, judging, verdicts
from autograder.grading.decide import decide
from autograder.grading.outputs import write_outputs
from autograder.grading.pages import status_page

# the gradebook is written in transactions of many results: one commit per FLUSH_RESULTS results, or sooner
# when the oldest queued result waited FLUSH_SECONDS (what a SIGKILL can cost: those are graded again)
FLUSH_RESULTS = 50
FLUSH_SECONDS = 1.0
IN_FLIGHT_PER_WORKER = 2  # notebooks queued per worker: one running, one ready to start
# beyond --notebook-timeout, judging and rendering, what one task may take on its worker: a fork server's start
# (its imports, up to 120 s on a busy machine), the kernel's start and teardown, preparing the notebook
TASK_MARGIN = 180.0
# the detail of a grader error raised while judging a submission's own records (on a worker); the second one
# in a row on the same file lists it for review instead of grading it again at every run
JUDGING_FAILED = N_("grader error while judging this submission's records")
REVIEW_JUDGING = N_("judging failed twice on this file: not graded again until the file changes")


@dataclass(frozen=True)
class Queued:
    """A submission whose page and notebook are written, waiting for its gradebook entry (:meth:`Grader._flush`).

    ``failure``: the entry is itself the grader error of a submission whose handling failed; if it cannot be
    recorded either, that is logged and the batch goes on."""

    job: Job
    outcome: Outcome
    judged: NotebookNode | None
    run: KernelRun
    review: tuple
    seconds: float  # writing the page and the notebook
    failure: bool = False


@dataclass(frozen=True)
class RunTask:
    """A submission on a worker: run in a sandboxed kernel, judged, rendered; its result is a GradedRun."""

    job: Job

    def failed(self, err):
        """The KernelRun of a task that raised: a grader error, never the student's fault (decided here)."""
        text = "".join(traceback.format_exception(err))[-3000:]
        return KernelRun(self.job.student_id, self.job.assignment_id, grader_error=text)


class Interrupts:
    """Ctrl-C / SIGTERM: raised at once, except inside :meth:`critical` (one result being recorded)."""

    def __init__(self):
        self.depth, self.pending, self.previous = 0, False, {}

    def handler(self, signum, frame):
        if self.depth:
            self.pending = True
        else:
            raise KeyboardInterrupt

    def install(self):
        for signum in (signal.SIGINT, signal.SIGTERM):
            self.previous[signum] = signal.signal(signum, self.handler)

    def ignore(self):
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)

    def restore(self):
        for signum, previous in self.previous.items():
            signal.signal(signum, previous)

    @contextmanager
    def critical(self):
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
            if not self.depth and self.pending:
                self.pending = False
                raise KeyboardInterrupt


class Grader:
    """Feeds jobs to an engine, checks the verdicts that come back, records outcomes.

    ``batch`` is a prepared :class:`~autograder.grading.batch.Batch`; ``engine`` a local pool or a
    Dask cluster (:mod:`autograder.execution.engines`); ``on_outcome`` is called with each recorded
    :class:`~autograder.common.records.Outcome` (the progress bar and the summary's counts).
    """

    def __init__(self, batch, engine, sandboxed, on_outcome=None):
        self.batch, self.engine, self.sandboxed = batch, engine, sandboxed
        self.on_outcome = on_outcome or (lambda outcome: None)
        self.attempts = Counter()  # job key -> failed tries (kernel not started, worker lost)
        self.deferred = []  # (monotonic time, job): kernels that did not start, to be tried again
        self.tasks = {}  # future -> RunTask
        self.deadlines = {}  # future -> monotonic time after which its worker counts as lost
        self.shared = {aid: engine.share(m) for aid, m in batch.masters.items()}
        self.judging = {aid: engine.share(verdicts.judging_of(batch, aid)) for aid in batch.masters}
        self.queued = []  # Queued: recorded on disk, not yet in the gradebook
        self.queued_since = None  # monotonic time of the oldest queued entry

    def run(self, jobs):
        """Grade ``jobs`` to the end: each is run, judged, rendered (on a worker) and recorded exactly once.

        At most :data:`IN_FLIGHT_PER_WORKER` notebooks per worker are queued at a time. Returns when every
        job is recorded; raises KeyboardInterrupt (never in the middle of a record) and
        :class:`~autograder.execution.engines.EngineGone` (what was recorded is kept).
        """
        try:
            self._run(list(jobs))
        finally:
            self._flush()  # at the end, on Ctrl-C and when the cluster went away: nothing graded is dropped

    def _run(self, queue):
        limit = max(2, IN_FLIGHT_PER_WORKER * getattr(self.engine, "workers", 2))
        while queue or self.tasks or self.deferred:
            self._flush_when_due()
            now = time.monotonic()
            queue += [job for when, job in self.deferred if when <= now]
            self.deferred = [(when, job) for when, job in self.deferred if when > now]
            while queue and sum(isinstance(t, RunTask) for t in self.tasks.values()) < limit:
                self._submit_run(queue.pop(0))
            if not self.tasks:  # only deferred jobs: wait for the first to be due
                time.sleep(0.05)
                continue
            for future in self.engine.wait(set(self.tasks)):
                task = self.tasks.pop(future)
                self.deadlines.pop(future, None)
                try:
                    result = self.engine.result(future)
                except engines.WorkerLost as lost:
                    self._lost(task, lost, queue)
                    continue
                except engines.EngineGone:
                    raise
                except Exception as err:  # noqa: BLE001 - a task raised: a grader error, never the student's
                    self._guarded(task.job, lambda t=task, e=err: self._judge(t.job, t.failed(e)))
                    continue
                self._guarded(task.job, lambda t=task, r=result: self._ran(t.job, r))
            self._expire(queue)

    # -- tasks on the workers ------------------------------------------------------------------
    def _deadline(self, task):
        """Seconds from submission after which ``task``'s worker is lost: its own time limits (the notebook's,
        judging's per test, rendering's) plus :data:`TASK_MARGIN`, for itself and for the tasks that may be
        queued ahead of it on its worker."""
        limits = self.batch.limits
        tests = len(self.batch.masters[task.job.assignment_id].tests)
        one = limits.notebook_timeout + judging.JUDGE_SECONDS * tests + limits.render_seconds + TASK_MARGIN
        return (IN_FLIGHT_PER_WORKER + 1) * one

    def _track(self, future, task):
        self.tasks[future] = task
        self.deadlines[future] = time.monotonic() + self._deadline(task)

    def _submit_run(self, job):
        aid = job.assignment_id
        mst = self.shared.get(aid) or self.batch.masters[aid]
        future = self.engine.submit(verdicts.grade_task, job, mst, self.judging[aid], self.batch.limits,
                                    self.sandboxed)
        self._track(future, RunTask(job))

    def _expire(self, queue):
        """Tasks past their deadline: their workers are lost (replaced by the engine), the tasks run again."""
        now = time.monotonic()
        for future in [f for f, when in self.deadlines.items() if when <= now and f in self.tasks]:
            if future not in self.tasks:  # lost with an earlier one of this round (a restarted local pool)
                continue
            task = self.tasks.pop(future)
            self.deadlines.pop(future, None)
            seconds = self._deadline(task)
            print(f"deadline: {task.job.student_id}/{task.job.assignment_id} ran past {seconds:g} s on its "
                  "worker; the worker is replaced and the task runs again", file=self.batch.log)
            self.engine.abandon(future)
            self._lost(task, engines.WorkerLost(f"no result within {seconds:g} s"), queue)

    def _lost(self, task, lost, queue):
        """A worker process died under ``task``: run it again, up to :data:`WORKER_LOST`'s attempts."""
        job = task.job
        if isinstance(self.engine, engines.LocalEngine):
            # every task of the broken pool is lost with it: restart and resubmit them
            others = list(self.tasks.values())
            self.tasks.clear()
            self.deadlines.clear()
            self.engine.restart()
            for other in others:
                queue.insert(0, other.job)
        self.attempts[job.key] += 1
        if WORKER_LOST.exhausted(self.attempts[job.key]):
            run = KernelRun(job.student_id, job.assignment_id, grader_error=f"the worker process was lost "
                            f"{WORKER_LOST.attempts} times on this submission ({lost})")
            self._guarded(job, lambda: self._judge(job, run))
        else:
            queue.insert(0, job)

    # -- the parent's part of one submission -----------------------------------------------------
    def _guarded(self, job, step):
        """Run ``step`` (this process's work on ``job``); any exception becomes the submission's grader error,
        recorded with its traceback in grader.log, and the batch goes on."""
        try:
            step()
        except (KeyboardInterrupt, engines.EngineGone):
            raise
        except BaseException as err:  # noqa: BLE001 - the boundary of one submission: nothing escapes it
            self._failed(job, err)

    def _failed(self, job, err, where="grading parent"):
        """Record ``job`` as a grader error caused while handling its results (here, or judging on ``where``:
        ``err`` is then the traceback's text the worker sent)."""
        text = err if isinstance(err, str) else "".join(traceback.format_exception(err))[-6000:]
        print(f"grader error on {job.student_id}/{job.assignment_id} ({where}):\n{text}", file=self.batch.log)
        try:
            self.batch.gb.db.rollback()  # a half-written submission of the gradebook is not kept
        except Exception:  # noqa: BLE001
            pass
        last = (text.strip().splitlines() or ["unknown"])[-1][:200]
        detail = N_(f"{JUDGING_FAILED} (not the student's fault; see the log): {last}")
        previous = getattr(self.batch, "journal", {}).get(job.key)
        if previous is not None and previous.status == Status.GRADER_ERROR.value and \
                previous.submission_sha == job.submission_sha and previous.detail.startswith(JUDGING_FAILED):
            self.batch.review[job.key] = [*self.batch.review.get(job.key, ()), REVIEW_JUDGING]
            detail += f"; {REVIEW_JUDGING}"
        mst = self.batch.masters[job.assignment_id]
        outcome = Outcome(job.student_id, job.assignment_id, Status.GRADER_ERROR, detail,
                          {t.grade_id: (0.0, t.points) for t in mst.tests})
        run = KernelRun(job.student_id, job.assignment_id, grader_error=text)
        try:
            self._record(job, outcome, None, run, page=None, failure=True)
        except (KeyboardInterrupt, engines.EngineGone):
            raise
        except BaseException as again:  # noqa: BLE001 - even the record failed: logged, the batch goes on
            self._unrecorded(job, outcome, again)

    def _unrecorded(self, job, outcome, err):
        print(f"could not record the grader error of {job.student_id}/{job.assignment_id}: {err!r}",
              file=self.batch.log)
        try:
            self.batch.gb.db.rollback()
        except Exception:  # noqa: BLE001
            pass
        self.on_outcome(outcome)

    def _ran(self, job, result):
        """A worker's result for ``job``: checked for shape, then tried again, recorded, or decided here."""
        try:
            graded, judged = verdicts.checked(result, job, self.batch.masters[job.assignment_id])
        except verdicts.Malformed as err:
            why = N_(f"the worker's result was malformed: {err}")
            self._judge(job, KernelRun(job.student_id, job.assignment_id, grader_error=why))
            return
        if not self._retry_start(job, graded.run):
            self._verdict(job, graded, judged)

    def _verdict(self, job, graded, judged):
        """Record the verdict the worker reached (a run it did not judge is decided here)."""
        run = graded.run
        if graded.judging_failed:
            self._failed(job, graded.judging_failed, where=f"judging on {run.worker or 'a worker'}")
            return
        if graded.outcome is None:
            self._judge(job, run)
            return
        if run.grader_error:
            print(f"grader error on {job.student_id}/{job.assignment_id} ({run.worker}):\n{run.grader_error}",
                  file=self.batch.log)
        outcome = verdicts.with_render_error(graded.outcome, graded.render_error)
        self._record(job, outcome, judged, run, graded.page, notebook_text=graded.notebook_json)

    def _retry_start(self, job, run):
        """Defer a job whose kernel failed before any student code ran (e.g. without root, another
        kernel's fork bomb holds every process the shared uid may have): it is no one's fault, and
        a later try usually starts. The last attempt's failure is judged as a grader error."""
        if not (run.grader_error and run.died_at == -1):
            return False
        self.attempts[job.key] += 1
        if KERNEL_START.exhausted(self.attempts[job.key]):
            return False
        print(f"retrying {job.student_id}/{job.assignment_id}: {run.grader_error}", file=self.batch.log)
        self.deferred.append((time.monotonic() + KERNEL_START.delay(self.attempts[job.key]), job))
        return True

    def _judge(self, job, run):
        """Decide here the outcome of a run no worker judged (a grader error: nothing to judge or render)."""
        if run.grader_error:
            print(f"grader error on {job.student_id}/{job.assignment_id} ({run.worker}):\n{run.grader_error}",
                  file=self.batch.log)
        started = time.monotonic()
        outcome, judged = decide(self.batch, job, run)
        run.timings["judge"] = time.monotonic() - started
        if judged is not None:  # a run with a notebook is the worker's to judge, never this process's
            raise RuntimeError(f"a run with a notebook reached the parent unjudged ({outcome.status.value})")
        self._record(job, outcome, None, run, page=None)

    def _record(self, job, outcome, judged, run, page, failure=False, notebook_text=None):
        """Write one submission's page and notebook (``notebook_text``: its file as the worker wrote it), and
        queue its gradebook entry (:meth:`_flush`)."""
        mst = self.batch.masters[job.assignment_id]
        with self.batch.interrupts.critical():
            started = time.monotonic()
            page = page or status_page(outcome, mst.max_score, feedback.translator(run.language, job.assignment_id))
            write_outputs(self.batch, job, outcome, judged, page, run.timings, run.language, notebook_text)
            self.queued.append(Queued(job, outcome, judged, run, tuple(self.batch.review.get(job.key, ())),
                                      time.monotonic() - started, failure))
            self.queued_since = self.queued_since or time.monotonic()
        if len(self.queued) >= FLUSH_RESULTS:
            self._flush()

    def _flush_when_due(self):
        if self.queued and time.monotonic() - self.queued_since >= FLUSH_SECONDS:
            self._flush()

    def _flush(self):
        """The queued gradebook entries in one transaction, whole, even on Ctrl-C. If it fails, each entry is
        recorded on its own, so that only the submission that cannot be recorded becomes a grader error."""
        while self.queued:  # a submission that could not be recorded queues its grader error: recorded next
            with self.batch.interrupts.critical():
                queued, self.queued, self.queued_since = self.queued, [], None
                started = time.monotonic()
                try:
                    with gradebook.one_transaction(self.batch.gb):
                        for entry in queued:
                            self._write(entry)
                except Exception:  # noqa: BLE001 - one entry broke the transaction: find it, keep the others
                    for entry in queued:
                        self._guarded(entry.job, lambda e=entry: self._write_alone(e))
                    continue
                share = (time.monotonic() - started) / len(queued)
                for entry in queued:
                    self._done(entry, share)

    def _write(self, entry):
        gradebook.record(self.batch.gb, entry.job, entry.outcome, entry.judged, entry.run.timings.get("total"),
                         entry.run.worker, review=entry.review)

    def _write_alone(self, entry):
        started = time.monotonic()
        try:
            self._write(entry)
        except Exception as err:
            if not entry.failure:
                raise  # the boundary records this submission's grader error
            self._unrecorded(entry.job, entry.outcome, err)
            return
        self._done(entry, time.monotonic() - started)

    def _done(self, entry, seconds):
        timings = entry.run.timings
        timings["record"] = entry.seconds + seconds
        for phase, value in timings.items():
            self.batch.phases[phase] = self.batch.phases.get(phase, 0.0) + value
        self.on_outcome(entry.outcome)

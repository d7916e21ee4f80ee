"""Grade a class: sandboxed kernels on local workers or a Dask cluster, verdicts and gradebook here.

``python -m autograder grade SUBMISSIONS [--out DIR] [--workers N | --scheduler tcp://HOST:8786]
[--cell-timeout S] [--notebook-timeout S] [--memory-mb M] [--db-url URL] [--source DIR]
[--book-url URL] [--no-sandbox]``

For each submission a worker runs the notebook in a sandboxed kernel and returns what the kernel
recorded; this process judges those records against the reference (nothing the student's code can
touch), writes the gradebook (the only writer; one complete result per transaction, so a killed
batch rerun grades only what is missing) and the feedback. Before the first student, a pre-flight
grades each chapter's reference answers under the same limits and sandbox; if one loses a mark the
batch does not start. Exit status: 0 when the batch completed (broken submissions are listed),
2 on bad usage or an unusable setup (one line), 3 when the cluster went away mid-batch (what was
recorded is kept: rerun to resume), 130 when interrupted.
"""
# ruff: noqa: I001 (autograder.lean is imported before the third-party packages on purpose)

import argparse
import faulthandler
import html
import os
import signal
import sys
import time
import traceback
import warnings
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from autograder import lean  # noqa: F401 - first: it must act before nbformat is imported
import nbformat
from nbgrader import utils as nbutils
from tqdm import tqdm

from autograder.grading import classify
from autograder.execution import engines
from autograder.grading import feedback
from autograder.grading import gradebook
from autograder.grading import judging
from autograder.grading import master
from coursebook import paths
from autograder.grading import preflight
from autograder.sandbox import bwrap as sandbox
from autograder.execution import submissions
from autograder.common.records import Job, Limits, Outcome, Status
from autograder.execution.submissions import UsageError
from solutions import chapters as course

tqdm.monitor_interval = 0  # no monitor thread in the parent: pool workers are forked from it
MAX_ATTEMPTS = 3  # a job whose worker process died, or whose kernel did not start, is run this many times in all
RETRY_DELAY = 2.0  # seconds before a kernel that did not start is tried again (times the attempt)
IN_FLIGHT_PER_WORKER = 2


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def _positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _memory(text):
    value = int(text)
    if value < 256:
        raise argparse.ArgumentTypeError(f"at least 256 MB are needed to start a kernel, got {text}")
    return value


def default_workers():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def add_arguments(parser):
    parser.add_argument("submissions", help="folder or .zip: <student_id>/<assignment_id>/<assignment_id>.ipynb")
    parser.add_argument("--out", default="grading", help="output folder (default: grading/)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, default=None,
                       help="parallel kernels on this machine (default: number of CPUs)")
    where.add_argument("--scheduler", default=None,
                       help="grade on a Dask cluster: tcp://HOST:8786 or tls://HOST:8786")
    parser.add_argument("--tls-ca-file", help="CA certificate of the cluster (tls://)")
    parser.add_argument("--tls-cert", help="client certificate (tls://)")
    parser.add_argument("--tls-key", help="client key (tls://)")
    parser.add_argument("--cell-timeout", type=_positive_float, default=120.0,
                        help="seconds of wall time per cell before it is interrupted (default: 120)")
    parser.add_argument("--notebook-timeout", type=_positive_float, default=600.0,
                        help="seconds of wall time per notebook, whatever its cell count (default: 600)")
    parser.add_argument("--memory-mb", type=_memory, default=2048,
                        help="memory of each kernel in MB (a memory cgroup as root, else RLIMIT_DATA; default 2048)")
    parser.add_argument("--db-url", default=None,
                        help="gradebook URL (default: sqlite in --out; e.g. postgresql://user@host/db)")
    parser.add_argument("--source", default=str(paths.SOURCE),
                        help="nbgrader source folder of the course (default: exercises/source)")
    parser.add_argument("--book-url", default="",
                        help="base URL of the published book, for the links of diagnoses in the feedback")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run kernels without bubblewrap (no isolation: only for a trusted class)")


def limits_of(args):
    return Limits(cell_timeout=args.cell_timeout, notebook_timeout=args.notebook_timeout, memory_mb=args.memory_mb)


class Batch:
    """Everything a run needs, prepared before the first kernel starts."""

    def __init__(self, args):
        self.args = args
        self.out = Path(args.out).resolve()
        self.source = Path(args.source).resolve()
        self.limits = limits_of(args)
        self.gb = None
        self.staging = None

    def prepare(self):
        import tempfile

        args = self.args
        target = Path(args.submissions)
        if not target.exists():
            raise UsageError(f"no such file or directory: {target}")
        try:
            declared = {c.id: c for c in course.all_chapters()}
        except Exception as err:  # noqa: BLE001 - a broken declaration: the course's fault, said in one line
            raise UsageError(f"the chapter declarations cannot be loaded ({type(err).__name__}: "
                             f"{str(err).splitlines()[0][:160]})") from None
        known = [c for c in declared if (self.source / c / f"{c}.ipynb").is_file()]
        if not known:
            raise UsageError(f"no chapter of the course in {self.source}")
        if target.is_file():
            if not target.name.lower().endswith(".zip"):
                raise UsageError(f"not a folder or a .zip: {target}")
            self.staging = Path(tempfile.mkdtemp(prefix="autograder-zip-"))
            root = submissions.extract_zip(target, self.staging)
        else:
            root = target
        grade_ids = {c: [t.grade_id for t in declared[c].tests] for c in known}
        self.subs = submissions.discover(root, known, grade_ids)
        if not self.subs:
            raise UsageError(f"no submissions found in {target} (expected <student_id>/<assignment_id>/...)")
        self.out.mkdir(parents=True, exist_ok=True)
        self.db_url = gradebook.normalize_db_url(args.db_url or gradebook.default_db_url(self.out))
        self.config = gradebook.course_config(self.source)
        try:
            self.gb = gradebook.open_gradebook(self.db_url, self.config)
        except Exception as err:  # noqa: BLE001 - SQLAlchemy raises many kinds
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise UsageError(f"cannot open the gradebook {gradebook.safe_url(self.db_url)}: {reason}") from None
        self.chapters, self.masters, self.secrets = {}, {}, {}
        for aid in sorted({s.assignment_id for s in self.subs}):
            path = self.source / aid / f"{aid}.ipynb"
            try:
                sha = gradebook.register_assignment(self.gb, self.db_url, self.config, aid, path)
            except Exception as err:  # noqa: BLE001 - nbgrader refuses a changed assignment with grades
                raise UsageError(f"{aid}: {str(err).splitlines()[0][:200]} (grade into a new --out)") from None
            self.chapters[aid] = declared[aid]
            self.masters[aid] = master.build(declared[aid], path, sha)
            self.secrets[aid] = preflight.secret_lines(declared[aid], path, self.config)
        journal = gradebook.recorded(self.gb)
        self.todo, self.skipped, self.review = [], [], {}
        for sub in self.subs:
            job = job_for(sub)
            if sub.review:
                self.review[sub.key] = list(sub.review)
            row = journal.get(sub.key)
            if row is not None and row.status != Status.GRADER_ERROR and row.submission_sha == job.submission_sha \
                    and row.source_sha == self.masters[sub.assignment_id].source_sha:
                self.skipped.append(sub.key)
            elif row is not None and row.timestamp and sub.timestamp_text and row.timestamp > sub.timestamp_text:
                self.skipped.append(sub.key)  # an older copy: the graded, later submission stays
            else:
                self.todo.append(job)

    def close(self):
        import shutil

        if self.gb is not None:
            self.gb.close()
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)


def job_for(sub):
    invalid = sub.invalid
    data = None
    if not invalid and sub.notebook is not None:
        try:
            data = sub.read()
        except OSError as err:
            invalid = f"the notebook cannot be read ({err.strerror or err})"
    return Job(student_id=sub.student_id, assignment_id=sub.assignment_id, notebook=data,
               notebook_name=sub.notebook.name if sub.notebook else "", submission_sha=sub.sha256(),
               timestamp_text=sub.timestamp_text, notes=tuple(sub.notes), invalid=invalid)


def make_engine(args):
    if args.scheduler:
        security = None
        if args.scheduler.startswith("tls://"):
            from distributed.security import Security

            security = Security(tls_ca_file=args.tls_ca_file, tls_client_cert=args.tls_cert,
                                tls_client_key=args.tls_key, require_encryption=True)
        return engines.DaskEngine(args.scheduler, security=security)
    return engines.LocalEngine(args.workers or default_workers())


# -- the parent's part of one submission ----------------------------------------------------------
def decide(batch, job, run):
    """Judge a worker's :class:`KernelRun`: (Outcome, judged notebook or None)."""
    chapter, mst = batch.chapters[job.assignment_id], batch.masters[job.assignment_id]
    status, detail = classify.classify(run, batch.limits)
    judged, mistakes = None, ()
    scores = {t.grade_id: (0.0, t.points) for t in mst.tests}
    if run.notebook is not None and status is not Status.GRADER_ERROR:
        verdicts = judging.judge(run, chapter)
        judged = judging.apply(run.notebook, verdicts, chapter, batch.args.book_url)
        for cell in judged.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in scores and nbutils.is_grade(cell):
                score, points = nbutils.determine_grade(cell)
                scores[grade_id] = (float(score or 0.0), float(points))
        mistakes = tuple(dict.fromkeys([m.id for v in verdicts.values() for m in v.diagnosis]
                                       + [judging.UNANSWERED_PREFIX + chapter.test(g).answer
                                          for g, v in verdicts.items() if v.unanswered]))
        leaked = feedback.leaks(judged, batch.secrets[job.assignment_id] - _student_lines(judged))
        if leaked:
            status, judged, mistakes = Status.GRADER_ERROR, None, ()
            detail = f"grader error: the feedback would show reference text ({leaked[0][:60]!r}); withheld"
            scores = {t.grade_id: (0.0, t.points) for t in mst.tests}
    outcome = Outcome(job.student_id, job.assignment_id, status, detail, scores, mistakes, repaired=bool(run.repairs),
                      forked=run.forked)
    return outcome, judged


def _student_lines(nb):
    lines = set()
    for cell in nb.cells:
        if not nbutils.is_locked(cell):
            lines |= {line.strip() for line in cell.source.splitlines()}
    return lines


def status_page(outcome, max_score):
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(outcome.assignment_id)}"
            f"</title></head><body><h1>{html.escape(outcome.assignment_id)} (Score: 0 / {max_score:g})</h1>"
            f"<p>Your submission could not be graded: <b>{html.escape(outcome.status.value)}</b></p>"
            f"<p>{html.escape(outcome.detail)}</p></body></html>")


def write_outputs(out, outcome, judged, page, timings=None):
    """Feedback HTML and the autograded notebook of one outcome (atomic writes)."""
    sid, aid = outcome.student_id, outcome.assignment_id

    def put(path, text):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)

    if submissions.id_problem(sid):  # not a usable folder name either
        return
    put(out / "feedback" / sid / aid / f"{aid}.html", page)
    if judged is not None:
        judged.metadata["autograder"] = {"status": outcome.status.value, "detail": outcome.detail[:2000],
                                         "seconds": {k: round(v, 4) for k, v in (timings or {}).items()}}
        put(out / "autograded" / sid / aid / f"{aid}.ipynb", nbformat.writes(judged))


# -- the batch loop -----------------------------------------------------------------------------
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
    """Feeds jobs to an engine, judges what comes back, renders feedback, records outcomes."""

    def __init__(self, batch, engine, sandboxed, on_outcome=None):
        self.batch, self.engine, self.sandboxed = batch, engine, sandboxed
        self.on_outcome = on_outcome or (lambda outcome: None)
        self.attempts = Counter()
        self.deferred = []  # (monotonic time, job): kernels that did not start, to be tried again
        self.futures = {}  # future -> ("run", job) or ("render", (job, outcome, judged, run))
        self.shared = {aid: engine.share(m) for aid, m in batch.masters.items()}

    def _submit_run(self, job):
        mst = self.shared.get(job.assignment_id) or self.batch.masters[job.assignment_id]
        future = self.engine.submit(engines.execute_task, job, mst, self.batch.limits, self.sandboxed)
        self.futures[future] = ("run", job)

    def run(self, jobs):
        queue = list(jobs)
        limit = max(2, IN_FLIGHT_PER_WORKER * getattr(self.engine, "workers", 2))
        while queue or self.futures or self.deferred:
            now = time.monotonic()
            queue += [job for when, job in self.deferred if when <= now]
            self.deferred = [(when, job) for when, job in self.deferred if when > now]
            while queue and sum(1 for k, _ in self.futures.values() if k == "run") < limit:
                self._submit_run(queue.pop(0))
            if not self.futures:  # only deferred jobs: wait for the first to be due
                time.sleep(0.05)
                continue
            for future in self.engine.wait(set(self.futures)):
                kind, payload = self.futures.pop(future)
                try:
                    value = self.engine.result(future)
                except engines.WorkerLost as lost:
                    self._lost(kind, payload, lost, queue)
                    continue
                except engines.EngineGone:
                    raise
                except Exception as err:  # noqa: BLE001 - a task raised: a grader error, never the student's
                    value = err
                if kind == "run" and self._retry_start(payload, value):
                    continue
                if kind == "run":
                    self._judged(payload, value)
                else:
                    self._finish(*payload, page=value)

    def _retry_start(self, job, run):
        """Defer a job whose kernel failed before any student code ran (e.g. without root, another
        kernel's fork bomb holds every process the shared uid may have): it is no one's fault, and
        a later try usually starts. The last attempt's failure is judged as a grader error."""
        if not (getattr(run, "grader_error", "") and getattr(run, "died_at", None) == -1):
            return False
        self.attempts[job.key] += 1
        if self.attempts[job.key] >= MAX_ATTEMPTS:
            return False
        print(f"retrying {job.student_id}/{job.assignment_id}: {run.grader_error}", file=self.batch.log)
        self.deferred.append((time.monotonic() + RETRY_DELAY * self.attempts[job.key], job))
        return True

    def _lost(self, kind, payload, lost, queue):
        job = payload if kind == "run" else payload[0]
        if isinstance(self.engine, engines.LocalEngine):
            # every task of the broken pool is lost with it: restart and resubmit them
            resubmit = [(k, p) for k, p in self.futures.values()]
            self.futures.clear()
            self.engine.restart()
            for k, p in resubmit:
                if k == "run":
                    queue.insert(0, p)
                else:
                    self._render(*p)
        self.attempts[job.key] += 1
        if self.attempts[job.key] >= MAX_ATTEMPTS:
            from autograder.common.records import KernelRun

            run = KernelRun(job.student_id, job.assignment_id,
                            grader_error=f"the worker process died {MAX_ATTEMPTS} times on this submission ({lost})")
            self._judged(job, run)
        elif kind == "run":
            queue.insert(0, job)
        else:
            self._render(*payload)

    def _judged(self, job, run):
        if isinstance(run, BaseException):
            from autograder.common.records import KernelRun

            text = "".join(traceback.format_exception(run))[-3000:]
            run = KernelRun(job.student_id, job.assignment_id, grader_error=text)
        if run.grader_error:
            print(f"grader error on {job.student_id}/{job.assignment_id} ({run.worker}):\n{run.grader_error}",
                  file=self.batch.log)
        started = time.monotonic()
        outcome, judged = decide(self.batch, job, run)
        run.timings["judge"] = time.monotonic() - started
        if judged is None:
            self._finish(job, outcome, None, run, page=None)
        else:
            self._render(job, outcome, judged, run)

    def _render(self, job, outcome, judged, run):
        mst = self.batch.masters[job.assignment_id]
        future = self.engine.submit(engines.render_task, nbformat.writes(judged), job.assignment_id,
                                    dict(outcome.scores), mst.max_score, outcome.status.value, outcome.detail,
                                    self.batch.limits.render_seconds)
        self.futures[future] = ("render", (job, outcome, judged, run))

    def _finish(self, job, outcome, judged, run, page):
        mst = self.batch.masters[job.assignment_id]
        if isinstance(page, tuple):
            page, run.timings["render"] = page
        if isinstance(page, BaseException):
            outcome = Outcome(outcome.student_id, outcome.assignment_id, outcome.status,
                              "; ".join(filter(None, [outcome.detail, f"feedback could not be rendered "
                                                      f"({type(page).__name__}: {str(page)[:120]})"])),
                              outcome.scores, outcome.mistakes, outcome.repaired, outcome.forked)
            page = None
        with self.batch.interrupts.critical():
            started = time.monotonic()
            write_outputs(self.batch.out, outcome, judged, page or status_page(outcome, mst.max_score), run.timings)
            gradebook.record(self.batch.gb, job, outcome, judged, run.timings.get("total"), run.worker,
                             review=self.batch.review.get(job.key, ()))
            run.timings["record"] = time.monotonic() - started
            for phase, seconds in run.timings.items():
                self.batch.phases[phase] = self.batch.phases.get(phase, 0.0) + seconds
            self.on_outcome(outcome)


def remove_stale():
    """Folders and control groups of graders and workers that were killed (SIGKILL leaves them behind)."""
    import re
    import shutil
    import tempfile

    from autograder.sandbox import cgroups

    for folder in Path(tempfile.gettempdir()).glob("autograder-*"):
        match = re.match(r"autograder-(?:w|gb)?(\d+)-", folder.name)
        try:
            mine = folder.is_dir() and folder.stat().st_uid == os.geteuid()
        except OSError:
            continue
        if mine and match and not Path(f"/proc/{match.group(1)}").exists():
            shutil.rmtree(folder, ignore_errors=True)
    cgroups.remove_stale()


@contextmanager
def batch_staging():
    """A folder for this batch's workers (kernel folders, worker gradebooks), removed at the end."""
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix=f"autograder-{os.getpid()}-")
    os.chmod(folder, 0o711)  # sandbox users traverse to their own kernel folder only
    previous = os.environ.get("AUTOGRADER_STAGING")
    os.environ["AUTOGRADER_STAGING"] = folder  # inherited by the forked workers
    os.environ["AUTOGRADER_BATCH"] = str(os.getpid())  # their sandbox uids and control groups name this batch
    try:
        yield folder
    finally:
        if previous is None:
            os.environ.pop("AUTOGRADER_STAGING", None)
        else:
            os.environ["AUTOGRADER_STAGING"] = previous
        shutil.rmtree(folder, ignore_errors=True)
        from autograder.sandbox import cgroups

        cgroups.remove_batch(os.getpid())


def run(args):
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 <pid>`: where is it stuck?
    # the reference runs here on small inputs: one thread each (torch's default pool only contends with kernels)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    warnings.filterwarnings("ignore", message=r"Object of type <\w+> not in session")
    remove_stale()
    with batch_staging():
        return _run(args)


def _run(args):
    batch = Batch(args)
    engine = None
    try:
        try:
            batch.prepare()
            box = sandbox.probe(f"{os.getpid()}-p", enabled=not args.no_sandbox) if not args.scheduler else None
            engine = make_engine(args)
        except (UsageError, sandbox.SandboxUnavailable, engines.EngineGone) as err:
            print(f"autograder grade: error: {err}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("autograder grade: interrupted before grading started", file=sys.stderr)
            return 130
        batch.log = open(batch.out / "grader.log", "a", encoding="utf-8")  # noqa: SIM115 - closed below
        batch.interrupts = Interrupts()
        try:
            problem = preflight.run(batch, engine, sandboxed=not args.no_sandbox)
        except engines.EngineGone as err:
            print(f"autograder grade: error: {err}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("autograder grade: interrupted during the pre-flight", file=sys.stderr)
            return 130
        if problem:
            print(f"autograder grade: error: pre-flight: {problem}", file=sys.stderr)
            return 2
        return _grade(batch, engine, box)
    finally:
        if engine is not None:
            engine.close()
        if getattr(batch, "log", None):
            batch.log.close()
        batch.close()


def _grade(batch, engine, box):
    from autograder.grading import report

    out = batch.out
    counts, problems = Counter(), []
    interrupted = gone = False
    interrupts = batch.interrupts
    interrupts.install()
    feedback.install_mathjax(out / "feedback")
    where = engine.describe()  # before the batch: a cluster may be gone at the end
    batch.forked, batch.phases = 0, {}
    started = time.monotonic()
    bar = tqdm(total=len(batch.todo), file=sys.stderr, unit="nb", dynamic_ncols=True, smoothing=0.05,
               desc="grading", disable=not batch.todo)

    def on_outcome(outcome):
        batch.forked += outcome.forked
        counts[outcome.status] += 1
        if outcome.status is not Status.OK or outcome.detail:
            problems.append(outcome)
        bar.set_postfix({k.value: v for k, v in counts.items() if k is not Status.OK}, refresh=False)
        bar.update(1)

    try:
        Grader(batch, engine, sandboxed=not batch.args.no_sandbox, on_outcome=on_outcome).run(batch.todo)
    except KeyboardInterrupt:
        interrupted = True
    except engines.EngineGone as err:
        gone = str(err)
    finally:
        interrupts.ignore()
        bar.close()
        engine.kill()
    try:
        elapsed = time.monotonic() - started
        gradebook.export_csv(batch.gb, out)
        report.render(batch.gb, out)
        print_summary(batch, where, box, counts, problems, elapsed, interrupted, gone)
    finally:
        interrupts.restore()
    if gone:
        print(f"autograder grade: error: {gone}; {sum(counts.values())} result(s) recorded, rerun to resume",
              file=sys.stderr)
        return 3
    return 130 if interrupted else 0


def print_summary(batch, where, box, counts, problems, elapsed, interrupted, gone):
    graded = sum(counts.values())
    rate = graded / elapsed if elapsed > 0 and graded else 0.0
    head = "INTERRUPTED: " if interrupted else "STOPPED: " if gone else ""
    print(f"{head}graded {graded} of {len(batch.todo)} notebook(s) in {elapsed:.1f} s "
          f"({rate:.2f} notebooks/s, {where}); {len(batch.skipped)} already graded, skipped")
    if interrupted or gone:
        print("rerun the same command to grade the rest; finished results are kept")
    print(f"{'status':<18}{'count':>6}")
    for status in Status:
        if counts.get(status):
            print(f"{status.value:<18}{counts[status]:>6}")
    listed = [o for o in problems if o.status is not Status.OK]
    if listed:
        print("broken submissions and grader errors:")
        for o in sorted(listed, key=lambda o: (o.status.value, o.student_id, o.assignment_id)):
            print(f"  {o.student_id[:20]:<20} {o.assignment_id:<22} {o.status.value:<17} {o.detail[:110]}")
    repaired = [o for o in problems if o.repaired]
    if repaired:
        print(f"repaired notebook shapes (grades unaffected): {len(repaired)}; see the report")
    if batch.review:
        print(f"listed for review: {len(batch.review)} submission(s) (future timestamps, replaced submissions)")
    if box is not None:
        print(f"sandbox: {box.describe()}" + "".join(f"; {n}" for n in box.notes))
    if graded and batch.phases:
        order = ["prepare", "kernel_start", "cells", "judge", "render", "record"]
        print("seconds per notebook: " + ", ".join(f"{p} {batch.phases[p] / graded:.2f}" for p in order
                                                    if p in batch.phases)
              + " (prepare, kernel start and cells on the workers; judging, rendering (a worker) and recording here)")
    if box is None or box.enabled:
        started = graded - counts[Status.INVALID_NOTEBOOK] - counts[Status.MISSING_NOTEBOOK]
        print(f"kernels: {batch.forked} of {started} forked by a fork server per worker slot (the course's imports "
              "done once), the others started afresh")
    elif batch.args.scheduler:
        print("sandbox: bubblewrap on each Dask worker, probed there (the pre-flight graded the reference through it)")
    print(f"grades: {batch.out / 'grades.csv'}   report: {batch.out / 'report.html'}   "
          f"feedback: {batch.out / 'feedback'}")

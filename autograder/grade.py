"""Grade a class in parallel: feedback, gradebook, grades.csv and report.

``python -m autograder grade SUBMISSIONS [--out DIR] [--workers N] [--cell-timeout S] [--memory-mb M]
[--db-url URL]``

SUBMISSIONS is a folder or a .zip in nbgrader's layout ``<student_id>/<assignment_id>/<assignment_id>.ipynb``
(optional ``timestamp.txt``). Each notebook runs in its own sandboxed kernel in a pool of worker
processes; only this process writes the gradebook, one complete result at a time, so an
interrupted batch (Ctrl-C, SIGKILL) rerun with the same command grades only what is missing.
Exit status: 0 when the batch completed (broken submissions are listed), 2 on bad usage,
130 when interrupted.
"""
# ruff: noqa: I001 (autograder.lean is imported before the third-party packages on purpose)

import argparse
import concurrent.futures as cf
import faulthandler
import json
import multiprocessing as mp
import os
import shutil
import signal
import sys
import tempfile
import time
import warnings
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from autograder import lean  # noqa: F401 - first: it must act before nbformat is imported
from tqdm import tqdm

from autograder import feedback, gradebook, paths, sandbox, submissions, worker
from autograder.submissions import UsageError

tqdm.monitor_interval = 0  # no monitor thread in the parent: pool workers are forked from it

MAX_ATTEMPTS = 3  # a job whose worker process crashed is retried this many times in all


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
    parser.add_argument("--workers", type=_positive_int, default=default_workers(),
                        help="parallel kernels (default: number of CPUs)")
    parser.add_argument("--cell-timeout", type=_positive_float, default=120.0,
                        help="seconds per cell before it is interrupted (default: 120)")
    parser.add_argument("--memory-mb", type=_memory, default=2048,
                        help="address-space limit of each kernel in MB (default: 2048)")
    parser.add_argument("--db-url", default=None,
                        help="gradebook URL (default: sqlite in --out; e.g. postgresql://user@host/db)")
    parser.add_argument("--source", default=str(paths.SOURCE),
                        help="nbgrader source folder of the course (default: exercises/source)")


def known_assignments(source):
    source = Path(source)
    if not source.is_dir():
        raise UsageError(f"source folder not found: {source}")
    return sorted(p.name for p in source.iterdir() if (p / f"{p.name}.ipynb").is_file())


class Batch:
    """Everything a run needs, prepared before the first kernel starts."""

    def __init__(self, args):
        self.args = args
        self.out = Path(args.out).resolve()
        self.source = Path(args.source).resolve()
        self.started = time.monotonic()
        _remove_stale_staging()
        self.staging = Path(tempfile.mkdtemp(prefix=f"autograder-{os.getpid()}-"))
        os.chmod(self.staging, 0o711)  # kernels traverse to their own folder, cannot list the rest
        self.gb = None

    def prepare(self):
        args = self.args
        target = Path(args.submissions)
        if not target.exists():
            raise UsageError(f"no such file or directory: {target}")
        known = known_assignments(self.source)
        if target.is_file():
            if not target.name.lower().endswith(".zip"):
                raise UsageError(f"not a folder or a .zip: {target}")
            extracted = self.staging / "submissions"
            extracted.mkdir(mode=0o700)
            root = submissions.extract_zip(target, extracted)
        else:
            root = target
        # grade ids help to pick a renamed notebook; read them from the source notebooks
        grade_ids = {a: _grade_ids(self.source / a / f"{a}.ipynb") for a in known}
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
        self.masters = {}
        for aid in sorted({s.assignment_id for s in self.subs}):
            try:
                self.masters[aid] = gradebook.register_assignment(
                    self.gb, self.db_url, self.config, aid, self.source / aid / f"{aid}.ipynb")
            except RuntimeError as err:
                raise UsageError(f"{aid}: {err} (grade into a new --out)") from None
        journal = gradebook.recorded(self.gb)
        self.todo, self.skipped = [], []
        for sub in self.subs:
            job = worker.job_for(sub, self.masters[sub.assignment_id])
            row = journal.get(sub.key)
            if row is not None and row.submission_sha == job["submission_sha"] and \
                    row.source_sha == job["master"].source_sha:
                self.skipped.append(sub.key)
            elif row is not None and row.timestamp and sub.timestamp_text and row.timestamp > sub.timestamp_text:
                self.skipped.append(sub.key)  # an older copy: the graded, later submission stays
            else:
                self.todo.append(job)
        self.hide = sandbox.default_hidden_paths([self.out, target.resolve(), self.staging / "submissions",
                                                  self.source])

    def settings(self):
        sandbox.kill_stale_sandboxes()
        self.isolation = sandbox.probe(self.staging)
        pylib = sandbox.copy_solutions(self.staging / "pylib")
        sandbox.matplotlib_cache(self.staging / "matplotlib")
        feedback.warm_up()  # forked workers inherit the compiled templates
        return worker.Settings(cell_timeout=self.args.cell_timeout, memory_mb=self.args.memory_mb,
                               staging=str(self.staging), pylib=str(pylib), isolation=self.isolation,
                               hide=[str(p) for p in self.hide])

    def close(self):
        if self.gb is not None:
            self.gb.close()
        shutil.rmtree(self.staging, ignore_errors=True)


def _remove_stale_staging():
    """Delete the temporary folders of graders that were killed (SIGKILL leaves them behind)."""
    for folder in Path(tempfile.gettempdir()).glob("autograder-*-*"):
        pid = folder.name.split("-")[1]
        try:
            mine = folder.is_dir() and folder.stat().st_uid == os.geteuid()
        except OSError:
            continue
        if mine and pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)


def _grade_ids(path):
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.get("cells", [])
            if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")]


def write_outputs(out, result):
    """Feedback HTML and the autograded notebook of one result (atomic writes)."""
    sid, aid = result["student_id"], result["assignment_id"]
    html = result.get("feedback_html") or _status_page(result)

    def put(path, text):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)

    put(out / "feedback" / sid / aid / f"{aid}.html", html)
    if result.get("graded_notebook"):
        put(out / "autograded" / sid / aid / f"{aid}.ipynb", result["graded_notebook"])


def _status_page(result):
    import html

    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(result['assignment_id'])}"
            f"</title></head><body><h1>{html.escape(result['assignment_id'])} (Score: 0 / "
            f"{result['max_score']:g})</h1><p>Your submission could not be graded: <b>{result['status']}</b>"
            f"</p><p>{html.escape(result['detail'])}</p></body></html>")


def _failed_result(job, reason):
    master = job["master"]
    return {"student_id": job["student_id"], "assignment_id": job["assignment_id"],
            "timestamp": job["timestamp"], "timestamp_text": job["timestamp_text"],
            "submission_sha": job["submission_sha"], "source_sha": master.source_sha,
            "max_score": master.max_score, "cell_scores": {}, "flags": [], "graded_notebook": None,
            "feedback_html": None, "status": "kernel_died", "detail": reason, "seconds": 0.0}


class Pool:
    """A process pool that survives the death of a worker process."""

    def __init__(self, workers):
        self.workers = workers
        self.executor = None

    def start(self):
        # fork: a worker starts in milliseconds with every grading library already imported
        # (spawn re-imports them: ~2.5 s of CPU per worker). The grading parent runs no threads of
        # its own when it forks (the progress bar's monitor thread is disabled below), and
        # workers never touch the parent's gradebook connection.
        ctx = mp.get_context("fork")
        slots = ctx.Queue()
        for slot in range(self.workers):
            slots.put(slot)
        self.executor = cf.ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=worker.init_worker,
                                               initargs=(slots, os.getpid()))

    def kill(self):
        if self.executor is None:
            return
        for proc in list(getattr(self.executor, "_processes", {}).values()):
            try:
                proc.kill()
            except (OSError, AttributeError):
                pass
        # a worker spawned while Ctrl-C arrived may not be registered yet: kill every child of ours
        _kill_children()
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = None


def _kill_children():
    """SIGKILL the direct children of this process (pool workers; kernels die with them)."""
    me = str(os.getpid())
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                parent = fh.read().rsplit(b")", 1)[1].split()[1].decode()
            with open(f"/proc/{entry.name}/cmdline", "rb") as fh:
                tracker = b"resource_tracker" in fh.read()
        except (OSError, IndexError):
            continue
        if parent == me and not tracker:
            try:
                os.kill(int(entry.name), signal.SIGKILL)
            except OSError:
                pass


def run_jobs(batch, settings, on_result):
    """Grade every job of ``batch.todo`` on ``--workers`` processes; call ``on_result`` per result."""
    pool = Pool(min(batch.args.workers, max(1, len(batch.todo))))
    pending = {id(job): job for job in batch.todo}
    attempts = Counter()
    try:
        while pending:
            pool.start()
            futures = {pool.executor.submit(worker.grade_one, job, settings): key for key, job in pending.items()}
            try:
                for future in cf.as_completed(futures):
                    key = futures[future]
                    result = future.result()
                    on_result(result)
                    pending.pop(key, None)
            except cf.process.BrokenProcessPool:
                pool.kill()
                for key in list(pending):
                    attempts[key] += 1
                    if attempts[key] >= MAX_ATTEMPTS:
                        on_result(_failed_result(pending.pop(key), "the grading worker process crashed "
                                                 f"{MAX_ATTEMPTS} times on this submission"))
                continue
            pool.executor.shutdown(wait=True)
            pool.executor = None
    finally:
        held = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
        try:  # cleanup must finish even if Ctrl-C is pressed again
            pool.kill()
            if settings.isolation.separate_uids:
                for slot in range(pool.workers):
                    sandbox.kill_uid(sandbox.sandbox_uid(slot))
        finally:
            for signum, previous in held.items():
                signal.signal(signum, previous)


class Interrupts:
    """SIGINT/SIGTERM handling: raise KeyboardInterrupt, but never inside a critical section.

    Recording a result (files, then gradebook, then journal row) is a critical section: a signal
    arriving there is held until the result is complete, so an interrupted batch never leaves a
    half-written result or a gradebook session in a failed transaction.
    """

    def __init__(self):
        self.depth = 0
        self.pending = False
        self.previous = {}

    def handler(self, signum, frame):
        if self.depth:
            self.pending = True
        else:
            raise KeyboardInterrupt

    def install(self):
        for signum in (signal.SIGINT, signal.SIGTERM):
            self.previous[signum] = signal.signal(signum, self.handler)

    def ignore(self):
        """From now on (export, report, summary: a second or two) signals are ignored."""
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


def run(args):
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 <pid>`: where is it stuck?
    # nbgrader's add_submission trips a harmless SQLAlchemy 2 autoflush warning on every new student
    warnings.filterwarnings("ignore", message=r"Object of type <\w+> not in session")
    batch = Batch(args)
    try:
        try:
            batch.prepare()
        except UsageError as err:
            print(f"autograder grade: error: {err}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("autograder grade: interrupted before grading started", file=sys.stderr)
            return 130
        return _grade(batch)
    finally:
        batch.close()


def _grade(batch):
    from autograder import report

    out = batch.out
    counts, problems = Counter(), []
    interrupted = False
    interrupts = Interrupts()
    interrupts.install()
    graded_start = time.monotonic()
    bar = tqdm(total=len(batch.todo), file=sys.stderr, unit="nb", dynamic_ncols=True, smoothing=0.05,
               desc="grading", disable=not batch.todo)

    def on_result(result):
        with interrupts.critical():
            write_outputs(out, result)
            gradebook.record(batch.gb, result)
            counts[result["status"]] += 1
            if result["status"] != "ok" or result.get("detail"):
                problems.append(result)
            bar.set_postfix({k: v for k, v in counts.items() if k != "ok"}, refresh=False)
            bar.update(1)

    try:
        if batch.todo:
            settings = batch.settings()
            run_jobs(batch, settings, on_result)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        interrupts.ignore()
        bar.close()
    try:
        elapsed = time.monotonic() - graded_start
        gradebook.export_csv(batch.gb, out)
        report.render(batch.gb, out)
        print_summary(batch, counts, problems, elapsed, interrupted)
    finally:
        interrupts.restore()
    return 130 if interrupted else 0


def print_summary(batch, counts, problems, elapsed, interrupted):
    graded = sum(counts.values())
    rate = graded / elapsed if elapsed > 0 and graded else 0.0
    head = "INTERRUPTED: " if interrupted else ""
    print(f"{head}graded {graded} of {len(batch.todo)} notebook(s) in {elapsed:.1f} s "
          f"({rate:.2f} notebooks/s, {batch.args.workers} worker(s)); "
          f"{len(batch.skipped)} already graded, skipped")
    if interrupted:
        print("rerun the same command to grade the rest; finished results are kept")
    print(f"{'status':<18}{'count':>6}")
    for status in gradebook.STATUSES:
        if counts.get(status):
            print(f"{status:<18}{counts[status]:>6}")
    listed = [r for r in problems if r["status"] != "ok"]
    if listed:
        print("broken or flagged submissions:")
        for r in sorted(listed, key=lambda r: (r["status"], r["student_id"], r["assignment_id"])):
            print(f"  {r['student_id']:<20} {r['assignment_id']:<22} {r['status']:<17} {r['detail'][:110]}")
    iso = getattr(batch, "isolation", None)
    if iso is not None:
        print(f"sandbox: {iso.describe()}" + "".join(f"; {n}" for n in iso.notes))
    print(f"grades: {batch.out / 'grades.csv'}   report: {batch.out / 'report.html'}   "
          f"feedback: {batch.out / 'feedback'}")

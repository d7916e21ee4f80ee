"""``autograder grade``: grade a class on local workers or a Dask cluster, verdicts and gradebook here.

``autograder grade SUBMISSIONS [--out DIR] [--workers N | --scheduler tcp://HOST:8786]
[--cell-timeout S] [--notebook-timeout S] [--memory-mb M] [--db-url URL] [--source DIR]
[--book-url URL] [--no-sandbox] [--student ID]... [--assignment ID]... [--force]``

For each submission a worker runs the notebook in a sandboxed kernel and returns what the kernel
recorded; this process judges those records against the reference (nothing the student's code can
touch), writes the gradebook (the only writer; one complete result per transaction, so a killed
batch rerun grades only what is missing) and the feedback (:mod:`autograder.grading.scheduler`).
Before the first student, a pre-flight grades each chapter's reference answers under the same
limits and sandbox; if one loses a mark the batch does not start. ``--out`` is an nbgrader course root
(``submitted/``, ``autograded/``, ``feedback/``, a ``nbgrader_config.py`` loading the course's, the
gradebook): after the batch, every output is brought in line with the gradebook (late penalties,
manual grades, comments: :mod:`autograder.grading.refresh`). Exit status: 0 when the batch
completed (broken submissions are listed), 2 on bad usage or an unusable setup (one line), 3 when
the cluster went away mid-batch (what was recorded is kept: rerun to resume), 130 when interrupted.
"""
# ruff: noqa: I001 (autograder.lean is imported before the third-party packages on purpose)

import argparse
import faulthandler
import os
import re
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

from autograder.common.records import Limits, Status
from autograder.execution import engines
from autograder.execution.submissions import UsageError
from autograder.course.config import write_course_folder_config
from autograder.grading import feedback, preflight, refresh, summary
from autograder.grading.batch import Batch
from autograder.grading.scheduler import Grader, Interrupts
from autograder.sandbox import bwrap as sandbox
from autograder.sandbox import cgroups
from autograder.sandbox import linux
from coursebook import paths

tqdm.monitor_interval = 0  # no monitor thread in the parent: pool workers are forked from it


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
    """The command line of ``autograder grade`` (the demo parses its own arguments with it too); the
    limits' defaults are :class:`~autograder.common.records.Limits`'."""
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
    parser.add_argument("--cell-timeout", type=_positive_float, default=Limits.cell_timeout,
                        help="seconds of wall time per cell before it is interrupted "
                             f"(default: {Limits.cell_timeout:g})")
    parser.add_argument("--notebook-timeout", type=_positive_float, default=Limits.notebook_timeout,
                        help="seconds of wall time per notebook, whatever its cell count "
                             f"(default: {Limits.notebook_timeout:g})")
    parser.add_argument("--memory-mb", type=_memory, default=Limits.memory_mb,
                        help="memory of each kernel in MB (a memory cgroup as root, else RLIMIT_DATA; "
                             f"default {Limits.memory_mb})")
    parser.add_argument("--db-url", default=None,
                        help="gradebook URL (default: sqlite in --out; e.g. postgresql://user@host/db)")
    parser.add_argument("--source", default=str(paths.SOURCE),
                        help="nbgrader source folder of the course (default: exercises/source)")
    parser.add_argument("--book-url", default="",
                        help="base URL of the published book, for the links of diagnoses in the feedback")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run kernels without bubblewrap (no isolation: only for a trusted class)")
    parser.add_argument("--student", action="append", default=[], metavar="ID",
                        help="grade only this student's submissions (repeatable)")
    parser.add_argument("--assignment", action="append", default=[], metavar="ID",
                        help="grade only this assignment's submissions (repeatable)")
    parser.add_argument("--force", action="store_true",
                        help="grade the selected submissions again even when unchanged (manual grades and comments "
                             "are kept)")


def parse(argv):
    """``autograder grade``'s arguments from a list of strings (what the demo grades with)."""
    parser = argparse.ArgumentParser(prog="autograder grade")
    add_arguments(parser)
    return parser.parse_args([str(a) for a in argv])


def make_engine(args):
    if args.scheduler:
        security = None
        if args.scheduler.startswith("tls://"):
            from distributed.security import Security

            security = Security(tls_ca_file=args.tls_ca_file, tls_client_cert=args.tls_cert,
                                tls_client_key=args.tls_key, require_encryption=True)
        return engines.DaskEngine(args.scheduler, security=security)
    return engines.LocalEngine(args.workers or default_workers())


def remove_stale():
    """Folders and control groups of graders and workers that were killed (SIGKILL leaves them behind)."""
    for folder in Path(tempfile.gettempdir()).glob("autograder-*"):
        match = re.match(r"autograder-(?:w|gb)?(\d+)-", folder.name)
        try:
            mine = folder.is_dir() and folder.stat().st_uid == os.geteuid()
        except OSError:
            continue
        if mine and match and not Path(f"/proc/{match.group(1)}").exists():
            _remove_staging(folder)
    cgroups.remove_stale()


@contextmanager
def batch_staging():
    """A folder for this batch's workers (kernel folders, worker gradebooks), removed at the end."""
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
        _remove_staging(folder)
        cgroups.remove_batch(os.getpid())


def _remove_staging(folder):
    """Remove a batch's staging folder, the mounts below it first (as root: fork servers' binds, job folders)."""
    if os.geteuid() == 0:
        linux.detach_below(folder)
    shutil.rmtree(folder, ignore_errors=True)


def run(args):
    """``autograder grade``: the exit status (0 done, 2 bad usage or setup, 3 cluster gone, 130 interrupted)."""
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
    """Prepare the batch, the sandbox and the engine, prove the setup with the pre-flight, then grade."""
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
        write_course_folder_config(batch.out, batch.source, batch.db_url)
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
    """Grade the batch's jobs with a progress bar; then the CSVs, the report and the summary."""
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
        # late penalties, pages the gradebook's numbers changed under (manual grades, comments), CSVs, report;
        # an interrupted batch leaves the pages to the next run
        refreshed = refresh.refresh(batch.gb, batch.db_url, out, batch.config, pages=not (interrupted or gone),
                                    seconds=batch.limits.render_seconds)
        summary.print_summary(batch, where, box, counts, problems, elapsed, interrupted, gone, refreshed)
    finally:
        interrupts.restore()
    if gone:
        print(f"autograder grade: error: {gone}; {sum(counts.values())} result(s) recorded, rerun to resume",
              file=sys.stderr)
        return 3
    return 130 if interrupted else 0

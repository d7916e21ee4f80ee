"""Benchmark of the grading parent alone: workers replay recorded kernel runs instantly.

    .venv/bin/python benchmarks/replay.py [--replays 10] [--dask-workers 4] [--skip-dask] [--profile N]

The demo class (``make grade-demo``'s: 6 students x 7 chapters, every status) is graded once for real
and each :class:`~autograder.common.records.KernelRun` its kernel produced is kept (``--recording``, a
pickle, reused while the course's sources are unchanged). Then the class is graded ``--replays`` times
over (distinct student ids, one batch, a fresh gradebook with the recording's hidden-input seeds) through
the real :class:`~autograder.grading.scheduler.Grader`, whose worker tasks take the recorded run instead of
running a kernel and then judge, diagnose and render it on the worker as in a real batch
(:func:`autograder.grading.verdicts.graded`): what is measured is the scheduler, the workers' verdicts and
pages, the parent's checks of what they send, and recording, without a kernel. Once on the local process
pool (``--workers``) and once on a Dask cluster of ``--dask-workers`` single-threaded workers started here on
127.0.0.1.

Printed: notebooks per second of the parent (wall), its CPU seconds per notebook (what it could sustain with
workers enough), the seconds of a 5,000-notebook batch's non-kernel work at that rate, and the split per
phase (judge: decoding and verdicts, diagnose: the catalogue of mistakes, render: feedback pages, all three
on the workers; record: the parent's pages and notebooks written, gradebook). ``--profile N`` prints the N
most expensive functions of the parent (cProfile, local run). Not part of the test suite; timing only.
"""

import argparse
import cProfile
import dataclasses
import hashlib
import io
import os
import pickle
import pstats
import shutil
import sys
import tempfile
import time
import types
import warnings
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from autograder.authoring import demo  # noqa: E402
from autograder.execution import engines  # noqa: E402
from autograder.grading import command, gradebook, judging, outputs, scheduler, verdicts  # noqa: E402
from autograder.grading.batch import Batch  # noqa: E402
from coursebook import paths  # noqa: E402

SEPARATOR = " replay "  # student ids of the replayed class: "<demo student> replay <n>"
PHASES = ["judge", "diagnose", "render", "record"]
_RECORDING = {}  # (student, assignment) -> KernelRun: what the local pool's forked workers replay


def replay_task(job, master, judging_, limits, _sandboxed, recording=None):
    """A worker's task that runs no kernel: the recorded run of the job's demo student, renamed, judged and
    rendered here as :func:`autograder.grading.verdicts.grade_task` does after its kernel."""
    runs = _RECORDING if recording is None else recording.runs
    run = runs[(job.student_id.split(SEPARATOR)[0], job.assignment_id)]
    run = dataclasses.replace(run, student_id=job.student_id, timings=dict(run.timings))
    spent = _timed_diagnosis()
    spent["seconds"] = 0.0
    graded = verdicts.graded(job, run, master, judging_, limits)
    graded.run.timings["diagnose"] = spent["seconds"]  # counted apart from the rest of judging
    if graded.notebook_json is not None:  # the notebook's metadata lists the phases' seconds: with this one too
        outcome = verdicts.with_render_error(graded.outcome, graded.render_error)
        notebook = nbformat.reads(graded.notebook_json, as_version=4)
        text = outputs.graded_notebook_text(notebook, outcome, graded.run.timings, graded.run.language)
        graded = dataclasses.replace(graded, notebook_json=text)
    return graded


class Replaying:
    """An engine whose worker tasks replay the recording instead of running a kernel."""

    def __init__(self, inner, recording=None):
        self.inner, self.recording = inner, recording

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def submit(self, fn, *args):
        if fn is verdicts.grade_task:
            from benchmarks import replay  # by name, so that Dask sends a reference to it, not the function's globals

            extra = () if self.recording is None else (self.recording,)
            return self.inner.submit(replay.replay_task, *args, *extra)
        return self.inner.submit(fn, *args)


_SPENT = {}


def _timed_diagnosis():
    """Wrap the catalogue's diagnosis (once per process) so that its seconds are counted apart from judging."""
    if _SPENT:
        return _SPENT
    _SPENT["seconds"] = 0.0
    original = judging.mistakes.diagnose

    def diagnose(*args, **kwargs):
        started = time.monotonic()
        try:
            return list(original(*args, **kwargs))
        finally:
            _SPENT["seconds"] += time.monotonic() - started

    judging.mistakes.diagnose = diagnose
    return _SPENT


# -- the recording ---------------------------------------------------------------------------------------------


def course_fingerprint():
    digest = hashlib.sha256()
    for path in sorted([*paths.SOURCE.rglob("*.ipynb"), *(REPO / "solutions").rglob("*.py"),
                        *(REPO / "checks").rglob("*.py")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def record(work, workers):
    """Grade the demo class for real; {"runs": {(student, assignment): KernelRun}, "seeds": {assignment: seed}}.

    The workers judge their runs themselves: each keeps the KernelRun it judged in a file of ``work``."""
    klass, out, kept = work / "demo-class", work / "recorded", work / "kernel-runs"
    kept.mkdir(parents=True, exist_ok=True)
    demo.build_class(klass)
    original = verdicts.graded

    def keep(job, run, *args):
        name = hashlib.sha256(repr(job.key).encode()).hexdigest()[:20]
        (kept / f"{name}.pickle").write_bytes(pickle.dumps(run))
        return original(job, run, *args)

    verdicts.graded = keep  # before the pool forks: its workers run this
    try:
        status = command.run(command.parse([klass, "--out", out, "--workers", workers]))
    finally:
        verdicts.graded = original
    if status != 0:
        sys.exit(f"grading the demo class failed ({status})")
    runs = {}
    for path in kept.glob("*.pickle"):
        run = pickle.loads(path.read_bytes())
        runs[(run.student_id, run.assignment_id)] = run
    gb = gradebook.open_gradebook(gradebook.default_db_url(out), _config())
    seeds = {aid: gradebook.batch_seed(gb, aid) for aid in {a for _s, a in runs}}
    gb.close()
    return {"runs": runs, "seeds": seeds, "class": klass}


def _config():
    from autograder.course.config import course_config

    return course_config(paths.SOURCE)


# -- one replayed batch ----------------------------------------------------------------------------------------


def prepare(work, recording, replays, name):
    """A Batch of the demo class replayed ``replays`` times, in a fresh output folder with the recorded seeds."""
    out = work / name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    gb = gradebook.open_gradebook(gradebook.default_db_url(out), _config())
    for aid, seed in recording["seeds"].items():
        gb.db.execute(gradebook.insert(gradebook.SEEDS).values(assignment_id=aid, seed=str(seed)))
    gb.db.commit()
    gb.close()
    batch = Batch(command.parse([recording["class"], "--out", out]))
    batch.prepare()
    base = [job for job in batch.todo if job.key in recording["runs"]]
    batch.todo = [dataclasses.replace(job, student_id=f"{job.student_id}{SEPARATOR}{i}")
                  for i in range(replays) for job in base]
    batch.log, batch.interrupts, batch.phases, batch.forked = io.StringIO(), scheduler.Interrupts(), {}, 0
    return batch


def warm(batch, recording):
    """Judge every recorded run once in this process: the reference's and the catalogue's records are computed
    here, and the local pool's workers, forked afterwards, start with them (as a worker after its first
    notebook of each test)."""
    for job in batch.todo:
        run = recording["runs"][(job.student_id.split(SEPARATOR)[0], job.assignment_id)]
        verdicts.graded(job, dataclasses.replace(run, student_id=job.student_id, timings=dict(run.timings)),
                        batch.masters[job.assignment_id], verdicts.judging_of(batch, job.assignment_id), batch.limits)


def grade(batch, engine, profile=None):
    """Run the batch; (wall seconds, parent CPU seconds, {phase: seconds}, {status: count})."""
    counts = {}

    def on_outcome(outcome):
        counts[outcome.status.value] = counts.get(outcome.status.value, 0) + 1

    grader = scheduler.Grader(batch, engine, sandboxed=True, on_outcome=on_outcome)
    wall, cpu = time.monotonic(), time.process_time()
    if profile is not None:
        profile.enable()
    try:
        grader.run(batch.todo)
    finally:
        if profile is not None:
            profile.disable()
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    phases = {p: batch.phases.get(p, 0.0) for p in PHASES}
    phases["judge"] -= phases["diagnose"]
    return wall, cpu, phases, counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replays", type=int, default=10, help="copies of the 42-notebook demo class (default 10)")
    parser.add_argument("--workers", type=int, default=2, help="local pool processes (default 2)")
    parser.add_argument("--dask-workers", type=int, default=4, help="loopback Dask workers (default 4)")
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--skip-local", action="store_true")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print the parent's N costliest functions")
    parser.add_argument("--recording", default=None, help="the recorded runs (default: in the temp folder, per "
                                                          "version of the course's sources)")
    parser.add_argument("--no-warmup", dest="warmup", action="store_false",
                        help="time the first replay too (a worker computes the reference's and the catalogue's "
                             "records the first time it judges a test)")
    parser.add_argument("--flush-results", type=int, default=scheduler.FLUSH_RESULTS,
                        help="results per gradebook transaction (1: a commit per result, as before issue 20)")
    parser.add_argument("--keep", default=None, help="keep the outputs in this folder")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    warnings.filterwarnings("ignore", message=r"Object of type <\w+> not in session")  # as `autograder grade`
    scheduler.FLUSH_RESULTS = args.flush_results
    work = Path(args.keep or tempfile.mkdtemp(prefix="replay-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    recording_path = Path(args.recording or Path(tempfile.gettempdir()) / f"replay-{course_fingerprint()}.pickle")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    started = time.monotonic()
    with command.batch_staging():
        if recording_path.is_file():
            recording = pickle.loads(recording_path.read_bytes())
            recording["class"] = work / "demo-class"
            demo.build_class(recording["class"])
            print(f"recording: {recording_path} ({len(recording['runs'])} kernel runs)")
        else:
            recording = record(work, args.workers)
            recording_path.write_bytes(pickle.dumps({k: v for k, v in recording.items() if k != "class"}))
            print(f"recorded {len(recording['runs'])} kernel runs in {time.monotonic() - started:.0f} s: "
                  f"{recording_path}")
        from benchmarks import replay  # this file under its importable name: what the workers run

        replay._RECORDING.update(recording["runs"])
        results = {}
        if args.warmup:  # the reference's and the mistakes' records, computed before the local pool forks
            batch = prepare(work, recording, 1, "warmup")
            wall = time.monotonic()
            try:
                warm(batch, recording)
            finally:
                batch.close()
            print(f"warm-up (one replay judged in this process before the pool forks, not in the table): "
                  f"{len(batch.todo)} notebooks in {time.monotonic() - wall:.1f} s")
        if not args.skip_local:
            batch = prepare(work, recording, args.replays, "local")
            profile = cProfile.Profile() if args.profile else None
            engine = Replaying(engines.LocalEngine(args.workers))
            try:
                results[f"local pool, {args.workers} workers"] = (*grade(batch, engine, profile), len(batch.todo))
            finally:
                engine.close()
                batch.close()
            if profile is not None:
                text = io.StringIO()
                pstats.Stats(profile, stream=text).sort_stats("cumulative").print_stats(args.profile)
                print(text.getvalue())
        if not args.skip_dask:
            from grade_class import LocalDaskCluster

            cluster = LocalDaskCluster(work, workers=args.dask_workers)
            try:
                inner = engines.DaskEngine(cluster.address)
                shared = inner.client.scatter(types.SimpleNamespace(runs=recording["runs"]), broadcast=True)
                engine = Replaying(inner, shared)
                try:
                    if args.warmup:  # each Dask worker computes the reference's records at its first notebooks
                        batch = prepare(work, recording, 1, "dask-warmup")
                        try:
                            wall, _cpu, _phases, _counts = grade(batch, engine)
                        finally:
                            batch.close()
                        print(f"Dask warm-up (one replay, not in the table): {len(batch.todo)} notebooks in "
                              f"{wall:.1f} s")
                    batch = prepare(work, recording, args.replays, "dask")
                    try:
                        results[f"Dask, {args.dask_workers} workers (loopback)"] = (*grade(batch, engine),
                                                                                    len(batch.todo))
                    finally:
                        batch.close()
                finally:
                    engine.close()
            finally:
                cluster.close()
    print("\n| replayed run | notebooks | wall | notebooks/s (parent) | parent CPU per notebook | "
          "5,000 notebooks' non-kernel work | statuses |")
    print("|---|---|---|---|---|---|---|")
    for name, (wall, cpu, _phases, counts, n) in results.items():
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        print(f"| {name} | {n} | {wall:.1f} s | {n / wall:.1f} | {cpu / n * 1000:.1f} ms | "
              f"{5000 * wall / n:.0f} s | {statuses} |")
    print("\nper notebook, mean milliseconds (judge, diagnose, render: on a worker; record: the parent)")
    print("| replayed run | " + " | ".join(PHASES) + " |\n|---|" + "---|" * len(PHASES))
    for name, (_wall, _cpu, phases, _counts, n) in results.items():
        print(f"| {name} | " + " | ".join(f"{phases[p] / n * 1000:.1f}" for p in PHASES) + " |")
    print(f"load average at end {os.getloadavg()[0]:.2f}; files in {work}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Benchmark of the grading parent alone: workers replay recorded kernel runs instantly.

    .venv/bin/python benchmarks/replay.py [--replays 10] [--dask-workers 4] [--skip-dask] [--profile N]

The demo class (``make grade-demo``'s: 6 students x 7 chapters, every status) is graded once for real
and each :class:`~autograder.common.records.KernelRun` a worker returned is kept (``--recording``, a
pickle, reused while the course's sources are unchanged). Then the class is graded ``--replays`` times
over (distinct student ids, one batch, a fresh gradebook with the recording's hidden-input seeds) through
the real :class:`~autograder.grading.scheduler.Grader`, whose run tasks return the recorded run at once:
what is measured is the scheduler, judging, diagnosis, feedback rendering (on the workers, as in a real
batch) and recording, without a kernel. Once on the local process pool (``--workers``) and once on a
Dask cluster of ``--dask-workers`` single-threaded workers started here on 127.0.0.1.

Printed: notebooks per second of the parent (wall), its CPU seconds per notebook (what it could sustain with
workers enough), the seconds of a 5,000-notebook batch's non-kernel work at that rate, and the split per
phase (judge: decoding and verdicts; diagnose: the catalogue of mistakes; render: feedback pages on the
workers; record: pages and notebooks written, gradebook). ``--profile N`` prints the N most expensive
functions of the parent (cProfile, local run). Not part of the test suite; timing only.
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

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from autograder.authoring import demo  # noqa: E402
from autograder.execution import engines  # noqa: E402
from autograder.grading import command, gradebook, judging, scheduler  # noqa: E402
from autograder.grading.batch import Batch  # noqa: E402
from coursebook import paths  # noqa: E402

SEPARATOR = " replay "  # student ids of the replayed class: "<demo student> replay <n>"
PHASES = ["judge", "diagnose", "render", "record"]
_RECORDING = {}  # (student, assignment) -> KernelRun: what the local pool's forked workers replay


def replay_task(job, _master, _limits, _sandboxed, recording=None):
    """A worker's run task that runs nothing: the recorded run of the job's demo student, renamed."""
    runs = _RECORDING if recording is None else recording.runs
    run = runs[(job.student_id.split(SEPARATOR)[0], job.assignment_id)]
    return dataclasses.replace(run, student_id=job.student_id)


class Replaying:
    """An engine whose run tasks replay the recording; every other task (feedback pages) runs for real."""

    def __init__(self, inner, recording=None):
        self.inner, self.recording = inner, recording

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def submit(self, fn, *args):
        if fn is engines.execute_task:
            from benchmarks import replay  # by name, so that Dask sends a reference to it, not the function's globals

            extra = () if self.recording is None else (self.recording,)
            return self.inner.submit(replay.replay_task, *args, *extra)
        return self.inner.submit(fn, *args)


# -- the recording ---------------------------------------------------------------------------------------------


def course_fingerprint():
    digest = hashlib.sha256()
    for path in sorted([*paths.SOURCE.rglob("*.ipynb"), *(REPO / "solutions").rglob("*.py"),
                        *(REPO / "checks").rglob("*.py")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def record(work, workers):
    """Grade the demo class for real; {"runs": {(student, assignment): KernelRun}, "seeds": {assignment: seed}}."""
    klass, out = work / "demo-class", work / "recorded"
    demo.build_class(klass)
    runs = {}
    original = scheduler.Grader._ran

    def keep(self, job, run):
        runs[job.key] = run
        return original(self, job, run)

    scheduler.Grader._ran = keep
    try:
        status = command.run(command.parse([klass, "--out", out, "--workers", workers]))
    finally:
        scheduler.Grader._ran = original
    if status != 0:
        sys.exit(f"grading the demo class failed ({status})")
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


def timed_diagnosis():
    """Wrap the catalogue's diagnosis so that its seconds are counted apart from the rest of judging."""
    spent = {"seconds": 0.0}
    original = judging.mistakes.diagnose

    def diagnose(*args, **kwargs):
        started = time.monotonic()
        try:
            return list(original(*args, **kwargs))
        finally:
            spent["seconds"] += time.monotonic() - started

    judging.mistakes.diagnose = diagnose
    return spent


def grade(batch, engine, diagnosis, profile=None):
    """Run the batch; (wall seconds, parent CPU seconds, {phase: seconds}, {status: count})."""
    counts = {}

    def on_outcome(outcome):
        counts[outcome.status.value] = counts.get(outcome.status.value, 0) + 1

    grader = scheduler.Grader(batch, engine, sandboxed=True, on_outcome=on_outcome)
    diagnosis["seconds"] = 0.0
    wall, cpu = time.monotonic(), time.process_time()
    if profile is not None:
        profile.enable()
    try:
        grader.run(batch.todo)
    finally:
        if profile is not None:
            profile.disable()
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    phases = {p: batch.phases.get(p, 0.0) for p in ("judge", "render", "record")}
    phases["diagnose"] = diagnosis["seconds"]
    phases["judge"] -= diagnosis["seconds"]
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
                        help="time the first replay too (the parent computes the reference's and the catalogue's "
                             "records the first time a test is judged; a Dask run judges in this process too)")
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
        diagnosis = timed_diagnosis()
        results = {}
        if args.warmup:  # the first submission of each test computes the reference's and the mistakes' records
            batch = prepare(work, recording, 1, "warmup")
            engine = Replaying(engines.LocalEngine(args.workers))
            try:
                wall, cpu, _phases, _counts = grade(batch, engine, diagnosis)
            finally:
                engine.close()
                batch.close()
            print(f"warm-up (one replay, not in the table): {len(batch.todo)} notebooks in {wall:.1f} s, "
                  f"parent CPU {cpu:.1f} s")
        if not args.skip_local:
            batch = prepare(work, recording, args.replays, "local")
            profile = cProfile.Profile() if args.profile else None
            engine = Replaying(engines.LocalEngine(args.workers))
            try:
                results[f"local pool, {args.workers} workers"] = (*grade(batch, engine, diagnosis, profile),
                                                                  len(batch.todo))
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
                batch = prepare(work, recording, args.replays, "dask")
                inner = engines.DaskEngine(cluster.address)
                shared = inner.client.scatter(types.SimpleNamespace(runs=recording["runs"]), broadcast=True)
                engine = Replaying(inner, shared)
                try:
                    results[f"Dask, {args.dask_workers} workers (loopback)"] = (*grade(batch, engine, diagnosis),
                                                                                len(batch.todo))
                finally:
                    engine.close()
                    batch.close()
            finally:
                cluster.close()
    print("\n| replayed run | notebooks | wall | notebooks/s (parent) | parent CPU per notebook | "
          "5,000 notebooks' non-kernel work | statuses |")
    print("|---|---|---|---|---|---|---|")
    for name, (wall, cpu, _phases, counts, n) in results.items():
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        print(f"| {name} | {n} | {wall:.1f} s | {n / wall:.1f} | {cpu / n * 1000:.1f} ms | "
              f"{5000 * wall / n:.0f} s | {statuses} |")
    print("\nper notebook, mean milliseconds (judge and diagnose: the parent; render: a worker; record: the parent)")
    print("| replayed run | " + " | ".join(PHASES) + " |\n|---|" + "---|" * len(PHASES))
    for name, (_wall, _cpu, phases, _counts, n) in results.items():
        print(f"| {name} | " + " | ".join(f"{phases[p] / n * 1000:.1f}" for p in PHASES) + " |")
    print(f"load average at end {os.getloadavg()[0]:.2f}; files in {work}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Benchmark: grade a synthetic class with the autograder (local pool, Dask) and with plain serial nbgrader.

    .venv/bin/python benchmarks/grade_class.py [--students 20] [--chapters ...] [--skip-nbgrader] [--skip-dask]

The class: ``--students`` students x every declared chapter, built from the source notebooks like
``make grade-demo`` does: 60 % correct answers, 30 % with one catalogued mistake, 10 % the release
untouched. The same class is graded, in the same run, by

1. ``python -m autograder grade --workers 1`` and ``--workers 2`` (fork server: the default),
2. ``--workers 2`` with kernels started afresh (``AUTOGRADER_FORK_SERVER=0``, the fallback),
3. ``--scheduler`` on a Dask cluster of 2 single-threaded workers started here on 127.0.0.1,
4. plain ``nbgrader generate_assignment`` + ``nbgrader autograde`` (serial), in a copy of the course.

Printed as a table: wall time, notebooks per second, the speed-up over serial nbgrader, and the fixed
overhead per notebook beyond the notebook's own cells (``wall time x workers / notebooks - mean
cell time``; the cells include the course's setup imports, which a forked kernel finds done). Then
where a notebook's time goes (means over the 2-worker run, from each autograded notebook's
``metadata.autograder.seconds``). Goals on 2 cores: >= 5x serial nbgrader with 2 workers, overhead
<= 0.5 s per notebook, the Dask path within 15 % of the local pool. A run with 20 students takes
about 20 minutes; ``--students 4`` about 5. Not part of the test suite.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


from autograder.authoring import demo  # noqa: E402
from autograder.course.config import course_config, release_version  # noqa: E402
from autograder.course.sources import reference_answers, with_answers  # noqa: E402
from coursebook import paths  # noqa: E402
from solutions.chapters import chapter as declared  # noqa: E402

PHASES = ["prepare", "kernel_start", "cells", "judge", "render", "record"]


def build(root, students, chapters):
    """The synthetic class; returns the number of notebooks."""
    config = course_config(paths.SOURCE)
    count = 0
    for chapter in chapters:
        source_path = paths.source_notebook(chapter)
        release = release_version(source_path, config)
        correct = reference_answers(source_path)
        wrong = [m for m in demo.catalogued_mistakes(declared(chapter), correct) if m[1] in correct]
        for i in range(students):
            kind = (i * 7) % 10  # a permutation of 0-9 per block of 10: the same mix for a small class
            if kind < 6 or (not wrong and kind < 9):
                answers = correct
            elif kind < 9:
                _name, target, code = wrong[i % len(wrong)]
                answers = {**correct, target: code}
            else:
                answers = {}
            demo.write_submission(root, f"student{i:03d}", chapter, nb=with_answers(release, answers))
            count += 1
    return count


def env(**extra):
    environ = dict(os.environ, PYTHONPATH=str(REPO), MPLBACKEND="Agg", **extra)
    environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environ.get('PATH', '')}"
    return environ


def timed(cmd, cwd=REPO, **extra):
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=cwd, env=env(**extra), capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{proc.stdout[-2000:]}\n"
                 f"{proc.stderr[-4000:]}")
    return elapsed, proc


def autograder(klass, out, args, **extra):
    """Grade with the autograder (after a warm-up pre-flight, not timed); (seconds, phases, scores)."""
    command = [sys.executable, "-m", "autograder", "grade", klass, "--out", out, *map(str, args)]
    warm = Path(out).with_name(Path(out).name + "-warmup")
    subprocess.run([*command[:5], Path(klass).parent / "warmup", "--out", warm, *map(str, args)],
                   cwd=REPO, env=env(**extra), capture_output=True)  # the pre-flight is cached per setup
    elapsed, proc = timed(command, **extra)
    phases = {p: [] for p in PHASES}
    for path in Path(out, "autograded").rglob("*.ipynb"):
        seconds = json.loads(path.read_text()).get("metadata", {}).get("autograder", {}).get("seconds", {})
        for phase in PHASES:
            if phase in seconds:
                phases[phase].append(seconds[phase])
    scores = {(r["student_id"], r["assignment"]): r["score"] for r in _csv(Path(out) / "grades.csv")}
    return elapsed, phases, scores


def _csv(path):
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def nbgrader(klass, work, chapters, cell_timeout):
    """Plain nbgrader on a copy of the course: generate_assignment, then autograde (timed)."""
    course = Path(work) / "course"
    shutil.copytree(paths.COURSE_ROOT, course, ignore=shutil.ignore_patterns("release*", "autograded", "submitted",
                                                                              "feedback", "*.db"))
    nbg = [sys.executable, "-m", "nbgrader"]
    for chapter in chapters:
        timed(nbg + ["generate_assignment", chapter, "--force"], cwd=course)
    shutil.copytree(klass, course / "submitted")
    started = time.monotonic()
    for chapter in chapters:
        timed(nbg + ["autograde", chapter, f"--ExecutePreprocessor.timeout={int(cell_timeout)}"], cwd=course)
    elapsed = time.monotonic() - started
    export = course / "nbgrader-grades.csv"
    timed(nbg + ["export", f"--to={export}"], cwd=course)
    scores = {(r["student_id"], r["assignment"]): r["score"] for r in _csv(export)}
    return elapsed, scores


class LocalDaskCluster:
    """``dask scheduler`` and two single-threaded ``dask worker`` s on 127.0.0.1, as an instructor starts them."""

    def __init__(self, folder, workers=2):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.address = f"tcp://127.0.0.1:{port}"
        dask = str(Path(sys.executable).parent / "dask")
        logs = open(Path(folder) / "dask.log", "ab")  # noqa: SIM115 - lives as long as the cluster
        self.procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                        "--no-dashboard"], env=env(), stdout=logs, stderr=logs,
                                       start_new_session=True)]
        time.sleep(3)
        self.procs += [subprocess.Popen([dask, "worker", self.address, "--nthreads", "1", "--host", "127.0.0.1",
                                         "--no-dashboard"], env=env(), stdout=logs, stderr=logs,
                                        start_new_session=True) for _ in range(workers)]
        time.sleep(8)

    def close(self):
        import signal

        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--chapters", nargs="*", default=None, help="default: every chapter")
    parser.add_argument("--cell-timeout", type=float, default=120)
    parser.add_argument("--skip-nbgrader", action="store_true")
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--keep", default=None, help="keep the class and outputs in this folder")
    args = parser.parse_args(argv)
    chapters = args.chapters or paths.chapter_ids()
    work = Path(args.keep or tempfile.mkdtemp(prefix="grade-bench-"))
    klass = work / "class"
    shutil.rmtree(klass, ignore_errors=True)
    n = build(klass, args.students, chapters)
    build(work / "warmup", 1, chapters)
    print(f"class: {args.students} students x {len(chapters)} chapters = {n} notebooks ({', '.join(chapters)})")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    runs = [("autograder --workers 1 (fork server)", ["--workers", 1], {}, 1),
            ("autograder --workers 2 (fork server)", ["--workers", 2], {}, 2),
            ("autograder --workers 2 (fresh kernels)", ["--workers", 2], {"AUTOGRADER_FORK_SERVER": "0"}, 2)]
    results = {}
    cluster = None
    try:
        if not args.skip_dask:
            cluster = LocalDaskCluster(work)
            runs.append(("autograder --scheduler (Dask, 2 workers)", ["--scheduler", cluster.address], {}, 2))
        for name, options, extra, workers in runs:
            out = work / f"out-{len(results)}"
            shutil.rmtree(out, ignore_errors=True)
            elapsed, phases, scores = autograder(klass, out, [*options, "--cell-timeout", args.cell_timeout], **extra)
            results[name] = (elapsed, phases, scores, workers)
    finally:
        if cluster is not None:
            cluster.close()
    reference = results["autograder --workers 2 (fork server)"][2]
    assert all(r[2] == reference for r in results.values()), "the runs disagree on a grade"
    baseline = None
    if not args.skip_nbgrader:
        baseline, scores = nbgrader(klass, work / "nbgrader", chapters, args.cell_timeout)
        same = all(float(scores[k]) == float(v) for k, v in reference.items())
        print(f"nbgrader's grades equal the autograder's: {same}")
    print(f"\n| run ({n} notebooks) | wall time | notebooks/s | vs serial nbgrader | overhead per notebook |")
    print("|---|---|---|---|---|")
    for name, (elapsed, phases, _scores, workers) in results.items():
        cells = sum(phases["cells"]) / max(1, len(phases["cells"]))
        overhead = elapsed * workers / n - cells
        ratio = f"{baseline / elapsed:.2f}x" if baseline else "-"
        print(f"| {name} | {elapsed:.1f} s | {n / elapsed:.3f} | {ratio} | {overhead:.2f} s |")
    if baseline:
        print(f"| nbgrader autograde, one chapter after the other (serial) | {baseline:.1f} s | "
              f"{n / baseline:.3f} | 1x | |")
    local = results["autograder --workers 2 (fork server)"][0]
    dask_runs = [r for name, r in results.items() if "Dask" in name]
    if dask_runs:
        print(f"\nDask / local pool wall time: {dask_runs[0][0] / local:.2f}")
    phases = results["autograder --workers 2 (fork server)"][1]
    print("\nwhere a notebook's time goes (--workers 2, fork server; mean seconds per notebook):")
    print("| " + " | ".join(PHASES) + " |\n|" + "---|" * len(PHASES))
    print("| " + " | ".join(f"{sum(phases[p]) / max(1, len(phases[p])):.3f}" for p in PHASES) + " |")
    print(f"load average at end {os.getloadavg()[0]:.2f}; files in {work}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

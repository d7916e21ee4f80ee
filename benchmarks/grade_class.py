"""Benchmark: grade a synthetic class with the autograder and with plain serial nbgrader.

    .venv/bin/python benchmarks/grade_class.py [--students 20] [--chapters ...] [--skip-nbgrader]

The class: ``--students`` students x every chapter of ``exercises/source`` (7 when the course is
complete), built from the source notebooks like ``make grade-demo`` does: 60 % correct answers,
30 % with one common mistake (a mutant of tests/mutants), 10 % the release untouched. The same
class is graded, in the same run, by

1. ``python -m autograder grade --workers 1``,
2. ``python -m autograder grade --workers 2``,
3. plain ``nbgrader generate_assignment`` + ``nbgrader autograde`` (serial), in a copy of the course.

Printed: notebooks per second of each, the speed-up over nbgrader, and the per-notebook
overhead of the autograder beyond the notebook's own execution time (the sum of its cells'
execution times, recorded in each autograded notebook's ``metadata.autograder``):
``overhead = wall time x workers / notebooks - mean cell time``. Goals on 2 cores: >= 1.8x
nbgrader's throughput with 2 workers, overhead <= 1.5 s per notebook.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import nbformat  # noqa: E402

from autograder import demo, gradebook, paths  # noqa: E402


def build(root, students, chapters):
    """The synthetic class; returns the number of notebooks."""
    mutants = demo.load_mutants()
    config = gradebook.course_config(paths.SOURCE)
    count = 0
    for chapter in chapters:
        source_path = paths.source_notebook(chapter)
        release = gradebook.release_version(source_path, config)
        correct = demo.reference_answers(nbformat.read(str(source_path), as_version=4))
        wrong = [m for m in mutants.get(chapter, []) if m.target in correct]
        for i in range(students):
            kind = (i * 7) % 10  # a permutation of 0-9 per block of 10: the same mix for a small class
            if kind < 6 or (not wrong and kind < 9):
                answers = correct
            elif kind < 9:
                mutant = wrong[i % len(wrong)]
                answers = {**correct, mutant.target: mutant.code}
            else:
                answers = {}
            demo.write_submission(root, f"student{i:03d}", chapter, nb=demo.student_notebook(release, answers))
            count += 1
    return count


def env():
    environ = dict(os.environ, PYTHONPATH=str(REPO), MPLBACKEND="Agg")
    environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environ.get('PATH', '')}"
    return environ


def timed(cmd, cwd=REPO):
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=cwd, env=env(), capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return elapsed, proc


def autograder(klass, out, workers, cell_timeout):
    elapsed, proc = timed([sys.executable, "-m", "autograder", "grade", klass, "--out", out,
                           "--workers", str(workers), "--cell-timeout", str(cell_timeout)])
    cells = []
    for path in Path(out, "autograded").rglob("*.ipynb"):
        meta = json.loads(path.read_text()).get("metadata", {}).get("autograder", {})
        cells.append(meta.get("cells_seconds", 0.0))
    scores = {(r["student_id"], r["assignment"]): r["score"] for r in _csv(Path(out) / "grades.csv")}
    return elapsed, cells, scores, proc.stdout


def _csv(path):
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def nbgrader(klass, work, chapters, cell_timeout):
    """Plain nbgrader on a copy of the course: generate_assignment, then autograde (timed)."""
    course = Path(work) / "course"
    shutil.copytree(paths.COURSE_ROOT, course, ignore=shutil.ignore_patterns("release", "autograded", "submitted",
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--chapters", nargs="*", default=None, help="default: every chapter")
    parser.add_argument("--cell-timeout", type=float, default=120)
    parser.add_argument("--skip-nbgrader", action="store_true")
    parser.add_argument("--keep", default=None, help="keep the class and outputs in this folder")
    args = parser.parse_args(argv)
    chapters = args.chapters or paths.chapter_ids()
    work = Path(args.keep or tempfile.mkdtemp(prefix="grade-bench-"))
    klass = work / "class"
    shutil.rmtree(klass, ignore_errors=True)
    n = build(klass, args.students, chapters)
    print(f"class: {args.students} students x {len(chapters)} chapters = {n} notebooks ({', '.join(chapters)})")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    results = {}
    for workers in (1, 2):
        out = work / f"out-w{workers}"
        shutil.rmtree(out, ignore_errors=True)
        elapsed, cells, scores, _ = autograder(klass, out, workers, args.cell_timeout)
        mean_cells = sum(cells) / len(cells)
        overhead = elapsed * workers / n - mean_cells
        results[workers] = (elapsed, scores)
        print(f"autograder --workers {workers}: {elapsed:7.1f} s  {n / elapsed:6.3f} notebooks/s  "
              f"mean cell time {mean_cells:5.2f} s  overhead {overhead:5.2f} s/notebook")
    assert results[1][1] == results[2][1], "--workers 1 and --workers 2 disagree"
    if not args.skip_nbgrader:
        elapsed, scores = nbgrader(klass, work / "nbgrader", chapters, args.cell_timeout)
        same = all(float(scores[k]) == float(v) for k, v in results[2][1].items())
        print(f"nbgrader autograde (serial): {elapsed:7.1f} s  {n / elapsed:6.3f} notebooks/s  "
              f"grades identical: {same}")
        print(f"speed-up --workers 2 vs nbgrader: {elapsed / results[2][0]:.2f}x  "
              f"(--workers 1 vs nbgrader: {elapsed / results[1][0]:.2f}x)")
    print(f"load average at end {os.getloadavg()[0]:.2f}; files in {work}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

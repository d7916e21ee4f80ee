"""Benchmark of the gradebook writes alone: judged notebooks recorded as the grading parent records them.

    .venv/bin/python benchmarks/gradebook_write.py [--notebooks 350] [--flush 50] [--profile 20] [--no-postgres]

Synthetic judged notebooks are built from the course's student versions (each chapter's release, as
``nbgrader generate_assignment`` writes it): every answer cell left untouched or answered, every test cell
passed, failed (an error) or given a partial score, as :func:`autograder.grading.decide.decide` leaves them.
They are recorded into a fresh gradebook (SQLite, and PostgreSQL when its binaries are installed: a throw-away
server on 127.0.0.1, as the test suite starts one) in transactions of ``--flush`` results
(:func:`autograder.grading.gradebook.one_transaction`, as the scheduler's flush), twice: first submissions
(new students), then the same class again (resubmissions over existing submissions, some with manual grades).

Printed: milliseconds per notebook of :func:`~autograder.grading.gradebook.record_per_call` (nbgrader's API
call by call, the grader's path before this benchmark) and of :func:`~autograder.grading.gradebook.record`,
then a cProfile of one more run of the latter (``--profile N`` functions). Timing only, no assertion; not part
of the tests.
"""

import argparse
import copy
import cProfile
import glob
import io
import os
import pstats
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nbformat.v4 import new_output  # noqa: E402
from nbgrader import utils as nbutils  # noqa: E402

from autograder.common.records import Job, Outcome, Status  # noqa: E402
from autograder.course import config as course  # noqa: E402
from autograder.grading import gradebook  # noqa: E402
from coursebook import paths  # noqa: E402

PATHS = {"per call (nbgrader's API, before)": "record_per_call", "record (now)": "record"}


def student_versions():
    """{assignment: (source path, student version)} of every chapter."""
    config = course.course_config(paths.SOURCE)
    out = {}
    for aid in paths.chapter_ids():
        source = paths.source_notebook(aid)
        out[aid] = (source, course.release_version(source, config))
    return config, out


def judged_notebook(student_nb, rng):
    """A judged submission: answers untouched or written, test cells passed, failed or partly scored."""
    nb = copy.deepcopy(student_nb)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and rng.random() < 0.85:
            cell.source += "\n# answered"
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            draw = rng.random()
            cell.outputs = ([] if draw < 0.6 else
                            [new_output("error", ename="AssertionError", evalue="wrong", traceback=[])] if draw < 0.9
                            else [new_output("execute_result", data={"text/plain": "0.5"}, execution_count=1)])
    return nb


def entries(versions, n, seed, resubmitted=False):
    """``n`` (job, outcome, judged) of students "s00000", ... cycling through the chapters."""
    rng = random.Random(seed)
    chapters = sorted(versions)
    out = []
    for i in range(n):
        aid = chapters[i % len(chapters)]
        sid = f"s{i // len(chapters):05d}"
        judged = judged_notebook(versions[aid][1], rng)
        scores = {}
        for cell in judged.cells:
            if nbutils.is_grade(cell) and cell.cell_type == "code" and not nbutils.is_solution(cell):
                score, points = nbutils.determine_grade(cell)
                scores[cell.metadata.nbgrader.grade_id] = (float(score or 0.0), float(points))
        stamp = f"2026-12-0{2 if resubmitted else 1} 10:00:00 UTC"
        job = Job(sid, aid, b"", f"{aid}.ipynb", f"{seed:064x}", stamp, ())
        out.append((job, Outcome(sid, aid, Status.OK, "", scores), judged))
    return out


def fresh_gradebook(url, config, versions):
    gb = gradebook.open_gradebook(url, config)
    for aid, (source, _nb) in versions.items():
        gradebook.register_assignment(gb, url, config, aid, source)
    return gb


def run(gb, batch, how, flush, profile=None):
    """Seconds to record ``batch`` in transactions of ``flush``."""
    write = getattr(gradebook, how)
    started = time.perf_counter()
    if profile is not None:
        profile.enable()
    for start in range(0, len(batch), flush):
        with gradebook.one_transaction(gb):
            for job, outcome, judged in batch[start:start + flush]:
                write(gb, job, outcome, copy.copy(judged), 1.0, "bench")
    if profile is not None:
        profile.disable()
    return time.perf_counter() - started


def add_manual_grades(gb, share, seed):
    """A grader's manual scores and comments on ``share`` of the submissions (kept over a resubmission)."""
    from nbgrader.api import Comment, Grade

    rng = random.Random(seed)
    for grade in gb.db.query(Grade).all():
        if rng.random() < share:
            grade.manual_score = 0.5
    for comment in gb.db.query(Comment).all():
        if rng.random() < share:
            comment.manual_comment = "see me"
    gb.db.commit()


def measure(label, make_url, versions, config, args):
    first = entries(versions, args.notebooks, 1)
    again = entries(versions, args.notebooks, 2, resubmitted=True)
    for name, how in [*PATHS.items(), ("profiled", args.profile_path)]:
        if name == "profiled" and not args.profile:
            break
        gb = fresh_gradebook(make_url(how), config, versions)
        profile = cProfile.Profile() if name == "profiled" else None
        new = run(gb, first, how, args.flush, profile)
        add_manual_grades(gb, 0.05, 3)
        resub = run(gb, again, how, args.flush, profile)
        gb.close()
        if profile is None:
            n = args.notebooks
            print(f"| {label} | {name} | {1000 * new / n:.2f} | {1000 * resub / n:.2f} |", flush=True)
        else:
            text = io.StringIO()
            pstats.Stats(profile, stream=text).sort_stats("cumulative").print_stats(args.profile)
            profiles.append((label, args.profile_path, text.getvalue()))


profiles = []


# -- a throw-away PostgreSQL on 127.0.0.1 (as tests/test_autograder_postgres.py) --------------------------------


def _pg_bin(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else None


class Postgres:
    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="gradebook-bench-pg-"))
        self.as_user = []
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.root, "postgres")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        data = self.root / "data"
        subprocess.run(self.as_user + [_pg_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E",
                                       "UTF8"], check=True, capture_output=True)
        subprocess.run(self.as_user + [_pg_bin("pg_ctl"), "-D", str(data), "-l", str(self.root / "log"), "-w",
                                       "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1",
                                       "start"], check=True, capture_output=True)
        self.count = 0

    def new_database(self, _how):
        import psycopg2

        self.count += 1
        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        conn.autocommit = True
        conn.cursor().execute(f"CREATE DATABASE bench{self.count}")
        conn.close()
        return gradebook.normalize_db_url(f"postgresql://postgres@127.0.0.1:{self.port}/bench{self.count}")

    def stop(self):
        subprocess.run(self.as_user + [_pg_bin("pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "-w",
                                       "stop"], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=int, default=350)
    parser.add_argument("--flush", type=int, default=50, help="results per transaction (the scheduler's)")
    parser.add_argument("--profile", type=int, default=20, help="functions of the profile printed (0: none)")
    parser.add_argument("--profile-path", choices=sorted(PATHS.values()), default="record")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    config, versions = student_versions()
    print(f"{args.notebooks} notebooks of {len(versions)} chapters, {args.flush} per transaction; "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| database | path | ms per notebook, first submissions | ms per notebook, resubmissions |")
    print("|---|---|---|---|")
    work = Path(tempfile.mkdtemp(prefix="gradebook-bench-"))
    try:
        measure("SQLite (WAL)", lambda how: f"sqlite:///{work / how}-{time.monotonic_ns()}.db", versions, config, args)
        if not args.no_postgres and _pg_bin("initdb"):
            server = Postgres()
            try:
                measure("PostgreSQL", server.new_database, versions, config, args)
            finally:
                server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    for label, name, text in profiles:
        print(f"\n## profile: {label}, {name}\n{text}")


if __name__ == "__main__":
    main()

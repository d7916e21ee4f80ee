"""Killing the grader mid-batch (SIGKILL, then SIGINT) loses nothing and duplicates nothing.

The same small class is graded twice: killed with SIGKILL once a few results are recorded, then
rerun; interrupted with SIGINT, then rerun. The reruns must grade only what is missing, and the
final grades.csv must hold exactly the rows an uninterrupted run writes for this class (one row
per student, every one ``ok`` without detail, 3 points for a correct answer, 0 for a wrong one
or a stub): no row lost, none duplicated, none changed.
"""

import signal
import sqlite3
import tempfile
import time
from pathlib import Path

import pytest

from tests.autograder_fixtures import cli, tiny

pytestmark = [pytest.mark.bwrap, pytest.mark.slow]

# Each answer sleeps 1.5 s so that a batch of 8 lasts long enough to be interrupted, and so that results reach the
# gradebook a few at a time: it commits the results queued for a second (scheduler.FLUSH_SECONDS) in one transaction,
# so with results closer together than that, a kill after 3 journal rows could find all 8 committed at once.
SLOW = "import time\ntime.sleep(1.5)\n"


# (answer, score, mistakes column): a stub left as released is marked not answered.
ANSWERS = [(tiny.CORRECT, "3", ""), (tiny.WRONG, "0", ""),
           ("raise NotImplementedError()", "0", "not_answered:min_max_scale")]
STUDENTS = 8


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("resume")
    source = tiny.make_course(root / "course")
    for i in range(STUDENTS):
        answer, _score, _mistakes = ANSWERS[i % 3]
        tiny.write(root / "class", f"student{i:02d}", notebook=tiny.student_notebook(SLOW + answer))
    return root, source


def _uninterrupted_rows():
    """grades.csv of an uninterrupted run of the class, as read by cli.read_csv."""
    return [{"student_id": f"student{i:02d}", "assignment": tiny.ASSIGNMENT, "score": ANSWERS[i % 3][1],
             "max_score": "3", "status": "ok", "mistakes": ANSWERS[i % 3][2], "detail": "",
             "raw_score": ANSWERS[i % 3][1], "late_penalty": "0", "seconds_late": "0", "review": ""}
            for i in range(STUDENTS)]


def _grade(root, source, out):
    return ("grade", root / "class", "--out", out, "--source", source, "--workers", 2, "--cell-timeout", 30)


def _journal_rows(out):
    path = out / "gradebook.db"
    for _ in range(50):
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
                return db.execute("select count(*) from autograder_outcome").fetchone()[0]
        except sqlite3.OperationalError:  # not created yet, or locked for a moment
            time.sleep(0.1)
    return 0


def _interrupt_after(root, source, out, signum, rows):
    proc = cli.start(*_grade(root, source, out))
    deadline = time.monotonic() + 300
    while _journal_rows(out) < rows and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, "the batch finished before it could be interrupted"
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=120)
    return proc, stdout, stderr


def _no_duplicates(out):
    with sqlite3.connect(out / "gradebook.db") as db:
        subs = db.execute("select count(*), count(distinct student_id || assignment_id) "
                          "from submitted_assignment join assignment on assignment.id = assignment_id").fetchone()
        journal = db.execute("select count(*) from autograder_outcome").fetchone()[0]
    return subs[0] == subs[1] == journal


def test_sigkill_then_rerun_grades_only_what_is_missing(course, tmp_path):
    root, source = course
    out = tmp_path / "out"
    proc, _stdout, _stderr = _interrupt_after(root, source, out, signal.SIGKILL, rows=3)
    assert proc.returncode == -signal.SIGKILL
    # checked at once: a grader that another test starts removes the stale temp folders of dead runs it finds
    assert list(Path(tempfile.gettempdir()).glob(f"autograder-{proc.pid}-*")), "the killed run left its temp folder"
    kept = _journal_rows(out)
    assert 3 <= kept < STUDENTS
    # the grader's workers and kernels die with it (PR_SET_PDEATHSIG), nothing keeps running
    deadline = time.monotonic() + 20
    while cli.sandbox_processes(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert cli.sandbox_processes(proc.pid) == []
    rerun = cli.run(*_grade(root, source, out))
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert not list(Path(tempfile.gettempdir()).glob(f"autograder-{proc.pid}-*")), "and the rerun removed it"
    assert not list(Path("/sys/fs/cgroup/memory").rglob(f"autograder-{proc.pid}-*")), "and its control groups"
    assert f"graded {STUDENTS - kept} of {STUDENTS - kept} notebook(s)" in rerun.stdout
    assert f"{kept} already graded, skipped" in rerun.stdout
    assert cli.read_csv(out / "grades.csv") == _uninterrupted_rows()
    assert _no_duplicates(out)


def test_sigint_stops_cleanly_and_rerun_finishes(course, tmp_path):
    root, source = course
    out = tmp_path / "out"
    proc, stdout, _stderr = _interrupt_after(root, source, out, signal.SIGINT, rows=2)
    assert proc.returncode == 130
    assert "INTERRUPTED" in stdout and "rerun the same command" in stdout
    kept = _journal_rows(out)
    assert len(cli.read_csv(out / "grades.csv")) == kept  # partial results are exported, not lost
    rerun = cli.run(*_grade(root, source, out))
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert f"{kept} already graded, skipped" in rerun.stdout
    assert cli.read_csv(out / "grades.csv") == _uninterrupted_rows()
    assert _no_duplicates(out)


def test_a_later_submission_is_regraded_an_earlier_result_is_kept(course, tmp_path):
    root, source = course
    out = tmp_path / "out"
    first = tmp_path / "first"
    tiny.write(first, "ann", notebook=tiny.student_notebook(tiny.WRONG), timestamp="2026-02-01 10:00:00 UTC")
    tiny.write(first, "bob", notebook=tiny.student_notebook(), timestamp="2026-02-01 10:00:00 UTC")
    args = ("--out", out, "--source", source, "--workers", 2)
    assert cli.run("grade", first, *args).returncode == 0
    second = tmp_path / "second"  # ann resubmits (later, correct); bob's older copy shows up again
    tiny.write(second, "ann", notebook=tiny.student_notebook(), timestamp="2026-02-02 10:00:00 UTC")
    tiny.write(second, "bob", notebook=tiny.student_notebook(tiny.WRONG), timestamp="2026-01-31 10:00:00 UTC")
    proc = cli.run("grade", second, *args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "graded 1 of 1 notebook(s)" in proc.stdout
    rows = cli.by_student(cli.read_csv(out / "grades.csv"))
    assert (rows["ann"]["score"], rows["bob"]["score"]) == ("3", "3")
    third = tmp_path / "third"  # a later batch with another student: earlier results stay
    tiny.write(third, "cat", notebook=tiny.student_notebook(tiny.WRONG))
    assert cli.run("grade", third, *args).returncode == 0
    rows = cli.by_student(cli.read_csv(out / "grades.csv"))
    assert sorted(rows) == ["ann", "bob", "cat"] and rows["cat"]["score"] == "0"

"""Grades equal plain serial ``nbgrader autograde``, cell by cell, and --workers 1 equals --workers 2.

A small class of the first chapter's real exercise notebook (correct, catalogued mistakes, release
untouched, an edited test cell, a deleted test cell) is graded three times: by the autograder with 2
workers, with 1 worker, and by nbgrader itself (generate_assignment, then autograde, in a copy of
the course, with ``solutions`` on the kernel's path as nbgrader needs: there the same checks run
in-process). Pristine notebooks get equal grades cell by cell; a deleted test cell is where the two
differ by design: nbgrader scores it 0, the autograder restores it and grades the answer.
"""

import os
import subprocess
import sys

import pytest
from nbgrader.api import Gradebook

from autograder.authoring import demo
from autograder.course.config import course_config, release_version
from autograder.course.sources import reference_answers, with_answers
from autograder.grading import gradebook
from coursebook import paths
from solutions.chapters import chapter as declared
from tests.autograder_fixtures import cli
from tests.notebooks import copy_course

pytestmark = [pytest.mark.bwrap, pytest.mark.slow]

CHAPTER = paths.chapter_ids()[0]


def _edit(nb, grade_id, source=None):
    """Delete (source None) or rewrite the test cell ``grade_id``."""
    cells = []
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            if source is None:
                continue
            cell.source = source
        cells.append(cell)
    nb.cells = cells
    return nb


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    root = tmp_path_factory.mktemp("nbgrader-equality")
    source_path = paths.source_notebook(CHAPTER)
    release = release_version(source_path, course_config(paths.SOURCE))
    correct = reference_answers(source_path)
    mutants = [m for m in demo.catalogued_mistakes(declared(CHAPTER), correct) if m[1] in correct]
    tests = [c.metadata.nbgrader["grade_id"] for c in release.cells if c.metadata.get("nbgrader", {}).get("grade")]
    students = {
        "ada": with_answers(release, correct),
        "dana": with_answers(release, {}),
        "eve": _edit(with_answers(release, correct), tests[0]),  # a deleted test cell
        "fay": _edit(with_answers(release, {**correct, mutants[0][1]: mutants[0][2]}),
                     tests[0], "pass  # my tests now"),  # an edited test cell, restored by both graders
    }
    for i, (_name, target, code) in enumerate(mutants[1::3]):  # (mutants[0] is fay's)
        students[f"mutant {i}"] = with_answers(release, {**correct, target: code})
    for student, nb in students.items():
        demo.write_submission(root / "class", student, CHAPTER, nb=nb)
    return root


def _grade(klass, workers):
    out = klass / f"out-{workers}"
    proc = cli.run("grade", klass / "class", "--out", out, "--workers", workers)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def _cell_scores(db_url, course_id):
    with Gradebook(db_url, course_id) as gb:
        scores = {}
        for submission in gb.find_assignment(CHAPTER).submissions:
            notebook = submission.notebooks[0]
            scores[submission.student.id] = {g.name: float(g.score) for g in notebook.grades}
        return scores


@pytest.fixture(scope="module")
def nbgrader_scores(klass):
    course = copy_course(klass / "course")
    env = dict(cli.env(), PATH=f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}")
    nbgrader = [sys.executable, "-m", "nbgrader"]
    for args in (["generate_assignment", CHAPTER, "--force"], None, ["autograde", CHAPTER]):
        if args is None:
            subprocess.run(["cp", "-r", str(klass / "class"), str(course / "submitted")], check=True)
            continue
        proc = subprocess.run(nbgrader + args, cwd=course, env=env, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stderr[-3000:]
    course_id = course_config(paths.SOURCE).CourseDirectory.course_id
    return _cell_scores(f"sqlite:///{course / 'gradebook.db'}", course_id)


@pytest.fixture(scope="module")
def out_two(klass):
    return _grade(klass, 2)


def test_parallel_grades_equal_nbgrader_cell_by_cell(out_two, nbgrader_scores):
    out = out_two
    course_id = course_config(paths.SOURCE).CourseDirectory.course_id
    ours = _cell_scores(gradebook.default_db_url(out), course_id)
    pristine = {s: cells for s, cells in ours.items() if s != "eve"}
    assert pristine == {s: cells for s, cells in nbgrader_scores.items() if s != "eve"}
    # the class exercises both ends and the middle: not all equal
    totals = {s: sum(cells.values()) for s, cells in ours.items()}
    assert totals["ada"] > 0 and totals["dana"] == 0
    assert sum(1 for s in totals if s.startswith("mutant") and 0 < totals[s] < totals["ada"]) >= 3
    rows = cli.by_student(cli.read_csv(out / "grades.csv"))
    assert {s: float(r["score"]) for s, r in rows.items()} == totals
    # a deleted test cell: nbgrader scores it 0, the autograder restores it and grades the (correct) answer
    assert totals["eve"] == totals["ada"] > sum(nbgrader_scores["eve"].values())
    assert "repaired" in rows["eve"]["detail"]
    assert all(rows[s]["mistakes"] for s in totals if s.startswith("mutant")), "each catalogued mistake is named"


def test_one_worker_equals_two_workers(klass, out_two):
    one = _grade(klass, 1)
    assert (one / "grades.csv").read_text() == (out_two / "grades.csv").read_text()

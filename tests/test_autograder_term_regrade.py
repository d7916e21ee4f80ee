"""Regrading and manual grades in an instructor's term: ``--force`` with ``--student``/``--assignment``
regrades exactly those, keeping manual grades and comments; a resubmission after a manual grade is listed for
review in the summary, grades.csv and the report; the grading folder is an nbgrader course of its own with a
table for an LMS. One class of two assignments is graded once per module; each test works on a copy.

Every nbgrader and grader command runs with ``PATH=/usr/bin:/bin`` (no virtualenv on it), as an
instructor's shell would be (:mod:`tests.autograder_fixtures.term`).
"""

import html
import re
import shutil
import sqlite3
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from tests.autograder_fixtures import tiny, tiny_second
from tests.autograder_fixtures.term import (
    PARTIAL,
    STUDENTS,
    assert_outputs_agree,
    autograder,
    make_course,
    nbgrader,
    read_csv,
)

pytestmark = [pytest.mark.bwrap, pytest.mark.slow]


# -- regrading, selections, manual grades ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_chapters(tmp_path_factory):
    """ann, bob, cat x 99-tiny, 98-tiny, graded once into a grading folder of its own (not the course root);
    each test works on a copy (:func:`copy_of`)."""
    root = tmp_path_factory.mktemp("term-class")
    source = make_course(root / "course")
    for student, code in STUDENTS.items():
        tiny.write(root / "class", student, notebook=tiny.student_notebook(code), timestamp="2026-03-01 10:00:00 UTC")
        tiny.write(root / "class", student, notebook=tiny_second.student_notebook(code),
                   timestamp="2026-03-01 10:00:00 UTC", folder=Path(student) / tiny_second.ASSIGNMENT,
                   name=f"{tiny_second.ASSIGNMENT}.ipynb")
    proc = autograder("grade", root / "class", "--out", root / "grading", "--source", source, "--workers", 2)
    assert "graded 6 of 6 notebook(s)" in proc.stdout
    return root


def copy_of(root, tmp_path):
    """A test's own copy of a shared graded class: course, class and grading folder move together (the
    grading folder's config names the course by a relative path)."""
    shutil.copytree(root, tmp_path / "term")
    return tmp_path / "term"


def _graded_at(out):
    with sqlite3.connect(out / "gradebook.db") as db:
        return {(s, a): t for s, a, t in db.execute(
            "select student_id, assignment_id, graded_at from autograder_outcome")}


def test_force_and_selections_regrade_exactly_those_and_keep_manual_grades(two_chapters, tmp_path):
    root = copy_of(two_chapters, tmp_path)
    source, klass, out = root / "course" / "source", root / "class", root / "grading"
    args = ("--out", out, "--source", source, "--workers", 2)
    # a grader's work, as the formgrader stores it: bob's wrong function gets 1 of 2 with a comment, ann a comment
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        grade = gb.find_grade("test_min_max_scale_tiny", tiny.ASSIGNMENT, tiny.ASSIGNMENT, "bob")
        grade.manual_score, grade.needs_manual_grade = 1.0, False
        gb.find_comment("min_max_scale", tiny.ASSIGNMENT, tiny.ASSIGNMENT, "bob").manual_comment = "Rows, not columns."
        gb.find_comment("min_max_scale", tiny_second.ASSIGNMENT, tiny_second.ASSIGNMENT, "ann").manual_comment = "Neat."
        gb.db.commit()
    proc = autograder("grade", klass, *args)
    assert "graded 0 of 0 notebook(s)" in proc.stdout and "6 already graded" in proc.stdout
    assert "feedback pages rewritten from the gradebook (manual grades, comments, late penalties): 2" in proc.stdout
    assert assert_outputs_agree(out)[("bob", tiny.ASSIGNMENT)] == 1.0
    before = _graded_at(out)

    proc = autograder("grade", klass, *args, "--force", "--student", "bob", "--assignment", tiny.ASSIGNMENT)
    assert "graded 1 of 1 notebook(s)" in proc.stdout
    after = _graded_at(out)
    assert {k for k in after if after[k] != before[k]} == {("bob", tiny.ASSIGNMENT)}
    proc = autograder("grade", klass, *args, "--force", "--student", "ann", "--student", "cat")
    assert "graded 4 of 4 notebook(s)" in proc.stdout
    again = _graded_at(out)
    assert {k for k in again if again[k] != after[k]} == {(s, a) for s in ("ann", "cat")
                                                          for a in (tiny.ASSIGNMENT, tiny_second.ASSIGNMENT)}
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:  # nothing of the grader's work was lost
        grade = gb.find_grade("test_min_max_scale_tiny", tiny.ASSIGNMENT, tiny.ASSIGNMENT, "bob")
        assert (grade.manual_score, grade.auto_score, grade.needs_manual_grade) == (1.0, 0.0, True)
        assert gb.find_comment("min_max_scale", tiny.ASSIGNMENT, tiny.ASSIGNMENT, "bob").manual_comment \
            == "Rows, not columns."
        assert gb.find_comment("min_max_scale", tiny_second.ASSIGNMENT, tiny_second.ASSIGNMENT, "ann").manual_comment \
            == "Neat."
    scores = assert_outputs_agree(out)
    assert scores[("bob", tiny.ASSIGNMENT)] == 1.0
    assert "Rows, not columns." in (out / "feedback" / "bob" / tiny.ASSIGNMENT / f"{tiny.ASSIGNMENT}.html").read_text()
    assert "Neat." in (out / "feedback" / "ann" / tiny_second.ASSIGNMENT / f"{tiny_second.ASSIGNMENT}.html").read_text()

    for bad, said in ((("--student", "zed"), "no submission of student(s) 'zed'"),
                      (("--assignment", "42-unknown"), "unknown assignment(s) 42-unknown")):
        proc = autograder("grade", klass, *args, *bad, check=False)
        assert proc.returncode == 2 and said in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_a_resubmission_after_a_manual_grade_is_listed_for_review_everywhere(two_chapters, tmp_path):
    root = copy_of(two_chapters, tmp_path)
    source, out = root / "course" / "source", root / "grading"
    args = ("--out", out, "--source", source, "--workers", 2)
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        grade = gb.find_grade("test_min_max_scale_tiny", tiny.ASSIGNMENT, tiny.ASSIGNMENT, "bob")
        grade.manual_score, grade.needs_manual_grade = 1.0, False
        gb.db.commit()
    tiny.write(root / "second", "bob", notebook=tiny.student_notebook(), timestamp="2026-03-02 10:00:00 UTC")
    proc = autograder("grade", root / "second", *args)
    assert "graded 1 of 1 notebook(s)" in proc.stdout
    why = "manual grade 1 of 2 kept on test_min_max_scale_tiny, the autograder now gives 2"
    assert "needs review: 1 submission(s)" in proc.stdout and why in proc.stdout
    reviews = {(r["student_id"], r["assignment"]): r["review"] for r in read_csv(out / "grades.csv")}
    assert why in reviews.pop(("bob", tiny.ASSIGNMENT)) and set(reviews.values()) == {""}
    scores = assert_outputs_agree(out)  # the manual grade counts until a grader decides: 1 + 1, everywhere
    assert scores[("bob", tiny.ASSIGNMENT)] == 2.0
    report = html.unescape((out / "report.html").read_text(encoding="utf-8"))
    assert "Listed for review (1)" in report and why in report
    # cat's partial answer stays an undiagnosed failure (the tiny chapter has no catalogue); bob's manual grade is none
    undiagnosed = re.findall(rf"<tr><td>{tiny.ASSIGNMENT}</td><td>[^<]*</td><td><i>no diagnosis</i></td>.*?"
                             r"<td>([^<]*)</td></tr>", report)
    assert undiagnosed == ["cat"], "a manual grade is no undiagnosed failure"
    # the grader accepts the new autograde in the formgrader (clears the manual score): review gone, 3 everywhere
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        grade = gb.find_grade("test_min_max_scale_tiny", tiny.ASSIGNMENT, tiny.ASSIGNMENT, "bob")
        grade.manual_score, grade.needs_manual_grade = None, False
        gb.db.commit()
    proc = autograder("feedback", "--out", out, "--source", source)
    assert "needs review" not in proc.stdout and "feedback pages rewritten: 1;" in proc.stdout
    assert assert_outputs_agree(out)[("bob", tiny.ASSIGNMENT)] == 3.0
    assert {r["review"] for r in read_csv(out / "grades.csv")} == {""}


# -- the output folder as a course of its own, LMS export, nbgrader from the venv --------------------------------


def test_grading_folder_is_a_course_of_its_own_with_an_lms_table(two_chapters, tmp_path):
    root = copy_of(two_chapters, tmp_path)  # moved: nbgrader below runs in the copy
    source, out = root / "course" / "source", root / "grading"
    config = (out / "nbgrader_config.py").read_text()
    assert "load_subconfig" in config and str(two_chapters) not in config, "relative paths: the folders move together"
    roster = tmp_path / "roster.csv"  # what an instructor imports from the LMS
    roster.write_text("id,first_name,last_name,email,lms_user_id\nann,Ann,Lee,ann@school.invalid,lms-17\n"
                      "bob,Bob,Kim,bob@school.invalid,lms-23\ndan,Dan,Park,dan@school.invalid,lms-31\n")
    nbgrader("db", "student", "import", roster, cwd=out)  # nbgrader's own command, in the grading folder
    assert "dan" in nbgrader("db", "student", "list", cwd=out).stdout
    autograder("feedback", "--out", out, "--source", source)
    wide = {r["student_id"]: r for r in read_csv(out / "grades-wide.csv")}
    assert list(next(iter(wide.values()))) == ["student_id", "first_name", "last_name", "email", "lms_user_id",
                                                tiny_second.ASSIGNMENT, tiny.ASSIGNMENT, "total", "max_total"]
    assert (wide["ann"]["first_name"], wide["ann"]["email"], wide["ann"]["lms_user_id"]) == \
        ("Ann", "ann@school.invalid", "lms-17")
    assert {s: (r[tiny_second.ASSIGNMENT], r[tiny.ASSIGNMENT], r["total"], r["max_total"])
            for s, r in wide.items()} == {"ann": ("2", "3", "5", "5"), "bob": ("0", "0", "0", "5"),
                                          "cat": ("2", "2", "4", "5"), "dan": ("0", "0", "0", "5")}
    export = {}
    for r in read_csv(out / "nbgrader_export.csv"):  # the same numbers as nbgrader's export, summed
        export[r["student_id"]] = export.get(r["student_id"], 0.0) + float(r["score"])
    assert export == {s: float(r["total"]) for s, r in wide.items()}




def test_a_changed_source_regrades_its_chapter_and_a_removed_cell_is_refused(two_chapters, tmp_path):
    """Changing a test's points in the source notebook (``--source``) regrades that chapter on the next run, no
    ``--force``; removing a graded cell of an assignment with grades is refused by nbgrader: one line, exit 2."""
    root = copy_of(two_chapters, tmp_path)
    source, klass, out = root / "course" / "source", root / "class", root / "grading"
    path = source / tiny.ASSIGNMENT / f"{tiny.ASSIGNMENT}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_min_max_scale_tiny_range":
            cell.metadata["nbgrader"]["points"] = 2
    nbformat.write(nb, str(path))
    proc = autograder("grade", klass, "--out", out, "--source", source, "--workers", 2)
    assert "graded 3 of 3 notebook(s)" in proc.stdout and "3 already graded" in proc.stdout, proc.stdout
    rows = {(r["student_id"], r["assignment"]): r for r in read_csv(out / "grades.csv")}
    assert {s: (rows[(s, tiny.ASSIGNMENT)]["score"], rows[(s, tiny.ASSIGNMENT)]["max_score"]) for s in STUDENTS} \
        == {"ann": ("4", "4"), "bob": ("0", "4"), "cat": ("2", "4")}
    assert_outputs_agree(out)
    range_test = "test_min_max_scale_tiny_range"
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != range_test]
    nbformat.write(nb, str(path))
    proc = autograder("grade", klass, "--out", out, "--source", source, "--workers", 2, check=False)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr[-2000:]
    assert "Cannot add or remove cells" in proc.stderr and "grade into a new --out" in proc.stderr


# -- the class's undiagnosed failures, grouped ----------------------------------------------------------------


def test_undiagnosed_failures_of_a_graded_class_are_grouped_by_their_verdict(tmp_path):
    """Three students with the same wrong answer (the tiny chapter has no catalogue: no diagnosis) are one group
    per failing test cell, in ``autograder mistakes`` and in the report; another wrong answer is a group of its
    own; the correct answer is in none. Nothing is run again: the command reads the graded folder."""
    source, out = make_course(tmp_path / "course"), tmp_path / "grading"
    answers = {"ann": tiny.WRONG, "ben": tiny.WRONG, "cat": tiny.WRONG, "dan": PARTIAL, "eve": tiny.CORRECT}
    for student, code in answers.items():
        tiny.write(tmp_path / "class", student, notebook=tiny.student_notebook(code))
    autograder("grade", tmp_path / "class", "--out", out, "--source", source, "--assignment", tiny.ASSIGNMENT,
               "--workers", 2)
    lost = {(r["student_id"]) for r in read_csv(out / "grades.csv") if float(r["score"]) < float(r["max_score"])}
    assert lost == {"ann", "ben", "cat", "dan"}
    printed = autograder("mistakes", "--out", out).stdout
    groups = re.findall(rf"^(\d+) submission\(s\): {tiny.ASSIGNMENT} / min_max_scale / (\w+), .*\n  students: (.*)$",
                        printed, re.M)
    assert groups, printed
    assert {students for _n, _test, students in groups} == {"ann, ben, cat", "dan"}, printed
    assert all(int(n) == len(students.split(", ")) for n, _test, students in groups)
    assert groups[0][0] == "3" and "eve" not in printed
    report = html.unescape((out / "report.html").read_text(encoding="utf-8"))
    assert "Failures no catalogued mistake explains, grouped" in report and "<td>ann, ben, cat</td>" in report

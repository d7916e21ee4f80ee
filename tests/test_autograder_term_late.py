"""Late penalties of an instructor's term: equal to plain nbgrader's export for the same late submissions
(``penalty_method='zero'`` and a plugin class of the course's own), in ``grades.csv``, the summary, the report and
the feedback page; a due date moved or an extension granted after grading is honoured by ``autograder feedback``.

Every nbgrader and grader command runs with ``PATH=/usr/bin:/bin`` (no virtualenv on it), as an
instructor's shell would be (:mod:`tests.autograder_fixtures.term`).
"""

import re
import shutil

import pytest
from nbgrader.api import Gradebook

from tests.autograder_fixtures import tiny
from tests.autograder_fixtures.term import PARTIAL, assert_outputs_agree, autograder, make_course, nbgrader, read_csv

pytestmark = [pytest.mark.bwrap, pytest.mark.slow]

PER_DAY = '''
import math
from nbgrader.plugins import LateSubmissionPlugin


class TenPercentPerDay(LateSubmissionPlugin):
    """A course's own policy: a tenth of the score per started day."""

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return round(score * 0.1 * math.ceil(total_seconds_late / 86400), 6)


c.AssignLatePenalties.plugin_class = TenPercentPerDay
'''


# -- late penalties ---------------------------------------------------------------------------------------------

DUE = "2026-02-01 12:00:00 UTC"
# student: (answer, submitted at): on time, 30 min, 4 days and 2 h late, partly right and a day late
LATE_CLASS = {"ontime": (tiny.CORRECT, "2026-02-01 11:00:00 UTC"),
              "halfhour": (tiny.CORRECT, "2026-02-01 12:30:00 UTC"),
              "fourdays": (tiny.CORRECT, "2026-02-05 12:00:00 UTC"),
              "wronglate": (tiny.WRONG, "2026-02-01 14:00:00 UTC"),
              "partial": (PARTIAL, "2026-02-02 09:00:00 UTC")}


@pytest.fixture(scope="module")
def late_classes(tmp_path_factory):
    """``late_classes(policy)``: the late class graded by plain nbgrader and by the grader (each into a course
    root whose config sets ``policy``), once per policy for the whole module. Plain nbgrader executes the class
    once, under the first policy asked for; the other policy is nbgrader's own penalty step (``autograde
    --no-execute``) on the notebooks it executed, so both exports are nbgrader's, from one execution."""
    made = {}

    def graded(policy):
        if policy not in made:
            executed = next((root / "plain" / "autograded" for root, _ in made.values()), None)
            made[policy] = _grade_late_class(tmp_path_factory.mktemp(f"term-late-{policy}"), policy, executed)
        return made[policy]

    return graded


def _grade_late_class(root, policy, executed=None):
    """Grade the late class under ``policy``; plain nbgrader executes it unless ``executed`` holds its
    ``autograded`` folder of another policy's course (then its notebooks are graded as they are)."""
    extra = "c.LateSubmissionPlugin.penalty_method = 'zero'\n" if policy == "zero" else PER_DAY
    for student, (code, stamp) in LATE_CLASS.items():
        tiny.write(root / "class", student, notebook=tiny.student_notebook(code), timestamp=stamp)
    plain, ours = root / "plain", root / "ours"
    for course in (plain, ours):
        make_course(course, extra)
        nbgrader("db", "assignment", "add", tiny.ASSIGNMENT, f"--duedate={DUE}", cwd=course)
    nbgrader("generate_assignment", tiny.ASSIGNMENT, cwd=plain)
    if executed is None:
        shutil.copytree(root / "class", plain / "submitted")
        nbgrader("autograde", tiny.ASSIGNMENT, cwd=plain)
    else:  # the executed notebooks and their timestamp.txt: scored from their outputs, late by their timestamps
        shutil.copytree(executed, plain / "submitted")
        nbgrader("autograde", tiny.ASSIGNMENT, "--no-execute", cwd=plain)
    nbgrader("export", "--to", plain / "export.csv", cwd=plain)
    proc = autograder("grade", root / "class", "--out", ours, "--source", ours / "source", "--workers", 2)
    return root, proc


@pytest.mark.parametrize("policy", ["zero", "per_day"])
def test_late_penalties_equal_plain_nbgraders_export(late_classes, policy):
    root, proc = late_classes(policy)
    plain, ours = root / "plain", root / "ours"

    def export(path):
        return {r["student_id"]: r for r in read_csv(path)}

    theirs, mine = export(plain / "export.csv"), export(ours / "nbgrader_export.csv")
    assert theirs == mine  # due date, timestamps, raw scores, penalties, scores: column by column
    penalties = {s: float(r["late_submission_penalty"]) for s, r in theirs.items()}
    if policy == "zero":
        assert penalties == {"ontime": 0, "halfhour": 3, "fourdays": 3, "wronglate": 0, "partial": 2}
    else:
        assert penalties == {"ontime": 0, "halfhour": 0.3, "fourdays": 1.2, "wronglate": 0, "partial": 0.2}
    rows = {r["student_id"]: r for r in read_csv(ours / "grades.csv")}
    for student, r in rows.items():
        assert float(r["late_penalty"]) == penalties[student]
        assert float(r["score"]) == float(theirs[student]["score"]) == float(r["raw_score"]) - penalties[student]
    assert {s: r["seconds_late"] for s, r in rows.items()} == {
        "ontime": "0", "halfhour": "1800", "fourdays": "345600", "wronglate": "7200", "partial": "75600"}
    assert_outputs_agree(ours)
    assert "late: 4 submission(s) after the due date" in proc.stdout
    assert re.search(r"fourdays\s+99-tiny\s+4 days late", proc.stdout), proc.stdout
    report = (ours / "report.html").read_text(encoding="utf-8")
    assert "Late submissions (4)" in report and "30 min" in report
    page = (ours / "feedback" / "halfhour" / tiny.ASSIGNMENT / f"{tiny.ASSIGNMENT}.html").read_text(encoding="utf-8")
    assert "Late submission penalty" in page


def test_a_due_date_moved_or_an_extension_after_grading_recomputes_the_penalty(late_classes, tmp_path):
    """A due date moved and an extension granted after grading (``nbgrader db`` in the course root, or the
    formgrader): ``autograder feedback`` recomputes the penalties from the gradebook, as nbgrader's would."""
    shutil.copytree(late_classes("zero")[0] / "ours", tmp_path / "ours")
    out = tmp_path / "ours"  # the course root the grader graded into
    source = out / "source"
    assert float({r["student_id"]: r for r in read_csv(out / "grades.csv")}["halfhour"]["score"]) == 0
    nbgrader("db", "assignment", "add", tiny.ASSIGNMENT, "--duedate=2026-02-02 10:00:00 UTC", cwd=out)
    proc = autograder("feedback", "--out", out, "--source", source)
    # halfhour and partial are on time now: their pages change; fourdays stays late (and scored 0)
    assert "feedback pages rewritten: 2;" in proc.stdout, proc.stdout
    rows = {r["student_id"]: r for r in read_csv(out / "grades.csv")}
    assert {s: (r["score"], r["late_penalty"]) for s, r in rows.items()} == {
        "ontime": ("3", "0"), "halfhour": ("3", "0"), "fourdays": ("0", "3"), "wronglate": ("0", "0"),
        "partial": ("2", "0")}
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        gb.grant_extension(tiny.ASSIGNMENT, "fourdays", days=5)
    autograder("feedback", "--out", out, "--source", source)
    rows = {r["student_id"]: r for r in read_csv(out / "grades.csv")}
    assert (rows["fourdays"]["score"], rows["fourdays"]["late_penalty"], rows["fourdays"]["seconds_late"]) == \
        ("3", "0", "0")
    assert rows["halfhour"]["score"] == "3"
    assert_outputs_agree(out)



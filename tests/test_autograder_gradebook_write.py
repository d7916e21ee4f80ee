"""The gradebook rows :func:`gradebook.record` writes equal, column by column, those of nbgrader's API.

:func:`autograder.grading.gradebook.record` writes a flush of results with a few queries per submission
(nbgrader's objects loaded once per transaction, nbgrader's own ``SaveAutoGrades`` scoring on them, the rows of
``add_submission`` built by hand). :func:`~autograder.grading.gradebook.record_per_call` is the oracle: the same
entries through nbgrader's API call by call (``update_or_create_student``, ``update_or_create_submission``,
``SaveAutoGrades`` with its ``find_grade``/``find_comment`` per cell), as the grader wrote them before.

Property (Hypothesis): for any sequence of flushes (random scores and outputs, stderr, partial credit, answers
left unanswered, statuses without a notebook, resubmissions over submissions a grader gave manual grades and
comments, new students, ids the grader keeps out of the gradebook, an entry nbgrader refuses), both paths leave
every table of the gradebook (nbgrader's and the grader's journal) equal, row by row and column by column, with
nbgrader's random row ids mapped to natural keys, and refuse the same entries. Flushes run as the scheduler runs
them: one transaction, and when it fails each entry in a transaction of its own.
"""

import os
import random
import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nbformat.v4 import new_markdown_cell, new_output
from sqlalchemy import MetaData, select
from traitlets.config import Config

from autograder.common.records import Job, Outcome, Status
from autograder.course import config as course
from autograder.grading import gradebook
from tests.autograder_fixtures import tiny

pytestmark = pytest.mark.filterwarnings("ignore:Object of type <\\w+> not in session")

FUZZ = int(os.environ.get("AUTOGRADER_FUZZ_EXAMPLES", "0"))
SETTINGS = settings(max_examples=FUZZ or 25, deadline=None, derandomize=not FUZZ, database=None,
                    suppress_health_check=list(HealthCheck))
AID = tiny.ASSIGNMENT
UNKNOWN_AID = "98-not-registered"  # an entry nbgrader refuses: no such assignment
TESTS = ["test_min_max_scale_tiny", "test_min_max_scale_tiny_range"]
WRITTEN, TASK = "explain_scaling", "task_plot"
STUDENTS = ["ann", "bob", "eve"]
BAD_IDS = ["", "x" * 300, "a\x01b"]  # kept out of nbgrader's tables when the notebook is invalid for its id
STAMPS = ["", "2026-12-01 10:00:00 UTC", "2026-12-03 09:30:00.5 UTC"]
OUTPUTS = {
    "passed": [],
    "error": [new_output("error", ename="AssertionError", evalue="wrong", traceback=[])],
    "stderr": [new_output("stream", name="stderr", text="RuntimeWarning: divide by zero\n")],
    "stdout": [new_output("stream", name="stdout", text="ok\n")],
    "partial": [new_output("execute_result", data={"text/plain": "0.5"}, execution_count=1)],
    "not a number": [new_output("execute_result", data={"text/plain": "'half'"}, execution_count=1)],
}


def _source():
    """tiny's assignment with a written answer (a manually graded markdown cell) and a task cell."""
    nb = tiny.source_notebook()
    meta = {"grade": True, "grade_id": WRITTEN, "locked": False, "points": 2, "schema_version": 3,
            "solution": True, "task": False}
    nb.cells.append(new_markdown_cell("Why scale each column?\n\nYOUR ANSWER HERE", metadata={"nbgrader": meta}))
    meta = {"grade": False, "grade_id": TASK, "locked": True, "points": 1, "schema_version": 3,
            "solution": False, "task": True}
    nb.cells.append(new_markdown_cell("Plot the scaled columns.", metadata={"nbgrader": meta}))
    return nb


@pytest.fixture(scope="module")
def course_files(tmp_path_factory):
    """(a gradebook with the assignment registered, the student version of its notebook)."""
    root = tmp_path_factory.mktemp("gbwrite")
    source = root / "source" / AID / f"{AID}.ipynb"
    source.parent.mkdir(parents=True)
    nbformat.write(_source(), str(source))
    url = f"sqlite:///{root / 'template.db'}"
    gb = gradebook.open_gradebook(url, Config())
    gradebook.register_assignment(gb, url, Config(), AID, source)
    gb.close()
    return root / "template.db", course.release_version(source)


# -- entries -----------------------------------------------------------------------------------------------------


@st.composite
def entries(draw, released):
    """One queued result: (job, outcome, judged notebook or None)."""
    sid = draw(st.one_of(st.sampled_from(STUDENTS), st.sampled_from(BAD_IDS),
                         st.text("abcdefgh", min_size=4, max_size=6).map(lambda s: "new-" + s)))
    aid = draw(st.sampled_from([AID] * 9 + [UNKNOWN_AID]))
    status = draw(st.sampled_from([Status.OK, Status.OK, Status.OK, Status.CELL_TIMEOUT, Status.GRADER_ERROR,
                                   Status.INVALID_NOTEBOOK, Status.MISSING_NOTEBOOK]))
    judged = None
    if status not in (Status.GRADER_ERROR, Status.MISSING_NOTEBOOK) and draw(st.booleans()):
        judged = nbformat.from_dict(nbformat.reads(nbformat.writes(released), as_version=4))
        for cell in judged.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in TESTS:
                cell.outputs = [o for kind in draw(st.lists(st.sampled_from(sorted(OUTPUTS)), max_size=2))
                                for o in OUTPUTS[kind]]
            elif grade_id in ("min_max_scale", WRITTEN) and draw(st.booleans()):
                cell.source = tiny.CORRECT if grade_id == "min_max_scale" else "Columns have different units."
    graded = draw(st.lists(st.sampled_from(TESTS), unique=True))
    scores = {g: (draw(st.sampled_from([0.0, 0.5, 1.0, 2.0])), 2.0 if g == TESTS[0] else 1.0) for g in graded}
    stamp = draw(st.sampled_from(STAMPS))
    job = Job(sid, aid, b"{}", f"{aid}.ipynb", draw(st.sampled_from(["a" * 64, "b" * 64])), stamp, ())
    outcome = Outcome(sid, aid, status, draw(st.sampled_from(["", "detail"])), scores,
                      tuple(draw(st.lists(st.sampled_from(["m1", "m2"]), unique=True))), repaired=draw(st.booleans()))
    return job, outcome, judged, tuple(draw(st.lists(st.sampled_from(["renamed", "late"]), max_size=2)))


# -- the two paths, as the scheduler runs a flush ------------------------------------------------------------------


def _flush(gb, write, batch):
    """The scheduler's flush: one transaction; if it fails, each entry in a transaction of its own.
    Returns the indices of the entries that could not be recorded."""
    try:
        with gradebook.one_transaction(gb):
            for job, outcome, judged, review in batch:
                write(gb, job, outcome, _copy(judged), 2.5, "worker-1", review=review)
        return set()
    except Exception:  # noqa: BLE001 - the fallback under test
        failed = set()
        for i, (job, outcome, judged, review) in enumerate(batch):
            try:
                with gradebook.one_transaction(gb):
                    write(gb, job, outcome, _copy(judged), 2.5, "worker-1", review=review)
            except Exception:  # noqa: BLE001
                failed.add(i)
        return failed


def _copy(nb):
    return None if nb is None else nbformat.from_dict(nbformat.reads(nbformat.writes(nb), as_version=4))


def _grade_manually(gb, seed):
    """A grader in the formgrader: manual scores, extra credit and comments on some cells, a flag (same rows in
    both gradebooks: the same draws over the rows in their natural order)."""
    from nbgrader.api import Comment, Grade, SubmittedNotebook

    rng = random.Random(seed)

    def natural(row):
        return (row.notebook.assignment.student_id, row.notebook.assignment.assignment.name, row.cell.name)

    for grade in sorted(gb.db.query(Grade).all(), key=natural):
        if rng.random() < 0.4:
            grade.manual_score = rng.choice([0.0, 1.0])
            grade.extra_credit = rng.choice([None, 0.5])
    for comment in sorted(gb.db.query(Comment).all(), key=natural):
        if rng.random() < 0.4:
            comment.manual_comment = rng.choice(["good", "see me"])
    for nb in sorted(gb.db.query(SubmittedNotebook).all(), key=lambda n: n.assignment.student_id):
        nb.flagged = rng.random() < 0.3
    gb.db.commit()


def _dump(url):
    """{table: sorted rows} of every table, nbgrader's random ids replaced by natural keys."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        tables = {name: [dict(r) for r in conn.execute(select(t)).mappings()] for name, t in meta.tables.items()}
    engine.dispose()
    keys = {}
    for r in tables["assignment"]:
        keys[r["id"]] = ("assignment", r["name"])
    for r in tables["notebook"]:
        keys[r["id"]] = ("notebook", keys[r["assignment_id"]], r["name"])
    for name in ("base_cell", "source_cell"):
        for r in tables[name]:
            keys[r["id"]] = (name, keys[r["notebook_id"]], r["name"])
    for r in tables["submitted_assignment"]:
        keys[r["id"]] = ("submission", r["student_id"], keys[r["assignment_id"]])
    for r in tables["submitted_notebook"]:
        keys[r["id"]] = ("submitted notebook", keys[r["assignment_id"]], keys[r["notebook_id"]])
    for name in ("grade", "comment"):
        for r in tables[name]:
            keys[r["id"]] = (name, keys[r["notebook_id"]], keys[r["cell_id"]])
    out = {}
    for name, rows in tables.items():
        if name == "autograder_outcome":
            rows = [{k: v for k, v in r.items() if k != "graded_at"} for r in rows]  # when it was written
        out[name] = sorted(repr(sorted((k, keys.get(v, v) if isinstance(v, str) else v) for k, v in r.items()))
                           for r in rows)
    return out


@SETTINGS
@given(data=st.data())
def test_record_writes_the_rows_nbgraders_api_writes(course_files, data):
    template, released = course_files
    rounds = data.draw(st.lists(st.lists(entries(released), min_size=1, max_size=6), min_size=1, max_size=3))
    manual = data.draw(st.lists(st.integers(0, 2**16), min_size=len(rounds), max_size=len(rounds)))
    work = Path(tempfile.mkdtemp(prefix="gbwrite-"))
    try:
        dbs = {}
        for name in ("oracle", "record"):
            shutil.copy(template, work / f"{name}.db")
            url = f"sqlite:///{work / name}.db"
            dbs[name] = (url, gradebook.open_gradebook(url, Config()))
        writes = {"oracle": gradebook.record_per_call, "record": gradebook.record}
        for batch, seed in zip(rounds, manual, strict=True):
            failed = {name: _flush(gb, writes[name], batch) for name, (_url, gb) in dbs.items()}
            assert failed["oracle"] == failed["record"], failed
            assert all(batch[i][1].assignment_id == UNKNOWN_AID for i in failed["record"]), failed
            dumps = {name: _dump(url) for name, (url, _gb) in dbs.items()}
            for table in dumps["oracle"]:
                assert dumps["record"][table] == dumps["oracle"][table], table
            assert dumps["record"]["autograder_outcome"] or all(e[1].assignment_id == UNKNOWN_AID for e in batch)
            for _url, gb in dbs.values():
                _grade_manually(gb, seed)
    finally:
        for _url, gb in dbs.values():
            gb.close()
        shutil.rmtree(work, ignore_errors=True)


def test_a_manual_grade_and_comment_survive_a_regrade(course_files, tmp_path):
    """nbgrader's rule, through the fast path: a resubmission never overwrites a grader's score or comment; the
    grade waits for review (``needs_manual_grade``) and the submission's score is the manual one."""
    from nbgrader.api import Comment, Grade

    template, released = course_files
    shutil.copy(template, tmp_path / "g.db")
    gb = gradebook.open_gradebook(f"sqlite:///{tmp_path / 'g.db'}", Config())
    judged = _copy(released)
    for cell in judged.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == TESTS[0]:
            cell.outputs = OUTPUTS["error"]
    job = Job("ann", AID, b"{}", f"{AID}.ipynb", "a" * 64, "", ())
    outcome = Outcome("ann", AID, Status.OK, "", {TESTS[0]: (0.0, 2.0), TESTS[1]: (1.0, 1.0)})
    with gradebook.one_transaction(gb):
        gradebook.record(gb, job, outcome, _copy(judged), 1.0, "w")
    grade = gb.find_grade(TESTS[0], AID, AID, "ann")
    grade.manual_score = 2.0
    gb.find_comment("min_max_scale", AID, AID, "ann").manual_comment = "fine after all"
    gb.db.commit()
    with gradebook.one_transaction(gb):
        gradebook.record(gb, job, outcome, _copy(judged), 1.0, "w")
    grade = gb.db.query(Grade).filter(Grade.id == grade.id).one()
    assert (grade.auto_score, grade.manual_score, grade.needs_manual_grade) == (0.0, 2.0, True)
    comments = [c.manual_comment for c in gb.db.query(Comment).all()]
    assert "fine after all" in comments
    assert gradebook.recorded(gb)[("ann", AID)].score == 3.0  # the manual 2 plus the range test's 1
    gb.close()


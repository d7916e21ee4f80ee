"""nbgrader's gradebook, written by the grading parent only, plus the autograder's journal.

The assignment is registered exactly as ``nbgrader generate_assignment`` does it (its own
preprocessors up to ``SaveCells``), submissions and grades exactly as ``nbgrader autograde``
does (``update_or_create_submission`` and its ``SaveAutoGrades`` preprocessor), so nbgrader's
formgrader, ``nbgrader export`` and this package read the same database.

Two tables of our own live next to nbgrader's (nbgrader ignores them):

- ``autograder_outcome``: one row per (student, assignment) with status, detail, diagnosed mistakes,
  what to review, and the fingerprint of what was graded. It is written last, in one transaction, after the
  grades: a row means "this result is complete". That is the resume journal: a killed batch
  rerun grades every submission without a row (or whose file or source notebook changed, or whose
  row is a grader error).
- ``autograder_assignment``: the fingerprint of each registered source notebook.
"""

import csv
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins.export import CsvExportPlugin
from sqlalchemy import Boolean, Column, DateTime, Float, MetaData, String, Table, Text, delete, event, insert, select
from sqlalchemy.engine import Engine
from traitlets.config import Config

from autograder.common.fileio import atomic_write
from autograder.common.records import Status
from autograder.compat import nbgrader as nbgrader_compat
from autograder.course import config as course

CSV_COLUMNS = ["student_id", "assignment", "score", "max_score", "status", "mistakes", "detail"]
STATUSES = [s.value for s in Status]

_meta = MetaData()
RESULTS = Table(
    "autograder_outcome", _meta,
    Column("student_id", String(1024), primary_key=True),  # longer than nbgrader's: a bad id is recorded too
    Column("assignment_id", String(128), primary_key=True),
    Column("status", String(32), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("mistakes", Text, nullable=False, default=""),  # ids of diagnosed mistakes, ';'-separated
    Column("review", Text, nullable=False, default=""),  # what the instructor should look at
    Column("repaired", Boolean, nullable=False, default=False),
    Column("score", Float), Column("max_score", Float),
    Column("timestamp", String(64), nullable=False, default=""),
    Column("submission_sha", String(64), nullable=False),
    Column("source_sha", String(64), nullable=False),
    Column("seconds", Float),
    Column("worker", String(256), nullable=False, default=""),
    Column("graded_at", DateTime),
)
ASSIGNMENTS = Table(
    "autograder_assignment", _meta,
    Column("assignment_id", String(128), primary_key=True),
    Column("source_sha", String(64), nullable=False),
)
# The secret seed the hidden tests draw their random inputs from, one per assignment of this gradebook: drawn by
# the first batch, kept so that a rerun (or a resubmission graded later) meets the same inputs.
SEEDS = Table(
    "autograder_batch_seed", _meta,
    Column("assignment_id", String(128), primary_key=True),
    Column("seed", String(32), nullable=False),
)


def default_db_url(out):
    return f"sqlite:///{Path(out).resolve() / 'gradebook.db'}"


def normalize_db_url(url):
    """``postgresql://`` through the installed driver.

    SQLAlchemy 2.1 maps a bare ``postgresql://`` URL to psycopg 3; the course pins
    psycopg2-binary, so such URLs are given the ``+psycopg2`` driver when psycopg 3 is absent.
    """
    import importlib.util

    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix) and importlib.util.find_spec("psycopg") is None \
                and importlib.util.find_spec("psycopg2") is not None:
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def safe_url(url):
    """The URL with its password masked, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as given
        return url


def open_gradebook(db_url, config):
    """nbgrader's Gradebook on ``db_url`` with the journal tables; SQLite in WAL mode.

    WAL keeps every committed result through a SIGKILL of the grader (only an OS crash can lose
    the last commits with ``synchronous=NORMAL``) and lets readers look while the grader writes.
    """
    course_id = config.CourseDirectory.get("course_id", "") or "default_course"
    db_url = normalize_db_url(db_url)
    if db_url.startswith("sqlite"):
        event.listen(Engine, "connect", _sqlite_pragmas)
    nbgrader_compat.speed_up_schema_version()
    gb = Gradebook(db_url, course_id)
    _meta.create_all(gb.engine)
    return gb


def open_existing(db_url):
    """The gradebook at ``db_url`` with the course id it already holds (nothing is added)."""
    from sqlalchemy import create_engine, text

    db_url = normalize_db_url(db_url)
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            course_id = conn.execute(text("select id from course order by id limit 1")).scalar()
    finally:
        engine.dispose()
    config = Config()
    config.CourseDirectory.course_id = course_id or "default_course"
    return open_gradebook(db_url, config)


def _sqlite_pragmas(dbapi_connection, _record):
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def file_sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def register_assignment(gb, db_url, config, assignment_id, source_path):
    """Record the assignment's cells in the gradebook once per source version (nbgrader's own chain)."""
    sha = file_sha(source_path)
    known = gb.db.execute(select(ASSIGNMENTS.c.source_sha).where(ASSIGNMENTS.c.assignment_id == assignment_id)).scalar()
    if known != sha:
        course.register(db_url, assignment_id, nbformat.read(str(source_path), as_version=4), config)
        gb.db.execute(delete(ASSIGNMENTS).where(ASSIGNMENTS.c.assignment_id == assignment_id))
        gb.db.execute(insert(ASSIGNMENTS).values(assignment_id=assignment_id, source_sha=sha))
        gb.db.commit()
    return sha


def batch_seed(gb, assignment_id):
    """The assignment's hidden-input seed in this gradebook, drawn from the OS's randomness the first time."""
    import secrets

    from sqlalchemy.exc import IntegrityError

    query = select(SEEDS.c.seed).where(SEEDS.c.assignment_id == assignment_id)
    known = gb.db.execute(query).scalar()
    if known is None:
        try:
            gb.db.execute(insert(SEEDS).values(assignment_id=assignment_id, seed=str(secrets.randbits(62))))
            gb.db.commit()
        except IntegrityError:  # another grader on the same gradebook drew it first: theirs counts
            gb.db.rollback()
        known = gb.db.execute(query).scalar()
    return int(known)


def recorded(gb):
    """{(student, assignment): row} of the journal."""
    return {(r.student_id, r.assignment_id): r for r in gb.db.execute(select(RESULTS))}


def record(gb, job, outcome, judged_nb, seconds, worker, review=()):
    """Store one finished outcome: student, submission and grades as ``nbgrader autograde`` does (its
    ``SaveAutoGrades``), then the journal row, last, in one transaction: a row means "complete"."""
    sid, aid = outcome.student_id, outcome.assignment_id
    in_gradebook = outcome.status is not Status.GRADER_ERROR and not (
        outcome.status is Status.INVALID_NOTEBOOK and _id_problem(sid))
    score = None
    if in_gradebook:
        gb.update_or_create_student(sid)
        kwargs = {"timestamp": job.timestamp_text} if job.timestamp_text else {}
        gb.update_or_create_submission(aid, sid, **kwargs)
        if judged_nb is not None:
            resources = {"nbgrader": {"notebook": aid, "assignment": aid, "student": sid}}
            nbgrader_compat.SaveAutoGradesOnOpenGradebook(gb).preprocess(judged_nb, resources)
        submitted = gb.find_submission_notebook(aid, aid, sid)
        for grade in submitted.grades:
            if grade.name not in outcome.scores or judged_nb is None:  # not graded: 0, never "needs grading"
                grade.auto_score = 0.0
                grade.needs_manual_grade = False
        gb.db.commit()
        score = float(gb.find_submission(aid, sid).score)
    gb.db.execute(delete(RESULTS).where((RESULTS.c.student_id == sid) & (RESULTS.c.assignment_id == aid)))
    gb.db.execute(insert(RESULTS).values(
        student_id=sid, assignment_id=aid, status=outcome.status.value, detail=outcome.detail,
        mistakes=";".join(outcome.mistakes), review="; ".join(review), repaired=outcome.repaired,
        score=score, max_score=sum(m for _s, m in outcome.scores.values()) or None,
        timestamp=job.timestamp_text, submission_sha=job.submission_sha, source_sha=_source_sha(gb, aid),
        seconds=seconds, worker=worker[:256], graded_at=datetime.now(UTC).replace(tzinfo=None),
    ))
    gb.db.commit()
    return score


def _id_problem(student_id):
    from autograder.execution.submissions import id_problem

    return id_problem(student_id)


def _source_sha(gb, assignment_id):
    query = select(ASSIGNMENTS.c.source_sha).where(ASSIGNMENTS.c.assignment_id == assignment_id)
    return gb.db.execute(query).scalar() or ""


def rows(gb):
    """Journal rows with the gradebook's score, sorted by student then assignment."""
    out = []
    for r in gb.db.execute(select(RESULTS)).mappings():
        row = dict(r)
        try:
            sub = gb.find_submission(row["assignment_id"], row["student_id"])
            row["score"], row["max_score"] = float(sub.score), float(sub.max_score)
        except MissingEntry:
            pass
        out.append(row)
    return sorted(out, key=lambda r: (r["student_id"], r["assignment_id"]))


def _fmt(x):
    return "" if x is None else f"{x:g}"


def export_csv(gb, out):
    """``grades.csv`` (one row per student and assignment) and nbgrader's own export format."""
    data = rows(gb)

    def write_grades(tmp):
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(CSV_COLUMNS)
            for r in data:
                writer.writerow([r["student_id"], r["assignment_id"], _fmt(r["score"]), _fmt(r["max_score"]),
                                 r["status"], r["mistakes"], r["detail"]])

    atomic_write(Path(out) / "grades.csv", write_grades)

    def write_nbgrader(tmp):
        plugin = CsvExportPlugin()
        plugin.to = str(tmp)
        plugin.export(gb)

    atomic_write(Path(out) / "nbgrader_export.csv", write_nbgrader)
    return data

"""nbgrader's gradebook, written by the grading parent only, plus the autograder's journal.

The assignment is registered exactly as ``nbgrader generate_assignment`` does it (its own
preprocessors up to ``SaveCells``), submissions and grades exactly as ``nbgrader autograde``
does (``update_or_create_submission`` and its ``SaveAutoGrades`` preprocessor), so nbgrader's
formgrader, ``nbgrader export`` and this package read the same database. :func:`record` writes the
rows of those calls for a whole transaction of results with a few queries per submission (nbgrader's own
``SaveAutoGrades`` scoring objects loaded once); :func:`record_per_call`, the calls themselves, is what a
property test proves it equal to.

Two tables of our own live next to nbgrader's (nbgrader ignores them):

- ``autograder_outcome``: one row per (student, assignment) with status, detail, diagnosed mistakes,
  what to review, and the fingerprint of what was graded. It is written last, in one transaction, after the
  grades: a row means "this result is complete". That is the resume journal: a killed batch
  rerun grades every submission without a row (or whose file or source notebook changed, or whose
  row is a grader error).
- ``autograder_assignment``: the fingerprint of each registered source notebook.

To add a table, declare it on ``_meta``; to add a column to one of these tables, give it a
``server_default`` (or make it nullable): :func:`_upgrade` adds it to gradebooks an older grader made.

Everything the grader writes about grades is read back from here, after nbgrader's own logic has run
on it: manual grades and comments (the formgrader's), late penalties (nbgrader's ``AssignLatePenalties``
with the course's plugin, :func:`apply_late_penalties`), so ``grades.csv``, ``grades-wide.csv``,
nbgrader's export, the feedback pages and the report show the same number for the same student.
"""

import csv
import hashlib
import json
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import nbformat
from nbformat.v4 import new_notebook
from nbgrader import utils as nbgrader_utils
from nbgrader.api import (
    Assignment,
    BaseCell,
    Comment,
    Grade,
    Gradebook,
    GradeCell,
    MissingEntry,
    Notebook,
    SolutionCell,
    Student,
    SubmittedAssignment,
    SubmittedNotebook,
    TaskCell,
)
from nbgrader.plugins.export import CsvExportPlugin
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    delete,
    event,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, joinedload, selectinload, undefer
from traitlets.config import Config

from autograder.common.fileio import atomic_write
from autograder.common.records import Status
from autograder.compat import nbgrader as nbgrader_compat
from autograder.course import config as course

# score: after the late penalty, as nbgrader's export; raw_score: before it; review: what to look at (below)
CSV_COLUMNS = ["student_id", "assignment", "score", "max_score", "status", "mistakes", "detail", "raw_score",
               "late_penalty", "seconds_late", "review"]
WIDE_FIXED = ["student_id", "first_name", "last_name", "email", "lms_user_id"]
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
    # what the feedback page shows (cell scores, manual comments, late penalty, status): rewritten when it differs
    Column("page_state", Text, nullable=False, default="", server_default=""),
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
    db_url = normalize_db_url(db_url)
    if db_url.startswith("sqlite"):
        event.listen(Engine, "connect", _sqlite_pragmas)
    nbgrader_compat.speed_up_schema_version()
    gb = Gradebook(db_url, course.course_id(config))
    _meta.create_all(gb.engine)
    _upgrade(gb.engine)
    return gb


def _upgrade(engine):
    """Add the columns declared here to tables an older grader created (each new column has a server default)."""
    inspector = inspect(engine)
    with engine.begin() as conn:
        for table in _meta.sorted_tables:
            present = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in present:
                    continue
                ddl = f"ALTER TABLE {table.name} ADD COLUMN {column.name} {column.type.compile(engine.dialect)}"
                if column.server_default is not None:
                    ddl += f" DEFAULT '{column.server_default.arg}'"
                conn.execute(text(ddl + ("" if column.nullable else " NOT NULL")))


def open_existing(db_url):
    """The gradebook at ``db_url`` with the course id its assignments carry (nothing is added)."""
    from sqlalchemy import create_engine

    db_url = normalize_db_url(db_url)
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            course_id = conn.execute(text("select course_id from assignment order by name limit 1")).scalar() \
                or conn.execute(text("select id from course order by id limit 1")).scalar()
    finally:
        engine.dispose()
    config = Config()
    config.CourseDirectory.course_id = course_id or course.DEFAULT_COURSE_ID
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
    cid = course.course_id(config)
    if known == sha and gb.find_assignment(assignment_id).course_id != cid:
        gb.update_or_create_assignment(assignment_id, course_id=cid)  # registered by an older grader
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


@contextmanager
def one_transaction(gb):
    """Every :func:`record` inside the block in one transaction of the database, committed at its end.

    nbgrader's API commits after each change; inside the block its commits (and :func:`record_per_call`'s own)
    end only the ORM session's unit of work, on a connection whose transaction SQLAlchemy lets the session join
    but not commit (``join_transaction_mode="rollback_only"``). :func:`record` does not commit at all: what it
    wrote is flushed at the end of the block, with the journal rows (:class:`_Flush`). A block holds whole
    submissions only, so a SIGKILL loses the last block, never half a submission; an exception rolls the whole
    block back and is raised.
    """
    gb.db.commit()  # what the batch's own session holds is written before the block starts
    session = gb.db
    with gb.engine.connect() as conn:
        transaction = conn.begin()
        gb.db = Session(bind=conn, join_transaction_mode="rollback_only", autoflush=True)
        gb.db.info[_FLUSH] = _Flush()
        try:
            yield
            gb.db.info[_FLUSH].finish(gb.db)
            gb.db.flush()
            transaction.commit()
        except BaseException:
            if transaction.is_active:
                transaction.rollback()
            raise
        finally:
            gb.db.close()
            gb.db = session
            session.expire_all()  # objects it loaded before the block are read again


def record(gb, job, outcome, judged_nb, seconds, worker, review=()):
    """Store one finished outcome: student, submission and grades as ``nbgrader autograde`` does (its
    ``SaveAutoGrades``), and the journal row with the submission's score, written at the end of the transaction,
    after every grade of it: a row means "complete".

    The rows are those of :func:`record_per_call` (nbgrader's API call by call; a property test proves it), at a
    few queries per submission instead of one per cell: inside :func:`one_transaction` nothing is committed nor
    expired until the block ends, the assignment's cells are read once per block, a submission's grades and
    comments in one query each, and nbgrader's own ``SaveAutoGrades`` scores the notebook on them
    (:class:`_Submission`). Outside a block, the call is a block of its own."""
    if isinstance(gb.db, Session) and _FLUSH in gb.db.info:
        _record(gb, gb.db.info[_FLUSH], job, outcome, judged_nb, seconds, worker, review)
    else:
        with one_transaction(gb):
            _record(gb, gb.db.info[_FLUSH], job, outcome, judged_nb, seconds, worker, review)


def _record(gb, flush, job, outcome, judged_nb, seconds, worker, review):
    sid, aid = outcome.student_id, outcome.assignment_id
    in_gradebook = outcome.status is not Status.GRADER_ERROR and not (
        outcome.status is Status.INVALID_NOTEBOOK and _id_problem(sid))
    with gb.db.no_autoflush:  # what the block adds is written once, at its end
        submission = flush.submission(gb, aid, sid, job.timestamp_text) if in_gradebook else None
        if submission is not None and judged_nb is not None:
            resources = {"nbgrader": {"notebook": aid, "assignment": aid, "student": sid}}
            flush.saver(submission).preprocess(judged_nb, resources)
        if submission is not None:
            for name, grade in submission.grades_of(aid).items():
                if name not in outcome.scores or judged_nb is None:  # not graded: 0; a manual grade to review
                    grade.auto_score = 0.0
                    grade.needs_manual_grade = grade.manual_score is not None
        flush.journal[(sid, aid)] = (submission, dict(
            student_id=sid, assignment_id=aid, status=outcome.status.value, detail=outcome.detail,
            mistakes=";".join(outcome.mistakes), review="; ".join(review), repaired=outcome.repaired,
            max_score=sum(m for _s, m in outcome.scores.values()) or None,
            timestamp=job.timestamp_text, submission_sha=job.submission_sha, source_sha=flush.source_sha(gb, aid),
            seconds=seconds, worker=worker[:256], graded_at=datetime.now(UTC).replace(tzinfo=None),
            page_state=page_state(outcome.scores, {}, 0.0, outcome.status.value, outcome.detail) if judged_nb
            else "",
        ))


_FLUSH = "autograder_flush"  # the key of a block's _Flush in its session's ``info``


class _Flush:
    """What one :func:`one_transaction` block has read and written through :func:`record`: nbgrader's objects,
    loaded once and never expired inside the block, and the journal rows, written at its end."""

    def __init__(self):
        self.students = {}  # id -> Student
        self.assignments = {}  # name -> _Cells
        self.submissions = {}  # (assignment, student) -> _Submission
        self.journal = {}  # (student, assignment) -> (_Submission or None, journal row)
        self.sources = {}  # assignment -> the sha of its registered source

    def student(self, gb, sid):
        """``update_or_create_student(sid)``."""
        student = self.students.get(sid)
        if student is None:
            student = gb.db.get(Student, sid)
            if student is None:
                student = Student(id=sid)
                gb.db.add(student)
            if gb.authenticator:
                gb.authenticator.add_student_to_course(sid, gb.course_id)
            self.students[sid] = student
        return student

    def cells(self, gb, aid):
        cells = self.assignments.get(aid)
        if cells is None:
            cells = self.assignments[aid] = _Cells.load(gb, aid)
        return cells

    def submission(self, gb, aid, sid, timestamp_text):
        """``update_or_create_submission(aid, sid, timestamp=...)``, with its grades and comments loaded."""
        student = self.student(gb, sid)
        timestamp = nbgrader_utils.parse_utc(timestamp_text) if timestamp_text else None
        submission = self.submissions.get((aid, sid))
        if submission is None:
            cells = self.cells(gb, aid)
            found = None
            if inspect(student).persistent:
                found = gb.db.scalars(select(SubmittedAssignment).where(
                    SubmittedAssignment.assignment_id == cells.assignment.id,
                    SubmittedAssignment.student_id == sid)).one_or_none()
            if found is None:
                submission = self.submissions[(aid, sid)] = _Submission.create(gb, cells, student, timestamp)
                return submission
            submission = self.submissions[(aid, sid)] = _Submission.load(gb, cells, found)
        if timestamp is not None:  # an existing submission: its timestamp is updated, as nbgrader's
            submission.row.timestamp = timestamp
        return submission

    def source_sha(self, gb, aid):
        if aid not in self.sources:
            self.sources[aid] = _source_sha(gb, aid)
        return self.sources[aid]

    def saver(self, submission):
        """nbgrader's ``SaveAutoGrades`` on ``submission``'s loaded grades and comments."""
        return nbgrader_compat.SaveAutoGradesOnOpenGradebook(submission)

    def finish(self, db):
        """Write what the block holds, then each journal row with its submission's score (nbgrader's computed
        column, read in one query for the block)."""
        db.flush()
        ids = [s.row.id for s, _row in self.journal.values() if s is not None]
        scores = {}
        for start in range(0, len(ids), 500):
            scores.update(db.execute(select(SubmittedAssignment.id, SubmittedAssignment.score)
                                     .where(SubmittedAssignment.id.in_(ids[start:start + 500]))).all())
        rows = []
        for submission, row in self.journal.values():
            rows.append({**row, "score": float(scores[submission.row.id]) if submission is not None else None})
        if rows:
            db.execute(delete(RESULTS).where((RESULTS.c.student_id == bindparam("sid"))
                                             & (RESULTS.c.assignment_id == bindparam("aid"))),
                       [{"sid": r["student_id"], "aid": r["assignment_id"]} for r in rows])
            db.execute(insert(RESULTS), rows)
        self.journal = {}


@dataclass
class _Cells:
    """An assignment's notebooks and cells, as ``add_submission`` and ``find_grade``/``find_comment`` see them."""

    assignment: Assignment
    notebooks: list  # Notebook, in nbgrader's order (by name)
    grade_cells: dict  # (notebook name, cell name) -> cell id: a GradeCell's, else a TaskCell's (find_grade)
    comment_cells: dict  # same for comments: a SolutionCell's, else a TaskCell's (find_comment)
    names: dict  # cell id -> cell name

    @classmethod
    def load(cls, gb, aid):
        assignment = gb.db.scalars(select(Assignment).where(Assignment.name == aid)
                                   .options(selectinload(Assignment.notebooks)
                                            .selectinload(Notebook._base_cells))).one_or_none()
        if assignment is None:
            raise MissingEntry(f"No such assignment: {aid}")
        grade_cells, comment_cells, names = {}, {}, {}
        for notebook in assignment.notebooks:
            for kinds, found in (((GradeCell, TaskCell), grade_cells), ((SolutionCell, TaskCell), comment_cells)):
                for kind in reversed(kinds):  # the first kind wins, as in nbgrader's queries
                    for cell in notebook._base_cells:
                        if type(cell) is kind:
                            found[(notebook.name, cell.name)] = cell.id
            names.update({cell.id: cell.name for cell in notebook._base_cells})
        return cls(assignment, list(assignment.notebooks), grade_cells, comment_cells, names)


@dataclass
class _Submission:
    """One submission's rows in the block, with the lookups nbgrader's ``SaveAutoGrades`` makes on a
    gradebook (``find_grade``, ``find_comment``, ``db.commit``: a no-op, the block commits)."""

    cells: _Cells
    row: SubmittedAssignment
    grades: dict  # (notebook name, cell id) -> Grade
    comments: dict  # (notebook name, cell id) -> Comment

    @property
    def db(self):
        return self

    def commit(self):
        pass

    @classmethod
    def create(cls, gb, cells, student, timestamp):
        """The rows ``add_submission`` adds: the submission, then per notebook a submitted notebook with a grade
        per grade cell, a comment per solution cell, a comment and a grade per task cell."""
        kwargs = {"timestamp": timestamp} if timestamp is not None else {}
        row = SubmittedAssignment(assignment=cells.assignment, student=student, **kwargs)
        grades, comments = {}, {}
        for notebook in cells.notebooks:
            nb = SubmittedNotebook(notebook=notebook, assignment=row)
            for cell in notebook._base_cells:
                if isinstance(cell, (GradeCell, TaskCell)):
                    grades[(notebook.name, cell.id)] = Grade(cell_id=cell.id, notebook=nb)
                if isinstance(cell, (SolutionCell, TaskCell)):
                    comments[(notebook.name, cell.id)] = Comment(cell_id=cell.id, notebook=nb)
        gb.db.add(row)
        return cls(cells, row, grades, comments)

    @classmethod
    def load(cls, gb, cells, row):
        """An existing submission's grades and comments: one query each."""
        def of(model):
            return {(name, item.cell_id): item for item, name in gb.db.execute(
                select(model, Notebook.name).join(SubmittedNotebook, model.notebook_id == SubmittedNotebook.id)
                .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
                .where(SubmittedNotebook.assignment_id == row.id))}

        return cls(cells, row, of(Grade), of(Comment))

    def _find(self, found, cell_ids, what, cell, notebook, assignment):
        key = (notebook, cell_ids.get((notebook, cell)))
        if assignment != self.cells.assignment.name or key not in found:
            raise MissingEntry(f"No such {what}: {assignment}/{notebook}/{cell} for {self.row.student_id}")
        return found[key]

    def find_grade(self, grade_cell, notebook, assignment, _student):
        return self._find(self.grades, self.cells.grade_cells, "grade", grade_cell, notebook, assignment)

    def find_comment(self, solution_cell, notebook, assignment, _student):
        return self._find(self.comments, self.cells.comment_cells, "comment", solution_cell, notebook, assignment)

    def grades_of(self, notebook):
        """{cell name: Grade} of one submitted notebook (``find_submission_notebook(...).grades``)."""
        if notebook not in {nb.name for nb in self.cells.notebooks}:
            raise MissingEntry(f"No such submitted notebook: {self.cells.assignment.name}/{notebook}")
        return {self.cells.names[cell_id]: g for (nb, cell_id), g in self.grades.items() if nb == notebook}


def record_per_call(gb, job, outcome, judged_nb, seconds, worker, review=()):
    """What :func:`record` writes, through nbgrader's API call by call (as ``nbgrader autograde``: its
    ``update_or_create_submission`` and ``SaveAutoGrades``, a query per cell and a commit per call): the
    reference :func:`record` is tested against, and the benchmark's "before"."""
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
            if grade.name not in outcome.scores or judged_nb is None:  # not graded: 0; a manual grade to review
                grade.auto_score = 0.0
                grade.needs_manual_grade = grade.manual_score is not None
        gb.db.commit()
        score = float(gb.find_submission(aid, sid).score)
    gb.db.execute(delete(RESULTS).where((RESULTS.c.student_id == sid) & (RESULTS.c.assignment_id == aid)))
    gb.db.execute(insert(RESULTS).values(
        student_id=sid, assignment_id=aid, status=outcome.status.value, detail=outcome.detail,
        mistakes=";".join(outcome.mistakes), review="; ".join(review), repaired=outcome.repaired,
        score=score, max_score=sum(m for _s, m in outcome.scores.values()) or None,
        timestamp=job.timestamp_text, submission_sha=job.submission_sha, source_sha=_source_sha(gb, aid),
        seconds=seconds, worker=worker[:256], graded_at=datetime.now(UTC).replace(tzinfo=None),
        page_state=page_state(outcome.scores, {}, 0.0, outcome.status.value, outcome.detail) if judged_nb else "",
    ))
    gb.db.commit()
    return score


def _id_problem(student_id):
    from autograder.execution.submissions import id_problem

    return id_problem(student_id)


def _source_sha(gb, assignment_id):
    query = select(ASSIGNMENTS.c.source_sha).where(ASSIGNMENTS.c.assignment_id == assignment_id)
    return gb.db.execute(query).scalar() or ""


# -- what the gradebook says now: late penalties, cells, review, the rows every output shows -----------------


def apply_late_penalties(gb, db_url, preprocessor, keys=None):
    """Run nbgrader's ``AssignLatePenalties`` (the course's, from :func:`course.late_penalties`) on every
    submission that is late by the gradebook's due dates and extensions, or carries a penalty (a due date
    moved, an extension granted): from the current grades, manual ones included, as a run of
    ``nbgrader autograde`` would. Other submissions have no penalty, nor would nbgrader give one.
    ``keys`` limits it to those (student, assignment); returns the number of submissions it ran on."""
    if preprocessor is None:
        return 0
    gb.db.commit()  # nbgrader's preprocessor writes through a connection of its own
    todo = [(s.student.id, s.assignment.name) for s in _submitted(gb)
            if s.total_seconds_late > 0 or s.late_submission_penalty]
    todo = [k for k in todo if keys is None or k in keys]
    for sid, aid in todo:
        resources = {"nbgrader": {"notebook": aid, "assignment": aid, "student": sid, "db_url": db_url}}
        preprocessor.preprocess(new_notebook(), resources)
    gb.db.expire_all()
    return len(todo)


def _submitted(gb):
    """nbgrader's submissions with their scores, late penalty and due date loaded in one query."""
    return (gb.db.query(SubmittedAssignment)
            .options(joinedload(SubmittedAssignment.assignment), joinedload(SubmittedAssignment.student),
                     undefer(SubmittedAssignment.score), undefer(SubmittedAssignment.max_score),
                     undefer(SubmittedAssignment.late_submission_penalty))
            .all())


@dataclass(frozen=True)
class Submitted:
    """One submission as nbgrader's export sees it."""

    raw_score: float
    max_score: float
    late_penalty: float
    seconds_late: float

    @property
    def score(self):
        return max(0.0, self.raw_score - self.late_penalty)  # nbgrader's export


def submitted(gb):
    """{(student, assignment): :class:`Submitted`} of every submission in the gradebook."""
    return {(s.student.id, s.assignment.name): Submitted(float(s.score), float(s.max_score or 0.0),
                                                         float(s.late_submission_penalty or 0.0),
                                                         float(s.total_seconds_late))
            for s in _submitted(gb)}


@dataclass(frozen=True)
class CellGrade:
    """One graded cell of a submission: nbgrader's auto and manual scores and the score that counts."""

    score: float
    max_score: float
    auto_score: float | None
    manual_score: float | None
    needs_manual_grade: bool


def _cell_query(gb, model, *columns):
    """(student, assignment, cell name, *columns) of ``model`` (Grade or Comment) for each submitted
    notebook named after its assignment (one per assignment in this course)."""
    return gb.db.execute(
        select(Student.id, Assignment.name, BaseCell.name, *columns).select_from(model)
        .join(BaseCell, model.cell_id == BaseCell.id)
        .join(SubmittedNotebook, model.notebook_id == SubmittedNotebook.id)
        .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
        .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
        .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
        .join(Student, SubmittedAssignment.student_id == Student.id)
        .where(Notebook.name == Assignment.name))


def cell_grades(gb):
    """{(student, assignment): {grade_id: :class:`CellGrade`}}."""
    cells = {}
    for sid, aid, name, score, max_score, auto, manual, needs in _cell_query(
            gb, Grade, Grade.score, Grade.max_score, Grade.auto_score, Grade.manual_score, Grade.needs_manual_grade):
        cells.setdefault((sid, aid), {})[name] = CellGrade(float(score or 0.0), float(max_score or 0.0), auto,
                                                           manual, bool(needs))
    return cells


def manual_comments(gb):
    """{(student, assignment): {grade_id: comment}}: what graders wrote in the formgrader."""
    comments = {}
    for sid, aid, name, comment in _cell_query(gb, Comment, Comment.manual_comment):
        if comment:
            comments.setdefault((sid, aid), {})[name] = comment
    return comments


def review_notes(cells, flagged=()):
    """{(student, assignment): [note]}: grades waiting for a grader (a manual grade met a regrade) and
    notebooks flagged in the formgrader. They clear when a grader saves or clears the manual grade."""
    notes = {}
    for key, grades in cells.items():
        for name, g in sorted(grades.items()):
            if not g.needs_manual_grade:
                continue
            if g.manual_score is not None:
                notes.setdefault(key, []).append(
                    f"manual grade {g.manual_score:g} of {g.max_score:g} kept on {name}, the autograder now gives "
                    f"{(g.auto_score or 0.0):g}: confirm or clear it in the formgrader")
            else:
                notes.setdefault(key, []).append(f"{name} needs a manual grade")
    for key in flagged:
        notes.setdefault(key, []).append("flagged in the formgrader")
    return notes


def flagged(gb):
    """(student, assignment) of notebooks flagged in the formgrader."""
    return {(sid, aid) for sid, aid in gb.db.execute(
        select(Student.id, Assignment.name).select_from(SubmittedNotebook)
        .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
        .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
        .join(Student, SubmittedAssignment.student_id == Student.id)
        .where(SubmittedNotebook.flagged.is_(True)))}


def page_state(scores, comments, late_penalty, status, detail):
    """What a feedback page shows of the gradebook, as a comparable text: {grade_id: (score, max)},
    {grade_id: manual comment}, the late penalty, the status and its detail."""
    return json.dumps({"scores": {g: [float(s), float(m)] for g, (s, m) in sorted(scores.items())},
                       "comments": dict(sorted(comments.items())), "late_penalty": float(late_penalty),
                       "status": status, "detail": detail}, sort_keys=True)


def set_page_state(gb, key, state):
    sid, aid = key
    gb.db.execute(update(RESULTS).where((RESULTS.c.student_id == sid) & (RESULTS.c.assignment_id == aid))
                  .values(page_state=state))
    gb.db.commit()


def rows(gb):
    """Journal rows with what the gradebook says now, sorted by student then assignment: ``score`` after the
    late penalty (nbgrader's export's), ``raw_score``, ``late_penalty``, ``seconds_late``, and ``review``
    (what discovery noticed, then manual grades to confirm and flagged notebooks)."""
    subs = submitted(gb)
    notes = review_notes(cell_grades(gb), flagged(gb))
    out = []
    for r in gb.db.execute(select(RESULTS)).mappings():
        row = dict(r)
        key = (row["student_id"], row["assignment_id"])
        row["raw_score"] = row["late_penalty"] = row["seconds_late"] = None
        sub = subs.get(key)
        if sub is not None:
            row.update(score=sub.score, raw_score=sub.raw_score, max_score=sub.max_score,
                       late_penalty=sub.late_penalty, seconds_late=sub.seconds_late)
        row["review"] = "; ".join(filter(None, [row["review"], *notes.get(key, [])]))
        out.append(row)
    return sorted(out, key=lambda r: (r["student_id"], r["assignment_id"]))


def _fmt(x):
    return "" if x is None else f"{x:g}"


def _seconds(x):
    return "" if x is None else f"{x:.0f}"


def wide_rows(gb, subs=None):
    """One row per student of the gradebook: id, name, email, ``lms_user_id``, the score of each assignment
    (after the late penalty; 0 without a submission, as nbgrader's export), total and maximum."""
    subs = submitted(gb) if subs is None else subs
    assignments = list(gb.assignments)  # nbgrader's order: due date, then name
    table = []
    for student in sorted(gb.students, key=lambda s: s.id):
        scores = [subs[(student.id, a.name)].score if (student.id, a.name) in subs else 0.0 for a in assignments]
        table.append({"student_id": student.id, "first_name": student.first_name or "",
                      "last_name": student.last_name or "", "email": student.email or "",
                      "lms_user_id": student.lms_user_id or "", "scores": dict(zip([a.name for a in assignments],
                                                                                    scores, strict=True)),
                      "total": sum(scores), "max_total": sum(float(a.max_score or 0.0) for a in assignments)})
    return [a.name for a in assignments], table


def export_csv(gb, out):
    """``grades.csv`` (one row per student and assignment), nbgrader's own export format, and
    ``grades-wide.csv`` (one row per student, for an LMS)."""
    data = rows(gb)

    def write_grades(tmp):
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(CSV_COLUMNS)
            for r in data:
                writer.writerow([r["student_id"], r["assignment_id"], _fmt(r["score"]), _fmt(r["max_score"]),
                                 r["status"], r["mistakes"], r["detail"], _fmt(r["raw_score"]),
                                 _fmt(r["late_penalty"]), _seconds(r["seconds_late"]), r["review"]])

    atomic_write(Path(out) / "grades.csv", write_grades)

    def write_nbgrader(tmp):
        plugin = CsvExportPlugin()
        plugin.to = str(tmp)
        plugin.export(gb)

    atomic_write(Path(out) / "nbgrader_export.csv", write_nbgrader)
    assignments, table = wide_rows(gb)

    def write_wide(tmp):
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow([*WIDE_FIXED, *assignments, "total", "max_total"])
            for r in table:
                writer.writerow([r[k] for k in WIDE_FIXED] + [_fmt(r["scores"][a]) for a in assignments]
                                + [_fmt(r["total"]), _fmt(r["max_total"])])

    atomic_write(Path(out) / "grades-wide.csv", write_wide)
    return data

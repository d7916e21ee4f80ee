"""Typed records that cross process boundaries: the parent sends a :class:`Job` (with the assignment's
:class:`Master` and :class:`Judging`, shared once per batch), a worker (a local pool process or a Dask
worker) runs it in a sandboxed kernel (a :class:`KernelRun`), decides its :class:`Outcome`, renders its
:class:`FeedbackRequest` into a :class:`FeedbackPage`, and returns all of it as one :class:`GradedRun`,
which the parent checks for shape before recording it.

All are plain picklable dataclasses of strings, numbers, bytes and tuples: a worker on another
machine needs nothing but these (it never reads the submissions folder or the gradebook).
"""

from dataclasses import dataclass, field
from enum import StrEnum

from autograder.common.words import ENGLISH, Translator


class Status(StrEnum):
    """One status per graded submission (the ``status`` column of grades.csv)."""

    OK = "ok"  # the notebook ran; scores are the trusted verdicts
    CELL_TIMEOUT = "cell_timeout"  # a cell, the notebook or the CPU-time limit ran out
    KERNEL_DIED = "kernel_died"  # the kernel process exited (os._exit, a segfault, a kill)
    MEMORY_LIMIT = "memory_limit"  # the memory limit stopped the kernel or an allocation
    INVALID_NOTEBOOK = "invalid_notebook"  # not a gradable notebook (JSON, schema, symlink, size, id)
    MISSING_NOTEBOOK = "missing_notebook"  # the assignment folder holds no notebook
    GRADER_ERROR = "grader_error"  # a bug or failure of the grader: never the student's fault


@dataclass(frozen=True)
class Limits:
    """The batch's limits, enforced by the OS (cgroups, rlimits, tmpfs sizes, wall-clock timers)."""

    cell_timeout: float = 120.0  # seconds of wall time per cell
    notebook_timeout: float = 600.0  # seconds of wall time per notebook, whatever its cell count
    memory_mb: int = 2048  # resident memory of the kernel and its children (cgroup), else RLIMIT_DATA
    processes: int = 256  # processes and threads of one kernel (pids cgroup), else RLIMIT_NPROC
    disk_mb: int = 256  # size of each private tmpfs (/tmp, /dev/shm, the working folder); also RLIMIT_FSIZE
    cpu_seconds: float = 0.0  # RLIMIT_CPU of the kernel; 0: notebook_timeout x 2
    render_seconds: float = 60.0  # feedback rendering of one notebook

    @property
    def cpu_limit(self):
        return int(self.cpu_seconds or self.notebook_timeout * 2) + 5

    @classmethod
    def from_args(cls, args):
        """The limits a command line chose (``--cell-timeout``, ``--notebook-timeout``, ``--memory-mb``)."""
        return cls(cell_timeout=args.cell_timeout, notebook_timeout=args.notebook_timeout, memory_mb=args.memory_mb)


@dataclass(frozen=True)
class TestCell:
    """What the grader knows of one graded test cell of the source notebook."""

    grade_id: str
    answer: str  # the function or class it grades
    signature: str
    points: float


@dataclass(frozen=True)
class Edition:
    """The locked cells of one translated edition of an assignment (its release speaks that language)."""

    language: str
    source_cells: dict  # as Master.source_cells, their prose translated
    kernel_nb_json: str  # as Master.kernel_nb_json, its code cells' prose translated


@dataclass(frozen=True)
class Master:
    """What grading needs from the instructor's version of one assignment (sent with every job)."""

    assignment_id: str
    source_sha: str
    kernelspec: dict | None
    source_cells: dict  # grade_id -> {cell_type, locked, checksum, source}; test cells with the probe call
    tests: tuple  # TestCell, in notebook order
    setup_ids: tuple  # grade_ids of the locked setup cells (restored at the top when missing)
    plans_json: str  # {grade_id: [case steps]}: the inputs the kernel receives
    probe_source: str  # checks/probe.py: the code the kernel runs the plans with
    kernel_nb_json: str  # the source notebook with each hidden region replaced by the probe call
    preload: tuple = ()  # the course's import lines, run once by each worker slot's fork server
    editions: tuple = ()  # Edition of each translated release: a submission of it gets its own cells restored
    language: str = "en"  # the edition whose cells source_cells and kernel_nb_json hold

    def in_language(self, language):
        """This master with the locked cells of the edition ``language`` (itself for the source language or
        an edition it does not have)."""
        from dataclasses import replace

        edition = next((e for e in self.editions if e.language == language), None)
        if edition is None:
            return self
        return replace(self, source_cells=edition.source_cells, kernel_nb_json=edition.kernel_nb_json,
                       language=language)

    @property
    def languages(self):
        return (self.language, *(e.language for e in self.editions))

    @property
    def max_score(self):
        return float(sum(t.points for t in self.tests))

    @property
    def grade_ids(self):
        return tuple(t.grade_id for t in self.tests)


@dataclass(frozen=True)
class Job:
    """One submission to grade: its bytes (read by the parent without following links) and the master."""

    student_id: str
    assignment_id: str
    notebook: bytes | None  # None: no notebook was found
    notebook_name: str
    submission_sha: str
    timestamp_text: str
    notes: tuple  # what discovery noticed (renamed notebook, duplicates, unreadable timestamp)
    invalid: str = ""  # discovery already knows the submission cannot be graded (a symlink, a bad id)

    @property
    def key(self):
        return (self.student_id, self.assignment_id)


@dataclass(frozen=True)
class KernelRun:
    """What a worker reports about one job: the executed notebook, the kernel's records, the facts.

    No verdict is made on the worker: ``records`` are the raw JSON texts the kernel sent during each
    test cell, judged by the parent.
    """

    student_id: str
    assignment_id: str
    notebook: str | None = None  # the executed notebook (nbformat JSON), outputs capped, records removed
    records: dict = field(default_factory=dict)  # grade_id -> list of JSON texts received during that cell
    stray_records: int = 0  # record messages received outside their test cell (ignored)
    invalid: str = ""  # why the file is not a gradable notebook
    missing: bool = False
    repairs: tuple = ()  # one-line notes on a notebook whose shape was repaired
    notes: tuple = ()  # other notes (decoding, duplicates, output dropped, ...)
    died_at: int | None = None  # cell index during which the kernel died (-1: while starting)
    exit_code: int | None = None  # the kernel process's exit status (negative: signal)
    timed_out: tuple = ()  # indices of cells interrupted at --cell-timeout
    unresponsive: int | None = None  # cell after which a kernel ignoring its interrupt was killed
    notebook_timeout: bool = False  # the whole notebook ran past --notebook-timeout
    oom_killed: bool = False  # the memory cgroup killed a process of the kernel
    memory_errors: tuple = ()  # cells whose error was a MemoryError
    cpu_limit: bool = False  # killed by RLIMIT_CPU (SIGXCPU)
    process_limit: bool = False  # a fork or thread was refused
    output_dropped: int = 0  # characters of output not stored
    malformed_messages: int = 0  # messages from the kernel dropped as malformed (the student's doing)
    peak_memory_mb: float | None = None
    grader_error: str = ""  # the worker failed (traceback): never the student's fault
    timings: dict = field(default_factory=dict)
    worker: str = ""  # where it ran (host:pid), for the log
    forked: bool = False  # the kernel was forked by the slot's fork server (else started afresh)
    language: str = "en"  # the submission's edition (autograder.common.language): the language its pages speak


@dataclass(frozen=True)
class FeedbackRequest:
    """A judged notebook to render as the student's feedback page (on a worker)."""

    notebook_json: str  # the judged notebook: verdicts written into its test cells
    assignment_id: str
    scores: dict  # grade_id -> (score, max)
    max_score: float
    status: str
    detail: str
    seconds: float  # time limit of the rendering
    hidden_markers: tuple  # (begin, end) of hidden-test regions, from the course's nbgrader config
    translator: Translator = ENGLISH  # the submission's language: the page's words, verdicts and detail in it


@dataclass(frozen=True)
class FeedbackPage:
    """A rendered feedback page, or why there is none."""

    html: str | None
    seconds: float
    error: str = ""  # the rendering failed: the type and start of the exception


@dataclass(frozen=True)
class Outcome:
    """The parent's decision about one submission, as recorded in the gradebook and grades.csv."""

    student_id: str
    assignment_id: str
    status: Status
    detail: str
    scores: dict  # grade_id -> (score, max)
    mistakes: tuple = ()  # ids of diagnosed mistakes
    repaired: bool = False
    forked: bool = False


@dataclass(frozen=True)
class Judging:
    """What a worker needs, besides the :class:`Master`, to judge, diagnose and render one assignment's
    submissions (shared with every worker once per batch, like the master). The chapter's declaration and the
    reference are the worker's own (``solutions.chapters``, same commit); what may change between batches
    travels here: the seed, the source notebook (its sha and answer cells), the settings of the batch."""

    assignment_id: str
    source_sha: str  # the source notebook's: with ``answers``, what the catalogue's records are computed from
    seed: int | None  # the batch's hidden-input seed (the gradebook's)
    answers: tuple  # (grade_id, code) of the source's answer cells (the catalogue's mistakes are edits of them)
    secrets: frozenset  # lines the feedback must never show (feedback.leaks)
    book_url: str
    hidden_markers: tuple  # (begin, end) of hidden-test regions, from the course's nbgrader config
    render_seconds: float
    translators: tuple = ()  # (language, Translator) of each edition's language; others speak English

    def translator(self, language):
        return dict(self.translators).get(language, ENGLISH)


@dataclass(frozen=True)
class GradedRun:
    """What a worker returns for one job: the run's facts, the verdict and the feedback page.

    ``run`` is the :class:`KernelRun` without its raw records and notebook (timings include judge and
    render). ``outcome`` is None when the worker did not judge: a kernel that did not start (the parent
    tries it again) or judging that raised (``judging_failed``: the traceback's text; the parent records
    the grader error as it always has). ``notebook_json``: the judged notebook, None when nothing can be
    shown; ``page``: its feedback page, None with ``render_error`` when rendering failed.
    """

    run: KernelRun
    outcome: Outcome | None = None
    notebook_json: str | None = None
    page: str | None = None
    render_error: str = ""
    judging_failed: str = ""

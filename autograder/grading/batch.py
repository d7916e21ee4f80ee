"""A batch: everything a grading run needs, prepared before the first kernel starts.

:meth:`Batch.prepare` checks the command line's inputs (a clear :class:`UsageError` for each bad
one), finds the submissions, opens the gradebook, registers each assignment as nbgrader does, and
builds per assignment what the workers need (the :class:`~autograder.common.records.Master`) and
what the parent needs (the chapter's declaration, its reference answers, the lines the feedback
must never show). Then the resume journal sorts the submissions into jobs to grade and results
already recorded.

The selection (``--student``, ``--assignment``, each repeatable) keeps only those submissions, and
the course's ``CourseDirectory.student_id_exclude`` leaves its students out, as nbgrader's commands do;
``--force`` grades the selected submissions again even when nothing changed (manual grades and
comments stay in the gradebook: nbgrader's ``SaveAutoGrades`` never overwrites them).
"""

import shutil
import tempfile
import unicodedata
from pathlib import Path

from autograder.common.records import Job, Limits, Status
from autograder.course import config as course_settings
from autograder.course.config import course_config
from autograder.course.markers import Markers
from autograder.course.sources import reference_answers
from autograder.execution import submissions
from autograder.execution.submissions import UsageError
from autograder.grading import gradebook, master, preflight, refresh
from autograder.grading.scheduler import REVIEW_JUDGING
from solutions import chapters as course


class Batch:
    """Everything a run needs, prepared before the first kernel starts."""

    def __init__(self, args):
        self.args = args
        self.out = Path(args.out).resolve()
        self.source = Path(args.source).resolve()
        self.limits = Limits.from_args(args)
        self.gb = None
        self.staging = None

    def prepare(self):
        """Check the inputs, open the gradebook, build each assignment's master, sort jobs from results."""
        args = self.args
        target = Path(args.submissions)
        if not target.exists():
            raise UsageError(f"no such file or directory: {target}")
        try:
            declared = {c.id: c for c in course.all_chapters()}
        except Exception as err:  # noqa: BLE001 - a broken declaration: the course's fault, said in one line
            raise UsageError(f"the chapter declarations cannot be loaded ({type(err).__name__}: "
                             f"{str(err).splitlines()[0][:160]})") from None
        known = [c for c in declared if (self.source / c / f"{c}.ipynb").is_file()]
        if not known:
            raise UsageError(f"no chapter of the course in {self.source}")
        if target.is_file():
            if not target.name.lower().endswith(".zip"):
                raise UsageError(f"not a folder or a .zip: {target}")
            self.staging = Path(tempfile.mkdtemp(prefix="autograder-zip-"))
            root = submissions.extract_zip(target, self.staging)
        else:
            root = target
        grade_ids = {c: [t.grade_id for t in declared[c].tests] for c in known}
        self.subs = submissions.discover(root, known, grade_ids)
        if not self.subs:
            raise UsageError(f"no submissions found in {target} (expected <student_id>/<assignment_id>/...)")
        self.config = course_config(self.source)
        self.subs = self._select(self.subs, known, target)
        self.origins = {sub.key: sub.folder for sub in self.subs}  # for nbgrader's files next to the notebook
        self.out.mkdir(parents=True, exist_ok=True)
        db_url = args.db_url or refresh.course_db_url(self.out, self.source, self.config)
        self.db_url = gradebook.normalize_db_url(db_url)
        self.markers = Markers.of(self.config)
        try:
            self.gb = gradebook.open_gradebook(self.db_url, self.config)
        except Exception as err:  # noqa: BLE001 - SQLAlchemy raises many kinds
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise UsageError(f"cannot open the gradebook {gradebook.safe_url(self.db_url)}: {reason}") from None
        self._assignments(declared)
        self._sort_jobs()

    def _select(self, subs, known, target):
        """The submissions the command line selects, without the students the course excludes."""
        assignments = list(dict.fromkeys(getattr(self.args, "assignment", None) or []))
        unknown = [a for a in assignments if a not in known]
        if unknown:
            raise UsageError(f"unknown assignment(s) {', '.join(unknown)} (known: {', '.join(known)})")
        students = list(dict.fromkeys(unicodedata.normalize("NFC", s).strip()
                                      for s in getattr(self.args, "student", None) or []))
        excluded = course_settings.excluded_students(self.config)
        self.excluded = sorted({s.student_id for s in subs if s.student_id in excluded})
        chosen = [s for s in subs if s.student_id not in excluded
                  and (not assignments or s.assignment_id in assignments)
                  and (not students or s.student_id in students)]
        scope = f" for {', '.join(assignments)}" if assignments else ""
        missing = [s for s in students if not any(sub.student_id == s for sub in chosen)]
        if missing:
            raise UsageError(f"no submission of student(s) {', '.join(repr(s) for s in missing)}{scope} in {target}")
        if not chosen:
            raise UsageError(f"no submissions{scope} in {target}"
                             + (" (the course's CourseDirectory.student_id_exclude leaves out every one)"
                                if self.excluded else ""))
        return chosen

    def _assignments(self, declared):
        """Per assignment in the batch: register it, and build what the workers and the parent need."""
        self.chapters, self.masters, self.secrets, self.answers, self.seeds = {}, {}, {}, {}, {}
        in_batch = sorted({s.assignment_id for s in self.subs})
        # the fork servers import what this batch's kernels import (the tiny test course: numpy, not torch)
        preload = master.preload_lines(declared[aid] for aid in in_batch)
        for aid in in_batch:
            path = self.source / aid / f"{aid}.ipynb"
            try:
                sha = gradebook.register_assignment(self.gb, self.db_url, self.config, aid, path)
            except Exception as err:  # noqa: BLE001 - nbgrader refuses a changed assignment with grades
                raise UsageError(f"{aid}: {str(err).splitlines()[0][:200]} (grade into a new --out)") from None
            self.chapters[aid] = declared[aid]
            self.seeds[aid] = gradebook.batch_seed(self.gb, aid)  # the hidden tests' random inputs
            self.masters[aid] = master.build(declared[aid], path, sha, self.config, preload, self.seeds[aid])
            self.secrets[aid] = preflight.secret_lines(declared[aid], path, self.config)
            self.answers[aid] = reference_answers(path, self.config)

    def _sort_jobs(self):
        """The resume journal: a submission whose file and source are unchanged since its recorded result
        (not a grader error) is skipped unless ``--force``, and an older copy of a graded later one always."""
        journal = self.journal = gradebook.recorded(self.gb)
        force = getattr(self.args, "force", False)
        self.todo, self.skipped, self.review = [], [], {}
        for sub in self.subs:
            job = job_for(sub)
            if sub.review:
                self.review[sub.key] = list(sub.review)
            row = journal.get(sub.key)
            if not force and row is not None and row.status != Status.GRADER_ERROR \
                    and row.submission_sha == job.submission_sha \
                    and row.source_sha == self.masters[sub.assignment_id].source_sha:
                self.skipped.append(sub.key)
            elif row is not None and row.timestamp and sub.timestamp_text and row.timestamp > sub.timestamp_text:
                self.skipped.append(sub.key)  # an older copy: the graded, later submission stays
            elif row is not None and row.submission_sha == job.submission_sha and REVIEW_JUDGING in row.review:
                self.skipped.append(sub.key)  # its own records broke judging twice: listed for review, not retried
            else:
                self.todo.append(job)

    def close(self):
        if self.gb is not None:
            self.gb.close()
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)


def job_for(sub):
    """The :class:`Job` of one discovered submission: its bytes, read here without following links."""
    invalid = sub.invalid
    data = None
    if not invalid and sub.notebook is not None:
        try:
            data = sub.read()
        except OSError as err:
            invalid = f"the notebook cannot be read ({err.strerror or err})"
    return Job(student_id=sub.student_id, assignment_id=sub.assignment_id, notebook=data,
               notebook_name=sub.notebook.name if sub.notebook else "", submission_sha=sub.sha256(),
               timestamp_text=sub.timestamp_text, notes=tuple(sub.notes), invalid=invalid)

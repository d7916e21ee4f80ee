"""Every output from the gradebook: ``autograder feedback``, and the end of every ``autograder grade``.

``autograder feedback [--out DIR] [--db-url URL] [--source DIR] [--student ID]... [--assignment ID]...
[--force]``

After manual grading in the formgrader (scores, extra credit, comments), a due date or an extension
set with ``nbgrader db`` or the formgrader, or a regrade, the gradebook holds the numbers that count.
This brings every output in line with it, with nbgrader's own logic:

1. late penalties: nbgrader's ``AssignLatePenalties`` with the course's plugin, on every submission that
   is late or carries a penalty (:func:`autograder.grading.gradebook.apply_late_penalties`);
2. feedback pages: a page whose numbers differ from the gradebook's (cell scores, comments, late penalty;
   the journal keeps what each page shows) is rendered again from the graded notebook in ``autograded/``
   (``--force``: every selected page);
3. ``grades.csv``, ``nbgrader_export.csv``, ``grades-wide.csv`` and ``report.html`` are written again.

Then ``nbgrader release_feedback`` hands the pages back. Exit status 0; 1 when a page could not be
rendered (named; its earlier version stays); 2 with one line (no gradebook, nothing graded for a
selected student or assignment).
"""

import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.common.fileio import atomic_write
from autograder.common.language import notebook_language
from autograder.common.records import Limits, Status
from autograder.course import config as course
from autograder.course.markers import Markers
from autograder.grading import feedback, gradebook, report
from coursebook import paths
from coursebook.translation import languages as translation_languages

NOTHING_TO_SHOW = {Status.INVALID_NOTEBOOK.value, Status.MISSING_NOTEBOOK.value, Status.GRADER_ERROR.value}


@dataclass
class Refreshed:
    """What a refresh did and what the gradebook says now."""

    rows: list  # gradebook.rows(): one per student and assignment
    policy: str  # how late work is penalized
    penalized: int = 0  # submissions nbgrader's AssignLatePenalties ran on
    rewritten: list = field(default_factory=list)  # (student, assignment) of pages written again
    failed: list = field(default_factory=list)  # ((student, assignment), reason): pages that could not be


def refresh(gb, db_url, out, config, keys=None, pages=True, force=False, seconds=Limits.render_seconds):
    """Late penalties, feedback pages (``pages``; those of ``keys`` only, when given), CSVs and report."""
    late = course.late_penalties(config)
    done = Refreshed(rows=[], policy=course.describe_late_policy(late))
    done.penalized = gradebook.apply_late_penalties(gb, gradebook.normalize_db_url(db_url), late, keys)
    if pages:
        rewrite_pages(gb, Path(out), Markers.of(config), done, keys, force, seconds)
    done.rows = gradebook.export_csv(gb, out)
    report.render(gb, out)
    return done


def rewrite_pages(gb, out, markers, done, keys=None, force=False, seconds=Limits.render_seconds):
    """Render again the pages (of ``keys``) whose numbers are not the gradebook's, or all with ``force``."""
    subs = gradebook.submitted(gb)
    cells = gradebook.cell_grades(gb)
    comments = gradebook.manual_comments(gb)
    for key, row in sorted(gradebook.recorded(gb).items()):
        if (keys is not None and key not in keys) or key not in subs or row.status in NOTHING_TO_SHOW:
            continue
        sid, aid = key
        graded = out / "autograded" / sid / aid / f"{aid}.ipynb"
        scores = {name: (g.score, g.max_score) for name, g in cells.get(key, {}).items()}
        state = gradebook.page_state(scores, comments.get(key, {}), subs[key].late_penalty, row.status, row.detail)
        shown = row.page_state or _autograded_state(cells.get(key, {}), row)
        if state == shown and not force:
            if not row.page_state:
                gradebook.set_page_state(gb, key, state)
            continue
        try:
            nb = nbformat.read(str(graded), as_version=4)
            with feedback.time_limit(seconds):
                page = feedback.render(nb, aid, scores, subs[key].max_score, row.status, row.detail,
                                       (markers.begin_hidden, markers.end_hidden), comments=comments.get(key, {}),
                                       late_penalty=subs[key].late_penalty,
                                       translator=feedback.translator(page_language(nb), aid))
        except Exception as err:  # noqa: BLE001 - one page that cannot be rendered keeps its old version
            done.failed.append((key, f"{type(err).__name__}: {str(err)[:120]}"))
            continue
        atomic_write(out / "feedback" / sid / aid / f"{aid}.html", page)
        gradebook.set_page_state(gb, key, state)
        done.rewritten.append(key)


def page_language(graded_nb):
    """The language a graded notebook's page speaks: the one the grader recorded in it, else (a notebook graded
    before the grader recorded it) its edition's (:mod:`autograder.common.language`)."""
    languages = ("en", *translation_languages())
    recorded = (graded_nb.metadata.get("autograder") or {}).get("language")
    if isinstance(recorded, str) and recorded in languages:
        return recorded
    return notebook_language(graded_nb, languages)


def _autograded_state(cells, row):
    """What a page written by a grader that kept no page state shows: the autograder's scores alone."""
    scores = {name: (g.auto_score or 0.0, g.max_score) for name, g in cells.items()}
    return gradebook.page_state(scores, {}, 0.0, row.status, row.detail)


# -- the command ------------------------------------------------------------------------------------------


def add_arguments(parser):
    parser.add_argument("--out", default="grading", help="the grading folder (default: grading/)")
    parser.add_argument("--db-url", default=None, help="gradebook URL (default: sqlite in --out)")
    parser.add_argument("--source", default=str(paths.SOURCE),
                        help="nbgrader source folder of the course, whose nbgrader_config.py is read "
                             "(default: exercises/source)")
    parser.add_argument("--student", action="append", default=[], metavar="ID",
                        help="only this student's pages (repeatable)")
    parser.add_argument("--assignment", action="append", default=[], metavar="ID",
                        help="only this assignment's pages (repeatable)")
    parser.add_argument("--force", action="store_true",
                        help="render every selected page again, even where it already shows the gradebook's numbers")


def run(args):
    out = Path(args.out)
    config = course.course_config(args.source)
    db_url = args.db_url or course_db_url(out, args.source, config)
    if args.db_url is None and db_url == gradebook.default_db_url(out) and not (out / "gradebook.db").is_file():
        return _error(f"no gradebook in {out} (run `autograder grade` first)")
    try:
        gb = gradebook.open_existing(db_url)
    except Exception as err:  # noqa: BLE001 - SQLAlchemy raises many kinds
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return _error(f"cannot open the gradebook {gradebook.safe_url(db_url)}: {reason}")
    try:
        keys, problem = _selection(gb, args)
        if problem:
            return _error(problem)
        done = refresh(gb, db_url, out, config, keys=keys, force=args.force)
    finally:
        gb.close()
    from autograder.grading import summary

    print(f"late penalties: {done.policy}; nbgrader's AssignLatePenalties ran on {done.penalized} submission(s)")
    print(f"feedback pages rewritten: {len(done.rewritten)}; already showing the gradebook's numbers: "
          f"{sum(1 for r in done.rows if r['status'] not in NOTHING_TO_SHOW) - len(done.rewritten)}")
    summary.print_gradebook(done, keys)
    print(f"grades: {out / 'grades.csv'}   for an LMS: {out / 'grades-wide.csv'}   report: {out / 'report.html'}   "
          f"feedback: {out / 'feedback'} (hand it back: nbgrader release_feedback ASSIGNMENT, in {out})")
    return 1 if done.failed else 0


def course_db_url(out, source_dir, config):
    """``out``'s gradebook.db; when ``out`` is the course root, the gradebook its config names, if any."""
    if course.config_path(source_dir).parent == Path(out).resolve() and course.configured_db_url(config):
        return course.configured_db_url(config)
    return gradebook.default_db_url(out)


def _selection(gb, args):
    """The (student, assignment) keys ``--student``/``--assignment`` select (None: all), or a problem."""
    if not args.student and not args.assignment:
        return None, ""
    recorded = set(gradebook.recorded(gb))
    students = {unicodedata.normalize("NFC", s).strip() for s in args.student}
    unknown = sorted(students - {s for s, _ in recorded}) + sorted(set(args.assignment) - {a for _, a in recorded})
    if unknown:
        return None, f"nothing graded for {', '.join(repr(u) for u in unknown)} in this gradebook"
    return {(s, a) for s, a in recorded if (not students or s in students)
            and (not args.assignment or a in args.assignment)}, ""


def _error(message):
    print(f"autograder feedback: error: {message}", file=sys.stderr)
    return 2

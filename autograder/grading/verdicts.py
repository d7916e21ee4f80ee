"""Verdicts where the work is: one task per submission on a worker (run, judge, render), checked by the parent.

:func:`grade_task` runs a job in its sandboxed kernel as :func:`autograder.execution.engines.execute_task`
does, then, on the worker, decides the :class:`~autograder.common.records.Outcome` with the parent's own
code (:func:`autograder.grading.decide.decide`: decode, judge, diagnose, nbgrader's scores, leak check) and
renders the feedback page (:func:`autograder.grading.feedback.render_task`, same time limit), and returns a
:class:`~autograder.common.records.GradedRun`. The worker process (a local pool process or a Dask worker) is
as trusted as the parent and runs outside the sandbox; the kernel is a fresh process in bubblewrap started
by Popen, which never sees the worker's memory (the reference, the secrets). What the worker needs travels
as data (:class:`~autograder.common.records.Judging`, shared once per batch like the master); the reference's
and the catalogue's records are computed once per worker process and batch (cached by chapter, test, seed
and the answers' source).

:func:`checked` is the parent's side: the worker is trusted code, but its message is checked for shape
before anything of it is recorded (:class:`Malformed`: the submission's grader error, never the student's).
"""

import json
import math
import time
import traceback
import types
from dataclasses import replace

import nbformat
from nbformat.v4.nbjson import JSONReader

from autograder.common.records import FeedbackPage, FeedbackRequest, GradedRun, Judging, KernelRun, Outcome, Status
from autograder.common.words import N_
from autograder.execution import engines
from autograder.grading import feedback
from autograder.grading.decide import decide
from autograder.grading.outputs import graded_metadata, graded_notebook_text

MAX_DETAIL = 20_000  # characters of a status detail (the longest the grader writes are a few hundred)
MAX_MISTAKE = 200  # characters of a mistake id
MAX_TRACEBACK = 6000  # characters of a judging failure's traceback kept (as the parent kept them)
MAX_RENDER_ERROR = 300


def judging_of(batch, assignment_id):
    """The :class:`Judging` of one assignment of a prepared batch (what its workers need besides the master)."""
    from coursebook.translation import languages

    return Judging(
        assignment_id=assignment_id, source_sha=batch.masters[assignment_id].source_sha,
        seed=batch.seeds.get(assignment_id), answers=tuple(sorted(batch.answers[assignment_id].items())),
        secrets=frozenset(batch.secrets[assignment_id]), book_url=batch.args.book_url or "",
        hidden_markers=(batch.markers.begin_hidden, batch.markers.end_hidden),
        render_seconds=batch.limits.render_seconds,
        translators=tuple((lang, feedback.translator(lang, assignment_id)) for lang in languages()))


# -- on the worker ----------------------------------------------------------------------------------------------
def grade_task(job, master, judging, limits, sandboxed):
    """A worker's task: run ``job`` in its kernel, judge and render it here; a :class:`GradedRun`."""
    return graded(job, engines.execute_task(job, master, limits, sandboxed), master, judging, limits)


def graded(job, run, master, judging, limits):
    """The :class:`GradedRun` of a finished :class:`KernelRun` (judged and rendered in this process)."""
    bare = replace(run, records={}, notebook=None)
    if run.grader_error and run.died_at == -1:  # the kernel did not start: the parent tries it again
        return GradedRun(bare)
    started = time.monotonic()
    try:
        outcome, judged = decide(_batch(master, judging, limits), job, run)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as err:  # noqa: BLE001 - the parent records it as the grader error it always was
        return GradedRun(bare, judging_failed="".join(traceback.format_exception(err))[-MAX_TRACEBACK:])
    bare.timings["judge"] = time.monotonic() - started
    if judged is None:
        return GradedRun(bare, outcome)
    request = FeedbackRequest(
        notebook_json=nbformat.writes(judged), assignment_id=job.assignment_id, scores=dict(outcome.scores),
        max_score=master.max_score, status=outcome.status.value, detail=outcome.detail,
        seconds=judging.render_seconds, hidden_markers=judging.hidden_markers,
        translator=judging.translator(run.language))
    try:
        page = feedback.render_task(request)
    except Exception as err:  # noqa: BLE001 - as a render task that raised: the page is the status page
        page = FeedbackPage(html=None, seconds=0.0, error=f"{type(err).__name__}: {str(err)[:120]}")
    if not page.error:
        bare.timings["render"] = page.seconds
    # the graded notebook's file, written here: the parent stores it as it comes (after checking its metadata)
    notebook_json = graded_notebook_text(judged, with_render_error(outcome, page.error), bare.timings, run.language)
    return GradedRun(bare, outcome, notebook_json, page.html, page.error)


def with_render_error(outcome, render_error):
    """``outcome`` as recorded: its detail says that the feedback page could not be rendered, if so."""
    if not render_error:
        return outcome
    detail = N_(f"feedback could not be rendered ({render_error})")
    return replace(outcome, detail="; ".join(filter(None, [outcome.detail, detail])))


def _batch(master, judging, limits):
    """What :func:`decide` reads of a batch, for one assignment, from the worker's own chapter declaration."""
    from solutions import chapters

    aid = judging.assignment_id
    return types.SimpleNamespace(
        chapters={aid: chapters.chapter(aid)}, masters={aid: master}, limits=limits, seeds={aid: judging.seed},
        answers={aid: dict(judging.answers)}, secrets={aid: judging.secrets},
        args=types.SimpleNamespace(book_url=judging.book_url))


# -- in the parent ----------------------------------------------------------------------------------------------
class Malformed(Exception):
    """A worker's result does not have the shape of a :class:`GradedRun` for its job."""


def checked(result, job, master):
    """``result`` if it is a well-formed :class:`GradedRun` of ``job`` (scores of ``master``'s tests), with its
    judged notebook parsed: ``(graded, notebook)``; else :class:`Malformed` saying what is wrong."""
    if type(result) is not GradedRun:
        raise Malformed(f"a {type(result).__name__}, not a GradedRun")
    run = result.run
    if type(run) is not KernelRun:
        raise Malformed(f"its run is a {type(run).__name__}")
    if (run.student_id, run.assignment_id) != job.key:
        raise Malformed("its run is of another submission")
    if type(run.timings) is not dict or not all(type(k) is str and _number(v) for k, v in run.timings.items()):
        raise Malformed("its timings are not seconds by phase")
    for name in ("render_error", "judging_failed"):
        value = getattr(result, name)
        if type(value) is not str or len(value) > (MAX_TRACEBACK if name == "judging_failed" else MAX_RENDER_ERROR):
            raise Malformed(f"{name} is not a short text")
    if result.page is not None and type(result.page) is not str:
        raise Malformed("its page is not text")
    if result.outcome is None:
        if result.notebook_json is not None or result.page is not None:
            raise Malformed("a notebook or page without an outcome")
        return result, None
    _check_outcome(result.outcome, job, master)
    if result.notebook_json is None:
        if result.page is not None:
            raise Malformed("a page without a notebook")
        return result, None
    notebook = _notebook(result.notebook_json)
    written = notebook.metadata.get("autograder")
    if written != graded_metadata(with_render_error(result.outcome, result.render_error), run.timings, run.language):
        raise Malformed("its notebook's metadata does not say its outcome")
    return result, notebook


def _check_outcome(outcome, job, master):
    if type(outcome) is not Outcome:
        raise Malformed(f"its outcome is a {type(outcome).__name__}")
    if (outcome.student_id, outcome.assignment_id) != job.key:
        raise Malformed("its outcome is of another submission")
    if type(outcome.status) is not Status:
        raise Malformed("its status is not a Status")
    if type(outcome.detail) is not str or len(outcome.detail) > MAX_DETAIL:
        raise Malformed("its detail is not a bounded text")
    if type(outcome.scores) is not dict or set(outcome.scores) != set(master.grade_ids):
        raise Malformed("its scores are not keyed by the assignment's tests")
    for test in master.tests:
        pair = outcome.scores[test.grade_id]
        if type(pair) is not tuple or len(pair) != 2 or not all(type(x) is float for x in pair):
            raise Malformed(f"the score of {test.grade_id} is not (score, points)")
        score, points = pair
        if points != test.points or not (math.isfinite(score) and 0.0 <= score <= points):
            raise Malformed(f"the score of {test.grade_id} is out of 0..{test.points:g}")
    if type(outcome.mistakes) is not tuple or not all(type(m) is str and len(m) <= MAX_MISTAKE
                                                        for m in outcome.mistakes):
        raise Malformed("its mistakes are not a tuple of short ids")
    if type(outcome.repaired) is not bool or type(outcome.forked) is not bool:
        raise Malformed("its flags are not booleans")


def _number(value):
    return type(value) in (int, float) and math.isfinite(value)


def _notebook(text):
    """The judged notebook of a worker's JSON text (json and nbformat's node types; its schema is the worker's
    business: it wrote it with nbformat)."""
    if type(text) is not str:
        raise Malformed("its notebook is not text")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise Malformed(f"its notebook is not JSON ({str(err)[:80]})") from None
    if type(data) is not dict or data.get("nbformat") != 4 or type(data.get("cells")) is not list \
            or not all(type(c) is dict and type(c.get("cell_type")) is str and type(c.get("metadata")) is dict
                       for c in data["cells"]) or type(data.get("metadata")) is not dict:
        raise Malformed("its notebook is not an nbformat 4 notebook")
    try:
        return _READER.to_notebook(data)  # what nbformat.reads does, without validating the schema again
    except (TypeError, AttributeError, ValueError) as err:
        raise Malformed(f"its notebook's cells are not nbformat's ({type(err).__name__})") from None


_READER = JSONReader()

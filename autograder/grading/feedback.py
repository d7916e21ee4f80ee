"""Per-student feedback HTML in nbgrader's own format: visible tests, verdicts, diagnoses, offline math.

nbgrader's ``generate_feedback`` renders the autograded notebook with its ``feedback`` template.
The notebook the grader renders never held hidden tests (test cells ran the probe call instead),
and the verdicts are error outputs written by the grading parent. On top of the template:

- math renders offline: the template's MathJax macro is replaced (``templates/mathjax.html.j2``)
  by MathJax 3 from ``feedback/_mathjax/``, copied there once per output folder;
- any region between hidden-test markers is removed all the same (nbgrader's ``ClearHiddenTests``),
  and error outputs of such cells lose their tracebacks;
- :func:`leaks` is the last line of defence: a notebook whose restored cells or outputs carry a line
  of the reference, the chapter's checks or the source notebook's hidden parts is not rendered;
- rendering runs under a time limit (``Limits.render_seconds``) in a worker process.
"""

import copy
import os
import signal
import threading
import time
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import nbformat
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbformat.v4 import new_markdown_cell
from nbgrader import utils as nbutils
from nbgrader.preprocessors import ClearHiddenTests
from traitlets.config import Config

from autograder.common.fileio import atomic_copytree
from autograder.common.records import FeedbackPage
from autograder.compat.nbconvert import FastHTMLExporter
from autograder.course.markers import Markers

_TEMPLATES = os.path.join(os.path.dirname(nbutils.__file__), "server_extensions", "formgrader")
_OURS = os.path.join(os.path.dirname(__file__), "templates")
MATHJAX_FOLDER = "_mathjax"


@lru_cache(maxsize=1)
def _exporter():
    c = Config()
    c.HTMLExporter.template_name = "feedback_offline"  # nbgrader's "feedback" with offline MathJax
    c.HTMLExporter.extra_template_basedirs = [_OURS, os.path.join(_TEMPLATES, "templates")]
    c.HTMLExporter.extra_template_paths = [
        os.path.join(_TEMPLATES, "templates"),
        os.path.join(_TEMPLATES, "static", "node_modules", "bootstrap", "dist", "css")]
    exporter = FastHTMLExporter(config=c)
    exporter.register_preprocessor(CSSHTMLHeaderPreprocessor(config=c), enabled=True)
    return exporter


def without_hidden_tests(nb, markers=None):
    """A deep copy of ``nb`` that carries no hidden-test source anywhere (``markers``: begin and end,
    the course's; nbgrader's defaults when not given)."""
    if markers is None:
        defaults = Markers.of()
        markers = (defaults.begin_hidden, defaults.end_hidden)
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if markers[0] not in cell.source:
            continue
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
    nb, _ = ClearHiddenTests(enforce_metadata=False, begin_test_delimeter=markers[0],
                             end_test_delimeter=markers[1]).preprocess(nb, {})
    return nb


class RenderTimeout(Exception):
    """Rendering took longer than its limit."""


@contextmanager
def time_limit(seconds):
    """SIGALRM after ``seconds`` (main thread only; elsewhere the caller's own limit applies)."""
    if threading.current_thread() is not threading.main_thread() or not seconds:
        yield
        return

    def expired(_signum, _frame):
        raise RenderTimeout(f"feedback rendering took more than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def leaks(nb, secrets):
    """Lines of ``secrets`` found in restored (locked) cell sources or in any output of ``nb``."""
    found = set()
    for cell in nb.cells:
        texts = []
        if nbutils.is_locked(cell):
            texts.append(cell.source)
        for output in cell.get("outputs", []):
            texts += [str(output.get("text", "")), str(output.get("evalue", ""))] + [str(v) for v in (
                output.get("data") or {}).values()] + [str(t) for t in output.get("traceback", [])]
        for text in texts:
            found |= {line.strip() for line in text.splitlines() if line.strip() in secrets}
    return sorted(found)


def install_mathjax(feedback_root):
    """Copy the bundled MathJax 3 next to the feedback folders (once per output folder)."""
    target = Path(feedback_root) / MATHJAX_FOLDER
    if (target / "tex-chtml.js").is_file():
        return target
    import importlib.util

    spec = importlib.util.find_spec("sphinx-mathjax-offline")  # the package the book bundles MathJax with
    return atomic_copytree(Path(list(spec.submodule_search_locations)[0]) / "static" / "mathjax", target)


def render_task(request):
    """A worker's task: the :class:`~autograder.common.records.FeedbackPage` of a
    :class:`~autograder.common.records.FeedbackRequest`, within its time limit."""
    started = time.monotonic()
    with time_limit(request.seconds):
        nb = nbformat.reads(request.notebook_json, as_version=4)
        page = render(nb, request.assignment_id, request.scores, request.max_score, request.status, request.detail,
                      request.hidden_markers)
    return FeedbackPage(html=page, seconds=time.monotonic() - started)


def render(graded_nb, assignment_id, cell_scores, max_score, status, detail, hidden_markers=None, comments=None,
           late_penalty=0.0):
    """HTML feedback for one graded notebook; ``cell_scores`` maps grade_id -> (score, max), ``comments``
    grade_id -> a grader's comment on that answer (the formgrader's), ``late_penalty`` is taken off the
    total (nbgrader's feedback shows it as a line of its own)."""
    nb = without_hidden_tests(graded_nb, hidden_markers)
    for cell in nb.cells:
        if nbutils.is_grade(cell):
            score, points = cell_scores.get(cell.metadata.nbgrader["grade_id"], (0.0, 0.0))
            cell.metadata.nbgrader["score"] = score
            cell.metadata.nbgrader["points"] = points
        if nbutils.is_solution(cell):
            cell.metadata.nbgrader["comment"] = (comments or {}).get(cell.metadata.nbgrader.get("grade_id"))
    total = sum(s for s, _ in cell_scores.values()) - late_penalty
    if status != "ok" or detail:
        note = f"**Autograder:** status `{status}`" + (f": {detail}" if detail else "")
        nb.cells.insert(0, new_markdown_cell(note.replace("<", "&lt;")))
    resources = {"nbgrader": {"notebook": assignment_id, "score": total, "max_score": max_score,
                              "late_penalty": late_penalty}}
    html, _ = _exporter().from_notebook_node(nb, resources=resources)
    return html

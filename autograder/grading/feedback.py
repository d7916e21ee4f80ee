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
- rendering runs under a time limit (``Limits.render_seconds``) in a worker process;
- nothing a student wrote runs in the reader's browser: :func:`sanitize` (nbconvert's ``SanitizeHTML``,
  bleach underneath) drops JavaScript and every output type that is not plain data and cleans HTML
  outputs and raw cells, Markdown is cleaned after it is rendered to HTML (:func:`clean_html`: Markdown
  source is not HTML, so code spans and ``<`` in prose survive), and every page carries a
  Content-Security-Policy (:func:`content_security_policy`): scripts only from the page's own folders
  (MathJax) and the one inline MathJax configuration, by its hash; no connections, forms or frames.
"""

import base64
import copy
import hashlib
import html as html_module
import os
import re
import time
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import bleach
import jinja2
import nbformat
from bleach.css_sanitizer import CSSSanitizer
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbconvert.preprocessors.sanitize import SanitizeHTML
from nbformat.v4 import new_markdown_cell
from nbgrader import utils as nbutils
from nbgrader.preprocessors import ClearHiddenTests
from traitlets.config import Config

from autograder.common.deadline import DeadlineExceeded, deadline
from autograder.common.fileio import atomic_copytree
from autograder.common.records import FeedbackPage
from autograder.common.words import ENGLISH, N_, Translator
from autograder.compat.nbconvert import FastHTMLExporter
from autograder.course.markers import Markers

_TEMPLATES = os.path.join(os.path.dirname(nbutils.__file__), "server_extensions", "formgrader")
_OURS = os.path.join(os.path.dirname(__file__), "templates")
MATHJAX_FOLDER = "_mathjax"
# the first line of a test cell's stderr, shown as a display (autograder.grading.decide.warnings_keep_points)
STDERR_HEADING = N_("[stderr: warnings and log lines do not cost points]")


# -- what a student wrote never runs in the reader's browser -------------------------------------------------
# HTML that Markdown and notebook outputs may keep: text structure, tables, code, images; no script, style
# element, form, frame, object or event attribute; links and images only to safe places
SAFE_TAGS = sorted(set(bleach.sanitizer.ALLOWED_TAGS) | {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "span", "div", "img", "table", "thead", "tbody",
    "tfoot", "tr", "th", "td", "caption", "del", "ins", "sup", "sub", "dl", "dt", "dd", "kbd", "samp", "var",
    "details", "summary", "figure", "figcaption"})
SAFE_CSS = ["color", "background-color", "text-align", "font-weight", "font-style", "text-decoration", "width",
            "height", "max-width", "border", "padding", "margin", "vertical-align", "white-space"]


def _safe_attribute(tag, name, value):
    if name in ("title", "alt", "align", "colspan", "rowspan", "style"):
        return True
    if name in ("class", "id"):
        return tag in ("span", "div", "code", "pre", "table", "th", "td", "a", "h1", "h2", "h3", "h4", "h5", "h6")
    if tag == "a" and name == "href":
        return value.startswith(("#", "http://", "https://", "mailto:"))
    if tag == "img" and name == "src":
        return value.startswith(("data:image/png;", "data:image/jpeg;", "data:image/gif;"))
    if tag == "img" and name in ("width", "height"):
        return True
    return False


_CLEANER = bleach.Cleaner(tags=SAFE_TAGS, attributes=_safe_attribute, protocols=["http", "https", "mailto", "data"],
                          strip=False, strip_comments=True, css_sanitizer=CSSSanitizer(allowed_css_properties=SAFE_CSS))


def clean_html(text):
    """``text`` (HTML) with only :data:`SAFE_TAGS` and safe attributes kept; the rest escaped, shown as text."""
    return _CLEANER.clean(str(text))


class _Sanitize(SanitizeHTML):
    """nbconvert's sanitizer with the feedback page's allow-list; Markdown cells are left to the rendered HTML's
    cleaning (bleach on Markdown source would escape ``<`` inside code spans)."""

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "markdown":
            return cell, resources
        return super().preprocess_cell(cell, resources, cell_index)

    def sanitize_html_tags(self, html_str):
        return clean_html(html_str)


def sanitize(nb):
    """A copy of ``nb`` whose outputs and raw cells hold nothing a browser would run: JavaScript and every
    output type but plain data (text, LaTeX, JSON, PNG, JPEG) dropped, HTML and Markdown outputs cleaned."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") in ("display_data", "execute_result"):
                output.setdefault("data", {})
    nb, _ = _Sanitize(strip=False).preprocess(nb, {})
    return nb


_MATHJAX_TEMPLATE = Path(_OURS) / "feedback_offline" / "mathjax.html.j2"


@lru_cache(maxsize=1)
def content_security_policy():
    """The feedback page's policy: MathJax from the page's own folders and its one inline configuration (by
    hash, read from the template), styles and images of the page itself; nothing else runs or loads."""
    inline = re.findall(r"<script>(.*?)</script>", _MATHJAX_TEMPLATE.read_text(encoding="utf-8"), re.S)
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in inline)
    return ("default-src 'none'; "
            f"script-src 'self' file: {hashes}; "
            "style-src 'self' file: 'unsafe-inline'; img-src 'self' file: data:; font-src 'self' file: data:; "
            "connect-src 'none'; frame-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'")


def csp_meta():
    return f'<meta http-equiv="Content-Security-Policy" content="{html_module.escape(content_security_policy())}">'


@lru_cache(maxsize=4)
def _exporter(translator=ENGLISH):
    """nbconvert's exporter of the feedback page, its template's words (``{% trans %}``) in ``translator``'s
    language (one exporter per language: its Jinja environment holds the translations)."""
    c = Config()
    c.HTMLExporter.template_name = "feedback_offline"  # nbgrader's "feedback" with offline MathJax
    c.HTMLExporter.extra_template_basedirs = [_OURS, os.path.join(_TEMPLATES, "templates")]
    c.HTMLExporter.extra_template_paths = [
        _OURS,  # feedback/index.html.j2: nbgrader's, its words marked for translation
        os.path.join(_TEMPLATES, "templates"),
        os.path.join(_TEMPLATES, "static", "node_modules", "bootstrap", "dist", "css")]
    exporter = FastHTMLExporter(config=c)
    exporter.register_preprocessor(CSSHTMLHeaderPreprocessor(config=c), enabled=True)
    rendered_markdown = exporter.markdown2html

    @jinja2.pass_context
    def safe_markdown2html(context, source):  # Markdown as HTML, then cleaned like any student HTML
        return clean_html(rendered_markdown(context, source))

    exporter.register_filter("markdown2html", safe_markdown2html)
    exporter.environment.add_extension("jinja2.ext.i18n")
    exporter.environment.install_gettext_callables(translator.gettext, _ngettext(translator))
    return exporter


def _ngettext(translator):
    def ngettext(singular, plural, n):
        return translator.gettext(singular if n == 1 else plural)
    return ngettext


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
    """:class:`RenderTimeout` after ``seconds`` (the one wall-clock deadline of :mod:`autograder.common.deadline`:
    main thread only; elsewhere the caller's own limit applies)."""
    try:
        with deadline(seconds):
            yield
    except DeadlineExceeded:
        raise RenderTimeout(f"feedback rendering took more than {seconds:g} s") from None


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


@lru_cache(maxsize=64)
def translator(language, chapter=None):
    """The :class:`~autograder.common.words.Translator` of ``language`` from the catalogs in ``locales/`` (the
    identity for the source language and for a language without catalogs); ``chapter``: with that chapter's
    catalogue of mistakes only (what its pages need: a smaller record to send to a worker)."""
    from coursebook.translation import grader_messages, languages

    if language not in languages():
        return ENGLISH
    literal, templates = grader_messages(language, chapter)
    return Translator(language, literal, templates)


def render_task(request):
    """A worker's task: the :class:`~autograder.common.records.FeedbackPage` of a
    :class:`~autograder.common.records.FeedbackRequest`, within its time limit."""
    started = time.monotonic()
    with time_limit(request.seconds):
        nb = nbformat.reads(request.notebook_json, as_version=4)
        page = render(nb, request.assignment_id, request.scores, request.max_score, request.status, request.detail,
                      request.hidden_markers, translator=request.translator)
    return FeedbackPage(html=page, seconds=time.monotonic() - started)


def render(graded_nb, assignment_id, cell_scores, max_score, status, detail, hidden_markers=None, comments=None,
           late_penalty=0.0, translator=ENGLISH):
    """HTML feedback for one graded notebook; ``cell_scores`` maps grade_id -> (score, max), ``comments``
    grade_id -> a grader's comment on that answer (the formgrader's), ``late_penalty`` is taken off the
    total (nbgrader's feedback shows it as a line of its own). ``translator``: the language of the submission,
    in which the page's words, the verdicts and the status detail are shown (the graded notebook stays English)."""
    nb = speak(without_hidden_tests(graded_nb, hidden_markers), translator)
    for cell in nb.cells:
        if nbutils.is_grade(cell):
            score, points = cell_scores.get(cell.metadata.nbgrader["grade_id"], (0.0, 0.0))
            cell.metadata.nbgrader["score"] = score
            cell.metadata.nbgrader["points"] = points
        if nbutils.is_solution(cell):
            cell.metadata.nbgrader["comment"] = (comments or {}).get(cell.metadata.nbgrader.get("grade_id"))
    total = sum(s for s, _ in cell_scores.values()) - late_penalty
    if status != "ok" or detail:
        note = N_(f"**Autograder:** status `{status}`: {detail}") if detail else \
            N_(f"**Autograder:** status `{status}`")
        note = translator.text(note)
        nb.cells.insert(0, new_markdown_cell(note.replace("<", "&lt;")))
    resources = {"nbgrader": {"notebook": assignment_id, "score": total, "max_score": max_score,
                              "late_penalty": late_penalty}, "csp_meta": csp_meta()}
    html, _ = _exporter(translator).from_notebook_node(sanitize(nb), resources=resources)
    return html


def speak(nb, translator):
    """``nb`` (a copy) with what the grader wrote into its test cells in ``translator``'s language: the verdicts
    (error outputs whose traceback is their own line) and the stderr headings."""
    if translator.is_identity:
        return nb
    for cell in nb.cells:
        if cell.cell_type != "code" or not nbutils.is_grade(cell):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and output.get("traceback") == [
                    f"{output.get('ename', '')}: {output.get('evalue', '')}"]:
                output["evalue"] = translator.text(str(output.get("evalue", "")))
                output["traceback"] = [f"{output.get('ename', '')}: {output['evalue']}"]
            elif (output.get("metadata") or {}).get("autograder", {}).get("stream") == "stderr":
                text = str(output.get("data", {}).get("text/plain", ""))
                if text.startswith(STDERR_HEADING + "\n"):
                    output["data"]["text/plain"] = translator.text(STDERR_HEADING) + text[len(STDERR_HEADING):]
    return nb

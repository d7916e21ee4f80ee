"""Per-student feedback HTML in nbgrader's own format, without the source of hidden tests.

nbgrader's ``generate_feedback`` renders the autograded notebook with its ``feedback``
template; the rendered test cells then contain the hidden tests (nbgrader issue #1363), and so
do the tracebacks of failing hidden asserts, whose frames quote the failing source lines. Here
the same template renders a copy in which:

- every hidden-test region is removed from the cell sources (nbgrader's ``ClearHiddenTests``);
- every error output of a cell that had a hidden region keeps its exception name and message
  (the test author's explanation, with expected and actual values) but loses the traceback;
- scores come from the same ``determine_grade`` the gradebook uses (what ``GetGrades`` reads).
"""

import copy
import os
from functools import lru_cache

from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbformat.v4 import new_markdown_cell
from nbgrader import utils as nbutils
from nbgrader.preprocessors import ClearHiddenTests
from traitlets.config import Config

from autograder.gradebook import HIDDEN_BEGIN

_TEMPLATES = os.path.join(os.path.dirname(nbutils.__file__), "server_extensions", "formgrader")


class _FeedbackExporter(HTMLExporter):
    """nbconvert's HTMLExporter without its final BeautifulSoup pass.

    That pass re-parses the whole page (the feedback template inlines Bootstrap) only to add alt
    text to images without one and tabindex attributes: 40 % of the rendering time per notebook.
    The rest is HTMLExporter.from_notebook_node of nbconvert 7, unchanged.
    """

    def from_notebook_node(self, nb, resources=None, **kw):
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        highlight_code = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
        resources = self._init_resources(resources)
        filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                                 resources=resources)
        self.register_filter("highlight_code", highlight_code)
        self.register_filter("filter_data_type", filter_data_type)
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)


@lru_cache(maxsize=1)
def _exporter():
    c = Config()
    c.HTMLExporter.template_name = "feedback"
    c.HTMLExporter.extra_template_basedirs = [os.path.join(_TEMPLATES, "templates")]
    c.HTMLExporter.extra_template_paths = [
        os.path.join(_TEMPLATES, "static", "node_modules", "bootstrap", "dist", "css")]
    exporter = _FeedbackExporter(config=c)
    exporter.register_preprocessor(CSSHTMLHeaderPreprocessor(config=c), enabled=True)
    return exporter


def without_hidden_tests(nb):
    """A deep copy of ``nb`` that carries no hidden-test source anywhere."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if HIDDEN_BEGIN not in cell.source:
            continue
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
    nb, _ = ClearHiddenTests(enforce_metadata=False).preprocess(nb, {})
    return nb


def render(graded_nb, assignment_id, cell_scores, max_score, status, detail):
    """HTML feedback for one graded notebook; ``cell_scores`` maps grade_id -> (score, max)."""
    nb = without_hidden_tests(graded_nb)
    for cell in nb.cells:
        if nbutils.is_grade(cell):
            score, points = cell_scores.get(cell.metadata.nbgrader["grade_id"], (0.0, 0.0))
            cell.metadata.nbgrader["score"] = score
            cell.metadata.nbgrader["points"] = points
        if nbutils.is_solution(cell):
            cell.metadata.nbgrader["comment"] = None
    total = sum(s for s, _ in cell_scores.values())
    if status != "ok" or detail:
        note = f"**Autograder:** status `{status}`" + (f": {detail}" if detail else "")
        nb.cells.insert(0, new_markdown_cell(note.replace("<", "&lt;")))
    resources = {"nbgrader": {"notebook": assignment_id, "score": total, "max_score": max_score,
                              "late_penalty": 0}}
    html, _ = _exporter().from_notebook_node(nb, resources=resources)
    return html


def warm_up():
    """Compile the feedback templates once (about 1 s), in the grading parent before it forks its
    workers, so that each worker inherits them instead of compiling its own copy."""
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    cell = new_code_cell("x = 1", metadata={"nbgrader": {
        "grade": True, "grade_id": "t", "locked": True, "points": 1, "schema_version": 3, "solution": False,
        "task": False}})
    cell.outputs = [new_output("stream", name="stdout", text="x"),
                    new_output("error", ename="AssertionError", evalue="x", traceback=["x"])]
    render(new_notebook(cells=[new_markdown_cell("x"), cell]), "warm-up", {"t": (0.0, 1.0)}, 1.0, "ok", "")


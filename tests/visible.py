"""The visible tests of an exercise notebook, run in this process on any set of answers (no kernel: fast).

The source notebook's code cells run in order in one namespace: the setup and helper cells, the answer
cells (the reference's, or replacements), and each graded test cell without its hidden region. What a
student sees when running the released notebook: which test cells raise, and with what.
"""

import contextlib
import functools
import io
import re
import warnings

from autograder.course.sources import reference_answers
from coursebook.paths import source_notebook
from tests.notebooks import HIDDEN_REGION, nbgrader_meta, read


@functools.cache
def _cells(chapter_id):
    """[(kind, grade_id, source)] of the source notebook's code cells: setup, answer or test."""
    out = []
    for cell in read(source_notebook(chapter_id)).cells:
        if cell.cell_type != "code":
            continue
        meta = nbgrader_meta(cell)
        kind = "answer" if meta.get("solution") else "test" if meta.get("grade") else "setup"
        source = HIDDEN_REGION.sub("", cell.source) if kind == "test" else cell.source
        source = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        out.append((kind, meta.get("grade_id"), source))
    return tuple(out)


def run(chapter, replace=None, only=None):
    """{test grade_id: error text or None} of the visible tests with the answers ``replace`` (answer -> source)
    in place of the reference's; ``only``: the grade_ids to report (every test cell still runs in order, an
    earlier one may define what a later one uses, but cells of other answers are skipped when ``only`` is given
    and they are not needed)."""
    import matplotlib

    matplotlib.use("Agg")
    answers = reference_answers(source_notebook(chapter.id))
    replace = replace or {}
    namespace, errors = {"__name__": "__main__"}, {}
    for kind, grade_id, source in _cells(chapter.id):
        if kind == "answer":
            source = replace.get(grade_id, answers.get(grade_id, source))
        elif kind == "test" and only is not None and grade_id not in only:
            continue
        error = _execute(source, namespace, f"<{grade_id or kind}>")
        if kind == "test":
            errors[grade_id] = error
        elif error is not None and kind == "setup":
            raise RuntimeError(f"{chapter.id}: a setup cell failed: {error}")
    import matplotlib.pyplot as plt

    plt.close("all")
    return errors


def _execute(source, namespace, name):
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        try:
            exec(compile(source, name, "exec"), namespace)  # noqa: S102 - the course's notebook
        except BaseException as err:  # noqa: BLE001 - what the student would see in the cell
            if isinstance(err, KeyboardInterrupt):
                raise
            return f"{type(err).__name__}: {err}"
    return None


def hidden_only_notes(chapter_id):
    """The text of the notebook's Markdown cells (where the hidden-only mistakes are listed)."""
    nb = read(source_notebook(chapter_id))
    return re.sub(r"\s+", " ", "\n".join(c.source for c in nb.cells if c.cell_type == "markdown"))

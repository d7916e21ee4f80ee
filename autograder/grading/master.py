"""The master of an assignment: what every job needs from the instructor's side, built once per batch.

From the chapter's declaration (:mod:`solutions.chapters`) and its source notebook: the locked cells
as the kernel may see them (test cells whose hidden region is the probe call), the test cells with
their points and answers, the setup cells, the call plans, the probe's source, and the imports a
fork server does once for the whole course. The kernel gets nothing else: no reference package, no
hidden tests, no gradebook. (The worker process that starts it is trusted and judges its records with the
reference, :mod:`autograder.grading.verdicts`; the kernel is a fresh process in bubblewrap started by
``Popen``, or forked from the slot's fork server, itself a fresh Python started by ``Popen`` in bubblewrap with
nothing of the repository mounted: neither ever sees the worker's memory.)
"""

import json
from pathlib import Path

import nbformat

from autograder.common.records import Edition, Master, TestCell
from autograder.course.markers import Markers
from autograder.course.sources import kernel_source
from checks import probe
from coursebook.translation import languages, translate_locked_cells

# what every kernel imports besides a chapter's setup (the fork server does it once)
JUPYTER_PRELOAD = ("import matplotlib", "matplotlib.use('Agg')", "import matplotlib.pyplot",
                   "import ipykernel.kernelapp", "import ipykernel.ipkernel", "import ipykernel.debugger")


# what torch imports lazily, the first time a kernel builds an optimizer (every torch.optim class's __init__ goes
# through torch._dynamo: 2-10 s of imports, sympy and torch.fx among them) and steps it (the profiler's monitor):
# once per notebook unless the fork server did it once (tests/test_autograder_units.py checks the list is whole)
TORCH_PRELOAD = ("import torch._dynamo", "import torch.profiler._cupti_monitor")


def preload_lines(chapters):
    """The import lines of every chapter's setup (what a kernel of this course imports), and Jupyter's."""
    lines = []
    for chapter in chapters:
        lines += [line for line in chapter.setup if line.startswith(("import ", "from ")) and line not in lines]
    torch = any(line.split()[1].split(".")[0] == "torch" for line in lines if len(line.split()) > 1)
    return tuple(lines) + (TORCH_PRELOAD if torch else ()) + JUPYTER_PRELOAD


def build(chapter, source_path, source_sha, config=None, preload=(), seed=None):
    """The assignment's :class:`Master`; ``seed``: the batch's, from which the hidden cases draw their inputs."""
    source_nb = nbformat.read(str(source_path), as_version=4)
    kernel_nb = kernel_source(source_nb, Markers.of(config))
    cells, points, setup = _cells(kernel_nb), {}, []
    for cell in kernel_nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if not grade_id:
            continue
        if meta.get("grade"):
            points[grade_id] = float(meta.get("points", 0))
        elif meta.get("locked") and not meta.get("solution") and cell.cell_type == "code":
            setup.append(grade_id)
    # each translated edition's locked cells: what its release shows, restored in a submission of it
    editions = []
    for language in languages():
        translated = translate_locked_cells(kernel_nb, chapter.id, language)
        editions.append(Edition(language, _cells(translated), nbformat.writes(translated)))
    tests = tuple(TestCell(t.grade_id, t.answer, t.signature, points[t.grade_id]) for t in chapter.tests)
    return Master(
        assignment_id=chapter.id, source_sha=source_sha,
        kernelspec=source_nb.metadata.get("kernelspec"), source_cells=cells, tests=tests, setup_ids=tuple(setup),
        plans_json=json.dumps(chapter.plans(seed)), probe_source=Path(probe.__file__).read_text(encoding="utf-8"),
        kernel_nb_json=nbformat.writes(kernel_nb), preload=tuple(preload), editions=tuple(editions),
    )


def _cells(kernel_nb):
    """grade_id -> {cell_type, locked, source} of the cells nbgrader tracks."""
    cells = {}
    for cell in kernel_nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id"):
            cells[meta["grade_id"]] = {"cell_type": cell.cell_type, "locked": bool(meta.get("locked")),
                                       "source": cell.source}
    return cells

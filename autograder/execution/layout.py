"""From a submitted file to the notebook a kernel runs: nbgrader's sanitizing, then a repair by names.

1. :func:`notebook_io.parse` reads any nbformat 3/4 file (encodings, missing cell ids).
2. nbgrader's own sanitize chain (``Autograde.sanitize_preprocessors``: clear outputs, deduplicate
   ids, overwrite the kernelspec and every locked cell from the source) runs against a small
   gradebook of the worker's that holds the source notebook as the grader runs it: test cells whose
   hidden region is the probe call (the kernel never receives hidden-test code).
3. Students do not hand in the pristine release (Colab, VS Code, copied cells, fresh notebooks):
   answers are found by the names they define, so a notebook whose shape is off is *repaired*, not
   zeroed. Its own code cells run in their order; every setup cell missing from it is put at the top,
   and the test cells (restored from the source) run after all of its code. A notebook whose every test
   cell is present, once, after the cell defining its answer runs exactly as nbgrader runs it.
   Each repair is one line for the feedback and the report; it never changes a grade.
"""

import ast
import functools
import os
import tempfile

import nbformat
from nbformat.v4 import new_code_cell
from nbgrader import utils as nbutils
from nbgrader.converters.autograde import Autograde
from traitlets.config import Config

from autograder.common.language import notebook_language
from autograder.common.words import N_
from autograder.compat import nbgrader as nbgrader_compat
from autograder.course.config import configured, register
from autograder.execution import notebook_io

MAX_CELLS = 2000  # a course notebook has about 30; 20,000 cells are an attack on the grader's time


@functools.cache
def _worker_gradebook(assignment_id, source_sha, kernel_nb_json):
    """A gradebook of this worker process holding the kernel version of the source (built once)."""
    nbgrader_compat.speed_up_schema_version()  # no `alembic` subprocess per worker
    folder = tempfile.mkdtemp(prefix=f"autograder-gb{os.getpid()}-", dir=os.environ.get("AUTOGRADER_STAGING") or None)
    db_url = f"sqlite:///{os.path.join(folder, 'gradebook.db')}"
    register(db_url, assignment_id, nbformat.reads(kernel_nb_json, as_version=4), Config())
    return db_url


def sanitize(nb, master, kernel_nb_json, student_id):
    """nbgrader's sanitize chain with the kernel version of the source; returns the notebook."""
    db_url = _worker_gradebook(master.assignment_id, master.source_sha, kernel_nb_json)
    resources = {"nbgrader": {"db_url": db_url, "assignment": master.assignment_id,
                              "notebook": master.assignment_id, "student": student_id}}
    for cls in configured(Autograde, "sanitize_preprocessors", None):
        nb, resources = cls(config=Config()).preprocess(nb, resources)
        _drop_empty_metadata(nb)  # DeduplicateIds and OverwriteCells leave husks CheckCellMetadata rejects
    return nb


def _drop_empty_metadata(nb):
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if meta is not None and not meta.get("grade_id"):
            del cell.metadata["nbgrader"]


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _defined_names(source):
    """Names a code cell binds at top level (def, class, assignment, import); empty if it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def prepare(raw, master, kernel_nb_json, student_id):
    """The notebook to execute, notes about the file, and one-line repair notes (:func:`prepare_edition`)."""
    return prepare_edition(raw, master, kernel_nb_json, student_id)[:3]


def prepare_edition(raw, master, kernel_nb_json, student_id):
    """The notebook to execute, notes about the file, one-line repair notes, and the submission's language.

    The locked cells restored are those of the submission's edition (its language, :mod:`autograder.common.language`).
    Raises :class:`notebook_io.InvalidNotebook` when the file cannot be graded at all.
    """
    nb, notes = notebook_io.parse(raw)
    if len(nb.cells) > MAX_CELLS:
        raise notebook_io.InvalidNotebook(f"notebook has {len(nb.cells)} cells (more than {MAX_CELLS})")
    edition = master.in_language(notebook_language(nb, master.languages, master.language))
    if edition is not master:
        master, kernel_nb_json = edition, edition.kernel_nb_json
    repairs = []
    ids_before = [_grade_id(c) for c in nb.cells]
    for cell in nb.cells:  # a cell claiming an id the source does not have is the student's own
        if cell.metadata.get("nbgrader") is not None and _grade_id(cell) not in master.source_cells:
            del cell.metadata["nbgrader"]
    try:
        nb = sanitize(nb, master, kernel_nb_json, student_id)
    except Exception as err:  # noqa: BLE001 - inconsistent metadata: grade by names instead
        for cell in nb.cells:
            cell.metadata.pop("nbgrader", None)
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:120]
        repairs.append(N_(f"nbgrader metadata was inconsistent ({first}): graded by the names the notebook defines"))
        nb = sanitize(nb, master, kernel_nb_json, student_id)
    duplicates = sorted({g for g in ids_before if g and ids_before.count(g) > 1})
    if duplicates:
        notes.append(N_(f"duplicated cells {', '.join(duplicates)}: the last copy was graded"))
    source_cells = master.source_cells
    for cell in nb.cells:  # a cell claiming an id the source does not have is the student's own
        if _grade_id(cell) is not None and _grade_id(cell) not in source_cells:
            del cell.metadata["nbgrader"]
    return _layout(nb, master, repairs), notes, repairs, master.language


def _restored(master, grade_id):
    cell = master.source_cells[grade_id]
    meta = {"grade": grade_id in master.grade_ids, "grade_id": grade_id, "locked": True, "schema_version": 3,
            "solution": False, "task": False}
    if meta["grade"]:
        meta["points"] = next(t.points for t in master.tests if t.grade_id == grade_id)
    return new_code_cell(cell["source"], metadata={"nbgrader": meta})


def _layout(nb, master, repairs):
    """Keep nbgrader's order when it is intact, else student code first and the test cells after it."""
    tests = {t.grade_id: t for t in master.tests}
    present = {}
    for index, cell in enumerate(nb.cells):
        if _grade_id(cell) in tests and nbutils.is_grade(cell) and cell.cell_type == "code":
            present.setdefault(_grade_id(cell), index)
    setup_present = {_grade_id(c) for c in nb.cells if c.cell_type == "code"} & set(master.setup_ids)
    missing_setup = [g for g in master.setup_ids if g not in setup_present]
    # out of order: an answer defined only below the test cell that needs it (not: an answer never defined)
    defined_at = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and _grade_id(cell) not in tests:
            for name in _defined_names(cell.source):
                defined_at.setdefault(name, []).append(index)
    in_order = len(present) == len(tests) and all(
        not defined_at.get(t.answer) or min(defined_at[t.answer]) < present[g] for g, t in tests.items())
    if in_order and not missing_setup:
        return nb
    lost = [g for g in tests if g not in present]
    student = [c for i, c in enumerate(nb.cells) if not (_grade_id(c) in tests and present.get(_grade_id(c)) == i)]
    nb.cells = [_restored(master, g) for g in missing_setup] + student + [_restored(master, g) for g in tests]
    if lost:
        repairs.append(N_(f"test cells {', '.join(lost)} were missing (deleted, or their metadata lost): restored from "
                       "the source and run after the notebook's code"))
    elif not in_order:
        repairs.append(N_("test cells were run after all of the notebook's code (an answer was defined below its "
                       "test cell)"))
    if missing_setup:
        repairs.append(N_(f"setup cell(s) {', '.join(missing_setup)} missing: restored at the top"))
    return nb

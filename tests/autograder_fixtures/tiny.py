"""A tiny nbgrader course (one answer cell, two test cells) and submissions built from it.

The assignment ``99-tiny`` asks for ``min_max_scale`` of chapter 1; its checks are declared in
:mod:`tests.autograder_fixtures.tiny_chapter` and judged against the real reference
``solutions.normalization.min_max_scale``. The kernel only imports numpy, so a submission costs
little more than a kernel start: the attack tests stay fast.
"""

import json
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ASSIGNMENT = "99-tiny"
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}

SETUP = "import numpy as np"
CORRECT = '''def min_max_scale(X, feature_range=(0.0, 1.0)):
    """Scale each column of X onto feature_range."""
    X = np.array(X, dtype=float)
    low, high = feature_range
    span = X.max(axis=0) - X.min(axis=0)
    span = np.where(span < 10 * np.finfo(float).eps, 1.0, span)
    return low + (X - X.min(axis=0)) / span * (high - low)'''
SOLUTION = CORRECT.replace('    X = np.array', '    ### BEGIN SOLUTION\n    X = np.array') + "\n    ### END SOLUTION"
# Scales rows instead of columns: fails both tests.
WRONG = CORRECT.replace("axis=0", "axis=1, keepdims=True")
TEST_MAIN = '''X = np.array([[1.0, 10.0], [2.0, 30.0], [4.0, 20.0]])
got = np.asarray(min_max_scale(X), dtype=float)
np.testing.assert_allclose(got, [[0.0, 0.0], [1 / 3, 1.0], [1.0, 0.5]], atol=1e-12,
    err_msg="each column (axis=0) is scaled by its own min and max")
### BEGIN HIDDEN TESTS
from solutions.checks import check

check("test_min_max_scale_tiny")  # HIDDEN_MARKER_ALPHA
### END HIDDEN TESTS'''
TEST_RANGE = '''X = np.array([[0.0], [5.0], [10.0]])
got = np.asarray(min_max_scale(X, feature_range=(-1.0, 1.0)), dtype=float)
np.testing.assert_allclose(got, [[-1.0], [0.0], [1.0]], atol=1e-12, err_msg="feature_range=(-1, 1)")
### BEGIN HIDDEN TESTS
from solutions.checks import check

check("test_min_max_scale_tiny_range")  # HIDDEN_MARKER_BETA
### END HIDDEN TESTS'''
# Text that must never reach a kernel or a feedback page: the hidden regions and the cases' inputs.
HIDDEN_MARKERS = ["HIDDEN_MARKER_ALPHA", "HIDDEN_MARKER_BETA", "from solutions.checks import check", "default_rng(7)"]
CHAPTER_MODULE = "tests.autograder_fixtures.tiny_chapter"


def _meta(grade_id, *, solution=False, grade=False, locked=False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook():
    nb = new_notebook(cells=[
        new_markdown_cell("# Tiny assignment\nImplement `min_max_scale`."),
        new_code_cell(SETUP, metadata=_meta("setup", locked=True)),
        new_code_cell(SOLUTION, metadata=_meta("min_max_scale", solution=True)),
        new_code_cell(TEST_MAIN, metadata=_meta("test_min_max_scale_tiny", grade=True, locked=True, points=2)),
        new_code_cell(TEST_RANGE, metadata=_meta("test_min_max_scale_tiny_range", grade=True, locked=True,
                                                  points=1)),
    ])
    # fixed cell ids (nbformat draws random ones): every test's course has the same source file, so the
    # grader's cached pre-flight of it (keyed by the file's hash) is run once per suite, not once per test
    for number, cell in enumerate(nb.cells):
        cell.id = f"tiny-{number}"
    nb.metadata.kernelspec = KERNELSPEC
    return nb


def make_course(root):
    """``root/source/99-tiny/99-tiny.ipynb`` and ``root/nbgrader_config.py``; returns the source folder."""
    root = Path(root)
    folder = root / "source" / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(source_notebook(), str(folder / f"{ASSIGNMENT}.ipynb"))
    (root / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        "c.CourseDirectory.course_id = 'tiny-course'\n"
        "c.ClearSolutions.code_stub = {'python': '# YOUR CODE HERE\\nraise NotImplementedError()'}\n")
    return root / "source"


def student_notebook(answer=CORRECT, extra_cells=(), edit=None):
    """The released notebook with ``answer`` in the answer cell; ``extra_cells`` are appended
    after the answer cell; ``edit(nb)`` may change anything else."""
    nb = source_notebook()
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "min_max_scale":
            cell.source = answer
        elif "BEGIN HIDDEN TESTS" in cell.source:
            cell.source = cell.source.split("### BEGIN HIDDEN TESTS")[0].rstrip()
    position = 3
    for code in extra_cells:
        nb.cells.insert(position, new_code_cell(code))
        position += 1
    if edit is not None:
        edit(nb)
    return nb


def write(root, student, notebook=None, text=None, raw=None, name=None, timestamp=None, folder=None):
    """Write one submission into ``root/<student>/99-tiny/`` (or ``root/<folder>/``)."""
    path = Path(root) / (folder or Path(student) / ASSIGNMENT)
    path.mkdir(parents=True, exist_ok=True)
    target = path / (name or f"{ASSIGNMENT}.ipynb")
    if notebook is not None:
        target.write_text(nbformat.writes(notebook), encoding="utf-8")
    elif text is not None:
        target.write_text(text, encoding="utf-8")
    elif raw is not None:
        target.write_bytes(raw)
    if timestamp:
        (path / "timestamp.txt").write_text(timestamp)
    return path


def as_json(nb):
    return json.loads(nbformat.writes(nb))

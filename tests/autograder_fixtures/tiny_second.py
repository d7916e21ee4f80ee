"""A second tiny assignment (``98-tiny``, one test cell of 2 points), so a tiny course has two chapters.

Declared like the first (:mod:`tests.autograder_fixtures.tiny_chapter`) and registered for a grader run by
adding this module to ``COURSE_EXTRA_CHAPTERS``; the terms tests select, regrade and export by assignment.
"""

from pathlib import Path

import nbformat

from checks.spec import Chapter, Test
from tests.autograder_fixtures import tiny, tiny_chapter

ASSIGNMENT = "98-tiny"
TEST_ID = "test_min_max_scale_second"
MODULES = "tests.autograder_fixtures.tiny_chapter,tests.autograder_fixtures.tiny_second"

CHAPTER = Chapter(
    id=ASSIGNMENT,
    title="Tiny course, second assignment",
    reference=("solutions.normalization",),
    tests=(Test(TEST_ID, "min_max_scale", "min_max_scale(X, feature_range=(0.0, 1.0))", tiny_chapter.main_cases),),
    setup=("import numpy as np",),
)


def _second(nb):
    """The first tiny notebook turned into this one: its main test cell only, under this test's id."""
    cells = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == "test_min_max_scale_tiny_range":
            continue
        if meta.get("grade_id") == "test_min_max_scale_tiny":
            meta["grade_id"] = TEST_ID
            cell.source = cell.source.replace('"test_min_max_scale_tiny"', f'"{TEST_ID}"')
        cells.append(cell)
    nb.cells = cells
    return nb


def source_notebook():
    return _second(tiny.source_notebook())


def student_notebook(answer=tiny.CORRECT):
    return _second(tiny.student_notebook(answer))


def add_to_course(source_dir):
    """Write ``source_dir/98-tiny/98-tiny.ipynb``."""
    folder = Path(source_dir) / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(source_notebook(), str(folder / f"{ASSIGNMENT}.ipynb"))

"""Every exercise notebook follows the conventions and its tests can both pass and fail.

- each chapter is declared once (solutions/chapters): the source folders, the book pages and the
  table of contents follow the declarations;
- structure: answer cells, graded test cells with points and hidden tests, stored without outputs;
- the visible tests pass on the reference answers without the `solutions` package;
- the released notebook (stubs) fails every graded test cell, for the stub's reason.
(nbval executes each source notebook with its hidden tests in the same `make test` run; execution
times are reported by tests/budget_plugin.py, not asserted here.)
"""

import subprocess
import sys

import pytest

from autograder.course.config import course_config, release_version
from coursebook.paths import COURSE_ROOT, REPO, chapter_ids, source_notebook
from solutions.chapters import all_chapters
from tests.notebooks import (
    answer_cells,
    errors_by_grade_id,
    execute,
    nbgrader_meta,
    read,
    strip_hidden_tests,
)
from tests.notebooks import test_cells as graded_test_cells

CHAPTERS = chapter_ids()


def test_every_chapter_is_declared_once_and_everything_follows_the_declarations():
    declared = [c.id for c in all_chapters()]
    assert declared == CHAPTERS, "a declared chapter has no source notebook"
    folders = sorted(p.name for p in (COURSE_ROOT / "source").iterdir() if p.is_dir())
    assert folders == declared, "a folder in exercises/source has no declaration in solutions/chapters"
    for chapter in all_chapters():
        assert (REPO / chapter.book).is_file(), f"{chapter.id}: no book page {chapter.book}"
    toc = subprocess.run([sys.executable, "-m", "autograder", "toc", "--check"], cwd=REPO, capture_output=True,
                         text=True)
    assert toc.returncode == 0, toc.stderr


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_structure(chapter):
    nb = read(source_notebook(chapter))
    answers, tests = answer_cells(nb), graded_test_cells(nb)
    assert answers, f"{chapter}: no answer cells"
    for grade_id, cell in answers.items():
        assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source, grade_id
        mine = [t for t in tests if t.startswith(f"test_{grade_id}")]
        assert mine, f"{chapter}: answer cell {grade_id!r} has no test cell named test_{grade_id}*"
        assert any("### BEGIN HIDDEN TESTS" in tests[t].source for t in mine), f"{grade_id}: no hidden tests"
    for grade_id, cell in tests.items():
        meta = nbgrader_meta(cell)
        assert meta.get("locked") and meta.get("points", 0) > 0, f"{grade_id}: test cells are locked, with points"
        visible = cell.source.split("### BEGIN HIDDEN TESTS")[0]
        assert "solutions" not in visible, f"{grade_id}: visible tests must not use the reference package"
    for index, cell in enumerate(nb.cells):
        assert not cell.get("outputs"), f"{chapter}: cell {index} has stored outputs"
        is_graded = nbgrader_meta(cell).get("solution") or nbgrader_meta(cell).get("grade")
        if cell.cell_type == "code" and not is_graded:
            assert nbgrader_meta(cell).get("locked"), f"{chapter}: code cell {index} must be locked or graded"


@pytest.mark.slow  # a kernel per chapter
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_visible_tests_pass_without_the_reference_package(chapter, tmp_path):
    nb = strip_hidden_tests(read(source_notebook(chapter)))
    # Make `import solutions` fail even if it is installed somewhere.
    nb.cells.insert(0, nb.cells[0].__class__(cell_type="code", metadata={}, outputs=[], execution_count=None,
                                             source="import sys\nsys.modules['solutions'] = None"))
    errors = errors_by_grade_id(execute(nb, tmp_path, with_repo=False))
    assert errors == {}, f"{chapter}: visible tests fail on the reference answers: {errors}"


@pytest.mark.slow  # a kernel per chapter
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_released_stubs_fail_every_graded_cell(chapter, tmp_path):
    released = release_version(source_notebook(chapter), course_config(COURSE_ROOT / "source"))
    for cell in answer_cells(released).values():
        assert "raise NotImplementedError()" in cell.source
    errors = errors_by_grade_id(execute(released, tmp_path))
    for grade_id in graded_test_cells(released):
        assert grade_id in errors, f"{chapter}: graded cell {grade_id} passes on the unanswered release"
        assert errors[grade_id].startswith(("NotImplementedError", "AssertionError")), (grade_id, errors[grade_id])

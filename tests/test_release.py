"""`python -m autograder release` produces student notebooks that leak nothing, and says so when they do."""

import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from autograder.authoring.leaks import find_leaks, secret_lines
from coursebook.paths import REPO, chapter_ids, source_notebook
from tests.notebooks import answer_cells, copy_course, read
from tests.notebooks import test_cells as graded_test_cells


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the course root, released by the real command."""
    root = tmp_path_factory.mktemp("course")
    copy_course(root)
    return root


def release(root, *chapters):
    cmd = [sys.executable, "-m", "autograder", "release", "--course-root", str(root), *chapters]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)


def test_release_of_every_chapter_is_clean(course):
    done = release(course)
    assert done.returncode == 0, done.stdout + done.stderr
    for chapter in chapter_ids():
        released = read(course / "release" / chapter / f"{chapter}.ipynb")
        assert find_leaks(read(source_notebook(chapter)), released) == []
        text = (course / "release" / chapter / f"{chapter}.ipynb").read_text()
        # no import and no mention of the reference package, in code or prose
        assert re.search(r"\bsolutions\b", text) is None, f"{chapter}: released notebook names `solutions`"
        assert set(answer_cells(released)) == set(answer_cells(read(source_notebook(chapter))))


def test_unknown_chapter_is_a_usage_error(course):
    done = release(course, "99-nothing")
    assert done.returncode == 2
    assert "unknown chapter" in done.stderr


def test_release_that_imports_the_reference_fails_naming_notebook_and_cell(course):
    chapter = chapter_ids()[0]
    path = course / "source" / chapter / f"{chapter}.ipynb"
    nb = nbformat.read(path, as_version=4)
    grade_id, cell = next(iter(answer_cells(nb).items()))
    cell.source = "from solutions.normalization import *  # a careless author\n" + cell.source
    nbformat.write(nb, path)
    try:
        done = release(course, chapter)
    finally:
        shutil.copy(source_notebook(chapter), path)
    assert done.returncode == 1
    assert f"{chapter}.ipynb" in done.stderr and grade_id in done.stderr and "solutions" in done.stderr


def _source_and_release():
    chapter = chapter_ids()[0]
    source = read(source_notebook(chapter))
    released = read(source_notebook(chapter))
    for cell in released.cells:  # what nbgrader does, by hand: stub the answers, drop hidden tests
        if cell.metadata.get("nbgrader", {}).get("solution"):
            head = cell.source.split("### BEGIN SOLUTION")[0]
            cell.source = head + "# YOUR CODE HERE\nraise NotImplementedError()"
        elif cell.metadata.get("nbgrader", {}).get("grade"):
            cell.source = cell.source.split("### BEGIN HIDDEN TESTS")[0]
    return source, released


def test_find_leaks_accepts_a_correct_release():
    source, released = _source_and_release()
    assert find_leaks(source, released) == []


def test_find_leaks_names_each_kind_of_leak():
    source, released = _source_and_release()
    answer_id, answer = next(iter(answer_cells(released).items()))
    test_id, test = next(iter(graded_test_cells(released).items()))
    solution_line = secret_lines(answer_cells(source)[answer_id].source)[-1]
    hidden_line = secret_lines(graded_test_cells(source)[test_id].source)[-1]
    answer.source += "\n    " + solution_line
    test.source += "\n" + hidden_line
    test.outputs = [nbformat.v4.new_output("stream", text="ok")]
    released.cells.append(nbformat.v4.new_markdown_cell("### BEGIN SOLUTION"))
    last_test_id, last_test = list(graded_test_cells(released).items())[-1]
    released.cells.remove(last_test)
    problems = "\n".join(find_leaks(source, released))
    assert f"({answer_id}): contains solution or hidden-test line {solution_line!r}" in problems
    assert f"({test_id}): contains solution or hidden-test line {hidden_line!r}" in problems
    assert f"({test_id}): has stored outputs" in problems
    assert "nbgrader marker 'BEGIN SOLUTION'" in problems
    assert f"graded cell {last_test_id!r} of the source is missing from the release" in problems


def test_secret_lines_keep_public_setup_out():
    text = "x = 1\n### BEGIN HIDDEN TESTS\nx = 1\nassert secret()\n# comment\n### END HIDDEN TESTS\n"
    assert secret_lines(text) == ["assert secret()"]

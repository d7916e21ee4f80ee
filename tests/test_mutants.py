"""Each common student mistake (a mutant) must fail a graded test, for the reason it models.

A mutant replaces one answer cell of the source notebook (see tests/mutants/__init__.py);
the notebook runs with its hidden tests, and some test cell ``test_<target>*`` must fail with
an error matching the mutant's ``match``.

Speed: the mutants of a chapter share one kernel. The notebook runs once with the reference
answers; each mutant then re-runs the cells from its answer cell to the end with the mistake in
place, and the same cells are re-run with the reference answers before the next mutant. That
restore run must be clean, which proves that no mutant left state behind for the next one.
"""

import importlib
import pkgutil
import re

import pytest

import tests.mutants
from autograder.paths import chapter_ids, source_notebook
from tests.notebooks import KernelSession, answer_cells, nbgrader_meta, read


def _chapter_modules():
    for info in pkgutil.iter_modules(tests.mutants.__path__):
        yield importlib.import_module(f"tests.mutants.{info.name}")


MODULES = list(_chapter_modules())
CASES = [pytest.param(m.CHAPTER, mutant, id=f"{m.CHAPTER}::{mutant.name}") for m in MODULES for mutant in m.MUTANTS]


def test_every_chapter_with_exercises_has_mutants():
    assert sorted(m.CHAPTER for m in MODULES) == chapter_ids()


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.CHAPTER)
def test_mutants_are_well_formed(module):
    names = [m.name for m in module.MUTANTS]
    assert len(names) == len(set(names)), f"duplicate mutant names in {module.__name__}"
    answers = answer_cells(read(source_notebook(module.CHAPTER)))
    for mutant in module.MUTANTS:
        assert mutant.target in answers, f"{mutant.name}: no answer cell {mutant.target!r}"
        assert mutant.code.strip() != answers[mutant.target].source.strip()
    # Every graded answer has at least one mistake modelled.
    assert {m.target for m in module.MUTANTS} == set(answers), "answer cells without a mutant"


class ChapterKernel:
    """The reference notebook of one chapter, executed once, kept alive for its mutants."""

    def __init__(self, chapter, cwd):
        self.nb = read(source_notebook(chapter))
        self.session = KernelSession(self.nb, cwd)
        errors = self.run_from(0)
        if errors:
            self.session.close()
            raise AssertionError(f"{chapter}: the reference notebook fails before any mutant: {errors}")

    def index_of(self, grade_id):
        return next(i for i, c in enumerate(self.nb.cells) if nbgrader_meta(c).get("grade_id") == grade_id)

    def run_from(self, start, replace=None):
        """Run the code cells from ``start`` on, cell ``start`` replaced by ``replace``; {id: error}."""
        errors = {}
        for index in range(start, len(self.nb.cells)):
            cell = self.nb.cells[index]
            if cell.cell_type != "code":
                continue
            source = replace if (replace is not None and index == start) else cell.source
            error = self.session.run(index, source)
            if error:
                errors[nbgrader_meta(cell).get("grade_id", index)] = error
        return errors


class Kernels:
    """chapter -> ChapterKernel, one alive at a time (the cases come ordered by chapter)."""

    def __init__(self, tmp_path_factory):
        self.tmp_path_factory = tmp_path_factory
        self.chapter, self.kernel = None, None

    def get(self, chapter):
        if chapter != self.chapter:
            self.close()
            self.kernel = ChapterKernel(chapter, self.tmp_path_factory.mktemp(chapter))
            self.chapter = chapter
        return self.kernel

    def close(self):
        """Also after a kernel error (a dead kernel), so the next mutant starts a fresh one."""
        if self.kernel is not None:
            self.kernel.session.close()
        self.chapter, self.kernel = None, None


@pytest.fixture(scope="module")
def kernels(tmp_path_factory):
    pool = Kernels(tmp_path_factory)
    yield pool
    pool.close()


@pytest.mark.parametrize(("chapter", "mutant"), CASES)
def test_mutant_is_caught(chapter, mutant, kernels):
    kernel = kernels.get(chapter)
    start = kernel.index_of(mutant.target)
    try:
        errors = kernel.run_from(start, replace=mutant.code.strip("\n"))
        leftover = kernel.run_from(start)  # restore the reference answers before the next mutant
    except Exception:
        kernels.close()
        raise
    assert not leftover, f"the reference notebook fails after mutant {mutant.name}: state leaked: {leftover}"
    caught = {gid: text for gid, text in errors.items() if str(gid).startswith(f"test_{mutant.target}")}
    assert caught, f"mutant {mutant.name} ({mutant.mistake}) passes every test; errors elsewhere: {errors}"
    assert any(re.search(mutant.match, text, re.I | re.S) for text in caught.values()), (
        f"mutant {mutant.name} fails, but not for the reason it models ({mutant.match!r}): {caught}")

"""Each common student mistake (a mutant) must fail a graded test, for the reason it models.

A mutant replaces one answer cell of the source notebook (see tests/mutants/__init__.py);
the notebook is executed with its hidden tests, and some test cell ``test_<target>*``
must fail with an error matching the mutant's ``match``.
"""

import importlib
import pkgutil
import re

import pytest

import tests.mutants
from autograder.paths import chapter_ids, source_notebook
from tests.notebooks import answer_cells, errors_by_grade_id, execute, read


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


@pytest.mark.parametrize(("chapter", "mutant"), CASES)
def test_mutant_is_caught(chapter, mutant, tmp_path):
    nb = read(source_notebook(chapter))
    answer_cells(nb)[mutant.target].source = mutant.code.strip("\n")
    errors = errors_by_grade_id(execute(nb, tmp_path))
    caught = {gid: text for gid, text in errors.items() if str(gid).startswith(f"test_{mutant.target}")}
    assert caught, f"mutant {mutant.name} ({mutant.mistake}) passes every test; errors elsewhere: {errors}"
    assert any(re.search(mutant.match, text, re.I | re.S) for text in caught.values()), (
        f"mutant {mutant.name} fails, but not for the reason it models ({mutant.match!r}): {caught}")

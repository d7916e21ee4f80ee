"""Every chapter's declaration, hidden checks and mistake catalogue, run in-process (no kernel: fast).

- the declaration matches the source notebook: answer cells, test cells, hidden regions (one
  ``check("<grade_id>")`` call each), setup imports;
- the reference answers (the source notebook's answer cells) pass every check; the released stubs
  fail every check;
- every catalogued mistake fails a check of its answer, for the reason it models (its ``match``),
  fails no check of another answer, and is diagnosed as itself and only itself (entries are
  distinguishable on the hidden inputs);
- correct rewrites (``tests/answers/<chapter module>.py``: REWRITES) pass and get no diagnosis; unseen
  wrong answers (UNSEEN) fail and get a correct diagnosis or none;
- plans are deterministic, data only, and small.

One test class per declared chapter (``TestChapter_<id>``): pytest-xdist's ``--dist loadscope`` runs
each class on one worker and spreads the chapters over the workers.
"""

import importlib
import json
import re

import pytest

from autograder.course.sources import reference_answers
from checks import mistakes, probe, verdict
from coursebook.paths import source_notebook
from solutions.chapters import all_chapters
from tests.notebooks import answer_cells, nbgrader_meta, read
from tests.notebooks import test_cells as graded_test_cells

CHAPTERS = all_chapters()
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)
PLAN_LIMIT = 4 * 2**20  # bytes of plans per chapter sent into a kernel


def source(chapter):
    return read(f"exercises/source/{chapter.id}/{chapter.id}.ipynb")


def answers(chapter):
    """The chapter's reference answers (the source notebook's answer cells)."""
    return reference_answers(source_notebook(chapter.id))


def answers_module(chapter):
    name = chapter.mistakes.rsplit(".", 1)[-1] if chapter.mistakes else chapter.id
    try:
        return importlib.import_module(f"tests.answers.{name}")
    except ModuleNotFoundError:
        return None


def namespace(chapter, replace=None):
    """The chapter's setup plus every reference answer cell (``replace``: answer -> other source)."""
    ns = {}
    exec("\n".join(chapter.setup), ns)
    for name, code in answers(chapter).items():
        exec(compile((replace or {}).get(name, code), f"<{name}>", "exec"), ns)
    return ns


def failures(chapter, ns):
    """{grade_id: message} of every failing test."""
    out = {}
    for test in chapter.tests:
        message = verdict.judge(test, verdict.run(test, ns), verdict.reference(chapter, test))
        if message is not None:
            out[test.grade_id] = message
    return out


class ChapterChecks:
    """The checks of one chapter (subclassed per declared chapter below)."""

    chapter = None

    def test_declaration_matches_the_source_notebook(self):
        chapter = self.chapter
        nb = source(chapter)
        assert list(answer_cells(nb)) == list(chapter.answers), "answer cells and declared answers differ"
        declared = [t.grade_id for t in chapter.tests]
        assert list(graded_test_cells(nb)) == declared, "test cells and declared tests differ"
        for test in chapter.tests:
            cell = graded_test_cells(nb)[test.grade_id]
            regions = HIDDEN.findall(cell.source)
            assert regions == [f'from solutions.checks import check\n\ncheck("{test.grade_id}")\n'], (
                f"{test.grade_id}: the hidden region must be exactly the check call: {regions}")
            assert test.grade_id.startswith(f"test_{test.answer}"), f"{test.grade_id} does not name {test.answer}"


    def test_setup_defines_every_name_the_notebook_setup_imports(self):
        chapter = self.chapter
        ns = {}
        exec("\n".join(chapter.setup), ns)
        for cell in source(chapter).cells:
            if cell.cell_type != "code" or nbgrader_meta(cell).get("solution") or nbgrader_meta(cell).get("grade"):
                continue
            for match in re.finditer(r"^\s*(?:from\s+\S+\s+)?import\s+(.+)$", cell.source, re.M):
                for part in match.group(1).split(","):
                    name = part.strip().split(" as ")[-1].strip().split(".")[0]
                    if name and name != "(":
                        assert name in ns, f"{chapter.id}: the setup cell imports {name!r}; add it to Chapter.setup"


    def test_reference_answers_pass_every_check(self):
        chapter = self.chapter
        assert failures(chapter, namespace(chapter)) == {}


    def test_released_stubs_fail_every_check(self):
        chapter = self.chapter
        stubs = {name: re.sub(r"### BEGIN SOLUTION.*?### END SOLUTION", "raise NotImplementedError()",
                              cell.source, flags=re.S)
                 for name, cell in answer_cells(source(chapter)).items()}
        failed = failures(chapter, namespace(chapter, replace=stubs))
        assert set(failed) == {t.grade_id for t in chapter.tests}
        assert all("NotImplementedError" in m for m in failed.values()), failed


    def test_plans_are_deterministic_data(self):
        chapter = self.chapter
        first = json.dumps(chapter.plans())
        assert len(first.encode()) < PLAN_LIMIT, f"{chapter.id}: plans of {len(first) >> 10} KiB"
        for test in chapter.tests:  # built afresh: the same inputs every time
            assert json.dumps([case.steps for case in test.build()]) == json.dumps(test.plans()), test.grade_id
        assert "solutions" not in first, "a plan names the reference package"


    def test_every_answer_has_catalogued_mistakes(self):
        chapter = self.chapter
        targets = {m.target for m in mistakes.catalogue(chapter)}
        missing = set(chapter.answers) - targets
        assert not missing and targets <= set(chapter.answers), f"answers without a catalogued mistake: {missing}"
        ids = [m.id for m in mistakes.catalogue(chapter)]
        assert len(ids) == len(set(ids)), "duplicate mistake ids"


    def test_mistake_is_caught_for_its_reason_and_diagnosed_as_itself(self, mistake):
        chapter = self.chapter
        code = mistakes.source_of(chapter, mistake, answers(chapter))
        failed = failures(chapter, namespace(chapter, replace={mistake.target: code}))
        own = {t.grade_id for t in chapter.tests if t.answer == mistake.target}
        assert failed, f"{mistake.id} passes every check"
        assert set(failed) <= own, f"{mistake.id} also fails checks of other answers: {set(failed) - own}"
        assert any(re.search(mistake.match, m, re.I | re.S) for m in failed.values()), (
            f"{mistake.id} fails, but not for the reason it models ({mistake.match!r}): {failed}")
        ns = namespace(chapter, replace={mistake.target: code})
        for test in chapter.tests:
            if test.grade_id in failed:
                found = [m.id for m in mistakes.diagnose(chapter, test, verdict.run(test, ns), answers(chapter))]
                assert found == [mistake.id], f"{test.grade_id}: diagnosed as {found}"


    def test_correct_rewrites_pass_and_get_no_diagnosis(self):
        chapter = self.chapter
        module = answers_module(chapter)
        assert module is not None and module.REWRITES, f"{chapter.id}: no correct rewrites in tests/answers/"
        for answer, code in module.REWRITES:
            ns = namespace(chapter, replace={answer: code})
            assert failures(chapter, ns) == {}, f"a correct rewrite of {answer} fails"
            for test in chapter.tests:
                if test.answer == answer:  # the grader diagnoses failing tests only: count mistakes failing this test
                    found = [m.id for m in mistakes.diagnose(chapter, test, verdict.run(test, ns), answers(chapter))
                             if verdict.judge(test, mistakes.records_of(chapter, test, m, answers(chapter)),
                                              verdict.reference(chapter, test)) is not None]
                    assert found == [], f"{test.grade_id}: a correct rewrite of {answer} is diagnosed as {found}"


    def test_unseen_mistakes_get_a_right_diagnosis_or_none(self):
        chapter = self.chapter
        module = answers_module(chapter)
        assert module is not None and module.UNSEEN, f"{chapter.id}: no unseen wrong answers in tests/answers/"
        for answer, code, allowed in module.UNSEEN:
            ns = namespace(chapter, replace={answer: code})
            failed = failures(chapter, ns)
            assert failed, f"an unseen wrong {answer} passes every check:\n{code}"
            for test in chapter.tests:
                if test.grade_id in failed:
                    found = {m.id for m in mistakes.diagnose(chapter, test, verdict.run(test, ns), answers(chapter))}
                    assert found <= set(allowed), f"{test.grade_id}: wrong diagnosis {found} (allowed {allowed})"




def pytest_generate_tests(metafunc):
    if "mistake" in metafunc.fixturenames and metafunc.cls is not None:
        catalogue = mistakes.catalogue(metafunc.cls.chapter)
        metafunc.parametrize("mistake", catalogue, ids=[m.id for m in catalogue])


for _chapter in CHAPTERS:  # one class per chapter: one scope for --dist loadscope
    globals()[f"TestChapter_{_chapter.id}"] = type(f"TestChapter_{_chapter.id}", (ChapterChecks,),
                                                   {"chapter": _chapter})


def test_records_reader_rejects_what_is_not_data():
    good = [[{"label": "x", "value": probe.encode(1.5)}]]
    assert probe.decode_records(good)[0]["x"] == 1.5
    bad = [
        "not a list",
        [[{"label": "x", "value": {"$": "ndarray", "dtype": "object", "shape": [1], "data": ""}}]],
        [[{"label": "x", "value": {"$": "ndarray", "dtype": "float64", "shape": [3], "data": "AAAA"}}]],
        [[{"label": "x", "value": {"$": "generator", "seed": 1}}]],
        [[{"label": "x", "value": 1}, {"label": "x", "value": 2}]],
        [[{"value": 1}]],
        [[{"label": "x", "raised": "ValueError"}]],
    ]
    for records in bad:
        with pytest.raises(probe.BadRecords):
            probe.decode_records(records)

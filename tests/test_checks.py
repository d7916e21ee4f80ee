"""Every chapter's declaration, hidden checks and mistake catalogue, run in-process (no kernel: fast).

- the declaration matches the source notebook: answer cells, test cells, hidden regions (one
  ``check("<grade_id>")`` call each), setup imports;
- the reference answers (the source notebook's answer cells) pass every check; the released stubs
  fail every check;
- every catalogued mistake fails a check of its answer (of the test cells it declares), for the
  reason it models (its ``match``), fails no other check, and is diagnosed as itself and only itself
  (entries are distinguishable on the hidden inputs);
- no cascades: with any catalogued mistake in one answer, every correct version of another answer
  (the reference, and the rewrites of ``tests/answers/``, some of which call the earlier answer as the
  exercise allows) passes all its checks;
- correct rewrites (``tests/answers/<chapter module>.py``: REWRITES) pass and get no diagnosis; unseen
  wrong answers (UNSEEN) fail and get a correct diagnosis or none; common mistakes written from scratch
  (COMMON) fail and get exactly their true diagnosis (or none when the catalogue does not hold them):
  never a false one;
- the visible tests are a subset of the hidden checks: an answer failing a visible test fails a hidden
  check too; every catalogued mistake fails the visible tests, except those the notebook lists as
  caught by the hidden checks only;
- plans are deterministic, data only, and small; with a batch seed the hidden inputs change and the
  visible ones do not.

One test class per declared chapter (``TestChapter_<id>``): pytest-xdist's ``--dist loadscope`` runs
each class on one worker and spreads the chapters over the workers.
"""

import importlib
import json
import re

import pytest

from autograder.course.sources import reference_answers
from checks import mistakes, probe, spec, verdict
from coursebook.paths import source_notebook
from solutions.chapters import all_chapters
from tests import visible
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


def failures(chapter, ns, seed=None, only=None):
    """{grade_id: message} of every failing test (``only``: of the tests with these grade_ids)."""
    out = {}
    for test in chapter.tests:
        if only is not None and test.grade_id not in only:
            continue
        message = verdict.judge(test, verdict.run(test, ns, seed), verdict.reference(chapter, test, seed), seed)
        if message is not None:
            out[test.grade_id] = message
    return out


def verdicts(chapter, replace, seed=None):
    """{grade_id: (message, [named mistake ids])} of every failing test of the answers ``replace``, as the grader
    judges and names them."""
    ns = namespace(chapter, replace)
    out = {}
    for test in chapter.tests:
        got = verdict.run(test, ns, seed)
        result = verdict.judged(test, got, verdict.reference(chapter, test, seed), seed)
        if not result.passed:
            found = [] if result.problem else mistakes.diagnose(chapter, test, got, answers(chapter), result.failing,
                                                                seed)
            out[test.grade_id] = (verdict.text(result), [d.mistake.id for d in found])
    return out


def diagnosed(chapter, replace, seed=None):
    """{grade_id: [named mistake ids]} of every failing test of the answers ``replace`` (as the grader names them)."""
    return {g: names for g, (_, names) in verdicts(chapter, replace, seed).items()}


def calls(code, name):
    """Whether ``code`` calls the notebook's ``name`` (not an attribute of that name: torch.nn.init.calculate_gain)."""
    return re.search(rf"(?<![\w.]){re.escape(name)}\s*\(", code) is not None


def binds(chapter, answer, name):
    """Whether every case of ``answer``'s tests runs with a correct ``name`` in place of the notebook's."""
    plans = [case for t in chapter.tests if t.answer == answer for case in t.plans()]
    return bool(plans) and all(any(step.get("op") == "bind" and step.get("name") == name for step in case)
                               for case in plans)


def own_tests(chapter, mistake):
    """The test cells ``mistake`` may fail: those it declares, else every test of its answer."""
    return set(mistake.tests) or {t.grade_id for t in chapter.tests if t.answer == mistake.target}


def common_mistakes():
    """(chapter, answer, code, expected mistake id or None, what the student did) of the independent corpus."""
    out = []
    for chapter in CHAPTERS:
        module = answers_module(chapter)
        for answer, code, expected, what in getattr(module, "COMMON", ()):
            out.append((chapter, answer, code, expected, what))
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
        for name, stub in stubs.items():  # a function that raised shows no outputs: nothing to name
            named = {n for names in diagnosed(chapter, {name: stub}).values() for n in names}
            assert not named, f"the released stub of {name} is diagnosed as {sorted(named)}"

    def test_plans_are_deterministic_data(self):
        chapter = self.chapter
        first = json.dumps(chapter.plans())
        assert len(first.encode()) < PLAN_LIMIT, f"{chapter.id}: plans of {len(first) >> 10} KiB"
        for test in chapter.tests:  # built afresh: the same inputs every time
            fresh = [case.steps for case in spec._cases.__wrapped__(test, None)]
            assert json.dumps(fresh) == json.dumps(test.plans()), test.grade_id
        assert "solutions" not in first, "a plan names the reference package"

    def test_a_batch_seed_draws_other_hidden_inputs_and_keeps_the_visible_ones(self):
        chapter = self.chapter
        for test in chapter.tests:
            fixed, drawn = test.plans(), test.plans(seed=12345)
            assert len(fixed) == len(drawn), f"{test.grade_id}: a seed changes the number of cases"
            assert json.dumps(drawn) == json.dumps(test.plans(seed=12345)), f"{test.grade_id}: not deterministic"
            same = [json.dumps(a) == json.dumps(b) for a, b in zip(fixed, drawn, strict=True)]
            labels = [c.label for c in test.cases()]
            assert all(s for s, label in zip(same, labels, strict=True) if "[visible" in label), (
                f"{test.grade_id}: a visible case changed with the seed")
            assert not all(same) or not any("random" in label.lower() for label in labels), (
                f"{test.grade_id}: no hidden input depends on the batch seed")
        assert len(json.dumps(chapter.plans(seed=12345)).encode()) < PLAN_LIMIT

    def test_every_answer_has_catalogued_mistakes(self):
        chapter = self.chapter
        targets = {m.target for m in mistakes.catalogue(chapter)}
        missing = set(chapter.answers) - targets
        assert not missing and targets <= set(chapter.answers), f"answers without a catalogued mistake: {missing}"
        ids = [m.id for m in mistakes.catalogue(chapter)]
        assert len(ids) == len(set(ids)), "duplicate mistake ids"
        for m in mistakes.catalogue(chapter):
            tests = {t.grade_id for t in chapter.tests if t.answer == m.target}
            assert set(m.tests) <= tests, f"{m.id}: declares tests {m.tests} that do not grade {m.target}"

    def test_mistake_is_caught_for_its_reason_and_diagnosed_as_itself(self, mistake):
        chapter = self.chapter
        code = mistakes.source_of(chapter, mistake, answers(chapter))
        failed = failures(chapter, namespace(chapter, replace={mistake.target: code}))
        own = own_tests(chapter, mistake)
        assert failed, f"{mistake.id} passes every check"
        assert set(failed) <= own, f"{mistake.id} also fails other checks (a cascade): {set(failed) - own}"
        assert any(re.search(mistake.match, m, re.I | re.S) for m in failed.values()), (
            f"{mistake.id} fails, but not for the reason it models ({mistake.match!r}): {failed}")
        found = diagnosed(chapter, {mistake.target: code})
        assert set(found) == set(failed)
        for grade_id, names in found.items():
            assert names == [mistake.id], f"{grade_id}: diagnosed as {names}"

    def test_no_cascade_from_a_catalogued_mistake_into_a_correct_answer(self):
        """Every pair (answer A with a catalogued mistake, answer B correct, written in any of the ways of
        REWRITES, including those that call A where the exercise allows it): B loses nothing."""
        chapter = self.chapter
        module = answers_module(chapter)
        versions = [(b, code) for b, code in module.REWRITES] + list(answers(chapter).items())
        notes = visible.hidden_only_notes(chapter.id)
        for mistake in mistakes.catalogue(chapter):
            code = mistakes.source_of(chapter, mistake, answers(chapter))
            for other, other_code in versions:
                if other == mistake.target:
                    continue
                if calls(other_code, mistake.target) and not binds(chapter, other, mistake.target):
                    # the exercise asks for this answer on its own: it must say so where students read it
                    assert f"rather than calling your `{mistake.target}`" in notes, (
                        f"a rewrite of {other} calls {mistake.target}, whose mistakes then cost {other} points: "
                        f"bind {mistake.target} in the plans of {other}'s tests, or tell students not to call it")
                    continue
                ns = namespace(chapter, replace={mistake.target: code, other: other_code})
                theirs = [t for t in chapter.tests if t.answer == other]
                lost = [t.grade_id for t in theirs
                        if verdict.judge(t, verdict.run(t, ns), verdict.reference(chapter, t)) is not None]
                assert not lost, f"{mistake.id} in {mistake.target} costs a correct {other} the tests {lost}"
                if calls(other_code, mistake.target):  # the visible tests too: a failing cell scores 0
                    seen = visible.run(chapter, {mistake.target: code, other: other_code},
                                       only={t.grade_id for t in theirs})
                    lost = {g: e for g, e in seen.items() if e is not None}
                    assert not lost, f"{mistake.id} in {mistake.target} fails the visible tests of a correct {other}"

    def test_correct_rewrites_pass_and_get_no_diagnosis(self):
        chapter = self.chapter
        module = answers_module(chapter)
        assert module is not None and module.REWRITES, f"{chapter.id}: no correct rewrites in tests/answers/"
        passed = dict.fromkeys(visible.run(chapter))
        for answer, code in module.REWRITES:
            ns = namespace(chapter, replace={answer: code})
            assert failures(chapter, ns) == {}, f"a correct rewrite of {answer} fails"
            assert visible.run(chapter, {answer: code}) == passed, (
                f"a correct rewrite of {answer} fails a visible test")

    def test_unseen_mistakes_get_a_right_diagnosis_or_none(self):
        chapter = self.chapter
        module = answers_module(chapter)
        assert module is not None and module.UNSEEN, f"{chapter.id}: no unseen wrong answers in tests/answers/"
        for answer, code, allowed in module.UNSEEN:
            found = diagnosed(chapter, {answer: code})
            assert found, f"an unseen wrong {answer} passes every check:\n{code}"
            for grade_id, names in found.items():
                assert set(names) <= set(allowed), f"{grade_id}: wrong diagnosis {names} (allowed {allowed})"

    def test_common_mistakes_get_their_true_diagnosis_and_never_a_false_one(self):
        chapter = self.chapter
        module = answers_module(chapter)
        assert getattr(module, "COMMON", None), f"{chapter.id}: no common mistakes in tests/answers/"
        ids = {m.id for m in mistakes.catalogue(chapter)}
        for answer, code, expected, what in module.COMMON:
            assert expected is None or expected in ids, f"{what}: {expected} is not catalogued"
            found = diagnosed(chapter, {answer: code})
            assert found, f"{what}: passes every check"
            named = {name for names in found.values() for name in names}
            false = named - {expected}
            assert not false, f"{what}: FALSE diagnosis {sorted(false)} (true: {expected})"

    def test_visible_tests_are_a_subset_of_the_hidden_checks(self):
        """An answer failing a visible test fails a hidden check of that answer too (the visible tests never fail
        an answer the hidden checks pass); every catalogued mistake fails a visible test, except those the
        notebook lists as caught by the hidden checks only."""
        chapter = self.chapter
        module = answers_module(chapter)
        notes = visible.hidden_only_notes(chapter.id)
        corpus = [(m.target, mistakes.source_of(chapter, m, answers(chapter)), m) for m in mistakes.catalogue(chapter)]
        corpus += [(a, code, None) for a, code, *_ in module.UNSEEN + [c[:2] for c in getattr(module, "COMMON", ())]]
        reference = visible.run(chapter)
        assert reference == dict.fromkeys(reference), "the reference fails a visible test"
        for answer, code, mistake in corpus:
            tests = {t.grade_id for t in chapter.tests if t.answer == answer}
            seen = {g: e for g, e in visible.run(chapter, {answer: code}, only=tests).items() if e is not None}
            # the answer's own tests: the visible ones reported are those (``only``), cascades are another test's
            hidden = failures(chapter, namespace(chapter, replace={answer: code}), only=tests)
            assert set(seen) <= set(hidden) | (set(seen) - tests), (
                f"{answer}: visible tests {sorted(set(seen) - set(hidden))} fail an answer the hidden checks "
                f"pass:\n{code}\n{seen}")
            if mistake is None:
                continue
            if mistake.hidden_only:
                assert mistake.hidden_only in notes, (
                    f"{mistake.id} is caught by the hidden checks only: the notebook must list it "
                    f"({mistake.hidden_only!r})")
            else:
                assert seen, (f"{mistake.id} passes the visible tests: catch it at a cheap visible case, or mark it "
                              "hidden_only and list it in the notebook")


def pytest_generate_tests(metafunc):
    if "mistake" in metafunc.fixturenames and metafunc.cls is not None:
        catalogue = mistakes.catalogue(metafunc.cls.chapter)
        metafunc.parametrize("mistake", catalogue, ids=[m.id for m in catalogue])


for _chapter in CHAPTERS:  # one class per chapter: one scope for --dist loadscope
    globals()[f"TestChapter_{_chapter.id}"] = type(f"TestChapter_{_chapter.id}", (ChapterChecks,),
                                                   {"chapter": _chapter})


def test_common_mistakes_are_named_correctly_at_least_80_percent_of_the_time():
    """The diagnosis issue's goal, on the independent corpus (COMMON: each a function written from scratch with
    one classic mistake): at least 80 % get their true name, and none a false one. Prints the figures."""
    corpus = common_mistakes()
    right = false = 0
    rows = []
    for chapter, answer, code, expected, what in corpus:
        found = diagnosed(chapter, {answer: code})
        named = {name for names in found.values() for name in names}
        ok = named == ({expected} if expected else set())
        right += ok
        false += bool(named - {expected})
        rows.append(f"{'ok ' if ok else 'MISS'} {chapter.id:<22} {answer:<22} {expected or '(not catalogued)':<38} "
                    f"named {sorted(named)}  ({what})")
    print("\n".join(rows))
    print(f"{right} of {len(corpus)} common mistakes named correctly ({100 * right / len(corpus):.0f}%), "
          f"{false} false name(s)")
    assert len(corpus) >= 40
    assert false == 0
    assert right >= 0.8 * len(corpus)


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


# Batch seeds: `make test` checks the first of each chapter's 100 (a batch's inputs, not the declared defaults);
# `make test-seeds` all 100 (about an hour on one core).
SEEDS_IN_SUITE = 1


def batch_seeds(chapter, count=100):
    import random

    return random.Random(f"{chapter.id} batch seeds").sample(range(1, 2**62), 100)[:count]


def diagnosis_stays_exact(chapter, seeds):
    """For each batch seed the reference passes every check, and every catalogued mistake fails its own checks
    (and no other), for its reason, diagnosed as itself."""
    catalogue = [(m, mistakes.source_of(chapter, m, answers(chapter))) for m in mistakes.catalogue(chapter)]
    for seed in seeds:
        assert failures(chapter, namespace(chapter), seed) == {}, f"seed {seed}: the reference fails"
        for mistake, code in catalogue:
            found = verdicts(chapter, {mistake.target: code}, seed)
            assert found and set(found) <= own_tests(chapter, mistake), f"seed {seed}: {mistake.id} fails {found}"
            assert any(re.search(mistake.match, m, re.I | re.S) for m, _ in found.values()), (
                f"seed {seed}: {mistake.id} fails, not for its reason")
            assert all(names == [mistake.id] for _, names in found.values()), f"seed {seed}: {mistake.id} -> {found}"


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.id for c in CHAPTERS])
def test_diagnosis_stays_exact_for_a_few_batch_seeds(chapter):
    """Hidden inputs drawn per batch (the first seeds of the 100 below, within `make test`'s time)."""
    diagnosis_stays_exact(chapter, batch_seeds(chapter, SEEDS_IN_SUITE))


@pytest.mark.slow
@pytest.mark.exhaustive
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.id for c in CHAPTERS])
def test_diagnosis_stays_exact_for_100_batch_seeds(chapter):
    """Hidden inputs drawn per batch: 100 random batch seeds per chapter (`make test-seeds`)."""
    diagnosis_stays_exact(chapter, batch_seeds(chapter))

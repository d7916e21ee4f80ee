"""A submission of the Korean release is graded as the Korean notebook it is, through ``autograder grade``.

A small class of chapter 1 (its real notebook): Korean submissions with an edited visible test, with a
wrong answer, and one that lost its language metadata (recognized from its Markdown), next to an English
one with the same edit. The grader restores each edited test cell from the submission's own edition: the
Korean student gets back the Korean test cell, exactly as the Korean release shows it (the English one the
English cell), and a failing visible test speaks Korean. The grader answers in the submission's language: the
Korean pages show the verdicts, the diagnosis and the status detail in Korean, with the numbers of the English page
(an English student with the same mistake in the same batch), and a repaired notebook that lost its language
metadata is still answered in Korean.
"""

import re

import nbformat
import pytest
from bs4 import BeautifulSoup

from autograder.authoring import demo
from autograder.course.config import course_config, release_version
from autograder.course.sources import reference_answers, with_answers
from coursebook import paths
from coursebook import translation as i18n
from solutions.chapters import chapter as declared
from tests.autograder_fixtures import cli

pytestmark = [pytest.mark.bwrap, pytest.mark.slow]

CHAPTER = paths.chapter_ids()[0]
EDITED = "pass  # my tests now"


def _test_ids(nb):
    return [c.metadata.nbgrader["grade_id"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]


def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _edit(nb, grade_id):
    _cell(nb, grade_id).source = EDITED
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("korean-class")
    source_path = paths.source_notebook(CHAPTER)
    english = release_version(source_path, course_config(paths.SOURCE))
    korean = i18n.translated_release(english, CHAPTER, "ko")
    correct = reference_answers(source_path)
    tests = _test_ids(english)
    mistake = next(m for m in demo.catalogued_mistakes(declared(CHAPTER), correct) if m[1] in correct)
    bare = with_answers(korean, correct)
    del bare.metadata["language"]
    repaired = with_answers(korean, {**correct, mistake[1]: mistake[2]})
    del repaired.metadata["language"]
    repaired.cells = [c for c in repaired.cells if c.metadata.get("nbgrader", {}).get("grade_id") != tests[-1]]
    students = {
        "ko-edited": _edit(with_answers(korean, correct), tests[0]),
        "ko-wrong": with_answers(korean, {**correct, mistake[1]: mistake[2]}),
        "ko-bare": _edit(bare, tests[0]),
        "en-edited": _edit(with_answers(english, correct), tests[0]),
        "en-wrong": with_answers(english, {**correct, mistake[1]: mistake[2]}),
        "ko-repaired": repaired,  # no language metadata, a test cell deleted: restored, "repaired: ..."
    }
    for student, nb in students.items():
        demo.write_submission(root / "class", student, CHAPTER, nb=nb)
    out = root / "out"
    proc = cli.run("grade", root / "class", "--out", out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    autograded = {s: nbformat.read(out / "autograded" / s / CHAPTER / f"{CHAPTER}.ipynb", as_version=4)
                  for s in students}
    pages = {s: (out / "feedback" / s / CHAPTER / f"{CHAPTER}.html").read_text(encoding="utf-8") for s in students}
    return {"english": english, "korean": korean, "tests": tests, "autograded": autograded, "mistake": mistake,
            "grades": cli.by_student(cli.read_csv(out / "grades.csv")), "pages": pages, "out": out}


def test_the_korean_release_has_korean_test_cells():
    english = release_version(paths.source_notebook(CHAPTER), course_config(paths.SOURCE))
    korean = i18n.translated_release(english, CHAPTER, "ko")
    changed = [g for g in _test_ids(english) if _cell(english, g).source != _cell(korean, g).source]
    assert changed == _test_ids(english), f"test cells left in English: {set(_test_ids(english)) - set(changed)}"


@pytest.mark.parametrize(("student", "edition"), [("ko-edited", "korean"), ("ko-bare", "korean"),
                                                  ("en-edited", "english")])
def test_an_edited_test_cell_is_restored_from_the_submissions_edition(graded, student, edition):
    grade_id = graded["tests"][0]
    restored = _cell(graded["autograded"][student], grade_id).source
    assert EDITED not in restored
    assert _cell(graded[edition], grade_id).source.strip() in restored, restored[:400]
    assert graded["grades"][student]["score"] == graded["grades"]["en-edited"]["score"]


def test_a_failing_visible_test_of_a_korean_submission_speaks_korean(graded):
    _, target, _ = graded["mistake"]
    errors = [o for c in graded["autograded"]["ko-wrong"].cells if c.cell_type == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors, "the catalogued mistake failed no visible test"
    assert any(i18n_hangul(o.get("evalue", "")) for o in errors), [o.get("evalue", "")[:200] for o in errors]


def i18n_hangul(text):
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


# --- the grader's words in the submission's language ----------------------------------------------------

NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def _verdicts(page):
    """The texts of the grader's verdicts on a feedback page (error outputs of test cells shown as they are)."""
    texts = [pre.get_text().lstrip("\n") for pre in BeautifulSoup(page, "html.parser").select("div.output_error pre")]
    return [t for t in texts if t.startswith("AssertionError: ") and ("check" in t or "검사" in t)]


def _explanation(graded):
    mistake_id = graded["mistake"][0]
    mistake = next(m for m in __import__(declared(CHAPTER).mistakes, fromlist=["MISTAKES"]).MISTAKES
                   if m.id == mistake_id)
    korean = i18n.load_catalog(i18n.catalog_dir("ko") / i18n.MISTAKES_DOMAIN / f"{CHAPTER}.po")[mistake.explanation]
    return mistake.explanation, korean


@pytest.mark.parametrize("student", ["ko-wrong", "ko-repaired"])
def test_a_korean_submission_gets_its_verdict_and_diagnosis_in_korean(graded, student):
    english_explanation, korean_explanation = _explanation(graded)
    assert graded["grades"][student]["mistakes"] == graded["grades"]["en-wrong"]["mistakes"]  # the gradebook: ids
    assert graded["mistake"][0] in graded["grades"][student]["mistakes"]
    english, korean = _verdicts(graded["pages"]["en-wrong"]), _verdicts(graded["pages"][student])
    assert english and len(korean) == len(english), (english, korean)
    assert english_explanation in "\n".join(english)
    page = graded["pages"][student]
    assert f"진단: {korean_explanation}" in page and english_explanation not in page
    for sentence in ("checks fail", "It explains check(s)", "Diagnosis:", "value(s) differ", "Score:", "Test cell",
                     "were the rows scaled"):  # the last: the hint of the chapter's first check
        assert sentence in graded["pages"]["en-wrong"] and sentence not in page, sentence
    assert "점수:" in page and "테스트 셀" in page
    for en, ko in zip(english, korean, strict=True):  # the same numbers, in the order Korean writes them
        assert sorted(NUMBER.findall(en)) == sorted(NUMBER.findall(ko)), (en[:300], ko[:300])


def test_a_repaired_korean_notebook_without_its_language_gets_its_status_detail_in_korean(graded):
    detail = graded["grades"]["ko-repaired"]["detail"]
    assert detail.startswith("repaired: "), detail  # the gradebook and grades.csv stay in English
    page = graded["pages"]["ko-repaired"]
    assert "**Autograder:**" not in page and "Autograder:" not in page and "repaired:" not in page
    assert "자동 채점기:" in page and "복구됨: 테스트 셀" in page


def test_the_english_page_and_the_graded_notebooks_stay_english(graded):
    assert not i18n_hangul(graded["pages"]["en-wrong"].split("<body", 1)[1].split("AssertionError", 1)[0])
    for student in ("ko-wrong", "ko-repaired"):
        verdicts = [o.get("evalue", "") for c in graded["autograded"][student].cells if c.cell_type == "code"
                    for o in c.get("outputs", []) if o.get("output_type") == "error"
                    and o.get("traceback") == [f"{o.get('ename')}: {o.get('evalue')}"]]
        assert verdicts and all("checks fail" in v or "check fails" in v for v in verdicts), verdicts
        assert graded["autograded"][student].metadata["autograder"]["language"] == "ko"


def test_autograder_feedback_renders_a_korean_page_again_in_korean(graded):
    out = graded["out"]
    proc = cli.run("feedback", "--out", out, "--student", "ko-wrong", "--student", "en-wrong", "--force")
    assert proc.returncode == 0, proc.stderr[-2000:]
    for student in ("ko-wrong", "en-wrong"):
        again = (out / "feedback" / student / CHAPTER / f"{CHAPTER}.html").read_text(encoding="utf-8")
        assert again == graded["pages"][student], student

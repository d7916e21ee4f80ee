"""The grader's words in the submission's language (autograder/common/words.py): templates read back, values
copied exactly, English unchanged; nbgrader's feedback template with its words marked, nothing else changed."""

import re
from pathlib import Path

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nbgrader import utils as nbutils

from autograder.common.records import Outcome, Status
from autograder.common.words import ENGLISH, Translator
from autograder.grading import feedback, pages
from coursebook import translation as i18n

KOREAN = feedback.translator("ko")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def test_nbgrader_feedback_template_is_marked_and_otherwise_nbgraders():
    ours = (Path(feedback._OURS) / "feedback" / "index.html.j2").read_text(encoding="utf-8")
    theirs = (Path(feedback._TEMPLATES) / "templates" / "feedback" / "index.html.j2").read_text(encoding="utf-8")
    unmarked = re.sub(r"\{% trans %\}(.*?)\{% endtrans %\}", r"\1", ours.split("-#}\n", 1)[1])
    assert unmarked == theirs, "nbgrader's feedback template changed: mark its words again (see the file's header)"
    assert ours.count("{% trans %}") >= 13


@pytest.mark.parametrize("language", ["en", "xx", "", "EN", "ko-KR", None, 3, ("ko",)])
def test_a_language_without_catalogs_is_english(language):
    assert feedback.translator(language) is ENGLISH


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_english_is_the_identity(text):
    assert ENGLISH.text(text) == text


@given(st.lists(st.one_of(st.integers(-10**6, 10**6).map(str), st.floats(allow_nan=False).map(repr),
                          st.text(alphabet="abc_()[], .-", min_size=1, max_size=12)), min_size=3, max_size=3))
@settings(max_examples=200, deadline=None)
def test_a_template_is_read_back_with_its_values_copied(values):
    translator = Translator("xx", templates=(("{a} of {b} checks fail (see {c}).", "검사 {b}개 중 {a}개 ({c})."),))
    english = f"{values[0]} of {values[1]} checks fail (see {values[2]})."
    assert translator.text(english) == f"검사 {values[1]}개 중 {values[0]}개 ({values[2]})."


def test_every_grader_template_gives_its_translation_with_the_same_values():
    """Each catalog template, filled with distinct numbers, is translated with exactly those numbers (each value
    as many times as the English shows it; the translation's own words may hold other digits: "모두 1")."""
    problems = []
    for english, korean in KOREAN.templates:
        fields = list(dict.fromkeys(re.findall(r"\{[^{}]*\}", english)))
        values = {f: f"{(i + 1) * 1111}.{i + 7}" for i, f in enumerate(fields)}
        filled = re.sub(r"\{[^{}]*\}", lambda m, given=values: given[m.group(0)], english)
        translated = KOREAN.text(filled)
        counts = [(translated.count(v), filled.count(v)) for v in values.values()]
        if any(a != b for a, b in counts) or (translated == filled and korean != english):
            problems.append(f"{english!r} -> {translated!r}")
    assert not problems, "\n".join(problems)


def test_a_verdict_is_translated_line_by_line_and_keeps_unknown_lines():
    from solutions.chapters import all_chapters
    from solutions.mistakes import ch01_normalization

    mistake = ch01_normalization.MISTAKES[0]
    from autograder.grading.judging import diagnosis_line

    verdict = "\n".join([
        "2 of 6 checks fail.", diagnosis_line(mistake, all_chapters()[0], "../book"),
        "It explains check(s) 1-2:",
        "[1] min_max_scale(X): 4 of 6 value(s) differ at index (0, 1): expected 0.5, got -1.224744871",
        "[2] min_max_scale(X): 5 of 6 value(s) differ: expected -2, got 2",  # empty {where} and {nan_note}
        "  expected [1, 2, 3, 4, 5, 6] of shape (2, 3)",
        "  got      [1, 2, 3, 4, 5, 6, ... (12 values)] of shape (2, 6)",
        "a hint the chapter wrote"])
    korean = KOREAN.text(verdict)
    assert mistake.explanation not in korean and "checks fail" not in korean and "of shape" not in korean
    assert "differ" not in korean and "expected" not in korean
    assert dict(KOREAN.messages)[mistake.explanation] in korean
    assert korean.splitlines()[-1] == "a hint the chapter wrote"
    assert sorted(NUMBER.findall(korean)) == sorted(NUMBER.findall(verdict))  # Korean puts them in its order


def test_a_detail_with_several_notes_is_translated_note_by_note():
    detail = ("the kernel used more than --memory-mb 2048 and was killed in cell 5; later cells not run, scored 0; "
              "repaired: setup cell(s) setup missing: restored at the top; 3 malformed message(s) from the kernel "
              "ignored; a note no template wrote")
    korean = KOREAN.text(detail)
    assert korean.count("; ") == 3 and korean.endswith("; a note no template wrote")
    assert "later cells" not in korean and "repaired" not in korean and "malformed" not in korean
    assert sorted(NUMBER.findall(korean)) == sorted(NUMBER.findall(detail))


def _judged_notebook(verdict, stderr="RuntimeWarning: x\n"):
    test = nbformat.v4.new_code_cell("assert True", metadata={"nbgrader": {
        "grade": True, "grade_id": "test_a", "locked": True, "points": 1, "schema_version": 3, "solution": False,
        "task": False}})
    test.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue=verdict,
                                           traceback=[f"AssertionError: {verdict}"]),
                    nbformat.v4.new_output("display_data", data={"text/plain": "[stderr: warnings and log lines "
                                                                 "do not cost points]\n" + stderr},
                                           metadata={"autograder": {"stream": "stderr"}})]
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 제목"), test])


def test_a_korean_page_speaks_korean_and_the_english_page_is_unchanged():
    nb = _judged_notebook("1 of 3 checks fails.\n[2] f(x): expected numbers, got 'a'")
    english = feedback.render(nb, "a1", {"test_a": (0.0, 1.0)}, 1.0, "ok", "3 malformed message(s) from the "
                              "kernel ignored")
    assert english == feedback.render(nb, "a1", {"test_a": (0.0, 1.0)}, 1.0, "ok", "3 malformed message(s) from "
                                      "the kernel ignored", translator=ENGLISH)
    korean = feedback.render(nb, "a1", {"test_a": (0.0, 1.0)}, 1.0, "ok", "3 malformed message(s) from the "
                             "kernel ignored", translator=KOREAN)
    for words in ("checks fails", "expected numbers", "Score:", "Test cell", "malformed", "do not cost points"):
        assert words in english and words not in korean, words
    for words in ("검사 3개 중 1개가 실패합니다.", "점수:", "테스트 셀", "메시지 3개를 무시했습니다",
                  "감점되지 않습니다"):
        assert words in korean, words
    assert nbutils.is_grade(nb.cells[1]) and nb.cells[1].outputs[0].evalue.startswith("1 of 3")  # not changed


def test_the_status_page_speaks_the_submissions_language():
    outcome = Outcome("s", "a1", Status.CELL_TIMEOUT, "cell 3 exceeded --cell-timeout 120 s and was interrupted", {})
    english = pages.status_page(outcome, 6.0)
    korean = pages.status_page(outcome, 6.0, KOREAN)
    assert "could not be graded" in english and "exceeded" in english
    assert "could not be graded" not in korean and "exceeded" not in korean and "120 s" in korean
    assert "cell_timeout" in korean  # the status is the gradebook's code, in any language


def test_the_catalogs_hold_every_catalogued_mistake_and_grader_message():
    """(Every mistake's explanation has an entry: the translation tests then require it translated.)"""
    from importlib import import_module

    from solutions.chapters import all_chapters

    catalogs = i18n.catalogs("ko")
    for chapter in all_chapters():
        if chapter.id not in i18n.chapter_ids():
            continue
        entries = {e.msgid for e in i18n.polib.pofile(str(catalogs[f"mistakes/{chapter.id}"]))}
        explanations = {m.explanation for m in import_module(chapter.mistakes).MISTAKES}
        assert explanations <= entries, sorted(explanations - entries)[:3]


def test_no_message_holds_as_many_separators_as_the_reader_tries_at_most():
    """A detail is read run by run of at most MAX_PARTS_PER_MESSAGE parts (linear in a student-chosen value full of
    "; "): every message of every catalog must fit in a run, or its translation would be lost."""
    from autograder.common.words import MAX_PARTS_PER_MESSAGE, SEPARATORS

    catalogs = i18n.catalogs("ko")
    for name in [n for n in catalogs if n == "grader" or n.startswith(("mistakes/", "hints/"))]:
        for entry in i18n.polib.pofile(str(catalogs[name])):
            for separator in SEPARATORS:
                assert entry.msgid.count(separator) < MAX_PARTS_PER_MESSAGE, (name, entry.msgid[:80])


def test_a_detail_of_many_notes_is_read_in_linear_tries_and_keeps_every_note(monkeypatch):
    from autograder.common.words import MAX_PARTS_PER_MESSAGE

    tries = []
    whole = Translator._whole
    monkeypatch.setattr(Translator, "_whole", lambda self, english, depth: tries.append(1) or whole(self, english,
                                                                                                    depth))
    notes = ["a value; the student chose"] * 300
    detail = "; ".join([*notes, "3 malformed message(s) from the kernel ignored"])
    korean = KOREAN.text(detail)
    assert korean.startswith("; ".join(notes)) and "malformed" not in korean and korean.count("; ") == 600
    assert len(tries) <= (2 * 300 + 1) * MAX_PARTS_PER_MESSAGE + 10, f"{len(tries)} tries for 601 parts"


def test_a_message_of_several_lines_is_one_entry_per_line_with_words(tmp_path):
    """The grader translates a text line by line, so a marked message spanning lines (a judge's verdict, then its
    hint on the next line) is extracted line by line; a line that is only a value is not an entry."""
    source = tmp_path / "judge.py"
    source.write_text('from checks.words import N_\n\n\ndef fail(what, want, got, hint):\n'
                      '    return N_(f"{what}: expected {want:.10g}, got {got:.10g}\\n{hint}")\n')
    assert [m for m, _ in i18n.marked_messages(source)] == ["{what}: expected {want:.10g}, got {got:.10g}"]
    ko = feedback.translator("ko", "04-lr-schedules")
    english = "[2] decay(0.5): get_lr() with last_epoch = 3: expected [0.125], got [0.25]\na hint no template wrote"
    korean = ko.text(english)
    assert "expected" not in korean.splitlines()[0] and korean.splitlines()[1] == "a hint no template wrote"
    assert sorted(NUMBER.findall(korean)) == sorted(NUMBER.findall(english))

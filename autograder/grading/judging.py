"""The grading parent's verdicts: records from a kernel, judged against the reference, outside the kernel.

For every test cell of the chapter: the records the kernel sent *during that cell* are decoded
strictly (data only), judged with the chapter's declared cases against the reference's records
(computed once per batch in this process), and, when a check fails, the catalogued mistakes of that
answer are run on the same inputs to name the one the student made. A failing verdict becomes an
error output at the top of the test cell, so nbgrader's own scoring (``SaveAutoGrades``) scores the
cell 0; a test cell earns its points only when the kernel ran it without error and the verdict passes.
"""

import json
from dataclasses import dataclass

import nbformat
from nbformat import NotebookNode

from checks import mistakes, probe, verdict


@dataclass(frozen=True)
class Verdict:
    grade_id: str
    message: str | None  # None: passed
    diagnosis: tuple = ()  # Mistake objects whose outputs equal the student's
    unanswered: bool = False  # every case stopped at the release's stub (or a missing definition)


# What a case raises when the student has not written the answer yet: the release's stub, or no definition.
STUB_ERRORS = ("NotImplementedError", "NameError")
UNANSWERED_PREFIX = "not_answered:"  # in the mistakes column: not_answered:<answer>


def _unanswered(got):
    """True when every case's first exception is a stub's: the answer was left as released, not got wrong."""
    firsts = [next((v for v in case.values() if isinstance(v, probe.Raised)), None) for case in got]
    return bool(firsts) and all(r is not None and r.name in STUB_ERRORS for r in firsts)


def _decode(grade_id, texts):
    """The decoded records of one test cell, or a message saying what is wrong with them."""
    if not texts:
        return None, "the hidden checks did not run (the test cell stopped before its last line)"
    if len(texts) > 1:
        return None, "the hidden checks reported twice (records must come once from the test cell)"
    try:
        payload = json.loads(texts[0])
        if not isinstance(payload, dict) or payload.get("test") != grade_id:
            return None, "the hidden checks reported for another test"
        return verdict.results(probe.decode_records(payload.get("cases"))), None
    except (ValueError, TypeError, RecursionError) as err:
        return None, f"the hidden checks' records are malformed ({str(err)[:120]})"


def judge(run, chapter, answers):
    """{grade_id: Verdict} for every declared test of ``chapter`` (``answers``: its reference answers)."""
    out = {}
    for test in chapter.tests:
        got, problem = _decode(test.grade_id, run.records.get(test.grade_id, []))
        if problem is not None:
            out[test.grade_id] = Verdict(test.grade_id, f"{test.answer}: {problem}")
            continue
        message = verdict.judge(test, got, verdict.reference(chapter, test))
        found = tuple(mistakes.diagnose(chapter, test, got, answers)) if message is not None else ()
        unanswered = message is not None and not found and _unanswered(got)
        out[test.grade_id] = Verdict(test.grade_id, message, found, unanswered)
    return out


def chapter_link(book_url, chapter, anchor):
    return f"{book_url.rstrip('/')}/book/{chapter.id}.html#{anchor}" if book_url else ""


def apply(notebook_json, verdicts, chapter, book_url=""):
    """The executed notebook with each failed verdict as the first output of its test cell."""
    nb = nbformat.reads(notebook_json, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id not in verdicts or cell.cell_type != "code":
            continue
        # our test cells never produce a result value: one would be read as partial credit by nbgrader
        cell.outputs = [o for o in cell.get("outputs", []) if o.get("output_type") != "execute_result"]
        found = verdicts[grade_id]
        if found.message is None:
            continue
        lines = [found.message] + [_diagnosis_line(m, chapter, book_url) for m in found.diagnosis]
        text = "\n".join(lines)
        cell.outputs.insert(0, NotebookNode(output_type="error", ename="AssertionError", evalue=text,
                                            traceback=[f"AssertionError: {text}"]))
    return nb


def _diagnosis_line(mistake, chapter, book_url):
    title, anchor = mistake.section
    link = chapter_link(book_url, chapter, anchor)
    return f"Diagnosis: {mistake.explanation}. See \"{title}\"" + (f" ({link})" if link else "") + " in the chapter."

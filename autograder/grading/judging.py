"""The grading parent's verdicts: records from a kernel, judged against the reference, outside the kernel.

For every test cell of the chapter: the records the kernel sent *during that cell* are decoded
strictly (data only), judged with the chapter's declared cases against the reference's records
(computed once per batch in this process), and, when a check fails, the catalogued mistakes of that
answer are run on the same inputs to name the one the student made. A failing verdict becomes an
error output at the top of the test cell, so nbgrader's own scoring (``SaveAutoGrades``) scores the
cell 0; a test cell earns its points only when the kernel ran it without error and the verdict passes.
"""

import functools
import json
from dataclasses import dataclass

import nbformat
from nbformat import NotebookNode

from autograder.common.deadline import DeadlineExceeded, deadline
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


# What one test's records may cost, as multiples of the reference's records of that test (a catalogued
# mistake's records are at most 2.9 times the reference's in this course), plus a fixed allowance.
SIZE_FACTOR, SIZE_ALLOWANCE = 4, 64 * 1024  # characters of JSON
COST_FACTOR, COST_ALLOWANCE = 4, 10_000  # decoded values and array elements
JUDGE_SECONDS = 20.0  # decoding, judging and diagnosing one test's records (the reference's take < 0.5 s)


@dataclass(frozen=True)
class Allowance:
    """What one test's records may cost, fixed before they are read: characters, values, array elements."""

    chars: int
    nodes: int
    elements: int

    def budget(self):
        return probe.Budget(nodes=self.nodes, elements=self.elements)


@functools.cache
def allowance(chapter, test):
    """A small multiple of the reference's records of ``test`` (computed once per process)."""
    raw = probe.run_plans(test.plans(), chapter.reference_namespace())  # (warnings silenced there)
    text = json.dumps({"test": test.grade_id, "cases": raw})
    nodes, elements = probe.cost(raw)
    return Allowance(chars=SIZE_FACTOR * len(text) + SIZE_ALLOWANCE,
                     nodes=COST_FACTOR * (nodes + elements) + COST_ALLOWANCE,
                     elements=COST_FACTOR * elements + COST_ALLOWANCE)


def _decode(grade_id, texts, limits=None):
    """The decoded records of one test cell, or a message saying what is wrong with them.

    ``limits`` (an :class:`Allowance`) is checked before any decoding: the record's length first, then the
    decoder's budget. Malformed records of any shape are the student's failure with a message.
    """
    if not texts:
        return None, "the hidden checks did not run (the test cell stopped before its last line)"
    if len(texts) > 1:
        return None, "the hidden checks reported twice (records must come once from the test cell)"
    text = texts[0]
    if type(text) is not str:
        return None, "the hidden checks' records are malformed (not text)"
    if limits is not None and len(text) > limits.chars:
        return None, (f"the hidden checks' records are too large ({len(text)} characters; "
                      f"at most {limits.chars} for this test)")
    try:
        payload = json.loads(text)
        if type(payload) is not dict or type(payload.get("test")) is not str or payload["test"] != grade_id:
            return None, "the hidden checks reported for another test"
        decoded = probe.decode_records(payload.get("cases"), limits.budget() if limits is not None else None)
        return verdict.results(decoded), None
    except (probe.BadRecords, ValueError, TypeError, RecursionError) as err:
        return None, f"the hidden checks' records are malformed ({str(err)[:120]})"


def judge(run, chapter, answers, seconds=JUDGE_SECONDS):
    """{grade_id: Verdict} for every declared test of ``chapter`` (``answers``: its reference answers).

    Each test's records are bounded before they are read (:func:`allowance`) and decoded, judged and
    diagnosed within ``seconds``: records that take longer fail their test, a diagnosis that takes longer
    is left out. Nothing a kernel sends can make this raise.
    """
    out = {}
    for test in chapter.tests:
        out[test.grade_id] = _judge_test(run, chapter, test, answers, seconds)
    return out


def _judge_test(run, chapter, test, answers, seconds):
    limits = allowance(chapter, test)
    expected = verdict.reference(chapter, test)  # the reference's side: computed once, outside the deadline
    message = None
    try:
        with deadline(seconds):
            got, problem = _decode(test.grade_id, run.records.get(test.grade_id, []), limits)
            if problem is not None:
                return Verdict(test.grade_id, f"{test.answer}: {problem}")
            message = verdict.judge(test, got, expected)
            if message is None:
                return Verdict(test.grade_id, None)
            found = ()
            try:
                found = tuple(mistakes.diagnose(chapter, test, got, answers))
            except Exception:  # noqa: BLE001 - records no mistake foresaw: no diagnosis, the verdict stands
                found = ()
            return Verdict(test.grade_id, message, found, not found and _unanswered(got))
    except DeadlineExceeded:
        if message is not None:  # the diagnosis ran out of time: the failing verdict stands, undiagnosed
            return Verdict(test.grade_id, message)
        return Verdict(test.grade_id, f"{test.answer}: the hidden checks' records took more than {seconds:g} s "
                                      "to judge (far more than the reference's); scored 0")


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

"""The grading parent's verdicts: records from a kernel, judged against the reference, outside the kernel.

For every test cell of the chapter: the records the kernel sent *during that cell* are decoded
strictly (data only), judged with the chapter's declared cases against the reference's records
(computed once per batch in this process), and, when a check fails, the catalogued mistakes of that
answer are run on the same inputs to name the one the student made. A failing verdict becomes an
error output at the top of the test cell, so nbgrader's own scoring (``SaveAutoGrades``) scores the
cell 0; a test cell earns its points only when the kernel ran it without error and the verdict passes.
"""

import ast
import functools
import json
from dataclasses import dataclass

import nbformat
from nbformat import NotebookNode

from autograder.common.deadline import DeadlineExceeded, deadline
from autograder.common.words import N_
from autograder.grading import tracebacks
from checks import mistakes, probe, verdict


@dataclass(frozen=True)
class Verdict:
    grade_id: str
    result: object = None  # None: passed; a checks.verdict.Judged; or a str (the records could not be judged)
    found: tuple = ()  # checks.mistakes.Diagnosis: catalogued mistakes the student's outputs prove, with their cases
    unanswered: bool = False  # every case stopped at the release's stub (or a missing definition)

    @property
    def diagnosis(self):
        """The catalogued mistakes named (Mistake objects)."""
        return tuple(d.mistake for d in self.found)

    @property
    def passed(self):
        return self.result is None

    def text(self, chapter=None, book_url=""):
        """The message of the test cell (None when it passed): every failing case, grouped by diagnosis."""
        if self.result is None or isinstance(self.result, str):
            return self.result
        lines = [(diagnosis_line(d.mistake, chapter, book_url), d.cases) for d in self.found]
        return verdict.text(self.result, lines)

    @property
    def message(self):
        return self.text()


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
def allowance(chapter, test, seed=None):
    """A small multiple of the reference's records of ``test`` on the batch's inputs (once per process)."""
    raw = probe.run_plans(test.plans(seed), chapter.reference_namespace())  # (warnings silenced there)
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
        return None, N_("the hidden checks did not run (the test cell stopped before its last line)")
    if len(texts) > 1:
        return None, N_("the hidden checks reported twice (records must come once from the test cell)")
    text = texts[0]
    if type(text) is not str:
        return None, N_("the hidden checks' records are malformed (not text)")
    if limits is not None and len(text) > limits.chars:
        return None, N_(f"the hidden checks' records are too large ({len(text)} characters; "
                      f"at most {limits.chars} for this test)")
    try:
        payload = json.loads(text)
        if type(payload) is not dict or type(payload.get("test")) is not str or payload["test"] != grade_id:
            return None, N_("the hidden checks reported for another test")
        decoded = probe.decode_records(payload.get("cases"), limits.budget() if limits is not None else None)
        return verdict.results(decoded), None
    except (probe.BadRecords, ValueError, TypeError, RecursionError) as err:
        return None, N_(f"the hidden checks' records are malformed ({str(err)[:120]})")


def judge(run, chapter, answers, seed=None, seconds=JUDGE_SECONDS):
    """{grade_id: Verdict} for every declared test of ``chapter`` (``answers``: its reference answers; ``seed``:
    the batch's, with which the hidden inputs were drawn).

    Each test's records are bounded before they are read (:func:`allowance`) and decoded, judged and
    diagnosed within ``seconds``: records that take longer fail their test, a diagnosis that takes longer
    is left out. Nothing a kernel sends can make this raise.
    """
    out = {}
    stubs = stub_answers(run.notebook, chapter.answers)
    for test in chapter.tests:
        out[test.grade_id] = _judge_test(run, chapter, test, answers, seed, stubs, seconds)
    return out


def _judge_test(run, chapter, test, answers, seed, stubs, seconds):
    limits = allowance(chapter, test, seed)
    expected = verdict.reference(chapter, test, seed)  # the reference's side: computed once, outside the deadline
    result = None
    try:
        with deadline(seconds):
            got, problem = _decode(test.grade_id, run.records.get(test.grade_id, []), limits)
            if problem is not None:
                return Verdict(test.grade_id, f"{test.answer}: {problem}")
            result = verdict.judged(test, got, expected, seed)
            if result.passed:
                return Verdict(test.grade_id, None)
            found = ()
            if not result.problem:
                try:
                    found = tuple(mistakes.diagnose(chapter, test, got, answers, result.failing, seed))
                except Exception:  # noqa: BLE001 - records no mistake foresaw: no diagnosis, the verdict stands
                    found = ()
            unanswered = not found and test.answer in stubs and _unanswered(got)
            return Verdict(test.grade_id, result, found, unanswered)
    except DeadlineExceeded:
        if result is not None:  # the diagnosis ran out of time: the failing verdict stands, undiagnosed
            return Verdict(test.grade_id, result)
        return Verdict(test.grade_id, N_(f"{test.answer}: the hidden checks' records took more than {seconds:g} s "
                                      "to judge (far more than the reference's); scored 0"))


def stub_answers(notebook_json, names):
    """The answers (of ``names``) that the notebook leaves as released: not defined in any cell the student can
    edit, or whose last definition is the release's stub (bodies that only raise NotImplementedError). An
    answer with code of its own before the raise is a partly written answer: judged for what it does."""
    if not notebook_json:
        return set(names)
    try:
        nb = nbformat.reads(notebook_json, as_version=4)
    except Exception:  # noqa: BLE001 - no readable notebook: the records alone decide
        return set(names)
    last = {}
    for cell in nb.cells:
        if cell.cell_type != "code" or cell.metadata.get("nbgrader", {}).get("locked"):
            continue
        try:
            tree = ast.parse(cell.source)
        except Exception:  # noqa: BLE001 - a syntax error, or a cell too deeply nested to parse: not a definition
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in names:
                last[node.name] = node
    return {name for name in names if name not in last or _is_stub(last[name])}


def _is_stub(node):
    """A def or class whose bodies hold nothing but a docstring, ``super().__init__()`` and
    ``raise NotImplementedError`` (the release's ``# YOUR CODE HERE`` stub)."""
    if isinstance(node, ast.ClassDef):
        methods = [n for n in _without_docstring(node.body) if not isinstance(n, ast.Pass)]
        return all(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_stub(n) for n in methods)
    body = _without_docstring(node.body)
    raises = [n for n in body if isinstance(n, ast.Raise) and _names_not_implemented(n.exc)]
    others = [n for n in body if n not in raises and not isinstance(n, ast.Pass) and not _is_super_init(n)]
    return bool(raises) and not others


def _without_docstring(body):
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[1:]
    return body


def _names_not_implemented(exc):
    target = exc.func if isinstance(exc, ast.Call) else exc
    return isinstance(target, ast.Name) and target.id == "NotImplementedError"


def _is_super_init(node):
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute) and node.value.func.attr == "__init__"
            and isinstance(node.value.func.value, ast.Call) and isinstance(node.value.func.value.func, ast.Name)
            and node.value.func.value.func.id == "super")


def chapter_link(book_url, chapter, anchor):
    return f"{book_url.rstrip('/')}/book/{chapter.id}.html#{anchor}" if book_url else ""


def apply(notebook_json, verdicts, chapter, book_url=""):
    """The executed notebook with each failed verdict as the first output of its test cell.

    The visible tests' own errors stay below it, their tracebacks cut to the notebook's own frames (no
    library internals, no path of the grading machine: :mod:`autograder.grading.tracebacks`)."""
    nb = nbformat.reads(notebook_json, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id not in verdicts or cell.cell_type != "code":
            continue
        # our test cells never produce a result value: one would be read as partial credit by nbgrader
        cell.outputs = [tracebacks.cleaned(o) for o in cell.get("outputs", [])
                        if o.get("output_type") != "execute_result"]
        text = verdicts[grade_id].text(chapter, book_url)
        if text is None:
            continue
        cell.outputs.insert(0, NotebookNode(output_type="error", ename="AssertionError", evalue=text,
                                            traceback=[f"AssertionError: {text}"]))
    return nb


def diagnosis_line(mistake, chapter, book_url):
    title, anchor = mistake.section
    link = chapter_link(book_url, chapter, anchor)
    if link:
        return N_(f"Diagnosis: {mistake.explanation}. See \"{title}\" ({link}) in the chapter.")
    return N_(f"Diagnosis: {mistake.explanation}. See \"{title}\" in the chapter.")

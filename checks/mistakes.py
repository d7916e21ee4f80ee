"""The catalogue of known mistakes, and the diagnosis that names the one a student made.

Each chapter has a catalogue (``solutions/mistakes/chNN_*.py``, instructor side, never released): a
list of :class:`Mistake` s, each a wrong implementation of one answer, preferably written as a
change of the reference answer (the answer cell of the source notebook), so that it follows the
reference when the reference changes. The mutant tests, the demo class and the diagnosis all read
this one catalogue. The reference answers are passed in (``answers``: answer name -> source, as
:func:`autograder.course.sources.reference_answers` reads them): this framework reads no course file.

Diagnosis: when a test fails, every catalogued mistake of that answer runs the same plans in the
trusted process. A diagnosis is a proof: a mistake is named when the student's outputs equal the
mistake's on every quantity and case where the mistake differs from the reference (its *signature*),
and never otherwise. Only the signature counts, so whatever else differs in the student's own
function (validation, dtypes, another output, a second mistake) cannot hide the mistake it shows,
and cannot make a mistake it does not show appear. It never changes a score.

Quantities are the recorded values item by item (each output of a tuple, each entry of a dict, an
array's dtype and kind apart from its numbers, whether a step raised); random draws are compared by
the statistics their case declares (:class:`~checks.spec.Estimate`, within 5 standard errors), not
number by number.
"""

import functools
import importlib
import math
from dataclasses import dataclass

import numpy as np

from checks import probe, verdict
from checks.spec import Estimate

MATCH_RTOL, MATCH_ATOL = 1e-7, 1e-10  # outputs "equal" a mistake's: far tighter than any mistake's effect
LOW_RTOL, LOW_ATOL = 1e-5, 1e-6  # the same when either side is float32 or float16 (about 1e-7 relative precision)
N_SE = 5  # two estimates agree within 5 standard errors of their difference


@dataclass(frozen=True)
class Mistake:
    """A common wrong implementation of one answer.

    id : short id, unique within the chapter (the ``mistakes`` column of grades.csv).
    target : the answer it replaces (function or class name, the answer cell's grade_id).
    explanation : one or two sentences for the student: what their outputs match and what the course
        expects instead.
    section : the book section that teaches the point, as (title, anchor) of the chapter page.
    match : regex that the failing test's message must contain (the mistake is caught for its reason).
    change : ((old, new), ...) text replacements applied to the reference answer, or
    code : the whole wrong answer cell, when a change of the reference would not read well.
    tests : the test cells it fails (grade_ids), when its answer has several and it must fail only some (the
        early-stopping rule, not the weights test); empty: any test of its answer.
    hidden_only : empty when the visible tests of the notebook catch it too; else the short phrase under which
        the notebook lists it among the mistakes only the hidden checks can see (large samples, long runs).
    """

    id: str
    target: str
    explanation: str
    section: tuple
    match: str
    change: tuple = ()
    code: str = ""
    tests: tuple = ()
    hidden_only: str = ""


def catalogue(chapter):
    """The chapter's mistakes (empty when it declares none)."""
    if not chapter.mistakes:
        return ()
    return tuple(importlib.import_module(chapter.mistakes).MISTAKES)


def source_of(chapter, mistake, answers):
    """The complete wrong answer cell of ``mistake`` (``answers``: the chapter's reference answers)."""
    if mistake.code:
        return mistake.code
    source = answers[mistake.target]
    for old, new in mistake.change:
        if source.count(old) != 1:
            raise ValueError(f"{chapter.id}/{mistake.id}: {old!r} occurs {source.count(old)} times in the "
                             f"reference answer {mistake.target!r} (must be exactly once)")
        source = source.replace(old, new)
    return source


def namespace_with(chapter, answer_source):
    """The reference namespace with one answer replaced by ``answer_source`` (run in the chapter's setup)."""
    namespace = dict(chapter.reference_namespace())
    exec("\n".join(chapter.setup), namespace)  # noqa: S102 - the course's own code, never a student's
    exec(compile(answer_source, "<answer>", "exec"), namespace)  # noqa: S102
    return namespace


def records_of(chapter, test, mistake, answers, seed=None):
    """Records of ``test``'s plans run against ``mistake`` (cached: the plans are deterministic)."""
    return _records_of(chapter, test, source_of(chapter, mistake, answers), seed)


@functools.cache
def _records_of(chapter, test, source, seed):
    return verdict.run(test, namespace_with(chapter, source), seed)


# -- observations: what a case's records say, quantity by quantity ---------------------------------------
def observe(case, result):
    """{quantity: value} of one case's records (see the module docstring)."""
    seen = {}
    for label, value in result.items():
        if label in case.random:
            seen[(label, "outcome")] = _outcome(value)
        else:
            _flatten(seen, (label,), value)
    if case.quantities is not None:
        try:
            found = case.quantities(result)
        except Exception:  # noqa: BLE001 - records a statistic cannot be read from: nothing observed
            found = {}
        seen.update({("quantity", name): value for name, value in found.items()})
    return seen


def _outcome(value):
    return f"raised {value.name}" if isinstance(value, probe.Raised) else "returned"


def _flatten(seen, path, value):
    seen[path + ("outcome",)] = _outcome(value)
    if isinstance(value, probe.Raised):
        return
    if isinstance(value, probe.Array):
        seen[path + ("dtype",)] = value.dtype
        seen[path + ("kind",)] = value.kind
        seen[path + ("requires_grad",)] = value.requires_grad
        seen[path] = np.asarray(value.value)
    elif isinstance(value, (tuple, list)):
        seen[path + ("length",)] = len(value)
        for i, item in enumerate(value):
            _flatten(seen, path + (i,), item)
    elif isinstance(value, dict):
        seen[path + ("keys",)] = tuple(sorted(map(str, value)))
        for key, item in value.items():
            _flatten(seen, path + (str(key),), item)
    elif isinstance(value, probe.Opaque):
        seen[path + ("type",)] = value.type_name
    else:
        seen[path + ("type",)] = "number" if type(value) in (int, float) else type(value).__name__
        seen[path] = value


def agree(a, b):
    """Whether two observations of one quantity are the same (see the module docstring)."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, Estimate) or isinstance(b, Estimate):
        if not (isinstance(a, Estimate) and isinstance(b, Estimate)):
            return False
        if not (math.isfinite(a.value) and math.isfinite(b.value)):
            return a.value == b.value or (math.isnan(a.value) and math.isnan(b.value))
        return abs(a.value - b.value) <= N_SE * math.hypot(a.se, b.se) + 1e-12 * (1 + abs(b.value))
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if isinstance(a, (bool, np.bool_)) or isinstance(b, (bool, np.bool_)):
        return isinstance(a, (bool, np.bool_)) and isinstance(b, (bool, np.bool_)) and bool(a) == bool(b)
    try:
        x, y = np.asarray(a), np.asarray(b)
    except Exception:  # noqa: BLE001
        return a == b
    if x.dtype.kind not in "biufc" or y.dtype.kind not in "biufc":
        return bool(np.array_equal(x, y)) if x.shape == y.shape else False
    if x.shape != y.shape:
        if x.size == 1 and y.size == 1:
            x, y = x.reshape(()), y.reshape(())
        else:
            return False
    if x.dtype.kind in "biu" and y.dtype.kind in "biu":
        return bool(np.array_equal(x, y))
    low = any(arr.dtype.kind in "fc" and arr.dtype.itemsize < (8 if arr.dtype.kind == "f" else 16) for arr in (x, y))
    rtol, atol = (LOW_RTOL, LOW_ATOL) if low else (MATCH_RTOL, MATCH_ATOL)
    try:
        return bool(np.allclose(x, y, rtol=rtol, atol=atol, equal_nan=True))
    except TypeError:
        return False


def observations(test, records, seed=None):
    """The observations of every case of ``test`` (records: a list of Results, one per case)."""
    return [observe(case, result) for case, result in zip(test.cases(seed), records, strict=False)]


def signature(reference, other):
    """{(case, quantity)} where ``other``'s observations differ from the reference's, including what ``other``
    records where the reference stopped (a mistake that does not raise where the reference does: what it does
    instead is part of it)."""
    found = set()
    for index, (ref, obs) in enumerate(zip(reference, other, strict=False)):
        found |= {(index, key) for key in set(ref) | set(obs) if not agree(obs.get(key), ref.get(key))}
    return frozenset(found)


@functools.cache
def _signature(chapter, test, source, seed):
    reference = observations(test, verdict.reference(chapter, test, seed), seed)
    mine = observations(test, _records_of(chapter, test, source, seed), seed)
    return signature(reference, mine), tuple(mine)


@dataclass(frozen=True)
class Diagnosis:
    """A catalogued mistake the student's outputs prove, and the failing cases (indices) it explains."""

    mistake: Mistake
    cases: tuple


def diagnose(chapter, test, got, answers, failing=None, seed=None):
    """The catalogued mistakes of ``test.answer`` that the student's records ``got`` prove (see the module
    docstring), each with the failing cases it explains (``failing``: indices of the student's failing cases;
    None: all cases). A mistake whose signature another named mistake's strictly contains is left out (the
    larger one says more)."""
    mine = observations(test, got, seed)
    failing = set(range(len(mine))) if failing is None else set(failing)
    stopped = [_stopped(result) for result in got]
    named = []
    for mistake in catalogue(chapter):
        if mistake.target != test.answer:
            continue
        sig, theirs = _signature(chapter, test, source_of(chapter, mistake, answers), seed)
        if not sig or len(theirs) != len(mine):
            continue
        # Where the student's function raised, the values after it were never observed: those quantities prove
        # nothing either way (the exception is a failure of its own, in the message). The rest must all agree.
        compared = {(case, key) for case, key in sig if not _unobserved(key, mine[case], stopped[case])}
        cases = {case for case, _ in compared}
        if not compared or 2 * len(cases) < len({case for case, _ in sig}) or not cases & failing:
            continue
        if all(agree(mine[case].get(key), theirs[case].get(key)) for case, key in compared):
            named.append((mistake, frozenset(compared)))
    named = [(m, sig) for m, sig in named if not any(sig < other for _, other in named)]
    return [Diagnosis(m, tuple(sorted({case for case, _ in sig} & failing))) for m, sig in named]


def _stopped(result):
    """The labels of a case's records at which the student's function raised (None: it never raised)."""
    raised = {label for label, value in result.items() if isinstance(value, probe.Raised)}
    return raised or None


def _unobserved(key, observed, raised_labels):
    """A value quantity the student's records cannot show: its step raised, or was not reached after a raise."""
    if raised_labels is None or key[1:] == ("outcome",):  # whether a step raised or returned: always seen
        return False
    label = key[0]
    if label == "quantity":
        return key not in observed
    return label in raised_labels or (label, "outcome") not in observed

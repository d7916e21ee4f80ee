"""The catalogue of known mistakes, and the diagnosis that names the one a student made.

Each chapter has a catalogue (``solutions/mistakes/chNN_*.py``, instructor side, never released): a
list of :class:`Mistake` s, each a wrong implementation of one answer, preferably written as a
change of the reference answer (the answer cell of the source notebook), so that it follows the
reference when the reference changes. The mutant tests, the demo class and the diagnosis all read
this one catalogue. The reference answers are passed in (``answers``: answer name -> source, as
:func:`autograder.course.sources.reference_answers` reads them): this framework reads no course file.

Diagnosis: when a test fails, every catalogued mistake of that answer runs the same plans in the
trusted process; a mistake whose records equal the student's (within a small tolerance) is the
diagnosis. It never changes a score.
"""

import functools
import importlib
from dataclasses import dataclass

import numpy as np

from checks import probe, verdict

MATCH_RTOL, MATCH_ATOL = 1e-7, 1e-10  # outputs "equal" a mistake's: far tighter than any mistake's effect


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
    """

    id: str
    target: str
    explanation: str
    section: tuple
    match: str
    change: tuple = ()
    code: str = ""


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


def records_of(chapter, test, mistake, answers):
    """Records of ``test``'s plans run against ``mistake`` (cached: the plans are deterministic)."""
    return _records_of(chapter, test, source_of(chapter, mistake, answers))


@functools.cache
def _records_of(chapter, test, source):
    return verdict.run(test, namespace_with(chapter, source))


def _same(a, b):
    if isinstance(a, probe.Raised) or isinstance(b, probe.Raised):
        return isinstance(a, probe.Raised) and isinstance(b, probe.Raised) and a.name == b.name
    if isinstance(a, probe.Array) or isinstance(b, probe.Array):
        if not (isinstance(a, probe.Array) and isinstance(b, probe.Array)):
            return False
        x, y = np.asarray(a.value), np.asarray(b.value)
        if x.shape != y.shape:
            return False
        if x.dtype.kind in "biu" and y.dtype.kind in "biu":
            return bool(np.array_equal(x, y))
        try:
            return bool(np.allclose(x, y, rtol=MATCH_RTOL, atol=MATCH_ATOL, equal_nan=True))
        except TypeError:
            return False
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return bool(np.isclose(a, b, rtol=MATCH_RTOL, atol=MATCH_ATOL, equal_nan=True))
    return a == b


def same_records(got, other):
    """Two record sets of one test agree case by case, label by label."""
    return len(got) == len(other) and all(
        g.keys() == o.keys() and all(_same(g[k], o[k]) for k in g) for g, o in zip(got, other, strict=True))


def diagnose(chapter, test, got, answers):
    """The catalogued mistakes of ``test.answer`` whose records equal the student's ``got``."""
    return [m for m in catalogue(chapter)
            if m.target == test.answer and same_records(got, records_of(chapter, test, m, answers))]

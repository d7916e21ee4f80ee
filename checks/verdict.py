"""Verdicts: run a test's plans, compare with the reference, and say what the student did wrong.

The same functions decide a grade everywhere: in the grading parent (on records a kernel sent),
under plain ``nbgrader autograde`` (on records of an in-process run, :func:`checks.check`)
and in the test suite (on the records of catalogued mistakes).

A test fails when one of its cases fails (the points rule). Every failing case is reported, not only
the first: a student who fixes one thing must see everything else that is wrong. :func:`failures`
judges every case; :func:`text` writes the message, grouping the failing cases by the diagnosis that
explains them (:mod:`checks.mistakes`).
"""

import functools
import warnings
from dataclasses import dataclass

from checks import probe
from checks.judge import Fail
from checks.spec import Result
from checks.words import N_

FULL_MESSAGES = 2  # failing cases of one group shown with their whole message; the others by their first line
LINE = 240  # characters of a failing case's one-line summary


@dataclass(frozen=True)
class Failure:
    """One failing case of a test: its index in the test, its label and the judge's message."""

    case: int
    label: str
    message: str

    @property
    def summary(self):
        first = self.message.splitlines()[0] if self.message else self.label
        return first if len(first) <= LINE else first[: LINE - 3] + "..."


@dataclass(frozen=True)
class Judged:
    """The verdict on one test: passed, or the problem that stopped it being judged, or its failing cases."""

    cases: int
    problem: str | None = None  # the records cannot be judged at all (answer not defined, checks did not all run)
    failures: tuple = ()

    @property
    def passed(self):
        return self.problem is None and not self.failures

    @property
    def failing(self):
        return frozenset(f.case for f in self.failures)


def results(cases):
    """Decoded records (a list per case) as :class:`~checks.spec.Result` s."""
    return [Result(case) for case in cases]


def run(test, namespace, seed=None):
    """The records of ``test``'s plans run in this process against ``namespace``, as the grader reads them.

    Warnings stay quiet: a catalogued mistake dividing by zero must not print in the grading parent.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return results(probe.roundtrip(probe.run_plans(test.plans(seed), namespace)))


@functools.cache
def _reference(chapter, test, seed):
    return run(test, chapter.reference_namespace(), seed)


def reference(chapter, test, seed=None):
    """The reference's records of ``test`` (computed once per process and seed: plans are deterministic)."""
    return _reference(chapter, test, seed)


def judged(test, got, expected, seed=None):
    """Judge every case of ``test``: a :class:`Judged` (the records ``got`` against the reference's)."""
    cases = test.cases(seed)
    for case in got:
        for value in case.values():
            if isinstance(value, probe.Raised) and value.is_a("NameError") and f"'{test.answer}'" in value.message:
                return Judged(len(cases), N_(f"not found: define `{test.signature}` (no {test.answer!r} in the "
                                             "notebook)"))
    if len(got) != len(cases):
        return Judged(len(cases), N_(f"{test.answer}: the hidden checks did not all run ({len(got)} of {len(cases)} "
                                  f"case(s) recorded); define `{test.signature}` and let the test cell run to its end"))
    found = []
    for index, (case, got_case, expected_case) in enumerate(zip(cases, got, expected, strict=True)):
        try:
            case.judge(got_case, expected_case)
        except Fail as failure:
            found.append(Failure(index, case.label, str(failure)))
        except Exception as err:  # noqa: BLE001 - records the judge did not foresee: a failure, not a crash
            found.append(Failure(index, case.label, N_(f"{case.label}: unexpected result ({type(err).__name__}: "
                                                    f"{str(err)[:200]})")))
    return Judged(len(cases), None, tuple(found))


def text(verdict, diagnoses=()):
    """The message of a failed test: every failing case, grouped by what explains it.

    ``diagnoses``: ``(line, cases)`` pairs, a diagnosis already worded for the student and the indices of the
    failing cases it explains (:func:`checks.mistakes.diagnose`). Cases no diagnosis explains come last. In
    each group the first cases are shown whole (what was checked, expected, got, what it takes), the others
    by their first line (which says what was expected and what came back). None when the test passed.
    """
    if verdict.problem is not None:
        return verdict.problem
    if not verdict.failures:
        return None
    by_case = {f.case: f for f in verdict.failures}
    groups, seen = [], set()
    for line, cases in diagnoses:
        members = [c for c in sorted(cases) if c in by_case]
        if members:
            groups.append((line, members))
            seen.update(members)
    rest = [c for c in sorted(by_case) if c not in seen]
    failing, total = len(by_case), verdict.cases
    head = (N_(f"{failing} of {total} checks fail.") if failing > 1 else N_(f"1 of {total} checks fails."))
    parts = [head]
    for line, members in groups:
        parts += [line, N_(f"It explains check(s) {_numbers(members)}:")]
        parts += _cases(members, by_case)
    if rest:
        if groups:
            parts.append(N_(f"No catalogued mistake explains check(s) {_numbers(rest)}:"))
        parts += _cases(rest, by_case)
    return "\n".join(parts)


def _cases(members, by_case):
    out = []
    for n, case in enumerate(members):
        failure = by_case[case]
        body = failure.message if n < FULL_MESSAGES else failure.summary
        out.append(f"[{case + 1}] " + body.replace("\n", "\n    "))
    return out


def _numbers(cases):
    """1-based, with runs shortened: [0, 1, 2, 5] -> "1-3, 6"."""
    runs, start = [], None
    ordered = sorted(cases)
    for i, case in enumerate(ordered):
        if start is None:
            start = case
        if i + 1 == len(ordered) or ordered[i + 1] != case + 1:
            runs.append(f"{start + 1}" if start == case else f"{start + 1}-{case + 1}")
            start = None
    return ", ".join(runs)


def judge(test, got, expected, seed=None):
    """None when every case passes, else the message: every failing case (no diagnosis)."""
    return text(judged(test, got, expected, seed))

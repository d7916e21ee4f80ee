"""Verdicts: run a test's plans, compare with the reference, and say what the student did wrong.

The same functions decide a grade everywhere: in the grading parent (on records a kernel sent),
under plain ``nbgrader autograde`` (on records of an in-process run, :func:`checks.check`)
and in the test suite (on the records of catalogued mistakes).
"""

import functools
import warnings

from checks import probe
from checks.judge import Fail
from checks.spec import Result


def results(cases):
    """Decoded records (a list per case) as :class:`~checks.spec.Result` s."""
    return [Result(case) for case in cases]


def run(test, namespace):
    """The records of ``test``'s plans run in this process against ``namespace``, as the grader reads them.

    Warnings stay quiet: a catalogued mistake dividing by zero must not print in the grading parent.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return results(probe.roundtrip(probe.run_plans(test.plans(), namespace)))


@functools.cache
def _reference(chapter, test):
    return run(test, chapter.reference_namespace())


def reference(chapter, test):
    """The reference's records of ``test`` (computed once per process: plans are deterministic)."""
    return _reference(chapter, test)


def judge(test, got, expected):
    """None when every case passes, else the message of the first failing case."""
    cases = test.cases()
    for case in got:
        for value in case.values():
            if isinstance(value, probe.Raised) and value.is_a("NameError") and f"'{test.answer}'" in value.message:
                return f"not found: define `{test.signature}` (no {test.answer!r} in the notebook)"
    if len(got) != len(cases):
        return (f"{test.answer}: the hidden checks did not all run ({len(got)} of {len(cases)} case(s) "
                f"recorded); define `{test.signature}` and let the test cell run to its end")
    for case, got_case, expected_case in zip(cases, got, expected, strict=True):
        try:
            case.judge(got_case, expected_case)
        except Fail as failure:
            return str(failure)
        except Exception as err:  # noqa: BLE001 - records the judge did not foresee: a failure, not a crash
            return f"{case.label}: unexpected result ({type(err).__name__}: {str(err)[:200]})"
    return None

"""The course's hidden tests under plain nbgrader and nbval: ``check("test_x")`` in a test cell.

The hidden region of every graded test cell in ``exercises/source`` is one call::

    from solutions.checks import check
    check("test_min_max_scale")

Under plain ``nbgrader autograde`` (and nbval) that call runs the test's plans on the notebook's
namespace and on the reference in the same process and raises ``AssertionError`` with the student's
message. The course's grader never lets that code into the kernel: it replaces the region by a call
of the probe (:mod:`checks.probe`), receives the records, and judges them outside the student's
process with the same :mod:`checks.verdict` functions. One source of tests, two runners.
"""

import sys

from checks import verdict
from solutions.chapters import find_test


def check(test_id):
    """Judge the notebook's answer for graded test ``test_id`` in-process (plain nbgrader, nbval)."""
    chapter, test = find_test(test_id)
    namespace = sys._getframe(1).f_globals
    message = verdict.judge(test, verdict.run(test, namespace), verdict.reference(chapter, test))
    if message is not None:
        raise AssertionError(message)

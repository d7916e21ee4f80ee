"""pytest plugin: how tests spread over the xdist workers (``--dist loadgroup``).

Kept together on one worker: the cells of one notebook (nbval runs them in order in one kernel) and
the tests of one autograder module (they share a class graded once per module). Everything else, the
parametrized checks of every chapter's declaration and catalogue above all, is spread one by one, so
that no file's hundreds of cases queue on a single worker.
"""

import pytest

SPREAD = ("tests/test_checks.py", "tests/test_solutions_")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(items):
    for item in items:
        path = item.nodeid.split("::")[0]
        if not path.startswith(SPREAD):
            item.add_marker(pytest.mark.xdist_group(path))

"""Checks that a released notebook gives away nothing the student must not see.

A release leaks when it contains solution code, hidden tests, an import of the
reference package ``solutions``, nbgrader markers, or stored outputs. The markers are the
course's (:class:`~autograder.course.markers.Markers`, read from its nbgrader config).
"""

import re

from autograder.course.markers import Markers

SOLUTIONS_IMPORT = re.compile(r"^\s*(from\s+solutions[\s.]|import\s+solutions\b)|import_module\(\s*['\"]solutions",
                              re.MULTILINE)


def secret_lines(text, markers=None):
    """Code lines that stand only inside SOLUTION or HIDDEN TESTS regions of ``text``.

    Blank lines and comments are ignored, and so is a line that also stands outside
    the regions (a visible test's ``X_before = X.copy()`` is public).
    """
    markers = markers or Markers.of()
    inside, public = [], set()
    in_region = False
    for line in text.splitlines():
        if markers.opens(line):
            in_region = True
        elif markers.closes(line):
            in_region = False
        elif line.strip() and not line.strip().startswith("#"):
            (inside.append if in_region else public.add)(line.strip())
    return [line for line in inside if line not in public]


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _name(index, cell):
    grade_id = _grade_id(cell)
    return f"cell {index}" + (f" ({grade_id})" if grade_id else "")


def find_leaks(source, released, markers=None):
    """Return a list of human-readable problems with ``released`` (empty when clean).

    Parameters
    ----------
    source, released : nbformat.NotebookNode
        The instructor notebook and the student version generated from it.
    markers : Markers, optional
        The course's nbgrader markers (nbgrader's defaults when not given).
    """
    markers = markers or Markers.of()
    problems = []
    secret = {_grade_id(cell): secret_lines(cell.source, markers) for cell in source.cells if _grade_id(cell)}
    released_ids = set()
    for index, cell in enumerate(released.cells):
        where = _name(index, cell)
        released_ids.add(_grade_id(cell))
        for marker in markers.all:
            if marker in cell.source:
                problems.append(f"{where}: nbgrader marker '{marker}' left in the release")
        if SOLUTIONS_IMPORT.search(cell.source):
            problems.append(f"{where}: imports the reference package 'solutions'")
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            problems.append(f"{where}: has stored outputs")
        released_lines = {line.strip() for line in cell.source.splitlines()}
        for line in secret.get(_grade_id(cell), []):
            if line in released_lines:
                problems.append(f"{where}: contains solution or hidden-test line {line!r}")
    for grade_id in sorted(set(secret) - released_ids):
        problems.append(f"graded cell {grade_id!r} of the source is missing from the release")
    return problems

"""What the grader reads from a source notebook: the reference answers, and the version a kernel may see."""

import functools
import json
from pathlib import Path

import nbformat

from autograder.course.config import course_config
from autograder.course.markers import Markers


def reference_answers(source_path, config=None):
    """grade_id -> the source's answer cell without its solution markers (what a correct student writes).

    Read once per file version; ``config`` (the course's nbgrader Config, default: read next to
    ``source/``) gives the markers.
    """
    path = Path(source_path).resolve()
    markers = Markers.of(config if config is not None else course_config(path.parent.parent))
    return dict(_answers(path, path.stat().st_mtime_ns, markers))


@functools.cache
def _answers(path, _version, markers):
    nb = json.loads(path.read_text(encoding="utf-8"))
    found = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and cell["cell_type"] == "code":
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            found[meta["grade_id"]] = markers.without_solution_markers(source)
    return tuple(found.items())


def with_answers(release_nb, answers):
    """A copy of the student version with the given answer cells filled in (grade_id -> code)."""
    nb = nbformat.from_dict(json.loads(json.dumps(release_nb)))
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers and cell.metadata.nbgrader.get("solution"):
            cell.source = answers[grade_id].strip("\n")
    return nb


def probe_call(grade_id):
    """What a test cell's hidden region becomes in the grading kernel."""
    return f"__autograder__.check({grade_id!r})  # hidden tests: run by the grader, judged outside this kernel"


def kernel_source(source_nb, markers=None):
    """The source notebook as the kernel may see it: each hidden region removed, the probe call put
    first in its test cell (so the checks record even when a visible assert fails after them, and a
    wrong answer can be diagnosed)."""
    markers = markers or Markers.of()
    nb = nbformat.from_dict(json.loads(json.dumps(source_nb)))
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            visible = markers.hidden_region.sub("", cell.source).rstrip()
            cell.source = probe_call(meta["grade_id"]) + "\n" + visible
    return nb

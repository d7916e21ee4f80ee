"""nbgrader configuration of the course (this folder is the course root)."""

import os
import sys

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

ROOT = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.root = ROOT
c.CourseDirectory.course_id = "normalization-regularization"
# nbgrader runs the `alembic` command of its own environment when it creates or upgrades a gradebook (e.g. the first
# `nbgrader generate_assignment` or `nbgrader db ...`): with that environment's bin/ on PATH, `.venv/bin/nbgrader`
# works without activating the venv.
BIN = os.path.dirname(sys.executable)  # first on PATH, once: nbgrader may load this file often
REST = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p not in ("", BIN)]
os.environ["PATH"] = os.pathsep.join([BIN, *REST])
# Plain `nbgrader autograde` (and nbval) run each hidden test's `check(...)` in the kernel, which imports
# `solutions`: run them with the repository on PYTHONPATH (`make` exports it). The course's grader does not
# (its kernels see no repository; the checks are judged outside them).
# The cell timeout is the grader's default --cell-timeout, declared once in autograder/common/records.py.
if os.path.dirname(ROOT) not in sys.path:  # loaded many times in one process: once
    sys.path.insert(0, os.path.dirname(ROOT))
from autograder.common.records import Limits  # noqa: E402

c.ExecutePreprocessor.timeout = int(Limits.cell_timeout)
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.enforce_metadata = True

"""pytest plugin: notebook execution times against each notebook's budget.

nbval runs a notebook as one test item per cell; this plugin adds the cells up per
notebook, prints a table at the end, and fails the run when a notebook exceeds the
``course.budget_seconds`` in its metadata (exercise notebooks default to 20 s).
With pytest-xdist the workers share the cores, so the budget is multiplied by the
number of workers.
"""

import json
import os
from collections import defaultdict
from pathlib import Path

DEFAULT_EXERCISE_BUDGET = 20.0

_seconds = defaultdict(float)


def _budget(path):
    meta = json.loads(Path(path).read_text(encoding="utf-8")).get("metadata", {})
    budget = meta.get("course", {}).get("budget_seconds")
    if budget is None and "exercises" in Path(path).parts:
        budget = DEFAULT_EXERCISE_BUDGET
    return budget


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _seconds[path] += report.duration


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _seconds:
        return
    workers = getattr(config.option, "numprocesses", None) or 1
    workers = workers if isinstance(workers, int) else os.cpu_count()
    over = []
    terminalreporter.section("notebook execution times")
    for path in sorted(_seconds):
        budget = _budget(path)
        limit = None if budget is None else budget * workers
        status = "" if limit is None else ("OVER BUDGET" if _seconds[path] > limit else "ok")
        terminalreporter.write_line(f"{_seconds[path]:7.1f} s  budget {budget or '-':>4} s  {status:11} {path}")
        if status == "OVER BUDGET":
            over.append(path)
    if over:
        terminalreporter.write_line(f"over budget: {', '.join(over)}", red=True)
        terminalreporter._session.exitstatus = 1

"""pytest plugin: notebook execution times against each notebook's time budget.

nbval runs a notebook as one test item per cell; this plugin adds the cells up per notebook and
prints a table at the end. Budgets: a narrative notebook's ``course.budget_seconds`` metadata, an
exercise's ``budget_seconds`` in its chapter declaration (``solutions/chapters``). With pytest-xdist
the workers share the cores, so a budget is multiplied by the number of workers. A busy machine must
not fail CI: a notebook over its budget is reported; the run fails only beyond
:data:`FAIL_FACTOR` times the budget, which no load explains.
"""

import json
import os
from collections import defaultdict
from pathlib import Path

FAIL_FACTOR = 3.0

_seconds = defaultdict(float)


def _budget(path):
    parts = Path(path).parts
    if "exercises" in parts:
        from solutions.chapters import all_chapters

        chapter = next((c for c in all_chapters() if c.id in parts), None)
        return chapter.budget_seconds if chapter else None
    meta = json.loads(Path(path).read_text(encoding="utf-8")).get("metadata", {})
    return meta.get("course", {}).get("budget_seconds")


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _seconds[path] += report.duration


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _seconds:
        return
    workers = getattr(config.option, "numprocesses", None) or 1
    workers = workers if isinstance(workers, int) else os.cpu_count()
    failed = []
    terminalreporter.section("notebook execution times")
    for path in sorted(_seconds):
        budget = _budget(path)
        limit = None if budget is None else budget * workers
        status = ""
        if limit is not None:
            status = "ok" if _seconds[path] <= limit else "over budget" if _seconds[path] <= FAIL_FACTOR * limit \
                else "FAR OVER BUDGET"
        terminalreporter.write_line(f"{_seconds[path]:7.1f} s  budget {budget or '-':>4} s  {status:15} {path}")
        if status == "FAR OVER BUDGET":
            failed.append(path)
    if failed:
        terminalreporter.write_line(f"more than {FAIL_FACTOR:g}x over budget: {', '.join(failed)}", red=True)
        terminalreporter._session.exitstatus = 1

"""Helpers to load, edit and execute the course notebooks in tests."""

import copy
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from coursebook.paths import COURSE_ROOT, REPO

HIDDEN_REGION = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?", re.S | re.M)


def nbgrader_meta(cell):
    return cell.metadata.get("nbgrader", {})


def answer_cells(nb):
    """grade_id -> cell for every answer cell (nbgrader ``solution: true``)."""
    return {nbgrader_meta(c)["grade_id"]: c for c in nb.cells if nbgrader_meta(c).get("solution")}


def test_cells(nb):
    """grade_id -> cell for every graded test cell (nbgrader ``grade: true`` code cells)."""
    return {nbgrader_meta(c)["grade_id"]: c for c in nb.cells
            if nbgrader_meta(c).get("grade") and c.cell_type == "code"}


def kernel_env(with_repo=True):
    """Environment for a kernel of this interpreter, with or without the repo on its path.

    Hidden tests import `solutions` from the repo; visible tests must pass without it.
    """
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(REPO) if with_repo else ""
    return env


def execute(nb, cwd, timeout=120, with_repo=True):
    """Execute ``nb`` in a fresh kernel; errors are recorded in the outputs, not raised."""
    client = NotebookClient(nb, timeout=timeout, allow_errors=True, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd)}})
    client.execute(env=kernel_env(with_repo))
    return nb


class KernelSession:
    """A running kernel that executes the cells of one notebook on demand, in folder ``cwd``.

    The mutant tests share a session per chapter: a mutant re-runs the notebook from its answer
    cell to the end instead of starting a kernel and importing torch again (about 10x faster).
    Call ``close`` when done.
    """

    def __init__(self, nb, cwd, timeout=120, with_repo=True):
        # a copy: nbclient writes each executed cell back into its notebook
        self.nb = nbformat.v4.new_notebook(metadata=nb.metadata, cells=[copy.deepcopy(c) for c in nb.cells])
        self.client = NotebookClient(self.nb, timeout=timeout, allow_errors=True, interrupt_on_timeout=True,
                                     kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
        self._kernel = self.client.setup_kernel(env=kernel_env(with_repo))
        self._kernel.__enter__()

    def run(self, index, source):
        """Execute ``source`` as cell ``index`` of the notebook; the error text or None."""
        cell = copy.deepcopy(self.nb.cells[index])
        cell.source, cell.outputs = source, []
        done = self.client.execute_cell(cell, index)
        errors = [f"{o['ename']}: {o['evalue']}" for o in done.outputs if o.get("output_type") == "error"]
        return errors[0] if errors else None

    def close(self):
        self._kernel.__exit__(None, None, None)


def errors_by_grade_id(nb):
    """grade_id (or cell index) -> error text for every cell that raised."""
    errors = {}
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                key = nbgrader_meta(cell).get("grade_id", index)
                errors[key] = f"{out['ename']}: {out['evalue']}"
    return errors


def strip_hidden_tests(nb):
    for cell in test_cells(nb).values():
        cell.source = HIDDEN_REGION.sub("", cell.source)
    return nb


def read(path):
    return nbformat.read(Path(path), as_version=4)


def copy_course(dst):
    """Copy the nbgrader course root (sources and config only) to ``dst``: tests release there."""
    shutil.copytree(COURSE_ROOT, dst, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("release", "autograded", "submitted", "feedback", "*.db"))
    return dst


def executed_page(path):
    """A book page with its outputs: from the book's jupyter-cache when its code is cached there (``make book``
    and nbval fill it), else executed now in ``book/``."""
    nb = read(path)
    cache = REPO / "_build" / ".jupyter_cache"
    if cache.is_dir():
        from jupyter_cache import get_cache

        try:
            _, merged = get_cache(str(cache)).merge_match_into_notebook(nb)
            return merged
        except KeyError:  # not cached (or its code changed since)
            pass
    return execute(nb, Path(path).resolve().parent, timeout=600, with_repo=False)

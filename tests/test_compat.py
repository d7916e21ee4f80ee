"""Each override of a pinned library's private parts (``autograder/compat``) still matches the installed version.

A test fails when an upgrade changes what an override relies on: the version assertions, and per
library the private names and call sites the override hooks into, or the behaviour it reproduces.
"""

import concurrent.futures as cf
import inspect
import multiprocessing as mp

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograder.compat import UnsupportedVersion, require


def test_a_version_other_than_the_pinned_one_is_refused():
    require("nbclient", "0.11")
    with pytest.raises(UnsupportedVersion, match="autograder/compat"):
        require("nbclient", "0.10")
    with pytest.raises(UnsupportedVersion):
        require("nbgrader", "0.90")  # a prefix of the version string is not a release series


def test_nbgrader_schema_version_shortcut_equals_alembic():
    from nbgrader.api import get_alembic_version

    from autograder.compat.nbgrader import alembic_head, speed_up_schema_version

    speed_up_schema_version()
    original = getattr(get_alembic_version, "__wrapped__", None) or get_alembic_version
    assert alembic_head() == original()


def test_nbgrader_save_auto_grades_on_an_open_gradebook_records_what_nbgrader_records(tmp_path):
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import SaveAutoGrades
    from traitlets.config import Config

    from autograder.compat.nbgrader import SaveAutoGradesOnOpenGradebook
    from autograder.course.config import register
    from tests.autograder_fixtures import tiny

    source = tiny.source_notebook()
    graded = nbformat.from_dict(nbformat.reads(nbformat.writes(source), as_version=4))
    tests = [c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade")]
    tests[0].outputs = [new_output("error", ename="AssertionError", evalue="wrong", traceback=[])]
    recorded = []
    for name, save in (("ours", lambda gb, url, res: SaveAutoGradesOnOpenGradebook(gb).preprocess(graded, res)),
                       ("nbgrader's", lambda gb, url, res: SaveAutoGrades().preprocess(
                           graded, {"nbgrader": {**res["nbgrader"], "db_url": url}}))):
        url = f"sqlite:///{tmp_path / name}.db"
        register(url, tiny.ASSIGNMENT, source, Config())
        with Gradebook(url) as gb:
            gb.update_or_create_student("ann")
            gb.update_or_create_submission(tiny.ASSIGNMENT, "ann")
            save(gb, url, {"nbgrader": {"notebook": tiny.ASSIGNMENT, "assignment": tiny.ASSIGNMENT, "student": "ann"}})
        with Gradebook(url) as gb:
            notebook = gb.find_submission_notebook(tiny.ASSIGNMENT, tiny.ASSIGNMENT, "ann")
            recorded.append(sorted((g.name, g.auto_score, g.needs_manual_grade) for g in notebook.grades))
    assert recorded[0] == recorded[1] and any(score == 0 for _n, score, _m in recorded[0])


def test_nbconvert_exporter_without_beautifulsoup_renders_what_html_exporter_renders():
    from nbconvert.exporters import HTMLExporter

    from autograder.compat.nbconvert import FastHTMLExporter

    nb = new_notebook(cells=[new_markdown_cell("# Title with $x^2$"), new_code_cell("print(1)", outputs=[
        new_output("stream", name="stdout", text="1\n")])])
    ours, _ = FastHTMLExporter().from_notebook_node(nb)
    theirs, _ = HTMLExporter().from_notebook_node(nb)
    # the only difference is nbconvert's final pass, done here as nbconvert 7 does it
    soup = BeautifulSoup(ours, features="html.parser")
    for elem in soup.select(".jp-Notebook div.jp-Cell-inputWrapper, .jp-Notebook div.jp-OutputArea-output"):
        elem.attrs["tabindex"] = "0"
    assert str(soup) == theirs


def test_nbclient_hooks_are_where_the_executor_overrides_them():
    from nbclient import NotebookClient

    assert "self._get_timeout(cell)" in inspect.getsource(NotebookClient.async_execute_cell)
    assert "self._async_handle_timeout(timeout, cell)" in inspect.getsource(NotebookClient._async_poll_for_reply)
    assert "atexit.register(self._cleanup_kernel)" in inspect.getsource(NotebookClient.async_setup_kernel)
    assert list(inspect.signature(NotebookClient._async_handle_timeout).parameters) == ["self", "timeout", "cell"]


def test_jupyter_client_internals_the_kernel_start_relies_on():
    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.provisioning import LocalProvisioner

    assert AsyncKernelClient.wait_for_ready is AsyncKernelClient._async_wait_for_ready
    assert callable(AsyncKernelClient._handle_kernel_info_reply)
    assert "await self._async_pre_start_kernel(" in inspect.getsource(AsyncKernelManager._async_start_kernel)
    assert "self._kernel_spec" in inspect.getsource(AsyncKernelManager.kernel_spec.fget)
    for method in (LocalProvisioner.poll, LocalProvisioner.kill, LocalProvisioner.send_signal):
        assert "self.process" in inspect.getsource(method), method
    from jupyter_client.client import KernelClient

    for name in ("iopub", "shell"):  # replace_channel: the property returns the private attribute once set
        source = inspect.getsource(getattr(KernelClient, f"{name}_channel").fget)
        assert f"if self._{name}_channel is None:" in source and f"return self._{name}_channel" in source


def _pid():
    import os

    return os.getpid()


def test_process_pool_workers_are_found_and_killed():
    from autograder.compat.futures import kill_workers

    executor = cf.ProcessPoolExecutor(1, mp_context=mp.get_context("fork"))
    try:
        pid = executor.submit(_pid).result(timeout=60)
        processes = list(executor._processes.values())
        assert [p.pid for p in processes] == [pid]
        kill_workers(executor)
        processes[0].join(10)
        assert processes[0].exitcode == -9
    finally:
        executor.shutdown(wait=False, cancel_futures=True)

"""Fast checks of the autograder's pieces (no kernel): discovery, notebook reading, layout repair,
records and verdicts, classification, feedback leaks."""

import codecs
import json
import os
import unicodedata
import zipfile

import nbformat
import pytest

from autograder.common.records import KernelRun, Limits, Status
from autograder.execution import layout, notebook_io, submissions
from autograder.grading import classify, feedback, gradebook, judging, master
from checks import probe
from tests.autograder_fixtures import tiny, tiny_chapter

# -- submissions ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a/../../x", "C:/x", "C:\\x", "\\\\server\\x", "a\x00b"])
def test_unsafe_zip_members_are_refused(name):
    with pytest.raises(submissions.UsageError):
        submissions.check_zip_member(name)


@pytest.mark.parametrize("name", ["ann/99-tiny/99-tiny.ipynb", "Zoë Å/99-tiny/x..y.ipynb", "a/./b"])
def test_safe_zip_members_pass(name):
    assert submissions.check_zip_member(name)


def test_zip_bomb_is_refused_before_extraction(tmp_path, monkeypatch):
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ann/99-tiny/99-tiny.ipynb", "0" * 5000)
    monkeypatch.setattr(submissions, "MAX_ZIP_MEMBER", 1000)
    with pytest.raises(submissions.UsageError, match="larger than"):
        submissions.extract_zip(archive, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_latest_timestamp_wins_across_layouts_and_unicode_forms(tmp_path):
    nb = tiny.student_notebook()
    tiny.write(tmp_path, "ann", notebook=nb, timestamp="2026-01-01 10:00:00 UTC")
    tiny.write(tmp_path, "ann", notebook=nb, folder=f"ann+{tiny.ASSIGNMENT}+2026-01-03 10:00:00.000000 UTC+abc123")
    tiny.write(tmp_path, "ann", notebook=nb, folder=f"ann+{tiny.ASSIGNMENT}+2026-01-02 10:00:00.000000 UTC")
    tiny.write(tmp_path, unicodedata.normalize("NFD", "Zoë"), notebook=nb, timestamp="2026-01-05 10:00:00 UTC")
    tiny.write(tmp_path, "Zoë", notebook=nb, timestamp="2026-01-04 10:00:00 UTC")
    found = {s.student_id: s for s in submissions.discover(tmp_path, [tiny.ASSIGNMENT])}
    assert sorted(found) == ["Zoë", "ann"]
    assert found["ann"].folder.name.endswith("+abc123")
    assert "submitted 3 times" in found["ann"].notes[0]
    assert str(found["Zoë"].timestamp) == "2026-01-05 10:00:00"


def test_renamed_notebook_prefers_the_one_with_the_assignment_cells(tmp_path):
    folder = tiny.write(tmp_path, "ann", notebook=tiny.student_notebook(), name="99-tiny (2).ipynb")
    nbformat.write(nbformat.v4.new_notebook(), str(folder / "scratch.ipynb"))
    os.utime(folder / "scratch.ipynb", (2e9, 2e9))  # newer, but without the assignment's cells
    path, note = submissions.find_notebook(folder, tiny.ASSIGNMENT, ["test_min_max_scale_tiny"])
    assert path.name == "99-tiny (2).ipynb" and "1 other notebook" in note


def test_hidden_and_wrapper_folders(tmp_path):
    tiny.write(tmp_path / "export" / "submitted", "ann", notebook=tiny.student_notebook())
    (tmp_path / "export" / "submitted" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "export" / "submitted" / "__MACOSX").mkdir()
    found = submissions.discover(tmp_path / "export", [tiny.ASSIGNMENT])
    assert [s.student_id for s in found] == ["ann"]


# -- notebook reading ------------------------------------------------------------------------


def _nb_bytes(encoding="utf-8"):
    return nbformat.writes(tiny.student_notebook(tiny.CORRECT + "\n# naïve café")).encode(encoding)


@pytest.mark.parametrize("raw, note", [
    (_nb_bytes(), None),
    (codecs.BOM_UTF8 + _nb_bytes(), None),
    (codecs.BOM_UTF16_LE + _nb_bytes("utf-16-le"), "UTF-16"),
    (_nb_bytes("latin-1"), "not UTF-8"),
])
def test_encodings(raw, note):
    nb, notes = notebook_io.parse(raw)
    assert "naïve café" in nb.cells[2].source
    assert (note is None and notes == []) or any(note in n for n in notes)


@pytest.mark.parametrize("raw, message", [
    (b"", "empty file"), (b"   \n", "empty file"), (b"{", "not JSON"), (b"[1, 2]", "no 'nbformat'"),
    (b'{"nbformat": 2, "cells": []}', "unsupported nbformat 2"),
    (b'{"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": []}', "no cells"),
    (b'{"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [{"cell_type": "code"}]}', "not a valid"),
    (b"[" * 100000 + b"]" * 100000, "not JSON"),
])
def test_invalid_notebooks(raw, message):
    with pytest.raises(notebook_io.InvalidNotebook, match=message):
        notebook_io.parse(raw)


# -- discovery: links and ids ----------------------------------------------------------------


def test_symbolic_links_are_never_followed(tmp_path):
    tiny.write(tmp_path, "victim", notebook=tiny.student_notebook())
    folder = tiny.write(tmp_path, "linker")
    (folder / f"{tiny.ASSIGNMENT}.ipynb").symlink_to(tmp_path / "victim" / tiny.ASSIGNMENT / "99-tiny.ipynb")
    (tmp_path / "folder_linker").mkdir()
    (tmp_path / "folder_linker" / tiny.ASSIGNMENT).symlink_to(tmp_path / "victim" / tiny.ASSIGNMENT)
    (tmp_path / "student_linker").symlink_to(tmp_path / "victim")
    found = {s.student_id: s for s in submissions.discover(tmp_path, [tiny.ASSIGNMENT])}
    assert found["victim"].invalid == "" and found["victim"].read()
    for student in ("linker", "folder_linker", "student_linker"):
        assert "symbolic link" in found[student].invalid, student
        assert found[student].read() is None
    with pytest.raises(OSError):
        submissions.read_regular_file(folder / f"{tiny.ASSIGNMENT}.ipynb")


def test_zip_symbolic_link_entries_are_not_materialized(tmp_path):
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo(f"ann/{tiny.ASSIGNMENT}/{tiny.ASSIGNMENT}.ipynb")
        info.external_attr = (0o120777 << 16)  # a symbolic link entry
        zf.writestr(info, "/etc/passwd")
    root = submissions.extract_zip(archive, tmp_path / "x")
    (sub,) = submissions.discover(root, [tiny.ASSIGNMENT])
    assert "symbolic link" in sub.invalid


@pytest.mark.parametrize("student, problem", [("x" * 129, "129 characters"), ("bad\x07bell", "control"),
                                              ("ok name", None), ("Zoë", None)])
def test_student_ids_the_gradebook_cannot_hold(student, problem):
    found = submissions.id_problem(student)
    assert (found is None) if problem is None else (problem in found)


# -- layout: grade by names ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_master(tmp_path_factory, monkeypatch_module):
    source = tiny.make_course(tmp_path_factory.mktemp("course")) / tiny.ASSIGNMENT / f"{tiny.ASSIGNMENT}.ipynb"
    return master.build(tiny_chapter.CHAPTER, source, gradebook.file_sha(source))


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def _prepare(nb, mst):
    return layout.prepare(nbformat.writes(nb).encode(), mst, mst.kernel_nb_json, "ann")


def test_a_pristine_notebook_keeps_nbgraders_order(tiny_master):
    nb, notes, repairs = _prepare(tiny.student_notebook(), tiny_master)
    assert repairs == [] and notes == []
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    assert ids == [None, "setup", "min_max_scale", "test_min_max_scale_tiny", "test_min_max_scale_tiny_range"]
    test = nb.cells[3].source
    assert test.startswith("__autograder__.check('test_min_max_scale_tiny')") and "check(\"" not in test
    assert "HIDDEN_MARKER" not in nbformat.writes(nb)


@pytest.mark.parametrize("edit, repair", [
    (lambda nb: nb.cells.pop(3), "test_min_max_scale_tiny were missing"),
    (lambda nb: nb.cells.insert(2, nb.cells.pop(3)), "run after all of the notebook's code"),
    (lambda nb: [c.metadata.pop("nbgrader", None) for c in nb.cells], "were missing"),
    (lambda nb: nb.cells.pop(1), "setup cell(s) setup missing"),
])
def test_a_messy_notebook_is_repaired_by_names(tiny_master, edit, repair):
    nb = tiny.student_notebook()
    edit(nb)
    prepared, _notes, repairs = _prepare(nb, tiny_master)
    assert any(repair in r for r in repairs), repairs
    sources = [c.source for c in prepared.cells if c.cell_type == "code"]
    answer = next(i for i, s in enumerate(sources) if s.startswith("def min_max_scale"))
    tests = [i for i, s in enumerate(sources) if s.startswith("__autograder__.check(")]
    assert len(tests) == 2 and min(tests) > answer  # every test after the answer it needs
    assert sources[0] == "import numpy as np"


def test_a_fresh_notebook_with_only_the_function_gets_setup_and_tests(tiny_master):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(tiny.CORRECT)])
    prepared, _notes, repairs = _prepare(nb, tiny_master)
    assert len(repairs) == 2
    assert [c.metadata.get("nbgrader", {}).get("grade_id") for c in prepared.cells] == [
        "setup", None, "test_min_max_scale_tiny", "test_min_max_scale_tiny_range"]


# -- records and verdicts ---------------------------------------------------------------------------


def _run(records, notebook=""):
    return KernelRun("ann", "99-tiny", notebook=notebook or None, records=records)


TINY_ANSWERS = {"min_max_scale": tiny.CORRECT}  # the tiny chapter has no catalogue: nothing is diagnosed


def _records(test_id, namespace):
    from checks import verdict  # noqa: F401 - the probe and the plans of the test

    test = tiny_chapter.CHAPTER.test(test_id)
    cases = probe.run_plans(test.plans(), namespace)
    return [__import__("json").dumps({"test": test_id, "cases": cases})]


def test_records_decide_and_forgeries_fail():
    ns = {"np": __import__("numpy")}
    exec(tiny.CORRECT, ns)
    good = {"test_min_max_scale_tiny": _records("test_min_max_scale_tiny", ns),
            "test_min_max_scale_tiny_range": _records("test_min_max_scale_tiny_range", ns)}
    verdicts = judging.judge(_run(good), tiny_chapter.CHAPTER, TINY_ANSWERS)
    assert all(v.message is None for v in verdicts.values())
    forged = {
        "missing": {},
        "twice": {g: texts * 2 for g, texts in good.items()},
        "another test's": {"test_min_max_scale_tiny": good["test_min_max_scale_tiny_range"]},
        "not JSON": {"test_min_max_scale_tiny": ["{"]},
        "pickled": {"test_min_max_scale_tiny": ['{"test": "test_min_max_scale_tiny", "cases": '
                                                '[[{"label": "result", "value": {"$": "pickle", "data": "gASV"}}]]}']},
        "fewer cases": {"test_min_max_scale_tiny": ['{"test": "test_min_max_scale_tiny", "cases": []}']},
    }
    for name, records in forged.items():
        verdict = judging.judge(_run(records), tiny_chapter.CHAPTER, TINY_ANSWERS)["test_min_max_scale_tiny"]
        assert verdict.message, name


def test_an_answer_left_as_released_is_not_answered_rather_than_undiagnosed():
    test_id = "test_min_max_scale_tiny"
    stub, missing, wrong = {"np": __import__("numpy")}, {}, {"np": __import__("numpy")}
    exec("def min_max_scale(X, feature_range=(0, 1)):\n    raise NotImplementedError()", stub)
    exec("def min_max_scale(X, feature_range=(0, 1)):\n    raise ValueError('not like this')", wrong)
    for namespace, expected in ((stub, True), (missing, True), (wrong, False)):
        run = _run({test_id: _records(test_id, namespace)})
        verdict = judging.judge(run, tiny_chapter.CHAPTER, TINY_ANSWERS)[test_id]
        assert verdict.message and verdict.unanswered is expected, (namespace.keys(), verdict)


# -- classification -----------------------------------------------------------------------------------


@pytest.mark.parametrize("facts, status, detail", [
    ({}, Status.OK, ""),
    ({"grader_error": "Traceback\nKeyError: x"}, Status.GRADER_ERROR, "not the student's fault"),
    ({"missing": True}, Status.MISSING_NOTEBOOK, "no notebook"),
    ({"invalid": "not JSON"}, Status.INVALID_NOTEBOOK, "not JSON"),
    ({"died_at": 3, "exit_code": 3}, Status.KERNEL_DIED, "status 3"),
    ({"died_at": 3, "exit_code": -11}, Status.KERNEL_DIED, "SIGSEGV"),
    ({"died_at": 3, "exit_code": 139}, Status.KERNEL_DIED, "SIGSEGV"),
    ({"died_at": 3, "oom_killed": True}, Status.MEMORY_LIMIT, "more than --memory-mb"),
    ({"died_at": 3, "cpu_limit": True}, Status.CELL_TIMEOUT, "CPU time"),
    ({"notebook_timeout": True, "unresponsive": 5, "died_at": 5}, Status.CELL_TIMEOUT, "--notebook-timeout"),
    ({"unresponsive": 2}, Status.CELL_TIMEOUT, "ignored the interrupt"),
    ({"memory_errors": (4,)}, Status.MEMORY_LIMIT, "MemoryError"),
    ({"timed_out": (4,)}, Status.CELL_TIMEOUT, "exceeded --cell-timeout"),
    ({"repairs": ("test cells moved",), "process_limit": True}, Status.OK, "repaired: test cells moved"),
])
def test_classify(facts, status, detail):
    got, text = classify.classify(KernelRun("ann", "99-tiny", **facts), Limits())
    assert got is status and detail in text, text


# -- feedback ---------------------------------------------------------------------------------


def test_feedback_leak_scan_finds_reference_text_in_restored_cells_and_outputs():
    nb = tiny.student_notebook()
    secrets = {"return low + (X - X.min(axis=0)) / span * (high - low)"}
    assert feedback.leaks(nb, secrets) == []  # in the student's own answer cell: theirs to write
    nb.cells[3].outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                  text="    return low + (X - X.min(axis=0)) / span * (high - low)\n")]
    assert feedback.leaks(nb, secrets) == sorted(secrets)


# -- feedback ---------------------------------------------------------------------------------


def test_feedback_strips_hidden_regions_and_their_tracebacks():
    nb = tiny.source_notebook()
    test = nb.cells[3]
    test.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="hidden check failed: 1 != 2",
                                           traceback=["  File cell, line 9", "    check(...)  # HIDDEN_MARKER_ALPHA"])]
    clean = feedback.without_hidden_tests(nb)
    text = nbformat.writes(clean)
    for marker in tiny.HIDDEN_MARKERS:
        assert marker not in text
    assert clean.cells[3].outputs[0]["traceback"] == ["AssertionError: hidden check failed: 1 != 2"]
    assert "each column (axis=0)" in clean.cells[3].source  # visible part kept
    assert "HIDDEN_MARKER_ALPHA" in nb.cells[3].source  # the input is not modified


def test_feedback_folds_the_visible_tests_traceback_under_the_verdict_and_escapes_it():
    """In a test cell the verdict (one line: "ename: evalue") stays as it is; the kernel's traceback goes into a
    <details> whose summary escapes the exception's name (a student's class may be called anything); an error
    of an answer cell is not folded. (Its look in Chromium: tests/test_feedback_browser.py.)"""
    test = nbformat.v4.new_code_cell("check()", metadata={"nbgrader": {
        "grade": True, "grade_id": "test_standardize", "points": 3, "solution": False, "locked": True}})
    answer = nbformat.v4.new_code_cell("def f(): ...", metadata={"nbgrader": {
        "grade": False, "grade_id": "standardize", "solution": True, "locked": False}})
    test.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="VERDICT_TEXT",
                                           traceback=["AssertionError: VERDICT_TEXT"]),
                    nbformat.v4.new_output("error", ename="<img src=x onerror=alert(1)>", evalue="boom",
                                           traceback=["Cell In[3], line 1", "KERNEL_TRACEBACK"])]
    answer.outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue="bad",
                                             traceback=["Cell In[2], line 1", "ANSWER_TRACEBACK"])]
    page = feedback.render(nbformat.v4.new_notebook(cells=[answer, test]), "01-normalization",
                           {"test_standardize": (0.0, 3.0)}, 3.0, "ok", "")
    folded = page[page.index("<details"):page.index("</details>")]
    assert page.count("<details") == 1 and "KERNEL_TRACEBACK" in folded
    assert "VERDICT_TEXT" not in folded and page.index("VERDICT_TEXT") < page.index("<details")
    assert "ANSWER_TRACEBACK" in page and "ANSWER_TRACEBACK" not in folded
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in folded


class _ScriptedEngine:
    """An engine whose job runs return the given KernelRuns in order (a fake of engines.LocalEngine)."""

    workers = 1

    def __init__(self, runs):
        self.runs, self.submitted = list(runs), 0

    def share(self, value):
        return value

    def submit(self, fn, *args):
        import concurrent.futures as cf

        future = cf.Future()
        future.set_result(self.runs[self.submitted])
        self.submitted += 1
        return future

    def wait(self, futures, timeout=1.0):
        return set(futures)

    def result(self, future):
        return future.result()


@pytest.mark.parametrize("failures", [1, 2, 3])
def test_a_kernel_that_did_not_start_is_tried_again_and_then_is_a_grader_error(monkeypatch, failures):
    import io
    import types

    from autograder.common.records import GradedRun, Job
    from autograder.common.retry import KERNEL_START, Retry
    from autograder.grading import scheduler

    monkeypatch.setattr(scheduler, "KERNEL_START", Retry(attempts=KERNEL_START.attempts))  # no waiting
    not_started = KernelRun("ann", "99-tiny", died_at=-1,
                            grader_error="the kernel did not start: RuntimeError(\"can't start new thread\")")
    ran = KernelRun("ann", "99-tiny", notebook="{}")
    # what a worker returns for a run it did not judge (the parent decides those itself)
    engine = _ScriptedEngine([GradedRun(run) for run in [not_started] * failures + [ran]])
    batch = types.SimpleNamespace(masters={"99-tiny": types.SimpleNamespace(tests=())}, log=io.StringIO(),
                                  limits=Limits())
    monkeypatch.setattr(scheduler.verdicts, "judging_of", lambda batch, aid: None)
    grader = scheduler.Grader(batch, engine, sandboxed=True)
    judged = []
    monkeypatch.setattr(grader, "_judge", lambda job, run: judged.append(run))
    grader.run([Job("ann", "99-tiny", b"{}", "99-tiny.ipynb", "sha", "", ())])
    attempts = min(failures + 1, KERNEL_START.attempts)
    assert engine.submitted == attempts
    # judged once: the run that started, or after the last allowed failure the last failure (a grader error)
    assert judged == [ran if failures < KERNEL_START.attempts else not_started]
    assert batch.log.getvalue().count("retrying ann/99-tiny") == attempts - 1


def test_a_sandbox_that_cannot_start_is_a_kernel_that_did_not_start(monkeypatch, tiny_master):
    """Without root a neighbour's fork bomb can hold every process of the shared uid while a worker first sets up
    its sandbox: no student code ran, so the run says so (died_at -1) and the scheduler tries it again later."""
    from autograder.common.records import Job
    from autograder.execution import worker
    from autograder.sandbox import bwrap

    def unavailable(_enabled):
        raise bwrap.SandboxUnavailable("bwrap: Creating new namespace failed: Resource temporarily unavailable")

    monkeypatch.setattr(worker._PROCESS, "sandbox", unavailable)
    notebook = nbformat.writes(tiny.student_notebook()).encode()
    run = worker.run_job(Job("ann", tiny.ASSIGNMENT, notebook, f"{tiny.ASSIGNMENT}.ipynb", "sha", "", ()),
                         tiny_master, Limits(), sandboxed=True)
    assert run.died_at == -1 and "Resource temporarily unavailable" in run.grader_error, run


def test_warnings_on_stderr_keep_a_test_cells_points_errors_do_not():
    """nbgrader scores a test cell with stderr 0; the grader scores errors and verdicts only."""
    from nbgrader import utils as nbutils

    from autograder.grading.decide import STDERR_HEADING, warnings_keep_points

    nb = tiny.source_notebook()
    test = nb.cells[3]
    warning = nbformat.v4.new_output("stream", name="stderr", text="RuntimeWarning: invalid value\n")
    test.outputs = [warning]
    assert nbutils.determine_grade(test)[0] == 0  # plain nbgrader
    kept = warnings_keep_points(nb)
    assert nbutils.determine_grade(kept.cells[3]) == (2.0, 2.0)
    assert kept.cells[3].outputs[0].data["text/plain"] == STDERR_HEADING + "RuntimeWarning: invalid value\n"
    nb.cells[3].outputs = [warning, nbformat.v4.new_output("error", ename="AssertionError", evalue="x", traceback=[])]
    assert nbutils.determine_grade(warnings_keep_points(nb).cells[3])[0] == 0
    answer = nb.cells[2]  # not a test cell: its stderr is left as it is
    answer.outputs = [warning]
    assert warnings_keep_points(nb).cells[2].outputs[0].output_type == "stream"


# -- the class report's grade matrix ------------------------------------------------------------


def test_report_matrix_lists_every_student_with_links_to_existing_feedback(tmp_path):
    """Every student of the class is a row (not only those of the last catalogued mistake), each cell shows
    the gradebook's score and links to that submission's feedback page when the page exists."""
    from datetime import datetime

    from autograder.grading import pages, report
    from checks import mistakes as catalogue
    from solutions.chapters import chapter as declared
    from tests.autograder_fixtures.cli import grade_matrix

    chapter = "01-normalization"
    made = [m.id for m in catalogue.catalogue(declared(chapter))][:2]
    rows = [{"student_id": sid, "assignment_id": chapter, "score": score, "max_score": 11.0, "status": status,
             "mistakes": mistake, "detail": "", "lost_tests": lost, "manual_tests": set(), "review": None,
             "repaired": False, "seconds_late": 0, "late_penalty": 0.0}
            for sid, score, status, mistake, lost in [
                ("ada", 11.0, "ok", "", set()), ("björn", 8.0, "ok", made[0], {"test_min_max_scale"}),
                ("chen li", 5.0, "ok", made[1], {"test_min_max_scale"}), ("dee", 0.0, "timeout", "", set()),
                ("x" * 200, 0.0, "invalid_notebook", "", set())]]
    for row in rows[:4]:  # the last id is no folder name: it has no page
        page = tmp_path / "feedback" / row["student_id"] / chapter / f"{chapter}.html"
        page.parent.mkdir(parents=True)
        page.write_text("feedback", encoding="utf-8")
    mistakes = report.mistake_table(rows)
    assert any(info["made"] for info in mistakes.values()), "the mistake loop must run for this test to mean much"
    figures = dict.fromkeys(("scores", "tests", "mistakes", "status"), "figure.png")
    model = report.view(rows, {}, mistakes, figures, datetime(2026, 1, 1), tmp_path)
    (tmp_path / "report.html").write_text(pages.render("report.html.j2", **model), encoding="utf-8")
    matrix = grade_matrix(tmp_path / "report.html")
    assert list(matrix) == [r["student_id"] for r in rows]
    for row in rows:
        text, linked = matrix[row["student_id"]][chapter]
        assert text.startswith(f"{row['score']:g} / 11"), (row["student_id"], text)
        assert (row["status"] in text) == (row["status"] != "ok"), text
        if len(row["student_id"]) < 100:
            assert linked == tmp_path / "feedback" / row["student_id"] / chapter / f"{chapter}.html", linked
            assert linked.is_file()
        else:
            assert linked is None


# -- hidden inputs drawn per batch ---------------------------------------------------------------


def test_the_batch_seed_is_drawn_once_per_gradebook_and_kept(tmp_path):
    """A new gradebook draws its own seed; the same gradebook (a rerun, a later resubmission) keeps it."""
    from traitlets.config import Config

    seeds = []
    for out, opens in (("a", 2), ("b", 1)):
        (tmp_path / out).mkdir()
        for _ in range(opens):
            with gradebook.open_gradebook(gradebook.default_db_url(tmp_path / out), Config()) as gb:
                seeds.append((gradebook.batch_seed(gb, "01-normalization"), gradebook.batch_seed(gb, "02-x")))
    (a1, a2), (a1_again, a2_again), (b1, _b2) = seeds
    assert (a1, a2) == (a1_again, a2_again), "a rerun on the same gradebook must meet the same hidden inputs"
    assert len({a1, a2, b1}) == 3, "each assignment and each gradebook draws its own seed"


def test_the_kernels_plans_are_the_batch_seeds(tmp_path):
    """The plans the kernel runs are drawn from the batch seed (the parent judges with the same seed): hidden
    inputs change with it, the visible cases do not."""
    from coursebook.paths import source_notebook
    from solutions.chapters import chapter as declared

    chapter = declared("01-normalization")
    path = source_notebook(chapter.id)
    fixed = json.loads(master.build(chapter, path, "sha").plans_json)
    drawn = json.loads(master.build(chapter, path, "sha", seed=987654321).plans_json)
    assert drawn == json.loads(json.dumps(chapter.plans(seed=987654321)))
    assert drawn != fixed


def test_a_preflight_success_holds_for_any_batch_seed_not_for_other_plans_or_limits():
    """Another gradebook (another seed) reuses a pre-flight success; changed declared plans, limits or source
    do not."""
    import dataclasses
    import types

    from autograder.grading import preflight
    from coursebook.paths import source_notebook
    from solutions.chapters import chapter as declared

    chapter = declared("01-normalization")
    path = source_notebook(chapter.id)
    engine = types.SimpleNamespace(name="local", describe=lambda: "2 local worker(s)")

    def key(seed, chapter=chapter, limits=None, sha="sha", preload=()):
        batch = types.SimpleNamespace(chapters={chapter.id: chapter}, limits=limits or Limits())
        return preflight.cache_key(batch, master.build(chapter, path, sha, seed=seed, preload=preload), True, engine)

    assert key(987654321) == key(123456789) == key(None)
    other_plans = dataclasses.replace(chapter, tests=chapter.tests[:-1])  # a declared test removed
    assert key(987654321, chapter=other_plans) != key(987654321)
    assert key(987654321, limits=Limits(cell_timeout=1.0)) != key(987654321)
    assert key(987654321, sha="other") != key(987654321)
    assert key(987654321, preload=master.TORCH_PRELOAD) != key(987654321)  # the kernel's memory differs


# -- half-written answers and the visible tests' tracebacks -------------------------------------------------


def test_a_partly_written_answer_is_judged_not_filed_as_unanswered():
    """Only the release's stub counts as "not answered"; code before a raise is the student's work."""
    stub = 'def standardize(X):\n    """Docstring."""\n    # YOUR CODE HERE\n    raise NotImplementedError()\n'
    partial = 'def standardize(X):\n    X = np.asarray(X, dtype=float)\n    raise NotImplementedError("not finished")\n'
    answered = "def standardize(X):\n    return X\n"

    def notebook(*sources):
        return nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources]))

    assert judging.stub_answers(notebook(stub), {"standardize"}) == {"standardize"}
    assert judging.stub_answers(notebook("x = 1"), {"standardize"}) == {"standardize"}  # never defined
    assert judging.stub_answers(notebook(partial), {"standardize"}) == set()
    assert judging.stub_answers(notebook(stub, answered), {"standardize"}) == set()  # the last definition counts
    assert judging.stub_answers(notebook(answered, stub), {"standardize"}) == {"standardize"}


def test_visible_tracebacks_keep_the_notebooks_frames_and_no_path_of_the_grading_machine():
    from autograder.grading import tracebacks

    venv = "/srv/grader/.venv/lib/python3.11/site-packages"
    error = nbformat.v4.new_output("error", ename="AssertionError", evalue=f"Not equal ({venv}/numpy/x.py)", traceback=[
        "\x1b[0;31m----\x1b[0m\n\x1b[0;31mAssertionError\x1b[0m  Traceback (most recent call last)",
        "Cell \x1b[0;32mIn[7], line 3\x1b[0m\n----> 3 np.testing.assert_allclose(got, want)",
        f"File \x1b[0;32m{venv}/numpy/testing/_private/utils.py:1504\x1b[0m, in \x1b[0;36massert_allclose\x1b[0m",
        f"File \x1b[0;32m{venv}/numpy/testing/_private/utils.py:797\x1b[0m, in \x1b[0;36massert_array_compare\x1b[0m",
        "\x1b[0;31mAssertionError\x1b[0m: \nNot equal to tolerance rtol=1e-07"])
    clean = tracebacks.cleaned(error)
    text = "\n".join(clean["traceback"]) + clean["evalue"]
    assert "/srv/grader" not in text and ".venv" not in text
    assert "In[7], line 3" in clean["traceback"][1] and "Not equal to tolerance" in clean["traceback"][-1]
    assert "2 frame(s) inside libraries not shown" in text
    assert "x.py" in clean["evalue"]


# -- undiagnosed failures grouped by their verdict ---------------------------------------------------------


def _autograded(out, student, chapter, verdicts):
    """An autograded notebook as the grader writes it: each test cell's verdict its first error output."""
    cells = []
    for grade_id, text in verdicts.items():
        cell = nbformat.v4.new_code_cell("check(...)", metadata={"nbgrader": {"grade": True, "grade_id": grade_id,
                                                                              "points": 3, "solution": False}})
        cell.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue=text,
                                               traceback=[f"AssertionError: {text}"])]
        cells.append(cell)
    path = out / "autograded" / student / chapter / f"{chapter}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)


def test_undiagnosed_failures_are_grouped_by_their_verdict(tmp_path, capsys, monkeypatch):
    """Three students whose standardize fails with the same verdict (but for an address and the last digits of
    a float) form one group; a fourth with another verdict is a group of one; a diagnosed student and a
    failure of another exercise's test are in no group of standardize; the report and the command list them."""
    from datetime import datetime
    from types import SimpleNamespace

    from autograder.grading import clusters, pages, report, unexplained

    chapter, test = "01-normalization", "test_standardize"
    same = ("1 of 4 checks fail.\n[2] standardize(X of shape (5, 3)): 15 of 15 value(s) differ: expected "
            "[-1.2247448713915890, 0.0, 1.2247448713915890], got [{x}, 0.0, 1.0] (the object at {at})")
    verdicts = {"ann": same.format(x="-1.0000000000000002", at="0x7f3a2c1b9d00"),
                "ben": same.format(x="-1.0", at="0x7f11aa02ce40"),
                "cat": same.format(x="-0.99999999999999989", at="0x55d0c0ffee00"),
                "dan": "1 of 4 checks fail.\n[3] standardize(X with a constant column): expected 0.0, got nan",
                "eve": "1 of 4 checks fail.\nDiagnosis: your outputs equal z-scores with ddof=1 ..."}
    rows = [{"student_id": sid, "assignment_id": chapter, "score": 8.0, "max_score": 11.0, "status": "ok",
             "mistakes": "std_ddof_1" if sid == "eve" else "", "detail": "", "lost_tests": {test},
             "manual_tests": set(), "review": "", "repaired": False, "seconds_late": 0, "late_penalty": 0.0}
            for sid in verdicts]
    rows.append({**rows[0], "student_id": "fay", "lost_tests": {"test_min_max_scale"}})
    for sid, text in verdicts.items():
        _autograded(tmp_path, sid, chapter, {test: text})
    _autograded(tmp_path, "fay", chapter, {"test_min_max_scale": verdicts["ann"]})

    mistakes = report.mistake_table(rows)
    assert sorted(mistakes[(chapter, "standardize")]["unexplained"]) == ["ann", "ben", "cat", "dan"]
    found = clusters.undiagnosed(rows, mistakes, tmp_path)
    assert [(c.answer, c.test, c.students) for c in found] == [
        ("standardize", test, ("ann", "ben", "cat")), ("min_max_scale", "test_min_max_scale", ("fay",)),
        ("standardize", test, ("dan",))]
    assert found[0].example == verdicts["ann"] and found[2].example == verdicts["dan"]
    assert clusters.signature(verdicts["ann"]) == clusters.signature(verdicts["cat"]) != \
        clusters.signature(same.format(x="-0.5", at="0x0"))  # another number is another mistake

    figures = dict.fromkeys(("scores", "tests", "mistakes", "status"), "figure.png")
    model = report.view(rows, {}, mistakes, figures, datetime(2026, 1, 1), tmp_path, found)
    page = pages.render("report.html.j2", **model)
    assert "Failures no catalogued mistake explains, grouped (3)" in page
    assert f"<td>{test}</td><td class=num>3</td><td>ann, ben, cat</td>" in page
    assert "0x7f3a2c1b9d00" in page  # the example is the first student's verdict as written

    # the command reads the same groups from a gradebook: here, the rows above
    monkeypatch.setattr(report, "open_for", lambda args, command: SimpleNamespace(close=lambda: None))
    monkeypatch.setattr(report, "collect", lambda gb: (rows, {}))
    assert unexplained.run(SimpleNamespace(out=str(tmp_path), db_url=None)) == 0
    printed = capsys.readouterr().out
    assert printed.index("3 submission(s): 01-normalization / standardize / test_standardize") \
        < printed.index("1 submission(s): 01-normalization / standardize / test_standardize")
    assert "students: ann, ben, cat" in printed and "eve" not in printed


def test_the_fork_servers_preload_leaves_no_lazy_torch_import_to_each_kernel():
    """A kernel forked from the fork server starts with the course's imports done: building a torch optimizer
    (every chapter that uses torch.optim does) imports nothing more, where it used to import torch._dynamo
    (seconds of sympy and torch.fx) once per notebook."""
    import subprocess
    import sys
    import types

    from autograder.grading import master
    from solutions.chapters import all_chapters

    lines = master.preload_lines(all_chapters())
    assert master.TORCH_PRELOAD[0] in lines
    numpy_only = types.SimpleNamespace(setup=("import numpy as np",))
    assert master.TORCH_PRELOAD[0] not in master.preload_lines([numpy_only])
    probe = "\n".join([*lines, "import sys", "before = set(sys.modules)",
                       "param = torch.nn.Parameter(torch.zeros(3))",
                       "opt = torch.optim.SGD([param], lr=0.1)", "torch.optim.Adam([param]).step()",
                       "print(sorted(set(sys.modules) - before))"])
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]", out.stdout[-2000:]

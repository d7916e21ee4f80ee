"""One hostile class graded once: every status, every attack, feedback, CSVs, report, rerun.

The class (tests/autograder_fixtures/attacks.py) uses the tiny course (one answer, two tests,
numpy only), so ~50 kernels cost little. It is graded once per module by the real command line,
with short limits (--cell-timeout 8, --memory-mb 1024) so that loops and bombs end quickly; the
tests then read what the command wrote.
"""

import html
import json
import os
import re
import time

import nbformat
import pytest

from autograder import gradebook, sandbox
from tests.autograder_fixtures import attacks, cli, tiny

CELL_TIMEOUT = 10  # printing 100 MB takes ~2 s on an idle core, 4-8 s when the test suite loads both cores
STUDENTS = [
    "correct", "wrong", "stub", "loop_in_function", "loop_ignores_interrupt", "memory_bomb", "memory_creep",
    "os_exit", "segfault", "ipython_exit", "sys_exit", "fork_bomb", "output_flood", "deleted_test",
    "duplicated_test", "edited_tests", "skip_tags", "fake_grade_cell", "eq_always_true", "renamed", "nbformat3",
    "nbformat4.0", "nbformat4.1", "nbformat4.2", "nbformat4.3", "nbformat4.4", "nbformat4.5", "invalid_json",
    "empty_file", "no_cells", "nbformat_99", "latin1", "missing", "Zoë Ångström", "two words", "twice", "Renée",
    "imports_solutions", "sneaky_import", "opens_reference", "patches_assert", "swallows_errors", "fake_reference",
    "probe", "plots",
]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("attack-batch")
    source = tiny.make_course(root / "course")
    expect = attacks.build(root / "class")
    out = root / "out"
    started = time.monotonic()
    proc = cli.start("grade", root / "class", "--out", out, "--source", source, "--workers", 2,
                     "--cell-timeout", CELL_TIMEOUT, "--memory-mb", 1024)
    stdout, stderr = proc.communicate(timeout=900)
    return {"proc": proc, "stdout": stdout, "stderr": stderr, "out": out, "expect": expect, "source": source,
            "class": root / "class", "rows": cli.read_csv(out / "grades.csv"), "seconds": time.monotonic() - started}


def test_batch_completes_with_exit_0_and_a_summary(batch):
    assert batch["proc"].returncode == 0, batch["stderr"][-3000:]
    total = len(batch["expect"])
    assert f"graded {total} of {total} notebook(s)" in batch["stdout"]
    for status in ("cell_timeout", "kernel_died", "memory_limit", "invalid_notebook", "missing_notebook",
                   "integrity_flag"):
        assert re.search(rf"^{status}\s+\d+$", batch["stdout"], re.M), f"summary lacks {status}"
    assert "broken or flagged submissions:" in batch["stdout"]


def test_progress_bar_with_rate_and_eta_on_stderr(batch):
    bar = batch["stderr"]
    assert re.search(r"grading: +\d+%\|", bar), bar[-500:]
    assert re.search(r"\d+/\d+ \[\d+:\d+<\d+:\d+, +[\d.]+(s/nb|nb/s)", bar), "tqdm shows elapsed<eta and a rate"
    assert "graded" not in bar, "the summary goes to stdout, the bar to stderr"


def test_one_csv_row_per_student_and_every_status(batch):
    rows = batch["rows"]
    assert list(rows[0]) == gradebook.CSV_COLUMNS
    students = [r["student_id"] for r in rows]
    assert len(students) == len(set(students)) == len(batch["expect"])
    assert {r["status"] for r in rows} == set(gradebook.STATUSES)
    assert all(r["assignment"] == tiny.ASSIGNMENT and float(r["max_score"]) == 3.0 for r in rows)


@pytest.mark.parametrize("student", STUDENTS)
def test_submission_status_score_and_detail(batch, student):
    expected = batch["expect"][student]
    row = cli.by_student(batch["rows"])[student]
    assert row["status"] == expected.status, row
    if expected.score is not None:
        assert float(row["score"]) == expected.score, row
    assert re.search(expected.detail, row["detail"]), row
    assert ("integrity:" in row["detail"]) == expected.flagged, row


def test_students_list_is_the_fixture_list(batch):
    assert set(STUDENTS) == set(batch["expect"]), "STUDENTS above must follow attacks.build"


def _autograded(batch, student):
    return nbformat.read(str(batch["out"] / "autograded" / student / tiny.ASSIGNMENT / "99-tiny.ipynb"), as_version=4)


def _printed(nb):
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))


def test_tests_that_did_not_run_score_zero_even_without_error_output(batch):
    """nbgrader #427: a dead kernel leaves test cells without output, which nbgrader scores full."""
    nb = _autograded(batch, "os_exit")
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert len(tests) == 2
    for cell in tests:
        assert [o["ename"] for o in cell["outputs"]] == ["NotRun"]


def test_fork_bomb_is_capped_and_cleaned_up(batch):
    printed = _printed(_autograded(batch, "fork_bomb"))
    match = re.search(r"fork refused after (\d+)", printed)
    assert match, printed[:500]
    if os.geteuid() == 0:  # one uid per kernel: RLIMIT_NPROC counts that kernel's threads and processes alone
        assert int(match.group(1)) < 64
    assert cli.sandbox_processes(batch["proc"].pid) == []


def test_matplotlib_writes_nothing_on_stderr(batch):
    streams = [o for c in _autograded(batch, "plots").cells for o in c.get("outputs", [])
               if o.get("output_type") == "stream" and o.get("name") == "stderr"]
    assert streams == []


def test_output_flood_is_truncated_not_stored(batch):
    autograded = batch["out"] / "autograded" / "output_flood" / tiny.ASSIGNMENT / "99-tiny.ipynb"
    feedback = batch["out"] / "feedback" / "output_flood" / tiny.ASSIGNMENT / "99-tiny.html"
    # 100 MB were printed; the cap is 256 k characters per cell and 2 M per notebook
    assert autograded.stat().st_size < 3 * 2**20
    assert feedback.stat().st_size < 3 * 2**20
    assert "characters of output were not stored" in autograded.read_text()


def _visible_text(path):
    raw = path.read_text(encoding="utf-8")
    return raw, html.unescape(re.sub(r"<[^>]+>", "", raw))


def test_feedback_for_everyone_and_never_hidden_tests(batch):
    """nbgrader #1363: feedback must show visible tests and results but no hidden-test source."""
    for row in batch["rows"]:
        path = batch["out"] / "feedback" / row["student_id"] / tiny.ASSIGNMENT / "99-tiny.html"
        raw, text = _visible_text(path)
        for marker in tiny.HIDDEN_MARKERS + ["BEGIN HIDDEN TESTS"]:
            assert marker not in raw and marker not in text, (row["student_id"], marker)
    raw, text = _visible_text(batch["out"] / "feedback" / "wrong" / tiny.ASSIGNMENT / "99-tiny.html")
    assert "Score: 0.0 / 3.0" in text
    assert "each column (axis=0) is scaled by its own min and max" in text  # the visible assert message
    assert "feature_range=(-1.0, 1.0)" in text  # visible test source is shown


def test_kernels_are_isolated(batch):
    printed = _printed(_autograded(batch, "probe"))
    assert re.search(r"cwd /\S+/slot-\d+/work", printed), "cwd is a private copy of the submission"
    assert "files here []" in printed  # only the submission's own files (none besides the notebook)
    pythonpath = re.search(r"pythonpath (\S+)", printed).group(1)
    assert pythonpath.endswith("/pylib") and ":" not in pythonpath
    env = set(json.loads(re.search(r"env (\[.*\])", printed).group(1).replace("'", '"')))
    assert not env & {"SSH_AUTH_SOCK", "VIRTUAL_ENV", "PWD", "OLDPWD", "USER"}, "environment is scrubbed"
    address_space, cpu, nproc, fsize = json.loads(re.search(r"limits (\[.*\])", printed).group(1))
    assert address_space == 1024 * 2**20  # --memory-mb
    assert 0 < cpu < 10_000 and 0 < nproc <= 10_000 and 0 < fsize <= 2**30
    if os.geteuid() != 0:
        pytest.skip("network, uid and mount isolation need root (documented); rlimits are checked above")
    assert nproc == sandbox.NPROC_LIMIT  # its own uid: the limit counts this kernel's processes only
    assert "network: [Errno 101] Network is unreachable" in printed
    assert not re.search(r"uid 0 ", printed)
    for folder in ("solutions", "exercises", "tests"):
        assert re.search(rf"listing /\S+/{folder} \[\]", printed), f"the repository's {folder}/ is hidden"


def test_nbgrader_export_csv(batch):
    rows = cli.read_csv(batch["out"] / "nbgrader_export.csv")
    assert list(rows[0])[:4] == ["assignment", "duedate", "timestamp", "student_id"]
    assert {r["student_id"] for r in rows} == set(batch["expect"])
    ours = cli.by_student(batch["rows"])
    for r in rows:
        assert float(r["score"]) == float(ours[r["student_id"]]["score"])


def test_report_lists_scores_tests_statuses_and_problems(batch):
    out = batch["out"]
    for name in ("report-scores.png", "report-tests.png", "report-status.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    raw, text = _visible_text(out / "report.html")
    assert "Which tests the class struggles with" in text
    assert re.search(r"test_min_max_scale_range\s*\d+\s*\d+%", text), "per-test failure rate table"
    for row in batch["rows"]:
        if row["status"] != "ok":
            assert html.escape(row["student_id"]) in raw, row["student_id"]
    assert "Zoë Ångström" in text
    (out / "report.html").unlink()
    proc = cli.run("report", "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert _visible_text(out / "report.html")[1].count("integrity_flag") == text.count("integrity_flag")


def test_rerun_grades_nothing_and_changes_nothing(batch):
    before = (batch["out"] / "grades.csv").read_bytes()
    proc = cli.run("grade", batch["class"], "--out", batch["out"], "--source", batch["source"], "--workers", 2,
                   "--cell-timeout", CELL_TIMEOUT, "--memory-mb", 1024)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "graded 0 of 0 notebook(s)" in proc.stdout
    assert f"{len(batch['expect'])} already graded, skipped" in proc.stdout
    assert (batch["out"] / "grades.csv").read_bytes() == before


def test_fork_bomb_leaves_the_next_kernel_of_its_slot_a_full_process_budget(tmp_path):
    """Killed fork-bomb children are zombies counted by RLIMIT_NPROC until reaped: the worker
    adopts and reaps them, so the next student on the same worker starts normally."""
    source = tiny.make_course(tmp_path / "course")
    tiny.write(tmp_path / "class", "a_fork_bomb", notebook=tiny.student_notebook(attacks.FORK_BOMB))
    tiny.write(tmp_path / "class", "b_next", notebook=tiny.student_notebook())
    proc = cli.run("grade", tmp_path / "class", "--out", tmp_path / "out", "--source", source, "--workers", 1,
                   "--cell-timeout", CELL_TIMEOUT, "--memory-mb", 1024)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = cli.by_student(cli.read_csv(tmp_path / "out" / "grades.csv"))
    assert (rows["b_next"]["status"], rows["b_next"]["score"]) == ("ok", "3"), rows["b_next"]

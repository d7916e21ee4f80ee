"""One hostile, broken and messy class graded once: statuses, attacks, isolation, feedback, report, rerun.

The class (tests/autograder_fixtures/attacks.py) uses the tiny course (one answer, two test cells,
numpy only), so ~90 kernels cost little. It is graded once per module by the real command line with
short limits (--cell-timeout 20, --notebook-timeout 40, --memory-mb 1024); the tests then read what the
command wrote. The attacks aim at listeners of the test's own: a TCP socket on 127.0.0.1 and a unix
socket in a host folder; neither may see a byte.
"""

import html
import os
import re
import socket
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from autograder.grading import gradebook
from coursebook.paths import REPO
from tests.autograder_fixtures import attacks, cli, tiny

pytestmark = [pytest.mark.root, pytest.mark.bwrap, pytest.mark.slow]

# Honest-but-heavy cells must finish inside it on a loaded machine: printing 100 MB takes ~2 s on an idle core, 4-8 s
# when the test suite loads both cores; the fork bomb's 240 forks (a fork costs ~12 ms in a sandboxed kernel) take
# ~3 s idle and 6-9 s beside 6 busy processes, more when other work shares the cores.
CELL_TIMEOUT = 20
NOTEBOOK_TIMEOUT = 40
MEMORY_MB = 1024


class Listener:
    """A server socket of the test's own that records every connection it accepts."""

    def __init__(self, family, address):
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind(address)
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.accepted = []
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted.append(conn.recv(100))
            conn.close()

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("attack-batch")
    source = tiny.make_course(root / "course")
    tcp = Listener(socket.AF_INET, ("127.0.0.1", 0))
    socket_folder = root / "host-sockets"
    socket_folder.mkdir()
    os.chmod(socket_folder, 0o777)
    unix_path = str(socket_folder / "grader.sock")
    unix = Listener(socket.AF_UNIX, unix_path)
    os.chmod(unix_path, 0o777)
    ctx = SimpleNamespace(
        tcp_port=tcp.sock.getsockname()[1], unix_socket=unix_path, marker=f"agtest-{uuid.uuid4().hex[:10]}",
        reference_dirs=[str(REPO / "solutions"), str(REPO)],
        private_files=[str(source / tiny.ASSIGNMENT / f"{tiny.ASSIGNMENT}.ipynb"), str(root / "out" / "gradebook.db"),
                       str(root / "class" / "correct" / tiny.ASSIGNMENT / f"{tiny.ASSIGNMENT}.ipynb"), "/etc/shadow",
                       str(REPO / "solutions" / "normalization.py")],
        source_notebook=source / tiny.ASSIGNMENT / f"{tiny.ASSIGNMENT}.ipynb",
    )
    expect = attacks.build(root / "class", ctx)
    out = root / "out"
    started = time.monotonic()
    proc = cli.start("grade", root / "class", "--out", out, "--source", source, "--workers", 2,
                     "--cell-timeout", CELL_TIMEOUT, "--notebook-timeout", NOTEBOOK_TIMEOUT, "--memory-mb", MEMORY_MB)
    stdout, stderr = proc.communicate(timeout=1200)
    tcp.close()
    unix.close()
    return {"proc": proc, "stdout": stdout, "stderr": stderr, "out": out, "expect": expect, "source": source,
            "class": root / "class", "rows": cli.read_csv(out / "grades.csv") if (out / "grades.csv").exists() else [],
            "seconds": time.monotonic() - started, "ctx": ctx, "tcp": tcp, "unix": unix}


def _row(batch, student):
    return cli.by_student(batch["rows"])[student]


def test_batch_completes_with_exit_0_and_a_summary(batch):
    assert batch["proc"].returncode == 0, batch["stderr"][-3000:]
    total = len(batch["expect"])
    assert f"graded {total} of {total} notebook(s)" in batch["stdout"], batch["stdout"][-2000:]
    for status in ("cell_timeout", "kernel_died", "memory_limit", "invalid_notebook", "missing_notebook"):
        assert re.search(rf"^{status}\s+\d+$", batch["stdout"], re.M), f"summary lacks {status}"
    assert "sandbox: bubblewrap" in batch["stdout"]


def test_one_csv_row_per_student(batch):
    rows = batch["rows"]
    assert list(rows[0]) == gradebook.CSV_COLUMNS
    students = [r["student_id"] for r in rows]
    assert len(students) == len(set(students)) == len(batch["expect"])
    assert "grader_error" not in {r["status"] for r in rows}, [r for r in rows if r["status"] == "grader_error"]


def pytest_generate_tests(metafunc):
    if "expected_student" in metafunc.fixturenames:
        names = sorted(_student_names())
        metafunc.parametrize("expected_student", names)


def _student_names():
    ctx = SimpleNamespace(tcp_port=1, unix_socket="/x", marker="m", reference_dirs=[], private_files=[],
                          source_notebook=Path("/nonexistent"))
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return list(attacks.build(Path(folder), ctx))


def test_submission_status_score_and_detail(batch, expected_student):
    expected = batch["expect"][expected_student]
    row = _row(batch, expected_student)
    if expected.status is not None:
        assert row["status"] == expected.status, row
    if expected.score is not None:
        assert row["score"] in ("", None) or float(row["score"]) == expected.score, row
    assert re.search(expected.detail, row["detail"]), row


def test_no_attack_earns_anything(batch):
    """Every attack starts from a non-answer (a stub or zeros) whose honest score is 0."""
    for student, expected in batch["expect"].items():
        if expected.attack:
            row = _row(batch, student)
            assert row["score"] in ("", "0"), (student, row)


def _autograded(batch, student):
    path = batch["out"] / "autograded" / student / tiny.ASSIGNMENT / f"{tiny.ASSIGNMENT}.ipynb"
    return nbformat.read(str(path), as_version=4) if path.exists() else None


def _printed(nb):
    if nb is None:
        return ""
    return "".join(str(o.get("text", "")) + str(o.get("evalue", "")) for c in nb.cells for o in c.get("outputs", []))


def test_listeners_of_the_test_saw_nothing(batch):
    assert batch["tcp"].accepted == [], "a kernel reached a TCP socket on the host's loopback"
    assert batch["unix"].accepted == [], "a kernel reached a unix socket in a host folder"
    for name in ("tcp_loopback", "unix_socket_host"):
        printed = _printed(_autograded(batch, f"attack {name}"))
        assert "CONNECTED" not in printed and re.search(r"(network|unix):", printed), printed[:500]


def test_nothing_of_the_host_the_reference_or_classmates_reaches_a_kernel(batch):
    secret = ["BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "HIDDEN_MARKER_ALPHA", "def min_max_scale(X, feature_range=(0.0, "
              "1.0)):\n    \"\"\"Scale each column", "_CONSTANT_TOL", "span = np.where(span < 10"]
    for student, expected in batch["expect"].items():
        if expected.attack:
            printed = _printed(_autograded(batch, student))
            for text in secret:
                assert text not in printed, (student, text)
    printed = _printed(_autograded(batch, "attack read_source_notebook"))
    assert printed.count("denied") == len(batch["ctx"].private_files), printed[:1000]
    printed = _printed(_autograded(batch, "attack read_reference_subprocess"))
    assert "No module named 'solutions'" in printed, printed[-500:]
    printed = _printed(_autograded(batch, "attack proc_snooping"))
    visible = re.search(r"processes visible: \[([\d, ]*)\]", printed).group(1)
    assert len(visible.split(",")) < 10, "the kernel sees only its own processes (PID namespace)"
    root = re.search(r"root: \[(.*)\]", printed).group(1)
    for host_only in ("'srv'", "'var'", "'opt'", "'boot'", "'mnt'", "'media'", "'run'"):
        assert host_only not in root, root
    caps = re.search(r"caps: \[(.*)\]", printed).group(1)
    assert caps.count("'0000000000000000'") >= 2, f"a kernel keeps no capability: {caps}"  # effective, permitted
    assert "no_new_privs: ['1']" in printed
    assert re.findall(r"unshare 0x\w+ (-?\d+)", printed) == ["-1", "-1"], "no new user or mount namespace"


def test_history_holds_no_hidden_test(batch):
    printed = _printed(_autograded(batch, "attack print_history"))
    assert "__autograder__.check('test_min_max_scale_tiny')" in printed  # what the kernel did see
    for marker in tiny.HIDDEN_MARKERS:
        assert marker not in printed, marker


def test_nothing_outlives_the_batch(batch):
    marker = batch["ctx"].marker
    for folder in ("/tmp", "/var/tmp", "/dev/shm", str(Path.home())):
        assert not [p for p in Path(folder).glob(f"{marker}*")], f"a kernel's file outlived the batch in {folder}"
    assert cli.sandbox_processes(batch["proc"].pid) == [], "sandbox processes outlived the batch"
    assert not list(Path("/sys/fs/cgroup/memory").rglob(f"autograder-{batch['proc'].pid}-*")), "cgroups left behind"


def test_dev_shm_is_private_and_capped(batch):
    printed = _printed(_autograded(batch, "attack dev_shm_gigabyte"))
    assert re.search(r"stopped: .*(No space left|File too large|Cannot allocate)", printed), printed[-300:]


def test_tests_that_did_not_run_score_zero_even_without_error_output(batch):
    """nbgrader #427: a dead kernel leaves test cells without output, which nbgrader scores full."""
    nb = _autograded(batch, "os_exit")
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert len(tests) == 2
    for cell in tests:
        assert "NotRun" in [o.get("ename") for o in cell["outputs"]]


def test_fork_bomb_is_capped_and_cleaned_up(batch):
    printed = _printed(_autograded(batch, "fork_bomb"))
    match = re.search(r"fork refused after (\d+)", printed)
    assert match, printed[:500]
    assert int(match.group(1)) < 300


def test_matplotlib_writes_nothing_on_stderr(batch):
    streams = [o for c in _autograded(batch, "plots").cells for o in c.get("outputs", [])
               if o.get("output_type") == "stream" and o.get("name") == "stderr"]
    assert streams == []


def test_output_flood_is_truncated_not_stored(batch):
    autograded = batch["out"] / "autograded" / "output_flood" / tiny.ASSIGNMENT / "99-tiny.ipynb"
    feedback = batch["out"] / "feedback" / "output_flood" / tiny.ASSIGNMENT / "99-tiny.html"
    assert autograded.stat().st_size < 3 * 2**20
    assert feedback.stat().st_size < 3 * 2**20
    assert "characters of output were not stored" in autograded.read_text()


def _visible_text(path):
    raw = path.read_text(encoding="utf-8")
    return raw, html.unescape(re.sub(r"<[^>]+>", "", raw))


def test_feedback_for_everyone_and_never_hidden_tests(batch):
    for row in batch["rows"]:
        path = batch["out"] / "feedback" / row["student_id"] / tiny.ASSIGNMENT / "99-tiny.html"
        if len(row["student_id"]) > 128:
            continue  # an id the gradebook cannot hold is not a folder name either: listed in the report
        raw, text = _visible_text(path)
        for marker in [*tiny.HIDDEN_MARKERS, "BEGIN HIDDEN TESTS"]:
            assert marker not in raw and marker not in text, (row["student_id"], marker)
    raw, text = _visible_text(batch["out"] / "feedback" / "wrong" / tiny.ASSIGNMENT / "99-tiny.html")
    assert "Score: 0.0 / 3.0" in text
    assert "each column (axis=0) is scaled by its own min and max" in text  # the visible assert message
    assert "expected" in text and "got" in text  # the trusted verdict: what was expected, what came back
    assert "../../_mathjax/tex-chtml.js" in raw and (batch["out"] / "feedback" / "_mathjax" / "tex-chtml.js").is_file()
    assert not re.search(r"(src|href)=\"https?://", raw), "feedback loads nothing from the network"


def test_repaired_notebooks_say_so_in_one_line(batch):
    row = _row(batch, "fresh_functions_only")
    assert re.search(r"repaired: test cells .* were missing", row["detail"])
    _, text = _visible_text(batch["out"] / "feedback" / "fresh_functions_only" / tiny.ASSIGNMENT / "99-tiny.html")
    assert "repaired:" in text


def test_review_lists_future_timestamps_and_replacements(batch):
    with gradebook.open_existing(gradebook.default_db_url(batch["out"])) as gb:
        rows = {(r["student_id"]): r for r in gradebook.rows(gb)}
    for student, expected in batch["expect"].items():
        if expected.review:
            assert re.search(expected.review, rows[student]["review"]), rows[student]
    _, text = _visible_text(batch["out"] / "report.html")
    assert "Listed for review" in text and "victim" in text


def test_nbgrader_export_csv(batch):
    rows = cli.read_csv(batch["out"] / "nbgrader_export.csv")
    assert list(rows[0])[:4] == ["assignment", "duedate", "timestamp", "student_id"]
    ours = cli.by_student(batch["rows"])
    for r in rows:
        assert float(r["score"]) == float(ours[r["student_id"]]["score"])


def test_report_lists_scores_tests_mistakes_statuses_and_problems(batch):
    out = batch["out"]
    for name in ("report-scores.png", "report-tests.png", "report-mistakes.png", "report-status.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    raw, text = _visible_text(out / "report.html")
    assert "Which tests the class struggles with" in text and "Which mistakes the class made" in text
    for row in batch["rows"]:
        if row["status"] != "ok":
            assert html.escape(row["student_id"]) in raw, row["student_id"]
    # the grade matrix: every student of grades.csv, their score, a link to their feedback page where there is one
    matrix = cli.grade_matrix(out / "report.html")
    assert set(matrix) == {row["student_id"] for row in batch["rows"]}
    for row in batch["rows"]:
        text, linked = matrix[row["student_id"]][tiny.ASSIGNMENT]
        if row["score"]:
            assert text.startswith(f"{float(row['score']):g} / "), (row["student_id"], text)
        page = out / "feedback" / row["student_id"] / tiny.ASSIGNMENT / f"{tiny.ASSIGNMENT}.html"
        assert linked == (page if page.is_file() else None), (row["student_id"], linked)
    assert sum(linked is not None for cells in matrix.values() for _, linked in cells.values()) > len(matrix) / 2
    proc = cli.run("report", "--out", out)
    assert proc.returncode == 0, proc.stderr


def test_rerun_grades_nothing_and_changes_nothing(batch):
    before = (batch["out"] / "grades.csv").read_bytes()
    proc = cli.run("grade", batch["class"], "--out", batch["out"], "--source", batch["source"], "--workers", 2,
                   "--cell-timeout", CELL_TIMEOUT, "--notebook-timeout", NOTEBOOK_TIMEOUT, "--memory-mb", MEMORY_MB)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "graded 0 of 0 notebook(s)" in proc.stdout
    assert (batch["out"] / "grades.csv").read_bytes() == before


def test_kernels_started_afresh_are_as_isolated(tmp_path):
    """Without the fork server (AUTOGRADER_FORK_SERVER=0, or a machine where it cannot start), each kernel
    gets a sandbox of its own from bubblewrap: the same attacks earn nothing."""
    import subprocess

    source = tiny.make_course(tmp_path / "course")
    ctx = SimpleNamespace(tcp_port=9, unix_socket="/nonexistent", marker=f"fresh-{uuid.uuid4().hex[:8]}",
                          reference_dirs=[str(REPO / "solutions")], private_files=[str(REPO / "solutions")],
                          source_notebook=Path("/nonexistent"))
    tiny.write(tmp_path / "class", "correct", notebook=tiny.student_notebook())
    for name in ("proc_snooping", "leftover_files", "read_reference_subprocess", "shell_class_patch"):
        tiny.write(tmp_path / "class", name, notebook=tiny.student_notebook(attacks.attack_code(name, ctx)))
    env = dict(cli.env(), AUTOGRADER_FORK_SERVER="0")
    proc = subprocess.run(cli.command("grade", tmp_path / "class", "--out", tmp_path / "out", "--source", source,
                                      "--workers", 2, "--cell-timeout", CELL_TIMEOUT), cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "kernels: 0 of 5 forked" in proc.stdout
    rows = {r["student_id"]: r["score"] for r in cli.read_csv(tmp_path / "out" / "grades.csv")}
    assert rows == {"correct": "3", "proc_snooping": "0", "leftover_files": "0", "read_reference_subprocess": "0",
                    "shell_class_patch": "0"}
    path = tmp_path / "out" / "autograded" / "proc_snooping" / tiny.ASSIGNMENT / "99-tiny.ipynb"
    printed = _printed(nbformat.read(str(path), as_version=4))
    assert printed.count("'0000000000000000'") >= 2 and "no_new_privs: ['1']" in printed, printed
    assert not list(Path("/tmp").glob(f"{ctx.marker}*"))

"""A hostile corpus that grows itself: generated hostile notebooks graded next to honest classmates.

Each example is one class in ONE batch: three honest students (correct, wrong, the release stub) and the
hostile notebooks of :func:`tests.autograder_fixtures.hostile.hostile_class`: every attack class at least once
(output floods, display updates, malformed messages, file writes and special files across the whole filesystem
view, the job folder, forks, sockets, signals, shared memory, memory bombs, forged records, background threads,
HTML and JavaScript, endless loops), two or three to a notebook, on a non-answer or a correct answer, graded by
the real command line as root with the fork server. Invariants:

- the batch completes with exit 0, within a bound of its clean time (each hostile notebook may use its
  own time limits, nothing more: a hang detector, not a timing assert);
- every honest classmate's grade and status equal the clean run's;
- no attacker earns more than its answers deserve (a non-answer: 0; a correct answer: at most full marks) and
  none is a grader error (an attack is the student's, never the grader's);
- no kernel reaches a listener of the test (TCP on 127.0.0.1, a unix socket);
- nothing outlives the batch: no sandbox process, control group, mount, staging folder or file left;
- no feedback page holds a script or an event handler but the page's own MathJax (that no script runs in a
  browser is proven on a hostile corpus by tests/test_autograder_feedback_browser.py);
- whatever ``metadata.language`` holds (absent, an edition, junk of any JSON type), every attacker gets a page: in
  Korean for "ko", in English otherwise.

``make test`` grades one class: the simplest example of the strategy (its strongest variant of every attack, in
a fixed order), with no clean batch (the honest grades are known). ``make fuzz`` draws new classes with a new
``--hypothesis-seed`` per round for 30 minutes (``AUTOGRADER_FUZZ=1``), measuring the clean class once.
"""

import html.parser
import os
import shutil
import socket
import tempfile
import threading
import time
import traceback
import uuid
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from hypothesis import HealthCheck, Phase, given, settings

from autograder.grading import scheduler
from tests.autograder_fixtures import attacks, cli, hostile, tiny

pytestmark = [pytest.mark.root, pytest.mark.bwrap, pytest.mark.slow]

FUZZ = bool(os.environ.get("AUTOGRADER_FUZZ"))
FUZZ_CLASSES = int(os.environ.get("AUTOGRADER_FUZZ_CLASSES", "3"))  # batches per make-fuzz round
CELL_TIMEOUT, NOTEBOOK_TIMEOUT, MEMORY_MB = 8, 20, 1024
WORKERS = 2
# the honest classmates and their clean grades (status ok): a correct answer earns both tests, a wrong one and the
# release's stub none (the attack batch of tests/test_autograder_grading.py grades the same answers)
HONEST = {"honest_correct": (tiny.CORRECT, "3"), "honest_wrong": (tiny.WRONG, "0"), "honest_stub": (attacks.STUB, "0")}
MARGIN = 30.0  # seconds per hostile notebook beyond its notebook limit: kernel start, teardown, judging
# A hang detector, not a timing assert: the clean class's time (measured under make fuzz; in make test, the
# fork servers' start the scheduler allows on a busy machine) plus every hostile notebook at its limits
STARTUP_ALLOWANCE = scheduler.TASK_MARGIN


class Listener:
    """A TCP and a unix listener of the test's own; no kernel may reach them."""

    def __init__(self, folder):
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.unix_path = str(folder / "listener.sock")
        self.unix = socket.socket(socket.AF_UNIX)
        self.unix.bind(self.unix_path)
        os.chmod(self.unix_path, 0o777)
        self.accepted, self.stop = [], False
        for sock in (self.tcp, self.unix):
            sock.listen(8)
            sock.settimeout(0.2)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock):
        while not self.stop:
            try:
                conn, _ = sock.accept()
                self.accepted.append(conn.recv(64))
                conn.close()
            except OSError:
                continue

    def close(self):
        self.stop = True
        self.tcp.close()
        self.unix.close()


@pytest.fixture(scope="module")
def world():
    root = Path(tempfile.mkdtemp(prefix="autograder-hostile-"))
    os.chmod(root, 0o755)
    source = tiny.make_course(root / "course")
    listener = Listener(root)
    ctx = SimpleNamespace(marker=f"hostile-{uuid.uuid4().hex[:8]}", tcp_port=listener.tcp.getsockname()[1],
                          unix_socket=listener.unix_path)
    clean = {"seconds": None, "rows": {s: {"status": "ok", "score": score} for s, (_, score) in HONEST.items()}}
    if FUZZ:  # long runs measure the clean class once (make test spares the machine that batch: see HONEST)
        clean = _grade(root / "clean", source, {s: tiny.student_notebook(a) for s, (a, _) in HONEST.items()})
        assert clean["proc"].returncode == 0, clean["proc"].stderr_text[-2000:]
    yield SimpleNamespace(root=root, source=source, ctx=ctx, listener=listener, clean=clean, rounds=[0])
    listener.close()
    shutil.rmtree(root, ignore_errors=True)


def _grade(folder, source, notebooks):
    for student, nb in notebooks.items():
        tiny.write(folder / "class", student, notebook=nb)
    started = time.monotonic()
    proc = cli.start("grade", folder / "class", "--out", folder / "out", "--source", source, "--workers", WORKERS,
                     "--cell-timeout", CELL_TIMEOUT, "--notebook-timeout", NOTEBOOK_TIMEOUT, "--memory-mb", MEMORY_MB)
    proc.stdout_text, proc.stderr_text = proc.communicate(timeout=1800)
    seconds = time.monotonic() - started
    rows = {r["student_id"]: r for r in cli.read_csv(folder / "out" / "grades.csv")} \
        if (folder / "out" / "grades.csv").exists() else {}
    return {"proc": proc, "rows": rows, "seconds": seconds, "out": folder / "out"}


def _notebook(example):
    base = attacks.ZEROS if example["base"] == "zeros" else tiny.CORRECT
    nb = tiny.student_notebook(base, extra_cells=example["cells"])
    if example["markdown"]:
        nb.cells.insert(1, nbformat.v4.new_markdown_cell("Notes: $x^2$ " + example["markdown"]))
    if example["language"] != hostile.ABSENT:
        nb.metadata["language"] = example["language"]
    return nb


class ScriptFinder(html.parser.HTMLParser):
    """Script elements, event-handler attributes and javascript: URLs of a page."""

    def __init__(self):
        super().__init__()
        self.scripts, self.handlers = [], []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts.append(dict(attrs).get("src"))
        for name, value in attrs:
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.handlers.append((tag, name, (value or "")[:60]))


def _leftovers(ctx, grader_pid):
    found = [str(p) for folder in ("/tmp", "/dev/shm", "/var/tmp") for p in Path(folder).glob(f"{ctx.marker}*")]
    found += [f"process {pid}" for pid in cli.sandbox_processes(grader_pid)]
    found += [str(p) for p in Path("/sys/fs/cgroup").glob(f"*/autograder-{grader_pid}*")]
    found += [str(p) for p in Path("/tmp").glob(f"autograder-{grader_pid}-*")]
    mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    found += [line for line in mounts if f"autograder-{grader_pid}-" in line]
    return found


def _check_batch(world, example_list, graded):
    names = [f"hostile{i}" for i in range(len(example_list))]
    proc, rows = graded["proc"], graded["rows"]
    kinds = {n: e["kinds"] for n, e in zip(names, example_list, strict=True)}
    assert proc.returncode == 0, (kinds, proc.stderr_text[-3000:])
    clean_seconds = world.clean["seconds"] if world.clean["seconds"] is not None else STARTUP_ALLOWANCE
    bound = clean_seconds + len(example_list) * (NOTEBOOK_TIMEOUT + MARGIN) / WORKERS + 60
    assert graded["seconds"] <= bound, (graded["seconds"], bound, kinds)
    for student, (_, score) in HONEST.items():
        clean = world.clean["rows"][student]
        assert (rows[student]["status"], rows[student]["score"]) == (clean["status"], clean["score"]) \
            == ("ok", score), (student, rows[student], kinds)
    for name, example in zip(names, example_list, strict=True):
        row = rows[name]
        assert row["status"] != "grader_error", (name, kinds[name], row)
        earned = float(row["score"] or 0)
        assert earned <= (0.0 if example["base"] == "zeros" else 3.0), (name, kinds[name], row)
        # any metadata.language: a page in the submission's language (Korean only for the Korean edition's code)
        page = (graded["out"] / "feedback" / name / tiny.ASSIGNMENT / f"{tiny.ASSIGNMENT}.html").read_text()
        korean = example["language"] == "ko"
        assert ("점수:" in page, "Score:" in page) == (korean, not korean), (name, example["language"], row)
    assert world.listener.accepted == [], "a kernel reached a listener of the test"
    assert _leftovers(world.ctx, proc.pid) == []
    for page in (graded["out"] / "feedback").rglob("*.html"):
        finder = ScriptFinder()
        finder.feed(page.read_text(encoding="utf-8"))
        assert finder.handlers == [], (page, finder.handlers[:3])
        assert [s for s in finder.scripts if s not in (None, "../../_mathjax/tex-chtml.js")] == [], page
        assert finder.scripts.count(None) <= 1, page  # the MathJax configuration, allowed by its hash


def test_generated_hostile_classes_keep_every_invariant(world):
    """One batch per example: three honest classmates and a hostile class (every attack class at least once). In
    ``make test`` the one example is the simplest class (the strongest variant of each cell, fixed), and a failure
    is reported after Hypothesis returns (Hypothesis would grade a failing batch again to print it); ``make fuzz``
    draws new classes and lets Hypothesis report the failing one. No shrinking: a batch costs minutes."""
    failures = []

    @settings(max_examples=FUZZ_CLASSES if FUZZ else 1, deadline=None, derandomize=not FUZZ, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(hostile.hostile_class(world.ctx))
    def one_class(example_list):
        world.rounds[0] += 1
        folder = world.root / f"round{world.rounds[0]}"
        notebooks = {s: tiny.student_notebook(a) for s, (a, _) in HONEST.items()}
        notebooks.update({f"hostile{i}": _notebook(e) for i, e in enumerate(example_list)})
        graded = _grade(folder, world.source, notebooks)
        print(f"round {world.rounds[0]}: {[e['kinds'] for e in example_list]} graded in {graded['seconds']:.1f} s "
              f"(clean class: {world.clean['seconds']} s); statuses "
              f"{ {s: (r['status'], r['score']) for s, r in graded['rows'].items()} }")
        try:
            _check_batch(world, example_list, graded)
        except AssertionError:
            if FUZZ:
                raise
            failures.append(traceback.format_exc())
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    one_class()
    assert not failures, failures[0]

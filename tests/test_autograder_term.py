"""An instructor's whole term with nbgrader's own tools on the grader's output: the exchange and the formgrader.

- A real exchange round trip in a temporary exchange: ``release_assignment``, ``fetch_assignment``,
  ``submit`` (three students), ``collect``, ``autograder grade`` into the course root, ``release_feedback``,
  ``fetch_feedback``: each student fetches the grader's page byte for byte; nbgrader's API (what the
  formgrader shows) counts the submissions as submitted and autograded; ``nbgrader export`` equals
  ``nbgrader_export.csv``; ``nbgrader generate_feedback`` gives the same scores.
- The formgrader's REST API (a Jupyter server of the test's own on 127.0.0.1): a manual grade, extra credit
  and a comment, then ``autograder feedback`` rewrites the page and every output shows the same number.
- ``.venv/bin/nbgrader`` works in the course root and in a grading folder without the venv on PATH.

Late penalties: ``test_autograder_term_late.py``; regrading and manual grades: ``test_autograder_term_regrade.py``
(modules of their own, so that parallel test workers take them at once).

Every nbgrader and grader command runs with ``PATH=/usr/bin:/bin`` (no virtualenv on it), as an
instructor's shell would be (:mod:`tests.autograder_fixtures.term`).
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from coursebook.paths import COURSE_ROOT
from tests.autograder_fixtures import tiny
from tests.autograder_fixtures.term import (
    COURSE_ID,
    STUDENTS,
    assert_outputs_agree,
    autograder,
    env,
    make_course,
    nbgrader,
    page_score,
)

pytestmark = [pytest.mark.bwrap, pytest.mark.slow]


def answer(path, code):
    """A student writes ``code`` into the answer cell of the notebook at ``path``."""
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = code
    nbformat.write(nb, str(path))


# -- the exchange round trip ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    """A course released, fetched, submitted and collected through a real exchange, graded into its root."""
    root = tmp_path_factory.mktemp("term-exchange")
    course = root / "course"
    source = make_course(course)
    nbgrader("generate_assignment", tiny.ASSIGNMENT, cwd=course)
    nbgrader("release_assignment", tiny.ASSIGNMENT, cwd=course)
    for student, code in STUDENTS.items():
        home = root / "students" / student
        home.mkdir(parents=True)
        flags = [f"--course={COURSE_ID}", f"--Exchange.root={root / 'exchange'}", f"--Exchange.cache={home / 'cache'}"]
        nbgrader("fetch_assignment", tiny.ASSIGNMENT, *flags, cwd=home)
        answer(home / tiny.ASSIGNMENT / f"{tiny.ASSIGNMENT}.ipynb", code)
        nbgrader("submit", tiny.ASSIGNMENT, f"--student={student}", *flags, cwd=home)
    nbgrader("collect", tiny.ASSIGNMENT, cwd=course)
    graded = autograder("grade", course / "submitted", "--out", course, "--source", source, "--workers", 2)
    return {"root": root, "course": course, "source": source, "graded": graded}


def test_the_exchange_hands_back_the_graders_feedback(round_trip):
    course, root = round_trip["course"], round_trip["root"]
    assert "graded 3 of 3 notebook(s)" in round_trip["graded"].stdout
    scores = assert_outputs_agree(course)
    assert scores == {("ann", tiny.ASSIGNMENT): 3.0, ("bob", tiny.ASSIGNMENT): 0.0, ("cat", tiny.ASSIGNMENT): 2.0}
    for step in ("submitted", "autograded", "feedback"):  # nbgrader's files next to each notebook
        for student in STUDENTS:
            folder = course / step / student / tiny.ASSIGNMENT
            assert (folder / "timestamp.txt").is_file() and (folder / "submission_secret.txt").is_file(), folder
    assert not (course / "nbgrader_config.py").read_text().startswith("# Written by"), "the course's own config stays"
    nbgrader("release_feedback", tiny.ASSIGNMENT, cwd=course)
    for student in STUDENTS:
        home = root / "students" / student
        nbgrader("fetch_feedback", tiny.ASSIGNMENT, f"--course={COURSE_ID}", f"--student={student}",
                 f"--Exchange.root={root / 'exchange'}", f"--Exchange.cache={home / 'cache'}", cwd=home)
        fetched = list((home / tiny.ASSIGNMENT / "feedback").glob(f"*/{tiny.ASSIGNMENT}.html"))
        ours = course / "feedback" / student / tiny.ASSIGNMENT / f"{tiny.ASSIGNMENT}.html"
        assert len(fetched) == 1 and fetched[0].read_bytes() == ours.read_bytes(), student


def test_nbgrader_api_export_and_generate_feedback_read_the_same_course(round_trip, tmp_path):
    course = round_trip["course"]
    code = ("import json\nfrom traitlets.config.loader import PyFileConfigLoader\n"
            "from nbgrader.apps.api import NbGraderAPI\nfrom nbgrader.coursedir import CourseDirectory\n"
            "cfg = PyFileConfigLoader('nbgrader_config.py', '.').load_config()\n"
            "api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)\n"
            f"print(json.dumps([api.get_assignment({tiny.ASSIGNMENT!r})['num_submissions'], "
            f"api.get_submissions({tiny.ASSIGNMENT!r}), api.get_student_submissions('ann')]))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=course, env=env(), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    count, submissions, ann = json.loads(proc.stdout.strip().splitlines()[-1])
    assert count == 3  # the formgrader's "# submissions"
    assert {s["student"]: (s["submitted"], s["autograded"], s["score"]) for s in submissions} == {
        "ann": (True, True, 3.0), "bob": (True, True, 0.0), "cat": (True, True, 2.0)}
    assert [(s["submitted"], s["autograded"]) for s in ann if s["name"] == tiny.ASSIGNMENT] == [(True, True)]
    nbgrader("export", "--to", tmp_path / "export.csv", cwd=course)
    assert (tmp_path / "export.csv").read_text() == (course / "nbgrader_export.csv").read_text()
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert gb.find_assignment(tiny.ASSIGNMENT).course_id == COURSE_ID
    copy = tmp_path / "copy"  # nbgrader's own feedback of our autograded notebooks, in a copy of the course
    shutil.copytree(course, copy / "course")
    nbgrader("generate_feedback", tiny.ASSIGNMENT, "--force", "--CourseDirectory.root=" + str(copy / "course"),
             cwd=copy / "course")
    for student in STUDENTS:
        assert page_score(copy / "course", student, tiny.ASSIGNMENT) == page_score(course, student, tiny.ASSIGNMENT)


# -- the formgrader --------------------------------------------------------------------------------------------


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Formgrader:
    """A Jupyter server of the test's own, on 127.0.0.1, with nbgrader's formgrader, in the course root."""

    def __init__(self, course, folder):
        self.port, self.token = _free_port(), "term-test-token"
        config = Path(folder) / "jupyter-config"
        config.mkdir(parents=True)
        # jupyter_server refuses to run as root unless allowed: in a config of this test's own
        (config / "jupyter_server_config.py").write_text(
            "c = get_config()  # noqa: F821\nc.ServerApp.allow_root = True\nc.ServerApp.ip = '127.0.0.1'\n"
            f"c.ServerApp.open_browser = False\nc.IdentityProvider.token = {self.token!r}\n")
        environ = dict(env(), JUPYTER_CONFIG_DIR=str(config), JUPYTER_DATA_DIR=str(Path(folder) / "jupyter-data"),
                       JUPYTER_RUNTIME_DIR=str(Path(folder) / "jupyter-runtime"))
        self.log = open(Path(folder) / "server.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-m", "jupyter_server", f"--port={self.port}",
                                      f"--ServerApp.root_dir={course}"], cwd=course, env=environ,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                self.get("/formgrader/api/status")
                return
            except OSError:
                assert self.proc.poll() is None, Path(folder, "server.log").read_text()[-2000:]
                time.sleep(0.5)
        raise AssertionError("the formgrader did not start")

    def request(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                     headers={"Authorization": f"token {self.token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as response:
            return json.loads(response.read() or b"null")

    def get(self, path):
        return self.request("GET", path)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def test_manual_grading_in_the_formgrader_reaches_every_output(round_trip, tmp_path):
    course = tmp_path / "course"
    shutil.copytree(round_trip["course"], course)
    server = Formgrader(course, tmp_path)
    try:
        aid = tiny.ASSIGNMENT
        assert server.get(f"/formgrader/api/assignment/{aid}")["num_submissions"] == 3
        assert all(s["submitted"] and s["autograded"] for s in server.get(f"/formgrader/api/submissions/{aid}"))
        notebook = next(n for n in server.get(f"/formgrader/api/submitted_notebooks/{aid}/{aid}")
                        if n["student"] == "cat")
        grades = {g["name"]: g for g in server.get(f"/formgrader/api/grades?submission_id={notebook['id']}")}
        assert {n: g["auto_score"] for n, g in grades.items()} == {"test_min_max_scale_tiny": 2.0,
                                                                   "test_min_max_scale_tiny_range": 0.0}
        server.request("PUT", f"/formgrader/api/grade/{grades['test_min_max_scale_tiny_range']['id']}",
                       {"manual_score": 0.5, "extra_credit": 0.25})
        comment = server.get(f"/formgrader/api/comments?submission_id={notebook['id']}")[0]
        server.request("PUT", f"/formgrader/api/comment/{comment['id']}",
                       {"manual_comment": "Nearly: `feature_range` is ignored."})
    finally:
        server.stop()
    proc = autograder("feedback", "--out", course, "--source", course / "source")
    assert "feedback pages rewritten: 1;" in proc.stdout, proc.stdout
    scores = assert_outputs_agree(course)
    assert scores[("cat", tiny.ASSIGNMENT)] == 2.75 and scores[("ann", tiny.ASSIGNMENT)] == 3.0
    text = (course / "feedback" / "cat" / tiny.ASSIGNMENT / f"{tiny.ASSIGNMENT}.html").read_text(encoding="utf-8")
    assert "<code>feature_range</code> is ignored." in text and "Score: 0.75 / 1.0" in text
    again = autograder("feedback", "--out", course, "--source", course / "source")
    assert "feedback pages rewritten: 0;" in again.stdout, "a page already showing the gradebook stays"


def test_nbgrader_from_the_venv_needs_no_venv_on_path(tmp_path):
    """``.venv/bin/nbgrader`` creates gradebooks (it runs ``alembic``) in the course root and a grading folder;
    without the course config's PATH line it cannot (the failure this guards against)."""
    course = tmp_path / "course"
    shutil.copytree(COURSE_ROOT, course, ignore=shutil.ignore_patterns("release*", "gradebook.db", "submitted",
                                                                       "autograded", "feedback"))
    chapter = sorted(p.name for p in (course / "source").iterdir())[0]
    config = (course / "nbgrader_config.py").read_text()
    line = 'os.environ["PATH"] = os.pathsep.join([BIN, *REST])\n'
    assert line in config
    (course / "nbgrader_config.py").write_text(config.replace(line, ""))
    proc = nbgrader("generate_assignment", chapter, "--force", cwd=course, check=False)
    assert "No such file or directory: 'alembic'" in proc.stdout + proc.stderr, "the test models a real failure"
    (course / "gradebook.db").unlink(missing_ok=True)
    (course / "nbgrader_config.py").write_text(config)
    proc = nbgrader("generate_assignment", chapter, "--force", cwd=course, check=False)
    assert proc.returncode == 0 and "alembic" not in proc.stderr, proc.stderr[-2000:]
    assert (course / "gradebook.db").is_file() and (course / "release" / chapter / f"{chapter}.ipynb").is_file()
    folder = tmp_path / "grading"
    folder.mkdir()
    from autograder.course.config import write_course_folder_config

    write_course_folder_config(folder, course / "source")
    proc = nbgrader("db", "student", "add", "ann", cwd=folder, check=False)
    assert proc.returncode == 0 and (folder / "gradebook.db").is_file(), proc.stderr[-2000:]
    assert "There are 0 assignments" in nbgrader("db", "assignment", "list", cwd=folder).stdout


def test_loading_a_config_again_leaves_path_as_one_load_left_it(tmp_path, monkeypatch):
    """nbgrader's Python API loads the config of every command it runs: a test process (or a formgrader) loads it
    thousands of times. A PATH line that prepended each time grew PATH past the kernel's limit for one string
    (128 KiB) until launching a kernel failed with ``Argument list too long``. Both the course's config and a
    grading folder's must put the venv first once and keep the rest of PATH in order."""
    from traitlets.config.loader import PyFileConfigLoader

    from autograder.course.config import write_course_folder_config

    folder = tmp_path / "grading"
    folder.mkdir()
    configs = [COURSE_ROOT / "nbgrader_config.py", write_course_folder_config(folder, COURSE_ROOT / "source")]
    venv_bin = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", f"/usr/bin::{venv_bin}:/bin")
    monkeypatch.setattr(sys, "path", list(sys.path))
    for config in configs:
        PyFileConfigLoader(Path(config).name, path=str(Path(config).parent)).load_config()
        once, imports = f"{venv_bin}:/usr/bin:/bin", list(sys.path)
        assert os.environ["PATH"] == once
        for _ in range(3):
            PyFileConfigLoader(Path(config).name, path=str(Path(config).parent)).load_config()
        assert os.environ["PATH"] == once, "each load must leave PATH as the first load left it"
        assert sys.path == imports, "each load must leave sys.path as the first load left it"

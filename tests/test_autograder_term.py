"""An instructor's whole term with nbgrader's own tools on the grader's output.

- A real exchange round trip in a temporary exchange: ``release_assignment``, ``fetch_assignment``,
  ``submit`` (three students), ``collect``, ``autograder grade`` into the course root, ``release_feedback``,
  ``fetch_feedback``: each student fetches the grader's page byte for byte; nbgrader's API (what the
  formgrader shows) counts the submissions as submitted and autograded; ``nbgrader export`` equals
  ``nbgrader_export.csv``; ``nbgrader generate_feedback`` gives the same scores.
- The formgrader's REST API (a Jupyter server of the test's own on 127.0.0.1): a manual grade, extra credit
  and a comment, then ``autograder feedback`` rewrites the page and every output shows the same number.
- Late penalties equal plain nbgrader's export for the same late submissions (``penalty_method='zero'``
  and a plugin class of the course's own), in ``grades.csv``, the summary and the report.
- ``--force`` with ``--student``/``--assignment`` regrades exactly those, keeping manual grades and comments;
  a resubmission after a manual grade is listed for review in the summary, grades.csv and the report.
- ``.venv/bin/nbgrader`` works in the course root and in a grading folder without the venv on PATH.

Every nbgrader and grader command runs with ``PATH=/usr/bin:/bin`` (no virtualenv on it), as an
instructor's shell would be.
"""

import csv
import html
import json
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from coursebook.paths import COURSE_ROOT, REPO
from tests.autograder_fixtures import cli, tiny, tiny_second

pytestmark = [pytest.mark.bwrap, pytest.mark.slow]

COURSE_ID = "term-course"
PLAIN_PATH = "/usr/bin:/bin"  # no virtualenv: what `.venv/bin/nbgrader` and `.venv/bin/autograder` meet
NBGRADER = [str(Path(sys.executable).with_name("nbgrader"))]
AUTOGRADER = [str(Path(sys.executable).with_name("autograder"))]
# A function that ignores feature_range: the main test passes (2 points), the range test fails (1 point).
PARTIAL = tiny.CORRECT.replace("low, high = feature_range", "low, high = 0.0, 1.0")
PER_DAY = '''
import math
from nbgrader.plugins import LateSubmissionPlugin


class TenPercentPerDay(LateSubmissionPlugin):
    """A course's own policy: a tenth of the score per started day."""

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return round(score * 0.1 * math.ceil(total_seconds_late / 86400), 6)


c.AssignLatePenalties.plugin_class = TenPercentPerDay
'''


def env():
    return dict(cli.env(), PATH=PLAIN_PATH, COURSE_EXTRA_CHAPTERS=tiny_second.MODULES)


def nbgrader(*args, cwd, check=True):
    proc = subprocess.run(NBGRADER + [str(a) for a in args], cwd=cwd, env=env(), capture_output=True, text=True,
                          timeout=600)
    assert not check or proc.returncode == 0, (args, proc.stdout[-2000:], proc.stderr[-3000:])
    return proc


def autograder(*args, check=True):
    proc = subprocess.run(AUTOGRADER + [str(a) for a in args], cwd=REPO, env=env(), capture_output=True, text=True,
                          timeout=900)
    assert not check or proc.returncode == 0, (args, proc.stdout[-2000:], proc.stderr[-3000:])
    return proc


def make_course(root, extra=""):
    """A course root with both tiny assignments and a config like the course's (alembic's PATH line included)."""
    root = Path(root)
    source = tiny.make_course(root)
    tiny_second.add_to_course(source)
    (root / "nbgrader_config.py").write_text(
        "import os, sys\nc = get_config()  # noqa: F821\n"
        'os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")\n'
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        "c.ClearSolutions.code_stub = {'python': '# YOUR CODE HERE\\nraise NotImplementedError()'}\n"
        f"c.Exchange.root = {str(root.parent / 'exchange')!r}\n" + extra)
    return source


def answer(path, code):
    """A student writes ``code`` into the answer cell of the notebook at ``path``."""
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = code
    nbformat.write(nb, str(path))


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def page_score(out, student, assignment):
    """The total a feedback page shows (nbgrader's header: ``<notebook> (Score: X / Y)``)."""
    text = (Path(out) / "feedback" / student / assignment / f"{assignment}.html").read_text(encoding="utf-8")
    return float(re.search(rf"{re.escape(assignment)} \(Score: ([-\d.]+) / ([\d.]+)\)", text).group(1))


def report_scores(out):
    """{(student, assignment): score} of the report's grade matrix."""
    text = (Path(out) / "report.html").read_text(encoding="utf-8")
    section = text.split("<h2>Grades</h2>", 1)[1]
    chapters = [html.unescape(c) for c in re.findall(r"<th>([^<]+)</th>", section.split("</tr>", 1)[0])][1:]
    scores = {}
    for student, cells in re.findall(r"<tr><td>([^<]+)</td>(.*?)</tr>", section):
        for chapter, cell in zip(chapters, re.findall(r"<td[^>]*>(.*?)</td>", cells), strict=True):
            if cell:
                scores[(html.unescape(student), chapter)] = float(cell.split(" / ")[0])
    return scores


def every_number(out):
    """{(student, assignment): {output: score}}: grades.csv, nbgrader's export, grades-wide.csv, the page, the
    report. Every output must show the same number for the same student."""
    out = Path(out)
    numbers = {}
    for r in read_csv(out / "grades.csv"):
        key = (r["student_id"], r["assignment"])
        numbers[key] = {"grades.csv": float(r["score"]), "page": page_score(out, *key)}
    for r in read_csv(out / "nbgrader_export.csv"):
        key = (r["student_id"], r["assignment"])
        if key in numbers:
            numbers[key]["nbgrader_export.csv"] = float(r["score"])
    for r in read_csv(out / "grades-wide.csv"):
        for key in numbers:
            if key[0] == r["student_id"]:
                numbers[key]["grades-wide.csv"] = float(r[key[1]])
    for key, score in report_scores(out).items():
        numbers[key]["report"] = score
    return numbers


def assert_outputs_agree(out):
    numbers = every_number(out)
    for key, shown in numbers.items():
        assert len(shown) == 5 and len(set(shown.values())) == 1, (key, shown)
    return {key: shown["grades.csv"] for key, shown in numbers.items()}


# -- the exchange round trip ----------------------------------------------------------------------------------

STUDENTS = {"ann": tiny.CORRECT, "bob": tiny.WRONG, "cat": PARTIAL}


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


# -- late penalties ---------------------------------------------------------------------------------------------

DUE = "2026-02-01 12:00:00 UTC"
# student: (answer, submitted at): on time, 30 min, 4 days and 2 h late, partly right and a day late
LATE_CLASS = {"ontime": (tiny.CORRECT, "2026-02-01 11:00:00 UTC"),
              "halfhour": (tiny.CORRECT, "2026-02-01 12:30:00 UTC"),
              "fourdays": (tiny.CORRECT, "2026-02-05 12:00:00 UTC"),
              "wronglate": (tiny.WRONG, "2026-02-01 14:00:00 UTC"),
              "partial": (PARTIAL, "2026-02-02 09:00:00 UTC")}


@pytest.fixture(scope="module")
def late_classes(tmp_path_factory):
    """``late_classes(policy)``: the late class graded by plain nbgrader and by the grader (each into a course
    root whose config sets ``policy``), once per policy for the whole module."""
    made = {}

    def graded(policy):
        if policy not in made:
            made[policy] = _grade_late_class(tmp_path_factory.mktemp(f"term-late-{policy}"), policy)
        return made[policy]

    return graded


def _grade_late_class(root, policy):
    extra = "c.LateSubmissionPlugin.penalty_method = 'zero'\n" if policy == "zero" else PER_DAY
    for student, (code, stamp) in LATE_CLASS.items():
        tiny.write(root / "class", student, notebook=tiny.student_notebook(code), timestamp=stamp)
    plain, ours = root / "plain", root / "ours"
    for course in (plain, ours):
        make_course(course, extra)
        nbgrader("db", "assignment", "add", tiny.ASSIGNMENT, f"--duedate={DUE}", cwd=course)
    nbgrader("generate_assignment", tiny.ASSIGNMENT, cwd=plain)
    shutil.copytree(root / "class", plain / "submitted")
    nbgrader("autograde", tiny.ASSIGNMENT, cwd=plain)
    nbgrader("export", "--to", plain / "export.csv", cwd=plain)
    proc = autograder("grade", root / "class", "--out", ours, "--source", ours / "source", "--workers", 2)
    return root, proc


@pytest.mark.parametrize("policy", ["zero", "per_day"])
def test_late_penalties_equal_plain_nbgraders_export(late_classes, policy):
    root, proc = late_classes(policy)
    plain, ours = root / "plain", root / "ours"

    def export(path):
        return {r["student_id"]: r for r in read_csv(path)}

    theirs, mine = export(plain / "export.csv"), export(ours / "nbgrader_export.csv")
    assert theirs == mine  # due date, timestamps, raw scores, penalties, scores: column by column
    penalties = {s: float(r["late_submission_penalty"]) for s, r in theirs.items()}
    if policy == "zero":
        assert penalties == {"ontime": 0, "halfhour": 3, "fourdays": 3, "wronglate": 0, "partial": 2}
    else:
        assert penalties == {"ontime": 0, "halfhour": 0.3, "fourdays": 1.2, "wronglate": 0, "partial": 0.2}
    rows = {r["student_id"]: r for r in read_csv(ours / "grades.csv")}
    for student, r in rows.items():
        assert float(r["late_penalty"]) == penalties[student]
        assert float(r["score"]) == float(theirs[student]["score"]) == float(r["raw_score"]) - penalties[student]
    assert {s: r["seconds_late"] for s, r in rows.items()} == {
        "ontime": "0", "halfhour": "1800", "fourdays": "345600", "wronglate": "7200", "partial": "75600"}
    assert_outputs_agree(ours)
    assert "late: 4 submission(s) after the due date" in proc.stdout
    assert re.search(r"fourdays\s+99-tiny\s+4 days late", proc.stdout), proc.stdout
    report = (ours / "report.html").read_text(encoding="utf-8")
    assert "Late submissions (4)" in report and "30 min" in report
    page = (ours / "feedback" / "halfhour" / tiny.ASSIGNMENT / f"{tiny.ASSIGNMENT}.html").read_text(encoding="utf-8")
    assert "Late submission penalty" in page


def test_a_due_date_moved_or_an_extension_after_grading_recomputes_the_penalty(late_classes, tmp_path):
    """A due date moved and an extension granted after grading (``nbgrader db`` in the course root, or the
    formgrader): ``autograder feedback`` recomputes the penalties from the gradebook, as nbgrader's would."""
    shutil.copytree(late_classes("zero")[0] / "ours", tmp_path / "ours")
    out = tmp_path / "ours"  # the course root the grader graded into
    source = out / "source"
    assert float({r["student_id"]: r for r in read_csv(out / "grades.csv")}["halfhour"]["score"]) == 0
    nbgrader("db", "assignment", "add", tiny.ASSIGNMENT, "--duedate=2026-02-02 10:00:00 UTC", cwd=out)
    proc = autograder("feedback", "--out", out, "--source", source)
    # halfhour and partial are on time now: their pages change; fourdays stays late (and scored 0)
    assert "feedback pages rewritten: 2;" in proc.stdout, proc.stdout
    rows = {r["student_id"]: r for r in read_csv(out / "grades.csv")}
    assert {s: (r["score"], r["late_penalty"]) for s, r in rows.items()} == {
        "ontime": ("3", "0"), "halfhour": ("3", "0"), "fourdays": ("0", "3"), "wronglate": ("0", "0"),
        "partial": ("2", "0")}
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        gb.grant_extension(tiny.ASSIGNMENT, "fourdays", days=5)
    autograder("feedback", "--out", out, "--source", source)
    rows = {r["student_id"]: r for r in read_csv(out / "grades.csv")}
    assert (rows["fourdays"]["score"], rows["fourdays"]["late_penalty"], rows["fourdays"]["seconds_late"]) == \
        ("3", "0", "0")
    assert rows["halfhour"]["score"] == "3"
    assert_outputs_agree(out)


# -- regrading, selections, manual grades ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_chapters(tmp_path_factory):
    """ann, bob, cat x 99-tiny, 98-tiny, graded once into a grading folder of its own (not the course root);
    each test works on a copy (:func:`copy_of`)."""
    root = tmp_path_factory.mktemp("term-class")
    source = make_course(root / "course")
    for student, code in STUDENTS.items():
        tiny.write(root / "class", student, notebook=tiny.student_notebook(code), timestamp="2026-03-01 10:00:00 UTC")
        tiny.write(root / "class", student, notebook=tiny_second.student_notebook(code),
                   timestamp="2026-03-01 10:00:00 UTC", folder=Path(student) / tiny_second.ASSIGNMENT,
                   name=f"{tiny_second.ASSIGNMENT}.ipynb")
    proc = autograder("grade", root / "class", "--out", root / "grading", "--source", source, "--workers", 2)
    assert "graded 6 of 6 notebook(s)" in proc.stdout
    return root


def copy_of(root, tmp_path):
    """A test's own copy of a shared graded class: course, class and grading folder move together (the
    grading folder's config names the course by a relative path)."""
    shutil.copytree(root, tmp_path / "term")
    return tmp_path / "term"


def _graded_at(out):
    with sqlite3.connect(out / "gradebook.db") as db:
        return {(s, a): t for s, a, t in db.execute(
            "select student_id, assignment_id, graded_at from autograder_outcome")}


def test_force_and_selections_regrade_exactly_those_and_keep_manual_grades(two_chapters, tmp_path):
    root = copy_of(two_chapters, tmp_path)
    source, klass, out = root / "course" / "source", root / "class", root / "grading"
    args = ("--out", out, "--source", source, "--workers", 2)
    # a grader's work, as the formgrader stores it: bob's wrong function gets 1 of 2 with a comment, ann a comment
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        grade = gb.find_grade("test_min_max_scale_tiny", tiny.ASSIGNMENT, tiny.ASSIGNMENT, "bob")
        grade.manual_score, grade.needs_manual_grade = 1.0, False
        gb.find_comment("min_max_scale", tiny.ASSIGNMENT, tiny.ASSIGNMENT, "bob").manual_comment = "Rows, not columns."
        gb.find_comment("min_max_scale", tiny_second.ASSIGNMENT, tiny_second.ASSIGNMENT, "ann").manual_comment = "Neat."
        gb.db.commit()
    proc = autograder("grade", klass, *args)
    assert "graded 0 of 0 notebook(s)" in proc.stdout and "6 already graded" in proc.stdout
    assert "feedback pages rewritten from the gradebook (manual grades, comments, late penalties): 2" in proc.stdout
    assert assert_outputs_agree(out)[("bob", tiny.ASSIGNMENT)] == 1.0
    before = _graded_at(out)

    proc = autograder("grade", klass, *args, "--force", "--student", "bob", "--assignment", tiny.ASSIGNMENT)
    assert "graded 1 of 1 notebook(s)" in proc.stdout
    after = _graded_at(out)
    assert {k for k in after if after[k] != before[k]} == {("bob", tiny.ASSIGNMENT)}
    proc = autograder("grade", klass, *args, "--force", "--student", "ann", "--student", "cat")
    assert "graded 4 of 4 notebook(s)" in proc.stdout
    again = _graded_at(out)
    assert {k for k in again if again[k] != after[k]} == {(s, a) for s in ("ann", "cat")
                                                          for a in (tiny.ASSIGNMENT, tiny_second.ASSIGNMENT)}
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:  # nothing of the grader's work was lost
        grade = gb.find_grade("test_min_max_scale_tiny", tiny.ASSIGNMENT, tiny.ASSIGNMENT, "bob")
        assert (grade.manual_score, grade.auto_score, grade.needs_manual_grade) == (1.0, 0.0, True)
        assert gb.find_comment("min_max_scale", tiny.ASSIGNMENT, tiny.ASSIGNMENT, "bob").manual_comment \
            == "Rows, not columns."
        assert gb.find_comment("min_max_scale", tiny_second.ASSIGNMENT, tiny_second.ASSIGNMENT, "ann").manual_comment \
            == "Neat."
    scores = assert_outputs_agree(out)
    assert scores[("bob", tiny.ASSIGNMENT)] == 1.0
    assert "Rows, not columns." in (out / "feedback" / "bob" / tiny.ASSIGNMENT / f"{tiny.ASSIGNMENT}.html").read_text()
    assert "Neat." in (out / "feedback" / "ann" / tiny_second.ASSIGNMENT / f"{tiny_second.ASSIGNMENT}.html").read_text()

    for bad, said in ((("--student", "zed"), "no submission of student(s) 'zed'"),
                      (("--assignment", "42-unknown"), "unknown assignment(s) 42-unknown")):
        proc = autograder("grade", klass, *args, *bad, check=False)
        assert proc.returncode == 2 and said in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_a_resubmission_after_a_manual_grade_is_listed_for_review_everywhere(two_chapters, tmp_path):
    root = copy_of(two_chapters, tmp_path)
    source, out = root / "course" / "source", root / "grading"
    args = ("--out", out, "--source", source, "--workers", 2)
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        grade = gb.find_grade("test_min_max_scale_tiny", tiny.ASSIGNMENT, tiny.ASSIGNMENT, "bob")
        grade.manual_score, grade.needs_manual_grade = 1.0, False
        gb.db.commit()
    tiny.write(root / "second", "bob", notebook=tiny.student_notebook(), timestamp="2026-03-02 10:00:00 UTC")
    proc = autograder("grade", root / "second", *args)
    assert "graded 1 of 1 notebook(s)" in proc.stdout
    why = "manual grade 1 of 2 kept on test_min_max_scale_tiny, the autograder now gives 2"
    assert "needs review: 1 submission(s)" in proc.stdout and why in proc.stdout
    reviews = {(r["student_id"], r["assignment"]): r["review"] for r in read_csv(out / "grades.csv")}
    assert why in reviews.pop(("bob", tiny.ASSIGNMENT)) and set(reviews.values()) == {""}
    scores = assert_outputs_agree(out)  # the manual grade counts until a grader decides: 1 + 1, everywhere
    assert scores[("bob", tiny.ASSIGNMENT)] == 2.0
    report = html.unescape((out / "report.html").read_text(encoding="utf-8"))
    assert "Listed for review (1)" in report and why in report
    # cat's partial answer stays an undiagnosed failure (the tiny chapter has no catalogue); bob's manual grade is none
    undiagnosed = re.findall(rf"<tr><td>{tiny.ASSIGNMENT}</td><td>[^<]*</td><td><i>no diagnosis</i></td>.*?"
                             r"<td>([^<]*)</td></tr>", report)
    assert undiagnosed == ["cat"], "a manual grade is no undiagnosed failure"
    # the grader accepts the new autograde in the formgrader (clears the manual score): review gone, 3 everywhere
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        grade = gb.find_grade("test_min_max_scale_tiny", tiny.ASSIGNMENT, tiny.ASSIGNMENT, "bob")
        grade.manual_score, grade.needs_manual_grade = None, False
        gb.db.commit()
    proc = autograder("feedback", "--out", out, "--source", source)
    assert "needs review" not in proc.stdout and "feedback pages rewritten: 1;" in proc.stdout
    assert assert_outputs_agree(out)[("bob", tiny.ASSIGNMENT)] == 3.0
    assert {r["review"] for r in read_csv(out / "grades.csv")} == {""}


# -- the output folder as a course of its own, LMS export, nbgrader from the venv --------------------------------


def test_grading_folder_is_a_course_of_its_own_with_an_lms_table(two_chapters, tmp_path):
    root = copy_of(two_chapters, tmp_path)  # moved: nbgrader below runs in the copy
    source, out = root / "course" / "source", root / "grading"
    config = (out / "nbgrader_config.py").read_text()
    assert "load_subconfig" in config and str(two_chapters) not in config, "relative paths: the folders move together"
    roster = tmp_path / "roster.csv"  # what an instructor imports from the LMS
    roster.write_text("id,first_name,last_name,email,lms_user_id\nann,Ann,Lee,ann@example.org,lms-17\n"
                      "bob,Bob,Kim,bob@example.org,lms-23\ndan,Dan,Park,dan@example.org,lms-31\n")
    nbgrader("db", "student", "import", roster, cwd=out)  # nbgrader's own command, in the grading folder
    assert "dan" in nbgrader("db", "student", "list", cwd=out).stdout
    autograder("feedback", "--out", out, "--source", source)
    wide = {r["student_id"]: r for r in read_csv(out / "grades-wide.csv")}
    assert list(next(iter(wide.values()))) == ["student_id", "first_name", "last_name", "email", "lms_user_id",
                                                tiny_second.ASSIGNMENT, tiny.ASSIGNMENT, "total", "max_total"]
    assert (wide["ann"]["first_name"], wide["ann"]["email"], wide["ann"]["lms_user_id"]) == \
        ("Ann", "ann@example.org", "lms-17")
    assert {s: (r[tiny_second.ASSIGNMENT], r[tiny.ASSIGNMENT], r["total"], r["max_total"])
            for s, r in wide.items()} == {"ann": ("2", "3", "5", "5"), "bob": ("0", "0", "0", "5"),
                                          "cat": ("2", "2", "4", "5"), "dan": ("0", "0", "0", "5")}
    export = {}
    for r in read_csv(out / "nbgrader_export.csv"):  # the same numbers as nbgrader's export, summed
        export[r["student_id"]] = export.get(r["student_id"], 0.0) + float(r["score"])
    assert export == {s: float(r["total"]) for s, r in wide.items()}


def test_nbgrader_from_the_venv_needs_no_venv_on_path(tmp_path):
    """``.venv/bin/nbgrader`` creates gradebooks (it runs ``alembic``) in the course root and a grading folder;
    without the course config's PATH line it cannot (the failure this guards against)."""
    course = tmp_path / "course"
    shutil.copytree(COURSE_ROOT, course, ignore=shutil.ignore_patterns("release*", "gradebook.db", "submitted",
                                                                       "autograded", "feedback"))
    chapter = sorted(p.name for p in (course / "source").iterdir())[0]
    config = (course / "nbgrader_config.py").read_text()
    line = 'os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")\n'
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

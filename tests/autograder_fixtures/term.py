"""Helpers of the term tests (tests/test_autograder_term*.py): nbgrader and the grader run as an instructor's
shell would (``PATH=/usr/bin:/bin``, no virtualenv on it), a tiny course of two assignments, and the numbers every
output shows for each student (grades.csv, nbgrader's export, grades-wide.csv, the feedback page, the report).
"""

import csv
import html
import re
import subprocess
import sys
from pathlib import Path

from coursebook.paths import REPO
from tests.autograder_fixtures import cli, tiny, tiny_second

COURSE_ID = "term-course"
PLAIN_PATH = "/usr/bin:/bin"  # no virtualenv: what `.venv/bin/nbgrader` and `.venv/bin/autograder` meet
NBGRADER = [str(Path(sys.executable).with_name("nbgrader"))]
AUTOGRADER = [str(Path(sys.executable).with_name("autograder"))]
# A function that ignores feature_range: the main test passes (2 points), the range test fails (1 point).
PARTIAL = tiny.CORRECT.replace("low, high = feature_range", "low, high = 0.0, 1.0")
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
        'BIN = os.path.dirname(sys.executable)  # first on PATH, once: nbgrader may load this file often\n'
        'REST = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p not in ("", BIN)]\n'
        'os.environ["PATH"] = os.pathsep.join([BIN, *REST])\n'
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        "c.ClearSolutions.code_stub = {'python': '# YOUR CODE HERE\\nraise NotImplementedError()'}\n"
        f"c.Exchange.root = {str(root.parent / 'exchange')!r}\n" + extra)
    return source


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
            cell = re.sub(r"<[^>]+>", "", cell)  # a cell links to its feedback page
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


STUDENTS = {"ann": tiny.CORRECT, "bob": tiny.WRONG, "cat": PARTIAL}

"""Run the autograder command line as an instructor would, and read what it wrote."""

import csv
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

from autograder.sandbox import bwrap as sandbox
from coursebook.paths import REPO


def env():
    environ = dict(os.environ)
    environ["PYTHONPATH"] = str(REPO)
    environ["MPLBACKEND"] = "Agg"
    environ["COURSE_EXTRA_CHAPTERS"] = "tests.autograder_fixtures.tiny_chapter"
    return environ


def command(*args):
    return [sys.executable, "-m", "autograder", *map(str, args)]


def run(*args, timeout=900):
    """``python -m autograder ARGS`` from the repository root; the CompletedProcess."""
    return subprocess.run(command(*args), cwd=REPO, env=env(), capture_output=True, text=True, timeout=timeout)


def start(*args):
    """The same, in the background (for the interruption tests)."""
    return subprocess.Popen(command(*args), cwd=REPO, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def by_student(rows):
    return {r["student_id"]: r for r in rows}


def sandbox_processes(grader_pid=None):
    """pids of live processes running as a sandbox uid (root mode) or in a grader's control group
    (of the grader ``grader_pid``, or of any grader)."""
    low = sandbox.UID_BASE + (grader_pid % 10_000) * sandbox.UID_BLOCK if grader_pid else sandbox.UID_BASE
    high = low + sandbox.UID_BLOCK if grader_pid else 2**32
    group = f"/autograder-{grader_pid}-" if grader_pid else "/autograder-"
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                uid = entry.stat().st_uid
                state = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()[0]
                groups = (entry / "cgroup").read_text()
            except (OSError, IndexError):
                continue
            if state not in (b"Z", b"X") and (low <= uid < high or group in groups):
                found.append(int(entry.name))
    return found


class _Matrix(HTMLParser):
    """The rows of the table that follows the heading "Grades": cells as (text, href or None)."""

    def __init__(self):
        super().__init__()
        self.heading = self.in_matrix = False
        self.rows, self.cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "h2":
            self.heading, self.in_matrix = True, False
        elif self.in_matrix and tag == "tr":
            self.rows.append([])
        elif self.in_matrix and tag in ("td", "th"):
            self.cell = ["", None]
        elif self.cell is not None and tag == "a":
            self.cell[1] = dict(attrs).get("href")

    def handle_endtag(self, tag):
        if tag == "h2":
            self.heading = False
        elif tag == "table":
            self.in_matrix = False
        elif self.cell is not None and tag in ("td", "th"):
            self.rows[-1].append((self.cell[0].strip(), self.cell[1]))
            self.cell = None

    def handle_data(self, data):
        if self.heading:
            self.in_matrix = data.strip() == "Grades"
        elif self.cell is not None:
            self.cell[0] += data


def grade_matrix(report):
    """report.html's grade matrix: {student: {chapter: (score text, linked file or None)}}, files resolved
    from the report's folder."""
    parser = _Matrix()
    parser.feed(Path(report).read_text(encoding="utf-8"))
    header, *rows = parser.rows
    chapters = [text for text, _ in header[1:]]
    return {row[0][0]: {c: (text, href and Path(report).parent / unquote(href)) for c, (text, href)
                        in zip(chapters, row[1:], strict=True)} for row in rows}

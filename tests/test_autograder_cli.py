"""The command line: zip input (safe extraction), bad usage (exit 2, one line), the demo class."""

import uuid
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.authoring import demo
from checks import mistakes
from coursebook import paths
from solutions.chapters import chapter as declared
from tests.autograder_fixtures import cli, tiny

pytestmark = [pytest.mark.bwrap, pytest.mark.slow]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    return tiny.make_course(root / "course")


def _one_line_error(proc):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr[-1500:])
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "error:" in lines[0], proc.stderr
    return lines[0]


def test_missing_path_exits_2(course, tmp_path):
    proc = cli.run("grade", tmp_path / "nowhere", "--out", tmp_path / "out", "--source", course)
    assert "no such file or directory" in _one_line_error(proc)
    assert not (tmp_path / "out").exists()


def test_unknown_assignment_exits_2(course, tmp_path):
    tiny.write(tmp_path / "class", "ann", notebook=tiny.student_notebook())
    (tmp_path / "class" / "ann" / "42-unknown").mkdir()
    proc = cli.run("grade", tmp_path / "class", "--out", tmp_path / "out", "--source", course)
    assert "unknown assignment(s) 42-unknown" in _one_line_error(proc)


def test_unreadable_zip_exits_2(course, tmp_path):
    bad = tmp_path / "class.zip"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip file")
    proc = cli.run("grade", bad, "--out", tmp_path / "out", "--source", course)
    assert "unreadable zip" in _one_line_error(proc)


def test_bad_option_values_exit_2(course, tmp_path):
    for option, value in (("--workers", "0"), ("--memory-mb", "12"), ("--cell-timeout", "-1")):
        proc = cli.run("grade", tmp_path, "--source", course, option, value)
        assert proc.returncode == 2 and option in proc.stderr


def test_unreachable_database_exits_2(course, tmp_path):
    tiny.write(tmp_path / "class", "ann", notebook=tiny.student_notebook())
    proc = cli.run("grade", tmp_path / "class", "--out", tmp_path / "out", "--source", course,
                   "--db-url", "postgresql://nobody@127.0.0.1:9/none?connect_timeout=2")
    assert "cannot open the gradebook" in _one_line_error(proc)


@pytest.mark.parametrize("evil", ["../escaped-{tag}.txt", "/tmp/absolute-{tag}.txt", "ann/../../up-{tag}.txt",
                                  "C:/windows-{tag}.txt"])
def test_zip_with_paths_outside_is_rejected_and_writes_nothing(course, tmp_path, evil):
    tag = uuid.uuid4().hex
    name = evil.format(tag=tag)
    archive = tmp_path / "zips" / "class.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(f"ann/{tiny.ASSIGNMENT}/{tiny.ASSIGNMENT}.ipynb", nbformat.writes(tiny.student_notebook()))
        zf.writestr(name, "pwned")
    out = tmp_path / "work" / "out"
    proc = cli.run("grade", archive, "--out", out, "--source", course)
    assert "unsafe zip" in _one_line_error(proc)
    leaked = [p for p in (tmp_path / "zips" / Path(name).name, tmp_path / "work" / Path(name).name,
                          Path("/tmp") / Path(name).name, paths.REPO / Path(name).name, Path(name))
              if p.exists()]
    assert leaked == []
    assert not (out / "grades.csv").exists()


def test_zip_of_a_class_is_graded_like_the_folder(course, tmp_path):
    folder = tmp_path / "class"
    tiny.write(folder, "ann", notebook=tiny.student_notebook(), timestamp="2026-03-01 12:00:00 UTC")
    tiny.write(folder, "bo", notebook=tiny.student_notebook(tiny.WRONG))
    tiny.write(folder, "cy", text="{not json")
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():  # wrapped in a top folder, as zipping a folder usually does
                zf.write(path, Path("submitted") / path.relative_to(folder))
    proc = cli.run("grade", archive, "--out", tmp_path / "out", "--source", course, "--workers", 2)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = cli.by_student(cli.read_csv(tmp_path / "out" / "grades.csv"))
    assert {k: (r["score"], r["status"]) for k, r in rows.items()} == {
        "ann": ("3", "ok"), "bo": ("0", "ok"), "cy": ("0", "invalid_notebook")}


def test_no_sandbox_available_exits_2(course, tmp_path):
    tiny.write(tmp_path / "class", "ann", notebook=tiny.student_notebook())
    env = dict(cli.env(), PATH="/nonexistent")  # no bwrap on the PATH: refuse, never grade unsandboxed
    import subprocess

    proc = subprocess.run(cli.command("grade", tmp_path / "class", "--out", tmp_path / "out", "--source", course),
                          cwd=paths.REPO, env=env, capture_output=True, text=True, timeout=300)
    assert "bubblewrap" in _one_line_error(proc) and "--no-sandbox" in proc.stderr


def test_unreachable_scheduler_exits_2(course, tmp_path):
    tiny.write(tmp_path / "class", "ann", notebook=tiny.student_notebook())
    proc = cli.run("grade", tmp_path / "class", "--out", tmp_path / "out", "--source", course,
                   "--scheduler", "tcp://127.0.0.1:9")
    assert "cannot reach the Dask scheduler" in _one_line_error(proc)


def test_preflight_refuses_limits_that_cost_honest_work(course, tmp_path):
    """The reference answers must get full marks under the batch's limits, or no student is graded."""
    tiny.write(tmp_path / "class", "ann", notebook=tiny.student_notebook())
    slow = tmp_path / "slow-course"
    import shutil

    shutil.copytree(course.parent, slow)
    nb = nbformat.read(str(slow / "source" / tiny.ASSIGNMENT / f"{tiny.ASSIGNMENT}.ipynb"), as_version=4)
    for cell in nb.cells:  # the reference answer now takes 3 s: over a 1 s cell limit
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = "import time\ntime.sleep(3)\n" + cell.source
    nbformat.write(nb, str(slow / "source" / tiny.ASSIGNMENT / f"{tiny.ASSIGNMENT}.ipynb"))
    proc = cli.run("grade", tmp_path / "class", "--out", tmp_path / "out", "--source", slow / "source",
                   "--cell-timeout", 1)
    line = _one_line_error(proc)
    assert "pre-flight" in line and tiny.ASSIGNMENT in line and "--cell-timeout 1" in line, line
    assert not (tmp_path / "out" / "grades.csv").exists()


@pytest.mark.parametrize("command", ["report", "mistakes"])
def test_report_without_gradebook_exits_2(tmp_path, command):
    proc = cli.run(command, "--out", tmp_path)
    assert f"autograder {command}: error: no gradebook" in _one_line_error(proc)


def test_demo_class_covers_correct_wrong_untouched_and_broken(tmp_path):
    chapters = paths.chapter_ids()
    roster = demo.build_class(tmp_path / "class", chapters)
    kinds = {}
    for _student, chapter, kind in roster:
        kinds.setdefault(chapter, []).append(kind)
    for chapter in chapters:
        assert "correct" in kinds[chapter] and "release untouched" in kinds[chapter]
        assert mistakes.catalogue(declared(chapter)), f"{chapter} has no catalogued mistakes"
        assert any(k.startswith("mistake") for k in kinds[chapter]), chapter
        assert any(k.startswith("fresh notebook") for k in kinds[chapter]), chapter
        assert len(kinds[chapter]) >= 5
    assert {k for ks in kinds.values() for k in ks} & set(demo.BROKEN)
    students = {s for s, _, _ in roster}
    assert "chen li" in students and "björn" in students  # a space and a non-ASCII letter
    # the correct student's answers are the source's, without solution markers or hidden tests
    ada = nbformat.read(str(tmp_path / "class" / "ada" / chapters[0] / f"{chapters[0]}.ipynb"), as_version=4)
    text = "\n".join(c.source for c in ada.cells)
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    assert "raise NotImplementedError" not in text

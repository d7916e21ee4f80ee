"""Nothing a kernel writes outlives it, reaches a neighbour or the host; one notebook cannot hang the batch.

Run as root with the fork server (as CI and a grading machine do), one worker, so that every kernel of the
class is forked by the same fork server, one after another:

- writer/reader pairs: a writer tries to leave a file, a FIFO, a symlink and a folder in every folder of
  its filesystem view (``tests.autograder_fixtures.hostile.fs_writer``), the next kernel of the slot lists
  its whole view for them; the reader sees nothing and its grade equals its grade in a clean run;
- the job folder: a kernel replaces its log with a FIFO and its connection file with a symlink to a host
  file, and fills the folder; the worker never blocks (it reads through a descriptor opened before the
  kernel started), the batch ends, and the folder held at most its tmpfs size;
- a kernel's memory is its own: what one kernel used is never charged to the next (a control group per
  kernel), and the fork server survives a kernel that kills every process it can see;
- the fork server is spared by the OOM killer (its actual ``oom_score_adj``) and kernels go first.
"""

import os
import re
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from tests.autograder_fixtures import attacks, cli, hostile, tiny

pytestmark = [pytest.mark.root, pytest.mark.bwrap, pytest.mark.slow]


def _grade(root, students, *extra):
    for student, code in students.items():
        tiny.write(root / "class", student, notebook=tiny.student_notebook(code))
    started = time.monotonic()
    proc = cli.run("grade", root / "class", "--out", root / "out", "--source", root / "course" / "source",
                   "--workers", 1, "--cell-timeout", 60, "--notebook-timeout", 90, "--memory-mb", 1024, *extra)
    seconds = time.monotonic() - started
    rows = {r["student_id"]: r for r in cli.read_csv(root / "out" / "grades.csv")} if proc.returncode == 0 else {}
    return proc, rows, seconds


def _printed(root, student):
    path = root / "out" / "autograded" / student / tiny.ASSIGNMENT / f"{tiny.ASSIGNMENT}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    return "".join(str(o.get("text", "")) for c in nb.cells for o in c.get("outputs", []))


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The same reader graded alone (clean) and after writers in the same slot."""
    marker = f"left-{uuid.uuid4().hex[:8]}"
    clean = tmp_path_factory.mktemp("clean")
    tiny.make_course(clean / "course")
    clean_proc, clean_rows, _ = _grade(clean, {"b_reader": tiny.CORRECT + hostile.fs_reader(marker)})
    attacked = tmp_path_factory.mktemp("attacked")
    tiny.make_course(attacked / "course")
    students = {  # graded in this order by the one worker (sorted ids)
        "a_writer": attacks.ZEROS + hostile.fs_writer(marker),
        "a_writer_job_folder": attacks.ZEROS + hostile.job_folder_attack(),
        "a_writer_kill_all": attacks.ZEROS + "\nimport os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\n"
                             "except OSError as err:\n    print(err)",
        "b_reader": tiny.CORRECT + hostile.fs_reader(marker),
        "c_correct": tiny.CORRECT + "\nprint(open('/proc/self/oom_score_adj').read().strip(), 'oom_score_adj')",
    }
    proc, rows, seconds = _grade(attacked, students)
    print(f"attacked batch: {len(students)} notebooks in {seconds:.1f} s")
    return {"clean": (clean_proc, clean_rows), "attacked": (proc, rows), "root": attacked, "marker": marker}


def test_the_batch_completes_and_every_kernel_was_forked_by_one_server(pair):
    proc, rows = pair["attacked"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "kernels: 5 of 5 forked" in proc.stdout, proc.stdout[-1500:]
    assert {r["status"] for r in rows.values()} == {"ok"}, rows


def test_the_reader_sees_nothing_and_keeps_its_clean_grade(pair):
    _, clean_rows = pair["clean"]
    _, rows = pair["attacked"]
    assert (rows["b_reader"]["status"], rows["b_reader"]["score"]) == \
        (clean_rows["b_reader"]["status"], clean_rows["b_reader"]["score"]) == ("ok", "3")
    assert "found: []" in _printed(pair["root"], "b_reader")


def test_only_the_kernels_own_tmpfs_mounts_are_writable(pair):
    printed = _printed(pair["root"], "a_writer")
    writable = re.search(r"writable: \[(.*)\]", printed).group(1)
    tops = {path.strip("'").split("/")[1] for path in writable.split(", ") if path}
    assert tops <= {"tmp", "dev", "home"}, writable  # /tmp, /dev/shm, the home folder (and the job's folder)
    for path in writable.split(", "):
        path = path.strip("'")
        assert path.startswith(("/tmp", "/dev/shm", "/home/student")), path
    assert not [p for p in Path("/tmp").glob(f"{pair['marker']}*")]


def test_the_job_folder_is_capped_and_never_blocks_the_worker(pair):
    printed = _printed(pair["root"], "a_writer_job_folder")
    stored = int(re.search(r"stored MB: (\d+)", printed).group(1))
    assert stored <= 8, printed  # its tmpfs, not the host's disk


def test_the_fork_server_survives_a_kernel_that_kills_everything(pair):
    _, rows = pair["attacked"]
    assert rows["c_correct"]["score"] == "3"
    assert "1000 oom_score_adj" in _printed(pair["root"], "c_correct")  # kernels go first


@pytest.fixture
def staging():
    """A staging folder sandbox users can traverse (pytest's own folders are private to root)."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="autograder-isolation-"))
    os.chmod(folder, 0o711)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_kernels_memory_is_its_own_and_the_fork_server_is_spared(staging, monkeypatch):
    """In process: two kernels forked by one server; the first fills /dev/shm, the second's peak is its own."""
    from autograder.common.records import Job, Limits
    from autograder.execution import worker
    from autograder.grading import master
    from tests.autograder_fixtures import tiny_chapter

    tmp_path = staging
    monkeypatch.setenv("AUTOGRADER_STAGING", str(tmp_path))
    monkeypatch.setattr(worker, "_PROCESS", worker._Process())
    source = tiny.make_course(tmp_path / "course") / tiny.ASSIGNMENT / f"{tiny.ASSIGNMENT}.ipynb"
    mst = master.build(tiny_chapter.CHAPTER, source, "sha", None, ("import numpy as np", *master.JUPYTER_PRELOAD))
    limits = Limits(cell_timeout=60, notebook_timeout=90, memory_mb=1024)
    hog = tiny.CORRECT + "\nwith open('/dev/shm/hog', 'wb') as fh:\n    for _ in range(200):\n" \
                         "        fh.write(b'x' * 2**20)\nhold = bytearray(300 * 2**20)\nhold[::4096] = b'x' * " \
                         "len(hold[::4096])"
    runs = []
    for code in (hog, tiny.CORRECT):
        data = nbformat.writes(tiny.student_notebook(code)).encode()
        runs.append(worker.run_job(Job("ann", tiny.ASSIGNMENT, data, "x.ipynb", "s", "", ()), mst, limits, slot=0))
    zygote = worker._PROCESS.zygotes[0][1]
    try:
        assert all(r.forked and not r.grader_error for r in runs), [r.grader_error for r in runs]
        assert runs[0].peak_memory_mb > 450, runs[0].peak_memory_mb  # its own group counted its tmpfs and heap
        assert runs[1].peak_memory_mb < runs[0].peak_memory_mb - 400, (runs[0].peak_memory_mb, runs[1].peak_memory_mb)
        adjustments = {pid: int(Path(f"/proc/{pid}/oom_score_adj").read_text()) for pid in zygote.server_pids()}
        capabilities = int(re.search(r"CapEff:\s*(\w+)", Path("/proc/self/status").read_text()).group(1), 16)
        if capabilities >> 24 & 1:  # CAP_SYS_RESOURCE: the server is never picked
            assert set(adjustments.values()) == {-1000}, adjustments
        else:  # (a container without it): it cannot be lowered; kernels raise theirs to 1000 and go first
            assert all(value <= 0 for value in adjustments.values()), adjustments
    finally:
        worker._PROCESS.drop_zygote(0)

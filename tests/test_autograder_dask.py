"""Grading on a Dask cluster started as an instructor would: ``dask scheduler`` and two ``dask worker``.

Everything listens on 127.0.0.1 only. The grades through the cluster equal a local run's; a worker
killed mid-batch (its whole process group, nanny included) loses nothing and duplicates nothing;
a scheduler that goes away mid-batch stops the grader with exit 3, what was recorded is kept, and a
rerun on a new cluster resumes.
"""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.autograder_fixtures import cli, tiny

pytestmark = [pytest.mark.bwrap, pytest.mark.slow]

DASK = str(Path(sys.executable).parent / "dask")
SLOW = "import time\ntime.sleep(1.0)\n"
ANSWERS = [(tiny.CORRECT, "3"), (tiny.WRONG, "0"), ("raise NotImplementedError()", "0")]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """A scheduler and ``workers`` single-threaded workers on loopback, each in its own process group."""

    def __init__(self, folder, workers=2, port=None):
        self.port = port or _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.scheduler = self._start("scheduler", [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                                                   "--no-dashboard"])
        self.workers = [self._start(f"worker{i}", [DASK, "worker", self.address, "--nthreads", "1", "--host",
                                                   "127.0.0.1", "--no-dashboard", "--name", f"w{i}"])
                        for i in range(workers)]
        self.wait_for(workers)

    def _start(self, name, cmd):
        log = open(self.folder / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        return subprocess.Popen(cmd, env=cli.env(), stdout=log, stderr=log, start_new_session=True)

    def wait_for(self, workers, timeout=120):
        from distributed import Client

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with Client(self.address, timeout=5, set_as_default=False) as client:
                    if len(client.scheduler_info()["workers"]) >= workers:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"the cluster did not come up: {(self.folder / 'scheduler.log').read_text()[-2000:]}")

    @staticmethod
    def kill(proc):
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the worker and its nanny, or the scheduler
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)

    def close(self):
        for proc in [*self.workers, self.scheduler]:
            self.kill(proc)


def _class(root, students, slow=False):
    for i in range(students):
        answer, _score = ANSWERS[i % 3]
        tiny.write(root, f"student{i:02d}", notebook=tiny.student_notebook((SLOW if slow else "") + answer))
    tiny.write(root, "z_os_exit", notebook=tiny.student_notebook(tiny.CORRECT + "\nimport os\nos._exit(3)"))


def _expected(students):
    rows = {f"student{i:02d}": ("ok", ANSWERS[i % 3][1]) for i in range(students)}
    rows["z_os_exit"] = ("kernel_died", "0")
    return rows


def _rows(out):
    return {r["student_id"]: (r["status"], r["score"]) for r in cli.read_csv(out / "grades.csv")}


def _recorded(out):
    try:
        with sqlite3.connect(f"file:{out / 'gradebook.db'}?mode=ro", uri=True, timeout=5) as db:
            return db.execute("select count(*) from autograder_outcome").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _no_duplicates(out):
    with sqlite3.connect(out / "gradebook.db") as db:
        subs = db.execute("select count(*), count(distinct student_id || assignment_id) "
                          "from submitted_assignment join assignment on assignment.id = assignment_id").fetchone()
        journal = db.execute("select count(*) from autograder_outcome").fetchone()[0]
    return subs[0] == subs[1] == journal


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return tiny.make_course(tmp_path_factory.mktemp("dask-course"))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Shared by the tests below, in file order: the third kills one of its workers, the last resumes a batch on
    it."""
    started = Cluster(tmp_path_factory.mktemp("cluster"))
    yield started
    started.close()


def test_grades_through_the_cluster_equal_a_local_run(course, cluster, tmp_path):
    _class(tmp_path / "class", len(ANSWERS))  # one student per answer, and the kernel that dies
    proc = cli.run("grade", tmp_path / "class", "--out", tmp_path / "dask", "--source", course,
                   "--scheduler", cluster.address)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Dask scheduler tcp://127.0.0.1" in proc.stdout and "2 worker(s)" in proc.stdout
    local = cli.run("grade", tmp_path / "class", "--out", tmp_path / "local", "--source", course, "--workers", 2)
    assert local.returncode == 0, local.stderr[-3000:]
    assert (tmp_path / "dask" / "grades.csv").read_text() == (tmp_path / "local" / "grades.csv").read_text()
    assert _rows(tmp_path / "dask") == _expected(len(ANSWERS))


def test_a_task_past_its_deadline_gets_its_worker_replaced(cluster):
    """The parent's deadline on Dask: the task is cancelled and the worker running it restarted by its nanny, so
    a thread stuck in a task (a blocked read) does not outlive it; the cluster keeps its workers."""
    from autograder.execution.engines import DaskEngine

    engine = DaskEngine(cluster.address)
    try:
        before = engine.client.run(os.getpid)
        future = engine.submit(time.sleep, 3600)
        deadline = time.monotonic() + 60
        while not any(future.key in keys for keys in engine.client.processing().values()):
            assert time.monotonic() < deadline, "the task never started"
            time.sleep(0.1)
        running = next(address for address, keys in engine.client.processing().items() if future.key in keys)
        engine.abandon(future)
        cluster.wait_for(2)
        deadline = time.monotonic() + 120
        while True:
            after = engine.client.run(os.getpid)
            if len(after) == 2 and set(after.values()) != set(before.values()):
                break
            assert time.monotonic() < deadline, (before, after)
            time.sleep(0.5)
        assert future.cancelled()
        assert before.get(running) not in set(after.values()), "the stuck worker process was replaced"
    finally:
        engine.close()


def test_a_killed_worker_loses_nothing(course, cluster, tmp_path):
    _class(tmp_path / "class", 10, slow=True)
    out = tmp_path / "out"
    proc = cli.start("grade", tmp_path / "class", "--out", out, "--source", course, "--scheduler", cluster.address)
    deadline = time.monotonic() + 300
    while _recorded(out) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, "the batch ended before a worker could be killed"
    Cluster.kill(cluster.workers[0])
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr[-3000:]
    assert "graded 11 of 11 notebook(s)" in stdout
    assert _rows(out) == _expected(10)
    assert _no_duplicates(out)


def test_a_scheduler_that_goes_away_stops_the_batch_and_a_rerun_resumes(course, cluster, tmp_path):
    _class(tmp_path / "class", 8, slow=True)
    doomed = Cluster(tmp_path / "cluster")
    out = tmp_path / "out"
    try:
        proc = cli.start("grade", tmp_path / "class", "--out", out, "--source", course, "--scheduler", doomed.address)
        deadline = time.monotonic() + 300
        while _recorded(out) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert proc.poll() is None, "the batch ended before the scheduler could be stopped"
        Cluster.kill(doomed.scheduler)
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        doomed.close()
    assert proc.returncode == 3, (proc.returncode, stderr[-2000:])
    assert "went away" in stderr and "rerun to resume" in stderr
    kept = _recorded(out)
    assert 2 <= kept < 9
    # the rerun on another cluster: the module's, already running (a worker fewer once the test above killed one)
    rerun = cli.run("grade", tmp_path / "class", "--out", out, "--source", course, "--scheduler", cluster.address)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"{kept} already graded, skipped" in rerun.stdout
    assert _rows(out) == _expected(8)
    assert _no_duplicates(out)

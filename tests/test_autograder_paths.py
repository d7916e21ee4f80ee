"""The grader works from any checkout path: a Python environment reached through a folder under /tmp (the
sandbox's private /tmp must not hide it), with a space and non-ASCII letters in its path, through a symlink.

The environment here is this checkout's venv seen through a symlink at such a path: the grader takes
``sys.prefix`` as the interpreter starts it, so kernels are started from that path, exactly as for a clone
under /tmp (issue: every grading of a checkout in /tmp exited 2 blaming user namespaces).
"""

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.autograder_fixtures import cli, tiny

pytestmark = [pytest.mark.bwrap, pytest.mark.slow]


@pytest.fixture(scope="module")
def venv_under_tmp():
    folder = Path(tempfile.mkdtemp(prefix="agpath-", dir="/tmp"))
    folder.chmod(0o755)  # as a clone's folder: sandbox users may pass through
    link = folder / "a checkout é" / ".venv"
    link.parent.mkdir()
    link.symlink_to(Path(sys.prefix))
    python = link / "bin" / "python"
    prefix = subprocess.run([python, "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert prefix == str(link), prefix  # the environment is seen at its path under /tmp, as in a clone there
    yield python
    link.unlink()
    link.parent.rmdir()
    folder.rmdir()


@pytest.mark.parametrize("fork_server", ["1", "0"], ids=["fork-server", "fresh-kernels"])
def test_an_environment_under_tmp_grades_like_any_other(tmp_path, venv_under_tmp, fork_server):
    source = tiny.make_course(tmp_path / "course")
    tiny.write(tmp_path / "class", "correct", notebook=tiny.student_notebook())
    tiny.write(tmp_path / "class", "wrong", notebook=tiny.student_notebook(tiny.WRONG))
    env = dict(cli.env(), AUTOGRADER_FORK_SERVER=fork_server)
    proc = subprocess.run([str(venv_under_tmp), "-m", "autograder", "grade", tmp_path / "class", "--out",
                           tmp_path / "out", "--source", source, "--workers", "1"],
                          cwd=cli.REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = {r["student_id"]: (r["status"], r["score"]) for r in cli.read_csv(tmp_path / "out" / "grades.csv")}
    assert rows == {"correct": ("ok", "3"), "wrong": ("ok", "0")}
    assert f"kernels: {2 if fork_server == '1' else 0} of 2 forked" in proc.stdout, proc.stdout[-1500:]

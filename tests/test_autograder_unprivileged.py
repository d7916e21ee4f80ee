"""The sandbox without root: the grader itself runs as ``nobody``, as an instructor's own account would.

Then there are no control groups and no uid per slot: bubblewrap builds the sandbox in an
unprivileged user namespace, memory is capped by RLIMIT_DATA and processes by RLIMIT_NPROC. CI runs
as root, so the test drops to ``nobody`` first: ``unshare --mount`` gives it a private mount
namespace in which the Python installation below ``/root`` (mode 700 here) is bound back under a
traversable tmpfs, then ``setpriv`` becomes ``nobody`` for good and runs the grader. An ordinary
user on a machine whose Python lives elsewhere needs none of this.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from coursebook.paths import REPO
from tests.autograder_fixtures import cli, tiny

pytestmark = [pytest.mark.root, pytest.mark.bwrap, pytest.mark.slow]

NOBODY = 65534
# memory RLIMIT_DATA does not count: shared anonymous mappings (RLIMIT_AS does) and memory files (refused)
SHARED_MEMORY = '''
import mmap, os
try:
    shared = mmap.mmap(-1, 3 * 2**30, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
    for offset in range(0, len(shared), 2**12):
        shared[offset] = 1
    print("MAPPED 3 GB")
except (OSError, MemoryError, ValueError) as err:
    print("mmap refused:", type(err).__name__)
try:
    fd = os.memfd_create("hog")
    for _ in range(40):
        os.write(fd, b"x" * 2**25)
    print("MEMFD WRITTEN")
except OSError as err:
    print("memfd refused:", err.strerror)
print(open("/proc/self/oom_score_adj").read().strip(), "oom_score_adj")'''


def _as_nobody(args, workdir):
    """The command that runs ``python -m autograder ARGS`` as nobody (or as we are, when not root)."""
    grader = [sys.executable, "-m", "autograder", *map(str, args)]
    if os.geteuid() != 0:
        return grader
    prefix = os.path.realpath(sys.base_prefix)
    private = next((p for p in Path(prefix).parents if p != Path("/") and not os.stat(p).st_mode & 0o001), None)
    script = ["set -e"]
    if private is not None:  # bind the interpreter back under a traversable tmpfs over its private ancestor
        stage = workdir / "stage"
        script += [f"mkdir -p {stage}", f"mount --bind {prefix} {stage}",
                   f"mount -t tmpfs -o mode=755,size=1m tmpfs {private}", f"mkdir -p {prefix}",
                   f"mount --bind {stage} {prefix}"]
    script.append(f"exec setpriv --reuid={NOBODY} --regid={NOBODY} --clear-groups "
                  + " ".join(f"'{a}'" for a in grader))
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(script)]


@pytest.fixture(scope="module")
def unprivileged_batch():
    work = Path(tempfile.mkdtemp(prefix="autograder-nobody-"))
    os.chmod(work, 0o777)
    try:
        source = tiny.make_course(work / "course")
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        listener.settimeout(0.1)
        port = listener.getsockname()[1]
        marker = f"nobody-{os.getpid()}"
        nb = tiny.student_notebook
        tiny.write(work / "class", "correct", notebook=nb())
        tiny.write(work / "class", "wrong", notebook=nb(tiny.WRONG))
        tiny.write(work / "class", "network", notebook=nb(tiny.WRONG + f'''
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=3)
    print("CONNECTED")
except OSError as err:
    print("network:", err)'''))
        tiny.write(work / "class", "snoop", notebook=nb(tiny.WRONG + f'''
import os
for path in ({str(work / "class" / "correct")!r}, {str(REPO / "solutions")!r}, "/tmp"):
    try:
        print(path, os.listdir(path))
    except OSError as err:
        print(path, "denied", type(err).__name__)
open("/tmp/{marker}", "w").write("left")'''))
        tiny.write(work / "class", "fork_bomb", notebook=nb(tiny.CORRECT + '''
import os, time
n = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(600)
            os._exit(0)
        n += 1
except OSError:
    print("fork refused after", n)'''))
        tiny.write(work / "class", "shared_memory", notebook=nb(tiny.CORRECT + SHARED_MEMORY))
        tiny.write(work / "class", "memory_bomb", notebook=nb(
            "def min_max_scale(X, feature_range=(0.0, 1.0)):\n    return bytearray(3 * 2**30)"))
        for folder in (work / "class", work / "course"):
            for path in [folder, *folder.rglob("*")]:
                os.chmod(path, 0o777 if path.is_dir() else 0o666)
        home = work / "home"
        home.mkdir(mode=0o777)
        env = dict(cli.env(), HOME=str(home), PATH=f"{os.path.dirname(sys.executable)}:/usr/bin:/bin")
        args = ["grade", work / "class", "--out", work / "out", "--source", source, "--workers", 2,
                "--cell-timeout", 20, "--memory-mb", 1024]
        proc = subprocess.run(_as_nobody(args, work), cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=900)
        accepted = []
        try:
            accepted.append(listener.accept())
        except OSError:
            pass
        listener.close()
        yield {"proc": proc, "out": work / "out", "accepted": accepted, "marker": marker}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _why(out):
    """The batch's grades and the end of grader.log (where a grader error's traceback is), for a failure message."""
    log = out / "grader.log"
    return f"{cli.read_csv(out / 'grades.csv')}\n{log.read_text()[-3000:] if log.exists() else ''}"


def _printed(batch, student):
    import nbformat

    path = batch["out"] / "autograded" / student / tiny.ASSIGNMENT / "99-tiny.ipynb"
    assert path.exists(), _why(batch["out"])
    nb = nbformat.read(str(path), 4)
    return "".join(str(o.get("text", "")) for c in nb.cells for o in c.get("outputs", []))


def test_the_grader_runs_unprivileged_and_grades(unprivileged_batch):
    proc = unprivileged_batch["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "memory by RLIMIT_DATA" in proc.stdout and "user namespace" in proc.stdout, proc.stdout[-800:]
    why = _why(unprivileged_batch["out"])
    rows = {r["student_id"]: (r["status"], r["score"]) for r in cli.read_csv(unprivileged_batch["out"] / "grades.csv")}
    assert rows["correct"] == ("ok", "3") and rows["wrong"] == ("ok", "0"), why
    assert rows["fork_bomb"] == ("ok", "3"), why
    assert rows["memory_bomb"][0] == "memory_limit" and rows["memory_bomb"][1] == "0", why
    assert rows["shared_memory"] == ("ok", "3"), why


def test_memory_rlimit_data_does_not_count_is_refused_too(unprivileged_batch):
    """--memory-mb holds without root: a shared mapping beyond it is refused (RLIMIT_AS) and memory files
    (memfd_create) are refused by the kernel's seccomp filter; the kernel goes first under memory pressure."""
    printed = _printed(unprivileged_batch, "shared_memory")
    assert "mmap refused:" in printed and "MAPPED" not in printed, printed
    assert "memfd refused: Operation not permitted" in printed and "MEMFD WRITTEN" not in printed, printed
    assert "1000 oom_score_adj" in printed, printed


def test_unprivileged_kernels_have_no_network_and_see_no_host_files(unprivileged_batch):
    assert unprivileged_batch["accepted"] == []
    assert "CONNECTED" not in _printed(unprivileged_batch, "network")
    assert "network:" in _printed(unprivileged_batch, "network")
    printed = _printed(unprivileged_batch, "snoop")
    assert printed.count("denied") == 2, printed  # a classmate's folder, the reference package
    assert not Path(f"/tmp/{unprivileged_batch['marker']}").exists(), "a kernel's /tmp file reached the host"
    assert "fork refused after" in _printed(unprivileged_batch, "fork_bomb")

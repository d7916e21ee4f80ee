"""The gradebook on PostgreSQL (``--db-url postgresql://...``), against a real server.

The test starts its own throw-away server from Debian's ``postgresql`` package (installed by
``make system-deps``): ``initdb`` into a temporary folder, ``pg_ctl start`` on a free loopback
port, as the ``postgres`` user when the tests run as root (postgres refuses root), and stops it
at the end.
"""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import nbformat
import psycopg2
import pytest

from tests.autograder_fixtures import cli, tiny

pytestmark = [pytest.mark.postgres, pytest.mark.bwrap, pytest.mark.slow]


def _pg_bin(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail(f"PostgreSQL's {name} is missing: run `make system-deps` (Debian package postgresql)")
    return found[-1]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    # not under pytest's tmp_path: its base folder is private to root, and the server runs as postgres
    root = Path(tempfile.mkdtemp(prefix="autograder-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    as_user = []
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = _free_port()
    subprocess.run(as_user + [_pg_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"],
                   check=True, capture_output=True)
    subprocess.run(as_user + [_pg_bin("pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w", "-t", "60",
                              "-o", f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off",
                              "start"], check=True, capture_output=True)
    try:
        conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
        conn.autocommit = True
        conn.cursor().execute("CREATE DATABASE grades")
        conn.close()
        yield f"postgresql://postgres@127.0.0.1:{port}/grades", port, sockets
    finally:
        subprocess.run(as_user + [_pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


MALLORY = """
import psycopg2
for kwargs in ({{"host": {sockets!r}}}, {{"host": "127.0.0.1"}}):
    try:
        conn = psycopg2.connect(port={port}, user="postgres", dbname="grades", connect_timeout=3, **kwargs)
        conn.autocommit = True
        conn.cursor().execute("update grade set auto_score = 0; update autograder_outcome set status = 'hacked'")
        print("REACHED THE GRADEBOOK")
    except Exception as err:
        print("refused:", type(err).__name__)
"""


def test_grading_into_postgresql(server, tmp_path):
    url, port, sockets = server
    source = tiny.make_course(tmp_path / "course")
    tiny.write(tmp_path / "class", "ann", notebook=tiny.student_notebook())
    tiny.write(tmp_path / "class", "bo", notebook=tiny.student_notebook(tiny.WRONG))
    tiny.write(tmp_path / "class", "cy", text="not a notebook")
    # a classmate tries the server's unix socket and its loopback port from inside the kernel
    mallory = tiny.CORRECT + MALLORY.format(sockets=str(sockets), port=port)
    tiny.write(tmp_path / "class", "zz mallory", notebook=tiny.student_notebook(mallory))
    tiny.write(tmp_path / "class", "x" * 140, notebook=tiny.student_notebook())  # too long for varchar(128)
    out = tmp_path / "out"
    args = ("grade", tmp_path / "class", "--out", out, "--source", source, "--workers", 2, "--db-url", url)
    proc = cli.run(*args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not (out / "gradebook.db").exists(), "no SQLite gradebook when --db-url is given"
    rows = {r["student_id"]: (r["score"], r["status"]) for r in cli.read_csv(out / "grades.csv")}
    assert rows == {"ann": ("3", "ok"), "bo": ("0", "ok"), "cy": ("0", "invalid_notebook"),
                    "zz mallory": ("3", "ok"), "x" * 140: ("", "invalid_notebook")}
    graded = nbformat.read(str(out / "autograded" / "zz mallory" / tiny.ASSIGNMENT / f"{tiny.ASSIGNMENT}.ipynb"), 4)
    printed = "".join(o.get("text", "") for c in graded.cells for o in c.get("outputs", []))
    assert printed.count("refused:") == 2 and "REACHED THE GRADEBOOK" not in printed, printed

    with psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="grades") as conn:
        cur = conn.cursor()
        cur.execute("select student_id, status from autograder_outcome where length(student_id) < 100 "
                    "order by student_id")
        assert cur.fetchall() == [("ann", "ok"), ("bo", "ok"), ("cy", "invalid_notebook"), ("zz mallory", "ok")]
        # nbgrader's own tables hold the per-cell grades
        cur.execute("""select s.student_id, sum(coalesce(g.auto_score, 0)) from grade g
                       join submitted_notebook n on n.id = g.notebook_id
                       join submitted_assignment s on s.id = n.assignment_id
                       group by s.student_id order by s.student_id""")
        assert cur.fetchall() == [("ann", 3.0), ("bo", 0.0), ("cy", 0.0), ("zz mallory", 3.0)]

    again = cli.run(*args)  # resumable through PostgreSQL too
    assert again.returncode == 0 and "5 already graded, skipped" in again.stdout, again.stderr[-2000:]
    (out / "report.html").unlink()
    report = cli.run("report", "--out", out, "--db-url", url)
    assert report.returncode == 0 and (out / "report.html").is_file(), report.stderr

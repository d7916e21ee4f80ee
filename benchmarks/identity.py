"""Proof of byte-identity: the demo class graded by a previous version and by this one, same hidden seeds.

    .venv/bin/python benchmarks/identity.py [--baseline main] [--workers 2] [--dask-workers 2] [--skip-dask]

The previous version (``--baseline``, any git revision) is exported from this repository (``git archive``) into
the work folder. The demo class (``make grade-demo``'s: 6 students x 7 chapters, every status) is built once.
One output folder is prepared with a fixed hidden-input seed per chapter (the gradebook's seeds table, as
``benchmarks/replay.py`` sets it) and copied for each run: the baseline twice (what differs between any two
runs of one version: memory addresses a notebook prints, a kernel's output split into messages, ...), then this
version on the local pool and on a loopback Dask cluster. Compared: grades.csv, grades-wide.csv,
nbgrader_export.csv, every feedback and status page, every graded notebook, the report; printed: how many files
are identical, how many differ between the two baseline runs, and how many differ between this version and
the baseline beyond those (the goal: none). Not part of the test suite; it grades the class four times.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from autograder.authoring import demo  # noqa: E402
from autograder.grading import gradebook  # noqa: E402
from coursebook import paths  # noqa: E402

COMPARED = ("grades.csv", "grades-wide.csv", "nbgrader_export.csv")
IGNORED = ("gradebook.db", "gradebook.db-wal", "gradebook.db-shm", "grader.log")  # binary, or timings and paths
# drawn or dated at grading time by design (a feedback page's nbgrader files when the class came without them)
VOLATILE = ("submission_secret.txt", "timestamp.txt")


def export(revision, target):
    """The tree of ``revision`` of this repository in ``target`` (no generated files: the class is built here)."""
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", revision], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def prepared(out, chapters):
    """An output folder whose gradebook holds a fixed seed per chapter (the hidden inputs of every run)."""
    from autograder.course.config import course_config

    out.mkdir(parents=True)
    gb = gradebook.open_gradebook(gradebook.default_db_url(out), course_config(paths.SOURCE))
    for index, aid in enumerate(chapters):
        gb.db.execute(gradebook.insert(gradebook.SEEDS).values(assignment_id=aid, seed=str(1_000_003 * (index + 1))))
    gb.db.commit()
    gb.close()
    return out


def grade(tree, klass, out, *options):
    """``autograder grade`` of ``tree``'s version into ``out``; seconds."""
    env = dict(os.environ, PYTHONPATH=str(tree), MPLBACKEND="Agg", OMP_NUM_THREADS="1")
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", str(klass), "--out", str(out),
                           "--source", str(tree / "exercises" / "source"), *map(str, options)],
                          cwd=tree, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"grading with {tree} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return time.monotonic() - started


def files(out):
    return {p.relative_to(out).as_posix() for p in out.rglob("*")
            if p.is_file() and p.name not in IGNORED and "_mathjax" not in p.parts}


def content(path, normalized=True):
    """What is compared of a file: its bytes, without the seconds each phase took (written into a graded notebook's
    metadata at every run) and nothing of the files drawn or dated at grading time; ``normalized``: also without
    what differs between any two runs of one version by design (memory addresses a notebook prints, the random
    cell ids of a notebook that came without them, how a kernel's output was split into messages, the order in
    which nbgrader's export lists rows, the report's date). Each version's tree is a folder of its own: the
    course's nbgrader_config.py in the output, which points at it, is compared without that folder."""
    if path.name in VOLATILE and "feedback" in path.parts:
        return b""
    data = path.read_bytes()
    if path.name == "nbgrader_config.py":  # it points at the grading tree's source, a folder of its own per version
        data = re.sub(rb"'[^']*/exercises/", b"'(tree)/exercises/", data)
    if path.suffix == ".ipynb" and "autograded" in path.parts:
        nb = json.loads(data)
        nb.get("metadata", {}).get("autograder", {}).pop("seconds", None)
        if normalized:
            for index, cell in enumerate(nb.get("cells", [])):
                cell["id"] = f"cell-{index}"
                cell["outputs"] = _coalesced(cell.get("outputs"))
        data = json.dumps(nb, sort_keys=True, indent=0).encode()
    if not normalized:
        return data
    data = re.sub(rb"0x[0-9a-f]{6,}", b"0x?", data)
    if path.name == "nbgrader_export.csv":
        lines = data.splitlines()
        data = b"\n".join(lines[:1] + sorted(lines[1:]))
    if path.name == "report.html":
        data = re.sub(rb"rendered \d{4}-\d\d-\d\d \d\d:\d\d", b"rendered (date)", data)
    if path.suffix == ".html" and "feedback" in path.parts:  # stream outputs split differently: one text
        data = re.sub(rb'</pre>\s*</div>\s*</div>\s*<div class="output_area">\s*<div class="prompt"></div>\s*'
                      rb'<div class="output_subarea output_stream output_\w+ output_text">\s*<pre>', b"", data)
        data = re.sub(rb"cell-id=[0-9a-f-]+", b"cell-id=?", data)
    return data


def _coalesced(outputs):
    """A cell's outputs with consecutive stream outputs of one stream as one (how the kernel split them varies)."""
    if outputs is None:
        return None
    out = []
    for output in outputs:
        text = output.get("text")
        if isinstance(text, list):
            output = {**output, "text": "".join(text)}
        if out and output.get("output_type") == "stream" and out[-1].get("output_type") == "stream" \
                and out[-1].get("name") == output.get("name"):
            out[-1] = {**out[-1], "text": out[-1]["text"] + output["text"]}
        else:
            out.append(output)
    return out


def differing(a, b, normalized=True):
    """Relative paths present in only one of the folders or with different contents."""
    fa, fb = files(a), files(b)
    return (fa ^ fb) | {p for p in fa & fb if content(a / p, normalized) != content(b / p, normalized)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="main", help="git revision of the previous version (default main)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dask-workers", type=int, default=2)
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--keep", default=None, help="keep the outputs in this folder")
    parser.add_argument("--compare-only", action="store_true", help="compare the runs already in --keep")
    args = parser.parse_args(argv)
    if args.compare_only:
        work = Path(args.keep)
        runs = {p.name: 0.0 for p in sorted(work.iterdir()) if p.name.startswith(("baseline-", "this-"))
                and p.name != "baseline-tree"}
        return compare(work, runs)
    work = Path(args.keep or tempfile.mkdtemp(prefix="identity-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"load average {os.getloadavg()[0]:.2f} at start; work folder {work}")
    baseline = export(args.baseline, work / "baseline-tree")
    klass = work / "demo-class"
    demo.build_class(klass)
    chapters = paths.chapter_ids()
    base = prepared(work / "prepared", chapters)
    runs = {}
    for name in ("baseline-1", "baseline-2", "this-local", *(() if args.skip_dask else ("this-dask",))):
        shutil.copytree(base, work / name)
    runs["baseline-1"] = grade(baseline, klass, work / "baseline-1", "--workers", args.workers)
    runs["baseline-2"] = grade(baseline, klass, work / "baseline-2", "--workers", args.workers)
    runs["this-local"] = grade(REPO, klass, work / "this-local", "--workers", args.workers)
    if not args.skip_dask:
        from grade_class import LocalDaskCluster

        cluster = LocalDaskCluster(work, workers=args.dask_workers)
        try:
            runs["this-dask"] = grade(REPO, klass, work / "this-dask", "--scheduler", cluster.address)
        finally:
            cluster.close()
    for name, seconds in runs.items():
        print(f"{name}: graded in {seconds:.1f} s")
    status = compare(work, runs)
    print(f"load average {os.getloadavg()[0]:.2f} at end")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return status


def compare(work, runs):
    """Print the counts (module docstring); 1 when this version differs beyond what two baseline runs do."""
    reference = work / "baseline-1"
    noise = differing(reference, work / "baseline-2")
    total = files(reference)
    kinds = {"tables": lambda p: p in COMPARED,
             "feedback and status pages": lambda p: p.startswith("feedback/") and p.endswith(".html"),
             "graded notebooks": lambda p: p.startswith("autograded/") and p.endswith(".ipynb")}
    print(f"\n{len(total)} files per run; between the two baseline runs {len(noise)} differ:")
    for path in sorted(noise):
        print(f"  {path}")
    failed = False
    raw_noise = differing(reference, work / "baseline-2", normalized=False)
    print(f"(before normalizing what differs by design, {len(raw_noise)} differ between the two baseline runs)")
    for name in [n for n in runs if n.startswith("this")]:
        raw = differing(reference, work / name, normalized=False)
        diff = differing(reference, work / name)
        extra = sorted(diff - noise)
        counts = ", ".join(f"{kind}: {sum(1 for p in total if of(p) and p not in diff)} of "
                           f"{sum(1 for p in total if of(p))} identical" for kind, of in kinds.items())
        print(f"\n{name} against baseline-1: {len(total) - len(raw)} byte-identical, {len(total) - len(diff)} "
              f"identical once normalized, {len(diff & noise)} differ as between two baseline runs, {len(extra)} "
              f"differ beyond that ({counts})")
        for path in extra:
            print(f"  DIFFERS: {path}")
        failed |= bool(extra)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

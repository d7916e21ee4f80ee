"""Before a class is graded: prove the setup grades honest work at full marks, and list what must never leak.

:func:`run` grades each chapter's reference answers (the release notebook with the source's answer
cells) through the same engine, sandbox and limits as the students. If one loses a mark, the batch
does not start: a limit too tight for honest work, a broken install or a missing reference is
caught before 500 students get zeros. A success is cached (``~/.cache/autograder/preflight.json``)
per source notebook, declared plans, limits, sandbox, engine, fork-server imports and environment, so a
rerun, a resume or another gradebook of the same course does not pay it.

:func:`secret_lines` lists the lines the feedback must never show (the reference, the checks, the
hidden and solution regions of the source), for :func:`autograder.grading.feedback.leaks`.
"""

import functools
import hashlib
import importlib
import json
import os
import sys
import time
from importlib import metadata
from pathlib import Path

import nbformat

from autograder.common.fileio import atomic_write
from autograder.common.records import Job, Status
from autograder.course.config import release_version
from autograder.course.sources import with_answers
from autograder.execution import engines
from autograder.grading.decide import decide

MIN_SECRET_LENGTH = 30  # shorter lines (``X = np.array(X, dtype=float)``) are common knowledge


def _cache_file():
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "autograder"
    return root / "preflight.json"


@functools.cache  # once per grading process: it reads every installed package's metadata
def _environment():
    packages = sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions())
    code = b"".join(p.read_bytes() for p in sorted(Path(__file__).parents[1].rglob("*.py")))
    return hashlib.sha256("\n".join([sys.version, *packages]).encode() + code).hexdigest()


def cache_key(batch, master, sandboxed, engine):
    """What a pre-flight's success depends on. The plans are the declared ones, not the batch's draw: a batch
    seed changes the values of the random hidden inputs, never their shapes or the code that runs on them (see
    :class:`checks.spec.Draw`), so a new gradebook (a new seed) reuses a success under the same limits; that the
    reference passes every check for any seed is ``make test-seeds``'s claim."""
    declared = batch.chapters[master.assignment_id].plans()
    parts = {"source": master.source_sha, "limits": repr(batch.limits), "sandbox": sandboxed,
             "engine": engine.describe().split(":")[0] if engine.name == "local" else engine.address,
             "plans": hashlib.sha256(json.dumps(declared).encode()).hexdigest(),
             "probe": hashlib.sha256(master.probe_source.encode()).hexdigest(), "env": _environment(),
             # what the fork server imported is shared with the kernel, not charged to its memory limit
             "preload": list(master.preload)}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _load():
    try:
        return json.loads(_cache_file().read_text())
    except (OSError, ValueError):
        return {}


def _save(cache):
    try:
        atomic_write(_cache_file(), json.dumps(cache))
    except OSError:
        pass  # an unwritable cache only costs the next run its pre-flight


def reference_job(batch, chapter):
    """The release notebook with the reference answer cells: an honest student with full marks."""
    source = batch.source / chapter.id / f"{chapter.id}.ipynb"
    nb = with_answers(release_version(source, batch.config), batch.answers[chapter.id])
    data = nbformat.writes(nb).encode()
    return Job(student_id="(pre-flight)", assignment_id=chapter.id, notebook=data,
               notebook_name=f"{chapter.id}.ipynb", submission_sha=hashlib.sha256(data).hexdigest(),
               timestamp_text="", notes=())



def run(batch, engine, sandboxed):
    """None when every chapter's reference answers get full marks, else one line saying what broke."""
    cache = _load()
    todo = {}
    for aid, master in batch.masters.items():
        key = cache_key(batch, master, sandboxed, engine)
        if key not in cache:
            todo[aid] = key
    futures = {}
    for aid in todo:
        job = reference_job(batch, batch.chapters[aid])
        futures[engine.submit(engines.execute_task, job, batch.masters[aid], batch.limits, sandboxed)] = (aid, job)
    problems = []
    while futures:
        for future in engine.wait(set(futures), timeout=5.0):
            aid, job = futures.pop(future)
            try:
                run_ = engine.result(future)
            except engines.WorkerLost as err:
                problems.append(f"{aid}: the worker died while grading the reference answers ({err})")
                continue
            outcome, _ = decide(batch, job, run_)
            lost = [g for g, (score, points) in outcome.scores.items() if score < points]
            if outcome.status is not Status.OK or lost:
                where = f" in {', '.join(lost)}" if lost else ""
                problems.append(f"{aid}: the reference answers lose marks{where} under these limits "
                                f"(--cell-timeout {batch.limits.cell_timeout:g}, --memory-mb {batch.limits.memory_mb}, "
                                f"--notebook-timeout {batch.limits.notebook_timeout:g}): {outcome.status.value}: "
                                f"{outcome.detail[:240]}")
            else:
                cache[todo[aid]] = time.time()
    if problems:
        return problems[0] + (f" (and {len(problems) - 1} more chapter(s))" if len(problems) > 1 else "")
    _save(cache)
    return None


def secret_lines(chapter, source_path, config):
    """Lines the feedback must never show: reference modules, the chapter's checks and catalogue, and
    the source notebook's hidden and solution regions, minus what the release shows anyway."""
    texts = [Path(importlib.import_module(name).__file__).read_text(encoding="utf-8")
             for name in (*chapter.reference, chapter.mistakes, _declaring_module(chapter)) if name]
    source = nbformat.read(str(source_path), as_version=4)
    texts += [cell.source for cell in source.cells if cell.cell_type == "code"]
    public = set()
    for cell in release_version(source_path, config).cells:
        public |= {line.strip() for line in cell.source.splitlines()}
    secrets = set()
    for text in texts:
        for line in text.splitlines():
            line = line.strip()
            if len(line) >= MIN_SECRET_LENGTH and line not in public and not line.startswith(("#", '"""', "import ")):
                secrets.add(line)
    return secrets


def _declaring_module(chapter):
    from solutions import chapters

    for info in __import__("pkgutil").iter_modules(chapters.__path__):
        module = importlib.import_module(f"solutions.chapters.{info.name}")
        if getattr(module, "CHAPTER", None) is chapter:
            return module.__name__
    return None

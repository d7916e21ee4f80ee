"""Grade one submission in a worker process: read, sanitize, execute, score, render feedback.

A worker never touches the gradebook: it returns a plain dict (:func:`grade_one`) that the
grading parent records. Everything that can go wrong with a submission ends as a status in that
dict, never as an exception escaping to the batch.
"""
# ruff: noqa: I001 (autograder.lean is imported before the third-party packages on purpose)

import asyncio
import os
import shutil
import signal
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from autograder import lean  # noqa: F401 - first: it must act before nbformat is imported
import nbformat
from nbconvert.preprocessors import ClearOutputPreprocessor
from nbgrader import utils as nbutils
from nbgrader.api import MissingEntry
from nbgrader.nbgraderformat import ValidationError
from nbgrader.preprocessors import CheckCellMetadata, DeduplicateIds, LimitOutput, OverwriteCells
from nbgrader.preprocessors.base import NbGraderPreprocessor

from autograder import feedback, integrity, notebook_io, sandbox
from autograder.execute import SandboxedExecute

# Kernel exit signals and what they mean for a student.
_SIGNALS = {signal.SIGSEGV: "segmentation fault", signal.SIGBUS: "bus error", signal.SIGABRT: "abort",
            signal.SIGKILL: "killed", signal.SIGXCPU: "CPU time limit", signal.SIGFPE: "arithmetic fault",
            signal.SIGILL: "illegal instruction", signal.SIGSYS: "bad system call"}
_MEMORY_ERRORS = ("MemoryError", "_ArrayMemoryError", "OutOfMemoryError")
_MEMORY_LOG = ("MemoryError", "std::bad_alloc", "Cannot allocate memory", "out of memory",
               "DefaultCPUAllocator: can't allocate memory")
SUBMISSION_COPY_LIMIT = 200 * 2**20  # bytes of a student's folder copied next to the notebook

_state = SimpleNamespace(slot=0, grader_pid=0)


def init_worker(slots, grader_pid):
    """Process-pool initializer: the parent handles Ctrl-C; take a slot; die with the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a forked worker inherits the parent's handler
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    sandbox.become_subreaper()  # a dead kernel's children become ours: we reap them
    _state.slot = slots.get()
    _state.grader_pid = grader_pid


@dataclass
class Settings:
    """Batch-wide settings sent with every job (picklable)."""

    cell_timeout: float
    memory_mb: int
    staging: str
    pylib: str
    isolation: sandbox.Isolation
    hide: list


class _MasterCells:
    """Read-only stand-in for nbgrader's Gradebook, serving the master cells a job carries."""

    def __init__(self, master):
        self.master = master

    def find_source_cell(self, name, notebook, assignment):
        try:
            return SimpleNamespace(name=name, **self.master.source_cells[name])
        except KeyError:
            raise MissingEntry() from None

    def find_graded_cell(self, name, notebook, assignment):
        try:
            return SimpleNamespace(name=name, max_score=self.master.grade_cells[name])
        except KeyError:
            raise MissingEntry() from None


class _OverwriteCells(OverwriteCells):
    """nbgrader's OverwriteCells (restores locked cells, points, types) against the master cells."""

    def __init__(self, master, **kwargs):
        super().__init__(**kwargs)
        self._master = master

    def preprocess(self, nb, resources):
        self.notebook_id = self.assignment_id = self._master.assignment_id
        self.gradebook = _MasterCells(self._master)
        return NbGraderPreprocessor.preprocess(self, nb, resources)


def sanitize(nb, master):
    """nbgrader autograde's sanitize chain; returns (nb, notes about the submission's cells)."""
    notes = []
    nb, _ = ClearOutputPreprocessor().preprocess(nb, {})
    ids_before = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    nb, _ = DeduplicateIds().preprocess(nb, {})
    duplicates = sorted({g for g in ids_before if g and ids_before.count(g) > 1})
    if duplicates:
        notes.append(f"duplicated cells {', '.join(duplicates)}: the last copy was graded")
    if master.kernelspec:
        nb.metadata["kernelspec"] = master.kernelspec
    nb, _ = _OverwriteCells(master).preprocess(nb, {})
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        # a cell claiming an unknown id (or whose id OverwriteCells dropped) is the student's own
        if meta is not None and meta.get("grade_id") not in master.source_cells:
            del cell.metadata["nbgrader"]
    CheckCellMetadata().preprocess(nb, {})
    present = {c.metadata.nbgrader["grade_id"] for c in nb.cells if nbutils.is_grade(c)}
    missing = [g for g in master.grade_cells if g not in present]
    if missing:
        notes.append(f"test cells deleted from the notebook, scored 0: {', '.join(missing)}")
    return nb, notes


def student_cells(nb):
    """(label, source) of every code cell the student wrote (not restored from the source)."""
    cells, label = [], "top"
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id"):
            label = meta["grade_id"]
        if cell.cell_type == "code" and not nbutils.is_locked(cell):
            cells.append((meta.get("grade_id") or f"cell {index + 1} (after {label})", cell.source))
    return cells


def _copy_submission(folder, work, source_dir):
    """Copy the student's folder (minus notebooks and anything shadowing ``solutions``) and the
    instructor's data files into the kernel's working directory."""
    notes, copied = [], 0
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d not in (".ipynb_checkpoints", "__pycache__")]
        rel = Path(dirpath).relative_to(folder)
        for d in list(dirnames):
            if rel == Path(".") and d.split(".")[0] == "solutions":
                notes.append("a 'solutions' folder in the submission was not copied (it would shadow the reference)")
                dirnames.remove(d)
        for name in filenames:
            src = Path(dirpath) / name
            if src.suffix == ".ipynb" or src.is_symlink() or (rel == Path(".") and name.startswith("solutions")):
                continue
            size = src.stat().st_size
            if copied + size > SUBMISSION_COPY_LIMIT:
                notes.append("submission folder larger than 200 MB: the rest was not copied")
                return notes
            (work / rel).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, work / rel / name)
            copied += size
    if source_dir:
        for dirpath, dirnames, filenames in os.walk(source_dir):
            dirnames[:] = [d for d in dirnames if d not in (".ipynb_checkpoints", "__pycache__")]
            rel = Path(dirpath).relative_to(source_dir)
            for name in filenames:
                if not name.endswith(".ipynb"):
                    (work / rel).mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(Path(dirpath) / name, work / rel / name)
    return notes


def _tail(path, limit=20_000):
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, os.path.getsize(path) - limit))
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def _exit_reason(km):
    proc = getattr(getattr(km, "provisioner", None), "process", None)
    code = proc.poll() if proc is not None else None
    if code is None:
        return None, "kernel stopped responding"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return code, f"kernel killed by {name} ({_SIGNALS.get(-code, 'signal')})"
    if code == 97:
        return code, "kernel sandbox could not start"
    return code, f"the kernel process exited with status {code} (os._exit?)"


def _cell_label(nb, index):
    if index is None or index < 0:
        return "the notebook"
    meta = nb.cells[index].metadata.get("nbgrader", {})
    return f"cell {index + 1}" + (f" ({meta['grade_id']})" if meta.get("grade_id") else "")


def grade_one(job, settings):
    """Grade one submission; returns the result dict recorded by the parent."""
    started = time.monotonic()
    master = job["master"]
    result = {
        "student_id": job["student_id"], "assignment_id": job["assignment_id"],
        "timestamp": job.get("timestamp"), "timestamp_text": job.get("timestamp_text", ""),
        "submission_sha": job["submission_sha"], "source_sha": master.source_sha,
        "max_score": master.max_score, "cell_scores": {}, "flags": [], "graded_notebook": None,
        "feedback_html": None, "status": "ok", "detail": "", "timings": {},
    }
    notes = list(job.get("notes", []))
    try:
        _grade(job, settings, master, result, notes)
    except Exception as err:  # noqa: BLE001 - a grader bug must not stop the batch
        result["status"] = "kernel_died" if result["status"] == "ok" else result["status"]
        notes.append(f"grader error: {type(err).__name__}: {err}")
        result["traceback"] = traceback.format_exc()
    result["detail"] = "; ".join(dict.fromkeys(n for n in notes if n))
    result["seconds"] = time.monotonic() - started
    if result["graded_notebook"] is not None and result["feedback_html"] is None:
        try:
            nb = nbformat.reads(result["graded_notebook"], as_version=4)
            result["feedback_html"] = feedback.render(nb, job["assignment_id"], result["cell_scores"],
                                                      master.max_score, result["status"], result["detail"])
        except Exception as err:  # noqa: BLE001
            result["detail"] += f"; feedback could not be rendered ({type(err).__name__})"
    return result


def _grade(job, settings, master, result, notes):
    if job.get("notebook") is None:
        result["status"] = "missing_notebook"
        notes.insert(0, f"no notebook in {job['folder_label']}")
        return
    try:
        nb, read_notes = notebook_io.read(job["notebook"])
        notes.extend(read_notes)
        nb, sanitize_notes = sanitize(nb, master)
        notes.extend(sanitize_notes)
    except notebook_io.InvalidNotebook as err:
        result["status"] = "invalid_notebook"
        notes.insert(0, str(err))
        return
    except (ValidationError, RuntimeError, ValueError, KeyError, TypeError, AttributeError) as err:
        result["status"] = "invalid_notebook"
        notes.insert(0, f"nbgrader metadata could not be repaired: {str(err).splitlines()[0][:200]}")
        return
    result["flags"] = integrity.scan(student_cells(nb), master.hidden_names)

    uid = sandbox.sandbox_uid(_state.slot, _state.grader_pid) if settings.isolation.separate_uids else None
    slot = sandbox.prepare_slot(settings.staging, f"slot-{_state.slot}", uid)
    try:
        notes.extend(_copy_submission(Path(job["folder"]), slot.work, master.source_dir))
        sandbox.chown_tree(slot.root, uid)
        code_cells = sum(1 for c in nb.cells if c.cell_type == "code")
        cpu_seconds = settings.cell_timeout * (code_cells + 2) + 30
        km = sandbox.make_kernel_manager(settings.isolation, slot, settings.memory_mb, cpu_seconds, settings.hide)
        executor = SandboxedExecute(nb, km, settings.cell_timeout, guard_trusted=master.trusted, pylib=settings.pylib)
        deadline = settings.cell_timeout * (code_cells + 1) + 60
        with open(slot.log, "wb") as log:
            try:
                asyncio.run(executor.run(slot.work, sandbox.kernel_env(slot.root, settings.pylib), log, deadline))
            except RuntimeError as err:  # the kernel died before answering kernel_info
                if "Kernel died" not in str(err) and "kernel_info" not in str(err):
                    raise
                executor.died_at = -1
        _classify(executor, km, nb, slot, result, notes)
    finally:
        sandbox.kill_uid(uid, reap=True)
        shutil.rmtree(slot.root, ignore_errors=True)
    result["timings"].update(execute=executor.exec_seconds, cells=executor.cells_seconds,
                             kernel_start=executor.start_seconds)
    nb, _ = LimitOutput().preprocess(nb, {})
    for cell in nb.cells:
        if nbutils.is_grade(cell):
            score, points = nbutils.determine_grade(cell)
            result["cell_scores"][cell.metadata.nbgrader["grade_id"]] = (float(score or 0.0), float(points))
    guard = [f"kernel check: {f}" for f in executor.guard_findings]
    result["flags"] = list(dict.fromkeys(result["flags"] + guard))
    if result["flags"]:
        notes.insert(0, "integrity: " + "; ".join(result["flags"]))
        if result["status"] == "ok":
            result["status"] = "integrity_flag"
        else:
            notes.insert(0, "also flagged for integrity review")
    nb.metadata["autograder"] = {"status": result["status"], "flags": result["flags"],
                                 "kernel_log": result.get("kernel_log", "")[-1000:],
                                 **{f"{k}_seconds": round(v, 3) for k, v in result["timings"].items()
                                    if isinstance(v, float)}}
    result["graded_notebook"] = nbformat.writes(nb)


def _classify(executor, km, nb, slot, result, notes):
    """Status and detail from what the executor saw, the kernel's exit and its log."""
    log = _tail(slot.log)
    memory_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and any(
        o.get("output_type") == "error" and o.get("ename") in _MEMORY_ERRORS for o in c.get("outputs", []))]
    if executor.died_at is not None:
        code, reason = _exit_reason(km)
        where = "while starting" if executor.died_at < 0 else f"in {_cell_label(nb, executor.died_at)}"
        executor.mark_not_run(f"not run: the kernel died {where}")
        if code == -signal.SIGXCPU:
            result["status"] = "cell_timeout"
        elif any(m in log for m in _MEMORY_LOG) or code == -signal.SIGKILL and memory_cells:
            result["status"] = "memory_limit"
        else:
            result["status"] = "kernel_died"
        notes.insert(0, f"{reason} {where}; later cells not run, scored 0")
        if executor.died_at < 0 and log.strip():  # the kernel's own last words explain a failed start
            notes.append("kernel log: " + log.strip().splitlines()[-1][:200])
    elif executor.unresponsive is not None:
        executor.mark_not_run("not run: the kernel did not stop after its time limit")
        result["status"] = "cell_timeout"
        notes.insert(0, f"{_cell_label(nb, executor.unresponsive)} ran past --cell-timeout and ignored the "
                        "interrupt; the kernel was killed, later cells not run, scored 0")
    elif memory_cells:
        result["status"] = "memory_limit"
        cells = ", ".join(_cell_label(nb, i) for i in memory_cells[:3])
        notes.insert(0, f"MemoryError (address space limit --memory-mb) in {cells}")
    if executor.timed_out and result["status"] in ("ok", "memory_limit"):
        result["status"] = "cell_timeout" if result["status"] == "ok" else result["status"]
        cells = ", ".join(_cell_label(nb, i) for i in executor.timed_out[:3])
        notes.insert(0, f"{cells} exceeded --cell-timeout and was interrupted")
    if any("Resource temporarily unavailable" in str(o.get("evalue", "")) + str(o.get("text", ""))
           for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])):
        notes.append("process limit reached (fork or thread creation refused)")
    dropped = sum(executor._dropped.values())
    if dropped:
        notes.append(f"output truncated: {dropped} characters not stored")
    result["kernel_log"] = log[-2000:]


def job_for(sub, master):
    """The picklable job of a :class:`autograder.submissions.Submission`."""
    return {
        "student_id": sub.student_id, "assignment_id": sub.assignment_id,
        "folder": str(sub.folder), "folder_label": f"{sub.student_id}/{sub.assignment_id}",
        "notebook": str(sub.notebook) if sub.notebook else None,
        "timestamp": sub.timestamp, "timestamp_text": sub.timestamp_text,
        "submission_sha": sub.sha256(), "notes": list(sub.notes), "master": master,
    }


"""Find the submissions of a class: folder or zip, nbgrader layouts, timestamps, duplicates.

Accepted layouts (both may be mixed in one folder or zip):

- nbgrader's ``submitted`` layout: ``<student_id>/<assignment_id>/<assignment_id>.ipynb`` with an
  optional ``timestamp.txt``;
- nbgrader's exchange ``inbound`` layout: ``<student_id>+<assignment_id>+<timestamp>[+<random>]/``.

One submission per (student, assignment): when a student submitted several times, the latest
timestamp wins (``timestamp.txt``, else the folder name's timestamp, else the notebook's
modification time), as ``nbgrader collect`` does. Student ids are compared in Unicode NFC form,
so a folder zipped on macOS (NFD names) and one from Linux name the same student.

A zip is checked entry by entry before anything is extracted: an absolute path, a ``..``
component, a drive letter or an oversized member rejects the whole archive.
"""

import hashlib
import os
import stat
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

from nbgrader.utils import parse_utc

# Zip limits: a class of 200 students x 7 notebooks with data files fits far below these.
MAX_ZIP_TOTAL = 4 * 2**30
MAX_ZIP_MEMBER = 512 * 2**20
IGNORED_NAMES = {"__MACOSX", ".ipynb_checkpoints", "__pycache__", ".DS_Store", "Thumbs.db"}


class UsageError(Exception):
    """Bad command-line input: the grader exits 2 with this one-line message."""


@dataclass
class Submission:
    """One student's attempt at one assignment, as found on disk."""

    student_id: str
    assignment_id: str
    folder: Path
    timestamp: datetime | None = None
    notebook: Path | None = None  # None: the folder holds no notebook
    notes: list = field(default_factory=list)
    invalid: str = ""  # why it cannot be graded at all (a symbolic link, an id the gradebook cannot hold)
    review: list = field(default_factory=list)  # what an instructor should look at (future timestamps, replacements)

    @property
    def key(self):
        return (self.student_id, self.assignment_id)

    @property
    def timestamp_text(self):
        return self.timestamp.isoformat(sep=" ") if self.timestamp else ""

    def read(self):
        """The notebook's bytes, read without following a symbolic link; None when there is none."""
        if self.notebook is None or self.invalid:
            return None
        return read_regular_file(self.notebook)

    def sha256(self):
        data = self.read() if not self.invalid else None
        if data is None:
            return "invalid" if self.invalid else "missing"
        return hashlib.sha256(data).hexdigest()


MAX_NOTEBOOK_BYTES = 100 * 2**20
MAX_ID_LENGTH = 128  # nbgrader's gradebook columns
FUTURE_TOLERANCE_SECONDS = 300


def read_regular_file(path):
    """Bytes of a regular file, refusing symbolic links (O_NOFOLLOW) and files over the size limit."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"{path} is not a regular file")
        chunks, size = [], 0
        while size <= MAX_NOTEBOOK_BYTES:
            block = os.read(fd, 1 << 20)
            if not block:
                break
            chunks.append(block)
            size += len(block)
        return b"".join(chunks)
    finally:
        os.close(fd)


def id_problem(student_id):
    """Why a student id cannot be recorded in the gradebook, or None."""
    if not student_id:
        return "empty student id"
    if len(student_id) > MAX_ID_LENGTH:
        return f"student id of {len(student_id)} characters (the gradebook holds at most {MAX_ID_LENGTH})"
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in student_id):
        return "student id with control characters"
    return None


def _ignored(name):
    return name in IGNORED_NAMES or name.startswith(".")


def _normal_id(name):
    return unicodedata.normalize("NFC", name).strip()


def check_zip_member(name):
    """Reject names that would land outside the extraction folder."""
    if "\x00" in name:
        raise UsageError(f"unsafe zip: entry {name!r} contains a NUL byte")
    posix = name.replace("\\", "/")
    if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":"):
        raise UsageError(f"unsafe zip: absolute path {name!r} (nothing was extracted)")
    if ".." in PurePosixPath(posix).parts:
        raise UsageError(f"unsafe zip: entry {name!r} climbs out of the archive (nothing was extracted)")
    return posix


def extract_zip(archive, dest):
    """Extract ``archive`` into ``dest`` after checking every member; return ``dest``."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            total = 0
            for info in members:
                check_zip_member(info.filename)
                if info.file_size > MAX_ZIP_MEMBER:
                    raise UsageError(f"zip member {info.filename!r} is larger than {MAX_ZIP_MEMBER >> 20} MB")
                total += info.file_size
            if total > MAX_ZIP_TOTAL:
                raise UsageError(f"zip expands to more than {MAX_ZIP_TOTAL >> 30} GB")
            dest = Path(dest)
            dest.mkdir(parents=True, exist_ok=True)
            root = dest.resolve()
            links = []
            # Duplicate member names: the later entry wins, like unzip; each gets its own date.
            for info in members:
                posix = check_zip_member(info.filename)
                if stat.S_ISLNK(info.external_attr >> 16):  # never materialized: a marker names it
                    links.append(posix)
                    continue
                target = (dest / posix).resolve()
                if root not in target.parents and target != root:
                    raise UsageError(f"unsafe zip: entry {info.filename!r} resolves outside the archive")
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as out:
                    while block := src.read(1 << 20):
                        out.write(block)
                when = datetime(*info.date_time).timestamp()
                os.utime(target, (when, when))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as err:
        raise UsageError(f"unreadable zip {archive}: {err}") from None
    for posix in links:  # a symbolic link entry becomes an unreadable marker where it stood
        marker = dest / posix
        marker.parent.mkdir(parents=True, exist_ok=True)
        if not marker.exists():
            os.symlink("/nonexistent/symbolic-link-in-zip", marker)
    return dest


def read_timestamp(folder):
    """UTC timestamp from ``timestamp.txt``; ``(None, note)`` when absent or unreadable."""
    path = Path(folder) / "timestamp.txt"
    if not path.is_file():
        return None, None
    text = path.read_bytes()[:200].decode("utf-8", errors="replace").strip()
    try:
        return parse_utc(text), None
    except (ValueError, OverflowError, TypeError):
        return None, f"unreadable timestamp.txt ({text[:40]!r}) ignored"


def _inbound(name, known):
    """(student, assignment, timestamp) of an exchange ``inbound`` folder name, else None."""
    parts = name.split("+")
    readings = []
    if len(parts) >= 3:  # student+assignment+timestamp (student ids may contain '+')
        readings.append(("+".join(parts[:-2]), parts[-2], parts[-1]))
    if len(parts) >= 4:  # student+assignment+timestamp+random (nbgrader >= 0.7)
        readings.append(("+".join(parts[:-3]), parts[-3], parts[-2]))
    for student, assignment, stamp in readings:
        if assignment in known and student:
            try:
                return student, assignment, parse_utc(stamp)
            except (ValueError, OverflowError, TypeError):
                continue
    return None


def find_notebook(folder, assignment_id, grade_ids=()):
    """The notebook to grade in ``folder`` and a note when it is not ``<assignment_id>.ipynb``.

    A renamed notebook (``Copy of ...``, ``-Copy1``, a nested folder) is found when it is the
    only one; among several, the one holding the most of the assignment's grade ids wins.
    """
    expected = Path(folder) / f"{assignment_id}.ipynb"
    if expected.is_symlink():
        return expected, None
    if expected.is_file():
        return expected, None
    candidates = []
    for dirpath, dirnames, filenames in os.walk(folder):  # os.walk does not follow linked folders
        dirnames[:] = [d for d in dirnames if not _ignored(d)]
        candidates += [Path(dirpath) / f for f in filenames if f.endswith(".ipynb") and not _ignored(f)]
    if not candidates:
        return None, None

    def relevance(path):
        try:
            text = read_regular_file(path)[: 8 * 2**20].decode("utf-8", errors="replace")
            mtime = path.lstat().st_mtime
        except OSError:
            text, mtime = "", 0.0
        return (sum(f'"{g}"' in text for g in grade_ids), mtime, str(path))

    best = max(candidates, key=relevance)
    rel = best.relative_to(folder).as_posix()
    note = f"notebook named {rel!r} (expected {expected.name!r}) was graded"
    if len(candidates) > 1:
        note += f"; {len(candidates) - 1} other notebook(s) in the folder ignored"
    return best, note


def _unwrap(root, known):
    """Descend through wrapper folders (``submitted/``, ``class-2024/``) down to the student level."""
    for _ in range(3):
        children = [c for c in root.iterdir() if not _ignored(c.name)]
        looks_like_layout = any(
            c.is_dir() and (_inbound(c.name, known) or any((c / a).is_dir() for a in known)) for c in children)
        if looks_like_layout or len(children) != 1 or not children[0].is_dir():
            return root
        root = children[0]
    return root


def discover(root, known_assignments, grade_ids=None):
    """All submissions under folder ``root``: a list of :class:`Submission`, latest per key.

    Raises :class:`UsageError` for an assignment folder that is not a known assignment.
    """
    known = set(known_assignments)
    root = _unwrap(Path(root), known)
    grade_ids = grade_ids or {}
    found = []
    unknown = set()
    for student_dir in sorted(root.iterdir()):
        if _ignored(student_dir.name) or not student_dir.is_dir():
            continue
        inbound = _inbound(student_dir.name, known)
        if inbound is not None:
            student, assignment, stamp = inbound
            found.append(Submission(_normal_id(student), assignment, student_dir, stamp))
            continue
        if student_dir.is_symlink():
            for assignment in sorted(known):
                found.append(Submission(_normal_id(student_dir.name), assignment, student_dir,
                                        invalid="the student folder is a symbolic link (not followed)"))
            continue
        for assignment_dir in sorted(student_dir.iterdir()):
            if _ignored(assignment_dir.name) or not assignment_dir.is_dir():
                continue
            if assignment_dir.name not in known:
                unknown.add(assignment_dir.name)
                continue
            found.append(Submission(_normal_id(student_dir.name), assignment_dir.name, assignment_dir))
    if unknown:
        names = ", ".join(sorted(unknown)[:5])
        raise UsageError(f"unknown assignment(s) {names} in {root} (known: {', '.join(sorted(known))})")
    now = datetime.now(UTC).replace(tzinfo=None)  # nbgrader's timestamps are naive UTC
    for sub in found:
        sub.invalid = sub.invalid or (id_problem(sub.student_id) or "")
        if sub.invalid:
            continue
        if sub.folder.is_symlink():
            sub.invalid = "the assignment folder is a symbolic link (not followed)"
            continue
        stamp, note = read_timestamp(sub.folder)
        sub.timestamp = stamp or sub.timestamp
        if note:
            sub.notes.append(note)
        if sub.timestamp is not None and _naive_utc(sub.timestamp) > now + timedelta(seconds=FUTURE_TOLERANCE_SECONDS):
            sub.review.append(f"timestamp {sub.timestamp_text} is in the future")
        sub.notebook, note = find_notebook(sub.folder, sub.assignment_id, grade_ids.get(sub.assignment_id, ()))
        if note:
            sub.notes.append(note)
        if sub.notebook is not None and sub.notebook.is_symlink():
            sub.invalid = f"the notebook {sub.notebook.name!r} is a symbolic link (not followed)"
    return latest_per_key(found)


def _naive_utc(moment):
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _recency(sub):
    try:
        mtime = sub.notebook.lstat().st_mtime if sub.notebook is not None else 0.0
    except OSError:
        mtime = 0.0
    return (sub.timestamp or datetime.min, mtime, str(sub.folder))


def latest_per_key(found):
    by_key = {}
    for sub in found:
        by_key.setdefault(sub.key, []).append(sub)
    chosen = []
    for subs in by_key.values():
        subs.sort(key=_recency, reverse=True)
        winner = subs[0]
        if len(subs) > 1:
            older = "; ".join(s.timestamp_text or s.folder.name for s in subs[1:])
            winner.notes.append(f"submitted {len(subs)} times: graded the latest "
                                f"({winner.timestamp_text or winner.folder.name}), ignored {older}")
            winner.review.append(f"{winner.folder.name} replaced {len(subs) - 1} earlier submission(s) ({older})")
        chosen.append(winner)
    return sorted(chosen, key=lambda s: (s.assignment_id, s.student_id))

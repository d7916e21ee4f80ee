"""What the grader writes for one submission besides the gradebook, in an nbgrader course's layout.

``--out`` is an nbgrader course root: for each recorded submission,

- ``submitted/<student>/<assignment>/``: the notebook that was graded (as ``<assignment>.ipynb``, the
  name nbgrader looks for), with ``timestamp.txt`` and ``submission_secret.txt`` when it came with them
  (``nbgrader collect``'s layout; the formgrader counts submissions here);
- ``autograded/<student>/<assignment>/``: the executed notebook (outputs capped, verdicts in), with the
  same two files (``nbgrader autograde`` copies them there);
- ``feedback/<student>/<assignment>/<assignment>.html``: the feedback page, with ``timestamp.txt`` and
  ``submission_secret.txt``, which ``nbgrader release_feedback`` reads to name the released file.
"""

import secrets
from datetime import UTC, datetime
from pathlib import Path

import nbformat
from nbgrader.utils import parse_utc

from autograder.common.fileio import atomic_write
from autograder.execution.submissions import id_problem, read_regular_file

SECRET_NAME = "submission_secret.txt"
TIMESTAMP_NAME = "timestamp.txt"
MAX_SECRET_BYTES = 4096  # nbgrader's is 128 hex digits


def submission_secret(folder):
    """The ``submission_secret.txt`` that ``nbgrader submit`` put next to a notebook, or None (a plain
    file of at most 4 KB; a link, anything larger or not text is ignored)."""
    try:
        data = read_regular_file(Path(folder) / SECRET_NAME)
    except OSError:
        return None
    if not data or len(data) > MAX_SECRET_BYTES:
        return None
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        return None


def nbgrader_timestamp(text):
    """``timestamp.txt``'s text for a submission time, in ``nbgrader submit``'s own format ('' when unknown)."""
    if not text:
        return ""
    return parse_utc(text).strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def graded_metadata(outcome, timings, language):
    """What a graded notebook's ``metadata.autograder`` says: the outcome, the phases' seconds, the language in
    which ``autograder feedback`` renders its page again."""
    return {"status": outcome.status.value, "detail": outcome.detail[:2000],
            "seconds": {k: round(v, 4) for k, v in (timings or {}).items()}, "language": language}


def graded_notebook_text(judged, outcome, timings, language):
    """The graded notebook's file: ``judged`` with :func:`graded_metadata`, as nbformat writes it (a worker writes
    it, the grading parent stores it as it came)."""
    judged.metadata["autograder"] = graded_metadata(outcome, timings, language)
    return nbformat.writes(judged)


def write_outputs(batch, job, outcome, judged, page, timings=None, language="en", notebook_text=None):
    """Write one submission's files (module docstring): what the grader wrote for ``outcome`` of ``job``,
    the page ``page``, the graded notebook ``judged`` (None: no notebook to show) and ``language``, the
    submission's, in which ``autograder feedback`` renders its page again. ``notebook_text``: the graded
    notebook's file as a worker wrote it (:func:`graded_notebook_text`), stored without writing it again."""
    out = batch.out
    sid, aid = outcome.student_id, outcome.assignment_id
    if id_problem(sid):  # not a usable folder name either
        return
    folders = {step: out / step / sid / aid for step in ("submitted", "autograded", "feedback")}
    atomic_write(folders["feedback"] / f"{aid}.html", page)
    if judged is not None:
        if notebook_text is None:
            notebook_text = graded_notebook_text(judged, outcome, timings, language)
        atomic_write(folders["autograded"] / f"{aid}.ipynb", notebook_text)
    else:  # graded, with nothing to show: no earlier submission's notebook either
        (folders["autograded"] / f"{aid}.ipynb").unlink(missing_ok=True)
    folders["autograded"].mkdir(parents=True, exist_ok=True)
    origin = batch.origins.get(job.key)
    secret = submission_secret(origin) if origin is not None else None
    stamp = nbgrader_timestamp(job.timestamp_text)
    if origin is None or Path(origin).resolve() != folders["submitted"].resolve():  # not grading submitted/ itself
        if job.notebook is not None:
            atomic_write(folders["submitted"] / f"{aid}.ipynb", job.notebook)
        folders["submitted"].mkdir(parents=True, exist_ok=True)
        _nbgrader_files(folders["submitted"], stamp, secret)
    _nbgrader_files(folders["autograded"], stamp, secret)
    # release_feedback needs both files for every page: a submission that did not come through the exchange
    # gets a secret of its own (kept from one grading to the next), and the time of grading
    secret = secret or _existing(folders["feedback"] / SECRET_NAME) or secrets.token_hex(64)
    stamp = stamp or datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    _nbgrader_files(folders["feedback"], stamp, secret)


def _nbgrader_files(folder, stamp, secret):
    for name, text in ((TIMESTAMP_NAME, stamp), (SECRET_NAME, secret)):
        if text:
            atomic_write(folder / name, text)
        else:
            (folder / name).unlink(missing_ok=True)  # a stale one from an earlier submission


def _existing(path):
    try:
        return path.read_text(encoding="ascii").strip() or None
    except (OSError, UnicodeDecodeError):
        return None

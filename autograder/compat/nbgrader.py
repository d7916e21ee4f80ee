"""Overrides of nbgrader 0.9 internals.

- :func:`alembic_head` / :func:`speed_up_schema_version`: ``nbgrader.api.get_alembic_version`` runs
  the ``alembic heads`` command in a subprocess (about 3 s, and it needs ``alembic`` on PATH) each
  time a gradebook is created; the migration scripts give the same answer directly. The patch is
  process-wide (nbgrader's ``Gradebook`` calls the module-level function) and keeps the original as
  ``__wrapped__``.
- :class:`SaveAutoGradesOnOpenGradebook`: nbgrader's ``SaveAutoGrades`` opens and closes its own
  ``Gradebook`` per notebook; the grading parent keeps one open for the batch, so ``preprocess``
  sets the ids and the gradebook itself and runs the per-cell part (``_add_score``,
  ``_add_comment``) unchanged.
"""

import functools
import re
from pathlib import Path

import nbgrader
from nbgrader import api as nbgrader_api
from nbgrader.preprocessors import SaveAutoGrades
from nbgrader.preprocessors.base import NbGraderPreprocessor

from autograder.compat import require

PINNED = "0.9"
require("nbgrader", PINNED)


def alembic_head():
    """nbgrader's schema revision: the one migration script that no other script revises (None if unclear)."""
    revisions, parents = set(), set()
    pattern = re.compile(r"^(down_revision|revision)\s*=\s*['\"]([0-9a-f]+)['\"]", re.M)
    for script in (Path(nbgrader.__file__).parent / "alembic" / "versions").glob("*.py"):
        for key, value in pattern.findall(script.read_text(encoding="utf-8")):
            (revisions if key == "revision" else parents).add(value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _fast_alembic_version(original):
    @functools.wraps(original)  # keeps the original as __wrapped__
    def get_alembic_version():
        return alembic_head() or original()
    return get_alembic_version


def speed_up_schema_version():
    """Read nbgrader's schema version from its scripts instead of running ``alembic heads`` (3 s)."""
    if not hasattr(nbgrader_api.get_alembic_version, "__wrapped__"):
        nbgrader_api.get_alembic_version = _fast_alembic_version(nbgrader_api.get_alembic_version)


class SaveAutoGradesOnOpenGradebook(SaveAutoGrades):
    """nbgrader's SaveAutoGrades on an already open gradebook (one connection for the batch)."""

    def __init__(self, gradebook, **kwargs):
        super().__init__(**kwargs)
        self._open_gradebook = gradebook

    def preprocess(self, nb, resources):
        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        self.student_id = resources["nbgrader"]["student"]
        self.gradebook = self._open_gradebook
        return NbGraderPreprocessor.preprocess(self, nb, resources)

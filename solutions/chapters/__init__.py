"""The course's chapters, each declared once in a module ``chNN_<name>.py`` of this package.

Each module defines ``CHAPTER`` (a :class:`checks.spec.Chapter`): its id, title, reference
modules, graded tests with their cases, catalogue of mistakes and time budget. The release, the
grader, the test suite and the table of contents read this registry; adding a chapter means adding
a module here (plus its notebooks and reference module, see CONTRIBUTING.md).
"""

import functools
import importlib
import os
import pkgutil

# Extra chapter modules (comma-separated), e.g. the test suite's tiny course: declared like the others.
EXTRA_ENV = "COURSE_EXTRA_CHAPTERS"


@functools.cache
def all_chapters():
    """Every declared chapter, ordered by id."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("ch"):
            found.append(importlib.import_module(f"{__name__}.{info.name}").CHAPTER)
    for name in filter(None, os.environ.get(EXTRA_ENV, "").split(",")):
        found.append(importlib.import_module(name.strip()).CHAPTER)
    ids = [c.id for c in found]
    if len(ids) != len(set(ids)):
        raise RuntimeError(f"a chapter id is declared twice: {ids}")
    return tuple(sorted(found, key=lambda c: c.id))


def chapter(chapter_id):
    for found in all_chapters():
        if found.id == chapter_id:
            return found
    raise KeyError(f"no chapter {chapter_id!r}; declared: {', '.join(c.id for c in all_chapters())}")


def find_test(grade_id):
    """(chapter, test) of a graded test cell id (ids are unique across the course)."""
    matches = [(c, t) for c in all_chapters() for t in c.tests if t.grade_id == grade_id]
    if len(matches) != 1:
        raise KeyError(f"test {grade_id!r} is declared {len(matches)} times")
    return matches[0]

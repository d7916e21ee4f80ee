"""Generate the student version of every chapter and check that it leaks nothing.

``python -m autograder release [CHAPTER ...] [--course-root DIR]`` runs ``nbgrader
generate_assignment`` for each chapter (all by default) into ``exercises/release/``, writes the
translated editions next to it (``exercises/release-<code>/`` for each edition of
``locales/editions.toml``: Markdown, docstrings, and the prose literals and comments of the code cells from the
catalogs in ``locales/``, see :mod:`coursebook.translation`) and checks every released notebook, English and
translated, with :func:`autograder.authoring.leaks.find_leaks`. It exits 1 naming the notebook and cell of each
problem, 0 when the release is clean.
"""

import subprocess
import sys
from pathlib import Path

import nbformat

from autograder.authoring.leaks import find_leaks
from autograder.course.config import course_config
from autograder.course.markers import Markers
from coursebook.editions import codes
from coursebook.paths import COURSE_ROOT, chapter_ids, source_notebook
from coursebook.translation import languages, write_translated_release


def add_arguments(parser):
    parser.add_argument("chapters", nargs="*", metavar="CHAPTER", help="chapter ids (default: all)")
    parser.add_argument("--course-root", default=COURSE_ROOT, type=Path,
                        help="nbgrader course root with source/ (default: exercises/)")


def generate(chapter, course_root=COURSE_ROOT):
    """Write ``<course_root>/release/<chapter>/`` with nbgrader; raise on failure."""
    # --no-db: releasing needs no gradebook; the autograder keeps its own.
    cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", chapter,
           "--force", "--no-db", "--log-level=WARN"]
    done = subprocess.run(cmd, cwd=course_root, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment {chapter} failed:\n{done.stdout}{done.stderr}")
    return Path(course_root) / "release" / chapter / f"{chapter}.ipynb"


def run(args):
    root = args.course_root
    known = chapter_ids(root)
    unknown = sorted(set(args.chapters) - set(known))
    if unknown:
        print(f"unknown chapter(s): {', '.join(unknown)}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    markers = Markers.of(course_config(Path(root) / "source"))
    problems = []
    for chapter in args.chapters or known:
        source = nbformat.read(source_notebook(chapter, root), as_version=4)
        released = [generate(chapter, course_root=root)]
        released += [write_translated_release(chapter, root, language) for language in languages()]
        leaks = [f"{path}: {leak}" for path in released
                 for leak in find_leaks(source, nbformat.read(path, as_version=4), markers)]
        problems += leaks
        editions = ", ".join(codes())
        print(f"released {chapter} ({editions}): {'LEAKS' if leaks else 'clean'}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0

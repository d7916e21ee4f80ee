"""Where things live in the repository."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COURSE_ROOT = REPO / "exercises"
SOURCE = COURSE_ROOT / "source"
RELEASE = COURSE_ROOT / "release"
SOLUTIONS = REPO / "solutions"


def chapter_ids():
    """Chapter ids, in order: one folder per chapter under ``exercises/source``."""
    return sorted(p.name for p in SOURCE.iterdir() if (p / f"{p.name}.ipynb").is_file())


def source_notebook(chapter):
    return SOURCE / chapter / f"{chapter}.ipynb"

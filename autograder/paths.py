"""Where things live in the repository."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COURSE_ROOT = REPO / "exercises"
SOURCE = COURSE_ROOT / "source"
RELEASE = COURSE_ROOT / "release"
SOLUTIONS = REPO / "solutions"


def chapter_ids(course_root=COURSE_ROOT):
    """Chapter ids, in order: one folder per chapter under ``<course_root>/source``."""
    source = Path(course_root) / "source"
    return sorted(p.name for p in source.iterdir() if (p / f"{p.name}.ipynb").is_file())


def source_notebook(chapter, course_root=COURSE_ROOT):
    return Path(course_root) / "source" / chapter / f"{chapter}.ipynb"

"""Where things live in the repository."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COURSE_ROOT = REPO / "exercises"
SOURCE = COURSE_ROOT / "source"
RELEASE = COURSE_ROOT / "release"
SOLUTIONS = REPO / "solutions"


def chapter_ids(course_root=COURSE_ROOT):
    """Ids of the declared chapters (``solutions/chapters``) that have a source notebook, in order."""
    from solutions.chapters import all_chapters

    return [c.id for c in all_chapters() if source_notebook(c.id, course_root).is_file()]


def source_notebook(chapter, course_root=COURSE_ROOT):
    return Path(course_root) / "source" / chapter / f"{chapter}.ipynb"

"""Write the book's table of contents (``_toc.yml``) from the chapter declarations.

``python -m autograder toc [--check]``: the chapters come from :mod:`solutions.chapters`, in id order,
between the introduction and the glossary and bibliography. ``make book`` writes it; ``--check``
exits 1 when the file on disk differs (the test suite runs it), so a chapter is declared once.
"""

import sys

from coursebook.paths import REPO

HEADER = "# Table of contents, written by `python -m autograder toc` from solutions/chapters (do not edit).\n"


def render():
    from solutions.chapters import all_chapters

    lines = [HEADER, "format: jb-book", "root: book/intro", "chapters:"]
    lines += [f"  - file: {chapter.book.removesuffix('.ipynb')}" for chapter in all_chapters()
              if (REPO / chapter.book).is_file()]
    lines += ["  - file: book/glossary", "  - file: book/bibliography"]
    return "\n".join(lines).replace(HEADER + "\n", HEADER) + "\n"


def add_arguments(parser):
    parser.add_argument("--check", action="store_true", help="exit 1 if _toc.yml is not up to date")


def run(args):
    path = REPO / "_toc.yml"
    text = render()
    if args.check:
        if path.read_text(encoding="utf-8") != text:
            print("_toc.yml is not what the chapter declarations say: run `python -m autograder toc`",
                  file=sys.stderr)
            return 1
        return 0
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0

"""Build a demo class from the source notebooks and grade it: ``python -m autograder demo``.

Per chapter: a correct student, students with common mistakes (entries of the chapter's catalogue,
``solutions/mistakes``, which the grader then diagnoses), a student who submitted the release
untouched, a student whose notebook lost its nbgrader metadata (a fresh notebook with only the
functions: graded by names, repaired), and one broken submission (truncated JSON, a kernel that
exits, an import of the reference, a renamed notebook, a memory bomb, a folder without notebook, in
turn). Student ids include a space and non-ASCII letters.
The class goes to ``<out>/demo-class/`` and is graded into ``<out>`` with the defaults, so a
second run only regrades what changed.
"""

import re
import shutil
from pathlib import Path

import nbformat

from autograder.course.config import course_config, release_version
from autograder.course.sources import reference_answers, with_answers
from autograder.grading import command
from checks import mistakes
from coursebook import paths
from solutions.chapters import chapter as declared

TIMESTAMP = "2026-01-15 09:30:00.000000 UTC"

# Broken submissions, one per chapter in turn: (student id, kind).
BROKEN = ["truncated_json", "os_exit", "imports_solutions", "renamed", "memory_bomb", "missing"]


def add_arguments(parser):
    parser.add_argument("--out", default="grading", help="output folder (default: grading/)")
    parser.add_argument("--workers", type=int, default=None, help="parallel kernels (default: number of CPUs)")


def catalogued_mistakes(chapter, answers):
    """[(mistake id, target, wrong answer source), ...] of the chapter's catalogue."""
    return [(m.id, m.target, mistakes.source_of(chapter, m, answers)) for m in mistakes.catalogue(chapter)]


def fresh_notebook(answers):
    """What a student who pasted the answers into a new notebook (Colab, VS Code) hands in."""
    cells = [nbformat.v4.new_markdown_cell("My solutions")]
    cells += [nbformat.v4.new_code_cell(code.strip("\n")) for code in answers.values()]
    cells.append(nbformat.v4.new_code_cell("print('done')"))
    return nbformat.v4.new_notebook(cells=cells)


def write_submission(root, student, chapter, nb=None, text=None, name=None, timestamp=TIMESTAMP):
    folder = Path(root) / student / chapter
    folder.mkdir(parents=True, exist_ok=True)
    if nb is not None:
        text = nbformat.writes(nb)
    if text is not None:
        (folder / (name or f"{chapter}.ipynb")).write_text(text, encoding="utf-8")
    (folder / "timestamp.txt").write_text(timestamp + "\n", encoding="utf-8")
    return folder


def build_class(root, chapters=None, source=None):
    """Write the demo class into ``root``; returns [(student, chapter, kind)]."""
    source = Path(source or paths.SOURCE)
    chapters = chapters or paths.chapter_ids()
    config = course_config(source)
    roster = []
    for index, chapter in enumerate(chapters):
        source_path = source / chapter / f"{chapter}.ipynb"
        release = release_version(source_path, config)
        correct = reference_answers(source_path, config)

        def add(student, kind, nb=None, chapter=chapter, **kwargs):
            write_submission(root, student, chapter, nb=nb, **kwargs)
            roster.append((student, chapter, kind))

        add("ada", "correct", with_answers(release, correct))
        wrong = [m for m in catalogued_mistakes(declared(chapter), correct) if m[1] in correct]
        if wrong:
            first = wrong[index % len(wrong)]
            add("björn", f"mistake {first[0]}", with_answers(release, {**correct, first[1]: first[2]}))
            picked = {}
            for m in wrong:  # two more mistakes, in two other functions: partly right
                if m[1] != first[1] and m[1] not in picked and len(picked) < 2:
                    picked[m[1]] = m
            if picked:
                add("chen li", "mistakes " + ", ".join(m[0] for m in picked.values()),
                    with_answers(release, {**correct, **{t: m[2] for t, m in picked.items()}}))
        add("dana", "release untouched", with_answers(release, {}))
        add("farah", "fresh notebook with only the functions (no nbgrader metadata)", fresh_notebook(correct))
        kind = BROKEN[index % len(BROKEN)]
        first_answer = next(iter(correct), None)
        if kind == "truncated_json":
            text = nbformat.writes(with_answers(release, correct))
            add("emil", kind, text=text[: len(text) // 2])
        elif kind == "os_exit" and first_answer:
            add("emil", kind, with_answers(release, {**correct, first_answer: "import os\nos._exit(3)"}))
        elif kind == "imports_solutions" and first_answer:
            module = _reference_module(source_path)
            code = f"from solutions.{module} import {first_answer}" if module else "import solutions"
            add("emil", kind, with_answers(release, {**correct, first_answer: code}))
        elif kind == "renamed":
            add("emil", kind, with_answers(release, correct), name=f"{chapter} (1).ipynb")
        elif kind == "memory_bomb" and first_answer:
            bomb = "hog = bytearray(64 * 2**30)  # far beyond --memory-mb\n" + correct[first_answer]
            add("emil", kind, with_answers(release, {**correct, first_answer: bomb}))
        else:
            add("emil", "missing")
    return roster


def _reference_module(source_path):
    text = Path(source_path).read_text(encoding="utf-8")
    match = re.search(r"from solutions\.(\w+) import", text)
    return match.group(1) if match else None


def run(args):
    out = Path(args.out)
    root = out / "demo-class"
    shutil.rmtree(root, ignore_errors=True)
    roster = build_class(root)
    print(f"demo class: {len(roster)} submissions of {len({s for s, _, _ in roster})} students in {root}")
    for student, chapter, kind in roster:
        if kind not in ("correct", "release untouched"):
            print(f"  {student:<8} {chapter:<22} {kind}")
    workers = args.workers or command.default_workers()
    return command.run(command.parse([root, "--out", out, "--workers", workers]))

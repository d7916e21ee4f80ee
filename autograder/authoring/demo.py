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

import json
import re
import shutil
from argparse import Namespace
from pathlib import Path

import nbformat

from autograder.grading import gradebook
from coursebook import paths

TIMESTAMP = "2026-01-15 09:30:00.000000 UTC"
_SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[^\n]*\n?", re.M)

# Broken submissions, one per chapter in turn: (student id, kind).
BROKEN = ["truncated_json", "os_exit", "imports_solutions", "renamed", "memory_bomb", "missing"]


def add_arguments(parser):
    parser.add_argument("--out", default="grading", help="output folder (default: grading/)")
    parser.add_argument("--workers", type=int, default=None, help="parallel kernels (default: number of CPUs)")


def load_mistakes():
    """{chapter id: [(mistake id, target, wrong answer source), ...]} from the catalogues."""
    from checks import mistakes
    from solutions.chapters import all_chapters

    return {c.id: [(m.id, m.target, mistakes.source_of(c, m)) for m in mistakes.catalogue(c)]
            for c in all_chapters()}


def reference_answers(source_nb):
    """grade_id -> the source's answer code without the solution markers (a correct student)."""
    return {c.metadata.nbgrader["grade_id"]: _SOLUTION_MARKERS.sub("", c.source)
            for c in source_nb.cells if c.metadata.get("nbgrader", {}).get("solution")}


def student_notebook(release_nb, answers):
    """The release notebook with the given answer cells filled in (grade_id -> code)."""
    nb = nbformat.from_dict(json.loads(json.dumps(release_nb)))
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers and cell.metadata.nbgrader.get("solution"):
            cell.source = answers[grade_id].strip("\n")
    return nb


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
    config = gradebook.course_config(source)
    catalogue = load_mistakes()
    roster = []
    for index, chapter in enumerate(chapters):
        source_path = source / chapter / f"{chapter}.ipynb"
        release = gradebook.release_version(source_path, config)
        correct = reference_answers(nbformat.read(str(source_path), as_version=4))

        def add(student, kind, nb=None, chapter=chapter, **kwargs):
            write_submission(root, student, chapter, nb=nb, **kwargs)
            roster.append((student, chapter, kind))

        add("ada", "correct", student_notebook(release, correct))
        wrong = [m for m in catalogue.get(chapter, []) if m[1] in correct]
        if wrong:
            first = wrong[index % len(wrong)]
            add("björn", f"mistake {first[0]}", student_notebook(release, {**correct, first[1]: first[2]}))
            picked = {}
            for m in wrong:  # two more mistakes, in two other functions: partly right
                if m[1] != first[1] and m[1] not in picked and len(picked) < 2:
                    picked[m[1]] = m
            if picked:
                add("chen li", "mistakes " + ", ".join(m[0] for m in picked.values()),
                    student_notebook(release, {**correct, **{t: m[2] for t, m in picked.items()}}))
        add("dana", "release untouched", student_notebook(release, {}))
        add("farah", "fresh notebook with only the functions (no nbgrader metadata)", fresh_notebook(correct))
        kind = BROKEN[index % len(BROKEN)]
        first_answer = next(iter(correct), None)
        if kind == "truncated_json":
            text = nbformat.writes(student_notebook(release, correct))
            add("emil", kind, text=text[: len(text) // 2])
        elif kind == "os_exit" and first_answer:
            add("emil", kind, student_notebook(release, {**correct, first_answer: "import os\nos._exit(3)"}))
        elif kind == "imports_solutions" and first_answer:
            module = _reference_module(source_path)
            code = f"from solutions.{module} import {first_answer}" if module else "import solutions"
            add("emil", kind, student_notebook(release, {**correct, first_answer: code}))
        elif kind == "renamed":
            add("emil", kind, student_notebook(release, correct), name=f"{chapter} (1).ipynb")
        elif kind == "memory_bomb" and first_answer:
            bomb = "hog = bytearray(64 * 2**30)  # far beyond --memory-mb\n" + correct[first_answer]
            add("emil", kind, student_notebook(release, {**correct, first_answer: bomb}))
        else:
            add("emil", "missing")
    return roster


def _reference_module(source_path):
    text = Path(source_path).read_text(encoding="utf-8")
    match = re.search(r"from solutions\.(\w+) import", text)
    return match.group(1) if match else None


def run(args):
    from autograder.grading import grade

    out = Path(args.out)
    root = out / "demo-class"
    shutil.rmtree(root, ignore_errors=True)
    roster = build_class(root)
    print(f"demo class: {len(roster)} submissions of {len({s for s, _, _ in roster})} students in {root}")
    for student, chapter, kind in roster:
        if kind not in ("correct", "release untouched"):
            print(f"  {student:<8} {chapter:<22} {kind}")
    workers = args.workers or grade.default_workers()
    grade_args = Namespace(submissions=str(root), out=str(out), workers=workers, scheduler=None,
                           cell_timeout=120.0, notebook_timeout=600.0, memory_mb=2048, db_url=None,
                           source=str(paths.SOURCE), book_url="", no_sandbox=False, tls_ca_file=None,
                           tls_cert=None, tls_key=None)
    return grade.run(grade_args)

"""Undiagnosed failures of a class, grouped by what the students' code put out: where the catalogue should grow.

A failing test cell that no catalogued mistake explains (the report's "no diagnosis") says only "failed".
When several students fail the same test with the same verdict, they most likely made the same mistake,
one the catalogue (``solutions/mistakes/``) does not know yet. Nothing is run again: the signature is the
verdict the grading parent wrote into the autograded notebook (``autograded/<student>/<chapter>/``), the
first error of the test cell, which names the failing cases with what was expected and what came back.
The hidden inputs are the batch's, so the same mistake gives the same verdict; the parts that differ
between equal mistakes are folded (:func:`signature`): memory addresses, white space, and floats beyond
four significant digits (the same formula written in another order differs in the last bits).
"""

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.execution.submissions import id_problem
from autograder.grading import tracebacks

ADDRESS = re.compile(r"\b0x[0-9a-fA-F]+\b")
FLOAT = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+(?=[eE][-+]?\d))(?:[eE][-+]?\d+)?(?!\w)")
EXAMPLE_CHARS = 2000  # of the example verdict shown in the report
NO_VERDICT = "(no verdict recorded: the autograded notebook or its test cell's error is missing)"


@dataclass(frozen=True)
class Cluster:
    """Students whose test ``test`` of ``chapter`` failed, undiagnosed, with the same verdict signature."""

    chapter: str
    answer: str
    test: str
    students: tuple
    example: str  # the verdict of the first of ``students``


def signature(text):
    """``text`` (a verdict) with what differs between equal mistakes folded: ANSI colours, memory addresses,
    white space, floats beyond four significant digits."""
    text = tracebacks.ANSI.sub("", text)
    text = ADDRESS.sub("0x?", text)
    text = FLOAT.sub(lambda m: f"{float(m.group()):.4g}", text)
    return " ".join(text.split())


def verdicts(notebook_path):
    """{grade_id: the first error of that test cell ("ename: evalue")} of an autograded notebook ({} if none)."""
    try:
        nb = nbformat.read(notebook_path, as_version=4)
    except Exception:  # noqa: BLE001 - missing or unreadable: those failures have no verdict to group by
        return {}
    found = {}
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if grade_id and errors:
            found[grade_id] = str(errors[0].get("evalue", ""))
    return found


def undiagnosed(rows, mistakes, out):
    """The clusters of the class's undiagnosed failing test cells, largest first.

    ``rows``: the report's rows (with ``lost_tests`` and ``manual_tests``), ``mistakes``: its
    :func:`~autograder.grading.report.mistake_table` (whose ``unexplained`` students, per answer, are the
    ones grouped here, by each failing test cell of that answer), ``out``: the grading folder holding
    ``autograded/``."""
    out = Path(out)
    by_key = {(r["student_id"], r["assignment_id"]): r for r in rows}
    groups = defaultdict(list)  # (chapter, answer, test, signature) -> [(student, verdict)]
    for (chapter_id, answer), info in mistakes.items():
        for sid in info["unexplained"]:
            row = by_key[(sid, chapter_id)]
            texts = {} if id_problem(sid) else verdicts(out / "autograded" / sid / chapter_id / f"{chapter_id}.ipynb")
            for test in info["tests"]:
                if test in row["lost_tests"] and test not in row["manual_tests"]:
                    text = texts.get(test, NO_VERDICT)
                    groups[(chapter_id, answer, test, signature(text))].append((sid, text))
    clusters = [Cluster(chapter, answer, test, tuple(sorted(s for s, _ in members)),
                        _example(min(members)[1]))
                for (chapter, answer, test, _sig), members in groups.items()]
    return sorted(clusters, key=lambda c: (-len(c.students), c.chapter, c.test, c.students))


def _example(text):
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 3] + "..."

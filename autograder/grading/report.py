"""Re-render the class report from the gradebook: ``python -m autograder report [--out DIR]``.

``report.html`` with four figures (``report-scores.png``: score distribution per chapter,
``report-tests.png``: failure rate of every test cell, ``report-mistakes.png``: which catalogued
mistakes the class made, per exercise, and how many failures no entry explains,
``report-status.png``: status counts), a summary per chapter, the per-test table, the mistakes
with the students who made them (the instructor's view), the failures no catalogued mistake explains
grouped by their verdict (:mod:`autograder.grading.clusters`: where the catalogue should grow), the
repaired notebooks, the submissions listed for review, the broken submissions and grader errors with
links to their feedback, and the late submissions with their penalty, and the grade matrix (students x
chapters). Scores are the gradebook's after late penalties, as in grades.csv and nbgrader's export.
"""

import sys
import textwrap
from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from autograder.common.fileio import atomic_write
from autograder.execution.submissions import id_problem
from autograder.grading import clusters, gradebook, judging, pages

UNGRADED = {"invalid_notebook", "missing_notebook", "grader_error"}


def add_arguments(parser):
    parser.add_argument("--out", default="grading", help="the grading folder (default: grading/)")
    parser.add_argument("--db-url", default=None, help="gradebook URL (default: sqlite in --out)")


def open_for(args, command):
    """The gradebook of ``args`` (``--out``, ``--db-url``), or None when there is none (said on stderr)."""
    out = Path(args.out)
    db_url = args.db_url or gradebook.default_db_url(out)
    if args.db_url is None and not (out / "gradebook.db").is_file():
        print(f"autograder {command}: error: no gradebook in {out} (run `python -m autograder grade` first)",
              file=sys.stderr)
        return None
    try:
        return gradebook.open_existing(db_url)
    except Exception as err:  # noqa: BLE001
        print(f"autograder {command}: error: cannot open the gradebook {gradebook.safe_url(db_url)}: "
              f"{str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__}", file=sys.stderr)
        return None


def run(args):
    out = Path(args.out)
    gb = open_for(args, "report")
    if gb is None:
        return 2
    try:
        path = render(gb, out)
    finally:
        gb.close()
    print(f"report: {path}")
    return 0


def collect(gb):
    """Rows of the journal with scores, and per-test outcomes {(assignment, grade_id): [lost?...]}."""
    rows = gradebook.rows(gb)
    per_test = defaultdict(list)
    for row in rows:
        row["lost_tests"], row["manual_tests"] = set(), set()
        if row["status"] in UNGRADED:
            continue
        try:
            notebook = gb.find_submission_notebook(row["assignment_id"], row["assignment_id"], row["student_id"])
        except Exception:  # noqa: BLE001 - a row without gradebook data is skipped
            continue
        for grade in notebook.grades:
            if grade.max_score:
                lost = grade.score < grade.max_score
                per_test[(row["assignment_id"], grade.name)].append(lost)
                if lost:
                    row["lost_tests"].add(grade.name)
                if grade.manual_score is not None:  # a grader's score: no check failure to diagnose
                    row["manual_tests"].add(grade.name)
    return rows, per_test


def mistake_table(rows):
    """Per (chapter, answer): graded submissions, failures, {mistake id: [students]}, undiagnosed failures,
    the answer's test cells.

    Catalogue entries come from the chapter declarations (explanations, answers); only the
    instructor's report shows who made which mistake.
    """
    from checks import mistakes as catalogue
    from solutions import chapters as course

    table = {}
    graded_chapters = {r["assignment_id"] for r in rows}
    for chapter in course.all_chapters():
        if chapter.id not in graded_chapters:
            continue
        entries = {m.id: m for m in catalogue.catalogue(chapter)}
        graded = [r for r in rows if r["assignment_id"] == chapter.id and r["status"] not in UNGRADED]
        for answer in chapter.answers:
            tests = {t.grade_id for t in chapter.tests if t.answer == answer}
            failed = [r for r in graded if (r["lost_tests"] - r["manual_tests"]) & tests]
            made, unanswered = defaultdict(list), []
            for r in graded:
                for mistake_id in filter(None, (r.get("mistakes") or "").split(";")):
                    if mistake_id in entries and entries[mistake_id].target == answer:
                        made[mistake_id].append(r["student_id"])
                    elif mistake_id == judging.UNANSWERED_PREFIX + answer:
                        unanswered.append(r["student_id"])
            explained = {s for students in made.values() for s in students} | set(unanswered)
            # a notebook that stopped (timeout, kernel died, memory) lost these points to its status, listed below
            unexplained = [r["student_id"] for r in failed if r["student_id"] not in explained and r["status"] == "ok"]
            if graded:
                table[(chapter.id, answer)] = {"graded": len(graded), "failed": len(failed), "made": dict(made),
                                               "unexplained": unexplained, "unanswered": unanswered,
                                               "entries": entries, "tests": sorted(tests)}
    return table


@contextmanager
def _figure(out, name, figsize):
    """One figure of the report: drawn on the yielded axes, saved as ``out/name`` at the report's resolution."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize)
    yield ax
    fig.tight_layout()
    fig.savefig(out / name, dpi=110)
    plt.close(fig)


def _figures(out, rows, per_test, mistakes):
    """The report's four PNGs; returns {figure: file name}."""
    import numpy as np

    chapters = sorted({r["assignment_id"] for r in rows})
    with _figure(out, "report-scores.png", (max(5, 1.3 * len(chapters) + 2), 3.6)) as ax:
        data = [[100 * r["score"] / r["max_score"] for r in rows if r["assignment_id"] == c and r["max_score"]
                 and r["score"] is not None]
                for c in chapters]
        if chapters:
            ax.boxplot(data, showfliers=False, widths=0.5)
            ax.set_xticks(range(1, len(chapters) + 1), chapters, rotation=20, ha="right")
            rng = np.random.default_rng(0)  # jitter only, so the figure is reproducible
            for i, values in enumerate(data, start=1):
                ax.scatter(i + rng.uniform(-0.15, 0.15, len(values)), values, s=12, alpha=0.6, color="tab:blue")
        ax.set_ylabel("score (% of max)")
        ax.set_ylim(-5, 105)
        ax.set_title("Score distribution per chapter")

    keys = sorted(per_test)
    rates = [100 * sum(per_test[k]) / len(per_test[k]) for k in keys]
    _bars(out, "report-tests.png", 7, [f"{a} / {g}" for a, g in keys], rates, "tab:red",
          "% of graded submissions losing points", "Failure rate per test cell")

    bars = [(f"{c} / {a}: {m}", 100 * len(students) / info["graded"])
            for (c, a), info in sorted(mistakes.items()) for m, students in sorted(info["made"].items())]
    bars += [(f"{c} / {a}: (failed, no diagnosis)", 100 * len(info["unexplained"]) / info["graded"])
             for (c, a), info in sorted(mistakes.items()) if info["unexplained"]]
    bars += [(f"{c} / {a}: (not answered)", 100 * len(info["unanswered"]) / info["graded"])
             for (c, a), info in sorted(mistakes.items()) if info["unanswered"]]
    _bars(out, "report-mistakes.png", 8, [k for k, _ in bars], [v for _, v in bars],
          ["tab:gray" if "no diagnosis" in k else "lightgray" if "not answered" in k else "tab:purple"
           for k, _ in bars],
          "% of graded submissions", "Diagnosed mistakes (gray: failed, no diagnosis; light gray: not answered)")

    counts = Counter(r["status"] for r in rows)
    statuses = [s for s in gradebook.STATUSES if counts.get(s)]
    with _figure(out, "report-status.png", (6, 2.8)) as ax:
        ax.bar(statuses, [counts[s] for s in statuses],
               color=["tab:green" if s == "ok" else "tab:orange" for s in statuses])
        ax.set_ylabel("submissions")
        ax.set_title("Status counts")
        ax.tick_params(axis="x", labelrotation=20)
    return {"scores": "report-scores.png", "tests": "report-tests.png", "mistakes": "report-mistakes.png",
            "status": "report-status.png"}


def _bars(out, name, width, labels, values, color, xlabel, title):
    """A horizontal bar chart of percentages, one labelled bar per row, first row on top."""
    with _figure(out, name, (width, max(2.5, 0.28 * len(labels) + 1))) as ax:
        ax.barh(range(len(labels)), values, color=color)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlim(0, 100)
        ax.set_xlabel(xlabel)
        # over the whole figure and wrapped: above the axes alone, a long title is cut where long labels push them
        ax.figure.suptitle(textwrap.fill(title, 8 * width), fontsize=11)


def _score(row):
    if row.get("score") is None:
        return "-"
    return f"{row['score']:g} / {row['max_score'] or 0:g}"


def _feedback_href(row):
    sid, aid = row["student_id"], row["assignment_id"]
    return "feedback/" + "/".join(quote(p) for p in (sid, aid, f"{aid}.html"))


def _pct(count, total):
    return f"{100 * count / total:.0f}%"


def view(rows, per_test, mistakes, figures, now, out=None, unexplained=()):
    """The report's view model: every number and text the template shows, formatted.

    The grade matrix has a row per student of the class; a cell links to its feedback page when ``out``
    holds that page (an id that is no folder name has none). ``unexplained``: the clusters of undiagnosed
    failures (:func:`autograder.grading.clusters.undiagnosed`)."""
    chapters = sorted({r["assignment_id"] for r in rows})
    students = sorted({r["student_id"] for r in rows})
    by_key = {(r["student_id"], r["assignment_id"]): r for r in rows}
    chapter_rows = []
    for chapter in chapters:
        pct = sorted(100 * r["score"] / r["max_score"] for r in rows
                     if r["assignment_id"] == chapter and r["max_score"] and r["score"] is not None)
        bad = sum(1 for r in rows if r["assignment_id"] == chapter and r["status"] != "ok")
        if pct:
            median = (pct[(len(pct) - 1) // 2] + pct[len(pct) // 2]) / 2
            chapter_rows.append({"chapter": chapter, "n": len(pct), "mean": f"{sum(pct) / len(pct):.1f}",
                                 "median": f"{median:.1f}", "min": f"{pct[0]:.1f}", "max": f"{pct[-1]:.1f}",
                                 "bad": bad})
    test_rows = [{"chapter": chapter, "test": test, "graded": len(lost), "lost": f"{100 * sum(lost) / len(lost):.0f}%"}
                 for (chapter, test), lost in sorted(per_test.items(), key=lambda kv: -sum(kv[1]) / len(kv[1]))]
    mistake_rows = []
    for (chapter, answer), info in sorted(mistakes.items()):
        for mistake_id, made_by in sorted(info["made"].items(), key=lambda kv: -len(kv[1])):
            mistake_rows.append({"chapter": chapter, "answer": answer, "mistake": mistake_id, "label": None,
                                 "count": len(made_by), "share": _pct(len(made_by), info["graded"]),
                                 "meaning": info["entries"][mistake_id].explanation,
                                 "students": ", ".join(sorted(made_by))})
        for key, label, meaning in (("unexplained", "no diagnosis", "failed a check; no catalogued mistake has "
                                     "these outputs"),
                                    ("unanswered", "not answered", "the answer cell was left as released, or its "
                                     "function is not defined")):
            if info[key]:
                mistake_rows.append({"chapter": chapter, "answer": answer, "mistake": None, "label": label,
                                     "count": len(info[key]), "share": _pct(len(info[key]), info["graded"]),
                                     "meaning": meaning, "students": ", ".join(sorted(info[key]))})
    counts = Counter(r["status"] for r in rows)
    listed = sorted((r for r in rows if r["status"] != "ok"), key=lambda r: (r["status"], r["student_id"],
                                                                              r["assignment_id"]))
    return {
        "rendered": f"{now:%Y-%m-%d %H:%M}", "submissions": len(rows), "students": len(students),
        "chapters": chapters, "figures": figures, "chapter_rows": chapter_rows, "test_rows": test_rows,
        "mistake_rows": mistake_rows,
        "clusters": [{"chapter": c.chapter, "answer": c.answer, "test": c.test, "count": len(c.students),
                      "students": ", ".join(c.students), "example": c.example} for c in unexplained],
        "status_rows": [{"status": s, "count": counts[s]} for s in gradebook.STATUSES if counts.get(s)],
        "repaired": [{"student": r["student_id"], "chapter": r["assignment_id"],
                      "notes": "; ".join(n for n in r["detail"].split("; ") if n.startswith("repaired:"))}
                     for r in rows if r.get("repaired")],
        "review": [{"student": r["student_id"], "chapter": r["assignment_id"], "why": r["review"]}
                   for r in rows if r.get("review")],
        "late": [{"student": r["student_id"], "chapter": r["assignment_id"], "late": _late(r["seconds_late"]),
                  "penalty": f"{r['late_penalty']:g}", "score": _score(r)} for r in rows if r.get("seconds_late")],
        "listed": [{"student": r["student_id"], "chapter": r["assignment_id"], "status": r["status"],
                    "score": _score(r), "detail": r["detail"], "href": _feedback_href(r)} for r in listed],
        "matrix": [{"student": sid, "cells": [_matrix_cell(by_key.get((sid, c)), out) for c in chapters]}
                   for sid in students],
    }


def _late(seconds):
    from autograder.grading.summary import late_text

    return late_text(seconds)


def _matrix_cell(row, out):
    if row is None:
        return None
    sid, aid = row["student_id"], row["assignment_id"]
    # the same guard as the writer of feedback pages: an id that is no folder name has none
    page = out is not None and not id_problem(sid) and (Path(out) / "feedback" / sid / aid / f"{aid}.html").is_file()
    return {"score": _score(row), "status": None if row["status"] == "ok" else row["status"],
            "href": _feedback_href(row) if page else None}


def render(gb, out):
    """Write report.html and its PNGs into ``out``; return the HTML path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows, per_test = collect(gb)
    mistakes = mistake_table(rows)
    figures = _figures(out, rows, per_test, mistakes)
    unexplained = clusters.undiagnosed(rows, mistakes, out)
    page = pages.render("report.html.j2", **view(rows, per_test, mistakes, figures, datetime.now(), out, unexplained))
    return atomic_write(out / "report.html", page)

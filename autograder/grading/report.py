"""Re-render the class report from the gradebook: ``python -m autograder report [--out DIR]``.

``report.html`` with four figures (``report-scores.png``: score distribution per chapter,
``report-tests.png``: failure rate of every test cell, ``report-mistakes.png``: which catalogued
mistakes the class made, per exercise, and how many failures no entry explains,
``report-status.png``: status counts), a summary per chapter, the per-test table, the mistakes
with the students who made them (the instructor's view), the repaired notebooks, the submissions
listed for review, the broken submissions and grader errors with links to their feedback, and
the grade matrix (students x chapters).
"""

import html
import sys
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from autograder.grading import gradebook
from autograder.grading import judging

UNGRADED = {"invalid_notebook", "missing_notebook", "grader_error"}


def add_arguments(parser):
    parser.add_argument("--out", default="grading", help="the grading folder (default: grading/)")
    parser.add_argument("--db-url", default=None, help="gradebook URL (default: sqlite in --out)")


def run(args):
    out = Path(args.out)
    db_url = args.db_url or gradebook.default_db_url(out)
    if args.db_url is None and not (out / "gradebook.db").is_file():
        print(f"autograder report: error: no gradebook in {out} (run `python -m autograder grade` first)",
              file=sys.stderr)
        return 2
    try:
        gb = gradebook.open_existing(db_url)
    except Exception as err:  # noqa: BLE001
        print(f"autograder report: error: cannot open the gradebook {gradebook.safe_url(db_url)}: "
              f"{str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__}", file=sys.stderr)
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
        row["lost_tests"] = set()
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
    return rows, per_test


def mistake_table(rows):
    """Per (chapter, answer): graded submissions, failures, {mistake id: [students]}, undiagnosed failures.

    Catalogue entries come from the chapter declarations (explanations, answers); only the
    instructor's report shows who made which mistake.
    """
    from solutions import chapters as course
    from checks import mistakes as catalogue

    table = {}
    graded_chapters = {r["assignment_id"] for r in rows}
    for chapter in course.all_chapters():
        if chapter.id not in graded_chapters:
            continue
        entries = {m.id: m for m in catalogue.catalogue(chapter)}
        graded = [r for r in rows if r["assignment_id"] == chapter.id and r["status"] not in UNGRADED]
        for answer in chapter.answers:
            tests = {t.grade_id for t in chapter.tests if t.answer == answer}
            failed = [r for r in graded if r["lost_tests"] & tests]
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
                                               "entries": entries}
    return table


def _figures(out, rows, per_test, mistakes):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = {}
    chapters = sorted({r["assignment_id"] for r in rows})
    fig, ax = plt.subplots(figsize=(max(5, 1.3 * len(chapters) + 2), 3.6))
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
    fig.tight_layout()
    fig.savefig(out / "report-scores.png", dpi=110)
    plt.close(fig)
    names["scores"] = "report-scores.png"

    keys = sorted(per_test)
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.28 * len(keys) + 1)))
    rates = [100 * sum(per_test[k]) / len(per_test[k]) for k in keys]
    ax.barh(range(len(keys)), rates, color="tab:red")
    ax.set_yticks(range(len(keys)), [f"{a} / {g}" for a, g in keys], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of graded submissions losing points")
    ax.set_title("Failure rate per test cell")
    fig.tight_layout()
    fig.savefig(out / "report-tests.png", dpi=110)
    plt.close(fig)
    names["tests"] = "report-tests.png"

    bars = [(f"{c} / {a}: {m}", 100 * len(students) / info["graded"])
            for (c, a), info in sorted(mistakes.items()) for m, students in sorted(info["made"].items())]
    bars += [(f"{c} / {a}: (failed, no diagnosis)", 100 * len(info["unexplained"]) / info["graded"])
             for (c, a), info in sorted(mistakes.items()) if info["unexplained"]]
    bars += [(f"{c} / {a}: (not answered)", 100 * len(info["unanswered"]) / info["graded"])
             for (c, a), info in sorted(mistakes.items()) if info["unanswered"]]
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.28 * len(bars) + 1)))
    ax.barh(range(len(bars)), [v for _, v in bars],
            color=["tab:gray" if "no diagnosis" in k else "lightgray" if "not answered" in k else "tab:purple"
                   for k, _ in bars])
    ax.set_yticks(range(len(bars)), [k for k, _ in bars], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of graded submissions")
    ax.set_title("Diagnosed mistakes (gray: failed, no diagnosis; light gray: not answered)")
    fig.tight_layout()
    fig.savefig(out / "report-mistakes.png", dpi=110)
    plt.close(fig)
    names["mistakes"] = "report-mistakes.png"

    counts = Counter(r["status"] for r in rows)
    statuses = [s for s in gradebook.STATUSES if counts.get(s)]
    fig, ax = plt.subplots(figsize=(6, 2.8))
    ax.bar(statuses, [counts[s] for s in statuses],
           color=["tab:green" if s == "ok" else "tab:orange" for s in statuses])
    ax.set_ylabel("submissions")
    ax.set_title("Status counts")
    ax.tick_params(axis="x", labelrotation=20)
    fig.tight_layout()
    fig.savefig(out / "report-status.png", dpi=110)
    plt.close(fig)
    names["status"] = "report-status.png"
    return names


def _e(text):
    return html.escape(str(text))


def _score(row):
    if row.get("score") is None:
        return "-"
    return f"{row['score']:g} / {row['max_score'] or 0:g}"


def _feedback_link(row):
    sid, aid = row["student_id"], row["assignment_id"]
    href = "feedback/" + "/".join(quote(p) for p in (sid, aid, f"{aid}.html"))
    return f'<a href="{href}">feedback</a>'


def render(gb, out):
    """Write report.html and its PNGs into ``out``; return the HTML path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows, per_test = collect(gb)
    mistakes = mistake_table(rows)
    figures = _figures(out, rows, per_test, mistakes)
    chapters = sorted({r["assignment_id"] for r in rows})
    students = sorted({r["student_id"] for r in rows})
    by_key = {(r["student_id"], r["assignment_id"]): r for r in rows}
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Class report</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;"
        "margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}"
        "td.num{text-align:right}.bad{color:#b00}</style></head><body>",
        "<h1>Class report</h1>",
        f"<p>{len(rows)} graded submission(s) of {len(students)} student(s) in {len(chapters)} chapter(s); "
        f"rendered {datetime.now():%Y-%m-%d %H:%M} from the gradebook.</p>",
        "<h2>Scores per chapter</h2><table><tr><th>chapter</th><th>submissions</th><th>mean %</th>"
        "<th>median %</th><th>min %</th><th>max %</th><th>not ok</th></tr>",
    ]
    for chapter in chapters:
        pct = sorted(100 * r["score"] / r["max_score"] for r in rows
                     if r["assignment_id"] == chapter and r["max_score"] and r["score"] is not None)
        bad = sum(1 for r in rows if r["assignment_id"] == chapter and r["status"] != "ok")
        if pct:
            median = (pct[(len(pct) - 1) // 2] + pct[len(pct) // 2]) / 2
            parts.append(f"<tr><td>{_e(chapter)}</td><td class=num>{len(pct)}</td>"
                         f"<td class=num>{sum(pct) / len(pct):.1f}</td><td class=num>{median:.1f}</td>"
                         f"<td class=num>{pct[0]:.1f}</td><td class=num>{pct[-1]:.1f}</td>"
                         f"<td class=num>{bad}</td></tr>")
    parts.append("</table>")
    parts.append(f"<img src='{figures['scores']}' alt='score distribution per chapter'>")
    parts.append("<h2>Which tests the class struggles with</h2>")
    parts.append(f"<img src='{figures['tests']}' alt='failure rate per test cell'>")
    parts.append("<table><tr><th>chapter</th><th>test cell</th><th>graded</th><th>lost points</th></tr>")
    for (chapter, test), lost in sorted(per_test.items(), key=lambda kv: -sum(kv[1]) / len(kv[1])):
        parts.append(f"<tr><td>{_e(chapter)}</td><td>{_e(test)}</td><td class=num>{len(lost)}</td>"
                     f"<td class=num>{100 * sum(lost) / len(lost):.0f}%</td></tr>")
    parts.append("</table>")
    parts.append("<h2>Which mistakes the class made</h2>")
    parts.append("<p>A failing check whose outputs equal those of a catalogued mistake names it in the student's "
                 "feedback. Gray bars: failures no catalogued mistake explains (where the catalogue should "
                 "grow); light gray: answers left as released (the stub raises <code>NotImplementedError</code>) "
                 "or not defined.</p>")
    parts.append(f"<img src='{figures['mistakes']}' alt='diagnosed mistakes per exercise'>")
    parts.append("<table><tr><th>chapter</th><th>exercise</th><th>mistake</th><th>submissions</th><th>share</th>"
                 "<th>what it means</th><th>students</th></tr>")
    for (chapter, answer), info in sorted(mistakes.items()):
        for mistake_id, students in sorted(info["made"].items(), key=lambda kv: -len(kv[1])):
            parts.append(f"<tr><td>{_e(chapter)}</td><td>{_e(answer)}</td><td>{_e(mistake_id)}</td>"
                         f"<td class=num>{len(students)}</td><td class=num>{100 * len(students) / info['graded']:.0f}%"
                         f"</td><td>{_e(info['entries'][mistake_id].explanation)}</td>"
                         f"<td>{_e(', '.join(sorted(students)))}</td></tr>")
        if info["unexplained"]:
            parts.append(f"<tr><td>{_e(chapter)}</td><td>{_e(answer)}</td><td><i>no diagnosis</i></td>"
                         f"<td class=num>{len(info['unexplained'])}</td><td class=num>"
                         f"{100 * len(info['unexplained']) / info['graded']:.0f}%</td><td>failed a check; no "
                         f"catalogued mistake has these outputs</td><td>{_e(', '.join(sorted(info['unexplained'])))}"
                         "</td></tr>")
        if info["unanswered"]:
            parts.append(f"<tr><td>{_e(chapter)}</td><td>{_e(answer)}</td><td><i>not answered</i></td>"
                         f"<td class=num>{len(info['unanswered'])}</td><td class=num>"
                         f"{100 * len(info['unanswered']) / info['graded']:.0f}%</td><td>the answer cell was left "
                         f"as released, or its function is not defined</td>"
                         f"<td>{_e(', '.join(sorted(info['unanswered'])))}</td></tr>")
    parts.append("</table>")
    counts = Counter(r["status"] for r in rows)
    parts.append("<h2>Status counts</h2>")
    parts.append(f"<img src='{figures['status']}' alt='status counts'>")
    parts.append("<table><tr><th>status</th><th>count</th></tr>" + "".join(
        f"<tr><td>{s}</td><td class=num>{counts[s]}</td></tr>" for s in gradebook.STATUSES if counts.get(s))
        + "</table>")
    repaired = [r for r in rows if r.get("repaired")]
    parts.append(f"<h2>Repaired notebooks ({len(repaired)})</h2>")
    parts.append("<p>The notebook's shape was off (cells deleted, moved or without their nbgrader metadata, e.g. "
                 "after Colab or a copy into a fresh notebook); the grader found the answers by name. Grades are "
                 "unaffected; ask these students to keep the release notebook's cells next time.</p>")
    if repaired:
        parts.append("<table><tr><th>student</th><th>chapter</th><th>what was repaired</th></tr>")
        for r in repaired:
            notes = "; ".join(n for n in r["detail"].split("; ") if n.startswith("repaired:"))
            parts.append(f"<tr><td>{_e(r['student_id'])}</td><td>{_e(r['assignment_id'])}</td><td>{_e(notes)}"
                         "</td></tr>")
        parts.append("</table>")
    review = [r for r in rows if r.get("review")]
    parts.append(f"<h2>Listed for review ({len(review)})</h2>")
    if review:
        parts.append("<table><tr><th>student</th><th>chapter</th><th>why</th></tr>" + "".join(
            f"<tr><td>{_e(r['student_id'])}</td><td>{_e(r['assignment_id'])}</td><td>{_e(r['review'])}</td></tr>"
            for r in review) + "</table>")
    else:
        parts.append("<p>None: no future timestamps, no submission replaced another.</p>")
    listed = [r for r in rows if r["status"] != "ok"]
    parts.append(f"<h2>Broken submissions and grader errors ({len(listed)})</h2>")
    if listed:
        parts.append("<table><tr><th>student</th><th>chapter</th><th>status</th><th>score</th><th>detail</th>"
                     "<th></th></tr>")
        for r in sorted(listed, key=lambda r: (r["status"], r["student_id"], r["assignment_id"])):
            parts.append(f"<tr><td>{_e(r['student_id'])}</td><td>{_e(r['assignment_id'])}</td>"
                         f"<td class=bad>{_e(r['status'])}</td><td class=num>{_score(r)}</td>"
                         f"<td>{_e(r['detail'])}</td><td>{_feedback_link(r)}</td></tr>")
        parts.append("</table>")
    else:
        parts.append("<p>None.</p>")
    parts.append("<h2>Grades</h2><table><tr><th>student</th>" + "".join(f"<th>{_e(c)}</th>" for c in chapters)
                 + "</tr>")
    for sid in students:
        cells = []
        for chapter in chapters:
            r = by_key.get((sid, chapter))
            if r is None:
                cells.append("<td></td>")
            else:
                mark = "" if r["status"] == "ok" else f" <span class=bad>({_e(r['status'])})</span>"
                cells.append(f"<td class=num>{_score(r)}{mark}</td>")
        parts.append(f"<tr><td>{_e(sid)}</td>{''.join(cells)}</tr>")
    parts.append("</table></body></html>")
    path = out / "report.html"
    tmp = out / ".report.html.tmp"
    tmp.write_text("\n".join(parts), encoding="utf-8")
    tmp.replace(path)
    return path

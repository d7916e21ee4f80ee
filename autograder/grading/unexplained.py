"""``python -m autograder mistakes [--out DIR]``: the class's undiagnosed failures, grouped by their verdict.

The same groups as the class report's section (:mod:`autograder.grading.clusters`), as text: each group's
size, chapter, exercise and test cell, its students, and the verdict of the first of them, largest first.
"""

from pathlib import Path

from autograder.grading import clusters, report


def add_arguments(parser):
    report.add_arguments(parser)


def run(args):
    gb = report.open_for(args, "mistakes")
    if gb is None:
        return 2
    try:
        rows, _ = report.collect(gb)
    finally:
        gb.close()
    found = clusters.undiagnosed(rows, report.mistake_table(rows), Path(args.out))
    if not found:
        print("no undiagnosed failures: every failing check is explained by a catalogued mistake or not answered")
    for cluster in found:
        print(f"{len(cluster.students)} submission(s): {cluster.chapter} / {cluster.answer} / {cluster.test}, "
              "failed with the same verdict and no diagnosis")
        print(f"  students: {', '.join(cluster.students)}")
        print("  verdict of the first: " + cluster.example.replace("\n", "\n    "))
        print()
    return 0

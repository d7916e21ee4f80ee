"""What one student's records can cost the grading parent: honest records against the worst a kernel may send.

For every test of every chapter: the reference's records (an honest correct answer), then the most
expensive records the parent still reads (:func:`autograder.grading.judging.allowance`: a list of small
ints as long as the allowance lets through, the issue's attack), and records just over it (refused before
decoding). Each is decoded, judged and diagnosed as in :func:`autograder.grading.judging.judge`. Prints
seconds per chapter (sum over its tests) and the largest single test.

    .venv/bin/python benchmarks/hostile_records.py [CHAPTER ...]
"""

import json
import sys
import time

from autograder.common.records import KernelRun
from autograder.course.sources import reference_answers
from autograder.grading import judging
from checks import probe
from coursebook import paths
from solutions.chapters import all_chapters


def _timed(run, chapter, answers):
    started = time.perf_counter()
    verdicts = judging.judge(run, chapter, answers)
    return time.perf_counter() - started, verdicts


def worst_text(grade_id, limits):
    """Valid JSON of small ints, as many as the allowance's characters and values admit."""
    count = min(limits.chars // 2 - 100, limits.nodes - 100)
    return json.dumps({"test": grade_id, "cases": [[{"label": "result", "value": [0] * count}]]},
                      separators=(",", ":"))


def main(wanted):
    print(f"{'chapter':<22}{'tests':>6}{'honest s':>10}{'worst s':>10}{'worst test s':>14}{'over s':>9}"
          f"{'allowance MB':>14}")
    for chapter in all_chapters():
        if wanted and chapter.id not in wanted:
            continue
        answers = reference_answers(paths.SOURCE / chapter.id / f"{chapter.id}.ipynb", None)
        honest_records, worst_records, over_records, biggest = {}, {}, {}, 0
        for test in chapter.tests:
            raw = probe.run_plans(test.plans(), chapter.reference_namespace())
            honest_records[test.grade_id] = [json.dumps({"test": test.grade_id, "cases": raw})]
            limits = judging.allowance(chapter, test)
            worst_records[test.grade_id] = [worst_text(test.grade_id, limits)]
            over_records[test.grade_id] = ["[" + "0," * (limits.chars // 2) + "0]"]
            biggest = max(biggest, limits.chars)
        _timed(KernelRun("x", chapter.id, records=honest_records), chapter, answers)  # warm the reference's caches
        honest, _ = _timed(KernelRun("x", chapter.id, records=honest_records), chapter, answers)
        single = 0.0
        for grade_id, texts in worst_records.items():
            seconds, _ = _timed(KernelRun("x", chapter.id, records={grade_id: texts}), chapter, answers)
            single = max(single, seconds)
        worst, _ = _timed(KernelRun("x", chapter.id, records=worst_records), chapter, answers)
        over, _ = _timed(KernelRun("x", chapter.id, records=over_records), chapter, answers)
        print(f"{chapter.id:<22}{len(chapter.tests):>6}{honest:>10.3f}{worst:>10.3f}{single:>14.3f}{over:>9.3f}"
              f"{biggest / 2**20:>14.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])

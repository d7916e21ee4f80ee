"""Benchmark: what the hidden checks of each chapter cost, in the kernel and in the grading parent.

    .venv/bin/python benchmarks/checks_cost.py [--repeat 3] [--recording PATH]

Per chapter, the declared plans of every test are run in this process on the reference answers (what a
correct student's kernel runs in ``check()``), under cProfile, and their time is split into: building
the declared inputs (``to_python``), the answers' own code (the rest), the probe's encoding of the results
(``encode``) and its JSON text (``json.dumps``), and compiling course helpers (``bind`` steps). Then the
size of the records (characters of JSON, what the kernel sends and the parent decodes) and what the parent
spends decoding and judging a correct submission's records (warm caches, as for every submission after the
first). With ``--recording`` (benchmarks/replay.py's), the mean of the ``cells`` phase of the demo's correct
student in a real kernel is shown next to it. Not part of the test suite; timing only.
"""

import argparse
import cProfile
import json
import pickle
import pstats
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder.common.records import KernelRun  # noqa: E402
from autograder.course.config import course_config  # noqa: E402
from autograder.course.sources import reference_answers  # noqa: E402
from autograder.grading import judging  # noqa: E402
from checks import probe  # noqa: E402
from coursebook import paths  # noqa: E402
from solutions.chapters import chapter as declared  # noqa: E402

SEED = 20  # any batch seed: the inputs' sizes do not depend on it


def _cumulative(stats, name):
    return sum(row[3] for (path, _line, function), row in stats.stats.items()
               if function == name and path.endswith("probe.py"))


def measure(chapter, repeat):
    """{phase: seconds per correct notebook}, records' characters, the parent's judging seconds."""
    namespace = chapter.reference_namespace()
    plans = {t.grade_id: t.plans(SEED) for t in chapter.tests}
    profile = cProfile.Profile()
    texts = {}
    started = time.perf_counter()
    for _ in range(repeat):
        profile.enable()
        raw = {g: probe.run_plans(p, namespace) for g, p in plans.items()}
        profile.disable()
        dumped = time.perf_counter()
        texts = {g: json.dumps({"test": g, "cases": r}) for g, r in raw.items()}
        dumped = time.perf_counter() - dumped
    total = (time.perf_counter() - started) / repeat
    stats = pstats.Stats(profile)
    encode = (_cumulative(stats, "encode") + _cumulative(stats, "encode_raised")) / repeat
    inputs = _cumulative(stats, "to_python") / repeat
    bind = _cumulative(stats, "_bind") / repeat
    answers = reference_answers(paths.source_notebook(chapter.id), course_config(paths.SOURCE))
    run = KernelRun("bench", chapter.id, notebook=None, records={g: [t] for g, t in texts.items()})
    judging.judge(run, chapter, answers, SEED)  # the reference's records and allowances, once per process
    started = time.perf_counter()
    for _ in range(repeat):
        verdicts = judging.judge(run, chapter, answers, SEED)
    judge = (time.perf_counter() - started) / repeat
    assert all(v.passed for v in verdicts.values()), [v.text() for v in verdicts.values() if not v.passed]
    return {"total": total, "inputs": inputs, "answers": total - dumped - encode - inputs - bind, "encode": encode,
            "json": dumped, "bind": bind, "chars": sum(len(t) for t in texts.values()), "judge": judge}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--recording", default=None, help="benchmarks/replay.py's recorded kernel runs")
    args = parser.parse_args(argv)
    cells = {}
    if args.recording:
        runs = pickle.loads(Path(args.recording).read_bytes())["runs"]
        cells = {aid: run.timings.get("cells") for (sid, aid), run in runs.items() if sid == "ada"}
    print("per chapter, one correct notebook's hidden checks run in this process (mean of "
          f"{args.repeat}), milliseconds; records in thousands of characters")
    print("| chapter | checks in all | declared inputs | answers' code | encode | json | bind | records | "
          "parent: decode + judge | kernel cells (demo) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for chapter_id in paths.chapter_ids():
        m = measure(declared(chapter_id), args.repeat)
        kernel = f"{cells[chapter_id] * 1000:.0f}" if cells.get(chapter_id) else "-"
        print(f"| {chapter_id} | {m['total'] * 1000:.0f} | {m['inputs'] * 1000:.0f} | {m['answers'] * 1000:.0f} | "
              f"{m['encode'] * 1000:.0f} | {m['json'] * 1000:.0f} | {m['bind'] * 1000:.1f} | {m['chars'] / 1000:.0f} | "
              f"{m['judge'] * 1000:.0f} | {kernel} |")


if __name__ == "__main__":
    main()

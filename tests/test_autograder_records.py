"""What a hostile kernel can send the grading parent, generated: the decoder and the judge never fail the batch.

Properties (Hypothesis, fixed seed in ``make test``; ``make fuzz`` runs them with many more examples):

- :func:`checks.probe.decode_records` returns records or raises :class:`~checks.probe.BadRecords`, nothing
  else, for any JSON value and any lie in the wire format (dtype, shape, length, encoding, nesting,
  duplicate labels), and its work is bounded by its budget before it decodes;
- :func:`autograder.grading.judging.judge` returns a verdict for every test of the chapter for any records,
  and honest records pass;
- the grading parent (a real batch, gradebook and feedback, with workers replaced by a script) grades a
  class where several students send random garbage records, and every honest classmate's grade and status
  equal a clean run's; a submission whose records break judging twice is listed for review, not retried.
"""

import dataclasses
import json
import os

import nbformat
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from autograder.common.deadline import DeadlineExceeded, deadline
from autograder.common.records import KernelRun
from autograder.grading import judging
from checks import probe
from solutions.chapters import all_chapters
from tests.autograder_fixtures import hostile, tiny, tiny_chapter
from tests.autograder_fixtures.scripted import ScriptedEngine

pytestmark = pytest.mark.filterwarnings("ignore:Object of type <\\w+> not in session")

FUZZ = int(os.environ.get("AUTOGRADER_FUZZ_EXAMPLES", "0"))  # make fuzz: many examples; make test: the defaults
# make test: a fixed seed and few examples (make check runs these too: every second counts); make fuzz: thousands
SETTINGS = settings(max_examples=FUZZ or 80, deadline=None, derandomize=not FUZZ, database=None,
                    suppress_health_check=list(HealthCheck))
BOUND = 10.0  # seconds: a generous wall-clock bound (orders of magnitude above any example); not a benchmark
CHAPTER = tiny_chapter.CHAPTER
TINY_ANSWERS = {"min_max_scale": tiny.CORRECT}


def _honest_cases(test_id, answer=tiny.CORRECT):
    ns = {"np": __import__("numpy")}
    exec(answer, ns)
    return probe.run_plans(CHAPTER.test(test_id).plans(), ns)


def _text(test_id, cases):
    return json.dumps({"test": test_id, "cases": cases})


@SETTINGS
@given(hostile.cases())
def test_decoder_returns_records_or_a_typed_rejection(cases):
    budget = probe.Budget(nodes=50_000, elements=1_000_000)
    try:
        with deadline(BOUND):
            decoded = probe.decode_records(json.loads(json.dumps(cases)), budget)
    except probe.BadRecords:
        return
    except DeadlineExceeded:
        pytest.fail("decoding ran past its bound")
    assert isinstance(decoded, list) and all(isinstance(case, dict) for case in decoded)
    assert budget.nodes >= 0 and budget.elements >= 0


@pytest.mark.parametrize("shape", [[2**40, 2**40], [2**62, 2**62, 4], [10**6] * 30, [1] * 40, [-1], [True, 2],
                                   [2.0], [[3]], "3", None])
def test_impossible_shapes_are_rejected_before_any_arithmetic(shape):
    """The issue's crash: a shape too large for np.prod raised outside the errors the decoder caught."""
    value = {"$": "ndarray", "dtype": "float64", "shape": shape, "data": ""}
    with pytest.raises(probe.BadRecords):
        probe.decode_records([[{"label": "result", "value": value}]])


def test_cost_is_bounded_before_decoding():
    """Millions of small ints (valid data) cost the budget, not the decoder's time."""
    many = [[{"label": "result", "value": [list(range(50_000))] * 6}]]
    with pytest.raises(probe.BadRecords, match="more values"):
        probe.decode_records(many, probe.Budget(nodes=100_000))
    huge = {"$": "ndarray", "dtype": "int8", "shape": [50_000_000], "data": "A" * 8}
    with pytest.raises(probe.BadRecords, match="larger arrays"):  # refused before its data is looked at
        probe.decode_records([[{"label": "result", "value": huge}]], probe.Budget(elements=1_000_000))


def test_the_parent_refuses_records_far_larger_than_the_references():
    test_id = "test_min_max_scale_tiny"
    limits = judging.allowance(CHAPTER, CHAPTER.test(test_id))
    honest = _text(test_id, _honest_cases(test_id))
    assert len(honest) * judging.SIZE_FACTOR < limits.chars
    flood = _text(test_id, [[{"label": "result", "value": [0] * (limits.chars // 2)}]] * 2)
    verdict = judging.judge(KernelRun("ann", CHAPTER.id, records={test_id: [flood]}), CHAPTER, TINY_ANSWERS)[test_id]
    assert verdict.message and "too large" in verdict.message


@SETTINGS
@given(st.data())
def test_judge_gives_every_test_a_verdict_for_any_records(data):
    records = {}
    for test in CHAPTER.tests:
        records[test.grade_id] = data.draw(hostile.record_texts(test.grade_id, _honest_cases(test.grade_id)))
    with deadline(BOUND * 3):
        verdicts = judging.judge(KernelRun("ann", CHAPTER.id, records=records), CHAPTER, TINY_ANSWERS)
    assert set(verdicts) == {t.grade_id for t in CHAPTER.tests}
    for verdict in verdicts.values():
        assert verdict.message is None or isinstance(verdict.message, str)


def test_honest_records_pass_and_the_judging_deadline_fails_only_the_slow_test(monkeypatch):
    records = {t.grade_id: [_text(t.grade_id, _honest_cases(t.grade_id))] for t in CHAPTER.tests}
    verdicts = judging.judge(KernelRun("ann", CHAPTER.id, records=records), CHAPTER, TINY_ANSWERS)
    assert all(v.message is None for v in verdicts.values())
    slow = "test_min_max_scale_tiny"
    original = probe.decode_records

    def stuck(cases, budget=None):
        if cases and cases[0] and cases[0][0].get("label") == "stuck":
            while True:
                pass
        return original(cases, budget)

    monkeypatch.setattr(probe, "decode_records", stuck)
    records[slow] = [_text(slow, [[{"label": "stuck", "value": 1}]])]
    verdicts = judging.judge(KernelRun("ann", CHAPTER.id, records=records), CHAPTER, TINY_ANSWERS, seconds=0.5)
    assert "took more than 0.5 s" in verdicts[slow].message
    assert all(v.message is None for g, v in verdicts.items() if g != slow)


# -- the grading parent, workers scripted ---------------------------------------------------------------------
def _prepared(nb, mst):
    from autograder.execution import layout

    prepared, _notes, _repairs = layout.prepare(nbformat.writes(nb).encode(), mst, mst.kernel_nb_json, "x")
    return nbformat.writes(prepared)


def _grade(tmp_path, runs_of):
    """Grade the class in ``tmp_path/class`` through the real parent; {student: (status, score)}."""
    import io

    from autograder.grading import gradebook
    from autograder.grading.batch import Batch
    from autograder.grading.command import parse
    from autograder.grading.scheduler import Grader, Interrupts

    args = parse([tmp_path / "class", "--out", tmp_path / "out", "--source", tmp_path / "course" / "source"])
    batch = Batch(args)
    batch.prepare()
    try:
        batch.log, batch.interrupts, batch.phases = io.StringIO(), Interrupts(), {}
        mst = batch.masters[tiny.ASSIGNMENT]
        Grader(batch, ScriptedEngine(runs_of(mst)), sandboxed=True).run(batch.todo)
        rows = {r["student_id"]: (r["status"], r["score"], r["review"], r["detail"]) for r in gradebook.rows(batch.gb)}
        return rows, batch.log.getvalue(), len(batch.todo)
    finally:
        batch.close()


def _with_tiny_chapter(mp):
    """Declare the tiny chapter for this test (the course's chapters are cached per process: another test of
    the same xdist worker may have read them without it)."""
    mp.setenv("COURSE_EXTRA_CHAPTERS", "tests.autograder_fixtures.tiny_chapter")
    all_chapters.cache_clear()


@pytest.fixture
def tiny_class(tmp_path, monkeypatch):
    _with_tiny_chapter(monkeypatch)
    tiny.make_course(tmp_path / "course")
    honest = {"correct": tiny.CORRECT, "wrong": tiny.WRONG, "stub": "def min_max_scale(X, feature_range=(0, 1)):\n"
              "    raise NotImplementedError()"}
    for student, answer in honest.items():
        tiny.write(tmp_path / "class", student, notebook=tiny.student_notebook(answer))
    yield honest
    all_chapters.cache_clear()  # the next test reads the course's chapters again (without the tiny one)


def test_the_fork_servers_import_what_the_batchs_chapters_import(tmp_path, tiny_class):
    """A batch of the tiny chapter (numpy only) starts fork servers without torch, though the course declares
    torch chapters: their imports would cost each worker slot seconds for nothing."""
    from autograder.grading import master
    from autograder.grading.batch import Batch
    from autograder.grading.command import parse

    assert master.TORCH_PRELOAD[0] in master.preload_lines(all_chapters())  # the course's chapters use torch
    batch = Batch(parse([tmp_path / "class", "--out", tmp_path / "out", "--source", tmp_path / "course" / "source"]))
    batch.prepare()
    try:
        preload = batch.masters[tiny.ASSIGNMENT].preload
    finally:
        batch.close()
    assert "import numpy as np" in preload
    assert not [line for line in preload if "torch" in line or "sklearn" in line], preload


def _honest_run(mst, student, answer):
    records = {t.grade_id: [_text(t.grade_id, _honest_cases(t.grade_id, answer))] for t in CHAPTER.tests}
    return KernelRun(student, tiny.ASSIGNMENT, notebook=_prepared(tiny.student_notebook(answer), mst), records=records)


@settings(max_examples=FUZZ // 100 or 3, deadline=None, derandomize=not FUZZ, database=None,
          suppress_health_check=list(HealthCheck))
@seed(25)
@given(st.data())
def test_garbage_records_of_several_students_leave_honest_classmates_as_a_clean_run(tmp_path_factory, data):
    tmp_path = tmp_path_factory.mktemp("garbage")
    mp = pytest.MonkeyPatch()
    try:
        _with_tiny_chapter(mp)
        tiny.make_course(tmp_path / "course")
        honest = {"correct": tiny.CORRECT, "wrong": tiny.WRONG}
        attackers = [f"garbage{i}" for i in range(data.draw(st.integers(1, 3)))]
        for student, answer in honest.items():
            tiny.write(tmp_path / "class", student, notebook=tiny.student_notebook(answer))

        def clean(mst):
            return {s: _honest_run(mst, s, a) for s, a in honest.items()}

        clean_rows, _log, _ = _grade(tmp_path, clean)
        for student in attackers:
            tiny.write(tmp_path / "class", student, notebook=tiny.student_notebook(tiny.CORRECT))
        garbage = {s: {t.grade_id: data.draw(hostile.record_texts(t.grade_id, _honest_cases(t.grade_id)))
                       for t in CHAPTER.tests} for s in attackers}

        def runs(mst):
            out = clean(mst)
            for student in attackers:
                out[student] = KernelRun(student, tiny.ASSIGNMENT, notebook=_prepared(tiny.student_notebook(), mst),
                                         records=garbage[student])
            return out

        import shutil

        shutil.rmtree(tmp_path / "out")
        rows, log, _ = _grade(tmp_path, runs)
        for student in honest:
            assert rows[student][:2] == clean_rows[student][:2], (student, rows[student], clean_rows[student])
        for student in attackers:
            assert rows[student][0] == "ok", (rows[student], log[-2000:])  # malformed records: the student's failure
            assert float(rows[student][1] or 0) <= 3.0
    finally:
        mp.undo()
        all_chapters.cache_clear()


def test_a_submission_that_breaks_judging_is_a_grader_error_then_listed_for_review(tmp_path, tiny_class, monkeypatch):
    from autograder.grading import decide as decide_module
    from autograder.grading import scheduler, verdicts

    def runs(mst):
        return {s: _honest_run(mst, s, a) for s, a in tiny_class.items()}

    original = decide_module.decide

    def broken(batch, job, run):
        if job.student_id == "wrong":
            raise OverflowError("a bug this submission's records trigger")
        return original(batch, job, run)

    monkeypatch.setattr(verdicts, "decide", broken)  # judging runs on the worker
    rows, log, graded = _grade(tmp_path, runs)
    assert graded == 3
    assert rows["correct"][:2] == ("ok", 3.0) and rows["stub"][:2] == ("ok", 0.0)
    assert rows["wrong"][0] == "grader_error" and scheduler.JUDGING_FAILED in rows["wrong"][3]
    assert "OverflowError: a bug this submission's records trigger" in log and "Traceback" in log
    assert scheduler.REVIEW_JUDGING not in rows["wrong"][2]
    rows, log, graded = _grade(tmp_path, runs)  # the rerun grades it again: the second failure in a row
    assert graded == 1 and scheduler.REVIEW_JUDGING in rows["wrong"][2], rows["wrong"]
    rows, log, graded = _grade(tmp_path, runs)  # listed for review: not retried until the file changes
    assert graded == 0 and rows["wrong"][0] == "grader_error"
    tiny.write(tmp_path / "class", "wrong", notebook=tiny.student_notebook(tiny.WRONG + "\n# resubmitted"))
    monkeypatch.setattr(verdicts, "decide", original)
    rows, log, graded = _grade(tmp_path, runs)
    assert graded == 1 and rows["wrong"][:2] == ("ok", 0.0)


def test_a_failing_record_step_is_contained(tmp_path, tiny_class, monkeypatch):
    """A bug while writing one submission's outputs: that submission is a grader error, the others are recorded."""
    from autograder.grading import scheduler

    original = scheduler.write_outputs

    def broken(batch, job, outcome, *args, **kwargs):
        if outcome.student_id == "stub" and outcome.status.value == "ok":
            raise UnicodeEncodeError("utf-8", "x", 0, 1, "a bug in writing")
        return original(batch, job, outcome, *args, **kwargs)

    monkeypatch.setattr(scheduler, "write_outputs", broken)
    rows, log, _ = _grade(tmp_path, lambda mst: {s: _honest_run(mst, s, a) for s, a in tiny_class.items()})
    assert rows["correct"][:2] == ("ok", 3.0) and rows["wrong"][:2] == ("ok", 0.0)
    assert rows["stub"][0] == "grader_error" and "UnicodeEncodeError" in log


def test_a_submission_the_gradebook_refuses_is_a_grader_error_its_batch_is_kept(tmp_path, tiny_class, monkeypatch):
    """Results are written in transactions of many: one the gradebook refuses rolls its transaction back, and
    then each result of it is written on its own, so that only that submission is a grader error."""
    from sqlalchemy.exc import OperationalError

    from autograder.grading import gradebook, scheduler

    original = gradebook.record
    calls = []

    def refusing(gb, job, outcome, *args, **kwargs):
        calls.append(outcome.student_id)
        if outcome.student_id == "wrong" and outcome.status.value == "ok":
            original(gb, job, outcome, *args, **kwargs)  # half of it written, then the database refuses
            raise OperationalError("INSERT ...", {}, Exception("refused"))
        return original(gb, job, outcome, *args, **kwargs)

    monkeypatch.setattr(gradebook, "record", refusing)
    monkeypatch.setattr(scheduler, "FLUSH_RESULTS", 3)  # the whole class in one transaction
    monkeypatch.setattr(scheduler, "FLUSH_SECONDS", 3600.0)
    rows, log, _ = _grade(tmp_path, lambda mst: {s: _honest_run(mst, s, a) for s, a in tiny_class.items()})
    assert rows["correct"][:2] == ("ok", 3.0) and rows["stub"][:2] == ("ok", 0.0)
    assert rows["wrong"][0] == "grader_error" and "refused" in log
    # in the transaction, then alone, then its grader error; the others once or twice, never lost
    assert calls.count("wrong") == 3 and calls[-1] == "wrong", calls


def test_results_are_committed_in_transactions_of_many_and_whole(tmp_path, tiny_class, monkeypatch):
    """A transaction holds whole submissions: a reader sees no result until its flush commits it, then all of
    its results (grades and journal rows together)."""
    import sqlite3

    from autograder.grading import gradebook, scheduler

    seen = []
    original = gradebook.one_transaction

    def watched(gb):
        def journal_rows():
            with sqlite3.connect(tmp_path / "out" / "gradebook.db") as db:
                return (db.execute("select count(*) from autograder_outcome").fetchone()[0],
                        db.execute("select count(*) from submitted_assignment").fetchone()[0])

        class Watching:
            def __enter__(self):
                self.inner = original(gb)
                self.inner.__enter__()
                seen.append(("before", journal_rows()))

            def __exit__(self, *exc):
                seen.append(("inside", journal_rows()))  # written, not committed: invisible to others
                result = self.inner.__exit__(*exc)
                seen.append(("after", journal_rows()))
                return result

        return Watching()

    monkeypatch.setattr(gradebook, "one_transaction", watched)
    monkeypatch.setattr(scheduler, "FLUSH_RESULTS", 2)
    monkeypatch.setattr(scheduler, "FLUSH_SECONDS", 3600.0)
    rows, _log, _ = _grade(tmp_path, lambda mst: {s: _honest_run(mst, s, a) for s, a in tiny_class.items()})
    assert len(rows) == 3
    assert seen == [("before", (0, 0)), ("inside", (0, 0)), ("after", (2, 2)),
                    ("before", (2, 2)), ("inside", (2, 2)), ("after", (3, 3))], seen


class HangingEngine(ScriptedEngine):
    """Jobs of ``hung`` never finish (a worker stuck in a FIFO, a lost Dask thread)."""

    def __init__(self, runs, hung):
        super().__init__(runs)
        self.hung, self.abandoned = hung, []

    def submit(self, fn, *args):
        import concurrent.futures as cf

        if args and getattr(args[0], "student_id", None) == self.hung:
            return cf.Future()  # never done
        return super().submit(fn, *args)

    def wait(self, futures, timeout=1.0):
        import time as _time

        done = {f for f in futures if f.done()}
        if not done:
            _time.sleep(0.05)
        return done

    def abandon(self, future):
        self.abandoned.append(future)
        future.cancel()


def test_a_task_past_its_deadline_loses_its_worker_and_the_batch_goes_on(tmp_path, tiny_class, monkeypatch):
    """Every task has a wall-clock deadline in the parent: past it the worker is replaced and the task runs
    again; a submission that hangs its worker every time becomes a grader error, classmates are graded."""
    import io

    from autograder.grading import gradebook, scheduler
    from autograder.grading.batch import Batch
    from autograder.grading.command import parse

    monkeypatch.setattr(scheduler, "TASK_MARGIN", 0.1)
    monkeypatch.setattr(scheduler.judging, "JUDGE_SECONDS", 0.1)  # a task's deadline counts judging and rendering
    args = parse([tmp_path / "class", "--out", tmp_path / "out", "--source", tmp_path / "course" / "source",
                  "--notebook-timeout", 0.1])
    batch = Batch(args)
    batch.prepare()
    batch.limits = dataclasses.replace(batch.limits, render_seconds=0.1)
    try:
        batch.log, batch.interrupts, batch.phases = io.StringIO(), scheduler.Interrupts(), {}
        mst = batch.masters[tiny.ASSIGNMENT]
        engine = HangingEngine({s: _honest_run(mst, s, a) for s, a in tiny_class.items()}, hung="wrong")
        scheduler.Grader(batch, engine, sandboxed=True).run(batch.todo)
        rows = {r["student_id"]: (r["status"], r["score"], r["detail"]) for r in gradebook.rows(batch.gb)}
    finally:
        batch.close()
    assert len(engine.abandoned) == 3, engine.abandoned  # WORKER_LOST's attempts
    assert rows["wrong"][0] == "grader_error" and "lost 3 times" in rows["wrong"][2], rows["wrong"]
    assert rows["correct"][:2] == ("ok", 3.0) and rows["stub"][:2] == ("ok", 0.0)
    assert batch.log.getvalue().count("ran past") == 3

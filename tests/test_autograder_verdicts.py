"""Verdicts on the workers: the task that runs, judges and renders one submission, the parent's check of its
result, and the deadline that bounds judging and rendering in any thread (a Dask worker runs tasks in threads).

The grading parent is real (:class:`~autograder.grading.scheduler.Grader` on the tiny course); the worker's
part after the kernel (:func:`autograder.grading.verdicts.graded`) runs in this process on scripted kernel runs.
"""

import dataclasses
import io
import json
import math
import signal
import threading
import time

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograder.common.deadline import DeadlineExceeded, deadline
from autograder.common.records import GradedRun, KernelRun, Outcome, Status
from autograder.grading import verdicts
from checks import probe
from solutions.chapters import all_chapters
from tests.autograder_fixtures import tiny, tiny_chapter
from tests.autograder_fixtures.scripted import ScriptedEngine

pytestmark = pytest.mark.filterwarnings("ignore:Object of type <\\w+> not in session")
CHAPTER = tiny_chapter.CHAPTER


# -- the tiny class, graded through the real parent with a scripted worker ------------------------------------
def _records(answer):
    ns = {"np": __import__("numpy")}
    exec(answer, ns)
    return {t.grade_id: [json.dumps({"test": t.grade_id, "cases": probe.run_plans(CHAPTER.test(t.grade_id).plans(),
                                                                                  ns)})] for t in CHAPTER.tests}


def _run(mst, student, answer):
    from autograder.execution import layout

    nb = nbformat.writes(tiny.student_notebook(answer)).encode()
    prepared, _notes, _repairs = layout.prepare(nb, mst, mst.kernel_nb_json, "x")
    return KernelRun(student, tiny.ASSIGNMENT, notebook=nbformat.writes(prepared), records=_records(answer))


@pytest.fixture
def tiny_class(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_EXTRA_CHAPTERS", "tests.autograder_fixtures.tiny_chapter")
    all_chapters.cache_clear()
    tiny.make_course(tmp_path / "course")
    answers = {"correct": tiny.CORRECT, "wrong": tiny.WRONG}
    for student, answer in answers.items():
        tiny.write(tmp_path / "class", student, notebook=tiny.student_notebook(answer))
    yield answers
    all_chapters.cache_clear()


def _grade(tmp_path, answers, tamper=None, out="out"):
    """Grade the tiny class; ({student: (status, score, detail)}, grader.log, the engine)."""
    from autograder.grading import gradebook
    from autograder.grading.batch import Batch
    from autograder.grading.command import parse
    from autograder.grading.scheduler import Grader, Interrupts

    batch = Batch(parse([tmp_path / "class", "--out", tmp_path / out, "--source", tmp_path / "course" / "source"]))
    batch.prepare()
    try:
        batch.log, batch.interrupts, batch.phases = io.StringIO(), Interrupts(), {}
        mst = batch.masters[tiny.ASSIGNMENT]
        engine = ScriptedEngine({s: _run(mst, s, a) for s, a in answers.items()}, tamper)
        Grader(batch, engine, sandboxed=True).run(batch.todo)
        rows = {r["student_id"]: (r["status"], r["score"], r["detail"]) for r in gradebook.rows(batch.gb)}
        return rows, batch.log.getvalue(), engine
    finally:
        batch.close()


def test_the_worker_judges_and_renders_and_sends_no_raw_records(tmp_path, tiny_class):
    rows, _log, engine = _grade(tmp_path, tiny_class)
    assert rows["correct"][:2] == ("ok", 3.0) and rows["wrong"][:2] == ("ok", 0.0), rows
    for student in tiny_class:
        result = engine.results[student]
        assert result.run.records == {} and result.run.notebook is None  # the parent gets no raw records
        assert {"judge", "render"} <= set(result.run.timings)
        assert result.page.startswith("<!DOCTYPE html>") and result.notebook_json
    page = (tmp_path / "out" / "feedback" / "wrong" / tiny.ASSIGNMENT / f"{tiny.ASSIGNMENT}.html").read_text()
    assert page == engine.results["wrong"].page  # the worker's page is the one written


def test_a_render_failure_on_the_worker_keeps_the_grade_and_says_so(tmp_path, tiny_class, monkeypatch):
    def broken(request):
        raise ValueError("no template today")

    monkeypatch.setattr(verdicts.feedback, "render_task", broken)
    rows, _log, _engine = _grade(tmp_path, tiny_class)
    assert rows["correct"][:2] == ("ok", 3.0)
    assert rows["correct"][2] == "feedback could not be rendered (ValueError: no template today)"
    page = (tmp_path / "out" / "feedback" / "correct" / tiny.ASSIGNMENT / f"{tiny.ASSIGNMENT}.html").read_text()
    assert "feedback could not be rendered" in page  # the status page instead


def test_a_leak_found_on_the_worker_is_withheld(tmp_path, tiny_class, monkeypatch):
    """A line of a restored test cell counted as secret: the worker's leak check withholds every notebook."""
    original = verdicts.judging_of
    secret = tiny.TEST_MAIN.splitlines()[0].strip()

    def leaky(batch, aid):
        judging = original(batch, aid)
        return dataclasses.replace(judging, secrets=judging.secrets | {secret})

    monkeypatch.setattr(verdicts, "judging_of", leaky)
    rows, _log, engine = _grade(tmp_path, tiny_class)
    for student in tiny_class:
        assert rows[student][0] == "grader_error" and "withheld" in rows[student][2], rows[student]
        assert engine.results[student].notebook_json is None and engine.results[student].page is None


# -- what the parent accepts: a GradedRun of the job, in shape --------------------------------------------------
def _good(tmp_path, tiny_class):
    """A real worker result for "wrong", the job and the master it answers."""
    from autograder.grading.batch import Batch
    from autograder.grading.command import parse

    batch = Batch(parse([tmp_path / "class", "--out", tmp_path / "probe-out", "--source",
                         tmp_path / "course" / "source"]))
    batch.prepare()
    try:
        mst = batch.masters[tiny.ASSIGNMENT]
        job = next(j for j in batch.todo if j.student_id == "wrong")
        result = verdicts.graded(job, _run(mst, "wrong", tiny.WRONG), mst,
                                 verdicts.judging_of(batch, tiny.ASSIGNMENT), batch.limits)
        return result, job, mst
    finally:
        batch.close()


def _set_outcome(**changes):
    return lambda r: dataclasses.replace(r, outcome=dataclasses.replace(r.outcome, **changes))


def _set_score(grade_id, pair):
    return lambda r: dataclasses.replace(r, outcome=dataclasses.replace(
        r.outcome, scores={**r.outcome.scores, grade_id: pair}))


_TEXTS = st.text(max_size=30)
_JUNK = st.one_of(st.none(), st.integers(), st.floats(allow_nan=True), _TEXTS, st.binary(max_size=8),
                  st.lists(st.integers(), max_size=3), st.dictionaries(_TEXTS, st.integers(), max_size=3))


def _notebook_says(key, value):
    """A result whose notebook's ``metadata.autograder[key]`` is ``value`` (what the parent would store)."""
    def tamper(result):
        nb = json.loads(result.notebook_json)
        nb["metadata"]["autograder"][key] = value
        return dataclasses.replace(result, notebook_json=json.dumps(nb))
    return tamper


def malformations(grade_ids):
    """Ways a worker's message can be malformed, each a function of a well-formed GradedRun."""
    first = grade_ids[0]
    out_of_range = st.one_of(st.floats(max_value=-1e-9, allow_nan=False), st.floats(min_value=2.0 + 1e-6),
                             st.just(math.nan), st.just(math.inf))
    return st.one_of(
        _JUNK.map(lambda v: lambda r: v),  # not a GradedRun at all
        _JUNK.map(lambda v: lambda r: dataclasses.replace(r, run=v)),
        st.sampled_from(["someone else", ""]).map(lambda s: lambda r: dataclasses.replace(
            r, run=dataclasses.replace(r.run, student_id=s))),
        st.sampled_from(["someone else", ""]).map(lambda s: _set_outcome(student_id=s)),
        st.sampled_from(["01-normalization", ""]).map(lambda a: _set_outcome(assignment_id=a)),
        st.one_of(_JUNK, st.just("ok")).map(lambda v: _set_outcome(status=v)),
        st.one_of(st.none(), st.integers(), st.binary(max_size=4), st.just("x" * (verdicts.MAX_DETAIL + 1)))
        .map(lambda v: _set_outcome(detail=v)),
        st.one_of(_JUNK, st.just({})).map(lambda v: _set_outcome(scores=v)),
        st.just(lambda r: _set_outcome(scores={**r.outcome.scores, "test_extra": (0.0, 1.0)})(r)),
        st.just(lambda r: _set_outcome(scores={k: v for k, v in r.outcome.scores.items() if k != first})(r)),
        out_of_range.map(lambda x: _set_score(first, (x, 2.0))),
        st.floats(allow_nan=False).filter(lambda x: x != 2.0).map(lambda p: _set_score(first, (0.0, p))),
        _JUNK.map(lambda v: _set_score(first, v)),
        st.just(_set_score(first, (1, 2))),  # ints where floats belong
        st.one_of(_JUNK.filter(lambda v: not isinstance(v, tuple)), st.just(("x" * 201,)), st.just((3,)))
        .map(lambda v: _set_outcome(mistakes=v)),
        _JUNK.filter(lambda v: type(v) is not bool).map(lambda v: _set_outcome(repaired=v)),
        _JUNK.filter(lambda v: v is not None and type(v) is not str).map(
            lambda v: lambda r: dataclasses.replace(r, notebook_json=v)),
        st.sampled_from(["", "{", "[]", '{"nbformat": 4}', '{"nbformat": 3, "cells": [], "metadata": {}}',
                         '{"nbformat": 4, "cells": [1], "metadata": {}}',
                         '{"nbformat": 4, "cells": [{"cell_type": "code", "metadata": {}, "source": 5}],'
                         ' "metadata": {}}', "[" * 100_000])
        .map(lambda t: lambda r: dataclasses.replace(r, notebook_json=t)),
        _JUNK.filter(lambda v: v is not None and type(v) is not str).map(lambda v: lambda r: dataclasses.replace(
            r, page=v)),
        st.one_of(_JUNK.filter(lambda v: type(v) is not str), st.just("x" * 10_000))
        .map(lambda v: lambda r: dataclasses.replace(r, render_error=v)),
        _JUNK.filter(lambda v: type(v) is not dict).map(lambda v: lambda r: dataclasses.replace(
            r, run=dataclasses.replace(r.run, timings=v))),
        st.just(lambda r: dataclasses.replace(r, outcome=None)),  # a notebook and a page without an outcome
        # a notebook that says another outcome, time or language than the one recorded
        st.sampled_from([("status", "timeout"), ("detail", "forged"), ("seconds", {}), ("language", "xx")])
        .map(lambda kv: _notebook_says(*kv)),
        st.just(lambda r: dataclasses.replace(r, notebook_json=json.dumps(
            {**json.loads(r.notebook_json), "metadata": {}}))),
    )


def test_the_parent_refuses_every_malformed_result(tmp_path, tiny_class):
    good, job, mst = _good(tmp_path, tiny_class)
    graded, notebook = verdicts.checked(good, job, mst)
    assert graded is good and notebook == nbformat.reads(good.notebook_json, as_version=4)

    @settings(max_examples=300, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(malformations(mst.grade_ids))
    def refused(tamper):
        bad = tamper(good)
        with pytest.raises(verdicts.Malformed):
            verdicts.checked(bad, job, mst)

    refused()


@settings(max_examples=12, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_malformed_result_is_that_submissions_grader_error_and_the_batch_goes_on(tmp_path_factory, data):
    tmp_path = tmp_path_factory.mktemp("malformed")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COURSE_EXTRA_CHAPTERS", "tests.autograder_fixtures.tiny_chapter")
        all_chapters.cache_clear()
        try:
            tiny.make_course(tmp_path / "course")
            answers = {"correct": tiny.CORRECT, "wrong": tiny.WRONG}
            for student, answer in answers.items():
                tiny.write(tmp_path / "class", student, notebook=tiny.student_notebook(answer))
            tamper = data.draw(malformations([t.grade_id for t in CHAPTER.tests]))
            rows, log, _engine = _grade(tmp_path, answers, tamper={"wrong": tamper})
        finally:
            all_chapters.cache_clear()
    assert rows["correct"][:2] == ("ok", 3.0), rows
    status, score, detail = rows["wrong"]
    assert status == "grader_error" and float(score or 0) == 0.0, rows["wrong"]
    assert "the worker's result was malformed" in detail and "not the student's fault" in detail, detail


# -- the deadline in any thread ---------------------------------------------------------------------------------
def _in_thread(fn):
    box = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as err:  # noqa: BLE001 - reported to the test's thread
            box["error"] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    if "error" in box:
        raise box["error"]
    return box.get("value")


def test_a_loop_in_a_worker_thread_is_interrupted_within_its_deadline():
    def stuck():
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            with deadline(0.3):
                while True:
                    pass
        return time.monotonic() - started

    seconds = _in_thread(stuck)
    assert 0.3 <= seconds < 5.0, seconds  # a hang detector, not a benchmark


def test_a_block_that_ended_is_never_interrupted_afterwards_in_a_thread():
    """200 short blocks whose deadlines fall just after their end (some are interrupted inside, which is
    allowed); nothing may arrive once a block is over."""

    def blocks():
        inside = late = 0
        for i in range(200):
            try:
                with deadline(0.0002 * (1 + i % 10)):
                    sum(range(200 * (i % 7)))
            except DeadlineExceeded:
                inside += 1
            try:
                until = time.monotonic() + 0.003  # well past every deadline: a late one would land here
                while time.monotonic() < until:
                    pass
            except DeadlineExceeded:
                late += 1
        return inside, late

    inside, late = _in_thread(blocks)
    assert late == 0, (inside, late)


def test_the_main_thread_still_uses_sigalrm_and_restores_it():
    assert threading.current_thread() is threading.main_thread()
    before = signal.getsignal(signal.SIGALRM)
    with pytest.raises(DeadlineExceeded, match="more than 0.2 s"):  # the SIGALRM handler's message
        with deadline(0.2):
            while True:
                pass
    assert signal.getsignal(signal.SIGALRM) is before and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    with deadline(5):
        pass
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_judging_in_a_thread_has_its_deadline():
    """What a Dask worker thread does: the judging deadline of one test holds there too."""
    from autograder.grading import judging

    original = probe.decode_records

    def stuck(cases, budget=None):  # the student's records only: the reference's are decoded as always
        if cases and cases[0] and cases[0][0].get("label") == "stuck":
            while True:
                pass
        return original(cases, budget)

    records = {t.grade_id: [json.dumps({"test": t.grade_id, "cases": [[{"label": "stuck", "value": 1}]]})]
               for t in CHAPTER.tests}
    probe.decode_records = stuck
    try:
        verdicts_ = _in_thread(lambda: judging.judge(KernelRun("ann", CHAPTER.id, records=records), CHAPTER,
                                                     {"min_max_scale": tiny.CORRECT}, seconds=0.3))
    finally:
        probe.decode_records = original
    assert all("took more than 0.3 s" in v.message for v in verdicts_.values())


def test_outcome_and_graded_run_are_plain_picklable_records():
    import pickle

    run = KernelRun("ann", tiny.ASSIGNMENT, timings={"total": 1.0})
    outcome = Outcome("ann", tiny.ASSIGNMENT, Status.OK, "", {"t": (1.0, 1.0)}, ("m",))
    graded = GradedRun(run, outcome, "{}", "<html>")
    assert pickle.loads(pickle.dumps(graded)) == graded

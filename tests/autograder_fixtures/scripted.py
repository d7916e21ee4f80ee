"""An engine for the grading parent's tests: the worker's task runs in this process on scripted kernel runs."""

import concurrent.futures as cf

from autograder.grading import verdicts


class ScriptedEngine:
    """An engine whose worker task answers each job with a KernelRun made by the test (``runs``: student ->
    KernelRun), judged and rendered in this process as on a worker; ``tamper`` (student -> function) may change
    what a student's worker returns (a malformed message); ``results`` keeps what each worker returned."""

    name = "local"
    workers = 2

    def __init__(self, runs, tamper=None):
        self.runs, self.tamper, self.results = runs, tamper or {}, {}

    def share(self, value):
        return value

    def submit(self, fn, *args):
        assert fn is verdicts.grade_task, fn
        job, mst, judging, limits, _sandboxed = args  # the worker's part after the kernel
        result = verdicts.graded(job, self.runs[job.student_id], mst, judging, limits)
        result = self.tamper.get(job.student_id, lambda r: r)(result)
        self.results[job.student_id] = result
        future = cf.Future()
        future.set_result(result)
        return future

    def wait(self, futures, timeout=1.0):
        return set(futures)

    def result(self, future):
        return future.result()

    def abandon(self, future):
        pass

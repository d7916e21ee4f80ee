"""The verdict on one submission: from what a worker saw to the :class:`Outcome` that is recorded.

:func:`decide` classifies the run (status and detail), judges the kernel's records against the
reference (:mod:`autograder.grading.judging`), lets nbgrader score the judged notebook as
``nbgrader autograde`` does, and withholds a notebook whose feedback would show reference text.

Where the grader differs from plain nbgrader on purpose: nbgrader scores a test cell 0 when it wrote
anything to stderr (a ``RuntimeWarning`` of a correct ``np.where`` answer, a tqdm bar, a log line).
Here a test cell is scored on its errors and the trusted verdict only: :func:`warnings_keep_points`
turns each stderr stream of a test cell into a display of the same text (shown in the feedback, headed
"stderr"), before nbgrader scores the cell. A notebook without stderr in its test cells is scored
exactly as nbgrader scores it.
"""

from nbformat import NotebookNode
from nbgrader import utils as nbutils

from autograder.common.records import Outcome, Status
from autograder.common.words import N_
from autograder.grading import classify, feedback, judging


def decide(batch, job, run):
    """Judge a worker's :class:`~autograder.common.records.KernelRun` for ``job``.

    Returns ``(outcome, judged)``: the outcome to record, and the notebook with the verdicts written
    into its test cells (None when nothing can be shown: no notebook, a grader error, a leak).
    """
    chapter, mst = batch.chapters[job.assignment_id], batch.masters[job.assignment_id]
    status, detail = classify.classify(run, batch.limits)
    judged, mistakes = None, ()
    scores = {t.grade_id: (0.0, t.points) for t in mst.tests}
    if run.notebook is not None and status is not Status.GRADER_ERROR:
        seed = batch.seeds.get(job.assignment_id)  # the batch's hidden inputs, as in the kernel's plans
        verdicts = judging.judge(run, chapter, batch.answers[job.assignment_id], seed)
        judged = warnings_keep_points(judging.apply(run.notebook, verdicts, chapter, batch.args.book_url))
        for cell in judged.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in scores and nbutils.is_grade(cell):
                score, points = nbutils.determine_grade(cell)
                scores[grade_id] = (float(score or 0.0), float(points))
        mistakes = tuple(dict.fromkeys([m.id for v in verdicts.values() for m in v.diagnosis]
                                       + [judging.UNANSWERED_PREFIX + chapter.test(g).answer
                                          for g, v in verdicts.items() if v.unanswered]))
        leaked = feedback.leaks(judged, batch.secrets[job.assignment_id] - _student_lines(judged))
        if leaked:
            status, judged, mistakes = Status.GRADER_ERROR, None, ()
            detail = N_(f"grader error: the feedback would show reference text ({leaked[0][:60]!r}); withheld")
            scores = {t.grade_id: (0.0, t.points) for t in mst.tests}
    outcome = Outcome(job.student_id, job.assignment_id, status, detail, scores, mistakes, repaired=bool(run.repairs),
                      forked=run.forked)
    return outcome, judged


STDERR_HEADING = feedback.STDERR_HEADING + "\n"


def warnings_keep_points(nb):
    """``nb`` with every stderr stream of a test cell shown as a plain display of its text: nbgrader scores a
    cell with stderr 0, the grader scores errors and verdicts only (see the module docstring)."""
    for cell in nb.cells:
        if cell.cell_type != "code" or not nbutils.is_grade(cell):
            continue
        cell.outputs = [NotebookNode(output_type="display_data", metadata={"autograder": {"stream": "stderr"}},
                                     data={"text/plain": STDERR_HEADING + str(o.get("text", ""))})
                        if o.get("output_type") == "stream" and o.get("name") == "stderr" else o
                        for o in cell.get("outputs", [])]
    return nb


def _student_lines(nb):
    """Lines of the student's own cells: text the student wrote may be shown back even if it matches a secret."""
    lines = set()
    for cell in nb.cells:
        if not nbutils.is_locked(cell):
            lines |= {line.strip() for line in cell.source.splitlines()}
    return lines

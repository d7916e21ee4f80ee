"""What the grader writes for one submission besides the gradebook: its feedback page and graded notebook."""

import nbformat

from autograder.common.fileio import atomic_write
from autograder.execution.submissions import id_problem


def write_outputs(out, outcome, judged, page, timings=None):
    """``feedback/<student>/<assignment>/<assignment>.html`` and, when there is one, the autograded notebook
    (outputs capped, verdicts in, the run's status and phase times in its metadata)."""
    sid, aid = outcome.student_id, outcome.assignment_id
    if id_problem(sid):  # not a usable folder name either
        return
    atomic_write(out / "feedback" / sid / aid / f"{aid}.html", page)
    if judged is not None:
        judged.metadata["autograder"] = {"status": outcome.status.value, "detail": outcome.detail[:2000],
                                         "seconds": {k: round(v, 4) for k, v in (timings or {}).items()}}
        atomic_write(out / "autograded" / sid / aid / f"{aid}.ipynb", nbformat.writes(judged))

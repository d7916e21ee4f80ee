"""The summary ``autograder grade`` prints at the end of a batch: counts, problems, sandbox, timings."""

from autograder.common.records import Status

PHASES = ["prepare", "kernel_start", "cells", "judge", "render", "record"]


def print_summary(batch, where, box, counts, problems, elapsed, interrupted, gone):
    """Print what the batch did: ``counts`` per status, ``problems`` (outcomes not ok or with a detail)."""
    graded = sum(counts.values())
    rate = graded / elapsed if elapsed > 0 and graded else 0.0
    head = "INTERRUPTED: " if interrupted else "STOPPED: " if gone else ""
    print(f"{head}graded {graded} of {len(batch.todo)} notebook(s) in {elapsed:.1f} s "
          f"({rate:.2f} notebooks/s, {where}); {len(batch.skipped)} already graded, skipped")
    if interrupted or gone:
        print("rerun the same command to grade the rest; finished results are kept")
    print(f"{'status':<18}{'count':>6}")
    for status in Status:
        if counts.get(status):
            print(f"{status.value:<18}{counts[status]:>6}")
    listed = [o for o in problems if o.status is not Status.OK]
    if listed:
        print("broken submissions and grader errors:")
        for o in sorted(listed, key=lambda o: (o.status.value, o.student_id, o.assignment_id)):
            print(f"  {o.student_id[:20]:<20} {o.assignment_id:<22} {o.status.value:<17} {o.detail[:110]}")
    repaired = [o for o in problems if o.repaired]
    if repaired:
        print(f"repaired notebook shapes (grades unaffected): {len(repaired)}; see the report")
    if batch.review:
        print(f"listed for review: {len(batch.review)} submission(s) (future timestamps, replaced submissions)")
    if box is not None:
        print(f"sandbox: {box.describe()}" + "".join(f"; {n}" for n in box.notes))
    if graded and batch.phases:
        print("seconds per notebook: " + ", ".join(f"{p} {batch.phases[p] / graded:.2f}" for p in PHASES
                                                    if p in batch.phases)
              + " (prepare, kernel start and cells on the workers; judging, rendering (a worker) and recording here)")
    if box is None or box.enabled:
        started = graded - counts[Status.INVALID_NOTEBOOK] - counts[Status.MISSING_NOTEBOOK]
        print(f"kernels: {batch.forked} of {started} forked by a fork server per worker slot (the course's imports "
              "done once), the others started afresh")
    elif batch.args.scheduler:
        print("sandbox: bubblewrap on each Dask worker, probed there (the pre-flight graded the reference through it)")
    print(f"grades: {batch.out / 'grades.csv'}   report: {batch.out / 'report.html'}   "
          f"feedback: {batch.out / 'feedback'}")

"""The summary ``autograder grade`` prints at the end of a batch: counts, problems, lateness, what needs
review, sandbox, timings; :func:`print_gradebook` is also what ``autograder feedback`` prints."""

from autograder.common.records import Status

PHASES = ["prepare", "kernel_start", "cells", "judge", "render", "record"]
LISTED = 10  # lines per list; the report has them all


def late_text(seconds):
    """``30 min``, ``5 h 10 min``, ``4 days 2 h``: how late, for people."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "<1 min"
    days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days} day{'s' if days > 1 else ''}" + (f" {hours} h" if hours else "")
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def print_gradebook(refreshed, keys=None):
    """What the gradebook says now (a :class:`~autograder.grading.refresh.Refreshed`): late submissions
    (among ``keys``, all when None) with their penalty, what needs review, feedback pages rewritten."""
    late = [r for r in refreshed.rows if r["seconds_late"] and (keys is None or
                                                                (r["student_id"], r["assignment_id"]) in keys)]
    if late:
        print(f"late: {len(late)} submission(s) after the due date (gradebook); penalty: {refreshed.policy}")
        for r in late[:LISTED]:
            how_late = late_text(r["seconds_late"]) + " late"
            print(f"  {r['student_id'][:20]:<20} {r['assignment_id']:<22} {how_late:<20} "
                  f"penalty {r['late_penalty']:g}, score {r['score']:g} of {r['max_score']:g}")
        if len(late) > LISTED:
            print(f"  ... and {len(late) - LISTED} more in grades.csv (seconds_late, late_penalty)")
    review = [r for r in refreshed.rows if r["review"]]
    if review:
        print(f"needs review: {len(review)} submission(s) (also in grades.csv and the report)")
        for r in review[:LISTED]:
            print(f"  {r['student_id'][:20]:<20} {r['assignment_id']:<22} {r['review'][:150]}")
        if len(review) > LISTED:
            print(f"  ... and {len(review) - LISTED} more")
    if refreshed.rewritten:
        print(f"feedback pages rewritten from the gradebook (manual grades, comments, late penalties): "
              f"{len(refreshed.rewritten)}")
    for (sid, aid), reason in refreshed.failed:
        print(f"  feedback page of {sid}/{aid} not rewritten: {reason}")


def print_summary(batch, where, box, counts, problems, elapsed, interrupted, gone, refreshed=None):
    """Print what the batch did: ``counts`` per status, ``problems`` (outcomes not ok or with a detail),
    then what the gradebook says (``refreshed``: lateness, review, rewritten pages)."""
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
    if getattr(batch, "excluded", None):
        print(f"left out by the course's CourseDirectory.student_id_exclude: {', '.join(batch.excluded)}")
    if refreshed is not None:
        print_gradebook(refreshed, keys={sub.key for sub in batch.subs})
    if box is not None:
        print(f"sandbox: {box.describe()}" + "".join(f"; {n}" for n in box.notes))
    if graded and batch.phases:
        print("seconds per notebook: " + ", ".join(f"{p} {batch.phases[p] / graded:.2f}" for p in PHASES
                                                    if p in batch.phases)
              + " (prepare, kernel start, cells, judging and rendering on the workers; recording here)")
    if box is None or box.enabled:
        started = graded - counts[Status.INVALID_NOTEBOOK] - counts[Status.MISSING_NOTEBOOK]
        print(f"kernels: {batch.forked} of {started} forked by a fork server per worker slot (the course's imports "
              "done once), the others started afresh")
    elif batch.args.scheduler:
        print("sandbox: bubblewrap on each Dask worker, probed there (the pre-flight graded the reference through it)")
    print(f"grades: {batch.out / 'grades.csv'}   report: {batch.out / 'report.html'}   "
          f"feedback: {batch.out / 'feedback'}")

"""The sandbox a grading kernel runs in: bubblewrap, control groups, rlimits, and the fork server."""

"""The grading parent: a batch, its scheduler, verdicts outside the kernel, gradebook, feedback and report."""

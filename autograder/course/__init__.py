"""The instructor's nbgrader course: its configuration, its markers, what the grader reads from its sources."""

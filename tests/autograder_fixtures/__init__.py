"""Fixtures of the autograder tests: a tiny nbgrader course and hostile submissions."""

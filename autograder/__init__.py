"""Instructor tools: release the exercises, grade a class, report on it.

Run ``python -m autograder --help``. Each sub-command lives in a module of its
own exposing ``add_arguments(parser)`` and ``run(args) -> int``.
"""

# First, before anything imports nbformat: skip an import that costs ~2 s per process (see lean.py).
from autograder import lean  # noqa: E402, F401

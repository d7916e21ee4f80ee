"""Instructor tools: release the exercises, grade a class, report on it.

Run ``python -m autograder --help``. Each sub-command lives in a module of its
own exposing ``add_arguments(parser)`` and ``run(args) -> int``.
"""

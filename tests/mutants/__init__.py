"""Common student mistakes, one module per chapter, injected into the source notebooks.

Each chapter module defines ``CHAPTER`` (the chapter id) and ``MUTANTS`` (a list of
:class:`Mutant`). ``tests/test_mutants.py`` finds the modules by itself.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    """A wrong answer cell and the reason a hidden or visible test must give.

    name : short id, unique within the chapter.
    target : grade_id of the answer cell that ``code`` replaces (the function or class name).
    mistake : one line describing the mistake, as a student would make it.
    match : regex that the error text of a failing ``test_<target>*`` cell must contain.
    code : the complete replacement source of the answer cell.
    """

    name: str
    target: str
    mistake: str
    match: str
    code: str

"""nbgrader's region markers (``### BEGIN SOLUTION``, ``### BEGIN HIDDEN TESTS``, ...), read from the course's config.

nbgrader makes the delimiters configurable (``ClearSolutions.begin_solution_delimeter``,
``ClearHiddenTests.begin_test_delimeter``, ...) and drops every line that contains one. The grader
reads the same settings, so a course that renames them is released, graded and leak-checked alike.
"""

import re
from dataclasses import dataclass
from functools import cached_property

from traitlets.config import Config


@dataclass(frozen=True)
class Markers:
    """The four delimiters; :meth:`of` reads them (nbgrader's defaults where the config is silent)."""

    begin_solution: str
    end_solution: str
    begin_hidden: str
    end_hidden: str

    @classmethod
    def of(cls, config=None):
        """The delimiters ``config`` (the course's nbgrader Config) gives nbgrader's preprocessors."""
        from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

        config = config if config is not None else Config()
        solutions, hidden = ClearSolutions(config=config), ClearHiddenTests(config=config)
        return cls(solutions.begin_solution_delimeter, solutions.end_solution_delimeter,
                   hidden.begin_test_delimeter, hidden.end_test_delimeter)

    @property
    def all(self):
        return (self.begin_solution, self.end_solution, self.begin_hidden, self.end_hidden)

    @cached_property
    def _solution_lines(self):
        either = "|".join(re.escape(m) for m in (self.begin_solution, self.end_solution))
        return re.compile(rf"^[^\n]*(?:{either})[^\n]*\n?", re.M)

    @cached_property
    def hidden_region(self):
        """From the line holding the begin marker to the end of the line holding the end marker."""
        return re.compile(rf"^[^\n]*{re.escape(self.begin_hidden)}.*?^[^\n]*{re.escape(self.end_hidden)}[^\n]*",
                          re.S | re.M)

    def without_solution_markers(self, text):
        """``text`` without its solution marker lines: the reference answer itself."""
        return self._solution_lines.sub("", text)

    def opens(self, line):
        return self.begin_solution in line or self.begin_hidden in line

    def closes(self, line):
        return self.end_solution in line or self.end_hidden in line

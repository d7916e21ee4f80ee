"""nbgrader configuration of the course (this folder is the course root)."""

import os

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "normalization-regularization"
# Hidden tests import `solutions`, so grading kernels need the repository on their path
# (`make` exports PYTHONPATH; the autograder sets it for each kernel itself).
c.ExecutePreprocessor.timeout = 120
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.enforce_metadata = True

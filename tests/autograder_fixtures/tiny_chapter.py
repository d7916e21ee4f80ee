"""The tiny course's chapter declaration (``99-tiny``): ``min_max_scale`` of chapter 1, two test cells.

Registered for a grader run by ``COURSE_EXTRA_CHAPTERS=tests.autograder_fixtures.tiny_chapter``
(see :mod:`solutions.chapters`). Its kernel imports numpy only, so the attack tests stay fast.
"""

import numpy as np

from checks.spec import Chapter, Test, function_case

HINT = "each column (axis=0) is scaled by its own min and max"


def main_cases():
    yield function_case("min_max_scale", np.array([[1.0, 10.0], [2.0, 30.0], [4.0, 20.0]]), hint=HINT)
    X = np.random.default_rng(7).normal(3.0, 2.0, size=(5, 3))
    yield function_case("min_max_scale", X, hint=f"random 5x3 data: {HINT}")


def range_cases():
    yield function_case("min_max_scale", np.array([[0.0], [5.0], [10.0]]), feature_range=(-1.0, 1.0),
                        hint="feature_range=(-1, 1)")
    X = np.random.default_rng(8).uniform(-4, 9, size=(6, 2))
    yield function_case("min_max_scale", X, (2.0, 5.0), hint="feature_range=(2, 5) given by position")


CHAPTER = Chapter(
    id="99-tiny",
    title="Tiny course",
    reference=("solutions.normalization",),
    tests=(
        Test("test_min_max_scale_tiny", "min_max_scale", "min_max_scale(X, feature_range=(0.0, 1.0))", main_cases),
        Test("test_min_max_scale_tiny_range", "min_max_scale", "min_max_scale(X, feature_range=(0.0, 1.0))",
             range_cases),
    ),
    setup=("import numpy as np",),
)

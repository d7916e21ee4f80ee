"""Chapter 08-template (a template and a test fixture): clip values into an interval."""

import numpy as np

from checks.spec import Chapter, Test, function_case

HINT = "every entry clipped into [low, high]: max with low first, then min with high"


def clip_cases():
    yield function_case("clip_values", np.array([-2.0, 0.5, 3.0]), 0.0, 1.0, hint=HINT)
    rng = np.random.default_rng(8)
    for shape in [(4, 3), (9,)]:
        yield function_case("clip_values", rng.normal(size=shape), -0.3, 0.7, hint=HINT)
    yield function_case("clip_values", np.array([1.0]), 2.0, 1.0, hint="low > high must raise ValueError")


CHAPTER = Chapter(
    id="08-template",
    title="Template chapter",
    reference=("solutions.clipping",),
    tests=(Test("test_clip_values", "clip_values", "clip_values(x, low, high)", clip_cases),),
    mistakes="solutions.mistakes.ch08_template",
    budget_seconds=20.0,
    setup=("import numpy as np",),
)

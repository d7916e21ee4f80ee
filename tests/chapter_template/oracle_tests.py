"""The template chapter's reference equals numpy's np.clip."""

import numpy as np
import pytest
from solutions.clipping import clip_values


@pytest.mark.parametrize("seed", range(5))
def test_clip_values_equals_numpy(seed):
    x = np.random.default_rng(seed).normal(size=(7, 3))
    before = x.copy()
    np.testing.assert_array_equal(clip_values(x, -0.5, 0.8), np.clip(x, -0.5, 0.8))
    np.testing.assert_array_equal(x, before)


def test_clip_values_rejects_an_empty_interval():
    with pytest.raises(ValueError, match="low"):
        clip_values([1.0], 2.0, 1.0)

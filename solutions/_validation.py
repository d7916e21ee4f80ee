"""Input checks shared by the reference modules."""

import numpy as np


def as_float_array(X, name="X", ndim=(1, 2)):
    """Return ``X`` as a new float64 array, checking its number of dimensions.

    A copy is always made so that no reference function can mutate its input.
    """
    arr = np.array(X, dtype=np.float64, copy=True)
    if arr.ndim not in ndim:
        raise ValueError(f"{name} must have {' or '.join(map(str, ndim))} dimensions, got {arr.ndim}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity")
    return arr

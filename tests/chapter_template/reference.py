"""Chapter 08-template: clipping values into an interval (the template chapter's reference)."""

import numpy as np


def clip_values(x, low, high):
    r"""Clip every entry of ``x`` into ``[low, high]``.

    .. math:: y_i = \min(\max(x_i, \text{low}), \text{high})

    Parameters
    ----------
    x : array_like
    low, high : float, low <= high

    Returns
    -------
    ndarray of float64, the shape of ``x`` (a new array).

    Raises
    ------
    ValueError
        If ``low > high``.
    """
    if low > high:
        raise ValueError(f"low must not exceed high, got low={low}, high={high}")
    return np.clip(np.array(x, dtype=np.float64, copy=True), low, high)

"""Chapter 02-norms-lasso-ridge: vector and matrix norms.

The size of a vector or a matrix, as :func:`numpy.linalg.norm` measures it. Every
entry enters through its absolute value: a norm never depends on signs.
"""

import numbers

import numpy as np

from solutions._validation import as_float_array


def _check_p(p):
    """Return ``p`` as a float, or raise if it is not a number >= 1 (inf allowed)."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise ValueError(f"p must be a real number >= 1 or np.inf, got {p!r}")
    p = float(p)
    if not p >= 1.0:  # also rejects NaN
        raise ValueError(f"p must be >= 1 (below 1 the triangle inequality fails), got {p}")
    return p


def lp_norm(x, p):
    r"""The :math:`\ell_p` norm of a vector.

    .. math:: \lVert x \rVert_p = \Big(\sum_i \lvert x_i \rvert^p\Big)^{1/p},
              \qquad \lVert x \rVert_\infty = \max_i \lvert x_i \rvert

    Parameters
    ----------
    x : array_like, shape (n,)
        A non-empty, finite vector.
    p : float >= 1 or ``np.inf``
        Order of the norm: 1 is the Manhattan norm, 2 the Euclidean norm.

    Returns
    -------
    float
        Equal to ``np.linalg.norm(x, ord=p)``.

    Raises
    ------
    ValueError
        If ``p`` is not a number >= 1, or ``x`` is not a finite, non-empty 1-D array.

    Notes
    -----
    The sum is computed on ``|x| / max|x|`` and rescaled, so that a large ``p``
    does not overflow (``10.0**400`` is ``inf`` in float64, its norm is not).
    """
    p = _check_p(p)
    abs_x = np.abs(as_float_array(x, name="x", ndim=(1,)))
    largest = abs_x.max()
    if p == np.inf or largest == 0.0:
        return float(largest)
    if p == 1.0:
        return float(abs_x.sum())
    return float(largest * np.sum((abs_x / largest) ** p) ** (1.0 / p))


def matrix_norm(A, ord):
    r"""An induced or entrywise norm of a matrix.

    .. math::
        \lVert A \rVert_1 = \max_j \sum_i \lvert a_{ij} \rvert,\quad
        \lVert A \rVert_\infty = \max_i \sum_j \lvert a_{ij} \rvert,\quad
        \lVert A \rVert_2 = \sigma_{\max}(A),\quad
        \lVert A \rVert_F = \Big(\sum_{ij} a_{ij}^2\Big)^{1/2}

    Parameters
    ----------
    A : array_like, shape (m, n)
        A non-empty, finite matrix.
    ord : {1, 2, np.inf, "fro"}
        1: largest column sum of absolute values; ``np.inf``: largest row sum;
        2: spectral norm (largest singular value, *not* the Frobenius norm);
        ``"fro"``: Frobenius norm (square root of the sum of squares).

    Returns
    -------
    float
        Equal to ``np.linalg.norm(A, ord=ord)``.

    Raises
    ------
    ValueError
        If ``ord`` is not one of the four orders, or ``A`` is not a finite,
        non-empty 2-D array.
    """
    kind = _matrix_ord(ord)
    A = as_float_array(A, name="A", ndim=(2,))
    if kind == "fro":
        return float(np.sqrt(np.sum(A**2)))
    if kind == 1:
        return float(np.abs(A).sum(axis=0).max())
    if kind == np.inf:
        return float(np.abs(A).sum(axis=1).max())
    # Spectral norm: the largest stretch ||Ax||_2 / ||x||_2, the top singular value.
    return float(np.linalg.svd(A, compute_uv=False)[0])


def _matrix_ord(ord):
    """Return ``ord`` as one of ``1, 2, np.inf, "fro"``, or raise ``ValueError``."""
    if isinstance(ord, str):
        if ord == "fro":
            return ord
    elif isinstance(ord, numbers.Real) and not isinstance(ord, bool) and float(ord) in (1.0, 2.0, np.inf):
        return float(ord)
    raise ValueError(f"ord must be one of 1, 2, np.inf, 'fro', got {ord!r}")

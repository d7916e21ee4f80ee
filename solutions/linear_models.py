r"""Chapter 02-norms-lasso-ridge: penalized least squares (Ridge and Lasso).

Both models follow scikit-learn's objectives and its handling of the intercept:
centre ``X`` and ``y``, fit the coefficients on the centred data, then recover the
intercept ``b = mean(y) - mean(X) @ w``. The intercept is never penalized.

- Ridge: :math:`\lVert y - Xw - b \rVert_2^2 + \alpha \lVert w \rVert_2^2` (no ``1/n``, no ``1/2``).
- Lasso: :math:`\frac{1}{2n}\lVert y - Xw - b \rVert_2^2 + \alpha \lVert w \rVert_1`.
"""

import math
import numbers
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from solutions._validation import as_float_array

# sklearn's Ridge SVD solver drops singular values at or below this as exact zeros.
_SINGULAR_TOL = 1e-15


def soft_threshold(z, t):
    r"""The soft-thresholding operator, the proximal map of :math:`t\lvert\cdot\rvert`.

    .. math:: S(z, t) = \operatorname{sign}(z)\,\max(\lvert z \rvert - t, 0)

    It moves ``z`` towards 0 by ``t`` and stops at 0: every ``|z| <= t`` becomes
    exactly 0, which is where the Lasso's exact zeros come from.

    Parameters
    ----------
    z : float or array_like
        Value(s) to shrink, elementwise.
    t : float >= 0
        Threshold.

    Returns
    -------
    float or ndarray of float64
        A float for a scalar ``z``, otherwise an array of ``z``'s shape. Zeros
        are ``+0.0`` (never ``-0.0``).

    Raises
    ------
    ValueError
        If ``t`` is negative or not finite, or ``z`` is not finite.
    """
    t = _check_nonnegative(t, "t")
    z_arr = as_float_array(z, name="z", ndim=(0, 1, 2))
    # Adding 0.0 turns the -0.0 of sign(-z) * 0 into +0.0.
    shrunk = np.sign(z_arr) * np.maximum(np.abs(z_arr) - t, 0.0) + 0.0
    return float(shrunk) if shrunk.ndim == 0 else shrunk


def ridge_fit(X, y, alpha):
    r"""Ridge regression with an unpenalized intercept, as ``sklearn.linear_model.Ridge``.

    .. math:: \min_{w, b}\ \lVert y - Xw - b \rVert_2^2 + \alpha \lVert w \rVert_2^2,
              \qquad w = (X_c^\top X_c + \alpha I)^{-1} X_c^\top y_c,
              \quad b = \bar y - \bar x^\top w

    where :math:`X_c, y_c` are the column-centred data.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
    y : array_like, shape (n_samples,)
    alpha : float >= 0
        Penalty strength; 0 gives ordinary (minimum-norm) least squares.

    Returns
    -------
    coef : ndarray of float64, shape (n_features,)
    intercept : float
        Equal to ``Ridge(alpha=alpha).fit(X, y)``'s ``coef_`` and ``intercept_``.

    Raises
    ------
    ValueError
        If ``alpha`` is negative or not finite, or ``X`` and ``y`` are not finite
        arrays of shapes (n, p) and (n,).

    Notes
    -----
    Solved through the SVD :math:`X_c = U \operatorname{diag}(s) V^\top`, which gives
    :math:`w = V \operatorname{diag}\big(s / (s^2 + \alpha)\big) U^\top y_c` and stays
    well defined for ``alpha = 0`` and for more features than samples.
    """
    alpha = _check_nonnegative(alpha, "alpha")
    X, y = _check_X_y(X, y)
    X_mean, y_mean = X.mean(axis=0), y.mean()
    U, s, Vt = np.linalg.svd(X - X_mean, full_matrices=False)
    keep = s > _SINGULAR_TOL
    shrink = np.zeros_like(s)
    shrink[keep] = s[keep] / (s[keep] ** 2 + alpha)
    coef = Vt.T @ (shrink * (U.T @ (y - y_mean)))
    return coef, float(y_mean - X_mean @ coef)


def lasso_fit(X, y, alpha, max_iter=1000, tol=1e-4):
    r"""Lasso by cyclic coordinate descent, as ``sklearn.linear_model.Lasso``.

    .. math:: \min_{w, b}\ \frac{1}{2n}\lVert y - Xw - b \rVert_2^2 + \alpha \lVert w \rVert_1

    On centred data, each sweep updates every coordinate in turn with the others fixed:

    .. math:: w_j \leftarrow \frac{S\big(\tfrac{1}{n} x_j^\top r_{(j)},\ \alpha\big)}
                                  {\tfrac{1}{n} x_j^\top x_j},
              \qquad r_{(j)} = y_c - X_c w + x_j w_j

    (:math:`r_{(j)}` is the residual without feature ``j``; the residual is updated
    after every coordinate). Then :math:`b = \bar y - \bar x^\top w`.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
    y : array_like, shape (n_samples,)
    alpha : float >= 0
        Penalty strength.
    max_iter : int >= 1
        Maximum number of sweeps over all coordinates.
    tol : float >= 0
        Stop after a sweep in which the largest coordinate change is at most
        ``tol`` times the largest coefficient (scikit-learn's first test), or in
        which all coefficients are zero and stayed zero.

    Returns
    -------
    coef : ndarray of float64, shape (n_features,)
        Exact zeros for the features the penalty removes.
    intercept : float

    Raises
    ------
    ValueError
        If ``alpha`` or ``tol`` is negative or not finite, ``max_iter`` is not a
        positive integer, or ``X`` and ``y`` are not finite arrays of shapes
        (n, p) and (n,).

    Warns
    -----
    ConvergenceWarning
        When ``max_iter`` sweeps end before the stopping test holds.

    Notes
    -----
    Converged (small ``tol``, enough ``max_iter``), the result equals
    ``Lasso(alpha=alpha, tol=1e-10, max_iter=100000).fit(X, y)``. A feature that is
    constant has ``x_j^\top x_j = 0`` after centring and keeps the coefficient 0.
    """
    alpha = _check_nonnegative(alpha, "alpha")
    tol = _check_nonnegative(tol, "tol")
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    X, y = _check_X_y(X, y)
    n_samples, n_features = X.shape
    X_mean, y_mean = X.mean(axis=0), y.mean()
    columns = np.ascontiguousarray((X - X_mean).T)  # row j is the centred feature x_j
    col_sq = np.einsum("ji,ji->j", columns, columns) / n_samples  # x_j . x_j / n
    coef = np.zeros(n_features)
    residual = y - y_mean  # y_c - X_c @ coef with coef = 0
    for _ in range(max_iter):
        largest_step = 0.0
        for j in range(n_features):
            if col_sq[j] == 0.0:
                continue
            old = coef[j]
            rho = columns[j] @ residual / n_samples + col_sq[j] * old  # x_j . r_(j) / n
            coef[j] = math.copysign(max(abs(rho) - alpha, 0.0), rho) / col_sq[j] + 0.0  # S(rho, alpha)
            if coef[j] != old:
                residual -= columns[j] * (coef[j] - old)
                largest_step = max(largest_step, abs(coef[j] - old))
        largest_coef = np.abs(coef).max(initial=0.0)
        if largest_coef == 0.0 or largest_step <= tol * largest_coef:
            break
    else:
        warnings.warn(
            f"lasso_fit did not converge in {max_iter} sweeps (last relative step "
            f"{largest_step / largest_coef:.3g} > tol={tol:g}); increase max_iter or scale the features",
            ConvergenceWarning,
            stacklevel=2,
        )
    return coef, float(y_mean - X_mean @ coef)


def _check_nonnegative(value, name):
    """Return ``value`` as a float, or raise unless it is a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number >= 0, got {value!r}")
    value = float(value)
    if not (np.isfinite(value) and value >= 0.0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return value


def _check_X_y(X, y):
    """Copy ``X`` (2-D) and ``y`` (1-D) to float64 and check they have the same rows."""
    X = as_float_array(X, name="X", ndim=(2,))
    y = as_float_array(y, name="y", ndim=(1,))
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y must have the same number of samples, got {X.shape[0]} and {y.shape[0]}")
    return X, y


def choose_alpha(alphas, val_errors):
    r"""The penalty with the smallest validation error, and whether the grid brackets it.

    .. math:: \hat\alpha = \max \{\alpha_k : e_k = \min_j e_j\}

    (ties go to the largest penalty, the simplest of the equally good models). A minimum at
    the edge of the grid is no evidence of a tuned penalty, only that the error still falls
    beyond the grid: the verdict says which way to extend it.

    Parameters
    ----------
    alphas : array_like, shape (n,), n >= 3
        Distinct positive penalties, in any order (scikit-learn's paths run from large to small).
    val_errors : array_like, shape (n,)
        The validation error of the model fitted with each penalty (lower is better).

    Returns
    -------
    (float, str)
        :math:`\hat\alpha` and ``"extend_low"`` if it is the smallest penalty of the grid,
        ``"extend_high"`` if it is the largest, else ``"ok"`` (the grid brackets the minimum).

    Raises
    ------
    ValueError
        If the arrays are not 1-D of one length >= 3, not finite, or the penalties are not
        distinct and positive.
    """
    alphas = as_float_array(alphas, "alphas", ndim=(1,))
    val_errors = as_float_array(val_errors, "val_errors", ndim=(1,))
    if alphas.shape != val_errors.shape or alphas.size < 3:
        raise ValueError(f"alphas and val_errors must have one length >= 3, got {alphas.size} and {val_errors.size}")
    if np.any(alphas <= 0) or np.unique(alphas).size != alphas.size:
        raise ValueError("alphas must be distinct positive numbers")
    best = float(alphas[val_errors == val_errors.min()].max())
    if best == alphas.min():
        return best, "extend_low"
    if best == alphas.max():
        return best, "extend_high"
    return best, "ok"

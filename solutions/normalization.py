"""Chapter 01-normalization: rescaling data (normalization), not regularization.

All functions work column by column on an ``(n_samples, n_features)`` array, like
scikit-learn's scalers, except :func:`normalize_rows`, which rescales each sample.
"""

import numpy as np

from solutions._validation import as_float_array

# scikit-learn treats a range below 10 machine epsilons as zero (a constant column).
_CONSTANT_TOL = 10 * np.finfo(np.float64).eps


def min_max_scale(X, feature_range=(0.0, 1.0)):
    r"""Rescale each column linearly onto ``feature_range``.

    .. math:: x' = a + \frac{x - \min(x)}{\max(x) - \min(x)} (b - a),
              \quad (a, b) = \text{feature_range}

    Parameters
    ----------
    X : array_like, shape (n_samples,) or (n_samples, n_features)
        Data; a 1-D array is one feature.
    feature_range : tuple of float (a, b), a < b
        Target range of every column.

    Returns
    -------
    ndarray of float64, same shape as ``X``
        A constant column maps to ``a`` (its range is treated as 1), as in
        :func:`sklearn.preprocessing.minmax_scale`.

    Raises
    ------
    ValueError
        If ``a >= b``, or ``X`` is empty, not finite, or not 1-D/2-D.
    """
    low, high = (float(v) for v in feature_range)
    if low >= high:
        raise ValueError(f"feature_range minimum must be smaller than maximum, got {feature_range}")
    X = as_float_array(X)
    col_min = X.min(axis=0)
    col_range = X.max(axis=0) - col_min
    col_range = np.where(col_range < _CONSTANT_TOL, 1.0, col_range)
    return low + (X - col_min) / col_range * (high - low)


def standardize(X):
    r"""Z-score each column with the population standard deviation (ddof=0).

    .. math:: z = \frac{x - \mu}{\sigma},\quad
              \sigma = \sqrt{\tfrac{1}{n}\textstyle\sum_i (x_i - \mu)^2}

    Parameters
    ----------
    X : array_like, shape (n_samples,) or (n_samples, n_features)

    Returns
    -------
    ndarray of float64, same shape as ``X``
        Columns with mean 0 and standard deviation 1; a constant column becomes
        0 (its sigma is treated as 1), as in ``StandardScaler().fit_transform``.

    Raises
    ------
    ValueError
        If ``X`` is empty, not finite, or not 1-D/2-D.
    """
    X = as_float_array(X)
    mean, scale = _mean_and_scale(X)
    return (X - mean) / scale


def _mean_and_scale(X):
    """Column means and standard deviations (ddof=0), with 1 for constant columns."""
    mean = X.mean(axis=0)
    var = ((X - mean) ** 2).mean(axis=0)
    # scikit-learn's test for a constant feature: the variance is within the
    # rounding error of computing it (n * eps relative, plus the mean's share).
    n_samples = X.shape[0]
    eps = np.finfo(np.float64).eps
    constant = var <= n_samples * eps * var + (n_samples * mean * eps) ** 2
    std = np.sqrt(var)
    return mean, np.where(constant | (std < _CONSTANT_TOL), 1.0, std)


_ROW_NORMS = {
    "l1": lambda X: np.abs(X).sum(axis=1),
    "l2": lambda X: np.sqrt((X**2).sum(axis=1)),
    "max": lambda X: np.abs(X).max(axis=1),
}


def normalize_rows(X, norm="l2"):
    r"""Scale each row (sample) to unit norm.

    .. math:: x'_i = \frac{x_i}{\lVert x_i \rVert},\quad
              \lVert\cdot\rVert \in \{\ell_1, \ell_2, \ell_\infty\}

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
    norm : {"l1", "l2", "max"}
        ``"max"`` divides by the largest absolute value of the row.

    Returns
    -------
    ndarray of float64, shape (n_samples, n_features)
        Rows of unit norm; an all-zero row stays zero, as in
        :func:`sklearn.preprocessing.normalize`.

    Raises
    ------
    ValueError
        If ``norm`` is not one of the three names, or ``X`` is not a finite 2-D array.
    """
    if norm not in _ROW_NORMS:
        raise ValueError(f"norm must be one of {sorted(_ROW_NORMS)}, got {norm!r}")
    X = as_float_array(X, ndim=(2,))
    norms = _ROW_NORMS[norm](X)
    norms = np.where(norms == 0.0, 1.0, norms)
    return X / norms[:, np.newaxis]


def standardize_train_test(X_train, X_test):
    r"""Standardize train and test data with statistics of the training data only.

    .. math:: z = \frac{x - \mu_{\text{train}}}{\sigma_{\text{train}}}

    Fitting the scaler on test data (or on train and test together) leaks
    information about the test set into the model.

    Parameters
    ----------
    X_train : array_like, shape (n_train, n_features)
    X_test : array_like, shape (n_test, n_features)

    Returns
    -------
    Z_train, Z_test : ndarray of float64
        Equal to ``StandardScaler().fit(X_train)`` then ``transform`` of each.

    Raises
    ------
    ValueError
        If the arrays are not finite 2-D arrays with the same number of columns.
    """
    X_train = as_float_array(X_train, "X_train", ndim=(2,))
    X_test = as_float_array(X_test, "X_test", ndim=(2,))
    if X_train.shape[1] != X_test.shape[1]:
        raise ValueError(f"X_train has {X_train.shape[1]} features but X_test has {X_test.shape[1]}")
    mean, scale = _mean_and_scale(X_train)
    return (X_train - mean) / scale, (X_test - mean) / scale


def predicted_gd_steps(X, tol):
    r"""Steps gradient descent needs on least squares, predicted from the condition number.

    The loss :math:`J(w) = \frac{1}{2n}\lVert Xw - y\rVert^2` is a bowl with Hessian
    :math:`H = X^\top X / n`; its curvatures are the eigenvalues :math:`\lambda_{\min} \le \dots
    \le \lambda_{\max}` of :math:`H` and :math:`\kappa = \lambda_{\max}/\lambda_{\min}` is its
    condition number (the square of ``np.linalg.cond(X)``). With the safe rate
    :math:`\eta = 1/\lambda_{\max}` the error along the flattest direction shrinks by
    :math:`1 - 1/\kappa \le e^{-1/\kappa}` per step, so :math:`k` steps reduce it below ``tol``
    times its start once :math:`e^{-k/\kappa} \le \text{tol}`:

    .. math:: k = \left\lceil \kappa \ln(1/\text{tol}) \right\rceil

    (natural logarithm; an upper bound on the exact count
    :math:`\lceil \ln \text{tol} / \ln(1 - 1/\kappa) \rceil`, within :math:`\ln(1/\text{tol})`
    of it). Standardizing the columns of ``X`` first is the usual way to make it small.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        The design matrix as given (no column of ones is added, nothing is centred).
    tol : float, in (0, 1)
        The fraction of the initial error to reach.

    Returns
    -------
    int
        :math:`\lceil \kappa \ln(1/\text{tol}) \rceil`.

    Raises
    ------
    ValueError
        If ``X`` is not a finite 2-D array, ``tol`` is not in (0, 1), or the smallest
        curvature is not positive (:math:`\lambda_{\min} \le 10^{-12}\lambda_{\max}`: the
        bowl has a flat direction and :math:`\kappa` is infinite).
    """
    X = as_float_array(X, "X", ndim=(2,))
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.floating, np.integer)) or not 0 < tol < 1:
        raise ValueError(f"tol must be a number in (0, 1), got {tol!r}")
    curvatures = np.linalg.eigvalsh(X.T @ X / X.shape[0])
    if curvatures[-1] <= 0 or curvatures[0] <= 1e-12 * curvatures[-1]:
        raise ValueError("the smallest curvature of X^T X / n is not positive (a column is zero or the columns are "
                         "linearly dependent): the condition number is infinite")
    kappa = curvatures[-1] / curvatures[0]
    return int(np.ceil(kappa * np.log(1.0 / tol)))

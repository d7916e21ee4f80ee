"""Chapter 2: norms, soft thresholding, Ridge and Lasso. Graded: lp_norm, matrix_norm, soft_threshold, ridge_fit,
lasso_fit, and a judgment: choose_alpha, the penalty of a validation grid and whether the grid brackets it.

Inputs are chosen so that every catalogued mistake changes a number: negative entries and odd or fractional p (a
missing absolute value), non-square matrices with a negative mean (signed sums, eigenvalues), thresholds inside and
outside the range of z, features with large means (centring), uneven feature scales (the division by x_j . x_j / n),
correlated features (the residual update), a single feature whose slope has a closed form (the threshold alpha, not
2 alpha, alpha / 2 or alpha / n), float32 data (computed in float64; scikit-learn's estimators keep float32, so a
wrapper around them shows here), a constant feature, and max_iter=1 or 2 with tol=0 (exactly that many cyclic
sweeps). When a result fails, the judge also recomputes the usual wrong answers on the trusted side (the Lasso at
2 alpha, Ridge at alpha / n, Frobenius for ord=2, ...) and names the one the student's result equals.

choose_alpha is judged on the chapter's core experiment (Ridge on the wine data, validation errors of a grid that
brackets the minimum and of one that stops short of it) and on validation curves drawn per batch seed (grids in
increasing, decreasing and shuffled order, the minimum inside or beyond either edge), plus ties (misclassification
rates on a small validation set tie often), so no answer can be copied. The message names the rule the answer fits
(an edge of the grid accepted as tuned, the edge read by position in the given order, a tie given to the smaller
penalty).

The Lasso cases stay fast: on every problem here the reference converges to tol=1e-10 in at most a few hundred
sweeps, so max_iter=2000 is ample for a correct answer and bounds the time a diverging wrong one can take.
"""

import warnings

import numpy as np

from checks import judge as J
from checks.probe import Raised
from checks.spec import Case, Chapter, Test, bind, function_case
from checks.words import N_

MATCH_RTOL, MATCH_ATOL = 1e-7, 1e-9  # "equals a known wrong answer": far tighter than any mistake's effect
FIT = {"max_iter": 2000, "tol": 1e-10}  # converged Lasso settings (see the module docstring)
LASSO_ATOL = 1e-6  # two converged fits (tol=1e-10) agree to ~1e-9; room for other sensible stopping rules


# -- shared judges ---------------------------------------------------------------------------------
def _as_numbers(value):
    """A float64 array of a recorded value (a tuple becomes a flat array), or None."""
    try:
        if isinstance(value, (tuple, list)):
            return np.concatenate([np.ravel(J.numbers(v, "")) for v in value])
        return np.asarray(J.numbers(value, ""), dtype=float)
    except (J.Fail, ValueError, TypeError):
        return None


def _named(got, candidates):
    """The message of the first known wrong answer that ``got`` equals, or None.

    ``candidates`` is a list of (thunk, message); a thunk computes the wrong answer on the trusted side.
    """
    value = _as_numbers(got)
    if value is None:
        return None
    for make, message in candidates:
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                wrong = make()
            wrong = np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in wrong]) \
                if isinstance(wrong, tuple) else np.asarray(wrong, dtype=float)
        except (ArithmeticError, ValueError, np.linalg.LinAlgError):
            continue
        if wrong.size == value.size and np.allclose(value.ravel(), wrong.ravel(), rtol=MATCH_RTOL, atol=MATCH_ATOL,
                                                    equal_nan=True):
            return message
    return None


def _close(got, expected, what, rtol, atol):
    """J.close, accepting a one-element result where a number is expected.

    The probe sends numpy scalars (np.float64) as arrays of shape (1,); a student's ``np.float64`` norm or intercept
    must not fail a shape check that a Python float passes.
    """
    scalar = np.ndim(J.numbers(expected, what)) == 0 and np.size(J.numbers(got, what)) == 1
    J.close(got, expected, what, rtol=rtol, atol=atol, shape=not scalar)


def _diagnosing(candidates, hint, rtol, atol):
    """compare(): equal to the reference within rtol/atol; on failure, name the known wrong answer, else ``hint``."""
    def compare(got, expected, what):
        try:
            _close(got, expected, what, rtol, atol)
        except J.Fail as failure:
            named = None if isinstance(got, Raised) else _named(got, candidates())
            raise J.Fail(f"{failure}\n{named or hint}") from None
    return compare


def _pair(got, what):
    """The (coef, intercept) of a recorded result, or Fail."""
    if isinstance(got, Raised):
        raise J.Fail(N_(f"{what}: raised {got.name}: {got.message[:300]}"))
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise J.Fail(N_(f"{what}: must return the tuple (coef, intercept), got {J.describe(got)}"))
    return got


def _fit_compare(candidates, hint, rtol, atol, intercept_rtol=None, intercept_atol=None, zeros=False):
    """compare() of (coef, intercept): coef, then its exact zeros (``zeros``), then the intercept."""
    def compare(got, expected, what):
        try:
            coef, intercept = _pair(got, what)
            if getattr(coef, "dtype", "float64") in ("float32", "float16"):
                raise J.Fail(N_(f"{what}: coef has dtype {coef.dtype}; the fit must be computed in float64 (convert X "
                             "and y with np.asarray(X, dtype=float)); scikit-learn's estimators keep float32 data in "
                             "float32"))
            J.close(coef, expected[0], f"{what}: coef", rtol=rtol, atol=atol)
            if zeros:
                mine = np.flatnonzero(J.numbers(coef, what) == 0).tolist()
                theirs = np.flatnonzero(J.numbers(expected[0], what) == 0).tolist()
                if mine != theirs:
                    raise J.Fail(N_(f"{what}: coef must be EXACTLY 0 at features {theirs} (where the converged Lasso "
                                 f"has its zeros), yours is 0 at {mine}. Soft thresholding, max(|rho| - alpha, 0), "
                                 "gives exact zeros; a tolerance or a gradient step does not"))
            _close(intercept, expected[1], f"{what}: intercept", rtol if intercept_rtol is None else intercept_rtol,
                   atol if intercept_atol is None else intercept_atol)
        except J.Fail as failure:
            named = None if isinstance(got, Raised) else _named(got, candidates())
            raise J.Fail(f"{failure}\n{named or hint}") from None
    return compare


def _returns_pair(got, expected, what):
    _pair(got, what)


# -- lp_norm --------------------------------------------------------------------------------------
def _lp_candidates(x, p):
    x = np.asarray(x, dtype=float)
    a = np.abs(x)

    def make():
        if p == np.inf:
            return [(lambda: x.max(), f"your result equals max(x) = {x.max():g}, without the ABSOLUTE value: the "
                                      "max norm is max |x_i|"),
                    (lambda: 1.0, "a result of 1 is what the power formula gives at p = inf (inf**0 = 1, or 0**0 = 1): "
                                  "treat p = np.inf separately, as max |x_i|")]
        return [(lambda: np.sum(x**p) ** (1.0 / p),
                 "(sum x_i**p)**(1/p) without absolute values: for odd p (and fractional p) the ABSOLUTE values "
                 "matter, sum |x_i|**p"),
                (lambda: np.sum(a**p), "sum |x_i|**p without the p-th root: raise the sum to the power 1/p"),
                (lambda: np.sqrt(np.sum(x**2)), "that is the Euclidean norm whatever p: use p in the formula")]
    return make


def _lp_case(x, p, hint, label=None):
    return function_case("lp_norm", x, p, label=label,
                         compare=_diagnosing(_lp_candidates(x, p), hint, rtol=1e-10, atol=1e-12))


def lp_norm_cases(draw):
    x = np.array([1.0, 10.0, 1.0, 1.0, 1.0])
    yield _lp_case(x, 5, "||[1, 10, 1, 1, 1]||_5 = (1 + 10**5 + 1 + 1 + 1)**(1/5) = 10.00008: sum |x_i|**p, then "
                         "take the p-th root (power 1/p)")
    yield _lp_case(x, np.inf, "||[1, 10, 1, 1, 1]||_inf = max |x_i| = 10: treat p = np.inf separately, the power "
                              "formula cannot be evaluated at p = inf")
    v = np.array([-7.0, 3.0, -1.0])
    yield _lp_case(v, np.inf, "||[-7, 3, -1]||_inf = max |x_i| = 7 with the ABSOLUTE value; max(x) = 3 is the usual "
                              "mistake")
    yield _lp_case(v, 3, "for odd p the ABSOLUTE values matter: sum(x**3) = -317 is negative, sum(|x|**3) = 371")
    for p in [1, 2, 1.5]:
        yield _lp_case(v, p, f"must equal np.linalg.norm(x, ord={p}): (sum |x_i|**p)**(1/p)")
    yield function_case("lp_norm", v, 0.5, hint=N_("p = 0.5 must raise ValueError: for p < 1 the formula "
                                                   "is not a norm"))
    rng = draw.numpy(2021)
    for size in [1, 4, 9, 60]:
        # mostly negative entries: a missing absolute value changes every number below
        x = rng.normal(loc=-1.0, scale=2.0, size=size)
        for p in [1, 1.5, 2, 3, 4, 5, 7.5, np.inf]:
            yield _lp_case(x, p, f"random x of size {size} (mostly negative), p={p}: (sum |x_i|**p)**(1/p), "
                                 "max |x_i| for p = inf; the ABSOLUTE value is needed for odd p and for inf")
    yield _lp_case([3, -4], 2, "integer input [3, -4] (a list) must give 5.0: convert with np.asarray(x, dtype=float)",
                   label="lp_norm([3, -4], 2)")
    for p in [0.99, 0.0, -2.0]:
        yield function_case("lp_norm", x, p, hint=N_(f"p = {p} must raise ValueError (p must be >= 1)"))


# -- matrix_norm ----------------------------------------------------------------------------------
def _matrix_candidates(A, ord):
    A = np.asarray(A, dtype=float)

    def make():
        fro = lambda: np.sqrt(np.sum(A**2))  # noqa: E731
        if isinstance(ord, str):
            return [(lambda: np.sum(A**2), "the Frobenius norm is the SQUARE ROOT of the sum of squares"),
                    (lambda: np.abs(A).sum(), "the Frobenius norm sums SQUARES, sqrt(sum a_ij**2), not |a_ij|")]
        if ord == 2:
            out = [(fro, "ord=2 is the SPECTRAL norm, the largest singular value; you returned the Frobenius norm "
                         "sqrt(sum a_ij**2), the L2 norm of the flattened matrix"),
                   (lambda: np.linalg.svd(A, compute_uv=False)[0] ** 2,
                    "that is the largest eigenvalue of A^T A, the SQUARE of the spectral norm: ord=2 is its square "
                    "root, the largest singular value")]
            if A.shape[0] == A.shape[1]:
                out.append((lambda: np.abs(np.linalg.eigvals(A)).max(),
                            "the largest absolute eigenvalue (spectral radius) is not the spectral norm: ord=2 is "
                            "the largest singular value (np.linalg.svd(A, compute_uv=False)[0])"))
            return out
        if ord == 1:
            return [(lambda: np.abs(A).sum(axis=1).max(),
                     "ord=1 is the largest COLUMN sum of |a_ij| (sum over rows, axis=0); the largest row sum you "
                     "returned is ord=inf"),
                    (lambda: A.sum(axis=0).max(), "the column sums must be of ABSOLUTE values |a_ij|, not of the "
                                                  "signed entries")]
        if ord == np.inf:
            return [(lambda: np.abs(A).sum(axis=0).max(),
                     "ord=inf is the largest ROW sum of |a_ij| (sum over columns, axis=1); the largest column sum "
                     "you returned is ord=1"),
                    (lambda: A.sum(axis=1).max(), "the row sums must be of ABSOLUTE values |a_ij|, not of the "
                                                  "signed entries")]
        return []
    return make


def _matrix_case(A, ord, hint):
    return function_case("matrix_norm", A, ord,
                         compare=_diagnosing(_matrix_candidates(A, ord), hint, rtol=1e-10, atol=1e-12))


def matrix_norm_cases(draw):
    A = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [4.0, 6.0, 8.0]])
    yield _matrix_case(A, 1, "ord=1 is the largest COLUMN sum (column sums 6, 10, 14); the largest row sum 18 belongs "
                             "to ord=inf")
    yield _matrix_case(A, np.inf, "ord=inf is the largest ROW sum (row sums 6, 6, 18); the largest column sum 14 "
                                  "belongs to ord=1")
    yield _matrix_case(A, "fro", "Frobenius: sqrt of the sum of all squared entries, sqrt(144) = 12")
    yield _matrix_case(A, 2, "ord=2 is the SPECTRAL norm, the largest singular value (11.986 here), not the Frobenius "
                             "norm (12) and not the largest absolute eigenvalue (11.52)")
    B = np.array([[1.0, -5.0], [-2.0, 1.0]])
    for ord in [1, np.inf]:
        yield _matrix_case(B, ord, "[[1, -5], [-2, 1]]: the sums are of ABSOLUTE values (|1| + |-5| = 6, not "
                                   "1 - 5 = -4)")
    yield function_case("matrix_norm", A, "nuc", hint=N_('ord="nuc" must raise ValueError: only 1, 2, np.inf and "fro" '
                                                      "are asked for (do not fall back to another norm)"))
    rng = draw.numpy(2022)
    for shape in [(1, 1), (2, 5), (6, 3), (4, 4), (12, 7)]:
        # negative mean: signed sums differ from absolute sums; non-square: eigenvalues do not exist
        A = rng.normal(loc=-0.5, scale=2.0, size=shape)
        for ord in [1, np.inf, "fro", 2]:
            yield _matrix_case(A, ord, f"random A of shape {shape}, ord={ord!r}: 1 = largest column sum of |a_ij|, "
                                       "inf = largest row sum, 2 = largest singular value (spectral, not Frobenius), "
                                       "fro = sqrt(sum a_ij**2)")


# -- soft_threshold -------------------------------------------------------------------------------
def _soft_candidates(z, t):
    z = np.asarray(z, dtype=float)

    def make():
        return [(lambda: np.maximum(np.abs(z) - t, 0.0),
                 "negative inputs must keep their SIGN: sign(z) * max(|z| - t, 0); you returned max(|z| - t, 0)"),
                (lambda: np.where(np.abs(z) > t, z + t * np.sign(z), 0.0),
                 "values beyond the threshold must SHRINK towards 0 by t; z + t sign(z) moves them away (a sign "
                 "error)"),
                (lambda: z - t * np.sign(z),
                 "every |z| <= t must become exactly 0: clip with max(|z| - t, 0); z - t sign(z) crosses zero"),
                (lambda: np.where(np.abs(z) > t, z, 0.0),
                 "that is hard thresholding: the survivors must SHRINK by t as well, sign(z) (|z| - t)")]
    return make


def _soft_case(z, t, hint, atol=1e-14):
    return function_case("soft_threshold", z, t, compare=_diagnosing(_soft_candidates(z, t), hint, rtol=0, atol=atol))


def soft_threshold_cases(draw):
    yield _soft_case(3.0, 1.0, "S(3, 1) = 2: values beyond the threshold SHRINK by t; keeping them unchanged (3) is "
                               "hard thresholding")
    yield _soft_case(-3.0, 1.0, "S(-3, 1) = -2: negative values keep their SIGN, sign(z) * max(|z| - t, 0); 2 or -4 "
                                "is a sign error")
    yield _soft_case(np.array([-0.5, 0.5, 1.0, -1.0, 0.0]), 1.0,
                     "every |z| <= t must become exactly 0: clip at zero with max(|z| - t, 0), do not cross zero",
                     atol=0)
    z = np.array([[-3.0, -1.5, -0.2], [0.0, 0.7, 2.5]])
    yield _soft_case(z, 0.5, "elementwise on a 2-D array, keeping its shape")
    yield _soft_case(z, 0.0, "t = 0 must return z unchanged")
    rng = draw.numpy(2023)
    for shape in [(), (9,), (5, 4)]:
        z = rng.normal(loc=0.3, scale=2.0, size=shape)
        z = float(z) if z.ndim == 0 else z  # a number travels as a Python float (the probe has no 0-d arrays)
        for t in [0.0, 0.25, 1.3, 4.0]:
            yield _soft_case(z, t, f"random z of shape {shape}, t={t}: sign(z) * max(|z| - t, 0), elementwise (SIGN "
                                   "kept, exact zeros for |z| <= t, survivors shrink by t)")


# -- ridge_fit ------------------------------------------------------------------------------------
def _ridge_candidates(X, y, alpha):
    from solutions.linear_models import ridge_fit

    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    n, p = X.shape

    def raw():  # normal equations on the raw data, then b = mean(y) - mean(X) @ w
        w = np.linalg.solve(X.T @ X + alpha * np.eye(p), X.T @ y)
        return w, y.mean() - X.mean(axis=0) @ w

    def ones():  # a column of ones, penalized with the weights
        A = np.column_stack([np.ones(n), X])
        w = np.linalg.solve(A.T @ A + alpha * np.eye(p + 1), A.T @ y)
        return w[1:], w[0]

    def make():
        return [(lambda: ridge_fit(X, y, alpha / n),
                 "your fit equals Ridge with alpha / n_samples: scikit-learn's Ridge minimizes ||y - Xw - b||^2 + "
                 "alpha ||w||^2 with NO 1/n (unlike its Lasso)"),
                (lambda: ridge_fit(X, y, alpha * n),
                 "your fit equals Ridge with alpha * n_samples: (Xc^T Xc / n + alpha I) w = Xc^T yc / n divides the "
                 "squared error by n but not the penalty; scikit-learn's Ridge has no 1/n on either term"),
                (lambda: ridge_fit(X, y, alpha / 2),
                 "your fit equals Ridge with alpha / 2: the normal equations are (Xc^T Xc + alpha I) w = Xc^T yc "
                 "with alpha itself (no 1/2)"),
                (lambda: ridge_fit(X, y, 2 * alpha),
                 "your fit equals Ridge with 2 alpha: the normal equations are (Xc^T Xc + alpha I) w = Xc^T yc "
                 "with alpha itself (no factor 2)"),
                (ones, "the intercept is NOT penalized: you appended a column of ones to X and penalized it with "
                       "the weights; centre X and y instead"),
                (raw, "CENTRE X and y before solving (subtract the column means), as sklearn does: solving on the raw "
                      "data lets the intercept leak into the penalized weights"),
                (lambda: (ridge_fit(X, y, alpha)[0], y.mean()),
                 "coef is right but the intercept is mean(y): it must be mean(y) - mean(X) @ coef")]
    return make


def _ridge_case(X, y, alpha, hint, label, rtol=1e-8, atol=1e-10, **tolerances):
    return function_case("ridge_fit", X, y, alpha, label=label,
                         compare=_fit_compare(_ridge_candidates(X, y, alpha), hint, rtol, atol, **tolerances))


def ridge_fit_cases(draw):
    rng = np.random.default_rng(7)  # the visible data
    X = rng.normal(loc=[3.0, -2.0, 10.0], scale=[1.0, 2.0, 0.5], size=(12, 3))
    y = 5.0 + X @ np.array([1.5, -0.5, 2.0]) + rng.normal(scale=0.3, size=12)
    yield _ridge_case(X, y, 1e12, "the intercept is NOT penalized: alpha = 1e12 shrinks the coefficients to about 0 "
                                  "and leaves the intercept at mean(y); an intercept near 0 means it was penalized "
                                  "(a column of ones in the penalty)",
                      "ridge_fit(X of shape (12, 3), y, 1e12)", rtol=0, atol=1e-6, intercept_rtol=1e-6,
                      intercept_atol=0)
    Xc = X - X.mean(axis=0)
    yield _ridge_case(Xc, y, 4.0, "centred X, n = 12, alpha = 4: w solves (Xc^T Xc + alpha I) w = Xc^T yc with "
                                  "alpha as given: sklearn's Ridge minimizes ||y - Xw - b||^2 + alpha ||w||^2, with NO "
                                  "1/n on either term",
                      "ridge_fit(centred X of shape (12, 3), y, 4.0)")
    yield _ridge_case(X, y, 4.0, "features with large means: CENTRE X and y (subtract the column means) before "
                                 "solving, as sklearn does; intercept = mean(y) - mean(X) @ coef",
                      "ridge_fit(X of shape (12, 3), y, 4.0)")
    # float32 data with two nearly collinear features: float32 arithmetic loses about 4 digits (errors ~1e-4
    # relative, far above the tolerance and the diagnosis' 1e-7), float64 none.
    base = rng.normal(size=30)
    X32 = (np.column_stack([base, base + 0.05 * rng.normal(size=30), rng.normal(size=30)]) * [2.0, 2.0, 1.0]
           + [5.0, -3.0, 8.0]).astype(np.float32)
    y32 = (10.0 + X32 @ np.array([30.0, 20.0, -15.0]) + rng.normal(scale=2.0, size=30)).astype(np.float32)
    yield _ridge_case(X32, y32, 0.1,
                      "float32 X and y: convert them to float64 (np.asarray(X, dtype=float)) and solve in float64; "
                      "float32 precision in the result means the computation stayed in float32, as it does inside "
                      "scikit-learn's Ridge (do not call it: solve the normal equations yourself)",
                      "ridge_fit(nearly collinear X as float32, y as float32, 0.1)")
    rng = draw.numpy(2024)
    for n, p, alpha in [(6, 2, 3.0), (30, 5, 0.7), (15, 15, 10.0), (50, 4, 25.0)]:
        X = rng.normal(loc=rng.uniform(-5, 5, p), scale=rng.uniform(0.5, 3, p), size=(n, p))
        y = 2.0 + X @ rng.normal(size=p) + rng.normal(size=n)
        # Both are direct solves of a well-conditioned p x p system: agreement to ~1e-12.
        yield _ridge_case(X, y, alpha, f"random data n={n}, p={p}, alpha={alpha} (feature means far from 0): centre X "
                                       "and y, solve (Xc^T Xc + alpha I) w = Xc^T yc with NO 1/n, intercept = mean(y) "
                                       "- mean(X) @ coef, not penalized",
                          f"ridge_fit(X of shape ({n}, {p}), y, {alpha})")


# -- lasso_fit ------------------------------------------------------------------------------------
def _lasso_candidates(X, y, alpha, kwargs):
    from solutions.linear_models import lasso_fit

    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    n = X.shape[0]

    def make():
        return [(lambda: lasso_fit(X, y, 2 * alpha, **kwargs),
                 "your coefficients equal the Lasso with 2 * alpha: you soft-threshold at 2 alpha instead of alpha. "
                 "For (1/(2n)) ||y - Xw - b||^2 + alpha ||w||_1 the 2 of the square's derivative cancels the 1/2, so "
                 "w_j = S(x_j . r_(j) / n, alpha) / (x_j . x_j / n): the threshold is alpha itself; an extra 1/2 (or "
                 "a wrong factor n) in rho_j and x_j . x_j / n doubles it"),
                (lambda: lasso_fit(X, y, alpha / 2, **kwargs),
                 "your coefficients equal the Lasso with alpha / 2: you soft-threshold at alpha / 2 instead of alpha, "
                 "which minimizes (1/n) ||y - Xw - b||^2 + alpha ||w||_1; scikit-learn's squared error has the "
                 "factor 1/(2n), and with it w_j = S(x_j . r_(j) / n, alpha) / (x_j . x_j / n)"),
                (lambda: lasso_fit(X, y, alpha / n, **kwargs),
                 "your coefficients equal the Lasso with alpha / n: the threshold alpha applies to "
                 "rho_j = x_j . r_(j) / n, not to x_j . r_(j); without the 1/n you minimize "
                 "(1/2) ||y - Xw - b||^2 + alpha ||w||_1 instead of the objective with 1/(2n)"),
                (lambda: (lasso_fit(X, y, alpha, **kwargs)[0], y.mean()),
                 "coef is right but the intercept is mean(y): it must be mean(y) - mean(X) @ coef")]
    return make


def _lasso_case(X, y, alpha, hint, label, rtol=0.0, atol=LASSO_ATOL, zeros=False, fit=None, **tolerances):
    kwargs = dict(FIT if fit is None else fit)
    return function_case("lasso_fit", X, y, alpha, label=label, **kwargs,
                         compare=_fit_compare(_lasso_candidates(X, y, alpha, kwargs), hint, rtol, atol, zeros=zeros,
                                              **tolerances))


def _visible_lasso_data():
    """The data of the visible test cell, drawn in the same order."""
    rng = np.random.default_rng(11)
    n = 40
    x = rng.normal(size=n)
    x = (x - x.mean()) / x.std()
    y = 5.0 + 0.8 * x + rng.normal(scale=0.5, size=n)
    X4 = rng.normal(loc=[10.0, -4.0, 3.0], scale=[1.0, 2.0, 0.7], size=(n, 3))
    y4 = 3.0 + X4 @ np.array([0.5, 0.0, -1.5]) + rng.normal(scale=0.3, size=n)
    Z = rng.normal(size=(n, 2))
    q, _ = np.linalg.qr(Z - Z.mean(axis=0))
    X2 = q * np.sqrt(n) * np.array([3.0, 0.5])
    y2 = 1.0 + X2 @ np.array([0.7, -2.0]) + rng.normal(scale=0.1, size=n)
    z = rng.normal(size=(n, 1)) + 0.5 * rng.normal(size=(n, 3))
    z = (z - z.mean(axis=0)) / z.std(axis=0)
    y3 = 2.0 + z @ np.array([1.0, 0.5, 0.0]) + rng.normal(scale=0.2, size=n)
    return x, y, X4, y4, X2, y2, z, y3


def _wine():
    """Standardized wine, as the visible test cell makes it."""
    from sklearn.datasets import load_wine
    from sklearn.preprocessing import StandardScaler

    X, y = load_wine(return_X_y=True)
    return StandardScaler().fit_transform(X), y


# The exercise welcomes a lasso_fit that calls the student's soft_threshold: its checks run with this one in its
# place (the recap's formula, as the visible test cell writes it), so that a mistake in soft_threshold costs points
# in its own test only.
SOFT_THRESHOLD = """def soft_threshold(z, t):
    import numpy as np
    s = np.sign(z) * np.maximum(np.abs(z) - t, 0.0)
    return float(s) if np.ndim(s) == 0 else s
"""


def lasso_fit_cases(draw):
    for case in _lasso_fit_cases(draw):
        yield Case(label=case.label, steps=[bind("soft_threshold", SOFT_THRESHOLD), *case.steps], judge=case.judge,
                   random=case.random, quantities=case.quantities)


def _lasso_fit_cases(draw):
    x, y, X4, y4, X2, y2, z, y3 = _visible_lasso_data()
    n = len(x)
    c = x @ (y - y.mean()) / n
    yield function_case("lasso_fit", X4, y4, 0.1, **FIT, compare=_returns_pair,
                        label="lasso_fit(X4 of shape (40, 3), y4, 0.1): inputs unchanged")
    yield _lasso_case(x[:, None], y, float(abs(c) + 0.1),
                      "alpha > |x . y_c| / n: the slope must be EXACTLY 0 (the threshold alpha applies to x_j . r / n, "
                      "the objective has 1/(2n) in front of the squared error) and the intercept mean(y): the "
                      "intercept is NOT penalized (no column of ones in the coordinate descent, centre instead)",
                      "lasso_fit(one standardized feature, y, alpha = |x . y_c| / n + 0.1)", atol=0.0,
                      intercept_rtol=1e-10, intercept_atol=0.0)
    yield _lasso_case(x[:, None], y, 0.3,
                      "one standardized feature: w = S(x . y_c / n, alpha) / (x . x / n); rho_j must use the residual "
                      "WITHOUT feature j, r_(j) = r + x_j w_j (add feature j's own part back), or the updates "
                      "oscillate", "lasso_fit(one standardized feature, y, 0.3)", rtol=1e-8, atol=0.0)
    yield _lasso_case(X2, y2, 0.2, "features with x_j . x_j / n = 9 and 0.25 (not standardized): w_j = S(rho_j, "
                                   "alpha) / (x_j . x_j / n); is the division by x_j . x_j / n there (without it, only "
                                   "standardized features come out right)?",
                      "lasso_fit(two orthogonal centred features with x_j . x_j / n = 9 and 0.25, y2, 0.2)",
                      rtol=1e-6, atol=1e-8)
    yield _lasso_case(z, y3, 0.05, "correlated features: update the RESIDUAL after every coordinate (cyclic "
                                   "coordinate descent), not once per sweep",
                      "lasso_fit(three correlated standardized features, y3, 0.05)", rtol=1e-6, atol=1e-8)
    yield _lasso_case(X4, y4, 0.1, "features with large means: CENTRE X and y before coordinate descent, as sklearn "
                                   "does; intercept = mean(y) - mean(X) @ coef",
                      "lasso_fit(X4 of shape (40, 3) with large means, y4, 0.1)", rtol=1e-6, atol=1e-8,
                      intercept_rtol=1e-6, intercept_atol=0.0)
    X_wine, y_wine = _wine()
    yield _lasso_case(X_wine, y_wine, 0.05, "standardized wine, alpha = 0.05: exact zeros exactly where sklearn has "
                                            "them (7 zeros), coefficients of the converged Lasso",
                      "lasso_fit(standardized wine, 0.05)", zeros=True)
    # float32 with large means: float32 arithmetic misses the intercept (a difference of numbers ~1e5) by ~0.1;
    # float64 fits agree to ~1e-5 there (mean(X) @ the ~1e-8 differences of converged coefficients).
    yield _lasso_case((X4 + 1000.0).astype(np.float32), (100 * y4).astype(np.float32), 10.0,
                      "float32 X and y: convert them to float64 (np.asarray(X, dtype=float)) and run your own "
                      "coordinate descent in float64; float32 precision in the result means the computation stayed in "
                      "float32, as it does inside scikit-learn's Lasso (do not call it)",
                      "lasso_fit(X4 + 1000 as float32, 100 * y4 as float32, 10.0)", rtol=1e-8, atol=1e-7)
    yield _lasso_case(z[:, :2], y3, 0.05, "max_iter=1, tol=0.0: exactly one cyclic sweep from w = 0: w_0 from "
                                          "rho_0 = x_0 . y_c / n, then the RESIDUAL updated, then w_1 from "
                                          "rho_1 = x_1 . (y_c - x_0 w_0) / n; max_iter counts whole sweeps",
                      "lasso_fit(two correlated features, y3, 0.05, max_iter=1, tol=0.0)", rtol=1e-10, atol=0.0,
                      fit={"max_iter": 1, "tol": 0.0})
    # Hidden cases. Both sides converged (tol 1e-10): they agree to ~1e-9.
    rng = draw.numpy(2025)
    for n, p, alpha in [(8, 3, 0.3), (30, 6, 0.5), (60, 10, 0.15), (25, 4, 2.0)]:
        X = rng.normal(loc=rng.uniform(-4, 4, p), scale=rng.uniform(0.5, 3, p), size=(n, p))
        X[:, 1] = X[:, 0] * 0.8 + X[:, 1] * 0.3  # correlated pair: the residual update matters
        w = rng.normal(scale=2.0, size=p) * (rng.random(p) < 0.6)
        y = 3.0 + X @ w + rng.normal(size=n)
        yield _lasso_case(X, y, alpha, f"random data n={n}, p={p}, alpha={alpha}: centred coordinate descent, residual "
                                       "updated after every coordinate, w_j = S(x_j . r_(j) / n, alpha) / "
                                       "(x_j . x_j / n), exact zeros; intercept = mean(y) - mean(X) @ coef (not "
                                       "penalized)", f"lasso_fit(X of shape ({n}, {p}), y, {alpha})", zeros=True)
    for alpha in [0.01, 0.1, 0.3]:
        yield _lasso_case(X_wine, y_wine, alpha, f"standardized wine, alpha={alpha}: the sparsity pattern and the "
                                                 "coefficients of the converged Lasso",
                          f"lasso_fit(standardized wine, {alpha})", zeros=True)
    X = rng.normal(loc=2.0, size=(20, 3))
    X[:, 2] = 4.0  # constant feature
    y = 1.0 + X[:, 0] + rng.normal(size=20)
    yield _lasso_case(X, y, 0.1, "a constant feature (x_j . x_j = 0 after centring) must keep coefficient 0, not NaN: "
                                 "skip it instead of dividing by 0", "lasso_fit(X of shape (20, 3) whose last feature "
                                                                     "is constant, y, 0.1)")
    # Default max_iter and tol on standardized wine: well conditioned, so any sensible stopping rule lands within
    # 1e-3 of the optimum (the reference's own error there is ~4e-5). Compared with the converged reference.
    yield function_case("lasso_fit", X_wine, y_wine, 0.05, label="lasso_fit(standardized wine, 0.05) with the default "
                                                                 "max_iter=1000 and tol=1e-4",
                        compare=_converged_within(X_wine, y_wine, 0.05, 1e-3))
    rng = draw.numpy(2026)
    X = rng.normal(size=(15, 1)) + 0.6 * rng.normal(size=(15, 4)) + np.array([1.0, -2.0, 0.5, 3.0])
    y = 1.0 + X @ np.array([2.0, -1.0, 0.0, 0.5]) + rng.normal(scale=0.5, size=15)
    yield _lasso_case(X, y, 0.2, "max_iter=2, tol=0.0: exactly two cyclic sweeps from w = 0 over j = 0, 1, 2, 3 in "
                                 "order, the RESIDUAL updated after every coordinate; max_iter counts whole sweeps",
                      "lasso_fit(X of shape (15, 4) with correlated features, y, 0.2, max_iter=2, tol=0.0)",
                      rtol=1e-10, atol=1e-12, fit={"max_iter": 2, "tol": 0.0})


def _converged_within(X, y, alpha, atol):
    """compare() of a fit at the default settings against the converged reference, within ``atol``."""
    from solutions.linear_models import lasso_fit

    def compare(got, expected, what):
        coef, _ = _pair(got, what)
        J.close(coef, lasso_fit(X, y, alpha, **FIT)[0], f"{what}: coef", rtol=0, atol=atol,
                hint=N_("default max_iter=1000 and tol=1e-4: should be within 1e-3 of the converged Lasso; stop on the "
                     "relative step test of the exercise (largest change <= tol * max |w_j|), not earlier"))
    return compare


# -- choose_alpha: the judgment part --------------------------------------------------------------------------
ALPHA_RULE = N_("the penalty with the smallest validation error (ties: the largest such penalty), and \"extend_low\" "
                "/ \"extend_high\" when it is the smallest / largest penalty of the grid, else \"ok\"")


def _alpha_alternatives(alphas, errors):
    """What the usual wrong rules return: {name: (alpha, verdict)}."""
    alphas, errors = np.asarray(alphas, float), np.asarray(errors, float)
    best = float(alphas[errors == errors.min()].max())
    first = float(alphas[int(np.argmin(errors))])
    low, high = alphas.min(), alphas.max()

    def verdict(a, lo, hi):
        return "extend_low" if a == lo else "extend_high" if a == hi else "ok"

    return {"edge": (best, "ok"), "position": (best, verdict(best, alphas[0], alphas[-1])),
            "ties": (first, verdict(first, low, high))}


def _alpha_hint(got, alphas, errors):
    wrong = _alpha_alternatives(alphas, errors)
    if got == wrong["edge"]:
        return ("your verdict is \"ok\" for a minimum at the edge of the grid: the error may still fall beyond it, so "
                "the grid does not bracket the optimum; say which way to extend it")
    if got == wrong["position"]:
        return ("your verdict reads the edge by POSITION in the given order: grids may run from large to small (as "
                "scikit-learn's paths do) or in any order; compare the VALUE with the smallest and largest penalty")
    if got == wrong["ties"]:
        return ("on a tie your answer is not the largest of the tied penalties: equally good validation errors go to "
                "the larger penalty, the simpler model (np.argmin returns the first one in the given order)")
    return ALPHA_RULE


def _choose_alpha_case(alphas, errors, label=None):
    alphas, errors = np.asarray(alphas, dtype=float), np.asarray(errors, dtype=float)

    def compare(got, expected, what):
        if isinstance(got, Raised) or not isinstance(got, (tuple, list)) or len(got) != 2:
            raise J.Fail(N_(f"{what}: expected a tuple (alpha, verdict), got {J.describe(got)}"))
        alpha = J.numbers(got[0], f"{what}: alpha")
        if alpha.size != 1 or np.iscomplexobj(alpha):
            raise J.Fail(N_(f"{what}: alpha: expected one number, got {J.describe(got[0])}"))
        if type(got[1]) is not str or got[1] not in ("ok", "extend_low", "extend_high"):
            raise J.Fail(N_(f"{what}: verdict: expected one of \"ok\", \"extend_low\", \"extend_high\", got "
                         f"{J.describe(got[1])}"))
        want = (float(J.numbers(expected[0], what).reshape(())), expected[1])
        answer = (float(alpha.reshape(())), got[1])
        if abs(answer[0] - want[0]) > 1e-12 * abs(want[0]) or answer[1] != want[1]:
            raise J.Fail(N_(f"{what}: expected ({want[0]:.6g}, {want[1]!r}), got ({answer[0]:.6g}, {answer[1]!r})\n"
                         f"{_alpha_hint(answer, alphas, errors)}"))

    return function_case("choose_alpha", alphas, errors, compare=compare, label=label, hint=ALPHA_RULE)


def _wine_ridge_errors(alphas):
    """Validation MSE of Ridge on the wine data: colour intensity from the other 12 features (standardized), fitted
    on 23 rows (every 8th), validated on the other 155; the error is smallest near alpha = 10."""
    from sklearn.datasets import load_wine
    from sklearn.linear_model import Ridge

    data = load_wine().data
    X, y = np.delete(data, 9, axis=1), data[:, 9]
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    train = np.arange(len(y)) % 8 == 0
    return [float(np.mean((Ridge(alpha=a).fit(X[train], y[train]).predict(X[~train]) - y[~train]) ** 2))
            for a in alphas]


def choose_alpha_cases(draw):
    grid = np.array([0.01, 0.1, 1.0, 10.0, 100.0])  # the visible cases
    yield _choose_alpha_case(grid, [2.0, 1.5, 1.2, 1.4, 3.0])
    yield _choose_alpha_case(grid[::-1], [2.5, 1.9, 1.6, 1.4, 1.3])
    yield _choose_alpha_case(grid, [0.30, 0.25, 0.20, 0.20, 0.40])
    yield _choose_alpha_case(grid, [0.9, 0.8, 0.7, 0.6, 0.5])
    # shuffled grids whose best penalty is an extreme value in the middle of the list
    yield _choose_alpha_case([1.0, 100.0, 0.01, 10.0, 0.1], [1.2, 0.9, 2.0, 1.0, 1.6])
    yield _choose_alpha_case([10.0, 0.01, 100.0, 0.1, 1.0], [1.9, 0.4, 2.5, 0.6, 1.1])
    for alphas in (np.geomspace(1e3, 1e-3, 13), np.geomspace(1e-3, 1.0, 7)):
        yield _choose_alpha_case(alphas, _wine_ridge_errors(alphas),
                                 label=f"choose_alpha(Ridge on wine, alphas {alphas[0]:g} .. {alphas[-1]:g}, "
                                       f"{len(alphas)} values)")
    rng = draw.numpy(203)
    for where in ("inside", "below", "above", "inside", "inside", "below", "above"):
        n = int(rng.integers(4, 11))
        alphas = np.geomspace(10.0 ** rng.uniform(-4, -1), 10.0 ** rng.uniform(1, 4), n)
        logs = np.log10(alphas)
        centre = {"inside": rng.uniform(logs[1], logs[-2]), "below": logs[0] - rng.uniform(0.5, 2),
                  "above": logs[-1] + rng.uniform(0.5, 2)}[where]
        errors = 0.5 + 0.1 * (logs - centre) ** 2 + rng.uniform(0, 1e-3, n)
        order = rng.choice(["increasing", "decreasing", "shuffled"])
        index = {"increasing": np.arange(n), "decreasing": np.arange(n)[::-1], "shuffled": rng.permutation(n)}[order]
        yield _choose_alpha_case(alphas[index], errors[index])
    for _ in range(2):  # misclassification rates on 20 validation images tie: 2 or 3 penalties share the minimum
        alphas = np.geomspace(1e-3, 1e2, 6)  # increasing: np.argmin's first minimum is the smallest tied penalty
        errors = rng.integers(4, 9, size=6) / 20
        errors[np.sort(rng.choice(6, size=int(rng.integers(2, 4)), replace=False))] = 3 / 20
        yield _choose_alpha_case(alphas, errors)
    yield function_case("choose_alpha", np.array([0.1, 1.0]), np.array([1.0, 2.0]),
                        hint=N_("two penalties cannot bracket a minimum: a grid needs at least 3, raise ValueError"))
    yield function_case("choose_alpha", np.array([0.1, 1.0, 10.0]), np.array([1.0, 2.0]),
                        hint=N_("one validation error per penalty: different lengths must raise ValueError"))


CHAPTER = Chapter(
    id="02-norms-lasso-ridge",
    title="Norms, Lasso and Ridge",
    reference=("solutions.norms", "solutions.linear_models"),
    tests=(
        Test("test_lp_norm", "lp_norm", "lp_norm(x, p)", lp_norm_cases),
        Test("test_matrix_norm", "matrix_norm", "matrix_norm(A, ord)", matrix_norm_cases),
        Test("test_soft_threshold", "soft_threshold", "soft_threshold(z, t)", soft_threshold_cases),
        Test("test_ridge_fit", "ridge_fit", "ridge_fit(X, y, alpha)", ridge_fit_cases),
        Test("test_lasso_fit", "lasso_fit", "lasso_fit(X, y, alpha, max_iter=1000, tol=1e-4)", lasso_fit_cases),
        Test("test_choose_alpha", "choose_alpha", "choose_alpha(alphas, val_errors)", choose_alpha_cases),
    ),
    mistakes="solutions.mistakes.ch02_norms_lasso_ridge",
    budget_seconds=20.0,
    setup=("import numpy as np", "from sklearn.datasets import load_wine",
           "from sklearn.linear_model import Lasso, Ridge", "from sklearn.preprocessing import StandardScaler"),
)

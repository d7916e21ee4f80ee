"""solutions.linear_models equals scikit-learn's Ridge and Lasso.

Random problems have non-zero feature means and a non-zero intercept, so that a fit
without centring or with a penalized intercept gives a different answer. Lasso is
compared with ``Lasso(tol=1e-10, max_iter=100000)``, whose coefficients are then
accurate to about 1e-10; both sides stop on their own tests, so the tolerance is 1e-7.
"""

import warnings

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from sklearn.datasets import load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LinearRegression, Ridge
from sklearn.preprocessing import StandardScaler

from solutions.linear_models import choose_alpha, lasso_fit, ridge_fit, soft_threshold

# Converged coordinate descent on both sides (see the module docstring).
LASSO_ATOL = 1e-7
# Ridge: one SVD (ours) against a Cholesky or dual solve (sklearn) of a system with
# condition number below ~1e4 here: agreement to ~1e-12, checked with margin.
RIDGE_ATOL = 1e-9


def make_problem(seed, n_samples, n_features, sparse=False):
    """A regression problem with shifted, unevenly scaled features and an intercept."""
    rng = np.random.default_rng(seed)
    X = rng.normal(rng.uniform(-3, 3, n_features), rng.uniform(0.5, 3, n_features), (n_samples, n_features))
    w = rng.normal(0, 2, n_features)
    if sparse:
        w[rng.random(n_features) < 0.5] = 0.0
    y = 4.0 + X @ w + rng.normal(0, 1, n_samples)
    return X, y


# --- soft_threshold ---------------------------------------------------------------------


def piecewise_soft_threshold(z, t):
    """The textbook three-case definition, written independently of sign * max."""
    return np.where(z > t, z - t, np.where(z < -t, z + t, 0.0))


def test_soft_threshold_hand_values():
    z = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])
    np.testing.assert_array_equal(soft_threshold(z, 1.0), [-2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0])
    assert soft_threshold(2.5, 0.0) == 2.5
    assert soft_threshold(-2.5, 1.0) == -1.5


@pytest.mark.parametrize("t", [0.0, 0.1, 1.0, 2.5])
@pytest.mark.parametrize("shape", [(), (1,), (50,), (6, 7)])
def test_soft_threshold_equals_piecewise_definition(shape, t):
    z = np.random.default_rng(len(shape)).normal(0.3, 2.0, shape)
    # Both are one subtraction per entry: exact.
    np.testing.assert_array_equal(soft_threshold(z, t), piecewise_soft_threshold(z, t))


@pytest.mark.parametrize("z", [-2.0, -0.3, 0.0, 0.7, 4.0])
def test_soft_threshold_is_the_proximal_map_of_the_absolute_value(z):
    # S(z, t) = argmin_w (w - z)^2 / 2 + t |w|, minimized numerically; Brent's method
    # with xtol 1e-12 finds the minimizer of this convex function to ~1e-8.
    t = 0.8
    best = minimize_scalar(lambda w: 0.5 * (w - z) ** 2 + t * abs(w), bracket=(-10, 10),
                           options={"xtol": 1e-12}).x
    assert soft_threshold(z, t) == pytest.approx(best, abs=1e-7)


def test_soft_threshold_types_and_positive_zeros():
    assert type(soft_threshold(-0.2, 0.5)) is float
    assert np.signbit(soft_threshold(-0.2, 0.5)) == np.False_  # +0.0, not -0.0
    out = soft_threshold([-0.2, 0.1], 0.5)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    assert not np.any(np.signbit(out))


@pytest.mark.parametrize("t", [-0.1, np.nan, np.inf, "1", None])
def test_soft_threshold_rejects_bad_t(t):
    with pytest.raises(ValueError, match="t must"):
        soft_threshold(1.0, t)


def test_soft_threshold_rejects_non_finite_z_and_does_not_mutate():
    with pytest.raises(ValueError, match="z"):
        soft_threshold([1.0, np.nan], 0.5)
    z = np.array([-2.0, 0.5, 3.0])
    before = z.copy()
    soft_threshold(z, 1.0)
    np.testing.assert_array_equal(z, before)


# --- ridge_fit --------------------------------------------------------------------------

RIDGE_CASES = [  # (n_samples, n_features, alpha): tall, square, wide; alpha from 1e-3 to 1e3
    (50, 5, 1.0), (8, 3, 10.0), (30, 30, 0.5), (10, 25, 2.0), (200, 12, 1e-3), (6, 1, 1e3), (3, 2, 0.7),
]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("n_samples", "n_features", "alpha"), RIDGE_CASES)
def test_ridge_fit_equals_sklearn(seed, n_samples, n_features, alpha):
    X, y = make_problem(seed, n_samples, n_features)
    coef, intercept = ridge_fit(X, y, alpha)
    model = Ridge(alpha=alpha).fit(X, y)
    assert coef.shape == (n_features,) and type(intercept) is float
    np.testing.assert_allclose(coef, model.coef_, rtol=0, atol=RIDGE_ATOL)
    np.testing.assert_allclose(intercept, model.intercept_, rtol=0, atol=RIDGE_ATOL)


def test_ridge_alpha_zero_is_least_squares():
    X, y = make_problem(7, 40, 6)
    coef, intercept = ridge_fit(X, y, 0.0)
    model = LinearRegression().fit(X, y)
    np.testing.assert_allclose(coef, model.coef_, rtol=0, atol=RIDGE_ATOL)
    np.testing.assert_allclose(intercept, model.intercept_, rtol=0, atol=RIDGE_ATOL)


def test_ridge_intercept_is_not_penalized():
    # A huge alpha sends the coefficients to 0 but the intercept to mean(y), not to 0.
    X, y = make_problem(3, 30, 4)
    coef, intercept = ridge_fit(X, y, 1e12)
    np.testing.assert_allclose(coef, 0.0, atol=1e-9)
    assert intercept == pytest.approx(y.mean(), abs=1e-8)


def test_ridge_alpha_is_not_divided_by_n():
    # Same data twice (2n rows): the loss doubles, the penalty does not, so the fit moves
    # towards least squares. With alpha / n both fits would be the same.
    X, y = make_problem(4, 10, 3)
    one, _ = ridge_fit(X, y, 5.0)
    two, _ = ridge_fit(np.vstack([X, X]), np.concatenate([y, y]), 5.0)
    np.testing.assert_allclose(two, Ridge(alpha=5.0).fit(np.vstack([X, X]), np.concatenate([y, y])).coef_,
                               atol=RIDGE_ATOL)
    assert np.abs(one - two).max() > 1e-3


def test_ridge_constant_feature_gets_zero_coefficient():
    X, y = make_problem(5, 20, 3)
    X[:, 1] = 7.0
    coef, intercept = ridge_fit(X, y, 0.5)
    model = Ridge(alpha=0.5).fit(X, y)
    assert coef[1] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(coef, model.coef_, atol=RIDGE_ATOL)
    np.testing.assert_allclose(intercept, model.intercept_, atol=RIDGE_ATOL)


# --- lasso_fit --------------------------------------------------------------------------

LASSO_CASES = [  # (n_samples, n_features, alpha); alphas chosen so that some but not all are 0
    (60, 8, 0.3), (20, 5, 1.0), (15, 10, 0.5), (100, 3, 2.0), (8, 2, 0.1), (40, 12, 0.05),
]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("n_samples", "n_features", "alpha"), LASSO_CASES)
def test_lasso_fit_equals_sklearn(seed, n_samples, n_features, alpha):
    X, y = make_problem(seed, n_samples, n_features, sparse=True)
    coef, intercept = lasso_fit(X, y, alpha, max_iter=100000, tol=1e-10)
    model = Lasso(alpha=alpha, tol=1e-10, max_iter=100000).fit(X, y)
    assert coef.shape == (n_features,) and type(intercept) is float
    np.testing.assert_allclose(coef, model.coef_, rtol=0, atol=LASSO_ATOL)
    np.testing.assert_allclose(intercept, model.intercept_, rtol=0, atol=LASSO_ATOL)
    # Exact zeros exactly where sklearn has them.
    np.testing.assert_array_equal(coef == 0.0, model.coef_ == 0.0)


def test_lasso_zero_pattern_is_not_trivial():
    # The cases above must exercise both zero and non-zero coefficients.
    zeros = nonzeros = 0
    for seed in range(4):
        for n_samples, n_features, alpha in LASSO_CASES:
            X, y = make_problem(seed, n_samples, n_features, sparse=True)
            coef = Lasso(alpha=alpha, tol=1e-10, max_iter=100000).fit(X, y).coef_
            zeros, nonzeros = zeros + np.sum(coef == 0), nonzeros + np.sum(coef != 0)
    assert zeros >= 20 and nonzeros >= 40


def test_lasso_default_tolerance_is_within_1e_4():
    X, y = make_problem(11, 80, 6, sparse=True)
    coef, intercept = lasso_fit(X, y, 0.2)
    model = Lasso(alpha=0.2, tol=1e-10, max_iter=100000).fit(X, y)
    np.testing.assert_allclose(coef, model.coef_, rtol=0, atol=1e-4)
    np.testing.assert_allclose(intercept, model.intercept_, rtol=0, atol=1e-4)


def test_lasso_more_features_than_samples():
    X, y = make_problem(2, 12, 20, sparse=True)
    coef, intercept = lasso_fit(X, y, 1.0, max_iter=100000, tol=1e-10)
    model = Lasso(alpha=1.0, tol=1e-10, max_iter=100000).fit(X, y)
    np.testing.assert_allclose(coef, model.coef_, rtol=0, atol=LASSO_ATOL)
    np.testing.assert_allclose(intercept, model.intercept_, rtol=0, atol=LASSO_ATOL)
    assert np.sum(coef != 0) <= 12  # at most n non-zeros


def test_lasso_single_feature_closed_form():
    # One centred feature: w = S(x.y/n, alpha) / (x.x/n), b = mean(y) - mean(x) w.
    # The iris virginica example: default alpha=1 kills the slope.
    rng = np.random.default_rng(0)
    x = rng.normal(5.5, 0.55, 50)
    y = 1.0 + x + rng.normal(0, 0.3, 50)
    xc, yc = x - x.mean(), y - y.mean()
    for alpha in (0.01, 0.1, 1.0):
        expected = max(abs(xc @ yc / 50) - alpha, 0.0) * np.sign(xc @ yc) / (xc @ xc / 50)
        coef, intercept = lasso_fit(x[:, None], y, alpha, tol=1e-12)
        assert coef[0] == pytest.approx(expected, abs=1e-12)
        assert intercept == pytest.approx(y.mean() - x.mean() * expected, abs=1e-10)
    assert lasso_fit(x[:, None], y, 1.0)[0][0] == 0.0


def test_lasso_above_alpha_max_gives_all_zeros_and_mean_intercept():
    # alpha_max = max_j |x_j . y_c| / n: from there on every coefficient is exactly 0.
    X, y = make_problem(9, 30, 5)
    alpha_max = np.abs((X - X.mean(0)).T @ (y - y.mean())).max() / 30
    coef, intercept = lasso_fit(X, y, alpha_max * 1.0001)
    np.testing.assert_array_equal(coef, 0.0)
    assert intercept == pytest.approx(y.mean(), rel=1e-14)
    coef, _ = lasso_fit(X, y, alpha_max * 0.99, tol=1e-10, max_iter=100000)
    assert np.sum(coef != 0) == 1


@pytest.mark.parametrize("alpha", [0.005, 0.02, 0.05, 0.1, 0.2, 0.4])
def test_lasso_wine_standardized_sparsity_pattern(alpha):
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    coef, intercept = lasso_fit(X, y, alpha, max_iter=100000, tol=1e-10)
    model = Lasso(alpha=alpha, tol=1e-10, max_iter=100000).fit(X, y)
    np.testing.assert_array_equal(coef == 0.0, model.coef_ == 0.0)
    np.testing.assert_allclose(coef, model.coef_, rtol=0, atol=LASSO_ATOL)
    np.testing.assert_allclose(intercept, model.intercept_, rtol=0, atol=LASSO_ATOL)


def test_lasso_wine_alpha_005_keeps_six_features():
    # The pattern itself, so that a change in the data or in sklearn shows up here.
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    coef, _ = lasso_fit(X, y, 0.05, max_iter=100000, tol=1e-10)
    assert np.flatnonzero(coef).tolist() == np.flatnonzero(Lasso(alpha=0.05).fit(X, y).coef_).tolist()
    assert np.sum(coef != 0) == 6


def test_lasso_constant_feature_stays_zero():
    X, y = make_problem(6, 25, 4)
    X[:, 2] = -3.0
    coef, intercept = lasso_fit(X, y, 0.1, max_iter=100000, tol=1e-10)
    model = Lasso(alpha=0.1, tol=1e-10, max_iter=100000).fit(X, y)
    assert coef[2] == 0.0
    np.testing.assert_allclose(coef, model.coef_, atol=LASSO_ATOL)
    np.testing.assert_allclose(intercept, model.intercept_, atol=LASSO_ATOL)


def test_lasso_warns_when_not_converged():
    X, y = load_wine(return_X_y=True)  # unscaled: slow coordinate descent
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        lasso_fit(X, y, 0.05, max_iter=5)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lasso_fit(X, y, 0.05)


# --- validation and mutation --------------------------------------------------------------

FITS = [ridge_fit, lasso_fit]


@pytest.mark.parametrize("fit", FITS)
@pytest.mark.parametrize("alpha", [-1.0, np.nan, np.inf, "1", None])
def test_fits_reject_bad_alpha(fit, alpha):
    X, y = make_problem(0, 10, 2)
    with pytest.raises(ValueError, match="alpha must"):
        fit(X, y, alpha)


@pytest.mark.parametrize("fit", FITS)
def test_fits_reject_bad_shapes(fit):
    X, y = make_problem(0, 10, 2)
    with pytest.raises(ValueError, match="same number of samples"):
        fit(X, y[:-1], 1.0)
    with pytest.raises(ValueError, match="X must have 2"):
        fit(X[:, 0], y, 1.0)
    with pytest.raises(ValueError, match="y must have 1"):
        fit(X, y[:, None], 1.0)
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fit(X, y, 1.0)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"max_iter": 0}, "max_iter"), ({"max_iter": 2.5}, "max_iter"), ({"tol": -1e-3}, "tol must"),
])
def test_lasso_rejects_bad_iteration_settings(kwargs, message):
    X, y = make_problem(0, 10, 2)
    with pytest.raises(ValueError, match=message):
        lasso_fit(X, y, 0.1, **kwargs)


@pytest.mark.parametrize("fit", FITS)
def test_fits_do_not_mutate(fit):
    X, y = make_problem(1, 15, 3)
    X_before, y_before = X.copy(), y.copy()
    fit(X, y, 0.3)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


# -- choose_alpha: against scikit-learn's grid search and a brute force ---------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_choose_alpha_picks_what_grid_search_picks(seed):
    from sklearn.model_selection import GridSearchCV, PredefinedSplit

    rng = np.random.default_rng(seed)
    wine = load_wine()
    X = StandardScaler().fit_transform(wine.data)
    y = wine.data[:, 9]  # colour intensity, predicted from the other features
    X = np.delete(X, 9, axis=1)
    fold = np.where(rng.random(len(y)) < 0.3, 0, -1)  # 0: validation rows, -1: training rows only
    alphas = np.geomspace(10.0 ** rng.uniform(-3, -1), 10.0 ** rng.uniform(2, 4), 9)[::-1]  # large to small
    train, val = fold == -1, fold == 0
    errors = [np.mean((Ridge(alpha=a).fit(X[train], y[train]).predict(X[val]) - y[val]) ** 2) for a in alphas]
    search = GridSearchCV(Ridge(), {"alpha": alphas}, cv=PredefinedSplit(fold), scoring="neg_mean_squared_error")
    search.fit(X, y)
    alpha, _ = choose_alpha(alphas, errors)
    assert alpha == search.best_params_["alpha"]


def _brute_force(alphas, errors):
    pairs = sorted(zip(errors, [-a for a in alphas], strict=True))  # smallest error, then the largest alpha
    best = -pairs[0][1]
    ordered = sorted(alphas)
    return best, "extend_low" if best == ordered[0] else "extend_high" if best == ordered[-1] else "ok"


@pytest.mark.parametrize("seed", range(30))
def test_choose_alpha_equals_a_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 12))
    alphas = list(rng.permutation(np.geomspace(1e-3, 1e3, n)))
    errors = list(np.round(rng.uniform(0, 1, n), 1))  # rounded: ties happen
    assert choose_alpha(alphas, errors) == _brute_force(alphas, errors)


def test_choose_alpha_literal_values():
    assert choose_alpha([0.1, 1.0, 10.0], [3.0, 1.0, 2.0]) == (1.0, "ok")
    assert choose_alpha([10.0, 1.0, 0.1], [3.0, 2.0, 1.0]) == (0.1, "extend_low")  # a decreasing grid
    assert choose_alpha([0.1, 1.0, 10.0], [3.0, 2.0, 1.0]) == (10.0, "extend_high")
    assert choose_alpha([0.1, 1.0, 10.0], [2.0, 1.0, 1.0]) == (10.0, "extend_high")  # a tie: the larger penalty


def test_choose_alpha_does_not_modify_its_inputs():
    alphas, errors = np.array([1.0, 0.1, 10.0]), np.array([1.0, 2.0, 3.0])
    choose_alpha(alphas, errors)
    assert alphas.tolist() == [1.0, 0.1, 10.0] and errors.tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize(("alphas", "errors"), [
    ([0.1, 1.0], [1.0, 2.0]), ([0.1, 1.0, 10.0], [1.0, 2.0]), ([0.1, -1.0, 10.0], [1.0, 2.0, 3.0]),
    ([0.1, 0.1, 10.0], [1.0, 2.0, 3.0]), ([0.1, 1.0, 10.0], [1.0, np.nan, 3.0]), ([[0.1, 1.0, 10.0]], [[1, 2, 3]]),
])
def test_choose_alpha_rejects_bad_input(alphas, errors):
    with pytest.raises(ValueError):
        choose_alpha(alphas, errors)

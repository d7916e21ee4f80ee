"""solutions.normalization equals scikit-learn's scalers.

Tolerances: the operations are a handful of float64 additions and one division per
entry, so results agree with scikit-learn to a few ulps; 1e-12 absolute on values of
order 1 leaves a margin of ~1000 ulps (scikit-learn computes means with a different
summation order). Where inputs are large, the relative tolerance 1e-12 covers it.
"""

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler, minmax_scale, normalize

from solutions.normalization import (
    min_max_scale,
    normalize_rows,
    predicted_gd_steps,
    standardize,
    standardize_train_test,
)

TOL = {"rtol": 1e-12, "atol": 1e-12}
SHAPES = [(1, 1), (2, 1), (3, 2), (7, 3), (50, 10), (200, 4)]


def random_data(seed, shape, loc=3.0, scale=5.0):
    return np.random.default_rng(seed).normal(loc, scale, size=shape)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("feature_range", [(0.0, 1.0), (-1.0, 1.0), (2.0, 7.5)])
@pytest.mark.parametrize("seed", range(3))
def test_min_max_scale_equals_sklearn(shape, feature_range, seed):
    X = random_data(seed, shape)
    expected = minmax_scale(X, feature_range=feature_range)
    np.testing.assert_allclose(min_max_scale(X, feature_range), expected, **TOL)


@pytest.mark.parametrize("n", [1, 2, 5, 100])
def test_min_max_scale_1d_equals_sklearn(n):
    x = random_data(n, (n,))
    np.testing.assert_allclose(min_max_scale(x), minmax_scale(x), **TOL)


def test_min_max_scale_constant_column_maps_to_low():
    X = np.column_stack([np.arange(5.0), np.full(5, 3.3), np.full(5, -1e9)])
    got = min_max_scale(X, (-2.0, 4.0))
    np.testing.assert_allclose(got, minmax_scale(X, feature_range=(-2.0, 4.0)), **TOL)
    np.testing.assert_array_equal(got[:, 1:], -2.0)


def test_min_max_scale_integers_and_lists():
    X = [[1, 2], [3, 8], [2, 5]]
    np.testing.assert_allclose(min_max_scale(X), minmax_scale(np.array(X, dtype=float)), **TOL)


@pytest.mark.parametrize("bad", [(1.0, 1.0), (2.0, 1.0)])
def test_min_max_scale_rejects_empty_range(bad):
    with pytest.raises(ValueError, match="feature_range"):
        min_max_scale(np.ones((3, 2)), bad)


@pytest.mark.parametrize("shape", SHAPES[1:])
@pytest.mark.parametrize("seed", range(3))
def test_standardize_equals_standard_scaler(shape, seed):
    X = random_data(seed, shape, loc=-40.0)
    np.testing.assert_allclose(standardize(X), StandardScaler().fit_transform(X), **TOL)


def test_standardize_1d_is_one_column():
    x = random_data(0, (9,))
    np.testing.assert_allclose(standardize(x), StandardScaler().fit_transform(x[:, None])[:, 0], **TOL)


def test_standardize_constant_columns_become_zero():
    X = np.column_stack([np.arange(6.0), np.full(6, 0.1), np.full(6, 12345.678)])
    got = standardize(X)
    np.testing.assert_allclose(got, StandardScaler().fit_transform(X), **TOL)
    np.testing.assert_allclose(got[:, 1:], 0.0, atol=1e-12)


def test_standardize_uses_population_std():
    X = np.array([[1.0], [3.0]])  # ddof=0: std 1 -> [-1, 1]; ddof=1 would give +-0.707
    np.testing.assert_array_equal(standardize(X), [[-1.0], [1.0]])


@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (3, 2), (40, 7)])
@pytest.mark.parametrize("seed", range(3))
def test_normalize_rows_equals_sklearn(norm, shape, seed):
    X = random_data(seed, shape, loc=-0.5)
    np.testing.assert_allclose(normalize_rows(X, norm), normalize(X, norm=norm), **TOL)


@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
def test_normalize_rows_zero_row_stays_zero(norm):
    X = np.array([[0.0, 0.0, 0.0], [-1.0, 0.0, 1.0], [0.0, 1.0, 2.0]])
    got = normalize_rows(X, norm)
    np.testing.assert_array_equal(got[0], 0.0)
    np.testing.assert_allclose(got, normalize(X, norm=norm), **TOL)


def test_normalize_rows_classic_example():
    X = [[-1, 0, 1], [0, 1, 2]]
    np.testing.assert_allclose(normalize_rows(X, "l1"), [[-0.5, 0, 0.5], [0, 1 / 3, 2 / 3]], **TOL)
    np.testing.assert_allclose(normalize_rows(X, "max"), [[-1, 0, 1], [0, 0.5, 1]], **TOL)


def test_normalize_rows_rejects_unknown_norm_and_1d():
    with pytest.raises(ValueError, match="norm"):
        normalize_rows(np.ones((2, 2)), "l3")
    with pytest.raises(ValueError, match="dimensions"):
        normalize_rows(np.ones(3))


@pytest.mark.parametrize("seed", range(5))
def test_standardize_train_test_equals_fitted_scaler(seed):
    X_train = random_data(seed, (30, 5), loc=2.0)
    X_test = random_data(seed + 100, (8, 5), loc=-3.0, scale=0.3)
    X_train[:, 3] = 4.0  # a constant training column: sigma treated as 1
    scaler = StandardScaler().fit(X_train)
    Z_train, Z_test = standardize_train_test(X_train, X_test)
    np.testing.assert_allclose(Z_train, scaler.transform(X_train), **TOL)
    np.testing.assert_allclose(Z_test, scaler.transform(X_test), **TOL)


def test_standardize_train_test_rejects_mismatched_features():
    with pytest.raises(ValueError, match="features"):
        standardize_train_test(np.ones((3, 2)), np.ones((3, 3)))


@pytest.mark.parametrize("bad", [np.array([[1.0, np.nan]]), np.empty((0, 2)), np.ones((2, 2, 2))])
@pytest.mark.parametrize("func", [min_max_scale, standardize, normalize_rows])
def test_invalid_input_raises_value_error(func, bad):
    with pytest.raises(ValueError):
        func(bad)


@pytest.mark.parametrize("func", [min_max_scale, standardize, normalize_rows])
def test_inputs_are_not_mutated(func):
    X = random_data(7, (6, 3))
    before = X.copy()
    func(X)
    np.testing.assert_array_equal(X, before)
    X_train, X_test = X.copy(), X[:2].copy()
    standardize_train_test(X_train, X_test)
    np.testing.assert_array_equal(X_train, before)
    np.testing.assert_array_equal(X_test, before[:2])


# -- predicted_gd_steps: against numpy's SVD and against gradient descent itself -----------------------------
def _design(seed, n=80, d=3):
    rng = np.random.default_rng(seed)
    scales = 10.0 ** rng.uniform(-1, 1, size=d)
    return rng.normal(size=(n, d)) * scales + rng.normal(size=d) * scales


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("tol", [1e-2, 1e-6, 1e-9])
def test_predicted_gd_steps_uses_the_square_of_numpys_condition_number(seed, tol):
    X = _design(seed, d=2 + seed % 4)
    kappa = np.linalg.cond(X) ** 2  # singular values (SVD), a computation other than the reference's eigvalsh
    exact = kappa * np.log(1 / tol)
    # the two computations of kappa agree to ~1e-13 relative; ceil may round either neighbour only that close to an
    # integer
    assert predicted_gd_steps(X, tol) in {int(np.ceil(exact * (1 - 1e-10))), int(np.ceil(exact * (1 + 1e-10)))}


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("tol", [1e-3, 1e-6])
def test_predicted_gd_steps_bounds_the_steps_gradient_descent_takes(seed, tol):
    X = _design(seed + 10, n=50, d=3)
    n = len(X)
    curvatures, vectors = np.linalg.eigh(X.T @ X / n)
    # the worst start: all the error along the flattest direction; run gradient descent with eta = 1/lambda_max on
    # least squares (the gradient X^T (X w - y) / n with y = X w_star) and count the steps to tol times the start
    w_star = np.zeros(3)
    y = X @ w_star
    w = w_star + vectors[:, 0]
    steps = 0
    while np.linalg.norm(w - w_star) > tol:
        w = w - X.T @ (X @ w - y) / n / curvatures[-1]
        steps += 1
        assert steps < 10**6
    predicted = predicted_gd_steps(X, tol)
    # (1 - 1/kappa)^k <= exp(-k/kappa): the prediction is an upper bound, and it exceeds the exact count by at most
    # ln(1/tol) + 1 steps (1/(-ln(1 - x)) >= 1/x - 1)
    assert steps <= predicted <= steps + np.log(1 / tol) + 1


def test_predicted_gd_steps_literal_values_and_standardization():
    X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 3.0], [0.0, -3.0]])  # curvatures 0.5 and 4.5: kappa = 9
    assert predicted_gd_steps(X, 1e-6) == int(np.ceil(9 * np.log(1e6))) == 125
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(100, 2)) * [1.0, 300.0]
    assert predicted_gd_steps(StandardScaler().fit_transform(raw), 1e-6) < predicted_gd_steps(raw, 1e-6) / 1000


def test_predicted_gd_steps_does_not_modify_its_input():
    X = _design(3)
    before = X.copy()
    predicted_gd_steps(X, 1e-3)
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize(("X", "tol"), [
    (np.ones(4), 1e-3), (np.array([[1.0, 0.0], [2.0, 0.0]]), 1e-3), (np.array([[1.0, 2.0], [2.0, 4.0]]), 1e-3),
    (np.eye(2), 0.0), (np.eye(2), 1.0), (np.eye(2), -1e-3), (np.array([[np.nan, 1.0], [1.0, 2.0]]), 0.1),
    (np.eye(2), "0.1"),
])
def test_predicted_gd_steps_rejects_bad_input(X, tol):
    with pytest.raises(ValueError):
        predicted_gd_steps(X, tol)

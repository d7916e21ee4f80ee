"""Chapter 1: normalization vs regularization. Graded: min-max scaling, z-scores, row norms, train/test scaling, and a
judgment: the steps gradient descent needs on least squares, predicted from the condition number of X^T X / n.

Inputs are chosen so that every catalogued mistake changes a number: few rows (ddof=1 differs by
sqrt(n/(n-1))), non-zero means, negative entries (absolute values in the norms), constant columns
and zero rows, integer input, a test set with other statistics than the training set.

predicted_gd_steps is judged on the chapter's core experiment (wine's alcohol and proline, raw and standardized) and on
designs drawn per batch seed (columns of scales over three orders of magnitude, non-zero means, each also
standardized), so no number can be copied. An answer is right when it is ceil(kappa ln(1/tol)) for kappa within 1e-9
relative of the reference's (two correct computations of kappa may round ceil to neighbours only that close to an
integer); the message names the rule the returned number fits (kappa of X instead of X^T X, log10, rounded down).
"""

import numpy as np

from checks import judge as J
from checks.spec import Chapter, Test, function_case
from checks.words import N_

AXIS_HINT = N_("each column (axis=0) is scaled by its own min and max (were the rows scaled, axis=1?)")


def min_max_scale_cases(draw):
    X = np.array([[1.0, 10.0, -3.0], [2.0, 20.0, -1.0], [3.0, 40.0, -2.0], [5.0, 30.0, 1.0]])
    yield function_case("min_max_scale", X, hint=AXIS_HINT)
    yield function_case("min_max_scale", np.array([4.0, 6.0, 5.0]), hint=N_("a 1-D array is a single column"))
    yield function_case("min_max_scale", X, feature_range=(-1.0, 3.0),
                        hint=N_("with feature_range=(a, b) the result is a + (x - min) / (max - min) * (b - a); "
                             "did you ignore feature_range?"))
    yield function_case("min_max_scale", np.array([[1.0, 7.0], [2.0, 7.0], [3.0, 7.0]]), feature_range=(-2.0, 2.0),
                        hint=N_("a constant column (max == min) must map to feature_range[0], not NaN: do not divide "
                             "by a zero range"))
    yield function_case("min_max_scale", X, feature_range=(1.0, 0.0),
                        hint=N_("feature_range=(1, 0) must raise ValueError (the minimum must be below the maximum)"))
    yield function_case("min_max_scale", X, feature_range=(2.0, 2.0),
                        hint=N_("feature_range=(2, 2) must raise ValueError: an empty range cannot hold the data"))
    rng = draw.numpy(101)
    for shape, feature_range in [((7, 3), (0.0, 1.0)), ((5, 1), (-1.0, 1.0)), ((40, 6), (2.0, 5.0)),
                                 ((13,), (0.0, 1.0))]:
        yield function_case("min_max_scale", rng.normal(loc=5.0, scale=3.0, size=shape), feature_range=feature_range,
                            hint=N_(f"random data: {AXIS_HINT}, onto feature_range"))
    X = rng.normal(size=(6, 4))
    X[:, 2] = -3.5
    yield function_case("min_max_scale", X, feature_range=(1.0, 4.0),
                        hint=N_("a constant column must map to feature_range[0] (here 1.0), not NaN"))
    yield function_case("min_max_scale", rng.integers(0, 10, size=(5, 3)),
                        hint=N_("integer input must be converted to float before dividing (integer "
                                "division truncates)"))


STD_HINT = (N_("per column (axis=0), mean 0 and std 1 with ddof=0 (divide by n, not n - 1; not per row); "
            "a result sqrt((n-1)/n) too small would come from ddof=1"))


def standardize_cases(draw):
    X = np.array([[1.0, 100.0], [2.0, 300.0], [3.0, 200.0], [6.0, 400.0]])
    yield function_case("standardize", X, hint=N_(f"must equal StandardScaler().fit_transform(X): {STD_HINT}"))
    yield function_case("standardize", np.array([1.0, 2.0, 6.0]),
                        hint=N_("a 1-D array is one column: standardize it as a whole (same shape back)"))
    yield function_case("standardize", np.array([[1.0, 5.0], [2.0, 5.0], [4.0, 5.0]]),
                        hint=N_("a constant column must become 0, not NaN: treat a zero standard deviation as 1"))
    rng = draw.numpy(202)
    for shape in [(3, 2), (5, 4), (50, 7), (9,)]:  # 3 rows: ddof=1 differs by sqrt(3/2)
        yield function_case("standardize", rng.normal(loc=-4.0, scale=2.5, size=shape), rtol=1e-10,
                            hint=N_(f"random data: {STD_HINT}"))
    X = rng.normal(size=(8, 3))
    X[:, 0] = 2.0
    yield function_case("standardize", X, hint=N_("a constant column must become 0, not NaN"))


def normalize_rows_cases(draw):
    X = np.array([[-1.0, 0.0, 1.0], [0.0, 1.0, 2.0]])
    yield function_case("normalize_rows", X, norm="l2",
                        hint=N_("l2: each row (axis=1) divided by its Euclidean length; dividing columns is the usual "
                             "mistake"))
    yield function_case("normalize_rows", X, norm="l1",
                        hint=N_("l1: each row divided by the sum of ABSOLUTE values (|-1| + |0| + |1| = 2, "
                             "not -1 + 0 + 1 = 0)"))
    yield function_case("normalize_rows", np.array([[-4.0, 2.0], [3.0, -6.0]]), norm="max",
                        hint=N_("max: each row divided by its largest ABSOLUTE value (row [-4, 2] -> [-1, 0.5]; "
                             "max(x) without abs gives [-2, 1])"))
    yield function_case("normalize_rows", np.array([[0.0, 0.0], [3.0, 4.0]]),
                        hint=N_("a zero row must stay zero, not NaN: treat a zero norm as 1"))
    yield function_case("normalize_rows", X, norm="l3",
                        hint=N_("norm='l3' must raise ValueError (only 'l1', 'l2', 'max' are allowed)"))
    rng = draw.numpy(303)
    for shape in [(4, 3), (3, 5), (30, 8)]:
        X = rng.normal(loc=0.5, size=shape)
        X[0] = 0.0
        for norm in ["l1", "l2", "max"]:
            yield function_case("normalize_rows", X, norm=norm,
                                hint=N_("random data: each row (axis=1) divided by its norm (absolute values; a zero "
                                     "row stays zero)"))


def standardize_train_test_cases(draw):
    hint = ("Z_test must use the TRAINING mean and std (ddof=0): fitting the scaler on the test data (or on both "
            "sets) leaks test information into training")
    yield function_case("standardize_train_test", np.array([[0.0, 10.0], [2.0, 30.0], [4.0, 20.0]]),
                        np.array([[4.0, 40.0], [6.0, 50.0]]), outputs=("Z_train", "Z_test"), hint=hint)
    rng = draw.numpy(404)
    yield function_case("standardize_train_test", rng.normal(loc=1.0, scale=2.0, size=(20, 4)),
                        rng.normal(loc=3.0, scale=0.5, size=(6, 4)), outputs=("Z_train", "Z_test"), hint=hint)


# -- predicted_gd_steps: the judgment part -------------------------------------------------------------------
GD_RULE = N_("ceil(kappa * ln(1 / tol)) with kappa = lambda_max / lambda_min of X^T X / n (the Hessian of least "
              "squares), natural logarithm, rounded up")


def _kappa(X):
    curvatures = np.linalg.eigvalsh(X.T @ X / len(X))
    return curvatures[-1] / curvatures[0]


def _steps_within(value, exact):
    """``value`` is ceil(exact) up to a relative error of 1e-9 in ``exact``."""
    return value in {int(np.ceil(exact * (1 - 1e-9))), int(np.ceil(exact * (1 + 1e-9)))}


def _gd_steps_hint(value, X, tol):
    kappa, log = _kappa(X), np.log(1 / tol)
    if _steps_within(value, np.sqrt(kappa) * log):
        return ("your count uses sqrt(kappa), the condition number of X itself (np.linalg.cond(X)): the curvatures of "
                "the bowl are the eigenvalues of X^T X / n, whose condition number is cond(X) ** 2")
    if _steps_within(value, kappa * np.log10(1 / tol)):
        return "your count uses log10: (1 - 1/kappa)^k <= exp(-k / kappa) needs the natural logarithm, ln(1 / tol)"
    if _steps_within(value + 1, kappa * log):
        return ("your count is one step short: round kappa * ln(1 / tol) UP (ceil), since a fraction of a step is not "
                "enough")
    return GD_RULE


def _gd_steps_case(X, tol, label=None):
    X = np.asarray(X, dtype=float)
    exact = _kappa(X) * np.log(1 / tol)

    def compare(got, expected, what):
        value = J.numbers(got, what)
        if value.size != 1 or np.iscomplexobj(value) or not np.isfinite(value).all() or value != np.round(value):
            raise J.Fail(N_(f"{what}: expected one whole number of steps, got {J.describe(got)}"))
        value = int(value.reshape(()))
        if not _steps_within(value, exact):
            raise J.Fail(N_(f"{what}: expected {int(J.numbers(expected, what).reshape(()))} steps, got {value}\n"
                         f"{_gd_steps_hint(value, X, tol)}"))

    return function_case("predicted_gd_steps", X, tol, compare=compare, label=label, hint=GD_RULE)


def _standardized(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


def predicted_gd_steps_cases(draw):
    from sklearn.datasets import load_wine

    X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 3.0], [0.0, -3.0]])  # the visible case: curvatures 0.5 and 4.5
    yield _gd_steps_case(X, 1e-6)
    wine = load_wine()
    features = wine.data[:, [wine.feature_names.index("alcohol"), wine.feature_names.index("proline")]]
    raw = features - features.mean(axis=0)  # the book's experiment: centred, not scaled
    for tol in (1e-6, 1e-3):
        yield _gd_steps_case(raw, tol, label=f"predicted_gd_steps(wine's alcohol and proline, centred, tol={tol:g})")
        yield _gd_steps_case(_standardized(features), tol,
                             label=f"predicted_gd_steps(wine's alcohol and proline, standardized, tol={tol:g})")
    rng = draw.numpy(105)
    for _ in range(4):
        n, d = int(rng.integers(20, 120)), int(rng.integers(2, 6))
        scales = 10.0 ** rng.uniform(-1.0, 2.0, size=d)
        X = rng.normal(size=(n, d)) * scales + rng.normal(size=d) * scales
        tol = float(10.0 ** -rng.integers(2, 10))
        yield _gd_steps_case(X, tol)
        yield _gd_steps_case(_standardized(X), tol)
    flat = "a column of zeros has no curvature: kappa is infinite, raise ValueError"
    yield function_case("predicted_gd_steps", np.array([[1.0, 0.0], [2.0, 0.0], [-1.0, 0.0]]), 1e-3, hint=flat)
    for tol in (0.0, 1.0):
        yield function_case("predicted_gd_steps", np.eye(2), tol, hint=N_("tol must be in (0, 1): raise ValueError"))


CHAPTER = Chapter(
    id="01-normalization",
    title="Normalization vs regularization",
    reference=("solutions.normalization",),
    tests=(
        Test("test_min_max_scale", "min_max_scale", "min_max_scale(X, feature_range=(0.0, 1.0))", min_max_scale_cases),
        Test("test_standardize", "standardize", "standardize(X)", standardize_cases),
        Test("test_normalize_rows", "normalize_rows", 'normalize_rows(X, norm="l2")', normalize_rows_cases),
        Test("test_standardize_train_test", "standardize_train_test", "standardize_train_test(X_train, X_test)",
             standardize_train_test_cases),
        Test("test_predicted_gd_steps", "predicted_gd_steps", "predicted_gd_steps(X, tol)", predicted_gd_steps_cases),
    ),
    mistakes="solutions.mistakes.ch01_normalization",
    budget_seconds=20.0,
    setup=("import numpy as np", "from sklearn.preprocessing import StandardScaler, minmax_scale, normalize"),
)

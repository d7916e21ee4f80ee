"""Known mistakes of chapter 1: axes, ddof, constant columns, zero rows, absolute values, scaler leakage."""

from checks.mistakes import Mistake

RESCALING = ("Rescaling data: iris before and after min-max scaling",
             "rescaling-data-iris-before-and-after-min-max-scaling")
ROWS = ("Normalizing rows: unit-length samples", "normalizing-rows-unit-length-samples")
LEAKAGE = ("Fit the scaler on the training data only", "fit-the-scaler-on-the-training-data-only")
SCALE_MATTERS = ("Why scale matters: gradient descent on unscaled features",
                 "why-scale-matters-gradient-descent-on-unscaled-features")

MISTAKES = [
    Mistake(
        id="minmax_rows", target="min_max_scale", section=RESCALING, match=r"axis=0",
        explanation="your outputs equal min-max scaling of each ROW (axis=1); features are columns, so each column "
                    "is scaled by its own min and max (axis=0)",
        change=(("X.min(axis=0)", "X.min(axis=-1, keepdims=True)"),
                ("X.max(axis=0)", "X.max(axis=-1, keepdims=True)")),
    ),
    Mistake(
        id="minmax_constant_nan", target="min_max_scale", section=RESCALING, match=r"constant column",
        explanation="your outputs equal min-max scaling that divides by a zero range: a constant column becomes "
                    "NaN; scikit-learn treats a zero range as 1, so the column maps to feature_range[0]",
        change=(("    col_range = np.where(col_range < 10 * np.finfo(float).eps, 1.0, col_range)\n", ""),),
    ),
    Mistake(
        id="minmax_ignores_range", target="min_max_scale", section=RESCALING, match=r"feature_range",
        explanation="your outputs always lie in [0, 1]: feature_range=(a, b) was ignored; the result is "
                    "a + (x - min) / (max - min) * (b - a)",
        change=(("return low + (X - col_min) / col_range * (high - low)", "return (X - col_min) / col_range"),),
    ),
    Mistake(
        id="minmax_in_place", target="min_max_scale", section=RESCALING, match=r"in place",
        explanation="your function rescales the caller's array in place (np.asarray does not copy a float array); "
                    "work on a copy, e.g. np.array(X, dtype=float)",
        change=(("X = np.array(X, dtype=float)", "X = np.asarray(X, dtype=float)"),
                ("return low + (X - col_min) / col_range * (high - low)",
                 "X -= col_min\n    X /= col_range\n    X *= high - low\n    X += low\n    return X")),
    ),
    Mistake(
        id="minmax_no_range_check", target="min_max_scale", section=RESCALING, match=r"ValueError",
        explanation="feature_range=(1, 0) was accepted: a decreasing range must raise ValueError",
        change=(("    if low >= high:\n", "    if False:\n"),),
    ),
    Mistake(
        id="std_ddof_1", target="standardize", section=RESCALING, match=r"ddof",
        explanation="your outputs equal z-scores with the SAMPLE standard deviation (ddof=1, as pandas and "
                    "torch.std compute it); the course and StandardScaler use ddof=0 (divide by n)",
        change=(("X.std(axis=0)", "X.std(axis=0, ddof=1)"),),
    ),
    Mistake(
        id="standardize_rows", target="standardize", section=RESCALING, match=r"axis=0|per column",
        explanation="your outputs equal z-scores of each ROW (axis=1); each column (feature) gets mean 0 and std 1",
        change=(("X.mean(axis=0)", "X.mean(axis=-1, keepdims=True)"),
                ("X.std(axis=0)", "X.std(axis=-1, keepdims=True)")),
    ),
    Mistake(
        id="standardize_constant_nan", target="standardize", section=RESCALING, match=r"constant column",
        explanation="your outputs have NaN where a column is constant: its standard deviation is 0; treat a zero "
                    "standard deviation as 1 so the column becomes 0",
        change=(("    std = np.where(std < 10 * np.finfo(float).eps, 1.0, std)\n", ""),),
    ),
    Mistake(
        id="standardize_not_centred", target="standardize", section=RESCALING, match=r"mean 0",
        explanation="your outputs are divided by the standard deviation but not centred: subtract the column "
                    "mean first",
        change=(("return (X - mean) / std", "return X / std"),),
    ),
    Mistake(
        id="standardize_float32", target="standardize", section=RESCALING, match=r"float32",
        explanation="your outputs are float32 (np.asarray(X, dtype=np.float32), or a float32 input kept as it is): "
                    "about 7 significant digits; the course computes in float64 (np.array(X, dtype=float))",
        change=(("X = np.array(X, dtype=float)", "X = np.array(X, dtype=np.float32)"),),
    ),
    Mistake(
        id="normalize_columns", target="normalize_rows", section=ROWS, match=r"row \(axis=1\)",
        explanation="your outputs divide each COLUMN by its norm; normalize_rows scales each sample (row, axis=1) "
                    "to unit norm",
        change=(("np.abs(X).sum(axis=1)", "np.abs(X).sum(axis=0)"), ("(X**2).sum(axis=1)", "(X**2).sum(axis=0)"),
                ("np.abs(X).max(axis=1)", "np.abs(X).max(axis=0)"), ("norms[:, None]", "norms[None, :]")),
    ),
    Mistake(
        id="normalize_l1_no_abs", target="normalize_rows", section=ROWS, match=r"ABSOLUTE",
        explanation="your l1 norm is the plain sum of the row; the l1 norm sums ABSOLUTE values",
        change=(("np.abs(X).sum(axis=1)", "X.sum(axis=1)"),),
    ),
    Mistake(
        id="normalize_max_no_abs", target="normalize_rows", section=ROWS, match=r"largest ABSOLUTE value",
        explanation="your max norm is max(x); the max norm is the largest ABSOLUTE value max(|x|) (a mistake "
                    "several tutorials make)",
        change=(("np.abs(X).max(axis=1)", "X.max(axis=1)"),),
    ),
    Mistake(
        id="normalize_zero_row_nan", target="normalize_rows", section=ROWS, match=r"zero row",
        explanation="your outputs have NaN in a row of zeros (0 / 0); a zero row must stay zero (treat a zero "
                    "norm as 1)",
        change=(("    norms = np.where(norms == 0.0, 1.0, norms)\n", ""),),
    ),
    Mistake(
        id="scaler_fit_on_test", target="standardize_train_test", section=LEAKAGE, match=r"TRAINING mean",
        explanation="your Z_test uses the mean and std of the TEST data; a scaler learns from the training data only "
                    "and applies those numbers to the test data",
        change=(("(X_test - mean) / std", "(X_test - X_test.mean(axis=0)) / X_test.std(axis=0)"),),
    ),
    Mistake(
        id="scaler_fit_on_all", target="standardize_train_test", section=LEAKAGE, match=r"TRAINING mean",
        explanation="your outputs use statistics of train and test stacked together: the test data leaked into "
                    "the scaler; fit it on the training data only",
        change=(("mean = X_train.mean(axis=0)", "mean = np.vstack([X_train, X_test]).mean(axis=0)"),
                ("std = X_train.std(axis=0)", "std = np.vstack([X_train, X_test]).std(axis=0)")),
    ),
    Mistake(
        id="gd_steps_cond_of_X", target="predicted_gd_steps", section=SCALE_MATTERS, match=r"cond\(X\) \*\* 2",
        explanation="your count uses the condition number of X (np.linalg.cond(X)), the square root of the bowl's: "
                    "the curvatures are the eigenvalues of X^T X / n, so kappa = cond(X) ** 2",
        change=(("kappa = curvatures[-1] / curvatures[0]", "kappa = np.linalg.cond(X)"),),
    ),
    Mistake(
        id="gd_steps_log10", target="predicted_gd_steps", section=SCALE_MATTERS, match=r"natural logarithm",
        explanation="your count uses log10(1 / tol): (1 - 1/kappa)^k <= exp(-k / kappa) <= tol needs the natural "
                    "logarithm, k >= kappa ln(1 / tol)",
        change=(("np.log(1 / tol)", "np.log10(1 / tol)"),),
    ),
    Mistake(
        id="gd_steps_rounded_down", target="predicted_gd_steps", section=SCALE_MATTERS, match=r"one step short",
        explanation="your count rounds kappa ln(1 / tol) down: a whole number of steps reaches tol only once it is at "
                    "least kappa ln(1 / tol), so round up (ceil)",
        change=(("np.ceil(kappa * np.log(1 / tol))", "np.floor(kappa * np.log(1 / tol))"),),
    ),
]

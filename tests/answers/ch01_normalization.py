"""Correct rewrites and unseen mistakes of chapter 1."""

REWRITES = [
    ("min_max_scale", '''
def min_max_scale(X, feature_range=(0.0, 1.0)):
    from sklearn.preprocessing import minmax_scale
    if feature_range[0] >= feature_range[1]:
        raise ValueError("feature_range")
    return minmax_scale(np.asarray(X, dtype=float), feature_range=feature_range)
'''),
    ("standardize", '''
def standardize(X):
    X = np.asarray(X, dtype=float)
    centred = X - X.sum(axis=0) / X.shape[0]
    std = np.sqrt((centred ** 2).mean(axis=0))
    return centred / np.where(std > 1e-12, std, 1.0)
'''),
    ("normalize_rows", '''
def normalize_rows(X, norm="l2"):
    from sklearn.preprocessing import normalize
    if norm not in ("l1", "l2", "max"):
        raise ValueError(norm)
    return normalize(np.asarray(X, dtype=float), norm=norm)
'''),
    ("standardize_train_test", '''
def standardize_train_test(X_train, X_test):
    from sklearn.preprocessing import StandardScaler
    scaler = StandardScaler().fit(np.asarray(X_train, dtype=float))
    return scaler.transform(np.asarray(X_train, dtype=float)), scaler.transform(np.asarray(X_test, dtype=float))
'''),
    # kappa from the singular values of X, squared; the count with math
    ("predicted_gd_steps", '''
def predicted_gd_steps(X, tol):
    import math
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or not np.isfinite(X).all() or not 0 < tol < 1:
        raise ValueError("need a finite 2-D X and 0 < tol < 1")
    s = np.linalg.svd(X, compute_uv=False)
    if s[-1] ** 2 <= 1e-12 * s[0] ** 2:
        raise ValueError("X^T X is singular")
    return math.ceil((s[0] / s[-1]) ** 2 * math.log(1 / tol))
'''),
]

UNSEEN = [
    # divides by max instead of max - min: no catalogued mistake has these outputs
    ("min_max_scale", '''
def min_max_scale(X, feature_range=(0.0, 1.0)):
    low, high = feature_range
    if low >= high:
        raise ValueError("range")
    X = np.array(X, dtype=float)
    m = X.max(axis=0)
    return low + (X - X.min(axis=0)) / np.where(m == 0, 1.0, m) * (high - low)
''', ()),
    # divides by the variance instead of the standard deviation
    ("standardize", '''
def standardize(X):
    X = np.array(X, dtype=float)
    var = X.var(axis=0)
    return (X - X.mean(axis=0)) / np.where(var == 0, 1.0, var)
''', ()),
    # ddof=1 AND rows: two mistakes at once (no single entry reproduces it)
    ("standardize", '''
def standardize(X):
    X = np.array(X, dtype=float)
    std = X.std(axis=-1, ddof=1, keepdims=True)
    return (X - X.mean(axis=-1, keepdims=True)) / np.where(std == 0, 1.0, std)
''', ()),
    # l2 without the square root
    ("normalize_rows", '''
def normalize_rows(X, norm="l2"):
    X = np.array(X, dtype=float)
    if norm == "l1":
        n = np.abs(X).sum(axis=1)
    elif norm == "l2":
        n = (X ** 2).sum(axis=1)
    elif norm == "max":
        n = np.abs(X).max(axis=1)
    else:
        raise ValueError(norm)
    return X / np.where(n == 0, 1.0, n)[:, None]
''', ()),
    # the scaler fitted on the test data: the catalogued mistake written differently
    ("standardize_train_test", '''
def standardize_train_test(X_train, X_test):
    from sklearn.preprocessing import StandardScaler
    return (StandardScaler().fit_transform(np.asarray(X_train, dtype=float)),
            StandardScaler().fit_transform(np.asarray(X_test, dtype=float)))
''', ("scaler_fit_on_test",)),
    # centres X first: the curvature the column means add is lost (the contract takes X as given)
    ("predicted_gd_steps", '''
def predicted_gd_steps(X, tol):
    X = np.asarray(X, dtype=float)
    if not 0 < tol < 1:
        raise ValueError("tol")
    Xc = X - X.mean(axis=0)
    lam = np.linalg.eigvalsh(Xc.T @ Xc / len(Xc))
    if lam[0] <= 1e-12 * lam[-1]:
        raise ValueError("singular")
    return int(np.ceil(lam[-1] / lam[0] * np.log(1 / tol)))
''', ()),
]

# Common mistakes written from scratch, the way students make them (not edits of the reference): each function has
# one classic mistake and whatever else its author happened to write (its own validation, its own edge cases).
# (answer, code, the catalogued mistake it must be diagnosed as or None, what the student did). The grader must
# name exactly that mistake (or nothing, for None) and never another one.
COMMON = [
    ("min_max_scale", '''
def min_max_scale(X, feature_range=(0.0, 1.0)):
    a, b = feature_range
    if not a < b:
        raise ValueError("bad range")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X.reshape(-1, 1)
        one_d = True
    else:
        one_d = False
    lo = X.min(axis=1, keepdims=True)
    hi = X.max(axis=1, keepdims=True)
    span = hi - lo
    span[span == 0] = 1.0
    out = a + (X - lo) / span * (b - a)
    return out.ravel() if one_d else out
''', "minmax_rows", "scales each row by its own min and max (axis=1)"),
    ("min_max_scale", '''
def min_max_scale(X, feature_range=(0.0, 1.0)):
    if feature_range[0] >= feature_range[1]:
        raise ValueError("feature_range must be increasing")
    X = np.array(X, dtype=float)
    mins, maxs = X.min(0), X.max(0)
    return feature_range[0] + (X - mins) / (maxs - mins) * (feature_range[1] - feature_range[0])
''', "minmax_constant_nan", "divides by a zero range for a constant column"),
    ("min_max_scale", '''
def min_max_scale(X, feature_range=(0.0, 1.0)):
    lo, hi = feature_range
    if lo >= hi:
        raise ValueError(f"invalid range {feature_range}")
    data = np.array(X, dtype=float)
    rng = np.ptp(data, axis=0)
    rng = np.where(rng == 0, 1, rng)
    return (data - data.min(axis=0)) / rng
''', "minmax_ignores_range", "always scales onto [0, 1]"),
    ("standardize", '''
def standardize(X):
    X = np.array(X, dtype=float)
    mu = np.mean(X, axis=0)
    sigma = np.std(X, axis=0, ddof=1)
    sigma[sigma == 0] = 1.0
    return (X - mu) / sigma
''', "std_ddof_1", "sample standard deviation (ddof=1)"),
    ("standardize", '''
def standardize(X):
    X = np.asarray(X, dtype=np.float32)
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    std = np.where(std == 0, 1, std)
    return (X - mean) / std
''', "standardize_float32", "computes and returns float32"),
    ("standardize", '''
def standardize(X):
    X = np.array(X, dtype=float)
    centred = X - X.mean(axis=0)
    std = X.std(axis=0)
    return centred / std
''', "standardize_constant_nan", "divides a constant column by its zero std"),
    ("normalize_rows", '''
def normalize_rows(X, norm="l2"):
    X = np.array(X, dtype=float)
    if norm == "l2":
        n = np.linalg.norm(X, axis=1)
    elif norm == "l1":
        n = X.sum(axis=1)
    elif norm == "max":
        n = np.abs(X).max(axis=1)
    else:
        raise ValueError("unknown norm " + str(norm))
    n[n == 0] = 1
    return X / n[:, np.newaxis]
''', "normalize_l1_no_abs", "l1 norm without absolute values"),
    ("normalize_rows", '''
def normalize_rows(X, norm="l2"):
    X = np.array(X, dtype=float)
    if norm not in ("l1", "l2", "max"):
        raise ValueError(norm)
    out = np.zeros_like(X)
    for i, row in enumerate(X):
        if norm == "l1":
            size = np.sum(np.abs(row))
        elif norm == "l2":
            size = np.sqrt(np.sum(row ** 2))
        else:
            size = np.max(row)
        out[i] = row / size if size != 0 else row
    return out
''', "normalize_max_no_abs", "max norm without absolute values, row by row"),
    ("standardize_train_test", '''
def standardize_train_test(X_train, X_test):
    def z(A):
        A = np.array(A, dtype=float)
        s = A.std(axis=0)
        s[s == 0] = 1.0
        return (A - A.mean(axis=0)) / s
    return z(X_train), z(X_test)
''', "scaler_fit_on_test", "standardizes each set with its own statistics"),
    ("predicted_gd_steps", '''
def predicted_gd_steps(X, tol):
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or not 0 < tol < 1:
        raise ValueError("bad input")
    s = np.linalg.svd(X, compute_uv=False)
    if s.min() <= 1e-6 * s.max():
        raise ValueError("singular")
    return int(np.ceil(s.max() / s.min() * np.log(1 / tol)))
''', "gd_steps_cond_of_X", "the condition number of X, not of X^T X"),
]

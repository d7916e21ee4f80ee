"""Mistakes students make with min-max scaling, z-scores and row normalization."""

from tests.mutants import Mutant

CHAPTER = "01-normalization"

MUTANTS = [
    Mutant(
        name="minmax_rows",
        target="min_max_scale",
        mistake="scales each row (axis=1) instead of each column",
        match=r"axis=0",
        code='''
def min_max_scale(X, feature_range=(0.0, 1.0)):
    low, high = feature_range
    if low >= high:
        raise ValueError("bad range")
    X = np.array(X, dtype=float)
    if X.ndim == 1:
        X_min, X_range = X.min(), X.max() - X.min()
    else:
        X_min = X.min(axis=1, keepdims=True)
        X_range = X.max(axis=1, keepdims=True) - X_min
    return low + (X - X_min) / np.where(X_range == 0, 1.0, X_range) * (high - low)
''',
    ),
    Mutant(
        name="minmax_constant_nan",
        target="min_max_scale",
        mistake="divides by a zero range, so a constant column becomes NaN",
        match=r"constant column",
        code='''
def min_max_scale(X, feature_range=(0.0, 1.0)):
    low, high = feature_range
    if low >= high:
        raise ValueError("bad range")
    X = np.array(X, dtype=float)
    return low + (X - X.min(axis=0)) / (X.max(axis=0) - X.min(axis=0)) * (high - low)
''',
    ),
    Mutant(
        name="minmax_ignores_range",
        target="min_max_scale",
        mistake="always scales onto [0, 1] whatever feature_range says",
        match=r"feature_range",
        code='''
def min_max_scale(X, feature_range=(0.0, 1.0)):
    if feature_range[0] >= feature_range[1]:
        raise ValueError("bad range")
    X = np.array(X, dtype=float)
    X_range = X.max(axis=0) - X.min(axis=0)
    return (X - X.min(axis=0)) / np.where(X_range == 0, 1.0, X_range)
''',
    ),
    Mutant(
        name="minmax_in_place",
        target="min_max_scale",
        mistake="rescales the caller's array in place",
        match=r"in place",
        code='''
def min_max_scale(X, feature_range=(0.0, 1.0)):
    low, high = feature_range
    if low >= high:
        raise ValueError("bad range")
    X = np.asarray(X, dtype=float)
    X_range = X.max(axis=0) - X.min(axis=0)
    X -= X.min(axis=0)
    X /= np.where(X_range == 0, 1.0, X_range)
    X *= high - low
    X += low
    return X
''',
    ),
    Mutant(
        name="standardize_ddof_1",
        target="standardize",
        mistake="divides by the sample standard deviation (ddof=1, as pandas and torch.std do)",
        match=r"ddof",
        code='''
def standardize(X):
    X = np.array(X, dtype=float)
    std = X.std(axis=0, ddof=1)
    return (X - X.mean(axis=0)) / np.where(std == 0, 1.0, std)
''',
    ),
    Mutant(
        name="standardize_rows",
        target="standardize",
        mistake="standardizes each row (axis=1) instead of each column",
        match=r"axis=0|per column",
        code='''
def standardize(X):
    X = np.array(X, dtype=float)
    axis = 1 if X.ndim == 2 else 0
    std = X.std(axis=axis, keepdims=True)
    return (X - X.mean(axis=axis, keepdims=True)) / np.where(std == 0, 1.0, std)
''',
    ),
    Mutant(
        name="standardize_constant_nan",
        target="standardize",
        mistake="divides by a zero standard deviation, so a constant column becomes NaN",
        match=r"constant column",
        code='''
def standardize(X):
    X = np.array(X, dtype=float)
    return (X - X.mean(axis=0)) / X.std(axis=0)
''',
    ),
    Mutant(
        name="normalize_columns",
        target="normalize_rows",
        mistake="divides each column by its norm instead of each row",
        match=r"row \(axis=1\)",
        code='''
def normalize_rows(X, norm="l2"):
    X = np.array(X, dtype=float)
    if norm == "l1":
        norms = np.abs(X).sum(axis=0)
    elif norm == "l2":
        norms = np.sqrt((X**2).sum(axis=0))
    elif norm == "max":
        norms = np.abs(X).max(axis=0)
    else:
        raise ValueError(norm)
    return X / np.where(norms == 0, 1.0, norms)
''',
    ),
    Mutant(
        name="normalize_l1_no_abs",
        target="normalize_rows",
        mistake="l1 norm as the plain sum of the row, without absolute values",
        match=r"ABSOLUTE",
        code='''
def normalize_rows(X, norm="l2"):
    X = np.array(X, dtype=float)
    if norm == "l1":
        norms = X.sum(axis=1)
    elif norm == "l2":
        norms = np.sqrt((X**2).sum(axis=1))
    elif norm == "max":
        norms = np.abs(X).max(axis=1)
    else:
        raise ValueError(norm)
    return X / np.where(norms == 0, 1.0, norms)[:, None]
''',
    ),
    Mutant(
        name="normalize_max_no_abs",
        target="normalize_rows",
        mistake="max norm as max(x) instead of max(|x|), the error of several tutorials",
        match=r"largest ABSOLUTE value",
        code='''
def normalize_rows(X, norm="l2"):
    X = np.array(X, dtype=float)
    if norm == "l1":
        norms = np.abs(X).sum(axis=1)
    elif norm == "l2":
        norms = np.sqrt((X**2).sum(axis=1))
    elif norm == "max":
        norms = X.max(axis=1)
    else:
        raise ValueError(norm)
    return X / np.where(norms == 0, 1.0, norms)[:, None]
''',
    ),
    Mutant(
        name="normalize_zero_row_nan",
        target="normalize_rows",
        mistake="divides a zero row by its zero norm, giving NaN",
        match=r"zero row",
        code='''
def normalize_rows(X, norm="l2"):
    X = np.array(X, dtype=float)
    if norm == "l1":
        norms = np.abs(X).sum(axis=1)
    elif norm == "l2":
        norms = np.sqrt((X**2).sum(axis=1))
    elif norm == "max":
        norms = np.abs(X).max(axis=1)
    else:
        raise ValueError(norm)
    return X / norms[:, None]
''',
    ),
    Mutant(
        name="scaler_fit_on_test",
        target="standardize_train_test",
        mistake="fits a second scaler on the test data",
        match=r"TRAINING mean|training statistics",
        code='''
def standardize_train_test(X_train, X_test):
    return (StandardScaler().fit_transform(np.asarray(X_train, dtype=float)),
            StandardScaler().fit_transform(np.asarray(X_test, dtype=float)))
''',
    ),
    Mutant(
        name="scaler_fit_on_all",
        target="standardize_train_test",
        mistake="fits the scaler on train and test stacked together",
        match=r"training",
        code='''
def standardize_train_test(X_train, X_test):
    both = np.vstack([X_train, X_test]).astype(float)
    scaler = StandardScaler().fit(both)
    return scaler.transform(X_train), scaler.transform(X_test)
''',
    ),
]

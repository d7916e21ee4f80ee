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
]

"""Mistakes students make with Lp and matrix norms, soft thresholding, Ridge and Lasso."""

from tests.mutants import Mutant

CHAPTER = "02-norms-lasso-ridge"

MUTANTS = [
    # --- lp_norm -------------------------------------------------------------------------
    Mutant(
        name="lp_inf_norm_no_abs",
        target="lp_norm",
        mistake="inf-norm as max(x) without the absolute value, as several tutorials write it",
        match=r"ABSOLUTE value; max\(x\)",
        code='''
def lp_norm(x, p):
    if p < 1:
        raise ValueError(p)
    x = np.asarray(x, dtype=float)
    if p == np.inf:
        return float(x.max())
    return float(np.sum(np.abs(x) ** p) ** (1 / p))
''',
    ),
    Mutant(
        name="lp_odd_p_no_abs",
        target="lp_norm",
        mistake="(sum x**p)**(1/p) without absolute values, wrong for odd p",
        match=r"odd p",
        code='''
def lp_norm(x, p):
    if p < 1:
        raise ValueError(p)
    x = np.asarray(x, dtype=float)
    if p == np.inf:
        return float(np.abs(x).max())
    return float(np.sum(x**p) ** (1 / p))
''',
    ),
    Mutant(
        name="lp_no_root",
        target="lp_norm",
        mistake="returns sum |x_i|**p and forgets the p-th root",
        match=r"p-th root",
        code='''
def lp_norm(x, p):
    if p < 1:
        raise ValueError(p)
    x = np.abs(np.asarray(x, dtype=float))
    if p == np.inf:
        return float(x.max())
    return float(np.sum(x**p))
''',
    ),
    Mutant(
        name="lp_inf_through_formula",
        target="lp_norm",
        mistake="no special case for p = inf: the power formula gives inf**0 = 1",
        match=r"p = np.inf separately",
        code='''
def lp_norm(x, p):
    if p < 1:
        raise ValueError(p)
    x = np.abs(np.asarray(x, dtype=float))
    return float(np.sum(x**p) ** (1 / p))
''',
    ),
    Mutant(
        name="lp_accepts_p_below_1",
        target="lp_norm",
        mistake="no ValueError for p < 1",
        match=r"must raise ValueError",
        code='''
def lp_norm(x, p):
    x = np.abs(np.asarray(x, dtype=float))
    if p == np.inf:
        return float(x.max())
    return float(np.sum(x**p) ** (1 / p))
''',
    ),
    # --- matrix_norm ----------------------------------------------------------------------
    Mutant(
        name="matrix_2_as_frobenius",
        target="matrix_norm",
        mistake="ord=2 computed as the Frobenius norm (the L2 norm of the flattened matrix)",
        match=r"SPECTRAL norm",
        code='''
def matrix_norm(A, ord):
    A = np.asarray(A, dtype=float)
    if ord == 1:
        return float(np.abs(A).sum(axis=0).max())
    if ord == np.inf:
        return float(np.abs(A).sum(axis=1).max())
    if ord in (2, "fro"):
        return float(np.sqrt(np.sum(A**2)))
    raise ValueError(ord)
''',
    ),
    Mutant(
        name="matrix_2_as_largest_eigenvalue",
        target="matrix_norm",
        mistake="ord=2 computed as the largest absolute eigenvalue (spectral radius) instead of singular value",
        match=r"singular value",
        code='''
def matrix_norm(A, ord):
    A = np.asarray(A, dtype=float)
    if ord == 1:
        return float(np.abs(A).sum(axis=0).max())
    if ord == np.inf:
        return float(np.abs(A).sum(axis=1).max())
    if ord == 2:
        return float(np.abs(np.linalg.eigvals(A)).max())
    if ord == "fro":
        return float(np.sqrt(np.sum(A**2)))
    raise ValueError(ord)
''',
    ),
    Mutant(
        name="matrix_1_and_inf_swapped",
        target="matrix_norm",
        mistake="ord=1 as the largest row sum and ord=inf as the largest column sum",
        match=r"COLUMN sum",
        code='''
def matrix_norm(A, ord):
    A = np.asarray(A, dtype=float)
    if ord == 1:
        return float(np.abs(A).sum(axis=1).max())
    if ord == np.inf:
        return float(np.abs(A).sum(axis=0).max())
    if ord == 2:
        return float(np.linalg.svd(A, compute_uv=False)[0])
    if ord == "fro":
        return float(np.sqrt(np.sum(A**2)))
    raise ValueError(ord)
''',
    ),
    Mutant(
        name="matrix_sums_without_abs",
        target="matrix_norm",
        mistake="column and row sums of the signed entries instead of their absolute values",
        match=r"ABSOLUTE values",
        code='''
def matrix_norm(A, ord):
    A = np.asarray(A, dtype=float)
    if ord == 1:
        return float(A.sum(axis=0).max())
    if ord == np.inf:
        return float(A.sum(axis=1).max())
    if ord == 2:
        return float(np.linalg.svd(A, compute_uv=False)[0])
    if ord == "fro":
        return float(np.sqrt(np.sum(A**2)))
    raise ValueError(ord)
''',
    ),
    # --- soft_threshold -------------------------------------------------------------------
    Mutant(
        name="soft_threshold_sign_lost",
        target="soft_threshold",
        mistake="max(|z| - t, 0) without the sign: negative inputs come back positive",
        match=r"SIGN",
        code='''
def soft_threshold(z, t):
    return np.maximum(np.abs(z) - t, 0.0)
''',
    ),
    Mutant(
        name="soft_threshold_sign_flipped",
        target="soft_threshold",
        mistake="z + t * sign(z): moves away from zero instead of towards it",
        match=r"sign error|SHRINK",
        code='''
def soft_threshold(z, t):
    return np.where(np.abs(z) > t, z + t * np.sign(z), 0.0)
''',
    ),
    Mutant(
        name="soft_threshold_no_clip",
        target="soft_threshold",
        mistake="z - t * sign(z) without clipping at zero: small values cross zero",
        match=r"exactly 0",
        code='''
def soft_threshold(z, t):
    return z - t * np.sign(z)
''',
    ),
    Mutant(
        name="hard_threshold",
        target="soft_threshold",
        mistake="hard thresholding: zeroes small values but leaves the survivors unchanged",
        match=r"hard thresholding",
        code='''
def soft_threshold(z, t):
    return np.where(np.abs(z) > t, z, 0.0)
''',
    ),
    # --- ridge_fit ------------------------------------------------------------------------
    Mutant(
        name="ridge_intercept_penalized",
        target="ridge_fit",
        mistake="appends a column of ones and penalizes the intercept with the weights",
        match=r"intercept is NOT penalized",
        code='''
def ridge_fit(X, y, alpha):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    A = np.column_stack([np.ones(len(X)), X])
    w = np.linalg.solve(A.T @ A + alpha * np.eye(A.shape[1]), A.T @ y)
    return w[1:], float(w[0])
''',
    ),
    Mutant(
        name="ridge_not_centred",
        target="ridge_fit",
        mistake="solves (X^T X + alpha I) w = X^T y on uncentred data, then sets b = mean(y) - mean(X) @ w",
        match=r"CENTRE X and y",
        code='''
def ridge_fit(X, y, alpha):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.linalg.solve(X.T @ X + alpha * np.eye(X.shape[1]), X.T @ y)
    return w, float(y.mean() - X.mean(axis=0) @ w)
''',
    ),
    Mutant(
        name="ridge_alpha_divided_by_n",
        target="ridge_fit",
        mistake="uses alpha / n_samples, as if Ridge had the Lasso's 1/n in front of the loss",
        match=r"NO 1/n",
        code='''
def ridge_fit(X, y, alpha):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    w = np.linalg.solve(Xc.T @ Xc + alpha / len(X) * np.eye(X.shape[1]), Xc.T @ yc)
    return w, float(y.mean() - X.mean(axis=0) @ w)
''',
    ),
    Mutant(
        name="ridge_centres_in_place",
        target="ridge_fit",
        mistake="centres the caller's X in place",
        match=r"in place",
        code='''
def ridge_fit(X, y, alpha):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    X_mean = X.mean(axis=0)
    X -= X_mean
    w = np.linalg.solve(X.T @ X + alpha * np.eye(X.shape[1]), X.T @ (y - y.mean()))
    return w, float(y.mean() - X_mean @ w)
''',
    ),
    Mutant(
        name="ridge_calls_sklearn",
        target="ridge_fit",
        mistake="wraps sklearn's Ridge instead of solving the system",
        match=r"not call sklearn's Ridge",
        code='''
def ridge_fit(X, y, alpha):
    model = Ridge(alpha=alpha).fit(X, y)
    return model.coef_, float(model.intercept_)
''',
    ),
    # --- lasso_fit ------------------------------------------------------------------------
    Mutant(
        name="lasso_residual_not_updated",
        target="lasso_fit",
        mistake="computes every rho_j from the residual of the previous sweep (no update after each coordinate)",
        match=r"update the RESIDUAL",
        code='''
def lasso_fit(X, y, alpha, max_iter=1000, tol=1e-4):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = X.shape
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    col_sq = (Xc**2).sum(axis=0) / n
    w = np.zeros(p)
    for _ in range(max_iter):
        r = yc - Xc @ w
        new = w.copy()
        for j in range(p):
            if col_sq[j] > 0:
                new[j] = soft_threshold(Xc[:, j] @ r / n + col_sq[j] * w[j], alpha) / col_sq[j]
        step, w = np.abs(new - w).max(), new
        if np.abs(w).max() == 0 or step <= tol * np.abs(w).max():
            break
    return w, float(y.mean() - X.mean(axis=0) @ w)
''',
    ),
    Mutant(
        name="lasso_rho_with_full_residual",
        target="lasso_fit",
        mistake="rho_j = x_j . r / n with the full residual, forgetting to add feature j's own part back",
        match=r"WITHOUT feature j",
        code='''
def lasso_fit(X, y, alpha, max_iter=1000, tol=1e-4):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = X.shape
    Xc = X - X.mean(axis=0)
    col_sq = (Xc**2).sum(axis=0) / n
    w = np.zeros(p)
    r = y - y.mean()
    for _ in range(max_iter):
        step = 0.0
        for j in range(p):
            if col_sq[j] == 0:
                continue
            new = soft_threshold(Xc[:, j] @ r / n, alpha) / col_sq[j]
            r -= Xc[:, j] * (new - w[j])
            step, w[j] = max(step, abs(new - w[j])), new
        if np.abs(w).max() == 0 or step <= tol * np.abs(w).max():
            break
    return w, float(y.mean() - X.mean(axis=0) @ w)
''',
    ),
    Mutant(
        name="lasso_no_division_by_column_norm",
        target="lasso_fit",
        mistake="w_j = S(rho_j, alpha) without dividing by x_j . x_j / n, correct only for standardized features",
        match=r"divide S\(rho_j, alpha\) by x_j \. x_j / n",
        code='''
def lasso_fit(X, y, alpha, max_iter=1000, tol=1e-4):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = X.shape
    Xc = X - X.mean(axis=0)
    col_sq = (Xc**2).sum(axis=0) / n
    w = np.zeros(p)
    r = y - y.mean()
    for _ in range(max_iter):
        step = 0.0
        for j in range(p):
            new = soft_threshold(Xc[:, j] @ r / n + col_sq[j] * w[j], alpha)
            r -= Xc[:, j] * (new - w[j])
            step, w[j] = max(step, abs(new - w[j])), new
        if np.abs(w).max() == 0 or step <= tol * np.abs(w).max():
            break
    return w, float(y.mean() - X.mean(axis=0) @ w)
''',
    ),
    Mutant(
        name="lasso_threshold_without_1_over_n",
        target="lasso_fit",
        mistake="thresholds x_j . r_(j) (no 1/n) at alpha, i.e. minimizes the loss without the 1/(2n) factor",
        match=r"1/\(2n\)",
        code='''
def lasso_fit(X, y, alpha, max_iter=1000, tol=1e-4):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = X.shape
    Xc = X - X.mean(axis=0)
    col_sq = (Xc**2).sum(axis=0)
    w = np.zeros(p)
    r = y - y.mean()
    for _ in range(max_iter):
        step = 0.0
        for j in range(p):
            if col_sq[j] == 0:
                continue
            new = soft_threshold(Xc[:, j] @ r + col_sq[j] * w[j], alpha) / col_sq[j]
            r -= Xc[:, j] * (new - w[j])
            step, w[j] = max(step, abs(new - w[j])), new
        if np.abs(w).max() == 0 or step <= tol * np.abs(w).max():
            break
    return w, float(y.mean() - X.mean(axis=0) @ w)
''',
    ),
    Mutant(
        name="lasso_intercept_penalized",
        target="lasso_fit",
        mistake="adds a column of ones to X and runs the penalized coordinate descent on it too",
        match=r"intercept is NOT penalized",
        code='''
def lasso_fit(X, y, alpha, max_iter=1000, tol=1e-4):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(X)
    A = np.column_stack([np.ones(n), X])
    col_sq = (A**2).sum(axis=0) / n
    w = np.zeros(A.shape[1])
    r = y.copy()
    for _ in range(max_iter):
        step = 0.0
        for j in range(A.shape[1]):
            if col_sq[j] == 0:
                continue
            new = soft_threshold(A[:, j] @ r / n + col_sq[j] * w[j], alpha) / col_sq[j]
            r -= A[:, j] * (new - w[j])
            step, w[j] = max(step, abs(new - w[j])), new
        if np.abs(w).max() == 0 or step <= tol * np.abs(w).max():
            break
    return w[1:], float(w[0])
''',
    ),
    Mutant(
        name="lasso_not_centred",
        target="lasso_fit",
        mistake="runs coordinate descent on the raw X and centred y, then b = mean(y) - mean(X) @ w",
        match=r"CENTRE X and y",
        code='''
def lasso_fit(X, y, alpha, max_iter=1000, tol=1e-4):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = X.shape
    col_sq = (X**2).sum(axis=0) / n
    w = np.zeros(p)
    r = y - y.mean()
    for _ in range(max_iter):
        step = 0.0
        for j in range(p):
            if col_sq[j] == 0:
                continue
            new = soft_threshold(X[:, j] @ r / n + col_sq[j] * w[j], alpha) / col_sq[j]
            r -= X[:, j] * (new - w[j])
            step, w[j] = max(step, abs(new - w[j])), new
        if np.abs(w).max() == 0 or step <= tol * np.abs(w).max():
            break
    return w, float(y.mean() - X.mean(axis=0) @ w)
''',
    ),
    Mutant(
        name="lasso_intercept_is_mean_y",
        target="lasso_fit",
        mistake="returns mean(y) as the intercept, forgetting - mean(X) @ w",
        match=r"mean\(y\) - mean\(X\) @ coef",
        code='''
def lasso_fit(X, y, alpha, max_iter=1000, tol=1e-4):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = X.shape
    Xc = X - X.mean(axis=0)
    col_sq = (Xc**2).sum(axis=0) / n
    w = np.zeros(p)
    r = y - y.mean()
    for _ in range(max_iter):
        step = 0.0
        for j in range(p):
            if col_sq[j] == 0:
                continue
            new = soft_threshold(Xc[:, j] @ r / n + col_sq[j] * w[j], alpha) / col_sq[j]
            r -= Xc[:, j] * (new - w[j])
            step, w[j] = max(step, abs(new - w[j])), new
        if np.abs(w).max() == 0 or step <= tol * np.abs(w).max():
            break
    return w, float(y.mean())
''',
    ),
    Mutant(
        name="lasso_constant_feature_nan",
        target="lasso_fit",
        mistake="divides by x_j . x_j / n even when a constant feature makes it 0",
        match=r"constant feature",
        code='''
def lasso_fit(X, y, alpha, max_iter=1000, tol=1e-4):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = X.shape
    Xc = X - X.mean(axis=0)
    col_sq = (Xc**2).sum(axis=0) / n
    w = np.zeros(p)
    r = y - y.mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(max_iter):
            step = 0.0
            for j in range(p):
                new = soft_threshold(Xc[:, j] @ r / n + col_sq[j] * w[j], alpha) / col_sq[j]
                r -= Xc[:, j] * (new - w[j])
                step, w[j] = max(step, abs(new - w[j])), new
            if np.abs(w).max() == 0 or step <= tol * np.abs(w).max():
                break
    return w, float(y.mean() - X.mean(axis=0) @ w)
''',
    ),
    Mutant(
        name="lasso_centres_in_place",
        target="lasso_fit",
        mistake="centres the caller's X in place",
        match=r"in place",
        code='''
def lasso_fit(X, y, alpha, max_iter=1000, tol=1e-4):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = X.shape
    X_mean = X.mean(axis=0)
    X -= X_mean
    col_sq = (X**2).sum(axis=0) / n
    w = np.zeros(p)
    r = y - y.mean()
    for _ in range(max_iter):
        step = 0.0
        for j in range(p):
            if col_sq[j] == 0:
                continue
            new = soft_threshold(X[:, j] @ r / n + col_sq[j] * w[j], alpha) / col_sq[j]
            r -= X[:, j] * (new - w[j])
            step, w[j] = max(step, abs(new - w[j])), new
        if np.abs(w).max() == 0 or step <= tol * np.abs(w).max():
            break
    return w, float(y.mean() - X_mean @ w)
''',
    ),
    Mutant(
        name="lasso_calls_sklearn",
        target="lasso_fit",
        mistake="wraps sklearn's Lasso instead of running coordinate descent",
        match=r"own coordinate descent",
        code='''
def lasso_fit(X, y, alpha, max_iter=1000, tol=1e-4):
    model = Lasso(alpha=alpha, max_iter=max_iter, tol=tol).fit(X, y)
    return model.coef_, float(model.intercept_)
''',
    ),
]

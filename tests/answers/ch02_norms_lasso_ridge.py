"""Correct rewrites and unseen mistakes of chapter 2."""

REWRITES = [
    ("lp_norm", '''
def lp_norm(x, p):
    if p < 1:
        raise ValueError("p must be >= 1")
    return float(np.linalg.norm(np.asarray(x, dtype=float), ord=p))
'''),
    ("lp_norm", '''
def lp_norm(x, p):
    if not (p >= 1):
        raise ValueError(p)
    a = np.abs(np.array(x, dtype=np.float64))
    if np.isinf(p):
        return a.max()
    scale = a.max()
    if scale == 0:
        return 0.0
    return scale * ((a / scale) ** p).sum() ** (1 / p)
'''),
    ("matrix_norm", '''
def matrix_norm(A, ord):
    A = np.array(A, dtype=float)
    if isinstance(ord, str) and ord == "fro":
        return float(np.sqrt((A * A).sum()))
    if isinstance(ord, str) or ord not in (1, 2, np.inf):
        raise ValueError(ord)
    if ord == 2:
        return float(np.sqrt(np.linalg.eigvalsh(A.T @ A).max()))
    axis = 0 if ord == 1 else 1
    return float(np.max(np.sum(np.abs(A), axis=axis)))
'''),
    ("soft_threshold", '''
def soft_threshold(z, t):
    z = np.asarray(z, dtype=float)
    out = np.where(z > t, z - t, np.where(z < -t, z + t, 0.0))
    return out if out.ndim else float(out)
'''),
    ("ridge_fit", '''
def ridge_fit(X, y, alpha):
    X = np.array(X, dtype=np.float64)
    y = np.array(y, dtype=np.float64)
    mx, my = X.mean(0), y.mean()
    Xc = X - mx
    w = np.linalg.inv(Xc.T @ Xc + alpha * np.identity(X.shape[1])) @ (Xc.T @ (y - my))
    return w, my - mx @ w
'''),
    ("ridge_fit", '''
def ridge_fit(X, y, alpha):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    # augmented least squares: [Xc; sqrt(alpha) I] w ~ [yc; 0]
    A = np.vstack([Xc, np.sqrt(alpha) * np.eye(X.shape[1])])
    b = np.concatenate([yc, np.zeros(X.shape[1])])
    w = np.linalg.lstsq(A, b, rcond=None)[0]
    return w, float(y.mean() - X.mean(axis=0) @ w)
'''),
    ("lasso_fit", '''
def lasso_fit(X, y, alpha, max_iter=1000, tol=1e-4):
    X = np.array(X, dtype=np.float64)
    y = np.array(y, dtype=np.float64)
    n, p = X.shape
    mx, my = X.mean(axis=0), y.mean()
    cols = (X - mx).T.copy()              # row j: centred feature j
    norms = np.einsum("ij,ij->i", cols, cols) / n
    w = np.zeros(p)
    resid = y - my
    it = 0
    while it < max_iter:
        it += 1
        biggest = 0.0
        for j in range(p):
            if norms[j] == 0:
                continue
            old = w[j]
            rho = cols[j] @ resid / n + norms[j] * old
            w[j] = soft_threshold(rho, alpha) / norms[j]
            resid += cols[j] * (old - w[j])
            biggest = max(biggest, abs(w[j] - old))
        top = np.max(np.abs(w))
        if top == 0 or biggest <= tol * top:
            break
    return w, float(my - mx @ w)
'''),
    # sort the grid first, then scan it from the largest penalty down (the first minimum met is the largest)
    ("choose_alpha", '''
def choose_alpha(alphas, val_errors):
    pairs = sorted(zip(np.asarray(alphas, dtype=float).tolist(), np.asarray(val_errors, dtype=float).tolist()))
    if len(pairs) < 3 or len(pairs) != len(alphas) or len(val_errors) != len(alphas):
        raise ValueError("alphas and val_errors: one error per penalty, at least 3")
    if pairs[0][0] <= 0 or len({a for a, _ in pairs}) != len(pairs) or not np.isfinite(pairs).all():
        raise ValueError("distinct positive alphas and finite errors")
    best_i = max(range(len(pairs)), key=lambda i: (-pairs[i][1], i))
    verdict = "extend_low" if best_i == 0 else "extend_high" if best_i == len(pairs) - 1 else "ok"
    return pairs[best_i][0], verdict
'''),
]

UNSEEN = [
    # p-th root taken with p = 2 whatever p (the square root of the sum of |x|**p)
    ("lp_norm", '''
def lp_norm(x, p):
    if p < 1:
        raise ValueError(p)
    a = np.abs(np.asarray(x, dtype=float))
    if p == np.inf:
        return float(a.max())
    return float(np.sqrt(np.sum(a**p)))
''', ()),
    # the max norm as the MIN absolute value
    ("lp_norm", '''
def lp_norm(x, p):
    if p < 1:
        raise ValueError(p)
    a = np.abs(np.asarray(x, dtype=float))
    if p == np.inf:
        return float(a.min())
    return float(np.sum(a**p) ** (1 / p))
''', ()),
    # spectral norm as the SMALLEST singular value
    ("matrix_norm", '''
def matrix_norm(A, ord):
    A = np.asarray(A, dtype=float)
    if ord == "fro":
        return float(np.sqrt(np.sum(A**2)))
    if ord == 1:
        return float(np.abs(A).sum(axis=0).max())
    if ord == np.inf:
        return float(np.abs(A).sum(axis=1).max())
    if ord == 2:
        return float(np.linalg.svd(A, compute_uv=False)[-1])
    raise ValueError(ord)
''', ()),
    # soft threshold that clips at t instead of shrinking (clamp to [-t, t])
    ("soft_threshold", '''
def soft_threshold(z, t):
    return np.clip(z, -t, t)
''', ()),
    # ridge with the penalty on the diagonal of X^T X scaled (alpha * diag(Xc^T Xc)) instead of alpha * I
    ("ridge_fit", '''
def ridge_fit(X, y, alpha):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    G = Xc.T @ Xc
    w = np.linalg.solve(G + alpha * np.diag(np.diag(G)), Xc.T @ yc)
    return w, float(y.mean() - X.mean(axis=0) @ w)
''', ()),
    # a gradient step on the smooth part plus soft threshold (ISTA with a tiny step): never reaches the optimum
    ("lasso_fit", '''
def lasso_fit(X, y, alpha, max_iter=1000, tol=1e-4):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = X.shape
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    w = np.zeros(p)
    step = 0.01
    for _ in range(max_iter):
        grad = -Xc.T @ (yc - Xc @ w) / n
        z = w - step * grad
        w = np.sign(z) * np.maximum(np.abs(z) - step * alpha, 0.0)
    return w, float(y.mean() - X.mean(axis=0) @ w)
''', ()),
    # random coordinate order: converged fits agree, the fixed-sweep cases do not
    ("lasso_fit", '''
def lasso_fit(X, y, alpha, max_iter=1000, tol=1e-4):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = X.shape
    X_mean, y_mean = X.mean(axis=0), y.mean()
    Xc = X - X_mean
    col_sq = (Xc**2).sum(axis=0) / n
    w = np.zeros(p)
    r = y - y_mean
    for _ in range(max_iter):
        largest_step = 0.0
        for j in reversed(range(p)):
            if col_sq[j] == 0.0:
                continue
            rho = Xc[:, j] @ r / n + col_sq[j] * w[j]
            new = np.sign(rho) * max(abs(rho) - alpha, 0.0) / col_sq[j]
            r -= Xc[:, j] * (new - w[j])
            largest_step = max(largest_step, abs(new - w[j]))
            w[j] = new
        largest_w = np.abs(w).max()
        if largest_w == 0.0 or largest_step <= tol * largest_w:
            break
    return w, float(y_mean - X_mean @ w)
''', ()),
    # float32 data kept in float32 (np.asarray without dtype=float): float32 precision, ~1e-6 relative
    ("lasso_fit", '''
def lasso_fit(X, y, alpha, max_iter=1000, tol=1e-4):
    X = np.asarray(X)
    y = np.asarray(y)
    n, p = X.shape
    X_mean, y_mean = X.mean(axis=0), y.mean()
    Xc = X - X_mean
    col_sq = (Xc**2).sum(axis=0) / n
    w = np.zeros(p)
    r = y - y_mean
    for _ in range(max_iter):
        largest_step = 0.0
        for j in range(p):
            if col_sq[j] == 0.0:
                continue
            rho = Xc[:, j] @ r / n + col_sq[j] * w[j]
            new = np.sign(rho) * max(abs(rho) - alpha, 0.0) / col_sq[j]
            r -= Xc[:, j] * (new - w[j])
            largest_step = max(largest_step, abs(new - w[j]))
            w[j] = new
        largest_w = np.abs(w).max()
        if largest_w == 0.0 or largest_step <= tol * largest_w:
            break
    return w, float(y_mean - X_mean @ w)
''', ()),
    # the penalty with the LARGEST validation error
    ("choose_alpha", '''
def choose_alpha(alphas, val_errors):
    alphas, val_errors = np.asarray(alphas, dtype=float), np.asarray(val_errors, dtype=float)
    if alphas.shape != val_errors.shape or len(alphas) < 3:
        raise ValueError("bad grid")
    best = float(alphas[val_errors == val_errors.max()].max())
    return best, "extend_low" if best == alphas.min() else "extend_high" if best == alphas.max() else "ok"
''', ()),
]

# Common mistakes written from scratch (see tests/answers/ch01_normalization.py): (answer, code, the catalogued
# mistake it must be diagnosed as or None, what the student did).
COMMON = [
    ("lp_norm", '''
def lp_norm(x, p):
    x = np.asarray(x, dtype=float)
    if p < 1:
        raise ValueError("p >= 1 required")
    if np.isinf(p):
        return float(np.max(x))
    return float(np.sum(np.abs(x) ** p) ** (1 / p))
''', "lp_inf_norm_no_abs", "max norm as max(x)"),
    ("lp_norm", '''
def lp_norm(x, p):
    x = np.array(x, dtype=float)
    if not p >= 1:
        raise ValueError(p)
    if p == np.inf:
        return float(abs(x).max())
    total = 0.0
    for value in x:
        total += value ** p
    return float(total ** (1.0 / p))
''', "lp_odd_p_no_abs", "sums x**p without absolute values, in a loop"),
    ("matrix_norm", '''
def matrix_norm(A, ord):
    A = np.array(A, dtype=float)
    if ord == 1:
        return float(np.max(np.sum(np.abs(A), axis=0)))
    if ord == np.inf:
        return float(np.max(np.sum(np.abs(A), axis=1)))
    if ord == 2 or ord == "fro":
        return float(np.sqrt((A ** 2).sum()))
    raise ValueError(ord)
''', "matrix_2_as_frobenius", "ord=2 as the Frobenius norm"),
    ("matrix_norm", '''
def matrix_norm(A, ord):
    A = np.asarray(A, dtype=float)
    if ord == "fro":
        return float(np.linalg.norm(A.ravel()))
    if ord == 2:
        return float(np.linalg.svd(A, compute_uv=False).max())
    if ord == 1:
        return float(np.abs(A).sum(axis=1).max())
    if ord == np.inf:
        return float(np.abs(A).sum(axis=0).max())
    raise ValueError("ord must be 1, 2, inf or 'fro'")
''', "matrix_1_and_inf_swapped", "ord=1 and ord=inf swapped"),
    ("soft_threshold", '''
def soft_threshold(z, t):
    out = np.maximum(np.abs(z) - t, 0)
    return float(out) if np.isscalar(z) else out
''', "soft_threshold_sign_lost", "forgets the sign"),
    ("ridge_fit", '''
def ridge_fit(X, y, alpha):
    X = np.array(X, dtype=float)
    y = np.array(y, dtype=float)
    n, d = X.shape
    xm, ym = X.mean(axis=0), y.mean()
    Xc, yc = X - xm, y - ym
    A = Xc.T @ Xc / n + alpha * np.eye(d)
    w = np.linalg.solve(A, Xc.T @ yc / n)
    return w, float(ym - xm @ w)
''', "ridge_loss_divided_by_n", "X^T X / n + alpha I: the squared error divided by n"),
    ("ridge_fit", '''
def ridge_fit(X, y, alpha):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    Xb = np.hstack([np.ones((X.shape[0], 1)), X])
    I = np.eye(Xb.shape[1])
    beta = np.linalg.inv(Xb.T @ Xb + alpha * I) @ Xb.T @ y
    return beta[1:], float(beta[0])
''', "ridge_intercept_penalized", "a column of ones, penalized with the weights"),
    ("lasso_fit", '''
def lasso_fit(X, y, alpha, max_iter=1000, tol=1e-4):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, d = X.shape
    mx, my = X.mean(axis=0), y.mean()
    X, y = X - mx, y - my
    w = np.zeros(d)
    for it in range(max_iter):
        w_old = w.copy()
        for j in range(d):
            r_j = y - X @ w + X[:, j] * w[j]
            rho = X[:, j] @ r_j / n
            w[j] = soft_threshold(rho, alpha)
        if np.max(np.abs(w - w_old)) <= tol * max(np.max(np.abs(w)), 1e-300):
            break
    return w, float(my - mx @ w)
''', "lasso_no_division_by_column_norm", "w_j = S(rho_j, alpha) without dividing by x_j . x_j / n, calling "
                                         "soft_threshold"),
    ("choose_alpha", '''
def choose_alpha(alphas, val_errors):
    alphas, val_errors = np.asarray(alphas, dtype=float), np.asarray(val_errors, dtype=float)
    if alphas.shape != val_errors.shape or len(alphas) < 3:
        raise ValueError("need matching grids of at least 3")
    alpha = float(alphas[val_errors == val_errors.min()].max())
    return alpha, "ok"
''', "alpha_edge_accepted", "the best penalty of the grid taken as tuned, edge or not"),
]

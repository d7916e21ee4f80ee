"""Known mistakes of chapter 2: absolute values and roots in norms, spectral vs Frobenius, soft-threshold signs,
Ridge and Lasso scalings (1/n, 1/2, the threshold), centring and the intercept, the residual update, float32, wrappers
around scikit-learn; choosing alpha on a grid (the edge accepted as tuned, the edge read by position, ties)."""

from checks.mistakes import Mistake

VECTOR = ("Vector norms: the size of a vector", "vector-norms-the-size-of-a-vector")
MATRIX = ("Matrix norms", "matrix-norms")
ONE_FEATURE = ("One feature: why the Lasso's slope is exactly zero",
               "one-feature-why-the-lasso-s-slope-is-exactly-zero")
CONVERGENCE = ("Convergence: Lasso is iterative, Ridge is not", "convergence-lasso-is-iterative-ridge-is-not")
CHOOSING = ("Choosing alpha: trading variance for bias", "choosing-alpha-trading-variance-for-bias")

SVD_LINE = "return float(np.linalg.svd(A, compute_uv=False)[0])"
SOFT_LINE = "shrunk = np.sign(z) * np.maximum(np.abs(z) - t, 0.0)"
FLOAT_INPUTS = ("X = np.asarray(X, dtype=float)\n    y = np.asarray(y, dtype=float)",
                "X = np.asarray(X)\n    y = np.asarray(y)")
THRESHOLD = "max(abs(rho) - alpha, 0.0)"

MISTAKES = [
    # --- lp_norm -------------------------------------------------------------------------------
    Mistake(
        id="lp_inf_norm_no_abs", target="lp_norm", section=VECTOR, match=r"ABSOLUTE value.*max\(x\)",
        explanation="your max norm is max(x), without the absolute value (as several tutorials write it); the max "
                    "norm is max |x_i|, so ||[-7, 3, -1]||_inf = 7, not 3",
        change=(("return float(abs_x.max())", "return float(np.asarray(x, dtype=float).max())"),),
    ),
    Mistake(
        id="lp_odd_p_no_abs", target="lp_norm", section=VECTOR, match=r"odd p",
        explanation="your outputs equal (sum x_i**p)**(1/p) without absolute values: right for even p only; for odd "
                    "or fractional p the negative entries subtract (or give NaN): sum |x_i|**p",
        change=(("return float(np.sum(abs_x**p) ** (1.0 / p))",
                 "return float(np.sum(np.asarray(x, dtype=float)**p) ** (1.0 / p))"),),
    ),
    Mistake(
        id="lp_no_root", target="lp_norm", section=VECTOR, match=r"p-th root",
        explanation="your outputs equal sum |x_i|**p: the p-th root (power 1/p) of the sum is missing",
        change=(("np.sum(abs_x**p) ** (1.0 / p)", "np.sum(abs_x**p)"),),
    ),
    Mistake(
        id="lp_inf_through_formula", target="lp_norm", section=VECTOR, match=r"p = np.inf separately",
        explanation="for p = np.inf your function evaluates the power formula, which gives inf**0 = 1; the max norm "
                    "max |x_i| is the limit of the formula and must be computed separately",
        change=(("    if p == np.inf:\n        return float(abs_x.max())\n", ""),),
    ),
    Mistake(
        id="lp_accepts_p_below_1", target="lp_norm", section=VECTOR, match=r"must raise ValueError",
        explanation="p < 1 was accepted: below 1 the formula breaks the triangle inequality and is not a norm; "
                    "raise ValueError",
        change=(('    if not p >= 1:\n        raise ValueError(f"p must be >= 1, got {p}")\n', ""),),
    ),
    # --- matrix_norm -----------------------------------------------------------------------------
    Mistake(
        id="matrix_2_as_frobenius", target="matrix_norm", section=MATRIX, match=r"SPECTRAL norm",
        explanation="your ord=2 is the Frobenius norm (the L2 norm of the flattened matrix); for matrices ord=2 is "
                    "the spectral norm, the largest singular value, as in np.linalg.norm(A, 2)",
        change=((SVD_LINE, "return float(np.sqrt(np.sum(A**2)))"),),
    ),
    Mistake(
        id="matrix_2_as_largest_eigenvalue", target="matrix_norm", section=MATRIX, match=r"singular value",
        explanation="your ord=2 is the largest absolute eigenvalue (the spectral radius); the spectral norm is the "
                    "largest SINGULAR value, and only equals it for symmetric matrices",
        change=((SVD_LINE, "return float(np.abs(np.linalg.eigvals(A)).max())"),),
    ),
    Mistake(
        id="matrix_2_no_sqrt", target="matrix_norm", section=MATRIX, match=r"SQUARE of the spectral norm",
        explanation="your ord=2 is the largest eigenvalue of A^T A, which is the spectral norm SQUARED: take its "
                    "square root (the largest singular value)",
        change=((SVD_LINE, "return float(np.linalg.eigvalsh(A.T @ A).max())"),),
    ),
    Mistake(
        id="matrix_1_and_inf_swapped", target="matrix_norm", section=MATRIX, match=r"COLUMN sum",
        explanation="your ord=1 is the largest row sum and your ord=inf the largest column sum: ord=1 sums each "
                    "COLUMN (the induced 1-norm is attained at a basis vector), ord=inf each row",
        change=(("np.abs(A).sum(axis=0).max()", "np.abs(A).sum(axis=-1).max()"),
                ("np.abs(A).sum(axis=1).max()", "np.abs(A).sum(axis=0).max()")),
    ),
    Mistake(
        id="matrix_sums_without_abs", target="matrix_norm", section=MATRIX, match=r"ABSOLUTE values",
        explanation="your ord=1 and ord=inf sum the signed entries; both sum ABSOLUTE values |a_ij|",
        change=(("np.abs(A).sum(axis=0)", "A.sum(axis=0)"), ("np.abs(A).sum(axis=1)", "A.sum(axis=1)")),
    ),
    Mistake(
        id="matrix_unknown_ord_frobenius", target="matrix_norm", section=MATRIX, match=r"must raise ValueError",
        explanation='an ord the exercise does not ask for (ord="nuc") returned the Frobenius norm instead of raising '
                    "ValueError: a silent fallback hides typos such as ord=\"inf\"",
        change=(("raise ValueError(f\"ord must be 1, 2, np.inf or 'fro', got {ord!r}\")",
                 "return float(np.sqrt(np.sum(A**2)))"),),
    ),
    # --- soft_threshold --------------------------------------------------------------------------
    Mistake(
        id="soft_threshold_sign_lost", target="soft_threshold", section=ONE_FEATURE, match=r"SIGN",
        explanation="your outputs equal max(|z| - t, 0): negative inputs come back positive; multiply by sign(z)",
        change=((SOFT_LINE, "shrunk = np.maximum(np.abs(z) - t, 0.0)"),),
    ),
    Mistake(
        id="soft_threshold_sign_flipped", target="soft_threshold", section=ONE_FEATURE, match=r"SHRINK",
        explanation="your outputs equal z + t sign(z) beyond the threshold: they move away from zero; soft "
                    "thresholding moves z TOWARDS 0 by t",
        change=((SOFT_LINE, "shrunk = np.where(np.abs(z) > t, z + t * np.sign(z), 0.0)"),),
    ),
    Mistake(
        id="soft_threshold_no_clip", target="soft_threshold", section=ONE_FEATURE, match=r"exactly 0",
        explanation="your outputs equal z - t sign(z) without clipping: small values cross zero instead of becoming "
                    "exactly 0, which is where the Lasso's exact zeros come from",
        change=((SOFT_LINE, "shrunk = z - t * np.sign(z)"),),
    ),
    Mistake(
        id="hard_threshold", target="soft_threshold", section=ONE_FEATURE, match=r"hard thresholding",
        explanation="your outputs are hard thresholding: small values become 0 but the survivors are not shrunk; "
                    "soft thresholding also moves them towards 0 by t",
        change=((SOFT_LINE, "shrunk = np.where(np.abs(z) > t, z, 0.0)"),),
    ),
    # --- ridge_fit -------------------------------------------------------------------------------
    Mistake(
        id="ridge_intercept_penalized", target="ridge_fit", section=ONE_FEATURE, match=r"intercept is NOT penalized",
        explanation="your fit appends a column of ones to X and penalizes the intercept with the weights; Ridge "
                    "leaves the intercept free: centre X and y, then b = mean(y) - mean(X) @ w",
        code='''
def ridge_fit(X, y, alpha):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    A = np.column_stack([np.ones(len(X)), X])
    w = np.linalg.solve(A.T @ A + alpha * np.eye(A.shape[1]), A.T @ y)
    return w[1:], float(w[0])
''',
    ),
    Mistake(
        id="ridge_not_centred", target="ridge_fit", section=ONE_FEATURE, match=r"CENTRE X and y",
        explanation="your fit solves (X^T X + alpha I) w = X^T y on the raw data; scikit-learn centres X and y first, "
                    "so that the penalty does not pull the intercept's share of the fit into the weights",
        change=(("Xc, yc = X - X_mean, y - y_mean", "Xc, yc = X, y"),),
    ),
    Mistake(
        id="ridge_alpha_divided_by_n", target="ridge_fit", section=ONE_FEATURE, match=r"NO 1/n",
        explanation="your outputs equal Ridge with alpha / n_samples, as if Ridge had the Lasso's 1/n in front of the "
                    "loss; scikit-learn's Ridge minimizes ||y - Xw - b||^2 + alpha ||w||^2",
        change=(("alpha * np.eye(X.shape[1])", "alpha / X.shape[0] * np.eye(X.shape[1])"),),
    ),
    Mistake(
        id="ridge_loss_divided_by_n", target="ridge_fit", section=ONE_FEATURE, match=r"alpha \* n_samples",
        explanation="your outputs equal Ridge with alpha * n_samples: you solve (Xc^T Xc / n + alpha I) w = Xc^T yc / "
                    "n, i.e. you divide the squared error by n (as the Lasso's objective does) but not the penalty; "
                    "scikit-learn's Ridge minimizes ||y - Xw - b||^2 + alpha ||w||^2, with no 1/n anywhere",
        change=(("alpha * np.eye(X.shape[1])", "alpha * X.shape[0] * np.eye(X.shape[1])"),),
    ),
    Mistake(
        id="ridge_centres_in_place", target="ridge_fit", section=ONE_FEATURE, match=r"in place",
        explanation="your function centres the caller's X in place (np.asarray does not copy a float64 array): work "
                    "on a centred copy, Xc = X - X.mean(axis=0)",
        change=(("Xc, yc = X - X_mean, y - y_mean", "X -= X_mean\n    Xc, yc = X, y - y_mean"),),
    ),
    Mistake(
        id="ridge_calls_sklearn", target="ridge_fit", section=ONE_FEATURE, match=r"scikit-learn's Ridge",
        explanation="your outputs equal scikit-learn's Ridge(alpha).fit(X, y), which keeps float32 data in float32; "
                    "the exercise asks you to solve the centred normal equations yourself, in float64",
        code='''
def ridge_fit(X, y, alpha):
    model = Ridge(alpha=alpha).fit(X, y)
    return model.coef_, float(model.intercept_)
''',
    ),
    Mistake(
        id="ridge_intercept_is_mean_y", target="ridge_fit", section=ONE_FEATURE, match=r"mean\(y\) - mean\(X\) @ coef",
        explanation="your intercept is mean(y); with uncentred features it is mean(y) - mean(X) @ coef (the line "
                    "passes through the point of means)",
        change=(("return coef, float(y_mean - X_mean @ coef)", "return coef, float(y_mean)"),),
    ),
    Mistake(
        id="ridge_keeps_float32", target="ridge_fit", section=ONE_FEATURE, match=r"float32",
        explanation="your fit keeps float32 data in float32 (np.asarray without dtype=float), so the result has "
                    "float32 precision (about 1e-7 relative); convert X and y with np.asarray(X, dtype=float)",
        change=(FLOAT_INPUTS,),
    ),
    # --- lasso_fit -------------------------------------------------------------------------------
    Mistake(
        id="lasso_residual_not_updated", target="lasso_fit", section=CONVERGENCE, match=r"RESIDUAL",
        explanation="your sweep computes every rho_j from the residual at the start of the sweep (all coordinates "
                    "at once, Jacobi style); cyclic coordinate descent updates the residual after every coordinate, "
                    "which is what makes it converge on correlated features",
        change=(("            r -= Xc[:, j] * (new - w[j])\n", ""),
                ("        largest_step = 0.0\n", "        largest_step = 0.0\n        r = y - y_mean - Xc @ w\n")),
    ),
    Mistake(
        id="lasso_rho_with_full_residual", target="lasso_fit", section=CONVERGENCE, match=r"WITHOUT feature j",
        explanation="your rho_j = x_j . r / n uses the full residual; coordinate j must see the residual WITHOUT its "
                    "own contribution, x_j . r / n + (x_j . x_j / n) w_j",
        change=(("rho = Xc[:, j] @ r / n + col_sq[j] * w[j]", "rho = Xc[:, j] @ r / n"),),
    ),
    Mistake(
        id="lasso_no_division_by_column_norm", target="lasso_fit", section=ONE_FEATURE,
        match=r"division by x_j \. x_j / n there",
        explanation="your update is w_j = S(rho_j, alpha) without dividing by x_j . x_j / n: right only for "
                    "standardized features (x_j . x_j / n = 1)",
        change=((f"{THRESHOLD} / col_sq[j]", THRESHOLD),),
    ),
    Mistake(
        id="lasso_threshold_without_1_over_n", target="lasso_fit", section=ONE_FEATURE, match=r"1/\(2n\)",
        explanation="your outputs equal the Lasso with alpha / n: you threshold x_j . r_(j) (no 1/n) at alpha, i.e. "
                    "you minimize the loss without scikit-learn's 1/(2n) factor",
        change=(("col_sq = (Xc**2).sum(axis=0) / n", "col_sq = (Xc**2).sum(axis=0)"),
                ("rho = Xc[:, j] @ r / n + col_sq[j] * w[j]", "rho = Xc[:, j] @ r + col_sq[j] * w[j]")),
    ),
    Mistake(
        id="lasso_threshold_2alpha", target="lasso_fit", section=ONE_FEATURE, match=r"2 \* alpha.*instead of alpha",
        explanation="your outputs equal the Lasso with 2 * alpha: you soft-threshold at 2 alpha. The derivative of "
                    "(1/(2n)) ||r||^2 brings a 2 that cancels the 1/2, so w_j = S(x_j . r_(j) / n, alpha) / "
                    "(x_j . x_j / n): the threshold is alpha itself (a factor 1/2 or n too many doubles it)",
        change=((THRESHOLD, "max(abs(rho) - 2 * alpha, 0.0)"),),
    ),
    Mistake(
        id="lasso_threshold_half_alpha", target="lasso_fit", section=ONE_FEATURE, match=r"alpha / 2.*instead of alpha",
        explanation="your outputs equal the Lasso with alpha / 2: you minimize (1/n) ||y - Xw - b||^2 + alpha ||w||_1 "
                    "(the 1/2 of scikit-learn's 1/(2n) is missing), so your threshold is alpha / 2",
        change=((THRESHOLD, "max(abs(rho) - alpha / 2, 0.0)"),),
    ),
    Mistake(
        id="lasso_intercept_penalized", target="lasso_fit", section=ONE_FEATURE, match=r"intercept is NOT penalized",
        explanation="your coordinate descent runs on X with a column of ones, so the intercept is shrunk by the L1 "
                    "penalty like a weight; centre X and y instead and set b = mean(y) - mean(X) @ w",
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
            rho = A[:, j] @ r / n + col_sq[j] * w[j]
            new = np.sign(rho) * max(abs(rho) - alpha, 0.0) / col_sq[j]
            r -= A[:, j] * (new - w[j])
            step, w[j] = max(step, abs(new - w[j])), new
        if np.abs(w).max() == 0 or step <= tol * np.abs(w).max():
            break
    return w[1:], float(w[0])
''',
    ),
    Mistake(
        id="lasso_not_centred", target="lasso_fit", section=ONE_FEATURE, match=r"CENTRE X and y",
        explanation="your coordinate descent runs on the raw X (only y centred), then sets b = mean(y) - mean(X) @ w: "
                    "with features far from 0 the penalty then also fights the intercept; centre X first",
        change=(("Xc = X - X_mean", "Xc = X"),),
    ),
    Mistake(
        id="lasso_intercept_is_mean_y", target="lasso_fit", section=ONE_FEATURE, match=r"mean\(y\) - mean\(X\) @ coef",
        explanation="your intercept is mean(y); with uncentred features it is mean(y) - mean(X) @ coef",
        change=(("return w, float(y_mean - X_mean @ w)", "return w, float(y_mean)"),),
    ),
    Mistake(
        id="lasso_constant_feature_nan", target="lasso_fit", section=ONE_FEATURE, match=r"constant feature",
        explanation="your update divides by x_j . x_j / n even when a constant feature makes it 0, and the NaN "
                    "spreads through the residual; skip such a feature (its coefficient stays 0)",
        change=(("            if col_sq[j] == 0.0:\n                continue\n", ""),),
    ),
    Mistake(
        id="lasso_centres_in_place", target="lasso_fit", section=ONE_FEATURE, match=r"in place",
        explanation="your function centres the caller's X in place (np.asarray does not copy a float64 array): work "
                    "on a centred copy, Xc = X - X.mean(axis=0)",
        change=(("Xc = X - X_mean", "X -= X_mean\n    Xc = X"),),
    ),
    Mistake(
        id="lasso_extra_sweep", target="lasso_fit", section=CONVERGENCE, match=r"max_iter counts whole sweeps",
        explanation="your loop runs max_iter + 1 sweeps: converged fits hide it, but max_iter=1 must stop after "
                    "exactly one sweep over the features",
        change=(("for _ in range(max_iter):", "for _ in range(max_iter + 1):"),),
    ),
    Mistake(
        id="lasso_calls_sklearn", target="lasso_fit", section=CONVERGENCE, match=r"scikit-learn's Lasso",
        explanation="your outputs equal scikit-learn's Lasso(alpha, max_iter=max_iter, tol=tol).fit(X, y), which "
                    "keeps float32 data in float32 (and stops on its duality gap); the exercise asks for your own "
                    "coordinate descent, in float64",
        code='''
def lasso_fit(X, y, alpha, max_iter=1000, tol=1e-4):
    model = Lasso(alpha=alpha, max_iter=max_iter, tol=tol).fit(X, y)
    return model.coef_, float(model.intercept_)
''',
    ),
    Mistake(
        id="alpha_edge_accepted", target="choose_alpha", section=CHOOSING, match=r"edge of the grid",
        explanation="your verdict is \"ok\" even when the best penalty is the smallest or the largest of the grid: "
                    "there the error may still fall beyond the grid, so the penalty is not tuned yet; extend the grid",
        change=(('    if best == alphas.min():\n        verdict = "extend_low"\n    elif best == alphas.max():\n'
                 '        verdict = "extend_high"\n    else:\n        verdict = "ok"\n', '    verdict = "ok"\n'),),
    ),
    Mistake(
        id="alpha_edge_by_position", target="choose_alpha", section=CHOOSING, match=r"POSITION",
        explanation="your verdict takes the first penalty of the list as the smallest and the last as the largest: "
                    "grids may run from large to small (scikit-learn's paths do) or in any order; compare values",
        change=(("if best == alphas.min():", "if best == alphas[0]:"), ("elif best == alphas.max():",
                                                                         "elif best == alphas[-1]:")),
    ),
    Mistake(
        id="alpha_tie_first", target="choose_alpha", section=CHOOSING, match=r"tie",
        explanation="on a tie your answer is the first minimum in the given order (np.argmin), not the largest of the "
                    "tied penalties: equally good validation errors go to the larger penalty, the simpler model",
        change=(("best = alphas[val_errors == val_errors.min()].max()", "best = alphas[np.argmin(val_errors)]"),),
    ),
]

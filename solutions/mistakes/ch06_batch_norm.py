"""Known mistakes of chapter 6: variance conventions, eps, axis, momentum, evaluation mode, in-place and aliased
running statistics, one-sample batches, the cache, the three paths of the backward pass, module registration; the
judgment part's sweep (NaN counted as trained, the threshold inclusive, the first failure, the order given)."""

from checks.mistakes import Mistake

ALGORITHM = ("The algorithm", "the-algorithm")
EPSILON = ("What epsilon does", "what-epsilon-does")
MODES = ("Training mode and evaluation mode", "training-mode-and-evaluation-mode")
LAYER_NORM = ("Layer normalization: statistics per example", "layer-normalization-statistics-per-example")

MEAN_UPDATE = "(1 - momentum) * running_mean + momentum * mean.detach()"
VAR_UPDATE = "(1 - momentum) * running_var + momentum * var.detach() * n / (n - 1)"
EVAL_COPIES = "new_running_mean, new_running_var = running_mean.clone(), running_var.clone()"
RAISE = 'raise ValueError(f"Expected more than 1 value per channel when training, got {n} sample(s)")\n'
SINGLE_CHECK = "        if n < 2:\n            " + RAISE
CACHE_DICT = 'cache = {"xhat": xhat.detach(), "gamma": gamma.detach(), "inv_std": inv_std.detach()}'

FORWARD = [
    Mistake(
        id="forward_unbiased_variance", target="batchnorm_forward", section=ALGORITHM, match=r"BIASED batch variance",
        explanation="your outputs equal batch norm with the UNBIASED batch variance (divide by N - 1, torch.var's "
                    "default); batch norm normalizes with the biased variance (divide by N, correction=0)",
        change=(("x.var(dim=0, correction=0)", "x.var(dim=0)"), ("var.detach() * n / (n - 1)", "var.detach()")),
    ),
    Mistake(
        id="forward_eps_outside_sqrt", target="batchnorm_forward", section=EPSILON, match=r"eps goes INSIDE",
        explanation="your outputs equal (x - mean) / (sqrt(var) + eps): eps belongs inside the square root, "
                    "(x - mean) / sqrt(var + eps)",
        change=(("inv_std = 1.0 / torch.sqrt(var + eps)", "inv_std = 1.0 / (torch.sqrt(var) + eps)"),),
    ),
    Mistake(
        id="forward_wrong_axis", target="batchnorm_forward", section=LAYER_NORM, match=r"over the batch \(dim=0\)",
        explanation="your outputs equal statistics of each sample over its features (dim=1): that is layer norm; "
                    "batch norm takes the statistics of each feature over the batch (dim=0)",
        change=(("x.mean(dim=0)", "x.mean(dim=1, keepdim=True)"),
                ("x.var(dim=0, correction=0)", "x.var(dim=1, correction=0, keepdim=True)"),
                ("momentum * mean.detach()", "momentum * mean.detach().mean()"),
                ("var.detach() * n / (n - 1)", "var.detach().mean() * n / (n - 1)")),
    ),
    Mistake(
        id="forward_no_scale_shift", target="batchnorm_forward", section=ALGORITHM, match=r"gamma \* xhat \+ beta",
        explanation="your output is xhat, without the learned scale and shift: out = gamma * xhat + beta",
        change=(("out = gamma * xhat + beta", "out = xhat"),),
    ),
    Mistake(
        id="forward_momentum_reversed", target="batchnorm_forward", section=MODES, match=r"reversed momentum",
        explanation="your running statistics follow momentum * old + (1 - momentum) * batch (the Keras / CS231n "
                    "convention); torch's momentum weighs the NEW batch: (1 - momentum) * old + momentum * batch",
        change=((MEAN_UPDATE, "momentum * running_mean + (1 - momentum) * mean.detach()"),
                (VAR_UPDATE, "momentum * running_var + (1 - momentum) * var.detach() * n / (n - 1)")),
    ),
    Mistake(
        id="forward_running_stats_not_updated", target="batchnorm_forward", section=MODES,
        match=r"running statistics not updated",
        explanation="your training pass returns the running statistics unchanged; in training they move towards the "
                    "batch statistics with weight momentum",
        change=((MEAN_UPDATE, "running_mean.clone()"), (VAR_UPDATE, "running_var.clone()")),
    ),
    Mistake(
        id="forward_running_var_biased", target="batchnorm_forward", section=MODES, match=r"UNBIASED batch variance",
        explanation="your running_var is updated with the biased batch variance; torch normalizes with the biased one "
                    "but feeds the UNBIASED one (N / (N - 1) times larger) into running_var",
        change=(("var.detach() * n / (n - 1)", "var.detach()"),),
    ),
    Mistake(
        id="forward_batch_stats_at_eval", target="batchnorm_forward", section=MODES,
        match=r"training=False normalize with running_mean and running_var",
        explanation="your evaluation pass normalizes with the statistics of the batch; with training=False batch "
                    "norm uses running_mean and running_var, so that a sample's output does not depend on its batch",
        change=(("inv_std = 1.0 / torch.sqrt(running_var + eps)\n        xhat = (x - running_mean) * inv_std",
                 "inv_std = 1.0 / torch.sqrt(x.var(dim=0, correction=0) + eps)\n"
                 "        xhat = (x - x.mean(dim=0)) * inv_std"),),
    ),
    Mistake(
        id="forward_updates_running_stats_at_eval", target="batchnorm_forward", section=MODES,
        match=r"evaluation must not update the running statistics",
        explanation="your evaluation pass normalizes with the running statistics but still moves them towards the "
                    "batch; with training=False they are returned unchanged",
        change=((EVAL_COPIES, "n = x.shape[0]\n"
                              "        new_running_mean = (1 - momentum) * running_mean + momentum * x.mean(dim=0)\n"
                              "        new_running_var = (1 - momentum) * running_var + momentum * x.var(dim=0)"),),
    ),
    Mistake(
        id="forward_updates_running_stats_in_place", target="batchnorm_forward", section=MODES,
        match=r"modified its input running_mean in place",
        explanation="your function updates the caller's running statistics in place (mul_ / add_, as the CS231n "
                    "bn_param dict does); return new tensors and leave the inputs alone",
        change=((MEAN_UPDATE, "running_mean.mul_(1 - momentum).add_(momentum * mean.detach())"),
                (VAR_UPDATE, "running_var.mul_(1 - momentum).add_(momentum * var.detach() * n / (n - 1))")),
    ),
    Mistake(
        id="forward_eval_returns_inputs", target="batchnorm_forward", section=MODES, match=r"must be a new tensor",
        explanation="with training=False you return running_mean and running_var themselves: the caller's later "
                    "in-place update of the returned statistics changes its inputs; return copies (clone())",
        change=(("running_mean.clone(), running_var.clone()", "running_mean, running_var"),),
    ),
    Mistake(
        id="forward_single_sample_accepted", target="batchnorm_forward", section=MODES, match=r"must raise ValueError",
        explanation="your training pass accepts a batch of one sample and returns NaN running variances (N - 1 = 0); "
                    "as torch does, raise ValueError for N < 2 in training",
        change=((SINGLE_CHECK, ""),),
    ),
    Mistake(
        id="forward_single_sample_refused_at_eval", target="batchnorm_forward", section=MODES,
        match=r"evaluation accepts a single sample",
        explanation="your function refuses a single sample in evaluation too; only training needs N >= 2 (the "
                    "running statistics make one sample fine at evaluation)",
        change=(("    if training:\n        n = x.shape[0]\n" + SINGLE_CHECK,
                 "    n = x.shape[0]\n    if n < 2:\n        " + RAISE + "    if training:\n"),),
    ),
    Mistake(
        id="forward_running_stats_keep_graph", target="batchnorm_forward", section=MODES,
        match=r"carries autograd history",
        explanation="your running statistics are computed from the batch statistics without .detach(), so they carry "
                    "an autograd graph back to x; running statistics are not trained: detach them",
        change=(("momentum * mean.detach()", "momentum * mean"), ("momentum * var.detach() * n", "momentum * var * n")),
    ),
    Mistake(
        id="forward_cache_std", target="batchnorm_forward", section=ALGORITHM, match=r"cache\['inv_std'\]",
        explanation="your cache holds the standard deviation sqrt(var + eps) under 'inv_std'; the cache holds its "
                    "inverse, 1 / sqrt(var + eps)",
        change=(('"inv_std": inv_std.detach()', '"inv_std": (1.0 / inv_std).detach()'),),
    ),
    Mistake(
        id="forward_cache_tuple", target="batchnorm_forward", section=ALGORITHM, match=r"cache must be the dict",
        explanation="your cache is the tuple (xhat, gamma, inv_std) (the CS231n habit); the exercise's cache is the "
                    "dict {'xhat': ..., 'gamma': ..., 'inv_std': ...}, the form the tests give batchnorm_backward",
        change=((CACHE_DICT, "cache = (xhat.detach(), gamma.detach(), inv_std.detach())"),),
    ),
]

DX = "dx = inv_std / n * (n * dxhat - dxhat.sum(dim=0) - xhat * (dxhat * xhat).sum(dim=0))"

BACKWARD = [
    Mistake(
        id="backward_no_mean_path", target="batchnorm_backward", section=ALGORITHM,
        match=r"path through the batch mean is missing",
        explanation="your dx follows xhat and the variance but not the batch mean: it does not sum to zero over the "
                    "batch; every x_i also moves the mean, which shifts every xhat_j",
        change=((DX, "dx = inv_std * (dxhat - xhat * (dxhat * xhat).mean(dim=0))"),),
    ),
    Mistake(
        id="backward_no_variance_path", target="batchnorm_backward", section=ALGORITHM,
        match=r"path through the batch variance is missing",
        explanation="your dx treats the batch variance as a constant (paths through xhat and the mean only); every "
                    "x_i also changes the variance, which rescales every xhat_j",
        change=((DX, "dx = inv_std * (dxhat - dxhat.mean(dim=0))"),),
    ),
    Mistake(
        id="backward_statistics_constant", target="batchnorm_backward", section=ALGORITHM,
        match=r"path through the batch mean is missing",
        explanation="your dx = grad_out * gamma / sqrt(var + eps) treats the batch mean and variance as constants: "
                    "that is the gradient of the evaluation pass; in training both depend on every x_i",
        change=((DX, "dx = dxhat * inv_std"),),
    ),
    Mistake(
        id="backward_variance_path_sign", target="batchnorm_backward", section=ALGORITHM,
        match=r"path through the batch variance is wrong",
        explanation="your dx adds the term of the variance path instead of subtracting it: a larger variance "
                    "shrinks every xhat_j, so d(xhat)/d(var) is negative",
        change=((DX, "dx = inv_std / n * (n * dxhat - dxhat.sum(dim=0) + xhat * (dxhat * xhat).sum(dim=0))"),),
    ),
    Mistake(
        id="backward_dgamma_with_x", target="batchnorm_backward", section=ALGORITHM, match=r"NORMALIZED input",
        explanation="your dgamma sums grad_out * (x - mean); gamma multiplies the NORMALIZED input, so "
                    "dgamma = sum of grad_out * xhat",
        change=(("dgamma = (grad_out * xhat).sum(dim=0)", "dgamma = (grad_out * xhat / inv_std).sum(dim=0)"),),
    ),
    Mistake(
        id="backward_dbeta_mean", target="batchnorm_backward", section=ALGORITHM, match=r"dbeta = sum over the batch",
        explanation="your dbeta averages grad_out over the batch; beta is added to every sample, so its gradient is "
                    "the SUM over the batch",
        change=(("dbeta = grad_out.sum(dim=0)", "dbeta = grad_out.mean(dim=0)"),),
    ),
    Mistake(
        id="backward_forgets_gamma", target="batchnorm_backward", section=ALGORITHM, match=r"dxhat = grad_out \* gamma",
        explanation="your dx backpropagates grad_out into xhat without the factor gamma: y = gamma * xhat + beta, so "
                    "dxhat = grad_out * gamma",
        change=(("dxhat = grad_out * gamma", "dxhat = grad_out"),),
    ),
    Mistake(
        id="backward_sums_over_features", target="batchnorm_backward", section=ALGORITHM, match=r"dim=0",
        explanation="your dgamma and dbeta sum over the features (dim=1), one value per sample; gamma and beta have "
                    "one entry per feature, so their gradients sum over the batch (dim=0)",
        change=(("dbeta = grad_out.sum(dim=0)", "dbeta = grad_out.sum(dim=1)"),
                ("dgamma = (grad_out * xhat).sum(dim=0)", "dgamma = (grad_out * xhat).sum(dim=1)")),
    ),
    Mistake(
        id="backward_cache_tuple", target="batchnorm_backward", section=ALGORITHM, match=r"the cache is the dict",
        explanation="your backward unpacks the cache as a tuple (xhat, gamma, inv_std = cache), which gives the "
                    "dict's KEYS; read cache['xhat'], cache['gamma'] and cache['inv_std']",
        change=(('xhat, gamma, inv_std = cache["xhat"], cache["gamma"], cache["inv_std"]',
                 "xhat, gamma, inv_std = cache"),),
    ),
]

NEW_MEAN = "(1 - self.momentum) * self.running_mean + self.momentum * mean"
NEW_VAR = "(1 - self.momentum) * self.running_var + self.momentum * var * n / (n - 1)"
BUFFER_UPDATE = (f"            with torch.no_grad():\n"
                 f"                self.running_mean.copy_({NEW_MEAN})\n"
                 f"                self.running_var.copy_({NEW_VAR})\n")
MODULE_SINGLE_CHECK = "            if n < 2:\n                " + RAISE

MODULE = [
    Mistake(
        id="module_plain_attribute_buffers", target="BatchNorm1d", section=MODES, match=r"register_buffer",
        explanation="your running statistics are plain tensor attributes: they are not buffers, so state_dict() "
                    "does not save them and .double() / .to() do not move them; use self.register_buffer",
        change=(('self.register_buffer("running_mean", torch.zeros(num_features))',
                 "self.running_mean = torch.zeros(num_features)"),
                ('self.register_buffer("running_var", torch.ones(num_features))',
                 "self.running_var = torch.ones(num_features)")),
    ),
    Mistake(
        id="module_plain_attributes_reassigned", target="BatchNorm1d", section=MODES, match=r"register_buffer",
        explanation="your running statistics are plain tensor attributes, replaced by new tensors at every training "
                    "call: they are not buffers, so state_dict() does not save them (and .double() / .to() do not "
                    "move them); register them with self.register_buffer and update them in place (copy_)",
        change=(('self.register_buffer("running_mean", torch.zeros(num_features))',
                 "self.running_mean = torch.zeros(num_features)"),
                ('self.register_buffer("running_var", torch.ones(num_features))',
                 "self.running_var = torch.ones(num_features)"),
                ("self.running_mean.copy_((1 - self.momentum) * self.running_mean + self.momentum * mean)",
                 "self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mean"),
                ("self.running_var.copy_((1 - self.momentum) * self.running_var + self.momentum * var * n / (n - 1))",
                 "self.running_var = (1 - self.momentum) * self.running_var + self.momentum * var * n / (n - 1)")),
    ),
    Mistake(
        id="module_plain_tensor_parameters", target="BatchNorm1d", section=MODES, match=r"torch\.nn\.Parameter",
        explanation="your weight and bias are plain tensors with requires_grad=True: the module does not register "
                    "them, so model.parameters() (and every optimizer) never sees them; wrap them in "
                    "torch.nn.Parameter",
        change=(("torch.nn.Parameter(torch.ones(num_features))", "torch.ones(num_features, requires_grad=True)"),
                ("torch.nn.Parameter(torch.zeros(num_features))", "torch.zeros(num_features, requires_grad=True)")),
    ),
    Mistake(
        id="module_zero_init_weight", target="BatchNorm1d", section=ALGORITHM, match=r"weight must start at",
        explanation="your weight (gamma) starts at zeros, like a bias, so every output starts at beta; gamma starts "
                    "at ones (the layer starts as a plain standardization)",
        change=(("self.weight = torch.nn.Parameter(torch.ones(num_features))",
                 "self.weight = torch.nn.Parameter(torch.zeros(num_features))"),),
    ),
    Mistake(
        id="module_ignores_eval", target="BatchNorm1d", section=MODES, match=r"check self\.training",
        explanation="your layer always uses the batch statistics, so .eval() changes nothing; in evaluation mode "
                    "(self.training is False) normalize with the running statistics",
        change=(("        if self.training:\n            n = x.shape[0]",
                 "        if True:\n            n = x.shape[0]"),),
    ),
    Mistake(
        id="module_unbiased_variance", target="BatchNorm1d", section=ALGORITHM, match=r"BIASED variance",
        explanation="your layer normalizes with the UNBIASED batch variance (torch.var's default); batch norm "
                    "normalizes with the biased one (correction=0) and keeps the unbiased one for running_var",
        change=(("x.var(dim=0, correction=0)", "x.var(dim=0)"), (" * var * n / (n - 1))", " * var)")),
    ),
    Mistake(
        id="module_buffers_never_updated", target="BatchNorm1d", section=MODES, match=r"in training update the buffers",
        explanation="your layer never writes the new running statistics into its buffers, so evaluation uses the "
                    "initial 0 and 1",
        change=((BUFFER_UPDATE, ""),),
    ),
    Mistake(
        id="module_momentum_reversed", target="BatchNorm1d", section=MODES, match=r"\(1 - momentum\) \* old",
        explanation="your buffers follow momentum * old + (1 - momentum) * batch (the Keras / CS231n convention); "
                    "torch's momentum weighs the NEW batch: (1 - momentum) * old + momentum * batch",
        change=((NEW_MEAN, "self.momentum * self.running_mean + (1 - self.momentum) * mean"),
                (NEW_VAR, "self.momentum * self.running_var + (1 - self.momentum) * var * n / (n - 1)")),
    ),
    Mistake(
        id="module_buffers_keep_graph", target="BatchNorm1d", section=MODES, match=r"carries autograd history",
        explanation="your running statistics are assigned from the batch statistics with autograd history: they "
                    "are not trained; update them under torch.no_grad() (copy_) or from detached tensors",
        change=((BUFFER_UPDATE,
                 f"            self.running_mean = {NEW_MEAN}\n            self.running_var = {NEW_VAR}\n"),),
    ),
    Mistake(
        id="module_single_sample_accepted", target="BatchNorm1d", section=MODES, match=r"must raise ValueError",
        explanation="your layer accepts a batch of one sample in training mode (and fills running_var with NaN); "
                    "torch.nn.BatchNorm1d raises ValueError there",
        change=((MODULE_SINGLE_CHECK, ""),),
    ),
]

LEARNING_RATES = ("Larger learning rates", "larger-learning-rates")
TRAINED = "trained = [lr for lr, curve in zip(lrs, curves, strict=True) if curve[-1] < threshold]"

SWEEP = [
    Mistake(
        id="lr_nan_trains", target="largest_trainable_lr", section=LEARNING_RATES, match=r"ends in NaN",
        explanation="your test counts a run whose loss ends in NaN as trained: every comparison with NaN is False, "
                    "so 'not (last >= threshold)' lets a diverged run through; 'last < threshold' does not",
        change=((TRAINED, "trained = [lr for lr, curve in zip(lrs, curves, strict=True) "
                           "if not curve[-1] >= threshold]"),),
    ),
    Mistake(
        id="lr_threshold_inclusive", target="largest_trainable_lr", section=LEARNING_RATES, match=r"EQUAL to the "
        "threshold",
        explanation="your test counts a last loss equal to the threshold as trained (<=); the contract is strict: "
                    "last < threshold",
        change=(("if curve[-1] < threshold]", "if curve[-1] <= threshold]"),),
    ),
    Mistake(
        id="lr_first_failure", target="largest_trainable_lr", section=LEARNING_RATES, match=r"first failure",
        explanation="your answer stops at the first run that fails in the sorted sweep, as if trainability were "
                    "monotone in the learning rate; a run can fail (a bad seed) between two that train: the answer "
                    "is the largest rate that trained",
        code='''
def largest_trainable_lr(lrs, curves, threshold):
    if len(lrs) == 0 or len(lrs) != len(curves):
        raise ValueError("one loss curve per learning rate, at least one")
    best = None
    for lr, curve in sorted(zip(lrs, curves)):
        if not curve[-1] < threshold:
            break
        best = lr
    return best
''',
    ),
    Mistake(
        id="lr_list_order", target="largest_trainable_lr", section=LEARNING_RATES, match=r"ORDER GIVEN",
        explanation="your answer is the last rate that trained in the order given, as if the rates were sorted; "
                    "take the largest (max) of the rates that trained",
        change=(("return max(trained) if trained else None", "return trained[-1] if trained else None"),),
    ),
]

MISTAKES = FORWARD + BACKWARD + MODULE + SWEEP

"""Mistakes students make with early stopping, L2 penalties, weight decay in SGD/Adam/AdamW and max-norm.

Most mutants are the correct answer with one line changed: ``_mutate`` applies the change and fails loudly if
the line it replaces is not there, so that a mutant can never silently equal the right answer.
"""

from tests.mutants import Mutant

CHAPTER = "07-early-stopping"


def _mutate(source, old, new):
    assert old in source, f"mutant template does not contain {old!r}"
    return source.replace(old, new)


_EARLY_STOPPING = '''
class EarlyStopping:
    def __init__(self, patience=5, min_delta=0.0, mode="min", restore_best_weights=True):
        self.patience = patience
        self.min_delta = min_delta
        self.mode = mode
        self.restore_best_weights = restore_best_weights
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = None
        self.wait = 0
        self.epoch = 0
        self.best_state = None

    def step(self, value, model=None):
        value = float(value)
        if self.mode == "min":
            improved = value + self.min_delta < self.best
        else:
            improved = value - self.min_delta > self.best
        epoch = self.epoch
        self.epoch += 1
        if improved:
            self.best = value
            self.best_epoch = epoch
            self.wait = 0
            if model is not None and self.restore_best_weights:
                self.best_state = copy.deepcopy(model.state_dict())
            return False
        self.wait += 1
        return self.wait >= self.patience

    def restore(self, model):
        model.load_state_dict(copy.deepcopy(self.best_state))
        return model
'''

_L2_PENALTY = '''
def l2_penalty(model, lam):
    return lam / 2 * sum((p**2).sum() for p in model.parameters() if p.dim() > 1)
'''

_SGD_STEP = '''
def sgd_step(param, grad, lr, weight_decay=0.0):
    return param - lr * (grad + weight_decay * param)
'''

_ADAM_STEP = '''
def adam_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    beta1, beta2 = betas
    if decoupled:
        param = param * (1 - lr * weight_decay)
    else:
        grad = grad + weight_decay * param
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return param - lr * m_hat / (v_hat.sqrt() + eps), m, v
'''

_MAX_NORM = '''
def max_norm_(weight, max_value):
    with torch.no_grad():
        norms = weight.norm(dim=1, keepdim=True)
        factor = torch.where(norms > max_value, max_value / (norms + 1e-7), torch.ones_like(norms))
        weight.mul_(factor)
    return weight
'''

MUTANTS = [
    # ------------------------------------------------------------------ EarlyStopping: the rule
    Mutant(
        name="es_wait_not_reset",
        target="EarlyStopping",
        mistake="the patience counter is not reset on an improvement",
        match=r"reset to 0",
        code=_mutate(_EARLY_STOPPING, "            self.wait = 0\n", ""),
    ),
    Mutant(
        name="es_tie_is_improvement",
        target="EarlyStopping",
        mistake="a tie with the best value counts as an improvement (<= instead of <)",
        match=r"tie",
        code=_mutate(
            _mutate(_EARLY_STOPPING, "value + self.min_delta < self.best", "value + self.min_delta <= self.best"),
            "value - self.min_delta > self.best", "value - self.min_delta >= self.best"),
    ),
    Mutant(
        name="es_ignores_min_delta",
        target="EarlyStopping",
        mistake="any decrease counts as an improvement, whatever min_delta says",
        match=r"min_delta",
        code=_mutate(_mutate(_EARLY_STOPPING, "value + self.min_delta < self.best", "value < self.best"),
                     "value - self.min_delta > self.best", "value > self.best"),
    ),
    Mutant(
        name="es_min_delta_against_previous_epoch",
        target="EarlyStopping",
        mistake="compares each value with the previous epoch's instead of the best so far",
        match=r"previous epoch",
        code=_mutate(
            _mutate(
                _mutate(_EARLY_STOPPING, "        self.best_state = None\n",
                        "        self.best_state = None\n        self.last = self.best\n"),
                "value + self.min_delta < self.best", "value + self.min_delta < self.last"),
            "        epoch = self.epoch\n", "        epoch = self.epoch\n        self.last = value\n"),
    ),
    Mutant(
        name="es_patience_off_by_one",
        target="EarlyStopping",
        mistake="stops when wait > patience, one epoch too late",
        match=r"wait >= patience",
        code=_mutate(_EARLY_STOPPING, "return self.wait >= self.patience", "return self.wait > self.patience"),
    ),
    Mutant(
        name="es_mode_max_ignored",
        target="EarlyStopping",
        mistake="monitors the wrong direction in mode 'max' (treats an accuracy like a loss)",
        match=r"mode[ =]'max'",
        code=_mutate(_mutate(_EARLY_STOPPING, 'self.best = math.inf if mode == "min" else -math.inf',
                             "self.best = math.inf"),
                     'if self.mode == "min":', "if True:"),
    ),
    Mutant(
        name="es_best_starts_at_zero",
        target="EarlyStopping",
        mistake="initializes best to 0 instead of +inf / -inf",
        match=r"\+inf",
        code=_mutate(_EARLY_STOPPING, 'self.best = math.inf if mode == "min" else -math.inf', "self.best = 0.0"),
    ),
    Mutant(
        name="es_best_epoch_one_based",
        target="EarlyStopping",
        mistake="counts epochs from 1 in best_epoch",
        match=r"0-based",
        code=_mutate(_EARLY_STOPPING, "self.best_epoch = epoch", "self.best_epoch = self.epoch"),
    ),
    Mutant(
        name="es_checks_patience_after_improvement",
        target="EarlyStopping",
        mistake="checks wait >= patience after an improvement too, so patience=0 stops at once",
        match=r"patience=0",
        code=_mutate(_EARLY_STOPPING, "            return False\n", "            return self.wait >= self.patience\n"),
    ),
    # ------------------------------------------------------------------ EarlyStopping: the weights
    Mutant(
        name="es_restores_last_weights",
        target="EarlyStopping",
        mistake="saves the weights at every epoch, so restore gives the last weights instead of the best",
        match=r"BEST epoch",
        code=_mutate(
            _mutate(_EARLY_STOPPING,
                    "            if model is not None and self.restore_best_weights:\n"
                    "                self.best_state = copy.deepcopy(model.state_dict())\n", ""),
            "        if improved:\n",
            "        if model is not None and self.restore_best_weights:\n"
            "            self.best_state = copy.deepcopy(model.state_dict())\n"
            "        if improved:\n"),
    ),
    Mutant(
        name="es_state_dict_not_copied",
        target="EarlyStopping",
        mistake="keeps model.state_dict() itself, whose tensors the optimizer keeps updating in place",
        match=r"deep copy",
        code=_mutate(_EARLY_STOPPING, "self.best_state = copy.deepcopy(model.state_dict())",
                     "self.best_state = model.state_dict()"),
    ),
    # ------------------------------------------------------------------ l2_penalty
    Mutant(
        name="l2_includes_biases",
        target="l2_penalty",
        mistake="penalizes every parameter, biases included",
        match=r"bias must not be penalized",
        code=_mutate(_L2_PENALTY, " if p.dim() > 1", ""),
    ),
    Mutant(
        name="l2_selects_by_name",
        target="l2_penalty",
        mistake="skips parameters named 'bias' but penalizes normalization scales (named 'weight')",
        match=r"normalization scales",
        code='''
def l2_penalty(model, lam):
    return lam / 2 * sum((p**2).sum() for name, p in model.named_parameters() if "bias" not in name)
''',
    ),
    Mutant(
        name="l2_no_half",
        target="l2_penalty",
        mistake="lam * sum(W**2) without the 1/2 (the Keras l2(c) convention)",
        match=r"1/2 is missing",
        code=_mutate(_L2_PENALTY, "lam / 2 *", "lam *"),
    ),
    Mutant(
        name="l2_norm_not_squared",
        target="l2_penalty",
        mistake="(lam / 2) * ||W|| instead of (lam / 2) * ||W||**2",
        match=r"squared",
        code=_mutate(_L2_PENALTY, "(p**2).sum()", "p.norm()"),
    ),
    Mutant(
        name="l2_returns_a_float",
        target="l2_penalty",
        mistake="returns a Python float (.item()), which cannot be backpropagated",
        match=r"differentiable",
        code='''
def l2_penalty(model, lam):
    return float(lam / 2 * sum((p**2).sum().item() for p in model.parameters() if p.dim() > 1))
''',
    ),
    # ------------------------------------------------------------------ sgd_step
    Mutant(
        name="sgd_ignores_weight_decay",
        target="sgd_step",
        mistake="forgets the weight_decay term",
        match=r"weight_decay was ignored",
        code=_mutate(_SGD_STEP, "(grad + weight_decay * param)", "grad"),
    ),
    Mutant(
        name="sgd_decay_sign",
        target="sgd_step",
        mistake="subtracts weight_decay * param from the gradient",
        match=r"sign of the decay",
        code=_mutate(_SGD_STEP, "grad + weight_decay * param", "grad - weight_decay * param"),
    ),
    Mutant(
        name="sgd_decay_without_lr",
        target="sgd_step",
        mistake="shrinks by (1 - weight_decay) instead of (1 - lr * weight_decay)",
        match=r"multiplied by lr",
        code='''
def sgd_step(param, grad, lr, weight_decay=0.0):
    return param * (1 - weight_decay) - lr * grad
''',
    ),
    Mutant(
        name="sgd_in_place",
        target="sgd_step",
        mistake="updates param in place (as an optimizer does) instead of returning a new tensor",
        match=r"in place",
        code='''
def sgd_step(param, grad, lr, weight_decay=0.0):
    param -= lr * (grad + weight_decay * param)
    return param
''',
    ),
    # ------------------------------------------------------------------ adam_step (coupled)
    Mutant(
        name="adam_no_bias_correction",
        target="adam_step",
        mistake="Adam without bias correction",
        match=r"bias correction is missing",
        code=_mutate(_mutate(_ADAM_STEP, "m / (1 - beta1**t)", "m"), "v / (1 - beta2**t)", "v"),
    ),
    Mutant(
        name="adam_eps_inside_sqrt",
        target="adam_step",
        mistake="adds eps inside the square root",
        match=r"outside the square root",
        code=_mutate(_ADAM_STEP, "(v_hat.sqrt() + eps)", "(v_hat + eps).sqrt()"),
    ),
    Mutant(
        name="adam_t_from_zero",
        target="adam_step",
        mistake="counts steps from 0 in the bias correction",
        match=r"t counts from 1",
        code=_mutate(_mutate(_ADAM_STEP, "beta1**t", "beta1 ** (t - 1)"), "beta2**t", "beta2 ** (t - 1)"),
    ),
    Mutant(
        name="adam_returns_corrected_moments",
        target="adam_step",
        mistake="returns the bias-corrected moments instead of the raw ones",
        match=r"raw moments",
        code=_mutate(_ADAM_STEP, "(v_hat.sqrt() + eps), m, v", "(v_hat.sqrt() + eps), m_hat, v_hat"),
    ),
    Mutant(
        name="adam_v_of_gradient",
        target="adam_step",
        mistake="averages the gradient instead of its square in v",
        match=r"SQUARED",
        code=_mutate(_ADAM_STEP, "(1 - beta2) * grad**2", "(1 - beta2) * grad.abs()"),
    ),
    Mutant(
        name="adam_always_decoupled",
        target="adam_step",
        mistake="decays the weights like AdamW even when decoupled=False",
        match=r"AdamW",
        code=_mutate(_mutate(_ADAM_STEP, "    if decoupled:\n", "    if True:\n"),
                     "        grad = grad + weight_decay * param\n", "        pass\n"),
    ),
    # ------------------------------------------------------------------ adam_step (decoupled)
    Mutant(
        name="adamw_coupled",
        target="adam_step",
        mistake="ignores decoupled=True: AdamW computed as Adam with an L2 term in the gradient",
        match=r"coupled L2",
        code=_mutate(_mutate(_ADAM_STEP, "    if decoupled:\n", "    if False:\n"),
                     "        param = param * (1 - lr * weight_decay)\n", "        pass\n"),
    ),
    Mutant(
        name="adamw_decay_without_lr",
        target="adam_step",
        mistake="AdamW shrinks by (1 - weight_decay) instead of (1 - lr * weight_decay)",
        match=r"multiplied by lr",
        code=_mutate(_ADAM_STEP, "param * (1 - lr * weight_decay)", "param * (1 - weight_decay)"),
    ),
    Mutant(
        name="adamw_decay_after_step",
        target="adam_step",
        mistake="AdamW applies the decay after the Adam step instead of before it",
        match=r"after the Adam step",
        code='''
def adam_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    beta1, beta2 = betas
    if not decoupled:
        grad = grad + weight_decay * param
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    param = param - lr * m_hat / (v_hat.sqrt() + eps)
    if decoupled:
        param = param * (1 - lr * weight_decay)
    return param, m, v
''',
    ),
    # ------------------------------------------------------------------ max_norm_
    Mutant(
        name="maxnorm_columns",
        target="max_norm_",
        mistake="constrains the columns (Keras' axis=0 copied onto a torch (out, in) weight)",
        match=r"ROW",
        code=_mutate(_MAX_NORM, "weight.norm(dim=1, keepdim=True)", "weight.norm(dim=0, keepdim=True)"),
    ),
    Mutant(
        name="maxnorm_rescales_every_row",
        target="max_norm_",
        mistake="scales every row to norm max_value, also the rows below it",
        match=r"EXCEEDS",
        code=_mutate(_MAX_NORM, "torch.where(norms > max_value, max_value / (norms + 1e-7), torch.ones_like(norms))",
                     "max_value / (norms + 1e-7)"),
    ),
    Mutant(
        name="maxnorm_not_in_place",
        target="max_norm_",
        mistake="returns a rescaled copy and leaves the weight unchanged",
        match=r"in place",
        code='''
def max_norm_(weight, max_value):
    return torch.renorm(weight.detach(), 2, 0, max_value)
''',
    ),
    Mutant(
        name="maxnorm_without_no_grad",
        target="max_norm_",
        mistake="modifies a Parameter in place outside torch.no_grad()",
        match=r"torch\.no_grad",
        code='''
def max_norm_(weight, max_value):
    norms = weight.norm(dim=1, keepdim=True)
    factor = torch.where(norms > max_value, max_value / (norms + 1e-7), torch.ones_like(norms))
    weight.mul_(factor)
    return weight
''',
    ),
]

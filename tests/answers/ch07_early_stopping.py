"""Correct rewrites and unseen mistakes of chapter 7."""

REWRITES = [
    # one comparison for both modes (sign trick: IEEE negation is exact), copy_ into the live tensors on restore
    ("EarlyStopping", '''
class EarlyStopping:
    def __init__(self, patience=5, min_delta=0.0, mode="min", restore_best_weights=True):
        if mode not in {"min", "max"}:
            raise ValueError("mode: 'min' or 'max'")
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.restore_best_weights = restore_best_weights
        self._sign = 1.0 if mode == "min" else -1.0
        self.best = self._sign * math.inf
        self.best_epoch = None
        self.wait = 0
        self._seen = 0
        self._saved = None

    def step(self, value, model=None):
        value = float(value)
        epoch, self._seen = self._seen, self._seen + 1
        if self._sign * value + self.min_delta < self._sign * self.best:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if model is not None and self.restore_best_weights:
                self._saved = {k: t.detach().clone() for k, t in model.state_dict().items()}
            return False
        self.wait += 1
        return self.wait >= self.patience

    def restore(self, model):
        if self._saved is None:
            raise ValueError("nothing to restore")
        with torch.no_grad():
            for key, tensor in model.state_dict().items():
                tensor.copy_(self._saved[key])
        return model
'''),
    # a deep copy of the whole model as the checkpoint
    ("EarlyStopping", '''
class EarlyStopping:
    def __init__(self, patience=5, min_delta=0.0, mode="min", restore_best_weights=True):
        if mode == "min":
            self.best = float("inf")
        elif mode == "max":
            self.best = float("-inf")
        else:
            raise ValueError(f"unknown mode {mode}")
        self.patience = patience
        self.min_delta = min_delta
        self.mode = mode
        self.restore_best_weights = restore_best_weights
        self.best_epoch = None
        self.wait = 0
        self.history = []
        self.checkpoint = None

    def step(self, value, model=None):
        value = float(value)
        self.history.append(value)
        better = (value + self.min_delta < self.best) if self.mode == "min" else (value - self.min_delta > self.best)
        if not better:
            self.wait = self.wait + 1
            return self.wait >= self.patience
        self.best = value
        self.best_epoch = len(self.history) - 1
        self.wait = 0
        if self.restore_best_weights and model is not None:
            self.checkpoint = copy.deepcopy(model)
        return False

    def restore(self, model):
        if self.checkpoint is None:
            raise ValueError("no checkpoint was kept")
        model.load_state_dict(self.checkpoint.state_dict())
        return model
'''),
    ("l2_penalty", '''
def l2_penalty(model, lam):
    total = torch.zeros(())
    for name, p in model.named_parameters():
        if p.ndim >= 2:
            total = total + p.pow(2).sum()
    return 0.5 * lam * total
'''),
    ("sgd_step", '''
def sgd_step(param, grad, lr, weight_decay=0.0):
    return (1 - lr * weight_decay) * param - lr * grad
'''),
    # lerp, addcdiv and the step size with the first correction folded in, as torch writes it
    ("adam_step", '''
def adam_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    b1, b2 = betas
    p = param.detach().clone()
    if decoupled:
        p.mul_(1 - lr * weight_decay)
        g = grad
    else:
        g = grad.add(p, alpha=weight_decay)
    m_new = torch.lerp(m, g, 1 - b1)
    v_new = v * b2 + (1 - b2) * g * g
    denom = (v_new / (1 - b2 ** t)).sqrt().add(eps)
    return p.addcdiv(m_new, denom, value=-lr / (1 - b1 ** t)), m_new, v_new
'''),
    # torch's own optimizers, primed with the given state
    ("adam_step", '''
def adam_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    p = param.detach().clone().requires_grad_(True)
    optimizer = (torch.optim.AdamW if decoupled else torch.optim.Adam)(
        [p], lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=False)
    p.grad = grad.detach().clone()
    optimizer.state[p] = {"step": torch.tensor(float(t - 1)), "exp_avg": m.detach().clone(),
                          "exp_avg_sq": v.detach().clone()}
    optimizer.step()
    state = optimizer.state[p]
    return p.detach(), state["exp_avg"], state["exp_avg_sq"]
'''),
    ("max_norm_", '''
def max_norm_(weight, max_value):
    with torch.no_grad():
        weight.copy_(torch.renorm(weight, 2, 0, max_value))
    return weight
'''),
    # an EarlyStopping-like loop written with a while and an index of the last improvement
    ("early_stopping_plan", '''
def early_stopping_plan(train_losses, val_losses, patience, min_delta=0.0):
    if not len(val_losses) or len(val_losses) != len(train_losses):
        raise ValueError("one training and one validation loss per epoch, at least one epoch")
    best_epoch, epoch = 0, 0
    while epoch + 1 < len(val_losses):
        epoch += 1
        if val_losses[epoch] + min_delta < val_losses[best_epoch]:
            best_epoch = epoch
        elif epoch - best_epoch >= max(patience, 1):
            break
    return epoch, best_epoch, best_epoch + 1, float(train_losses[best_epoch])
'''),
]

_ES = '''
class EarlyStopping:
    def __init__(self, patience=5, min_delta=0.0, mode="min", restore_best_weights=True):
        if mode not in ("min", "max"):
            raise ValueError(mode)
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.restore_best_weights = restore_best_weights
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch, self.wait, self.epoch, self.best_state = None, 0, 0, None

    def step(self, value, model=None):
        value = float(value)
        if self.mode == "min":
            improved = value + self.min_delta < self.best
        else:
            improved = value - self.min_delta > self.best
        epoch, self.epoch = self.epoch, self.epoch + 1
        if improved:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if model is not None and self.restore_best_weights:
                self.best_state = KEEP
            return False
        self.wait += 1
        return self.wait >= self.patience

    def restore(self, model):
        CHECK
        RESTORE
        return model
'''
_CHECK = 'if self.best_state is None:\n            raise ValueError("nothing kept")'


def _es(keep="copy.deepcopy(model.state_dict())", check=_CHECK,
        restore="model.load_state_dict(copy.deepcopy(self.best_state))"):
    return _ES.replace("KEEP", keep).replace("CHECK", check).replace("RESTORE", restore)


UNSEEN = [
    # a shallow copy of the state dict: the catalogued alias, written differently
    ("EarlyStopping", _es(keep="dict(model.state_dict())"), ("es_state_dict_not_copied",)),
    # detach() shares the storage: an alias too
    ("EarlyStopping", _es(keep="{k: t.detach() for k, t in model.state_dict().items()}"),
     ("es_state_dict_not_copied",)),
    # restore assigns the kept tensors to the model: the next in-place training overwrites the kept state
    ("EarlyStopping", _es(restore="model.load_state_dict(self.best_state, assign=True)"), ()),
    # restore silently does nothing when no weights were kept
    ("EarlyStopping", _es(check="if self.best_state is None:\n            return model"), ()),
    # two mistakes at once: ties improve AND stop one epoch late
    ("EarlyStopping", _es().replace("value + self.min_delta < self.best", "value + self.min_delta <= self.best")
     .replace("return self.wait >= self.patience", "return self.wait > self.patience"),
     ("es_tie_is_improvement", "es_patience_off_by_one")),  # either name is true of it
    # the mean of the squares instead of their sum
    ("l2_penalty", '''
def l2_penalty(model, lam):
    weights = [p for p in model.parameters() if p.dim() > 1]
    if not weights:
        return torch.zeros(())
    return lam / 2 * sum((w**2).mean() for w in weights)
''', ()),
    # lr applied twice to the decay
    ("sgd_step", '''
def sgd_step(param, grad, lr, weight_decay=0.0):
    return param - lr * grad - lr * lr * weight_decay * param
''', ()),
    # only v is bias-corrected
    ("adam_step", '''
def adam_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    beta1, beta2 = betas
    if decoupled:
        param = param * (1 - lr * weight_decay)
    else:
        grad = grad + weight_decay * param
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    return param - lr * m / ((v / (1 - beta2**t)).sqrt() + eps), m, v
''', ()),
    # the param updated in place (the moments are new)
    ("adam_step", '''
def adam_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    beta1, beta2 = betas
    if decoupled:
        param.mul_(1 - lr * weight_decay)
    else:
        grad = grad + weight_decay * param
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    param -= lr * (m / (1 - beta1**t)) / ((v / (1 - beta2**t)).sqrt() + eps)
    return param, m, v
''', ()),
    # one norm for the whole matrix (Frobenius) instead of one per row
    ("max_norm_", '''
def max_norm_(weight, max_value):
    with torch.no_grad():
        norm = weight.norm()
        if norm > max_value:
            weight.mul_(max_value / (norm + 1e-7))
    return weight
''', ()),
    # the restored epoch is the best one up to the stop, but the epochs are returned 1-based throughout
    ("early_stopping_plan", '''
def early_stopping_plan(train_losses, val_losses, patience, min_delta=0.0):
    if len(val_losses) == 0 or len(train_losses) != len(val_losses):
        raise ValueError("bad curves")
    best, best_epoch, wait, stop = math.inf, 0, 0, len(val_losses)
    for epoch, value in enumerate(val_losses, start=1):
        if value + min_delta < best:
            best, best_epoch, wait = value, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                stop = epoch
                break
    return stop, best_epoch, best_epoch, float(train_losses[best_epoch - 1])
''', ()),
    # min_delta ignored: any decrease counts
    ("early_stopping_plan", '''
def early_stopping_plan(train_losses, val_losses, patience, min_delta=0.0):
    if len(val_losses) == 0 or len(train_losses) != len(val_losses):
        raise ValueError("bad curves")
    best, best_epoch, wait, stop = math.inf, 0, 0, len(val_losses) - 1
    for epoch, value in enumerate(val_losses):
        if value < best:
            best, best_epoch, wait = value, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                stop = epoch
                break
    return stop, best_epoch, best_epoch + 1, float(train_losses[best_epoch])
''', ()),
]



STUDENT_STOPPER = '''
class EarlyStopping:
    def __init__(self, patience=5, min_delta=0.0, mode="min", restore_best_weights=True):
        if mode not in ("min", "max"):
            raise ValueError("mode must be min or max")
        self.patience = patience
        self.min_delta = min_delta
        self.mode = mode
        self.restore_best_weights = restore_best_weights
        self.best = math.inf if mode == "min" else -math.inf
        self.prev = self.best
        self.wait = 0
        self.best_epoch = None
        self.n_epochs = 0
        self.saved = None

    def step(self, value, model=None):
        value = float(value)
        epoch = self.n_epochs
        self.n_epochs += 1
        if self.mode == "min":
            better = value + self.min_delta < REF
        else:
            better = value - self.min_delta > REF
        self.prev = value
        if better:
            self.best = value
            self.best_epoch = epoch
            self.wait = 0
            if model is not None and self.restore_best_weights:
                self.saved = KEEP
            return False
        self.wait += 1
        return STOP

    def restore(self, model):
        if self.saved is None:
            raise ValueError("no weights were saved")
        model.load_state_dict(copy.deepcopy(self.saved))
        return model
'''


def _student_stopper(tie=False, stop="self.wait >= self.patience", keep="copy.deepcopy(model.state_dict())",
                     ref="self.best"):
    """An EarlyStopping written the way many students write it (a counter of epochs, a flag for the mode), with one
    thing varied: ties, the stop test, the copy, what a value is compared with."""
    code = STUDENT_STOPPER.replace("REF", ref).replace("KEEP", keep).replace("STOP", stop)
    return code.replace(" < ", " <= ").replace(" > self", " >= self") if tie else code


# Common mistakes written from scratch (see tests/answers/ch01_normalization.py): (answer, code, the catalogued
# mistake it must be diagnosed as or None, what the student did).
COMMON = [
    ("EarlyStopping", _student_stopper(tie=True), "es_tie_is_improvement", "a tie counted as an improvement (<=)"),
    ("EarlyStopping", _student_stopper(stop="self.wait > self.patience"), "es_patience_off_by_one",
     "stops one epoch late (wait > patience)"),
    ("EarlyStopping", _student_stopper(ref="self.prev"), "es_min_delta_against_previous_epoch",
     "compares with the previous epoch"),
    ("EarlyStopping", _student_stopper(keep="model.state_dict()"), "es_state_dict_not_copied",
     "keeps model.state_dict() itself"),
    ("l2_penalty", '''
def l2_penalty(model, lam):
    total = torch.zeros(())
    for p in model.parameters():
        total = total + (p ** 2).sum()
    return lam / 2 * total
''', "l2_includes_biases", "penalizes every parameter, biases included"),
    ("l2_penalty", '''
def l2_penalty(model, lam):
    terms = [w.pow(2).sum() for w in model.parameters() if w.ndim >= 2]
    return lam * torch.stack(terms).sum() if terms else torch.tensor(0.0)
''', "l2_no_half", "lam * sum W**2, Keras' convention"),
    ("sgd_step", '''
def sgd_step(param, grad, lr, weight_decay=0.0):
    update = grad - weight_decay * param
    return param - lr * update
''', "sgd_decay_sign", "subtracts the decay term"),
    ("adam_step", '''
def adam_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    b1, b2 = betas
    if decoupled:
        param = param - lr * weight_decay * param
    elif weight_decay:
        grad = grad + weight_decay * param
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad * grad
    mhat = m / (1 - b1 ** t)
    vhat = v / (1 - b2 ** t)
    return param - lr * mhat / torch.sqrt(vhat + eps), m, v
''', "adam_eps_inside_sqrt", "eps inside the square root"),
    ("adam_step", '''
def adam_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    beta1, beta2 = betas
    g = grad if decoupled else grad + weight_decay * param
    p = param * (1 - lr * weight_decay) if decoupled else param
    m_new = beta1 * m + (1 - beta1) * g
    v_new = beta2 * v + (1 - beta2) * g.square()
    return p - lr * m_new / (v_new.sqrt() + eps), m_new, v_new
''', "adam_no_bias_correction", "no bias correction"),
    ("max_norm_", '''
def max_norm_(weight, max_value):
    with torch.no_grad():
        col_norms = weight.norm(dim=0)
        scale = torch.clamp(max_value / (col_norms + 1e-7), max=1.0)
        weight.mul_(scale)
    return weight
''', "maxnorm_columns", "the norms of the columns (Keras' axis=0)"),
    ("early_stopping_plan", '''
def early_stopping_plan(train_losses, val_losses, patience, min_delta=0.0):
    if len(train_losses) != len(val_losses) or not val_losses:
        raise ValueError("curves of different lengths or empty")
    best = float("inf")
    best_epoch = 0
    bad_epochs = 0
    for i in range(len(val_losses)):
        if val_losses[i] < best - min_delta:
            best = val_losses[i]
            best_epoch = i
            bad_epochs = 0
        else:
            bad_epochs += 1
        if bad_epochs >= patience and bad_epochs > 0:
            return i, i, i + 1, train_losses[i]
    last = len(val_losses) - 1
    return last, last, last + 1, train_losses[last]
''', "plan_restore_last", "restores the epoch at which it stops"),
    ("early_stopping_plan", '''
def early_stopping_plan(train_losses, val_losses, patience, min_delta=0.0):
    if len(train_losses) != len(val_losses) or len(val_losses) == 0:
        raise ValueError("need one train and one val loss per epoch")
    best_epoch, counter = 0, 0
    stop = len(val_losses) - 1
    for epoch in range(1, len(val_losses)):
        if val_losses[epoch] < val_losses[best_epoch] - min_delta:
            best_epoch, counter = epoch, 0
        else:
            counter += 1
            if counter > patience:
                stop = epoch
                break
    return stop, best_epoch, best_epoch + 1, train_losses[best_epoch]
''', "plan_patience_off_by_one", "counter > patience"),
    ("early_stopping_plan", '''
def early_stopping_plan(train_losses, val_losses, patience, min_delta=0.0):
    if len(train_losses) != len(val_losses) or len(val_losses) == 0:
        raise ValueError("lengths")
    best_val, best_epoch, waited, stop = math.inf, None, 0, len(val_losses) - 1
    for epoch, v in enumerate(val_losses):
        if v + min_delta < best_val:
            best_val, best_epoch, waited = v, epoch, 0
        else:
            waited += 1
            if waited >= patience:
                stop = epoch
                break
    return stop, best_epoch, best_epoch + 1, val_losses[best_epoch]
''', "plan_target_val_loss", "the best validation loss as the target"),
]

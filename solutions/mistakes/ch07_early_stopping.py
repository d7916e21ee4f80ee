"""Known mistakes of chapter 7: the early-stopping rule (counter, ties, min_delta, mode, patience), the best weights
(aliased, last, buffers, restored inside step, nothing kept), the L2 penalty (biases, names, 1/2, square, float),
weight decay in SGD, Adam and AdamW (sign, lr, bias correction, eps, raw moments, coupling) and max-norm (rows,
threshold, in place, no_grad), and the judgment part's plan (restore the last epoch or look past the stop, patience
off by one, ties, retraining epochs 0-based, the validation loss as Algorithm 7.3's target)."""

from checks.mistakes import Mistake

EARLY = ("Early stopping", "early-stopping")
PATIENCE = ("Patience, and what restoring is worth", "patience-and-what-restoring-is-worth")
COPY = ("Keeping the best weights: a copy, not a view", "keeping-the-best-weights-a-copy-not-a-view")
DECAY = ("Weight decay", "weight-decay")
GROUPS = ("Parameter groups: decay the weights, not the biases", "parameter-groups-decay-the-weights-not-the-biases")
ADAM = ("Adam and AdamW", "adam-and-adamw")
KERAS = ("The Keras regularizers, in PyTorch", "the-keras-regularizers-in-pytorch")

RULE, WEIGHTS = ("test_EarlyStopping_rule",), ("test_EarlyStopping_weights",)  # the test cell each one fails
IMPROVED_MIN = "value + self.min_delta < self.best"
IMPROVED_MAX = "value - self.min_delta > self.best"
BEST_START = 'self.best = math.inf if mode == "min" else -math.inf'
KEEP = "            if model is not None and self.restore_best_weights:\n" \
       "                self.best_state = copy.deepcopy(model.state_dict())\n"
MODE_CHECK = "        if mode not in (\"min\", \"max\"):\n" \
             "            raise ValueError(f\"mode must be 'min' or 'max', got {mode!r}\")\n"
RESTORE_CHECK = "        if self.best_state is None:\n" \
                "            raise ValueError(\"no best weights recorded: pass the model to step()\")\n"

EARLY_STOPPING = [
    Mistake(
        id="es_wait_not_reset", target="EarlyStopping", tests=RULE, section=EARLY, match=r"reset to 0",
        explanation="your wait counter is not reset to 0 when an epoch improves, so it counts every epoch without "
                    "improvement since the start; patience counts the epochs since the LAST improvement",
        change=(("self.best, self.best_epoch, self.wait = value, epoch, 0",
                 "self.best, self.best_epoch = value, epoch"),),
    ),
    Mistake(
        id="es_tie_is_improvement", target="EarlyStopping", tests=RULE, section=EARLY, match=r"\btie",
        explanation="your stopper counts a tie with the best value as an improvement (<= instead of <); Keras' rule "
                    "is strict: an epoch must beat the best value, a plateau is not progress",
        change=((IMPROVED_MIN, "value + self.min_delta <= self.best"),
                (IMPROVED_MAX, "value - self.min_delta >= self.best")),
    ),
    Mistake(
        id="es_ignores_min_delta", target="EarlyStopping", tests=RULE, section=EARLY, match=r"min_delta",
        explanation="your stopper counts any gain as an improvement, whatever min_delta says; an epoch improves only "
                    "when it beats the best value by MORE than min_delta",
        change=((IMPROVED_MIN, "value < self.best"), (IMPROVED_MAX, "value > self.best")),
    ),
    Mistake(
        id="es_min_delta_against_previous_epoch", target="EarlyStopping", tests=RULE,
        section=EARLY, match=r"previous epoch",
        explanation="your stopper compares each value with the PREVIOUS epoch's; an epoch improves when it beats the "
                    "BEST value so far by more than min_delta (slow steady gains add up)",
        change=(("        self.best_state = None\n", "        self.best_state = None\n        self.last = self.best\n"),
                (IMPROVED_MIN, "value + self.min_delta < self.last"),
                (IMPROVED_MAX, "value - self.min_delta > self.last"),
                ("        epoch = self.epoch\n", "        epoch = self.epoch\n        self.last = value\n")),
    ),
    Mistake(
        id="es_patience_off_by_one", target="EarlyStopping", tests=RULE, section=PATIENCE, match=r"wait >= patience",
        explanation="your stopper returns True when wait > patience, one epoch too late; training stops at the first "
                    "epoch without improvement where wait >= patience",
        change=(("return self.wait >= self.patience", "return self.wait > self.patience"),),
    ),
    Mistake(
        id="es_mode_max_ignored", target="EarlyStopping", tests=RULE, section=EARLY, match=r"mode[ =]'max'",
        explanation="your stopper treats every metric as a loss (smaller is better, best starting at +inf); with "
                    "mode='max' (an accuracy) larger values are better and best starts at -inf",
        change=((BEST_START, "self.best = math.inf"), ('if self.mode == "min":', "if True:")),
    ),
    Mistake(
        id="es_best_starts_at_zero", target="EarlyStopping", tests=RULE, section=EARLY, match=r"\+inf",
        explanation="your best value starts at 0; it starts at +inf in mode 'min' (-inf in mode 'max') so that the "
                    "first epoch always improves, whatever the sign of the metric",
        change=((BEST_START, "self.best = 0.0"),),
    ),
    Mistake(
        id="es_best_epoch_one_based", target="EarlyStopping", tests=RULE, section=EARLY, match=r"0-based",
        explanation="your best_epoch counts epochs from 1; it is 0-based: the first call of step is epoch 0",
        change=(("value, epoch, 0", "value, self.epoch, 0"),),
    ),
    Mistake(
        id="es_best_epoch_starts_at_zero", target="EarlyStopping", tests=RULE,
        section=EARLY, match=r"None before the first",
        explanation="your best_epoch is 0 before any step, as if epoch 0 had been seen; it is None until the first "
                    "epoch has been recorded",
        change=(("self.best_epoch = None", "self.best_epoch = 0"),),
    ),
    Mistake(
        id="es_checks_patience_after_improvement", target="EarlyStopping", tests=RULE,
        section=PATIENCE, match=r"patience=0",
        explanation="your step tests wait >= patience after an improving epoch too, so patience=0 stops at the first "
                    "epoch; an improving epoch never stops training (Keras returns before the test)",
        change=(("            return False\n", "            return self.wait >= self.patience\n"),),
    ),
    Mistake(
        id="es_mode_not_validated", target="EarlyStopping", tests=RULE, section=EARLY, match=r"ValueError",
        explanation="your constructor accepts any mode (mode='auto' silently monitors a metric to maximize); only "
                    "'min' and 'max' are allowed, anything else raises ValueError",
        change=((MODE_CHECK, ""),),
    ),
    Mistake(
        id="es_keeps_tensor_value", target="EarlyStopping", tests=RULE, section=EARLY, match=r"Python float",
        explanation="your best is the tensor that was passed to step (a validation loss keeps its autograd graph "
                    "alive with it); store float(value)",
        change=(("        value = float(value)\n", ""),),
    ),
    Mistake(
        id="es_restores_last_weights", target="EarlyStopping", tests=WEIGHTS, section=COPY, match=r"BEST epoch",
        explanation="your stopper keeps a copy of the weights at every epoch, so restore gives the LAST epoch's "
                    "weights; keep a copy only when the value improves, so that restore gives the best epoch's",
        change=((KEEP, ""),
                ("        if improved:\n", "        if model is not None and self.restore_best_weights:\n"
                                          "            self.best_state = copy.deepcopy(model.state_dict())\n"
                                          "        if improved:\n")),
    ),
    Mistake(
        id="es_state_dict_not_copied", target="EarlyStopping", tests=WEIGHTS, section=COPY, match=r"deep copy",
        explanation="your stopper keeps model.state_dict() itself: its tensors are the model's live weights, which "
                    "every later step (optimizer.step(), load_state_dict) changes in place, so the kept 'best' "
                    "state follows the training; keep copy.deepcopy(model.state_dict())",
        change=(("copy.deepcopy(model.state_dict())", "model.state_dict()"),),
    ),
    Mistake(
        id="es_parameters_only", target="EarlyStopping", tests=WEIGHTS, section=COPY, match=r"buffers",
        explanation="your stopper keeps the parameters only (named_parameters), not the buffers, so restore leaves "
                    "BatchNorm's running_mean and running_var of the last epoch; keep the whole state_dict()",
        change=(("self.best_state = copy.deepcopy(model.state_dict())",
                 "self.best_state = {k: p.detach().clone() for k, p in model.named_parameters()}"),
                ("model.load_state_dict(copy.deepcopy(self.best_state))",
                 "model.load_state_dict(copy.deepcopy(self.best_state), strict=False)")),
    ),
    Mistake(
        id="es_restores_in_step", target="EarlyStopping", tests=WEIGHTS,
        section=PATIENCE, match=r"must not change the model",
        explanation="your step loads the best weights into the model when it returns True (as Keras' fit does at "
                    "the end); here step never touches the model: the training loop calls restore(model)",
        change=(("        return self.wait >= self.patience\n",
                 "        stop = self.wait >= self.patience\n"
                 "        if stop and model is not None and self.best_state is not None:\n"
                 "            model.load_state_dict(copy.deepcopy(self.best_state))\n"
                 "        return stop\n"),),
    ),
    Mistake(
        id="es_restore_unchecked", target="EarlyStopping", tests=WEIGHTS, section=COPY, match=r"must raise ValueError",
        explanation="your restore crashes on None (TypeError from load_state_dict) when no weights were kept; raise a "
                    "ValueError that says why (no model given at an improving epoch, or restore_best_weights=False)",
        change=((RESTORE_CHECK, ""),),
    ),
    Mistake(
        id="es_ignores_restore_best_weights", target="EarlyStopping", tests=WEIGHTS,
        section=COPY, match=r"restore_best_weights",
        explanation="your stopper keeps the weights even with restore_best_weights=False; that flag switches the "
                    "copies off (no copy is made, and restore has nothing to load)",
        change=(("if model is not None and self.restore_best_weights:", "if model is not None:"),),
    ),
]

L2 = [
    Mistake(
        id="l2_includes_biases", target="l2_penalty", section=GROUPS, match=r"bias must not be penalized",
        explanation="your penalty includes every parameter, biases and normalization scales and shifts too; only "
                    "parameters with more than one dimension (weight matrices, kernels) are penalized",
        change=(("weights = [p for p in model.parameters() if p.dim() > 1]",
                 "weights = [p for p in model.parameters()]"),),
    ),
    Mistake(
        id="l2_selects_by_name", target="l2_penalty", section=GROUPS, match=r"normalization scales",
        explanation="your penalty skips the parameters named 'bias' but includes the normalization scales, which "
                    "are named 'weight'; select by dimension (p.dim() > 1), not by name",
        change=(("weights = [p for p in model.parameters() if p.dim() > 1]",
                 'weights = [p for name, p in model.named_parameters() if "bias" not in name]'),),
    ),
    Mistake(
        id="l2_no_half", target="l2_penalty", section=DECAY, match=r"1/2 is missing",
        explanation="your penalty is lam * sum(W**2), Keras' l2 convention; the course's penalty is "
                    "(lam / 2) * sum(W**2), whose gradient lam * W is what weight_decay=lam adds",
        change=(("lam / 2 *", "lam *"),),
    ),
    Mistake(
        id="l2_norm_not_squared", target="l2_penalty", section=DECAY, match=r"SQUARED",
        explanation="your penalty sums the norms ||W||; the L2 penalty sums the SQUARED entries, ||W||**2",
        change=(("(w**2).sum()", "w.norm()"),),
    ),
    Mistake(
        id="l2_returns_a_float", target="l2_penalty", section=DECAY, match=r"differentiable",
        explanation="your penalty is a Python float (.item()): it cannot be backpropagated, so adding it to the "
                    "loss changes nothing in the gradients; return the torch tensor",
        change=(("return lam / 2 * sum((w**2).sum() for w in weights)",
                 "return float(lam / 2 * sum((w**2).sum().item() for w in weights))"),),
    ),
    Mistake(
        id="l2_empty_not_tensor", target="l2_penalty", section=DECAY, match=r"sum\(\) of nothing",
        explanation="for a model without any weight matrix your penalty is the number 0 (sum() of nothing is the int "
                    "0); return a 0-d tensor all the same (torch.zeros(())), so that callers can rely on a tensor",
        change=(("    if not weights:  # sum() of nothing is the int 0: return a tensor all the same\n"
                 "        return torch.zeros(())\n", ""),),
    ),
]

SGD = [
    Mistake(
        id="sgd_ignores_weight_decay", target="sgd_step", section=DECAY, match=r"weight_decay was ignored",
        explanation="your step leaves out the weight-decay term; torch.optim.SGD adds weight_decay * param to the "
                    "gradient",
        change=(("(grad + weight_decay * param)", "grad"),),
    ),
    Mistake(
        id="sgd_decay_sign", target="sgd_step", section=DECAY, match=r"sign of the decay",
        explanation="your step subtracts weight_decay * param from the gradient, which pushes the weights away from "
                    "0; weight decay ADDS it (the gradient of (lambda/2) ||w||**2)",
        change=(("grad + weight_decay * param", "grad - weight_decay * param"),),
    ),
    Mistake(
        id="sgd_decay_without_lr", target="sgd_step", section=DECAY, match=r"multiplied by lr",
        explanation="your step shrinks the weights by (1 - weight_decay); the decay goes through the learning rate: "
                    "(1 - lr * weight_decay) * param - lr * grad",
        change=(("return param - lr * (grad + weight_decay * param)",
                 "return param * (1 - weight_decay) - lr * grad"),),
    ),
    Mistake(
        id="sgd_in_place", target="sgd_step", section=DECAY, match=r"in place",
        explanation="your step updates param in place (as an optimizer does); sgd_step returns a new tensor and "
                    "leaves its inputs alone",
        change=(("    return param - lr * (grad + weight_decay * param)\n",
                 "    param -= lr * (grad + weight_decay * param)\n    return param\n"),),
    ),
]

ADAM_STEP = [
    Mistake(
        id="adam_no_bias_correction", target="adam_step", section=ADAM, match=r"bias correction is missing",
        explanation="your step uses m and v without bias correction; Adam divides them by 1 - beta1**t and "
                    "1 - beta2**t, which matters most in the first steps",
        change=(("m / (1 - beta1**t)", "m"), ("v / (1 - beta2**t)", "v")),
    ),
    Mistake(
        id="adam_eps_inside_sqrt", target="adam_step", section=ADAM, match=r"eps INSIDE the square root",
        explanation="your step adds eps inside the square root, sqrt(v_hat + eps); torch (Adam and AdamW) adds it "
                    "outside: sqrt(v_hat) + eps",
        change=(("(v_hat.sqrt() + eps)", "(v_hat + eps).sqrt()"),),
    ),
    Mistake(
        id="adam_t_from_zero", target="adam_step", section=ADAM, match=r"t counts from 1",
        explanation="your bias correction uses t - 1; steps count from 1, so the first step divides by 1 - beta**1",
        change=(("beta1**t", "beta1 ** (t - 1)"), ("beta2**t", "beta2 ** (t - 1)")),
    ),
    Mistake(
        id="adam_returns_corrected_moments", target="adam_step", section=ADAM, match=r"raw moments",
        explanation="your step returns the bias-corrected moments; return the raw m_t and v_t (torch's exp_avg and "
                    "exp_avg_sq), which the next step averages further",
        change=(("(v_hat.sqrt() + eps), m, v", "(v_hat.sqrt() + eps), m_hat, v_hat"),),
    ),
    Mistake(
        id="adam_v_of_gradient", target="adam_step", section=ADAM, match=r"SQUARED",
        explanation="your v averages |grad|; Adam's second moment averages the SQUARED gradient",
        change=(("(1 - beta2) * grad**2", "(1 - beta2) * grad.abs()"),),
    ),
    Mistake(
        id="adam_moments_in_place", target="adam_step", section=ADAM, match=r"in place",
        explanation="your step updates m and v in place (mul_ / add_, as torch's optimizer does with its own "
                    "state); adam_step returns new tensors and leaves the caller's m and v alone",
        change=(("m = beta1 * m + (1 - beta1) * grad", "m = m.mul_(beta1).add_((1 - beta1) * grad)"),
                ("v = beta2 * v + (1 - beta2) * grad**2", "v = v.mul_(beta2).add_((1 - beta2) * grad**2)")),
    ),
    Mistake(
        id="adam_always_decoupled", target="adam_step", section=ADAM, match=r"AdamW",
        explanation="your step shrinks the weights like AdamW even with decoupled=False; torch.optim.Adam's "
                    "weight_decay adds weight_decay * param to the gradient (coupled L2)",
        change=(("    if decoupled:\n", "    if True:\n"),
                ("        grad = grad + weight_decay * param\n", "        pass\n")),
    ),
    Mistake(
        id="adamw_coupled", target="adam_step", section=ADAM, match=r"coupled L2",
        explanation="your step ignores decoupled=True and adds the decay to the gradient (Adam with L2); AdamW "
                    "shrinks the weights, param * (1 - lr * weight_decay), before the Adam step",
        change=(("    if decoupled:\n", "    if False:\n"),
                ("        param = param * (1 - lr * weight_decay)\n", "        pass\n")),
    ),
    Mistake(
        id="adamw_decay_without_lr", target="adam_step", section=ADAM, match=r"multiplied by lr",
        explanation="your AdamW shrinks the weights by (1 - weight_decay); the decay is multiplied by the learning "
                    "rate: param * (1 - lr * weight_decay)",
        change=(("param * (1 - lr * weight_decay)", "param * (1 - weight_decay)"),),
    ),
    Mistake(
        id="adamw_decay_after_step", target="adam_step", section=ADAM, match=r"after the Adam step",
        explanation="your AdamW applies the decay after the Adam step; torch.optim.AdamW shrinks the weights first "
                    "and then takes the Adam step (both from the old param)",
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
]

MAX_NORM = [
    Mistake(
        id="maxnorm_columns", target="max_norm_", section=KERAS, match=r"ROW",
        explanation="your constraint acts on the columns (Keras' axis=0 copied onto a PyTorch weight); a PyTorch "
                    "weight is (out, in), so each unit's incoming weights are a ROW (norm over dim=1)",
        change=(("weight.norm(dim=1, keepdim=True)", "weight.norm(dim=0, keepdim=True)"),),
    ),
    Mistake(
        id="maxnorm_rescales_every_row", target="max_norm_", section=KERAS, match=r"EXCEEDS",
        explanation="your constraint scales every row to norm max_value; it only shrinks the rows whose norm "
                    "exceeds max_value and leaves the others alone",
        change=(("torch.where(norms > max_value, max_value / (norms + 1e-7), torch.ones_like(norms))",
                 "max_value / (norms + 1e-7)"),),
    ),
    Mistake(
        id="maxnorm_not_in_place", target="max_norm_", section=KERAS, match=r"in place",
        explanation="your max_norm_ returns a rescaled copy and leaves the weight unchanged; the trailing underscore "
                    "means in place: the layer's weight itself must change",
        code='''
def max_norm_(weight, max_value):
    return torch.renorm(weight.detach(), 2, 0, max_value)
''',
    ),
    Mistake(
        id="maxnorm_without_no_grad", target="max_norm_", section=KERAS, match=r"torch\.no_grad",
        explanation="your max_norm_ changes a Parameter in place outside torch.no_grad(), which autograd forbids "
                    "for a leaf that requires grad; wrap the in-place update in with torch.no_grad():",
        code='''
def max_norm_(weight, max_value):
    norms = weight.norm(dim=1, keepdim=True)
    factor = torch.where(norms > max_value, max_value / (norms + 1e-7), torch.ones_like(norms))
    weight.mul_(factor)
    return weight
''',
    ),
    Mistake(
        id="maxnorm_returns_none", target="max_norm_", section=KERAS, match=r"must return weight itself",
        explanation="your max_norm_ changes the weight in place but returns None; like torch.nn.init's functions it "
                    "returns the tensor it changed, so that calls can be chained",
        change=(("    return weight\n", ""),),
    ),
]

RETRAIN = ("Then train on the validation images too", "then-train-on-the-validation-images-too")
PLAN_RETURN = "return stop_epoch, best_epoch, best_epoch + 1, float(train_losses[best_epoch])"

PLAN = [
    Mistake(
        id="plan_restore_last", target="early_stopping_plan", section=PATIENCE, match=r"restores the BEST epoch",
        explanation="your plan restores the epoch at which training stopped (the last weights); early stopping "
                    "restores the best epoch up to the stop, and Algorithms 7.2 and 7.3 start from it",
        change=((PLAN_RETURN, "return stop_epoch, stop_epoch, stop_epoch + 1, float(train_losses[stop_epoch])"),),
    ),
    Mistake(
        id="plan_patience_off_by_one", target="early_stopping_plan", section=EARLY, match=r"wait > patience gives",
        explanation="your plan stops one epoch late: it stops when wait > patience; the rule stops at the first epoch "
                    "with wait >= patience (patience=2: the second epoch in a row without improvement)",
        change=(("if wait >= patience:", "if wait > patience:"),),
    ),
    Mistake(
        id="plan_restore_whole_curve", target="early_stopping_plan", section=PATIENCE, match=r"never trained",
        explanation="your plan restores the lowest validation loss of the WHOLE curve, including epochs after the "
                    "stop that early stopping never trains; the restored epoch is the best one up to the stop",
        change=((PLAN_RETURN, "best_epoch = min(range(len(val_losses)), key=lambda t: val_losses[t])\n    "
                 + PLAN_RETURN),),
    ),
    Mistake(
        id="plan_retrain_zero_based", target="early_stopping_plan", section=RETRAIN, match=r"0-based, so reaching",
        explanation="your retrain_epochs equals restore_epoch: epochs are 0-based, so the restored network had "
                    "trained restore_epoch + 1 epochs, and Algorithm 7.2 retrains for as many",
        change=(("best_epoch, best_epoch + 1,", "best_epoch, best_epoch,"),),
    ),
    Mistake(
        id="plan_target_val_loss", target="early_stopping_plan", section=RETRAIN, match=r"VALIDATION loss",
        explanation="your target_loss is the validation loss at the restored epoch; Algorithm 7.3 continues until "
                    "the validation loss falls to the TRAINING loss the network had at that epoch (a validation "
                    "loss already at its best would stop at once)",
        change=(("float(train_losses[best_epoch])", "float(val_losses[best_epoch])"),),
    ),
    Mistake(
        id="plan_tie_is_improvement", target="early_stopping_plan", section=EARLY, match=r"\btie",
        explanation="your plan counts a tie with the best validation loss as an improvement (<= instead of <); the "
                    "rule is strict: a plateau is not progress, so it stops earlier and restores the first best epoch",
        change=(("if value + min_delta < best:", "if value + min_delta <= best:"),),
    ),
]

MISTAKES = EARLY_STOPPING + L2 + SGD + ADAM_STEP + MAX_NORM + PLAN

"""Chapter 7: early stopping, weight decay and max-norm. Graded: a Keras-style EarlyStopping (its rule, and the best
weights it keeps and restores), the L2 penalty of a model, one SGD step, one Adam / AdamW step, max_norm_, and a
judgment part: early_stopping_plan reads a finished run's curves (stop, restore, Algorithm 7.2's epochs and 7.3's
target loss) on random curves drawn per batch seed.

Every input is data made here: values fed to EarlyStopping are multiples of 1/8 (exact in binary, so ties, plateaus
and improvements of exactly min_delta are real), and a model's weights change between epochs through
``load_state_dict`` with states made here. ``load_state_dict`` copies in place into the tensors the model already
has, as an optimizer step does, so a "best" state that aliases them (a plain ``state_dict()``) follows the training
and is caught; after the last epoch the model gets yet another state (training went on), so that restoring an
alias, restoring the last epoch and restoring the parameters without the BatchNorm buffers give three different
answers. Optimizer steps are judged against the reference (proven equal to torch.optim.SGD / Adam / AdamW by
tests/test_solutions_weight_decay.py); a failing step is compared with the known wrong variants of the formula
(computed here in numpy from the very inputs the answer received) so that the message names the mistake.
"""

import math

import numpy as np

from checks import judge as J
from checks.probe import Array, Raised
from checks.spec import Case, Chapter, Test, attribute, call, function_case, let, method, module, record, var
from checks.tensors import lazy_torch, seeded_tensor
from checks.words import N_

VARIANT_RTOL, VARIANT_ATOL = 1e-11, 1e-13  # a wrong formula computed in float64 agrees with its variant to ~1e-15
CHECK_RTOL, CHECK_ATOL = 1e-10, 1e-12  # the steps' tolerance: a variant closer than this to the right answer passes


def _value(got, key, what):
    """The record ``key``, or Fail when that step raised."""
    value = got[key]
    if isinstance(value, Raised):
        J.fail(what, f"{key} raised {value.name}: {value.message[:300]}")
    return value


def _same(a, b, rtol=VARIANT_RTOL, atol=VARIANT_ATOL):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


class _State:
    """What :func:`checks.spec.module` needs of a model: its state_dict."""

    def __init__(self, state):
        self._state = state

    def state_dict(self):
        return self._state


# -- EarlyStopping: the rule ---------------------------------------------------------------------------
def _flag(value):
    """A stop flag as a Python bool, or None when it is not a bool-like value."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, Array) and value.value.size == 1 and value.value.dtype == bool:
        return bool(value.value.reshape(()))
    return None


def _count(value):
    """An epoch count for a message: 3, not 3.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "None" if value is None else repr(value)


def _show(row):
    stop, wait, best, best_epoch = row
    return f"({stop}, {_count(wait)}, {best!r}, {_count(best_epoch)})"


def _why(best, value, mode, min_delta, patience):
    """The rule that applies at this epoch, seen from the expected state before it."""
    prefix = "mode='max': larger is better. " if mode == "max" else ""
    improves = value + min_delta < best if mode == "min" else value - min_delta > best
    better = value < best if mode == "min" else value > best
    if improves:
        never = (" An improving epoch never stops training, even with patience=0: test wait >= patience only after "
                 "an epoch without improvement.") if patience == 0 else ""
        return prefix + ("this epoch improves on the BEST value so far by more than min_delta: best and best_epoch "
                         "update and wait is reset to 0." + never)
    if value == best:
        return prefix + "this epoch ties the best value: a tie is not an improvement (the comparison is strict)."
    if better:
        return prefix + (f"this epoch beats the best value by no more than min_delta={min_delta}: not an improvement "
                         f"(value + min_delta < best in mode 'min', value - min_delta > best in mode 'max'); wait "
                         f"grows by one.")
    return prefix + (f"this epoch is worse than the best value: wait grows by one, and step returns True once "
                     f"wait >= patience ({patience}).")


def _trace_steps(kwargs, values, model=None, states=None, assign=False):
    """Create the stopper, then per epoch (load a state,) step and record (stop, wait, best, best_epoch)."""
    steps = [call("EarlyStopping", save="es", **kwargs)]
    for epoch, value in enumerate(values):
        if states is not None:
            steps.append(method("model", "load_state_dict", states[epoch], **({"assign": True} if assign else {})))
        args = (value,) if model is None else (value, var(model))
        steps += [method("es", "step", *args, record=f"epoch {epoch}: stop"),
                  attribute("es", "wait", record=f"epoch {epoch}: wait"),
                  attribute("es", "best", record=f"epoch {epoch}: best"),
                  attribute("es", "best_epoch", record=f"epoch {epoch}: best_epoch")]
    return steps


def _judge_trace(got, expected, label, kwargs, values, hint=""):
    mode, min_delta = kwargs.get("mode", "min"), kwargs.get("min_delta", 0.0)
    patience = kwargs.get("patience", 5)
    shown = [float(v) for v in values]
    best = math.inf if mode == "min" else -math.inf
    expected_rows, got_rows = [], []
    for epoch, value in enumerate(shown):
        keys = [f"epoch {epoch}: {name}" for name in ("stop", "wait", "best", "best_epoch")]
        for key in keys:
            if isinstance(got[key], Raised):
                J.fail(label, f"epoch {epoch} (value {value}): {key.split(': ')[1]} raised {got[key].name}: "
                             f"{got[key].message[:300]}", hint)
        want = (bool(expected[keys[0]]), *(J.scalar(expected[k]) for k in keys[1:]))
        stop = _flag(got[keys[0]])
        if stop is None:
            J.fail(label, f"epoch {epoch}: step must return True or False, got {J.describe(got[keys[0]])}")
        row = (stop, *(J.scalar(got[k]) for k in keys[1:]))
        expected_rows.append(want)
        got_rows.append(row)
        if row != want:
            J.fail(label, f"first difference at epoch {epoch} (value {value}): expected (stop, wait, best, "
                         f"best_epoch) = {_show(want)}, got {_show(row)}\nvalues {shown}\n"
                         f"expected {', '.join(map(_show, expected_rows))}\n"
                         f"     got {', '.join(map(_show, got_rows))}\n"
                         f"The rule at this epoch: {_why(best, value, mode, min_delta, patience)}",
                   f"This trace checks: {hint}" if hint else "")
        best = want[2]


def _trace_case(kwargs, values, hint="", label=None):
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    label = label or f"EarlyStopping({args}) fed {[float(v) for v in values]}"
    return Case(label=label, steps=_trace_steps(kwargs, values),
                judge=lambda got, expected: _judge_trace(got, expected, label, kwargs, values, hint))


def _initial_case():
    label = "a new EarlyStopping, then its first step"
    steps = [call("EarlyStopping", save="es"),
             attribute("es", "best", record="best"), attribute("es", "wait", record="wait"),
             attribute("es", "best_epoch", record="best_epoch"),
             call("EarlyStopping", mode="max", save="es_max"), attribute("es_max", "best", record="best, mode max"),
             method("es", "step", 1.0, record="first step"),
             attribute("es", "best_epoch", record="best_epoch after the first step"),
             call("EarlyStopping", patience=3, min_delta=0.125, mode="max", restore_best_weights=False, save="other")]
    steps += [attribute("other", name, record=f"other.{name}")
              for name in ("patience", "min_delta", "mode", "restore_best_weights")]

    def judge(got, expected):
        best = J.scalar(_value(got, "best", label))
        if best != math.inf:
            J.fail(label, f"in mode 'min' best must start at +inf (so that the first epoch always improves), got "
                         f"{J.describe(got['best'])}")
        best_max = J.scalar(_value(got, "best, mode max", label))
        if best_max != -math.inf:
            J.fail(label, f"EarlyStopping(mode='max'): best must start at -inf (with mode='max' larger values are "
                         f"better, so the first epoch beats -inf), got {J.describe(got['best, mode max'])}")
        if J.scalar(_value(got, "wait", label)) != 0:
            J.fail(label, f"wait must start at 0, got {J.describe(got['wait'])}")
        if _value(got, "best_epoch", label) is not None:
            J.fail(label, f"best_epoch must be None before the first step (no epoch has been seen yet), got "
                         f"{J.describe(got['best_epoch'])}")
        first = _flag(_value(got, "first step", label))
        if first is not False:
            J.fail(label, f"the first epoch always improves on +inf: step(1.0) must return False, got "
                         f"{J.describe(got['first step'])}")
        after = J.scalar(_value(got, "best_epoch after the first step", label))
        if after != 0:
            J.fail(label, f"best_epoch is 0-based: after the first call of step it is 0, got "
                         f"{J.describe(got['best_epoch after the first step'])}")
        want = {"patience": 3.0, "min_delta": 0.125, "mode": "max", "restore_best_weights": False}
        for name, value in want.items():
            value_got = _value(got, f"other.{name}", label)
            ok = value_got == value if isinstance(value, str) else (
                _flag(value_got) is value if isinstance(value, bool) else J.scalar(value_got) == value)
            if not ok:
                J.fail(label, f"EarlyStopping(patience=3, min_delta=0.125, mode='max', restore_best_weights=False)."
                             f"{name} must be {value!r} (the constructor arguments are kept as attributes), got "
                             f"{J.describe(value_got)}")

    return Case(label=label, steps=steps, judge=judge)


def _tensor_values_case():
    torch = lazy_torch()
    values = [1.0, 0.75, 0.875, 0.5, 0.625, 0.75]
    kwargs = {"patience": 2}
    label = f"EarlyStopping(patience=2) fed 0-d float64 tensors {values}"
    steps = _trace_steps(kwargs, [torch.tensor(v, dtype=torch.float64) for v in values])

    def judge(got, expected):
        _judge_trace(got, expected, label, kwargs, values)
        for epoch in range(len(values)):
            best = got[f"epoch {epoch}: best"]
            if isinstance(best, Array) and best.kind == "tensor":
                J.fail(label, f"epoch {epoch}: best must be a Python float, got a tensor of dtype {best.dtype}. "
                             "Convert the monitored value with float(value): keeping the tensor of a validation loss "
                             "keeps its autograd graph alive and makes best a tensor")

    return Case(label=label, steps=steps, judge=judge)


def _random_traces(draw):
    """60 random curves: steps of multiples of 1/8 (ties, plateaus, exact min_delta)."""
    torch = lazy_torch()
    gen = torch.Generator().manual_seed(draw.seed(7))
    for case in range(60):
        mode = ("min", "max")[case % 2]
        patience = int(torch.randint(0, 5, (1,), generator=gen))
        min_delta = (0.0, 0.125, 0.2)[case % 3]
        n = int(torch.randint(8, 25, (1,), generator=gen))
        steps = (torch.randint(-3, 3, (n,), generator=gen) / 8).tolist()
        sign = 1 if mode == "min" else -1  # a curve that mostly improves, in either mode
        values = [sign * sum(steps[: i + 1]) + 2.0 for i in range(n)]
        yield _trace_case({"patience": patience, "min_delta": min_delta, "mode": mode}, values,
                          label=f"random curve {case + 1} of 60: EarlyStopping(patience={patience}, "
                                f"min_delta={min_delta}, mode={mode!r})")


def early_stopping_rule_cases(draw):
    yield _initial_case()
    yield _trace_case({"patience": 3}, [1.0, 0.9, 0.8, 0.85, 0.9, 0.95],
                      "patience=3: stop at the third epoch in a row without improvement, when wait >= patience "
                      "(not wait > patience)")
    yield _trace_case({"patience": 3}, [1.0, 1.1, 1.2, 0.5, 0.6, 0.7, 0.8],
                      "wait must be reset to 0 at every improvement (epoch 3 here), so the count starts again")
    yield _trace_case({"patience": 3}, [1.0, 0.9, 0.9, 0.9, 0.9],
                      "a tie (value == best) is not an improvement: the comparison is strict (< in mode 'min')")
    yield _trace_case({"patience": 2, "min_delta": 0.05}, [1.0, 0.97, 0.94, 0.91, 0.9],
                      "with min_delta=0.05 an epoch improves only when it beats the BEST value so far (not the "
                      "previous epoch) by more than min_delta: value + min_delta < best")
    yield _trace_case({"patience": 5, "min_delta": 0.25}, [1.0, 0.75, 0.5],
                      "an improvement of exactly min_delta does not count: value + min_delta < best is strict")
    yield _trace_case({"patience": 2, "mode": "max"}, [0.5, 0.6, 0.55, 0.7, 0.65, 0.65],
                      "mode='max' monitors an accuracy: larger values are better (value - min_delta > best)")
    yield _trace_case({"patience": 2, "mode": "max"}, [-3.0, -2.0, -2.0, -2.5],
                      "mode='max' with negative values (a log-likelihood): best starts at -inf, larger is better")
    yield _trace_case({"patience": 3, "mode": "max", "min_delta": 0.05}, [0.6, 0.62, 0.7],
                      "mode='max' with min_delta=0.05: improvement iff value - min_delta > best")
    yield _trace_case({"patience": 0}, [1.0, 0.9, 0.95],
                      "an improving epoch never stops training, even with patience=0: check wait >= patience only "
                      "after an epoch without improvement")
    yield _trace_case({"patience": 1}, [1.0, 2.0, 3.0, 0.5, 0.75],
                      "step keeps counting after it has returned True (the loop decides to stop): wait grows past "
                      "patience and an improvement still resets it")
    yield from _random_traces(draw)
    yield _tensor_values_case()
    for mode in ("auto", "maximize"):
        yield function_case("EarlyStopping", mode=mode,
                            hint=N_(f"mode={mode!r} must raise ValueError when the stopper is created: only 'min' and "
                                 "'max' are allowed (an unchecked mode would silently monitor the wrong direction)"))


# -- EarlyStopping: the weights ------------------------------------------------------------------------
SMALL = [["Linear", 3, 4], ["BatchNorm1d", 4], ["ReLU"], ["Linear", 4, 2]]
WIDE = [["Linear", 5, 6], ["BatchNorm1d", 6], ["ReLU"], ["Linear", 6, 3]]
BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def _state(layers, seed):
    """A state_dict for ``layers`` (Linear, BatchNorm1d, ReLU, Linear) with every entry, buffers too, distinct."""
    torch = lazy_torch()
    (_, n_in, n_hidden), _, _, (_, _, n_out) = layers
    return {"0.weight": seeded_tensor(seed, (n_hidden, n_in)),
            "0.bias": seeded_tensor(seed + 1, (n_hidden,), scale=0.3),
            "1.weight": seeded_tensor(seed + 2, (n_hidden,), shift=1.0, scale=0.2),
            "1.bias": seeded_tensor(seed + 3, (n_hidden,), scale=0.2),
            "1.running_mean": seeded_tensor(seed + 4, (n_hidden,), scale=0.5),
            "1.running_var": seeded_tensor(seed + 5, (n_hidden,), shift=0.5, uniform=True),
            "1.num_batches_tracked": torch.tensor(10 + seed % 1000),
            "3.weight": seeded_tensor(seed + 6, (n_out, n_hidden), scale=0.5),
            "3.bias": seeded_tensor(seed + 7, (n_out,), scale=0.2)}


def _record_state(prefix, on="model"):
    steps = [method(on, "state_dict", save=f"{on} state")]
    keys = list(_state(SMALL, 0))
    return steps + [method(f"{on} state", "__getitem__", key, record=f"{prefix}: {key}") for key in keys]


def _state_of(got, prefix, what):
    out = {}
    for key in _state(SMALL, 0):
        value = got[f"{prefix}: {key}"]
        if isinstance(value, Raised):
            J.fail(what, f"reading {key} of the model {prefix} raised {value.name}: {value.message[:300]}")
        out[key] = J.numbers(value, what)
    return out


def _matches(state, reference, keys=None):
    keys = keys or list(reference)
    # ravel: a recorded 0-d tensor (num_batches_tracked) arrives with shape (1,); load_state_dict fixes the shapes
    return all(np.array_equal(np.ravel(state[k]), np.ravel(reference[k].numpy())) for k in keys)


def _weights_case(label, layers, values, patience, states, after, after2=None, assign=False, restore_into=None):
    """Epoch e loads states[e] into the model and steps; then more training (``after``), restore, check.

    Only the weights are judged here (the rule has its own test): the curves make every rule in the catalogue
    pick the same best epoch (min_delta 0, no ties, negative values, a dip and a climb: an epoch that beats the
    previous one beats the best), and whatever step returns, training goes on to the end of the curve."""
    kwargs = {"patience": patience}
    steps = [let("model", module(layers, _State(_state(layers, 9000))))]
    steps += [call("EarlyStopping", save="es", **kwargs)]
    for epoch, value in enumerate(values):
        steps.append(method("model", "load_state_dict", states[epoch], **({"assign": True} if assign else {})))
        steps.append(method("es", "step", value, var("model"), record=f"epoch {epoch}: step"))
    steps += _record_state("after the last step")
    steps.append(method("model", "load_state_dict", after))
    target = "model"
    if restore_into is not None:
        steps.append(let("other", module(layers, _State(restore_into))))
        target = "other"
    steps.append(method("es", "restore", var(target), record="restore"))
    steps += _record_state("after restore", on=target)
    if after2 is not None:
        steps += [method(target, "load_state_dict", after2), method("es", "restore", var(target),
                                                                    record="second restore")]
        steps += _record_state("after a second restore", on=target)
    best_epoch = min(range(len(values)), key=lambda e: (values[e], e))
    best = states[best_epoch]
    last = len(values) - 1

    def judge(got, expected):
        for epoch in range(len(values)):
            outcome = got[f"epoch {epoch}: step"]
            if isinstance(outcome, Raised):
                J.fail(label, f"epoch {epoch}: step(value, model) raised {outcome.name}: {outcome.message[:300]}")
        now = _state_of(got, "after the last step", label)
        if not _matches(now, states[last]):
            extra = (" Your step loaded the best weights into the model when it returned True (Keras does that "
                     "inside fit); here the training loop calls restore(model) itself."
                     if _matches(now, best) else "")
            J.fail(label, "after the last step the model must hold the weights it was given at that epoch: step(value, "
                         "model) must not change the model (it only keeps a copy of the state)" + extra)
        if isinstance(got["restore"], Raised):
            J.fail(label, f"restore(model) raised {got['restore'].name}: {got['restore'].message[:300]}",
                  f"the best epoch was {best_epoch}: keep a deep copy of model.state_dict() when an epoch improves")
        restored = _state_of(got, "after restore", label)
        if not _matches(restored, best):
            params = [k for k in best if k.split(".")[-1] not in BUFFERS]
            wrong = next((k for k in best if not _matches(restored, best, [k])), "")
            if _matches(restored, after):
                why = ("the restored weights are the model's CURRENT ones (changed in place after the best epoch): "
                       "model.state_dict() returns the live tensors, and load_state_dict (like an optimizer step) "
                       "writes into them, so a kept state that is not a deep copy follows the training "
                       "(copy.deepcopy(model.state_dict()) is one)")
            elif _matches(restored, states[last]):
                why = (f"the restored weights are those of the LAST epoch ({last}), not of the BEST epoch "
                       f"({best_epoch}): a copy is kept only when the value improves")
            elif _matches(restored, best, params):
                why = ("the parameters are right but the buffers are not (BatchNorm's running_mean, running_var, "
                       "num_batches_tracked): keep and restore the whole state_dict(), buffers included")
            else:
                why = (f"restore(model) must load the state the model had at the BEST epoch ({best_epoch}): a deep "
                       "copy of model.state_dict() taken when that epoch improved")
            J.fail(label, f"after restore, {wrong} differs from its value at the best epoch {best_epoch}", why)
        if after2 is not None:
            if isinstance(got["second restore"], Raised):
                J.fail(label, f"a second restore(model) raised {got['second restore'].name}: "
                             f"{got['second restore'].message[:300]}")
            again = _state_of(got, "after a second restore", label)
            if not _matches(again, best):
                J.fail(label, "after restore(model), more in-place training and a second restore(model), the model "
                             f"must again hold the best epoch's weights (epoch {best_epoch})",
                      "restore must load a COPY of the kept state (load_state_dict copies; assigning the kept "
                      "tensors to the model would let the next training steps overwrite them)")

    return Case(label=label, steps=steps, judge=judge)


def _restore_without_weights_case(label, kwargs, epochs, hint):
    """restore(model) with no weights kept must raise; the model's weights are recorded after it (a restore that
    loads something, or leaves the model alone, is told apart from one that raises)."""
    steps = [let("model", module(SMALL, _State(_state(SMALL, 9100)))), call("EarlyStopping", save="es", **kwargs)]
    for value, with_model in epochs:
        steps.append(method("es", "step", value, *([var("model")] if with_model else []), record=f"step({value})"))
    steps.append(method("model", "load_state_dict", _state(SMALL, 9200)))
    steps.append(method("es", "restore", var("model"), record="restore"))
    steps += _record_state("after restore")

    def judge(got, expected):
        for value, _ in epochs:
            if isinstance(got[f"step({value})"], Raised):
                raised = got[f"step({value})"]
                J.fail(label, f"step({value}) raised {raised.name}: {raised.message[:300]}")
        J.raises(got["restore"], "ValueError", f"{label}: restore(model)", hint)

    return Case(label=label, steps=steps, judge=judge)


def _curve(gen, patience, start):
    """A validation curve in multiples of 1/8, all negative: down for 1 to 4 epochs, then up for ``patience``
    epochs (the reference stops at its last value); no ties, and an epoch that beats the previous one beats the
    best, so every rule of the catalogue agrees on the best epoch."""
    torch = lazy_torch()
    down = int(torch.randint(1, 5, (1,), generator=gen))
    steps = [-int(s) / 8 for s in torch.randint(1, 4, (down,), generator=gen)]
    steps += [int(s) / 8 for s in torch.randint(1, 4, (patience,), generator=gen)]
    values, value = [start], start
    for step in steps:
        value += step
        values.append(value)
    return values


def early_stopping_weights_cases(draw):
    values = [-1.0, -1.125, -1.25, -1.125, -1.0, -0.875]  # best epoch 2, the reference stops after epoch 5
    states = [_state(SMALL, 100 + 10 * e) for e in range(len(values))]
    yield _weights_case(f"EarlyStopping(patience=3) fed {values}, the model's state changed in place before every "
                        "epoch (as an optimizer does), then once more after the stop",
                        SMALL, values, 3, states, after=_state(SMALL, 200), after2=_state(SMALL, 210))
    values = [-0.5, -1.0, -0.75, -0.625]  # best epoch 1, the reference stops after epoch 3
    states = [_state(SMALL, 300 + 10 * e) for e in range(len(values))]
    yield _weights_case(f"EarlyStopping(patience=2) fed {values}, NEW weight tensors at every epoch "
                        "(load_state_dict(..., assign=True)), then more training after the stop",
                        SMALL, values, 2, states, after=_state(SMALL, 400), assign=True)
    torch = lazy_torch()
    for seed in range(4):
        gen = torch.Generator().manual_seed(draw.seed(100 + seed))
        values = _curve(gen, 2 + seed, -1.0 - seed / 4)
        base = draw.seed(1000 * (seed + 1)) % 10**6
        states = [_state(WIDE, base + 10 * e) for e in range(len(values))]
        yield _weights_case(f"EarlyStopping(patience={2 + seed}) fed {values} (until it stops), states changed in "
                            "place, restored into another model of the same architecture",
                            WIDE, values, 2 + seed, states, after=_state(WIDE, base + 500),
                            restore_into=_state(WIDE, base + 600))
    yield _restore_without_weights_case(
        "EarlyStopping().restore(model) before any step", {}, [],
        "restore(model) with no weights kept must raise ValueError (a clear error, not a crash on None)")
    yield _restore_without_weights_case(
        "EarlyStopping(restore_best_weights=False), two improving steps with the model, then restore(model)",
        {"restore_best_weights": False}, [(-1.0, True), (-1.5, True)],
        "with restore_best_weights=False step keeps no weights, so restore(model) has nothing to load and must raise "
        "ValueError")
    yield _restore_without_weights_case(
        "EarlyStopping(), two improving steps WITHOUT a model, then restore(model)", {}, [(-1.0, False), (-1.5, False)],
        "step(value) without a model keeps no weights, so restore(model) has nothing to load and must raise "
        "ValueError")


# -- l2_penalty ----------------------------------------------------------------------------------------
def _build(layers, seed, setup=None):
    """A float64 nn.Sequential of ``layers`` with seeded weights (``setup(model)`` may set some by hand)."""
    torch = lazy_torch()
    with torch.random.fork_rng(devices=[]):  # the caller's global random state is left as it was
        torch.manual_seed(seed)
        model = torch.nn.Sequential(*[getattr(torch.nn, name)(*args) for name, *args in layers]).to(torch.float64)
        if setup is not None:
            with torch.no_grad():
                setup(model)
    return model


def _l2_alternatives(model, lam):
    """(value, hint) of the known wrong penalties of ``model``."""
    params = dict(model.named_parameters())
    squares = {name: float((p.detach() ** 2).sum()) for name, p in params.items()}
    matrices = [n for n, p in params.items() if p.dim() > 1]
    right = lam / 2 * sum(squares[n] for n in matrices)
    alternatives = [
        (lam * sum(squares[n] for n in matrices),
         "your penalty is twice the expected one: the 1/2 is missing ((lam / 2) * sum W**2, so that its gradient is "
         "lam * W; Keras' l2(c) has no 1/2)"),
        (lam / 2 * sum(math.sqrt(squares[n]) for n in matrices),
         "you summed the norms ||W||: the penalty uses the SQUARED entries, sum of W**2 (no square root)"),
        (lam / 2 * sum(squares.values()),
         "you penalized every parameter: the bias must not be penalized (nor any 1-D parameter); select the "
         "parameters with p.dim() > 1"),
        (lam / 2 * sum(v for n, v in squares.items() if "bias" not in n),
         "you selected the parameters by name: normalization scales are 1-D parameters named 'weight' and are not "
         "penalized; select by p.dim() > 1, not by name"),
    ]
    return [(value, hint) for value, hint in alternatives if not math.isclose(value, right, rel_tol=1e-9)]


L2_HINT = (N_("(lam / 2) * sum of W**2 over every parameter with more than one dimension (weight matrices, kernels, "
           "embeddings); biases and normalization scales and shifts (1-D) are not penalized"))


def _l2_case(label, layers, seed, lam, setup=None, grads=True):
    model = _build(layers, seed, setup)
    matrices = [name for name, p in model.named_parameters() if p.dim() > 1]
    alternatives = _l2_alternatives(model, lam)
    steps = [let("model", module(layers, model)),
             call("l2_penalty", var("model"), lam, save="penalty", record="penalty"),
             method("penalty", "dim", record="penalty.dim()")]  # a 0-d tensor is recorded with shape (1,)
    if grads and matrices:
        steps.append(method("penalty", "backward"))
        for name in matrices:
            steps += [method("model", "get_parameter", name, save=f"param {name}"),
                      attribute(f"param {name}", "grad", record=f"grad of {name}")]

    def judge(got, expected):
        penalty = got["penalty"]
        if isinstance(penalty, Raised):
            J.fail(label, f"raised {penalty.name}: {penalty.message[:300]}")
        if not matrices:
            J.is_tensor(penalty, label, hint=N_("a model without any parameter of more than one "
                                                "dimension has penalty 0: "
                                             "return it as a 0-d tensor all the same (torch.zeros(())); Python's "
                                             "sum() of nothing is the int 0, not a tensor"))
        else:
            J.is_tensor(penalty, label, hint=N_("return a torch tensor built from the parameters (no .item(), no "
                                             "float()), so that the penalty stays differentiable and can be added "
                                             "to the loss and backpropagated"))
        dim = got["penalty.dim()"]
        if isinstance(dim, Raised) or dim != 0:
            J.fail(label, f"the penalty must be a 0-d tensor (a torch scalar, as sum() gives), got {dim} dimension(s)")
        value = J.numbers(penalty, label).reshape(())
        hint = next((text for alt, text in alternatives if math.isclose(float(value), alt, rel_tol=1e-9)), L2_HINT)
        J.close(value, J.numbers(expected["penalty"], label).reshape(()), label, hint=hint, rtol=1e-10, atol=1e-12)
        if matrices and lam > 0 and not penalty.requires_grad:
            J.fail(label, "the penalty does not require grad: build it from the parameters with torch operations "
                         "(no .item(), .detach(), float() or numpy), so that it stays differentiable")
        for name in matrices if grads else []:
            J.close(got[f"grad of {name}"], expected[f"grad of {name}"], f"{label}: gradient with respect to {name}",
                    hint=N_("the gradient of (lam / 2) * sum(W**2) with respect to W is lam * W"), rtol=1e-10,
                    atol=1e-12)

    return Case(label=label, steps=steps, judge=judge)


def _set_row(model):
    model[0].weight.copy_(model[0].weight.new_tensor([[1.0, 2.0]]))
    if model[0].bias is not None:
        model[0].bias.fill_(5.0)


def _norm_layers_big(model):
    for index in (1, 3):
        model[index].weight.fill_(3.0)
        model[index].bias.fill_(-2.0)


def _norm_layers_random(model):
    for index in (1, 4):
        model[index].weight.uniform_(1.0, 2.0)
        model[index].bias.uniform_(-2.0, 2.0)


def l2_penalty_cases(draw):
    yield _l2_case("l2_penalty(Linear(2, 1, bias=False) with weight [[1, 2]], 0.5) = 1.25 [visible]",
                   [["Linear", 2, 1, False]], 0, 0.5, _set_row)
    yield _l2_case("l2_penalty(Linear(2, 1) with weight [[1, 2]] and bias 5, 0.5) = 1.25 [visible]",
                   [["Linear", 2, 1]], 0, 0.5, _set_row)
    net = [["Linear", 4, 3], ["BatchNorm1d", 3], ["Linear", 3, 3, False], ["LayerNorm", 3]]
    yield _l2_case("l2_penalty(Linear, BatchNorm1d, Linear without bias, LayerNorm; norm scales 3, shifts -2; 0.3) "
                   "[visible]", net, 0, 0.3, _norm_layers_big)
    yield _l2_case("l2_penalty(the same model, 0.0) = 0 [visible]", net, 0, 0.0, _norm_layers_big, grads=False)
    big = [["Conv2d", 2, 3, [3, 2]], ["BatchNorm2d", 3], ["Flatten"], ["Linear", 3 * 4 * 5, 6], ["LayerNorm", 6],
           ["Linear", 6, 4, False], ["Embedding", 5, 2]]
    for seed, lam in [(1, 0.01), (2, 0.7), (3, 3.0)]:
        yield _l2_case(f"l2_penalty(Conv2d, BatchNorm2d, Flatten, Linear, LayerNorm, Linear, Embedding; {lam})", big,
                       draw.seed(seed), lam, _norm_layers_random)
    yield _l2_case("l2_penalty(a model with only a BatchNorm1d (1-D parameters), 0.5) = 0 as a 0-d tensor",
                   [["BatchNorm1d", 3]], 4, 0.5, lambda m: m[0].weight.fill_(2.0))
    yield _l2_case("l2_penalty(a model without parameters, nn.ReLU(), 0.5) = 0 as a 0-d tensor", [["ReLU"]], 5, 0.5)


# -- sgd_step ------------------------------------------------------------------------------------------
def _sgd_variants(p, g, lr, wd):
    return [(p - lr * g, "you returned the step without decay: weight_decay was ignored (add weight_decay * param "
                         "to the gradient)"),
            (p - lr * (g - wd * p), "the sign of the decay is wrong: ADD weight_decay * param to the gradient (it "
                                    "pulls the weights towards 0)"),
            (p * (1 - wd) - lr * g, "the decay must be multiplied by lr too: (1 - lr * weight_decay) * param, not "
                                    "(1 - weight_decay) * param")]


SGD_HINT = N_("one torch.optim.SGD step (no momentum): param - lr * (grad + weight_decay * param)")


def _same_dtype(got, expected, what, name):
    if got.dtype != expected.dtype:
        J.fail(what, f"{name} must keep the dtype of param ({expected.dtype}), got {got.dtype}: a tensor created "
                    "without dtype= (torch.zeros, torch.tensor of Python numbers) is float32; use zeros_like or "
                    "dtype=param.dtype")


def _check_sgd(got, expected, what, p, g, lr, wd):
    if isinstance(got, Raised):
        J.fail(what, f"raised {got.name}: {got.message[:300]}")
    J.is_tensor(got, what, hint=N_("return the new parameter as a torch tensor"))
    _same_dtype(got, expected, what, "the new param")
    value = J.numbers(got, what)
    hint = next((text for alt, text in _sgd_variants(p, g, lr, wd)
                 if not _same(alt, J.numbers(expected, what), CHECK_RTOL, CHECK_ATOL) and _same(value, alt)), SGD_HINT)
    J.close(got, expected, what, hint=hint, rtol=CHECK_RTOL, atol=CHECK_ATOL)


def _sgd_case(label, p, g, lr, wd):
    p_np, g_np = p.numpy().copy(), g.numpy().copy()
    return function_case("sgd_step", p, g, lr, weight_decay=wd, label=label,
                         compare=lambda got, exp, what: _check_sgd(got, exp, what, p_np, g_np, lr, wd))


def _sgd_chain_case():
    torch = lazy_torch()
    gen = torch.Generator().manual_seed(0)
    start = torch.randn(4, 3, dtype=torch.float64, generator=gen)
    grads = [torch.randn(4, 3, dtype=torch.float64, generator=gen) for _ in range(30)]
    label = "30 sgd_step calls, each on the previous result, against torch.optim.SGD(lr=0.05, weight_decay=0.3)"
    steps = [let("p0", start)]
    for k, grad in enumerate(grads, start=1):
        steps.append(call("sgd_step", var(f"p{k - 1}"), grad, 0.05, weight_decay=0.3, save=f"p{k}",
                          record=f"step {k}"))

    def judge(got, expected):
        before = start.numpy()
        for k, grad in enumerate(grads, start=1):
            _check_sgd(got[f"step {k}"], expected[f"step {k}"], f"{label}: step {k}", before, grad.numpy(), 0.05, 0.3)
            before = J.numbers(got[f"step {k}"], label)

    return Case(label=label, steps=steps, judge=judge)


def sgd_step_cases(draw):
    torch = lazy_torch()
    p, g = torch.tensor([1.0, -2.0], dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    yield _sgd_case("sgd_step([1, -2], [1, 1], 0.1, weight_decay=0.1) = [0.89, -2.08] [visible]", p, g, 0.1, 0.1)
    yield _sgd_chain_case()
    for i, (shape, lr, wd) in enumerate([((5,), 0.1, 0.0), ((3, 4), 0.01, 1.5), ((2, 3, 2), 0.5, 0.02)]):
        yield _sgd_case(f"sgd_step(param of shape {shape}, grad, {lr}, weight_decay={wd})",
                        seeded_tensor(draw.seed(303 + i), shape, shift=1.0), seeded_tensor(draw.seed(313 + i), shape),
                        lr, wd)


# -- adam_step -----------------------------------------------------------------------------------------
def _adam_np(p, g, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False, variant=None):
    """One Adam / AdamW step in numpy, or one of its known wrong variants."""
    beta1, beta2 = betas
    if variant == "swapped":
        decoupled = not decoupled
    if decoupled and variant != "decay_after":
        p = p * (1 - (weight_decay if variant == "decay_no_lr" else lr * weight_decay))
    elif not decoupled:
        g = g + weight_decay * p
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * (np.abs(g) if variant == "v_abs" else g * g)
    step = t - 1 if variant == "t_from_zero" else t
    with np.errstate(all="ignore"):
        c1, c2 = (1.0, 1.0) if variant == "no_bias_correction" else (1 - beta1**step, 1 - beta2**step)
        m_hat, v_hat = m / c1, v / c2
        denom = np.sqrt(v_hat + eps) if variant == "eps_inside" else np.sqrt(v_hat) + eps
        p = p - lr * m_hat / denom
    if decoupled and variant == "decay_after":
        p = p * (1 - lr * weight_decay)
    return (p, m_hat, v_hat) if variant == "corrected_moments" else (p, m, v)


ADAM_VARIANTS = {
    "eps_inside": "your numbers equal Adam with eps INSIDE the square root, sqrt(v_hat + eps); torch adds eps "
                  "outside it: m_hat / (sqrt(v_hat) + eps)",
    "no_bias_correction": "your numbers equal Adam without bias correction: the bias correction is missing (divide "
                          "m by 1 - beta1**t and v by 1 - beta2**t)",
    "t_from_zero": "your numbers equal a bias correction with t - 1: t counts from 1, so the first step divides by "
                   "1 - beta**1 (1 - beta**0 = 0 would divide by zero)",
    "corrected_moments": "the m and v you returned are bias-corrected: return the raw moments m_t, v_t (torch's "
                         "exp_avg and exp_avg_sq); the correction is used only inside the update",
    "v_abs": "your v averages |grad|: v is the moving average of the SQUARED gradient, grad**2",
    "decay_no_lr": "AdamW's decay must be multiplied by lr: param * (1 - lr * weight_decay), not "
                   "param * (1 - weight_decay)",
    "decay_after": "your AdamW applies the decay after the Adam step: AdamW shrinks the weights before the Adam step "
                   "(both use the old param)",
}
SWAPPED = {False: "these are AdamW's numbers: with decoupled=False (torch.optim.Adam) add weight_decay * param to "
                  "the gradient instead of shrinking the weights",
           True: "these are the numbers of Adam with coupled L2: decoupled=True (torch.optim.AdamW) must shrink the "
                 "weights, param * (1 - lr * weight_decay), instead of adding the decay to the gradient"}
ADAM_HINT = {False: "Adam with coupled L2: g = grad + weight_decay * param; raw moments m, v of g and g**2; update "
                    "param - lr * m_hat / (sqrt(v_hat) + eps) with m_hat = m / (1 - beta1**t), v_hat = v / "
                    "(1 - beta2**t), t counting from 1",
             True: "AdamW: param * (1 - lr * weight_decay) first, then the Adam step with the raw gradient (raw "
                   "moments m, v returned; bias correction with t counting from 1; eps outside the square root)"}


def _adam_hint(got_arrays, inputs, t, settings, decoupled):
    """The text of the known wrong variant that the answer's outputs equal, else the generic hint."""
    right = _adam_np(*inputs, t, **settings, decoupled=decoupled)
    names = list(ADAM_VARIANTS) + ["swapped"]
    for name in names:
        if name in ("decay_no_lr", "decay_after") and not decoupled:
            continue
        wrong = _adam_np(*inputs, t, **settings, decoupled=decoupled, variant=name)
        differs = not all(_same(a, b, CHECK_RTOL, CHECK_ATOL) for a, b in zip(wrong, right, strict=True))
        if differs and all(_same(a, b) for a, b in zip(got_arrays, wrong, strict=True)):
            return SWAPPED[decoupled] if name == "swapped" else ADAM_VARIANTS[name]
    return ADAM_HINT[decoupled]


def _check_adam(got, expected, what, inputs, t, settings, decoupled):
    if isinstance(got, Raised):
        J.fail(what, f"raised {got.name}: {got.message[:300]}")
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        J.fail(what, f"must return the tuple (param, m, v), got {J.describe(got)}")
    for name, value, want in zip(("param", "m", "v"), got, expected, strict=True):
        J.is_tensor(value, f"{what}: {name}")
        _same_dtype(value, want, what, name)
    arrays = [J.numbers(value, what) for value in got]
    try:
        for name, value, want in zip(("param", "m", "v"), got, expected, strict=True):
            J.close(value, want, f"{what}: {name}", rtol=CHECK_RTOL, atol=CHECK_ATOL)
    except J.Fail as failure:
        shapes_ok = all(a.shape == inputs[0].shape for a in arrays)
        hint = _adam_hint(arrays, inputs, t, settings, decoupled) if shapes_ok else ADAM_HINT[decoupled]
        raise J.Fail(f"{failure}\n{hint}") from None


def _adam_case(label, p, g, m, v, t, settings, decoupled):
    inputs = tuple(x.numpy().copy() for x in (p, g, m, v))
    kwargs = dict(settings, **({"decoupled": True} if decoupled else {}))
    return function_case("adam_step", p, g, m, v, t, label=label, **kwargs,
                         compare=lambda got, exp, what: _check_adam(got, exp, what, inputs, t, settings, decoupled))


def _adam_chain_case(label, seed, shape, settings, decoupled, steps_count=40, scale=1.0, shift=0.0):
    torch = lazy_torch()
    gen = torch.Generator().manual_seed(seed)
    start = torch.randn(shape, dtype=torch.float64, generator=gen)
    grads = [torch.randn(shape, dtype=torch.float64, generator=gen) * scale + shift for _ in range(steps_count)]
    zeros = torch.zeros(shape, dtype=torch.float64)
    kwargs = dict(settings, **({"decoupled": True} if decoupled else {}))
    steps = [let("s0", (start, zeros, zeros))]
    for t, grad in enumerate(grads, start=1):
        steps.append(call("adam_step", var(f"s{t - 1}", 0), grad, var(f"s{t - 1}", 1), var(f"s{t - 1}", 2), t,
                          save=f"s{t}", record=f"step t={t}", **kwargs))

    def judge(got, expected):
        inputs = [start.numpy(), None, zeros.numpy(), zeros.numpy()]
        for t, grad in enumerate(grads, start=1):
            inputs[1] = grad.numpy()
            _check_adam(got[f"step t={t}"], expected[f"step t={t}"], f"{label}: step t={t}", tuple(inputs), t,
                        settings, decoupled)
            p_new, m_new, v_new = (J.numbers(x, label) for x in got[f"step t={t}"])
            inputs = [p_new, None, m_new, v_new]

    return Case(label=label, steps=steps, judge=judge)


def _adam_cases(decoupled, seed, draw):
    torch = lazy_torch()
    name = "AdamW" if decoupled else "Adam"
    p, g = torch.tensor([1.0, -2.0], dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    zeros = torch.zeros(2, dtype=torch.float64)
    expected = "[0.89, -2.08]" if decoupled else "[0.9, -2.1]"
    yield _adam_case(f"{name}: adam_step([1, -2], [1, 1], m=0, v=0, t=1, lr=0.1, weight_decay=0.1) -> param "
                     f"{expected} [visible]", p, g, zeros, zeros, 1, {"lr": 0.1, "weight_decay": 0.1}, decoupled)
    # eps = 0.1 against sqrt(v_hat) of about 0.01: eps inside or outside the square root changes the step by 3x.
    small = seeded_tensor(seed, (5,), scale=0.01)
    yield _adam_case(f"{name}: eps=0.1 with gradients of about 0.01 (where eps's place matters), t=3",
                     seeded_tensor(seed + 1, (5,), shift=0.5), small, small * 0.5, small**2 * 0.8, 3,
                     {"lr": 0.1, "eps": 0.1, "weight_decay": 0.05}, decoupled)
    if decoupled:
        yield _adam_chain_case("40 AdamW steps, each on the previous (param, m, v), against torch.optim.AdamW(lr=0.02, "
                               "betas=(0.9, 0.95), eps=1e-06, weight_decay=0.5)", 2, (5,),
                               {"lr": 0.02, "betas": (0.9, 0.95), "eps": 1e-6, "weight_decay": 0.5}, True)
        settings = [((4,), 1, {"weight_decay": 0.01}), ((3, 3), 12, {"lr": 0.05, "weight_decay": 2.0}),
                    ((2, 5), 40, {"lr": 0.003, "betas": (0.8, 0.99), "eps": 1e-4, "weight_decay": 0.3})]
    else:
        yield _adam_chain_case("40 Adam steps, each on the previous (param, m, v), against torch.optim.Adam(lr=0.05, "
                               "betas=(0.8, 0.99), eps=0.01, weight_decay=0.2)", 1, (3, 4),
                               {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-2, "weight_decay": 0.2}, False,
                               scale=0.1, shift=0.05)
        settings = [((6,), 1, {}), ((3, 2), 7, {"lr": 0.01, "weight_decay": 0.5}),
                    ((2, 2, 3), 25, {"lr": 0.1, "betas": (0.5, 0.9), "eps": 1e-3, "weight_decay": 0.05})]
    for i, (shape, t, kwargs) in enumerate(settings):
        base = draw.seed(seed + 10 * (i + 1)) % 2**62
        yield _adam_case(f"{name}: param of shape {shape}, t={t}, {kwargs}, non-zero m and v",
                         seeded_tensor(base, shape, shift=-0.5 if decoupled else 0.5), seeded_tensor(base + 1, shape),
                         seeded_tensor(base + 2, shape, scale=0.1),
                         seeded_tensor(base + 3, shape, scale=0.1, uniform=True), t,
                         kwargs, decoupled)


def adam_step_cases(draw):
    yield from _adam_cases(False, 404, draw)


def adam_step_decoupled_cases(draw):
    yield from _adam_cases(True, 505, draw)


# -- max_norm_ -----------------------------------------------------------------------------------------
MAXNORM_RTOL = 1e-6  # torch divides by (norm + 1e-7); an answer without the 1e-7 differs by at most ~1e-7 relative


def _max_norm_variants(w, c):
    rows = np.linalg.norm(w, axis=1, keepdims=True) + 1e-7  # as torch.renorm (a zero row stays zero)
    cols = np.linalg.norm(w, axis=0, keepdims=True) + 1e-7
    return [(w, "the weight is unchanged: max_norm_ works in place, modify weight itself (weight.mul_(...) inside "
                "torch.no_grad()) and return it"),
            (w * np.where(cols > c, c / cols, 1.0), "you constrained the COLUMNS: each ROW of an (out, in) weight "
                                                    "(one unit's incoming weights, norm over dim=1) is constrained"),
            (w * c / rows, "you rescaled every row to norm max_value: only rows whose norm EXCEEDS max_value are "
                           "rescaled, the others are left as they are")]


def _max_norm_case(label, weight, max_value, hint, parameter=False):
    original = weight.numpy().copy()
    if parameter:
        layers = [["Linear", weight.shape[1], weight.shape[0]]]
        steps = [let("model", module(layers, _build(layers, 0, lambda m: m[0].weight.copy_(weight)))),
                 attribute("model", "0", save="layer"), attribute("layer", "weight", save="w")]
    else:
        steps = [let("w", weight)]
    steps += [call("max_norm_", var("w"), max_value, save="returned", record="returned"),
              record("weight after", var("w")),
              method("returned", "is_set_to", var("w"), record="returned is weight")]

    def judge(got, expected):
        returned = got["returned"]
        if isinstance(returned, Raised):
            no_grad = (" On a Parameter that requires grad an in-place change must run inside with torch.no_grad():"
                       if parameter else "")
            J.fail(label, f"raised {returned.name}: {returned.message[:300].rstrip('.')}.{no_grad}", hint)
        after = J.numbers(got["weight after"], label)
        want = J.numbers(expected["weight after"], label)
        if not _same(after, want, MAXNORM_RTOL, 1e-12):
            why = next((text for alt, text in _max_norm_variants(original, max_value)
                        if not _same(alt, want, 1e-4, 1e-9) and _same(after, alt, MAXNORM_RTOL, 1e-12)), hint)
            J.close(after, want, f"{label}: the weight after max_norm_", hint=why, rtol=MAXNORM_RTOL, atol=1e-12)
        is_weight = got["returned is weight"]
        if isinstance(is_weight, Raised) or _flag(is_weight) is not True:
            J.fail(label, f"max_norm_ must return weight itself (the same tensor, changed in place), got "
                         f"{J.describe(returned)}")

    return Case(label=label, steps=steps, judge=judge)


def max_norm_cases(draw):
    torch = lazy_torch()
    f64 = torch.float64
    yield _max_norm_case("max_norm_([[3, 4], [0.3, 0.4], [0, 0]], 1.0) [visible]",
                         torch.tensor([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]], dtype=f64), 1.0,
                         "each ROW whose norm exceeds max_value is scaled to it: row [3, 4] (norm 5) becomes "
                         "[0.6, 0.8]; a row of norm 0.5 stays, a zero row stays zero")
    yield _max_norm_case("max_norm_([[1, 1, 1, 1], [0.1, 0.1, 0.1, 0.1]], 1.0): rows of norm 2 and 0.2 [visible]",
                         torch.tensor([[1.0] * 4, [0.1] * 4], dtype=f64), 1.0,
                         "the constraint acts on the ROWS of an (out, in) weight (norm over dim=1)")
    gen = torch.Generator().manual_seed(0)
    weight = torch.randn(6, 5, dtype=f64, generator=gen) * torch.logspace(-1, 0.5, 6, dtype=f64)[:, None]
    yield _max_norm_case("max_norm_(weight of shape (6, 5), 1.5) against torch.renorm(weight, 2, 0, 1.5) [visible]",
                         weight, 1.5, "must equal torch.renorm(weight, 2, 0, max_value)")
    yield _max_norm_case("max_norm_(layer.weight, 0.5) on the Parameter (requires grad) of a Linear(4, 3) [visible]",
                         seeded_tensor(607, (3, 4), scale=10.0), 0.5,
                         "max_norm_ on a Parameter: change it in place inside with torch.no_grad():", parameter=True)
    for i, (shape, max_value) in enumerate([((8, 3), 0.5), ((3, 9), 2.0), ((10, 10), 1.0)]):
        scales = torch.logspace(-1, 0.7, shape[0], dtype=f64)[:, None]
        yield _max_norm_case(f"max_norm_(weight of shape {shape}, {max_value})",
                             seeded_tensor(draw.seed(606 + 10 * i), shape) * scales,
                             max_value, "rows of norm > max_value scaled to max_value, in place; other rows unchanged")


# -- early_stopping_plan: the judgment part ------------------------------------------------------------
PLAN_OUTPUTS = ("stop_epoch", "restore_epoch", "retrain_epochs", "target_loss")


def _plan(val, patience, min_delta=0.0, tie=False, late=False):
    """(stop_epoch, restore_epoch) of the rule, or of a variant: ties improve, or stop at wait > patience. Trusted
    side, only to name what a wrong answer did."""
    best, best_epoch, wait = math.inf, None, 0
    for epoch, value in enumerate(val):
        if value + min_delta < best or (tie and value + min_delta <= best):
            best, best_epoch, wait = value, epoch, 0
            continue
        wait += 1
        if (wait > patience) if late else (wait >= patience):
            return epoch, best_epoch
    return len(val) - 1, best_epoch


def _plan_compare(train, val, patience, min_delta):
    stop, restore = _plan(val, patience, min_delta)
    stop_late = _plan(val, patience, min_delta, late=True)[0]
    stop_tie = _plan(val, patience, min_delta, tie=True)[0]
    overall = min(range(len(val)), key=lambda t: (val[t], t))  # the first minimum of the whole curve

    def compare(got, expected, what):
        if isinstance(got, Raised) or not isinstance(got, (tuple, list)) or len(got) != 4:
            J.fail(what, f"expected a tuple ({', '.join(PLAN_OUTPUTS)}), got {J.describe(got)}")
        values = [J.scalar(v) for v in got]
        rule = (f"training stops after the first epoch without improvement at which wait >= patience "
                f"({patience}), 0-based; T - 1 = {len(val) - 1} when it never stops")
        notes = [(stop_late, "A stop one epoch later is what wait > patience gives."),
                 (stop_tie, "This stop is what counting a tie with the best value as an improvement (<=) gives."),
                 (stop + 1, "One more than the expected epoch: are your epochs 1-based?")]
        hints = {
            "stop_epoch": (rule, notes),
            "restore_epoch": (f"the restored epoch is the best one up to the stop (epoch {stop}), by the same rule",
                              [(stop, "This is the stop epoch: early stopping restores the BEST epoch, not the last "
                                      "one."),
                               (overall, "This is the best epoch of the whole curve, but the epochs after the stop "
                                         "were never trained: look only up to the stop."),
                               (restore + 1, "One more than the expected epoch: are your epochs 1-based?")]),
            "retrain_epochs": ("Algorithm 7.2 retrains for as many epochs as the restored run had trained",
                               [(restore, "This is restore_epoch itself: epochs are 0-based, so reaching epoch t* "
                                          "takes t* + 1 epochs.")]),
            "target_loss": ("Algorithm 7.3 continues until the validation loss falls to the TRAINING loss at the "
                            "restored epoch", []),
        }
        for name, value, want in zip(PLAN_OUTPUTS, values, expected, strict=True):
            want = J.scalar(want)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value == want:
                continue
            rule_text, variants = hints[name]
            if name == "target_loss":
                variants = [(val[restore], "This is the VALIDATION loss at the restored epoch; the target is the "
                                           "training loss there."),
                            (train[stop], "This is the training loss at the stop epoch, not at the restored one.")]
            note = " ".join(text for key, text in variants if isinstance(value, (int, float)) and value == key
                            and key != want)
            J.fail(what, f"{name}: expected {_count(want)}, got {J.describe(got[PLAN_OUTPUTS.index(name)])}",
                   f"{rule_text}. {note}".strip())
    return compare


def _plan_case(label, train, val, patience, min_delta=0.0):
    kwargs = {"min_delta": min_delta} if min_delta else {}
    valid = len(val) > 0 and len(train) == len(val)  # else the reference raises: no outputs to compare
    return function_case("early_stopping_plan", list(train), list(val), patience, label=label,
                         compare=_plan_compare(list(train), list(val), patience, min_delta) if valid else None,
                         hint=N_("raise ValueError for empty curves or curves of different lengths"), **kwargs)


def _random_curves(rng, n):
    """A U-shaped validation curve with noise and a falling training curve, on a grid of 1/64 (exact in binary:
    ties and plateaus are real)."""
    t = np.arange(n)
    turn = rng.integers(n // 4, 3 * n // 4)
    val = 1.0 + 0.5 * ((t - turn) / n) ** 2 + rng.normal(0.0, 0.03, n)
    train = 0.1 + 1.2 * np.exp(-t / (n / 3)) + rng.normal(0.0, 0.01, n)
    return (np.round(train * 64) / 64).tolist(), (np.round(val * 64) / 64).tolist()


VISIBLE_TRAIN = [1.5, 1.25, 1.0, 0.875, 0.75, 0.625, 0.5, 0.375]
VISIBLE_VAL = [1.0, 0.75, 0.5, 0.625, 0.5, 0.75, 0.25, 0.125]


def early_stopping_plan_cases(draw):
    yield _plan_case("early_stopping_plan(train, val = [1, 0.75, 0.5, 0.625, 0.5, 0.75, 0.25, 0.125], patience=2) "
                     "[visible]", VISIBLE_TRAIN, VISIBLE_VAL, 2)
    falling = [1.0 - k / 16 for k in range(10)]
    yield _plan_case("early_stopping_plan on a validation loss that falls every epoch (the rule never fires), "
                     "patience=3", [v + 0.25 for v in falling], falling, 3)
    yield _plan_case("early_stopping_plan with patience=0 (stops at the first epoch without improvement)",
                     VISIBLE_TRAIN, [1.0, 0.75, 0.75, 0.5, 0.25, 0.125, 0.0, -0.125], 0)
    yield _plan_case("early_stopping_plan with min_delta=0.125: a decrease of exactly min_delta is no improvement",
                     VISIBLE_TRAIN, [1.0, 0.875, 0.5, 0.375, 0.3125, 0.25, 0.125, 0.0], 3, min_delta=0.125)
    yield _plan_case("early_stopping_plan: the lowest validation loss comes after the stop",
                     [2.0, 1.5, 1.0, 0.75, 0.5, 0.375, 0.25, 0.125, 0.0625, 0.03125],
                     [1.0, 0.5, 0.625, 0.75, 0.875, 0.25, 0.125, 0.125, 0.25, 0.375], 3)
    for i, (n, patience, min_delta) in enumerate([(20, 2, 0.0), (30, 3, 0.0), (25, 5, 0.0), (40, 4, 0.0),
                                                  (30, 3, 1 / 32), (16, 1, 0.0)]):
        train, val = _random_curves(draw.numpy(700 + i), n)
        yield _plan_case(f"early_stopping_plan on random loss curves of {n} epochs, patience={patience}"
                         + (f", min_delta={min_delta}" if min_delta else ""), train, val, patience, min_delta)
    yield _plan_case("early_stopping_plan with curves of different lengths (must raise ValueError)",
                     [1.0, 0.5], [1.0, 0.5, 0.25], 2)
    yield _plan_case("early_stopping_plan with empty curves (must raise ValueError)", [], [], 2)


CHAPTER = Chapter(
    id="07-early-stopping",
    title="Early stopping, weight decay and other training-time regularizers",
    reference=("solutions.early_stopping", "solutions.weight_decay"),
    tests=(
        Test("test_EarlyStopping_rule", "EarlyStopping",
             'class EarlyStopping(patience=5, min_delta=0.0, mode="min", restore_best_weights=True) with step(value, '
             "model=None) and restore(model)", early_stopping_rule_cases),
        Test("test_EarlyStopping_weights", "EarlyStopping",
             'class EarlyStopping(patience=5, min_delta=0.0, mode="min", restore_best_weights=True) with step(value, '
             "model=None) and restore(model)", early_stopping_weights_cases),
        Test("test_l2_penalty", "l2_penalty", "l2_penalty(model, lam)", l2_penalty_cases),
        Test("test_sgd_step", "sgd_step", "sgd_step(param, grad, lr, weight_decay=0.0)", sgd_step_cases),
        Test("test_adam_step", "adam_step",
             "adam_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, "
             "decoupled=False)", adam_step_cases),
        Test("test_adam_step_decoupled", "adam_step",
             "adam_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, "
             "decoupled=False)", adam_step_decoupled_cases),
        Test("test_max_norm_", "max_norm_", "max_norm_(weight, max_value)", max_norm_cases),
        Test("test_early_stopping_plan", "early_stopping_plan",
             "early_stopping_plan(train_losses, val_losses, patience, min_delta=0.0)", early_stopping_plan_cases),
    ),
    mistakes="solutions.mistakes.ch07_early_stopping",
    budget_seconds=20.0,
    setup=("import copy", "import math", "import torch", "from torch import nn"),
)

"""Chapter 4: learning-rate schedules. Graded: five schedules as pure functions of the step, the warm-up + cosine
schedule as a real ``LRScheduler`` subclass, and one step of SGD with momentum.

Schedules are judged over whole sweeps of steps (one case per setting; the message names the first step that
differs). Inputs are chosen so that every catalogued mistake changes a number: checks exactly at the restart
boundaries with T_mult >= 2 (and at 363 for T_0 = 3, T_mult = 3, where a floating-point logarithm lands in the
previous cycle), fractional steps, eta_min > 0, start_factor away from 0, steps past total_steps. Each message
looks at the numbers the student returned and names the mistake they fit (decayed one step early, no staircase,
eta_min ignored, ...).

The scheduler runs on a real ``torch.optim.SGD`` built in the plan (``SGD`` is imported by the notebook's setup
cell) with one or two param groups; the rates are read from ``optimizer.param_groups[i]["lr"]`` after every
``scheduler.step()``. The reference is the closed form :func:`solutions.schedules.warmup_cosine`, proven equal to
``SequentialLR(LinearLR, CosineAnnealingLR)`` for 0 <= t <= total_steps by ``tests/test_solutions_schedules.py``.

sgd_momentum_step is judged on single steps (velocity None or given, dampening, Nesterov, lr = 0, float32) and on
trajectories that feed its own outputs back for 30 steps, with the rate changing at every step as a scheduler
would change it; the reference equals ``torch.optim.SGD`` bit for bit (``tests/test_solutions_momentum.py``).

largest_stable_lr is the judgment part: from the curvatures of a quadratic bowl (the chapter's core experiment) and
the momentum, the largest rate at which the heavy ball or Nesterov converges. The hidden bowls are drawn per batch
seed (2 to 5 curvatures over three orders of magnitude, in random order, momentum in [0.3, 0.97]), so no number can
be copied; the message names the rule the returned number fits (2/L without momentum, the methods swapped, the
shallowest direction instead of the steepest). The reference is proven equal to the divergence threshold of
``torch.optim.SGD`` itself, found by bisection.
"""

import math

import numpy as np

from checks import judge as J
from checks.probe import Raised
from checks.spec import (
    Case,
    Chapter,
    Test,
    attribute,
    call,
    function_case,
    let,
    method,
    record,
    var,
)
from checks.tensors import lazy_torch, seeded_tensor, to_numpy
from checks.words import N_

# Closed forms agree to a few ulps; torch's recursive rates to ~1e-14 relative over hundreds of steps. Any
# catalogued mistake changes a rate by 1e-3 or more.
RTOL, ATOL = 1e-9, 1e-12


def _fmt(value):
    return f"{value:.6g}" if isinstance(value, float) else repr(value)


def _args(kwargs):
    return ", ".join(f"{k}={_fmt(v)}" for k, v in kwargs.items())


def _close(a, b, rtol=1e-9, atol=1e-12):
    return bool(np.all(np.abs(np.asarray(a, float) - np.asarray(b, float)) <= atol + rtol * np.abs(b)))


def _number(value, what):
    """A recorded rate as a float (a Python float, a numpy or 0-d torch number), or Fail."""
    arr = J.numbers(value, what)
    if arr.size != 1 or np.iscomplexobj(arr):
        raise J.Fail(N_(f"{what}: expected one number (the learning rate), got {J.describe(value)}"))
    return float(arr.reshape(()))


def _steps_text(steps):
    steps = list(steps)
    if len(steps) > 8 and steps == list(range(int(steps[0]), int(steps[0]) + len(steps))):
        return f"steps {steps[0]}..{steps[-1]}"
    shown = ", ".join(_fmt(float(t)) if isinstance(t, float) else str(t) for t in steps[:8])
    return f"steps {shown}{', ...' if len(steps) > 8 else ''}"


# -- the five functions: one case = one setting over many steps -----------------------------------
def _schedule_case(fn, kwargs, steps, hint, label=None):
    """``fn(t, **kwargs)`` for every t of ``steps``; ``hint(steps, got, expected, kwargs)`` names the mistake."""
    steps = list(steps)
    label = label or f"{fn}(step, {_args(kwargs)}) at {_steps_text(steps)}"
    plan = [call(fn, t, record=f"rate {i}", **kwargs) for i, t in enumerate(steps)]

    def judge(got, expected):
        got_values = np.array([_number(got[f"rate {i}"], f"{label}: step {t}") for i, t in enumerate(steps)])
        want = np.array([_number(expected[f"rate {i}"], label) for i in range(len(steps))])
        ok = np.abs(got_values - want) <= ATOL + RTOL * np.abs(want)
        if ok.all():
            return
        i = int(np.flatnonzero(~ok)[0])
        text = hint(steps, got_values, want, kwargs) if callable(hint) else hint
        raise J.Fail(N_(f"{label}: {int((~ok).sum())} of {len(steps)} rates differ; first at step {_fmt(steps[i])}: "
                     f"expected {want[i]:.10g}, got {got_values[i]:.10g}\n{text}"))

    return Case(label=label, steps=plan, judge=judge)


STAIRCASE = ("the rate must stay constant between two decays (a staircase): base_lr * gamma ** floor(step / "
             "step_size); gamma ** (step / step_size) decays smoothly")
EARLY = ("decayed one step early: steps 0 .. step_size - 1 use base_lr and the first decay happens AT step == "
         "step_size (floor(step / step_size), not ceil, not (step + 1) // step_size)")


def _step_decay_hint(steps, got, want, kw):
    base, gamma, size = kw["base_lr"], kw.get("gamma", 0.1), kw["step_size"]
    stairs = np.floor(np.asarray(steps, float) / size)
    if base > 0 and 0 < gamma < 1 and np.all(got > 0):
        k = np.log(got / base) / np.log(gamma)
        if not np.allclose(k, np.round(k), atol=1e-6):
            return STAIRCASE
        if np.any(np.round(k) > stairs):
            return EARLY
        if np.any(np.round(k) < stairs):
            return ("decayed one step late: the first decay happens AT step == step_size, then every step_size "
                    "steps (floor(step / step_size))")
    return "base_lr * gamma ** floor(step / step_size): one decay every step_size steps, the first AT step_size"


def _default_gamma_hint(steps, got, want, kw):
    if _close(got[0], want[0]) and not _close(got[2] / got[0], 0.1):
        return "the default gamma is 0.1 (as in StepLR): one decay multiplies the rate by 0.1"
    return _step_decay_hint(steps, got, want, kw)


def step_decay_cases(draw):
    yield _schedule_case("step_decay", dict(base_lr=1.0, step_size=4, gamma=0.5), range(9), _step_decay_hint)
    yield _schedule_case("step_decay", dict(base_lr=1.0, step_size=10), [0, 9, 10, 19, 20], _default_gamma_hint)
    yield _schedule_case("step_decay", dict(base_lr=0.05, step_size=30, gamma=0.1), range(100), _step_decay_hint)
    rng = draw.numpy(41)
    for _ in range(4):
        base_lr, gamma = float(rng.uniform(0.01, 2.0)), float(rng.uniform(0.2, 0.95))
        step_size = int(rng.integers(2, 40))
        kwargs = dict(base_lr=base_lr, step_size=step_size, gamma=gamma)
        yield _schedule_case("step_decay", kwargs, [step_size - 1, step_size, 2 * step_size - 1, 2 * step_size],
                             _step_decay_hint)
        yield _schedule_case("step_decay", kwargs, range(0, 400, 3), _step_decay_hint)


def _exponential_hint(steps, got, want, kw):
    if 0 in steps and not _close(got[steps.index(0)], kw["base_lr"]):
        return ("step 0 must be undecayed: ExponentialLR starts at base_lr (gamma ** 0 = 1); did you compute "
                "gamma ** (step + 1)?")
    return "gamma is the factor per step: base_lr * gamma ** step, not base_lr * exp(-gamma * step)"


def exponential_decay_cases(draw):
    yield _schedule_case("exponential_decay", dict(base_lr=0.3, gamma=0.5), range(4), _exponential_hint)
    yield _schedule_case("exponential_decay", dict(base_lr=0.1, gamma=0.97), range(200), _exponential_hint)
    rng = draw.numpy(42)
    for _ in range(4):
        kwargs = dict(base_lr=float(rng.uniform(0.01, 2.0)), gamma=float(rng.uniform(0.9, 0.999)))
        yield _schedule_case("exponential_decay", kwargs, range(0, 500, 2), _exponential_hint)


def _cosine_hint(steps, got, want, kw):
    base, T, emin = kw["base_lr"], kw["T_max"], kw.get("eta_min", 0.0)
    at = {t: g for t, g in zip(steps, got, strict=True)}
    if 0 in at and not _close(at[0], base):
        return ("at step 0 the rate is base_lr, the top of the cosine: (1 + cos(0)) / 2 = 1; 1 - cos runs it "
                "backwards")
    if T in at and _close(at[T], base) and base != emin:
        return ("at step T_max you are back at base_lr: the schedule is HALF a period, cos(pi * step / T_max), "
                "not cos(2 * pi * step / T_max)")
    if T in at and emin > 0 and _close(at[T], 0.0, atol=1e-12):
        return "the rate must reach eta_min (not 0) at step T_max: did you ignore eta_min?"
    if T - 1 in at and T > 1 and _close(at[T - 1], emin):
        return "eta_min is reached one step early: divide by T_max, not T_max - 1"
    return ("eta_min + (base_lr - eta_min) * (1 + cos(pi * step / T_max)) / 2: from base_lr at step 0 to eta_min "
            "exactly at step T_max")


def cosine_annealing_cases(draw):
    yield _schedule_case("cosine_annealing", dict(base_lr=1.0, T_max=10), range(11), _cosine_hint)
    yield _schedule_case("cosine_annealing", dict(base_lr=1.0, T_max=10, eta_min=0.2), range(11), _cosine_hint)
    yield _schedule_case("cosine_annealing", dict(base_lr=0.5, T_max=150, eta_min=0.01), range(151), _cosine_hint)
    rng = draw.numpy(43)
    for T_max in (1, 7, 60, 333):
        base_lr = float(rng.uniform(0.01, 2.0))
        eta_min = float(rng.uniform(0.05, 0.5)) * base_lr
        steps = list(range(T_max + 1)) if T_max < 100 else [*range(0, T_max - 1, 4), T_max - 1, T_max]
        yield _schedule_case("cosine_annealing", dict(base_lr=base_lr, T_max=T_max, eta_min=eta_min), steps,
                             _cosine_hint)


def _restarts(T_0, T_mult, limit):
    """Cycle starts (restarts) in (0, limit], summed with integers."""
    starts, start, length = [], T_0, T_0 * T_mult
    while start <= limit:
        starts.append(start)
        start, length = start + length, length * T_mult
    return starts


def _restart_hint(steps, got, want, kw):
    from solutions.schedules import cosine_warm_restarts as reference  # trusted side: the judge's own oracle

    base, T_0, T_mult, emin = kw["base_lr"], kw["T_0"], kw.get("T_mult", 1), kw.get("eta_min", 0.0)
    restarts = set(_restarts(T_0, T_mult, max(steps)))
    at_restart = [i for i, t in enumerate(steps) if t in restarts]
    bottom = [steps[i] for i in at_restart if _close(got[i], emin) and not _close(want[i], emin)]
    if bottom and len(bottom) == len(at_restart):
        return (f"at the restart steps {bottom} you returned eta_min, the end of the previous cycle: the restart "
                "boundary is off by one (a new cycle starts when T_cur reaches T_i: compare with >=); at a restart "
                "the rate is base_lr, never eta_min")
    if bottom:
        return (f"at the restart steps {bottom} (but not the others) you returned eta_min: a floating-point "
                "logarithm put them in the previous cycle (math.log(243, 3) = 4.999999999999999); find the cycle by "
                "adding the integer cycle lengths")
    if any(not _close(got[i], base) for i in at_restart):
        return ("at every restart step the rate jumps back to base_lr: count T_cur from the last restart, not from "
                "step 0")
    fractional = [i for i, t in enumerate(steps) if t != int(t) and not _close(got[i], want[i])]
    if fractional and all(_close(got[i], reference(math.floor(steps[i]), base, T_0, T_mult, emin)) for i in fractional):
        return ("a fractional step (epoch + batch / n_batches) must follow the cosine between integer steps, as "
                "torch's scheduler.step(epoch) does: do not round or truncate step")
    plain = [i for i, t in enumerate(steps) if t == int(t) and t % T_0 == 0 and t not in restarts and t > 0]
    if T_mult > 1 and any(_close(got[i], base) for i in plain):
        return ("the rate went back to base_lr after T_0 steps of a later cycle: every cycle lasted T_0 steps; did "
                "you ignore T_mult? Cycle i lasts T_i = T_0 * T_mult**i steps")
    return ("inside cycle i the cosine runs over T_i = T_0 * T_mult**i steps, cos(pi * T_cur / T_i), with T_cur "
            "counted from the start of the cycle")


def cosine_warm_restarts_cases(draw):
    for T_mult, restarts in [(2, [3, 9, 21, 45]), (3, [3, 12, 39, 120, 363])]:
        yield _schedule_case("cosine_warm_restarts", dict(base_lr=1.0, T_0=3, T_mult=T_mult, eta_min=0.1), restarts,
                             _restart_hint)
    yield _schedule_case("cosine_warm_restarts", dict(base_lr=1.0, T_0=3, T_mult=2, eta_min=0.1), range(10),
                         _restart_hint)
    yield _schedule_case("cosine_warm_restarts", dict(base_lr=0.1, T_0=5, T_mult=3, eta_min=0.001), range(300),
                         _restart_hint)
    yield _schedule_case("cosine_warm_restarts", dict(base_lr=1.0, T_0=3, T_mult=2),
                         [0.5, 1.25, 2.999, 3.0, 4.75, 8.5, 10.25], _restart_hint)
    rng = draw.numpy(44)
    for T_0, T_mult in [(1, 2), (4, 1), (2, 3), (7, 2), (3, 10), (2, 10)]:
        base_lr = float(rng.uniform(0.01, 2.0))
        eta_min = float(rng.uniform(0.05, 0.5)) * base_lr
        kwargs = dict(base_lr=base_lr, T_0=T_0, T_mult=T_mult, eta_min=eta_min)
        starts = _restarts(T_0, T_mult, 10_000)[:12]  # the first restarts, up to step 10 000
        steps = [t for s in starts for t in (s - 1, s, s + 1, s - 0.5, s + 0.25)]
        yield _schedule_case("cosine_warm_restarts", kwargs, steps, _restart_hint,
                             label=f"cosine_warm_restarts(step, {_args(kwargs)}) next to the restarts {starts}")
        yield _schedule_case("cosine_warm_restarts", kwargs, range(0, 500, 2), _restart_hint)
        fractional = [round(float(t), 6) for t in rng.uniform(0, 600, 40)]
        yield _schedule_case("cosine_warm_restarts", kwargs, fractional, _restart_hint,
                             label=f"cosine_warm_restarts(step, {_args(kwargs)}) at 40 fractional steps in [0, 600)")


WARMUP_FROM_ZERO = "warm-up starts at start_factor * base_lr (start_factor = {f:.4g}), not at 0"
WARMUP_COUNT = ("at step warmup_steps the rate is base_lr: the cosine starts at the end of warm-up (count its steps "
                "from warmup_steps, not from 0)")
WARMUP_EARLY = ("the linear warm-up reaches base_lr one step early: it is a straight line from start_factor * base_lr "
                "at step 0 to base_lr AT step warmup_steps (step / warmup_steps, not step / (warmup_steps - 1))")
WARMUP_EMIN = "the rate went below eta_min = {emin:.4g}: the cosine ends at eta_min, not 0; did you ignore eta_min?"
WARMUP_CLAMP = ("after total_steps the rate stays at eta_min (the exercise's contract; torch's SequentialLR would let "
                "the cosine rise again)")
WARMUP_LINE = ("during warm-up the rate is a straight line in step, from start_factor * base_lr at step 0 to base_lr "
               "at step warmup_steps")
WARMUP_COSINE = ("from step warmup_steps the cosine lasts total_steps - warmup_steps steps and reaches eta_min exactly "
                 "at total_steps")


def _warmup_hint(steps, got, want, kw):
    base, W, T = kw["base_lr"], kw["warmup_steps"], kw["total_steps"]
    f, emin = kw.get("start_factor", 0.1), kw.get("eta_min", 0.0)
    at = {t: g for t, g in zip(steps, got, strict=True)}
    if 0 in at and _close(at[0], 0.0, atol=1e-15) and f > 0:
        return WARMUP_FROM_ZERO.format(f=f)
    if W in at and not _close(at[W], base):
        return WARMUP_COUNT
    if W > 1 and W - 1 in at and _close(at[W - 1], base) and f < 1:
        return WARMUP_EARLY
    if emin > 0 and np.any(got < emin * (1 - 1e-9)):
        return WARMUP_EMIN.format(emin=emin)
    late = [t for t in at if t > T and not _close(at[t], emin)]
    if late:
        return WARMUP_CLAMP
    bad = [t for t, g, w in zip(steps, got, want, strict=True) if not _close(g, w)]
    return WARMUP_LINE if bad and bad[0] < W else WARMUP_COSINE


def _default_start_hint(steps, got, want, kw):
    if not _close(got[0], want[0]) and not _close(got[0], 0.0, atol=1e-15):
        return "the default start_factor is 0.1 (as in LinearLR): warm-up starts at 0.1 * base_lr"
    return _warmup_hint(steps, got, want, kw)


def warmup_cosine_cases(draw):
    visible = dict(base_lr=1.0, warmup_steps=3, total_steps=10, start_factor=0.1)
    yield _schedule_case("warmup_cosine", visible, range(11), _warmup_hint)
    yield _schedule_case("warmup_cosine", dict(base_lr=1.0, warmup_steps=3, total_steps=10, eta_min=0.05),
                         [0, 3, 9, 10], _default_start_hint)
    yield _schedule_case("warmup_cosine", dict(base_lr=0.3, warmup_steps=20, total_steps=200, start_factor=0.25,
                                               eta_min=0.001), range(201), _warmup_hint)
    yield _schedule_case("warmup_cosine", dict(visible, eta_min=0.05), [10, 11, 12, 15, 20, 100], _warmup_hint,
                         label="warmup_cosine(step, base_lr=1.0, warmup_steps=3, total_steps=10, start_factor=0.1, "
                               "eta_min=0.05) after total_steps")
    rng = draw.numpy(45)
    for warmup_steps, total_steps in [(1, 2), (5, 100), (17, 317), (40, 550)]:
        kwargs = dict(base_lr=float(rng.uniform(0.01, 2.0)), warmup_steps=warmup_steps, total_steps=total_steps,
                      start_factor=float(rng.uniform(0.01, 0.9)))
        kwargs["eta_min"] = float(rng.uniform(0.05, 0.5)) * kwargs["base_lr"]
        every = 1 if total_steps <= 100 else 3
        steps = sorted({*range(0, total_steps + 1, every), warmup_steps - 1, warmup_steps, total_steps - 1,
                        total_steps, total_steps + 1, total_steps + 7})
        yield _schedule_case("warmup_cosine", kwargs, steps, _warmup_hint)


# -- WarmupCosine: a real scheduler on a real optimizer ---------------------------------------------
SETTINGS = ("warmup_steps", "total_steps", "start_factor", "eta_min")
BEFORE_SUPER = ("LRScheduler.__init__ already calls step(), hence get_lr(), once: set self.warmup_steps and the other "
                "settings BEFORE calling super().__init__(optimizer)")
A_LIST = ("get_lr() must return a LIST of rates, one per param group (torch pairs it with optimizer.param_groups), "
          "even when there is a single group")
OWN_BASE = ("each param group follows its own base rate, self.base_lrs[i] (the group's rate when the scheduler was "
            "created): return one rate per group, [rate(base_lr) for base_lr in self.base_lrs]")
OFF_BY_ONE = ("your rates are one step ahead: self.last_epoch is off by one; it is 0 right after the constructor "
              "(which steps once) and k after k calls of step(), because step() increments it BEFORE calling "
              "get_lr()")
CLOSED_FORM = ("get_lr() must be the closed form of self.last_epoch and self.base_lrs: a scheduler restored with "
               "load_state_dict on a fresh optimizer, or whose last_epoch is set, must continue the schedule "
               "exactly. A chainable rule that updates the optimizer's current group['lr'] (as torch's own "
               "schedulers do) cannot")
COMPOUND = ("group i's rate is the schedule of exercise 5 for the base rate self.base_lrs[i] at step "
            "self.last_epoch; starting from the optimizer's current group['lr'] instead would compound the schedule "
            "(a warm-up factor applied to an already scheduled rate)")


def _sgd_steps(groups, name="opt"):
    """Bind an ``SGD`` optimizer over fresh parameters: ``groups`` is a list of rates (one param group each)."""
    torch = lazy_torch()
    steps, refs = [], []
    for i, lr in enumerate(groups):
        steps.append(let(f"w{name}{i}", torch.zeros(i + 2, dtype=torch.float64, requires_grad=True)))
        steps.append(let(f"p{name}{i}", [var(f"w{name}{i}")]))
        steps.append(let(f"g{name}{i}", {"params": var(f"p{name}{i}"), "lr": lr}))
        refs.append(var(f"g{name}{i}"))
    steps.append(call("SGD", refs, groups[0], save=name))
    steps.append(attribute(name, "param_groups", save=f"{name}_groups"))
    return steps


def _rates(name, n_groups, label):
    return record(label, [var(f"{name}_groups", i, "lr") for i in range(n_groups)])


def _raised_hint(value):
    if value.is_a("AttributeError"):
        return BEFORE_SUPER
    if value.is_a("TypeError") or (value.is_a("ValueError") and "zip" in value.message):
        return A_LIST
    return ""


def _scheduler_rows(got, labels, what):
    """The recorded rates (rows: labels, columns: param groups), or Fail naming what went wrong."""
    rows = []
    for label in labels:
        value = got.get(label, None)
        if value is None:
            value = next((v for v in got.values() if isinstance(v, Raised)), None)
            if value is None:
                raise J.Fail(N_(f"{what}: {label}: the check did not record it (did the calls complete?)"))
        if isinstance(value, Raised):
            hint = _raised_hint(value)
            before = "" if label in got else f" before {label} could be read"
            raise J.Fail(f"{what}: a call raised {value.name}{before}: {value.message[:300]}"
                         + (f"\n{hint}" if hint else ""))
        rows.append(J.numbers(value, f"{what}: {label}"))
    return np.array(rows, dtype=float)


def _run_hint(steps, got, want, kwargs, last_is_after_total=True):
    emin, T = kwargs.get("eta_min", 0.0), kwargs["total_steps"]
    ok = np.abs(got - want) <= ATOL + RTOL * np.abs(want)
    if got.shape[1] > 1 and ok[:, 0].all():
        return OWN_BASE
    if len(steps) > 2 and _close(got[:-1], want[1:], rtol=1e-9, atol=1e-12):
        return OFF_BY_ONE
    if steps[0] == 0 and np.allclose(got[0], 0.0, atol=1e-15):
        return WARMUP_FROM_ZERO.format(f=kwargs.get("start_factor", 0.1))
    if emin > 0 and np.any(got < emin * (1 - 1e-9)):
        return WARMUP_EMIN.format(emin=emin)
    after = [i for i, t in enumerate(steps) if t > T]
    if after and ok[: after[0]].all() and not _close(got[after], emin):
        return WARMUP_CLAMP
    return COMPOUND


def _run_case(label, groups, kwargs, n_steps):
    """Build an SGD with ``groups`` rates, a WarmupCosine on it, step it ``n_steps`` times, read every rate."""
    steps = _sgd_steps(groups)
    steps += [call("WarmupCosine", var("opt"), save="sched", **kwargs), _rates("opt", len(groups), "rates at step 0"),
              method("opt", "step")]  # optimizer.step() before scheduler.step(), as a training loop does
    for t in range(1, n_steps + 1):
        steps += [method("sched", "step"), _rates("opt", len(groups), f"rates at step {t}")]
    steps.append(method("sched", "get_last_lr", record="get_last_lr()"))
    labels = [f"rates at step {t}" for t in range(n_steps + 1)]

    def judge(got, expected):
        rows = _scheduler_rows(got, labels, label)
        want = _scheduler_rows(expected, labels, label)
        if rows.shape != want.shape:
            raise J.Fail(N_(f"{label}: expected {want.shape[1]} rate(s) per step (one per param group), got "
                         f"{rows.shape[1:]}\n{A_LIST}"))
        ok = np.abs(rows - want) <= ATOL + RTOL * np.abs(want)
        if not ok.all():
            t, group = (int(i) for i in np.argwhere(~ok)[0])
            raise J.Fail(N_(f"{label}: optimizer.param_groups[{group}]['lr'] after {t} scheduler step(s): expected "
                         f"{want[t, group]:.10g}, got {rows[t, group]:.10g} ({int((~ok).sum())} of {ok.size} rates "
                         f"differ)\n{_run_hint(list(range(n_steps + 1)), rows, want, kwargs)}"))
        J.close(got["get_last_lr()"], want[-1], f"{label}: get_last_lr() at the end", rtol=RTOL, atol=ATOL,
                hint=N_("get_last_lr() returns the rates of the last step(): leave LRScheduler.step() as it is"))

    return Case(label=label, steps=steps, judge=judge)


def _resume_case(label, groups, kwargs, first, then):
    """``first`` steps, then state_dict(); a new scheduler on a FRESH optimizer loads it and steps ``then`` times."""
    steps = _sgd_steps(groups) + [call("WarmupCosine", var("opt"), save="sched", **kwargs), method("opt", "step")]
    steps += [method("sched", "step") for _ in range(first)]
    steps += [method("sched", "state_dict", save="state")]
    steps += _sgd_steps(groups, name="fresh")
    steps += [call("WarmupCosine", var("fresh"), save="resumed", **kwargs), method("fresh", "step"),
              method("resumed", "load_state_dict", var("state"))]
    labels = []
    for t in range(first + 1, first + then + 1):
        steps += [method("resumed", "step"), _rates("fresh", len(groups), f"rates at step {t} after resuming")]
        labels.append(f"rates at step {t} after resuming")

    def judge(got, expected):
        rows = _scheduler_rows(got, labels, label)
        want = _scheduler_rows(expected, labels, label)
        ok = np.abs(rows - want) <= ATOL + RTOL * np.abs(want)
        if not ok.all():
            k, group = (int(i) for i in np.argwhere(~ok)[0])
            raise J.Fail(N_(f"{label}: optimizer.param_groups[{group}]['lr'] after step {first + 1 + k}: expected "
                         f"{want[k, group]:.10g}, got {rows[k, group]:.10g}\n{CLOSED_FORM}"))

    # what a rule that is not a closed form returns here depends on how it chains: the diagnosis compares the
    # closed-form facts of the next case instead of these numbers
    return Case(label=label, steps=steps, judge=judge, random=tuple(labels))


def _closed_form_case(label, groups, kwargs, epochs):
    """Set ``scheduler.last_epoch`` directly (no step) and call ``get_lr()``: the closed form of last_epoch."""
    steps = _sgd_steps(groups) + [call("WarmupCosine", var("opt"), save="sched", **kwargs)]
    for k in epochs:
        steps += [method("sched", "__setattr__", "last_epoch", k), method("sched", "get_lr", record=f"get_lr() at {k}")]
    labels = [f"get_lr() at {k}" for k in epochs]

    def judge(got, expected):
        rows = _scheduler_rows(got, labels, label)
        want = _scheduler_rows(expected, labels, label)
        ok = np.abs(rows - want) <= ATOL + RTOL * np.abs(want)
        if not ok.all():
            k, group = (int(i) for i in np.argwhere(~ok)[0])
            raise J.Fail(N_(f"{label}: get_lr()[{group}] with last_epoch = {epochs[k]}: expected "
                            f"{want[k, group]:.10g}, got {rows[k, group]:.10g}\n{CLOSED_FORM}"))

    return Case(label=label, steps=steps, judge=judge, random=tuple(labels))


def _reads_current_lr_case(label, groups, kwargs, epoch):
    """Set last_epoch, call get_lr() twice; change the optimizer's current rates by hand, call get_lr() again: a closed
    form of last_epoch and base_lrs gives the same rates all three times, a rule that reads group['lr'] does not."""
    steps = _sgd_steps(groups) + [call("WarmupCosine", var("opt"), save="sched", **kwargs),
                                  method("sched", "__setattr__", "last_epoch", epoch),
                                  method("sched", "get_lr", record="get_lr()"),
                                  method("sched", "get_lr", record="get_lr() again")]
    for i in range(len(groups)):
        steps += [attribute("opt", "param_groups", save="groups"), method("groups", "__getitem__", i, save="group"),
                  method("group", "__setitem__", "lr", 7.5 + i)]
    steps.append(method("sched", "get_lr", record="get_lr() after the rates were changed by hand"))
    labels = ["get_lr()", "get_lr() again", "get_lr() after the rates were changed by hand"]
    by_hand = [7.5 + i for i in range(len(groups))]

    def judge(got, expected):
        first, again, changed = _scheduler_rows(got, labels, label)
        want = _scheduler_rows(expected, labels[:1], label)[0]
        if not _close(first, want, RTOL, ATOL):
            raise J.Fail(N_(f"{label}: get_lr() with last_epoch = {epoch}: expected {want.tolist()}, got "
                         f"{first.tolist()}\n{CLOSED_FORM}"))
        if not _close(again, first, RTOL, ATOL):
            raise J.Fail(N_(f"{label}: two calls of get_lr() with the same last_epoch gave {first.tolist()}, then "
                         f"{again.tolist()}: get_lr() must not change any state\n{CLOSED_FORM}"))
        if not _close(changed, first, RTOL, ATOL):
            raise J.Fail(N_(f"{label}: get_lr() gave {first.tolist()}, then {changed.tolist()} after the optimizer's "
                         f"current rates were set to {by_hand} by hand: get_lr() depends on group['lr']\n"
                         f"{CLOSED_FORM}"))

    def quantities(got):
        try:
            first, again, changed = _scheduler_rows(got, labels, label)
        except J.Fail:
            return {}
        stateful = not _close(again, first, RTOL, ATOL)
        return {"get_lr() changes from one call to the next": stateful,
                "get_lr() follows group['lr']": not stateful and not _close(changed, again, RTOL, ATOL)}

    return Case(label=label, steps=steps, judge=judge, random=tuple(labels), quantities=quantities)


def _bad_arguments_case(kwargs, name, why):
    label = f"WarmupCosine(optimizer, {_args(kwargs)})"
    steps = _sgd_steps([0.1]) + [call("WarmupCosine", var("opt"), record="result", **kwargs)]

    def judge(got, expected):
        J.raises(got["result"], "ValueError", label, f"{name} = {_fmt(kwargs[name])} must raise ValueError in the "
                 f"constructor ({why}), before super().__init__(optimizer) touches the optimizer")

    return Case(label=label, steps=steps, judge=judge)


def warmup_scheduler_cases():
    visible = dict(warmup_steps=3, total_steps=10, start_factor=0.1)
    yield _run_case("WarmupCosine(SGD(lr=1.0), warmup_steps=3, total_steps=10, start_factor=0.1) stepped 13 times",
                    [1.0], visible, 13)
    two = dict(warmup_steps=4, total_steps=20, start_factor=0.25, eta_min=0.01)
    yield _run_case("WarmupCosine on SGD with two param groups (lr 0.3 and 0.05), warmup_steps=4, total_steps=20, "
                    "start_factor=0.25, eta_min=0.01, stepped 24 times", [0.3, 0.05], two, 24)
    yield _run_case("WarmupCosine(SGD(lr=0.8), warmup_steps=1, total_steps=2, start_factor=0.5, eta_min=0.2) stepped "
                    "5 times", [0.8], dict(warmup_steps=1, total_steps=2, start_factor=0.5, eta_min=0.2), 5)
    yield _run_case("WarmupCosine(SGD(lr=0.2), warmup_steps=5, total_steps=40) with the defaults, stepped 42 times",
                    [0.2], dict(warmup_steps=5, total_steps=40), 42)
    yield _resume_case("a WarmupCosine (two groups, lr 0.5 and 0.125) stepped 6 times, saved with state_dict(), and "
                       "loaded with load_state_dict() into a new WarmupCosine on a fresh optimizer",
                       [0.5, 0.125], dict(warmup_steps=3, total_steps=12, start_factor=0.25, eta_min=0.02), 6, 9)
    yield _closed_form_case("WarmupCosine (two groups, lr 0.4 and 0.1) whose last_epoch is set directly, then "
                            "get_lr()", [0.4, 0.1], dict(warmup_steps=4, total_steps=16, start_factor=0.2,
                                                         eta_min=0.03), [7, 2, 16, 0, 20, 4, 11, 3])
    yield _reads_current_lr_case("WarmupCosine (two groups, lr 0.4 and 0.1) with last_epoch set to 6: get_lr(), then "
                                 "the optimizer's rates changed by hand, then get_lr() again", [0.4, 0.1],
                                 dict(warmup_steps=4, total_steps=16, start_factor=0.2, eta_min=0.03), 6)
    for kwargs, name, why in [
        (dict(warmup_steps=0, total_steps=10), "warmup_steps", "the warm-up lasts at least one step"),
        (dict(warmup_steps=10, total_steps=10), "total_steps", "the cosine needs total_steps > warmup_steps"),
        (dict(warmup_steps=2, total_steps=9, start_factor=0.0), "start_factor", "start_factor lies in (0, 1]"),
        (dict(warmup_steps=2, total_steps=9, start_factor=1.5), "start_factor", "start_factor lies in (0, 1]"),
        (dict(warmup_steps=2, total_steps=9, eta_min=-0.01), "eta_min", "a learning rate is not negative"),
    ]:
        yield _bad_arguments_case(kwargs, name, why)


# -- sgd_momentum_step -------------------------------------------------------------------------------
VELOCITY = ("the velocity is torch's momentum buffer: v' = momentum * v + (1 - dampening) * grad, and v' = grad (a "
            "copy) on the first step, when velocity is None")


def _velocity_hint(got_v, param, grad, velocity, lr, momentum, dampening):
    """What a wrong velocity equals, when it equals a known variant (inputs as numpy arrays), else the rule."""
    torch_v = grad if velocity is None else momentum * velocity + (1 - dampening) * grad
    sutskever_v = -lr * grad if velocity is None else momentum * velocity - lr * (1 - dampening) * grad
    if lr != 0 and (_close(got_v, -lr * torch_v, rtol=1e-6, atol=1e-12) or _close(got_v, sutskever_v, rtol=1e-6)):
        return ("your velocity is -lr times torch's: the rate is not inside the velocity in torch (v' = momentum * v + "
                "grad, then param - lr * v'); Sutskever's v' = momentum * v - lr * grad is another convention, which "
                "differs as soon as a scheduler changes the rate")
    if velocity is None and dampening > 0 and _close(got_v, (1 - dampening) * grad, rtol=1e-6):
        return ("first step (velocity None): torch's buffer starts as a copy of the gradient, WITHOUT dampening; "
                "starting from zeros gives (1 - dampening) * grad")
    if velocity is not None and momentum != 1 and _close(got_v, momentum * velocity + (1 - momentum) * grad, rtol=1e-6):
        return ("momentum * v + (1 - momentum) * grad is a running average (Adam's first moment); torch's velocity "
                "adds (1 - dampening) * grad: " + VELOCITY)
    if velocity is not None and dampening > 0 and _close(got_v, momentum * velocity + grad, rtol=1e-6):
        return "the dampening was ignored: " + VELOCITY
    return VELOCITY


def _param_hint(got_p, param, grad, velocity, lr, momentum, dampening, nesterov):
    new_v = grad if velocity is None else momentum * velocity + (1 - dampening) * grad
    direction = grad + momentum * new_v if nesterov else new_v
    if lr != 0 and _close(got_p, param + lr * direction, rtol=1e-6):
        return "the step goes against the gradient: param - lr * ..., not param + lr * ..."
    if nesterov and _close(got_p, param - lr * new_v, rtol=1e-6):
        return ("nesterov=True: torch's Nesterov step is grad + momentum * v' (with the NEW velocity v'), not v' "
                "alone")
    return "param' = param - lr * v' (with nesterov=True: param - lr * (grad + momentum * v'))"


def _momentum_compare(inputs, dtype):
    param, grad, velocity, lr, momentum, dampening, nesterov = inputs
    rtol, atol = (1e-5, 1e-6) if dtype == "float32" else (1e-10, 1e-12)  # float32: a few roundings of 6e-8

    def compare(got, expected, what):
        if isinstance(got, Raised):
            raise J.Fail(N_(f"{what}: raised {got.name}: {got.message[:300]}"))
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise J.Fail(N_(f"{what}: must return the tuple (new_param, new_velocity), got {J.describe(got)}"))
        for name, value in zip(("new_param", "new_velocity"), got, strict=True):
            J.is_tensor(value, f"{what}: {name}")
            J.dtype_is(value, dtype, f"{what}: {name}", hint=N_("compute in the dtype of param (the tensors given)"))
        got_v = J.numbers(got[1], what)
        if got_v.shape == to_numpy(param).shape and not _close(got_v, J.numbers(expected[1], what), rtol, atol):
            hint = _velocity_hint(got_v, *(to_numpy(t) for t in (param, grad, velocity)), lr, momentum, dampening)
        else:
            hint = VELOCITY
        J.close(got[1], expected[1], f"{what}: new_velocity", hint, rtol=rtol, atol=atol)
        got_p = J.numbers(got[0], what)
        hint = _param_hint(got_p, *(to_numpy(t) for t in (param, grad, velocity)), lr, momentum, dampening, nesterov) \
            if got_p.shape == to_numpy(param).shape else "new_param has the shape of param"
        J.close(got[0], expected[0], f"{what}: new_param", hint, rtol=rtol, atol=atol)

    return compare


def _momentum_case(label, param, grad, velocity, lr, momentum, dampening=None, nesterov=None):
    kwargs = {k: v for k, v in (("dampening", dampening), ("nesterov", nesterov)) if v is not None}
    dtype = str(param.dtype).replace("torch.", "")
    inputs = (param, grad, velocity, lr, momentum, dampening or 0.0, bool(nesterov))
    return function_case("sgd_momentum_step", param, grad, velocity, lr, momentum, label=label,
                         compare=_momentum_compare(inputs, dtype), **kwargs)


def _trajectory_case(label, seed, shape, lrs, momentum, dampening=0.0, nesterov=False):
    """Feed the answer its own outputs for len(lrs) steps (gradients and rates given as data)."""
    start = seeded_tensor(seed, shape, shift=0.5)
    grads = [seeded_tensor(seed + 1 + k, shape, shift=0.3, scale=2.0) for k in range(len(lrs))]
    steps = [let("p0", start), let("v0", None)]
    for k, (lr, grad) in enumerate(zip(lrs, grads, strict=True)):
        steps += [let(f"g{k}", grad),
                  call("sgd_momentum_step", var(f"p{k}"), var(f"g{k}"), var(f"v{k}"), lr, momentum,
                       dampening=dampening, nesterov=nesterov, save=f"r{k}", record=f"call {k + 1}"),
                  let(f"p{k + 1}", var(f"r{k}", 0)), let(f"v{k + 1}", var(f"r{k}", 1))]

    def judge(got, expected):
        for k in range(len(lrs)):
            what = f"{label}: step {k + 1}"
            result, want = got[f"call {k + 1}"], expected[f"call {k + 1}"]
            if isinstance(result, Raised):
                raise J.Fail(N_(f"{what}: raised {result.name}: {result.message[:300]}"))
            if not isinstance(result, (tuple, list)) or len(result) != 2:
                raise J.Fail(N_(f"{what}: must return the tuple (new_param, new_velocity), got {J.describe(result)}"))
            # the answer's own previous outputs equal the reference's (checked at the previous step)
            prev_p = to_numpy(start) if k == 0 else J.numbers(expected[f"call {k}"][0], what)
            prev_v = None if k == 0 else J.numbers(expected[f"call {k}"][1], what)
            g = to_numpy(grads[k])
            got_v, got_p = J.numbers(result[1], what), J.numbers(result[0], what)
            hint_v = _velocity_hint(got_v, prev_p, g, prev_v, lrs[k], momentum, dampening) \
                if got_v.shape == g.shape else VELOCITY
            J.close(result[1], want[1], f"{what}: new_velocity", hint_v, rtol=1e-9, atol=1e-12)
            hint_p = _param_hint(got_p, prev_p, g, prev_v, lrs[k], momentum, dampening, nesterov) \
                if got_p.shape == g.shape else "new_param has the shape of param"
            # 30 chained steps: rounding of a plain `param - lr * v` grows to ~1e-14 relative
            J.close(result[0], want[0], f"{what}: new_param", hint_p, rtol=1e-9, atol=1e-12)

    return Case(label=label, steps=steps, judge=judge)


def sgd_momentum_step_cases():
    torch = lazy_torch()
    param = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    grad = torch.tensor([0.5, 1.0, -3.0], dtype=torch.float64)
    velocity = torch.tensor([0.2, -0.4, 1.0], dtype=torch.float64)
    yield _momentum_case("sgd_momentum_step(param, grad, velocity, lr=0.1, momentum=0.9) [the visible case]",
                         param, grad, velocity, 0.1, 0.9)
    yield _momentum_case("sgd_momentum_step(param, grad, None, lr=0.1, momentum=0.9): the first step",
                         param, grad, None, 0.1, 0.9)
    p, g, v = (seeded_tensor(1, (4, 3), shift=0.5), seeded_tensor(2, (4, 3), shift=-0.2, scale=2.0),
               seeded_tensor(3, (4, 3)))
    yield _momentum_case("sgd_momentum_step(param of shape (4, 3), grad, None, lr=0.05, momentum=0.8, dampening=0.3): "
                         "the first step with a dampening", p, g, None, 0.05, 0.8, dampening=0.3)
    yield _momentum_case("sgd_momentum_step(param of shape (4, 3), grad, velocity, lr=0.05, momentum=0.8, "
                         "dampening=0.3)", p, g, v, 0.05, 0.8, dampening=0.3)
    yield _momentum_case("sgd_momentum_step(param of shape (4, 3), grad, velocity, lr=0.2, momentum=0.7, "
                         "nesterov=True)", p, g, v, 0.2, 0.7, nesterov=True)
    yield _momentum_case("sgd_momentum_step(param of shape (4, 3), grad, None, lr=0.2, momentum=0.7, nesterov=True)",
                         p, g, None, 0.2, 0.7, nesterov=True)
    yield _momentum_case("sgd_momentum_step(param, grad, velocity, lr=0.0, momentum=0.9): lr = 0 leaves param but "
                         "still updates the velocity", p, g, v, 0.0, 0.9)
    yield _momentum_case("sgd_momentum_step(param, grad, velocity, lr=0.1, momentum=0.6, dampening=1.0)",
                         p, g, v, 0.1, 0.6, dampening=1.0)
    p32, g32, v32 = (t.to(torch.float32) for t in (p, g, v))
    yield _momentum_case("sgd_momentum_step(float32 param, grad, velocity, lr=0.05, momentum=0.9, dampening=0.1)",
                         p32, g32, v32, 0.05, 0.9, dampening=0.1)
    schedule = [0.2 * min(1.0, (k + 1) / 5) * 0.9**k for k in range(30)]  # a warm-up then a decay
    yield _trajectory_case("30 steps of sgd_momentum_step(param, grad_k, velocity, lr_k, momentum=0.9), its own "
                           "outputs fed back, with the rate changing at every step", 10, (6,), schedule, 0.9)
    yield _trajectory_case("30 steps with momentum=0.85, dampening=0.2 and a constant lr=0.05", 50, (2, 3),
                           [0.05] * 30, 0.85, dampening=0.2)
    yield _trajectory_case("30 steps with momentum=0.5, nesterov=True and the changing rate", 90, (5,), schedule, 0.5,
                           nesterov=True)
    for kwargs, hint in [
        (dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
         "nesterov=True with dampening=0.1 must raise ValueError, as torch.optim.SGD does (Nesterov needs zero "
         "dampening)"),
        (dict(lr=0.1, momentum=0.0), "momentum = 0 must raise ValueError: without momentum there is no velocity"),
        (dict(lr=-0.1, momentum=0.9), "lr = -0.1 must raise ValueError: a learning rate is not negative"),
        (dict(lr=0.1, momentum=0.9, dampening=1.5), "dampening = 1.5 must raise ValueError: it lies in [0, 1]"),
    ]:
        yield function_case("sgd_momentum_step", param, grad, velocity, hint=hint, **kwargs)


# -- largest_stable_lr: the judgment part --------------------------------------------------------------------
STABLE_RULE = N_("the steepest direction decides: heavy ball 2 (1 + momentum) / max(curvatures), Nesterov "
                 "2 (1 + momentum) / ((1 + 2 momentum) max(curvatures))")


def _stable_limits(curvatures, momentum):
    """(heavy ball, Nesterov) limits at curvature ``L``, for every rule a student might use."""
    lam = np.asarray(curvatures, dtype=float).ravel()

    def rule(L):
        return 2 * (1 + momentum) / L, 2 * (1 + momentum) / ((1 + 2 * momentum) * L)

    return {"max": rule(lam.max()), "min": rule(lam.min()), "plain": (2 / lam.max(), 2 / lam.max())}


def _stable_lr_hint(got, curvatures, momentum, nesterov):
    """The rule ``got`` fits, as a sentence naming the mistake."""
    limits = _stable_limits(curvatures, momentum)
    which, other = (1, 0) if nesterov else (0, 1)
    if _close(got, limits["plain"][which]):
        return ("your rate is 2 / max(curvatures), plain gradient descent's limit: momentum raises the heavy ball's "
                "limit to 2 (1 + momentum) / L and Nesterov's to 2 (1 + momentum) / ((1 + 2 momentum) L)")
    if _close(got, limits["max"][other]):
        return ("your rate is the limit of the OTHER method: the heavy ball is stable up to 2 (1 + momentum) / L, "
                "Nesterov only up to 2 (1 + momentum) / ((1 + 2 momentum) L), 1 + 2 momentum times lower")
    if any(_close(got, value) for value in limits["min"]):
        return ("your rate uses the smallest curvature: the steepest direction (the largest curvature) is the first "
                "to diverge, so it sets the limit")
    return STABLE_RULE


def _stable_lr_case(curvatures, momentum, nesterov, label=None):
    def compare(got, expected, what):
        value = J.numbers(got, what)
        if value.size != 1 or np.iscomplexobj(value):
            raise J.Fail(N_(f"{what}: expected one number (the largest stable learning rate), got {J.describe(got)}"))
        want = float(J.numbers(expected, what).reshape(()))
        value = float(value.reshape(()))
        if not _close(value, want):
            raise J.Fail(N_(f"{what}: expected {want:.10g}, got {value:.10g}\n"
                         f"{_stable_lr_hint(value, curvatures, momentum, nesterov)}"))

    return function_case("largest_stable_lr", np.asarray(curvatures, dtype=float), momentum, nesterov=nesterov,
                         compare=compare, label=label, hint=STABLE_RULE)


def largest_stable_lr_cases(draw):
    for nesterov in (False, True):  # the chapter's bowl (curvatures 1 and 20), momentum 0.9: the visible cases
        yield _stable_lr_case([1.0, 20.0], 0.9, nesterov)
    yield _stable_lr_case([20.0, 1.0, 0.3], 0.5, True)
    yield _stable_lr_case([4.0], 0.0, False)  # no momentum: plain gradient descent, 2 / L for both methods
    yield _stable_lr_case([4.0], 0.0, True)
    rng = draw.numpy(47)
    for _ in range(6):
        curvatures = list(10.0 ** rng.uniform(-1.5, 1.5, size=int(rng.integers(2, 6))))
        momentum = float(rng.uniform(0.3, 0.97))
        for nesterov in (False, True):
            yield _stable_lr_case(curvatures, momentum, nesterov)
    hint = "momentum >= 1 lets no learning rate converge (the velocity never decays): raise ValueError"
    for momentum in (1.0, 1.2):
        yield function_case("largest_stable_lr", np.array([1.0, 20.0]), momentum, nesterov=False, hint=hint)
    yield function_case("largest_stable_lr", np.array([1.0, -2.0]), 0.9, nesterov=False,
                        hint=N_("a curvature <= 0 is no bowl (no minimum to converge to): raise ValueError"))


CHAPTER = Chapter(
    id="04-lr-schedules",
    title="Learning-rate schedules",
    reference=("solutions.schedules", "solutions.momentum"),
    tests=(
        Test("test_step_decay", "step_decay", "step_decay(step, base_lr, step_size, gamma=0.1)", step_decay_cases),
        Test("test_exponential_decay", "exponential_decay", "exponential_decay(step, base_lr, gamma)",
             exponential_decay_cases),
        Test("test_cosine_annealing", "cosine_annealing", "cosine_annealing(step, base_lr, T_max, eta_min=0.0)",
             cosine_annealing_cases),
        Test("test_cosine_warm_restarts", "cosine_warm_restarts",
             "cosine_warm_restarts(step, base_lr, T_0, T_mult=1, eta_min=0.0)", cosine_warm_restarts_cases),
        Test("test_warmup_cosine", "warmup_cosine",
             "warmup_cosine(step, base_lr, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0)",
             warmup_cosine_cases),
        Test("test_WarmupCosine", "WarmupCosine",
             "class WarmupCosine(LRScheduler): __init__(self, optimizer, warmup_steps, total_steps, start_factor=0.1, "
             "eta_min=0.0), get_lr(self)", warmup_scheduler_cases),
        Test("test_sgd_momentum_step", "sgd_momentum_step",
             "sgd_momentum_step(param, grad, velocity, lr, momentum, dampening=0.0, nesterov=False)",
             sgd_momentum_step_cases),
        Test("test_largest_stable_lr", "largest_stable_lr", "largest_stable_lr(curvatures, momentum, nesterov=False)",
             largest_stable_lr_cases),
    ),
    mistakes="solutions.mistakes.ch04_lr_schedules",
    budget_seconds=20.0,
    setup=("import math", "import numpy as np", "import torch", "from torch.optim import SGD",
           "from torch.optim.lr_scheduler import (CosineAnnealingLR, CosineAnnealingWarmRestarts, ExponentialLR, "
           "LinearLR, LRScheduler, SequentialLR, StepLR)"),
)

"""Prove ``solutions.schedules`` equal to the ``torch.optim.lr_scheduler`` classes.

The oracle is the real scheduler driven the way a training loop drives it: read the
optimizer's learning rate, then ``scheduler.step()``. torch updates most rates
recursively (``lr_t = f(lr_{t-1})``), so each step can add a rounding error of a few
ulps to the previous value. Over n steps the relative error therefore grows at most
like n * c * eps with c a small constant (one multiplication, a division and two
cosines per step: c <= 8). With n <= 600 steps that bound is 600 * 8 * 2.2e-16 =
1.1e-12; we use rtol=2e-12. Near a cosine's minimum the relative error of the
recursion can be larger while the absolute one stays at about base_lr * n * eps, so
the cosine comparisons add atol = 2e-12 * base_lr (same bound, absolute). Measured
worst cases over these inputs are around 5e-15: the bounds leave room without hiding
a wrong formula, whose errors are of order 1e-3 or more.
"""

import math

import numpy as np
import pytest
import torch
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    ExponentialLR,
    LinearLR,
    SequentialLR,
    StepLR,
)

from solutions.schedules import (
    WarmupCosine,
    cosine_annealing,
    cosine_warm_restarts,
    exponential_decay,
    step_decay,
    warmup_cosine,
)

RTOL = 2e-12  # recursion error bound n * c * eps (module docstring)
ATOL_PER_LR = 2e-12  # same bound, absolute, relative to base_lr
N_STEPS = 600


def _optimizer(base_lr):
    return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)


def torch_schedule(make_scheduler, base_lr, n_steps):
    """Learning rates of the first ``n_steps`` updates, as a training loop sees them."""
    optimizer = _optimizer(base_lr)
    scheduler = make_scheduler(optimizer)
    # One optimizer.step() satisfies torch's "optimizer before scheduler" check; the
    # rate does not depend on it, and calling it every step would dominate the runtime.
    optimizer.step()
    lrs = []
    for _ in range(n_steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        scheduler.step()
    return np.array(lrs)


def reference_schedule(func, n_steps, **kwargs):
    return np.array([func(t, **kwargs) for t in range(n_steps)])


def assert_schedule_close(got, expected, base_lr, what):
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL_PER_LR * base_lr, err_msg=what)


# ---------------------------------------------------------------- literal values

def test_step_decay_literal_values():
    # base 1, decay by 0.5 every 3 steps: the first decay is at step 3, not 2.
    got = [step_decay(t, 1.0, step_size=3, gamma=0.5) for t in range(8)]
    assert got == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]
    assert step_decay(30, 0.05, step_size=30) == pytest.approx(0.005, rel=1e-15)  # torch docstring example
    assert step_decay(29, 0.05, step_size=30) == 0.05


def test_exponential_decay_literal_values():
    assert exponential_decay(0, 0.3, gamma=0.5) == 0.3  # step 0 is not decayed
    assert exponential_decay(1, 0.3, gamma=0.5) == 0.15
    assert exponential_decay(3, 0.3, gamma=0.5) == 0.0375


def test_cosine_annealing_literal_values():
    # eta_min + (base - eta_min) (1 + cos(pi t / T)) / 2 with base 1, eta_min 0.2, T 4
    expected = [1.0, 0.2 + 0.8 * (1 + math.sqrt(0.5)) / 2, 0.6, 0.2 + 0.8 * (1 - math.sqrt(0.5)) / 2, 0.2]
    got = [cosine_annealing(t, 1.0, T_max=4, eta_min=0.2) for t in range(5)]
    np.testing.assert_allclose(got, expected, rtol=1e-15, atol=1e-15)  # one cosine: a few ulps
    assert cosine_annealing(4, 1.0, T_max=4, eta_min=0.2) == 0.2  # cos(pi) = -1 exactly


def test_cosine_warm_restarts_literal_values():
    # reference-conventions.md: T_0=3, T_mult=2, eta_min=0.1, base 1; restarts at 3, 9, 21.
    expected = [1, 0.775, 0.325, 1, 0.9397, 0.775, 0.55, 0.325, 0.1603, 1]
    got = [cosine_warm_restarts(t, 1.0, T_0=3, T_mult=2, eta_min=0.1) for t in range(10)]
    np.testing.assert_allclose(got, expected, atol=5e-5)  # the literals are rounded to 4 digits
    for restart in (0, 3, 9, 21, 45, 93):
        assert cosine_warm_restarts(restart, 1.0, T_0=3, T_mult=2, eta_min=0.1) == 1.0
    # The last step of each cycle is above eta_min: eta_min is never emitted at an integer step.
    for last in (2, 8, 20, 44):
        assert cosine_warm_restarts(last, 1.0, T_0=3, T_mult=2, eta_min=0.1) > 0.1 + 1e-3
    # ... but is the limit from the left of a restart.
    assert cosine_warm_restarts(21 - 1e-9, 1.0, T_0=3, T_mult=2, eta_min=0.1) == pytest.approx(0.1, abs=1e-12)


def test_warmup_cosine_literal_values():
    # reference-conventions.md: SequentialLR(LinearLR(.1, 1, 3), CosineAnnealingLR(7)), milestone 3, base 1.
    got = [warmup_cosine(t, 1.0, warmup_steps=3, total_steps=10, start_factor=0.1) for t in range(11)]
    np.testing.assert_allclose(got[:5], [0.1, 0.4, 0.7, 1.0, 0.9505], atol=5e-5)  # 4-digit literals
    np.testing.assert_allclose(got[-2:], [0.0495, 0.0], atol=5e-5)
    assert got[3] == 1.0 and got[10] == 0.0


# ---------------------------------------------------------------- against torch

rng = np.random.default_rng(20241)
# (base_lr, gamma, step_size): gamma away from 0.1 and 0.5 so powers are not round numbers.
STEP_CASES = [(0.1, 0.1, 30), (1.7, 0.63, 7), (0.013, 0.9, 1)] + [
    (float(rng.uniform(1e-3, 3)), float(rng.uniform(0.2, 0.99)), int(rng.integers(2, 60))) for _ in range(2)
]


@pytest.mark.parametrize(("base_lr", "gamma", "step_size"), STEP_CASES)
def test_step_decay_matches_steplr(base_lr, gamma, step_size):
    expected = torch_schedule(lambda o: StepLR(o, step_size=step_size, gamma=gamma), base_lr, N_STEPS)
    got = reference_schedule(step_decay, N_STEPS, base_lr=base_lr, step_size=step_size, gamma=gamma)
    assert_schedule_close(got, expected, base_lr, "StepLR")


@pytest.mark.parametrize(("base_lr", "gamma"), [(0.1, 0.95), (2.5, 0.999), (0.37, 0.987), (1.0, 1.0)])
def test_exponential_decay_matches_exponentiallr(base_lr, gamma):
    expected = torch_schedule(lambda o: ExponentialLR(o, gamma=gamma), base_lr, N_STEPS)
    got = reference_schedule(exponential_decay, N_STEPS, base_lr=base_lr, gamma=gamma)
    assert_schedule_close(got, expected, base_lr, "ExponentialLR")


COSINE_CASES = [(0.1, 100, 0.0), (1.3, 7, 0.05), (0.02, 1, 0.001), (0.5, 333, 0.2), (1.0, 250, 1e-4)]


@pytest.mark.parametrize(("base_lr", "T_max", "eta_min"), COSINE_CASES)
def test_cosine_annealing_matches_cosineannealinglr(base_lr, T_max, eta_min):
    # Up to T_max (the contract) and past it, where torch's cosine rises again.
    n_steps = min(N_STEPS, 3 * T_max + 2)
    expected = torch_schedule(lambda o: CosineAnnealingLR(o, T_max=T_max, eta_min=eta_min), base_lr, n_steps)
    got = reference_schedule(cosine_annealing, n_steps, base_lr=base_lr, T_max=T_max, eta_min=eta_min)
    assert_schedule_close(got, expected, base_lr, "CosineAnnealingLR")
    if T_max < n_steps:
        assert got[T_max] == eta_min or abs(got[T_max] - eta_min) <= 1e-15 * base_lr


# (base_lr, T_0, T_mult, eta_min): T_mult 1, 2, 3 and 10; T_0 = 1 restarts after one step.
RESTART_CASES = [(0.1, 10, 1, 0.0), (1.0, 3, 2, 0.1), (0.05, 5, 3, 1e-3), (0.7, 1, 2, 0.0),
                 (0.3, 2, 10, 0.01)]


@pytest.mark.parametrize(("base_lr", "T_0", "T_mult", "eta_min"), RESTART_CASES)
def test_cosine_warm_restarts_matches_torch_integer_steps(base_lr, T_0, T_mult, eta_min):
    make = lambda o: CosineAnnealingWarmRestarts(o, T_0=T_0, T_mult=T_mult, eta_min=eta_min)  # noqa: E731
    expected = torch_schedule(make, base_lr, N_STEPS)
    got = reference_schedule(cosine_warm_restarts, N_STEPS, base_lr=base_lr, T_0=T_0, T_mult=T_mult,
                             eta_min=eta_min)
    assert_schedule_close(got, expected, base_lr, "CosineAnnealingWarmRestarts, scheduler.step()")


def _restarts(T_0, T_mult, limit):
    """Restart steps below ``limit``, summed with integers (independent of the reference)."""
    starts, start, length = [], 0, T_0
    while start < limit:
        starts.append(start)
        start, length = start + length, length * T_mult
    return starts


@pytest.mark.parametrize(("base_lr", "T_0", "T_mult", "eta_min"), RESTART_CASES)
def test_cosine_warm_restarts_exact_restart_boundaries(base_lr, T_0, T_mult, eta_min):
    expected = torch_schedule(
        lambda o: CosineAnnealingWarmRestarts(o, T_0=T_0, T_mult=T_mult, eta_min=eta_min), base_lr, N_STEPS
    )
    for start in _restarts(T_0, T_mult, N_STEPS):
        # torch's integer path is back at base_lr exactly on every restart ...
        assert expected[start] == base_lr
        assert cosine_warm_restarts(start, base_lr, T_0, T_mult, eta_min) == base_lr
        if start > 0:
            # ... and one step before it is at the last point of the previous cosine.
            np.testing.assert_allclose(
                cosine_warm_restarts(start - 1, base_lr, T_0, T_mult, eta_min), expected[start - 1],
                rtol=RTOL, atol=ATOL_PER_LR * base_lr,
            )


def _torch_epoch_path(base_lr, T_0, T_mult, eta_min, epochs):
    """Rates after ``scheduler.step(epoch)`` for each epoch (the fractional-epoch API)."""
    optimizer = _optimizer(base_lr)
    scheduler = CosineAnnealingWarmRestarts(optimizer, T_0=T_0, T_mult=T_mult, eta_min=eta_min)
    optimizer.step()
    lrs = []
    for epoch in epochs:
        scheduler.step(epoch)
        lrs.append(optimizer.param_groups[0]["lr"])
    return np.array(lrs)


@pytest.mark.parametrize(("base_lr", "T_0", "T_mult", "eta_min"), RESTART_CASES)
def test_cosine_warm_restarts_matches_torch_fractional_steps(base_lr, T_0, T_mult, eta_min):
    gen = np.random.default_rng(T_0 * 100 + T_mult)
    limit = 400.0
    starts = np.array(_restarts(T_0, T_mult, limit), dtype=float)
    epochs = np.concatenate([
        gen.uniform(0, limit, 300),  # random fractional epochs, in random order
        np.arange(0, limit, 0.25),  # epoch + batch / 4, as in the torch docstring loop
        starts, starts[1:] - 0.5, starts[1:] + 1e-6,  # on, just before and just after restarts
    ])
    # Restarts where torch's epoch path disagrees with torch's own integer path (a float
    # logarithm quirk, see the next test) are judged by the integer path, tested above.
    integer_path = torch_schedule(
        lambda o: CosineAnnealingWarmRestarts(o, T_0=T_0, T_mult=T_mult, eta_min=eta_min), base_lr, int(limit)
    )
    at_starts = _torch_epoch_path(base_lr, T_0, T_mult, eta_min, starts)
    misplaced = starts[at_starts != integer_path[starts.astype(int)]]
    assert len(misplaced) <= 1, f"torch's epoch path misses restarts {misplaced}"
    epochs = epochs[~np.isin(epochs, misplaced)]
    expected = _torch_epoch_path(base_lr, T_0, T_mult, eta_min, epochs)
    got = np.array([cosine_warm_restarts(float(e), base_lr, T_0, T_mult, eta_min) for e in epochs])
    # The epoch path computes T_cur directly (no recursion), so the error is a few ulps of
    # base_lr; the recursion bound above covers it.
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL_PER_LR * base_lr,
                               err_msg="CosineAnnealingWarmRestarts, scheduler.step(epoch)")


def test_torch_epoch_path_misplaces_some_restarts():
    """Why the fractional test above sets aside a few exact restarts.

    torch finds the cycle with int(math.log(..., T_mult)); math.log(243, 3) is
    4.999999999999999, so step(363) with T_0=3, T_mult=3 lands at the END of the
    previous cycle (eta_min) instead of the restart (likewise step(222) with T_0=2,
    T_mult=10, since math.log(1000, 10) < 3). torch's integer path and the reference
    agree on the restart; this test documents the quirk so that a change in torch
    shows up here.
    """
    start = 3 * (1 + 3 + 9 + 27 + 81)  # 363, a restart
    epoch_path = _torch_epoch_path(1.0, 3, 3, 0.0, [start])[0]
    integer_path = torch_schedule(lambda o: CosineAnnealingWarmRestarts(o, T_0=3, T_mult=3), 1.0, start + 1)
    integer_path = integer_path[start]
    assert integer_path == 1.0
    assert epoch_path == 0.0
    assert cosine_warm_restarts(start, 1.0, T_0=3, T_mult=3) == 1.0


WARMUP_CASES = [(0.1, 5, 100, 0.1, 0.0), (1.0, 3, 10, 0.1, 0.0), (0.3, 40, 550, 0.25, 1e-3),
                (2.0, 1, 2, 1.0, 0.5), (0.05, 17, 317, 0.01, 0.0)]


@pytest.mark.parametrize(("base_lr", "warmup_steps", "total_steps", "start_factor", "eta_min"), WARMUP_CASES)
def test_warmup_cosine_matches_sequentiallr(base_lr, warmup_steps, total_steps, start_factor, eta_min):
    def make(optimizer):
        warmup = LinearLR(optimizer, start_factor=start_factor, end_factor=1.0, total_iters=warmup_steps)
        cosine = CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps, eta_min=eta_min)
        return SequentialLR(optimizer, [warmup, cosine], milestones=[warmup_steps])

    n_steps = total_steps + 1  # the contract: 0 <= step <= total_steps
    expected = torch_schedule(make, base_lr, n_steps)
    got = reference_schedule(warmup_cosine, n_steps, base_lr=base_lr, warmup_steps=warmup_steps,
                             total_steps=total_steps, start_factor=start_factor, eta_min=eta_min)
    assert_schedule_close(got, expected, base_lr, "SequentialLR(LinearLR, CosineAnnealingLR)")
    assert got[0] == pytest.approx(start_factor * base_lr, rel=1e-15)  # warm-up does not start at 0
    assert got[warmup_steps] == base_lr


def test_warmup_cosine_stays_at_eta_min_after_total_steps():
    # The course's contract past the end (torch's SequentialLR would let the cosine rise again).
    for t in (10, 10.5, 11, 17, 1000):
        assert warmup_cosine(t, 1.0, warmup_steps=3, total_steps=10, eta_min=0.05) == 0.05
    assert warmup_cosine(9.999, 1.0, 3, 10, eta_min=0.05) > 0.05  # still on the cosine just before the end


def _scheduler_rates(optimizer, scheduler, n_steps):
    """Rates of every param group for the first ``n_steps`` updates: read, then ``scheduler.step()``."""
    optimizer.step()
    rates = []
    for _ in range(n_steps):
        rates.append([group["lr"] for group in optimizer.param_groups])
        scheduler.step()
    return np.array(rates)


def _two_groups(base_lr):
    """An SGD optimizer with two param groups: ``base_lr`` and a group of its own rate, base_lr / 7."""
    return torch.optim.SGD([{"params": [torch.zeros(2, requires_grad=True)]},
                            {"params": [torch.zeros(3, requires_grad=True)], "lr": base_lr / 7}],
                           lr=base_lr, momentum=0.9)


@pytest.mark.parametrize(("base_lr", "warmup_steps", "total_steps", "start_factor", "eta_min"), WARMUP_CASES)
def test_warmup_cosine_scheduler_matches_sequentiallr(base_lr, warmup_steps, total_steps, start_factor, eta_min):
    def sequential(optimizer):
        warmup = LinearLR(optimizer, start_factor=start_factor, end_factor=1.0, total_iters=warmup_steps)
        cosine = CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps, eta_min=eta_min)
        return SequentialLR(optimizer, [warmup, cosine], milestones=[warmup_steps])

    n_steps = total_steps + 1  # torch's schedule, 0 <= step <= total_steps
    optimizer = _two_groups(base_lr)
    expected = _scheduler_rates(optimizer, sequential(optimizer), n_steps)
    optimizer = _two_groups(base_lr)
    scheduler = WarmupCosine(optimizer, warmup_steps, total_steps, start_factor=start_factor, eta_min=eta_min)
    got = _scheduler_rates(optimizer, scheduler, n_steps + 5)
    for group in range(2):  # each group follows its own base rate
        assert_schedule_close(got[:n_steps, group], expected[:, group], base_lr, f"param group {group}")
    np.testing.assert_array_equal(got[n_steps:], eta_min)  # then eta_min for good
    assert scheduler.get_last_lr() == [eta_min, eta_min]


def test_warmup_cosine_scheduler_is_the_closed_form_of_the_function():
    optimizer = _two_groups(0.3)
    scheduler = WarmupCosine(optimizer, 4, 20, start_factor=0.2, eta_min=0.01)
    got = _scheduler_rates(optimizer, scheduler, 25)
    for t in range(25):
        for group, base in enumerate((0.3, 0.3 / 7)):
            assert got[t, group] == warmup_cosine(t, base, 4, 20, start_factor=0.2, eta_min=0.01)


def test_warmup_cosine_scheduler_state_dict_round_trip():
    # A scheduler restored with load_state_dict on a fresh optimizer continues the schedule exactly:
    # get_lr() reads last_epoch and base_lrs only, never the optimizer's current rate.
    optimizer = _two_groups(0.5)
    scheduler = WarmupCosine(optimizer, 3, 12, start_factor=0.25, eta_min=0.02)
    full = _scheduler_rates(optimizer, scheduler, 16)
    optimizer = _two_groups(0.5)
    first = WarmupCosine(optimizer, 3, 12, start_factor=0.25, eta_min=0.02)
    _scheduler_rates(optimizer, first, 5)  # five steps
    state = first.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 5
    fresh_optimizer = _two_groups(0.5)
    resumed = WarmupCosine(fresh_optimizer, 3, 12, start_factor=0.25, eta_min=0.02)
    resumed.load_state_dict(state)
    rates = []
    for _ in range(10):
        resumed.step()
        rates.append([group["lr"] for group in fresh_optimizer.param_groups])
    np.testing.assert_array_equal(np.array(rates), full[6:17])
    # ... and so does one whose last_epoch is set directly
    resumed.last_epoch = 8
    assert resumed.get_lr() == list(full[8])


def test_warmup_cosine_scheduler_rejects_bad_arguments_before_touching_the_optimizer():
    for kwargs, name in [(dict(warmup_steps=0, total_steps=10), "warmup_steps"),
                         (dict(warmup_steps=10, total_steps=10), "total_steps"),
                         (dict(warmup_steps=2, total_steps=9, start_factor=0.0), "start_factor"),
                         (dict(warmup_steps=2, total_steps=9, start_factor=1.5), "start_factor"),
                         (dict(warmup_steps=2, total_steps=9, eta_min=-0.1), "eta_min")]:
        optimizer = _two_groups(0.1)
        with pytest.raises(ValueError, match=rf"^{name} "):
            WarmupCosine(optimizer, **kwargs)
        assert [group["lr"] for group in optimizer.param_groups] == [0.1, 0.1 / 7]
        assert all("initial_lr" not in group for group in optimizer.param_groups)


# ---------------------------------------------------------------- API behaviour

def test_pure_functions_return_python_floats_and_accept_numpy_scalars():
    for func, kwargs in [
        (step_decay, dict(base_lr=0.1, step_size=3)),
        (exponential_decay, dict(base_lr=0.1, gamma=0.9)),
        (cosine_annealing, dict(base_lr=0.1, T_max=10)),
        (cosine_warm_restarts, dict(base_lr=0.1, T_0=3, T_mult=2)),
        (warmup_cosine, dict(base_lr=0.1, warmup_steps=2, total_steps=10)),
    ]:
        first = func(5, **kwargs)
        assert type(first) is float
        assert func(5, **kwargs) == first  # same input, same output
        assert func(np.int64(5), **kwargs) == first
        assert func(5.0, **kwargs) == first


BAD_CALLS = [
    (step_decay, dict(step=-1, base_lr=0.1, step_size=3), "step"),
    (step_decay, dict(step=float("nan"), base_lr=0.1, step_size=3), "step"),
    (step_decay, dict(step="3", base_lr=0.1, step_size=3), "step"),
    (step_decay, dict(step=1, base_lr=-0.1, step_size=3), "base_lr"),
    (step_decay, dict(step=1, base_lr=0.1, step_size=0), "step_size"),
    (step_decay, dict(step=1, base_lr=0.1, step_size=2.5), "step_size"),
    (step_decay, dict(step=1, base_lr=0.1, step_size=3, gamma=0.0), "gamma"),
    (exponential_decay, dict(step=1, base_lr=0.1, gamma=-0.5), "gamma"),
    (exponential_decay, dict(step=1, base_lr=float("inf"), gamma=0.5), "base_lr"),
    (cosine_annealing, dict(step=1, base_lr=0.1, T_max=0), "T_max"),
    (cosine_annealing, dict(step=1, base_lr=0.1, T_max=10, eta_min=-1e-3), "eta_min"),
    (cosine_warm_restarts, dict(step=1, base_lr=0.1, T_0=0), "T_0"),
    (cosine_warm_restarts, dict(step=1, base_lr=0.1, T_0=3, T_mult=0), "T_mult"),
    (cosine_warm_restarts, dict(step=1, base_lr=0.1, T_0=3, T_mult=1.5), "T_mult"),
    (cosine_warm_restarts, dict(step=True, base_lr=0.1, T_0=3), "step"),
    (warmup_cosine, dict(step=1, base_lr=0.1, warmup_steps=0, total_steps=10), "warmup_steps"),
    (warmup_cosine, dict(step=1, base_lr=0.1, warmup_steps=10, total_steps=10), "total_steps"),
    (warmup_cosine, dict(step=1, base_lr=0.1, warmup_steps=2, total_steps=9, start_factor=0.0),
     "start_factor"),
    (warmup_cosine, dict(step=1, base_lr=0.1, warmup_steps=2, total_steps=9, start_factor=1.5),
     "start_factor"),
]


@pytest.mark.parametrize(("func", "kwargs", "name"), BAD_CALLS)
def test_invalid_arguments_raise_value_error_naming_the_argument(func, kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        func(**kwargs)


def test_torch_rejects_the_same_restart_arguments():
    # The reference's checks on T_0 and T_mult are the ones torch makes itself.
    for T_0, T_mult in [(0, 1), (3, 0), (3, 1.5)]:
        with pytest.raises(ValueError):
            CosineAnnealingWarmRestarts(_optimizer(0.1), T_0=T_0, T_mult=T_mult)
    with pytest.raises(ValueError):
        LinearLR(_optimizer(0.1), start_factor=0.0)

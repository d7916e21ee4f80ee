"""`solutions.early_stopping.EarlyStopping` follows keras.callbacks.EarlyStopping.

Keras is not installed here, so the oracle is its rule, as written in keras/src/callbacks/early_stopping.py
and in ../shared/reference-conventions.md: an epoch improves iff its value beats the best by more than
min_delta (strictly); wait resets to 0 on an improvement and grows by one otherwise; training stops at the
first epoch without improvement where wait >= patience. Every expected trace below was worked out by hand
from that rule (the comment next to each value says why), never computed with the class under test.
"""

import copy
import math

import numpy as np
import pytest
import torch

from solutions.early_stopping import EarlyStopping, early_stopping_plan


def run(stopper, values):
    """Feed the values one per epoch; return the per-epoch (stop, wait, best, best_epoch)."""
    trace = []
    for value in values:
        stop = stopper.step(value)
        trace.append((stop, stopper.wait, stopper.best, stopper.best_epoch))
    return trace


def first_stop(trace):
    return next((epoch for epoch, row in enumerate(trace) if row[0]), None)


def test_initial_state():
    assert EarlyStopping().best == math.inf
    assert EarlyStopping(mode="max").best == -math.inf
    stopper = EarlyStopping()
    assert (stopper.patience, stopper.min_delta, stopper.mode, stopper.restore_best_weights) == (
        5,
        0.0,
        "min",
        True,
    )
    assert stopper.wait == 0 and stopper.best_epoch is None and stopper.best_state is None


def test_ties_and_plateau_min():
    values = [1.0, 0.9, 0.9, 0.95, 0.8, 0.85, 0.85, 0.85]
    expected = [
        (False, 0, 1.0, 0),  # first value beats +inf
        (False, 0, 0.9, 1),  # 0.9 < 1.0
        (False, 1, 0.9, 1),  # tie: not an improvement
        (False, 2, 0.9, 1),  # worse
        (False, 0, 0.8, 4),  # improvement: wait resets
        (False, 1, 0.8, 4),  # plateau above the best
        (False, 2, 0.8, 4),
        (True, 3, 0.8, 4),  # wait == patience: stop
    ]
    trace = run(EarlyStopping(patience=3), values)
    assert trace == expected


def test_counter_reset_matters():
    # Without the reset at epoch 3 the wait would reach 3 at epoch 4.
    trace = run(EarlyStopping(patience=3), [1.0, 1.1, 1.2, 0.5, 0.6, 0.7, 0.8])
    assert first_stop(trace) == 6
    assert [row[1] for row in trace] == [0, 1, 2, 0, 1, 2, 3]


def test_min_delta_compares_with_best_not_with_previous():
    # min_delta 0.05: 0.97 is not 0.05 below 1.0; 0.94 is (1.0 - 0.94 = 0.06), although it is only
    # 0.03 below the previous epoch.
    trace = run(EarlyStopping(patience=2, min_delta=0.05), [1.0, 0.97, 0.94, 0.91, 0.90])
    assert trace == [
        (False, 0, 1.0, 0),
        (False, 1, 1.0, 0),
        (False, 0, 0.94, 2),
        (False, 1, 0.94, 2),  # 0.91 + 0.05 = 0.96 is not < 0.94
        (True, 2, 0.94, 2),
    ]


def test_improvement_below_min_delta_is_not_one():
    # Small steady gains below min_delta=0.1: only the first epoch improves, so stop at epoch patience.
    trace = run(EarlyStopping(patience=4, min_delta=0.1), [1.0, 0.98, 0.96, 0.94, 0.92, 0.9])
    assert first_stop(trace) == 4
    assert trace[4][2:] == (1.0, 0)


def test_improvement_exactly_min_delta_is_not_one():
    # Binary-exact numbers: 0.75 + 0.25 == 1.0 is not < 1.0 (strict); 0.5 + 0.25 < 1.0 is.
    trace = run(EarlyStopping(patience=5, min_delta=0.25), [1.0, 0.75, 0.5])
    assert [row[1] for row in trace] == [0, 1, 0]
    assert trace[-1][2:] == (0.5, 2)


def test_mode_max():
    values = [0.5, 0.6, 0.55, 0.7, 0.65, 0.65]
    expected = [
        (False, 0, 0.5, 0),  # beats -inf
        (False, 0, 0.6, 1),
        (False, 1, 0.6, 1),  # lower accuracy
        (False, 0, 0.7, 3),
        (False, 1, 0.7, 3),
        (True, 2, 0.7, 3),  # patience 2 reached
    ]
    assert run(EarlyStopping(patience=2, mode="max"), values) == expected


def test_mode_max_tie_and_negative_values():
    # Log-likelihoods are negative: best must start at -inf, not 0.
    trace = run(EarlyStopping(patience=2, mode="max"), [-3.0, -2.0, -2.0, -2.5])
    assert trace == [(False, 0, -3.0, 0), (False, 0, -2.0, 1), (False, 1, -2.0, 1), (True, 2, -2.0, 1)]


def test_mode_max_with_min_delta():
    # 0.62 - 0.05 = 0.57 is not > 0.6; 0.7 - 0.05 = 0.65 > 0.6.
    trace = run(EarlyStopping(patience=3, mode="max", min_delta=0.05), [0.6, 0.62, 0.7])
    assert trace == [(False, 0, 0.6, 0), (False, 1, 0.6, 0), (False, 0, 0.7, 2)]


def test_patience_zero_stops_at_first_bad_epoch():
    # Improving epochs never stop training, even with patience 0 (keras returns before its check).
    trace = run(EarlyStopping(patience=0), [1.0, 0.9, 0.95])
    assert [row[0] for row in trace] == [False, False, True]


def test_nan_is_not_an_improvement():
    trace = run(EarlyStopping(patience=2), [1.0, float("nan"), 0.9, float("nan"), float("nan")])
    assert [row[1] for row in trace] == [0, 1, 0, 1, 2]
    assert first_stop(trace) == 4 and trace[-1][2:] == (0.9, 2)


def test_step_returns_python_bool_and_accepts_tensors():
    stopper = EarlyStopping(patience=1)
    first = stopper.step(torch.tensor(2.0, dtype=torch.float64))
    second = stopper.step(torch.tensor(3.0, dtype=torch.float64))
    assert first is False and second is True
    assert stopper.best == 2.0 and isinstance(stopper.best, float)


def test_keeps_counting_after_stop():
    stopper = EarlyStopping(patience=1)
    assert [stopper.step(v) for v in [1.0, 2.0, 3.0, 0.5]] == [False, True, True, False]
    assert (stopper.wait, stopper.best_epoch, stopper.epoch) == (0, 3, 4)


def make_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(), torch.nn.Linear(4, 2)
    ).double()


def test_best_weights_are_a_deep_copy_with_in_place_updates():
    # Weights change in place after the best epoch, as an optimizer does: a plain state_dict() would
    # follow them. Best epoch by hand: 0.8 at epoch 2, then three worse epochs -> stop at epoch 5.
    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    stopper = EarlyStopping(patience=3)
    values = [1.0, 0.9, 0.8, 0.85, 0.8, 0.95]
    snapshots = []
    x = torch.randn(16, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    for epoch, value in enumerate(values):
        model.train()
        optimizer.zero_grad()
        model(x).pow(2).sum().backward()
        optimizer.step()  # the forward pass in train mode also moved the BatchNorm buffers
        snapshots.append({k: v.clone() for k, v in model.state_dict().items()})
        stop = stopper.step(value, model)
        assert stop is (epoch == 5)
    assert stopper.best_epoch == 2
    live_before = {k: v.clone() for k, v in model.state_dict().items()}
    # The stored best is the epoch-2 snapshot, buffers included, and differs from the last weights.
    for key, tensor in snapshots[2].items():
        torch.testing.assert_close(stopper.best_state[key], tensor, rtol=0, atol=0)
    assert not torch.equal(snapshots[2]["0.weight"], snapshots[5]["0.weight"])
    # step never touched the live model.
    for key, tensor in live_before.items():
        torch.testing.assert_close(model.state_dict()[key], tensor, rtol=0, atol=0)

    assert stopper.restore(model) is model
    for key, tensor in snapshots[2].items():
        torch.testing.assert_close(model.state_dict()[key], tensor, rtol=0, atol=0)

    # Training on after restore must not corrupt the stored best: restore loads a copy.
    with torch.no_grad():
        model[0].weight.add_(1.0)
        model[1].running_mean.add_(1.0)
    stopper.restore(model)
    torch.testing.assert_close(model[0].weight, snapshots[2]["0.weight"], rtol=0, atol=0)
    torch.testing.assert_close(model[1].running_mean, snapshots[2]["1.running_mean"], rtol=0, atol=0)


def test_restore_into_a_fresh_model():
    model = make_model()
    stopper = EarlyStopping(patience=1)
    stopper.step(0.5, model)
    expected = copy.deepcopy(model.state_dict())
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(-2.0)
    stopper.step(0.7, model)
    other = make_model()
    with torch.no_grad():
        for p in other.parameters():
            p.zero_()
    stopper.restore(other)
    for key, tensor in expected.items():
        torch.testing.assert_close(other.state_dict()[key], tensor, rtol=0, atol=0)


def test_restore_without_weights_raises():
    model = make_model()
    with pytest.raises(ValueError, match="no best weights"):
        EarlyStopping().restore(model)
    stopper = EarlyStopping(restore_best_weights=False)
    stopper.step(1.0, model)
    assert stopper.best_state is None
    with pytest.raises(ValueError, match="no best weights"):
        stopper.restore(model)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"patience": -1}, "patience"),
        ({"patience": 1.5}, "patience"),
        ({"patience": True}, "patience"),
        ({"min_delta": -0.1}, "min_delta"),
        ({"min_delta": float("inf")}, "min_delta"),
        ({"mode": "auto"}, "mode"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        EarlyStopping(**kwargs)


# -- early_stopping_plan ---------------------------------------------------------------------------------------
# The oracle is a brute force written from the definitions, not from the rule's loop: the best epoch after epoch t
# is the first argmin of the prefix (min_delta = 0: a tie never improves), the wait is t minus it, and training
# stops at the first t whose wait reaches max(patience, 1) (an improving epoch, wait 0, never stops).
def brute_force_plan(train, val, patience):
    train, val = np.asarray(train, dtype=float), np.asarray(val, dtype=float)
    best = [int(np.argmin(val[: t + 1])) for t in range(len(val))]  # np.argmin: the first minimum
    waits = np.arange(len(val)) - np.asarray(best)
    stops = np.flatnonzero(waits >= max(patience, 1))
    stop = int(stops[0]) if stops.size else len(val) - 1
    return stop, best[stop], best[stop] + 1, float(train[best[stop]])


@pytest.mark.parametrize("seed", range(200))
def test_plan_equals_the_brute_force_on_random_curves(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40))
    val = (np.round(rng.normal(1.0, 0.2, n) * 16) / 16).tolist()  # a coarse grid: ties and plateaus are common
    train = rng.uniform(0.0, 1.0, n).tolist()
    patience = int(rng.integers(0, 8))
    assert early_stopping_plan(train, val, patience) == brute_force_plan(train, val, patience)


def test_plan_by_hand():
    train = [1.5, 1.25, 1.0, 0.875, 0.75, 0.625, 0.5, 0.375]
    val = [1.0, 0.75, 0.5, 0.625, 0.5, 0.75, 0.25, 0.125]
    # patience 2: best 0.5 at epoch 2; epochs 3 (worse) and 4 (a tie) wait 1 and 2 -> stop at 4, restore 2
    assert early_stopping_plan(train, val, 2) == (4, 2, 3, 1.0)
    # patience 3: epoch 5 is the third without improvement -> stop at 5
    assert early_stopping_plan(train, val, 3) == (5, 2, 3, 1.0)
    # patience 4: epoch 6 improves (0.25), epoch 7 too: never stops, the last epoch is restored
    assert early_stopping_plan(train, val, 4) == (7, 7, 8, 0.375)
    # min_delta 0.25: 0.75 + 0.25 < 1.0 is false (strict), 0.5 + 0.25 < 1.0 improves (epoch 2); epochs 3-5 wait 1-3
    # and epoch 6 (0.25 + 0.25 < 0.5 is false: exactly min_delta is no improvement) waits 4 -> stop at 6
    assert early_stopping_plan(train, val, 4, min_delta=0.25) == (6, 2, 3, 1.0)
    # patience 0 stops at the first epoch without improvement, like patience 1
    assert early_stopping_plan(train, val, 0) == early_stopping_plan(train, val, 1) == (3, 2, 3, 1.0)


def test_plan_with_min_delta_follows_the_stopper():
    rng = np.random.default_rng(5)
    for _ in range(100):
        n, patience = int(rng.integers(1, 30)), int(rng.integers(0, 6))
        val = (np.round(rng.normal(1.0, 0.2, n) * 32) / 32).tolist()
        min_delta = float(rng.choice([0.0, 1 / 32, 1 / 8]))
        stopper, stop = EarlyStopping(patience=patience, min_delta=min_delta), n - 1
        for epoch, value in enumerate(val):  # the class, proven by the hand traces above
            if stopper.step(value):
                stop = epoch
                break
        got = early_stopping_plan(list(range(n)), val, patience, min_delta=min_delta)
        assert got == (stop, stopper.best_epoch, stopper.best_epoch + 1, float(stopper.best_epoch))


@pytest.mark.parametrize(
    ("args", "match"),
    [(([], [], 2), "empty"), (([1.0], [1.0, 0.5], 2), "lengths"), (([1.0], [1.0], -1), "patience"),
     (([1.0], [1.0], 2, -0.5), "min_delta"), (([1.0, 1.0], [math.nan, math.inf], 2), "nothing to restore")],
)
def test_plan_invalid_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        early_stopping_plan(*args)


def test_plan_does_not_mutate_and_returns_python_numbers():
    train, val = np.array([1.0, 0.5, 0.25]), [1.0, 0.75, 0.875]
    saved = (train.copy(), list(val))
    plan = early_stopping_plan(train, val, 1)
    assert np.array_equal(train, saved[0]) and val == saved[1]
    assert plan == (2, 1, 2, 0.5) and [type(v) for v in plan] == [int, int, int, float]

"""Prove ``solutions.momentum.sgd_momentum_step`` equal to ``torch.optim.SGD`` with momentum, and
``largest_stable_lr`` equal to the divergence threshold of torch's own optimizer on a quadratic bowl.

The oracle is the optimizer itself, fed the same gradients (``param.grad`` set by hand before
each ``optimizer.step()``), its velocity read from ``optimizer.state[param]["momentum_buffer"]``.
The reference uses torch's own operations in torch's order (``add`` with ``alpha``, which rounds
once, like the optimizer's in-place ``add_``), so the two agree bit for bit: the comparisons are
exact (rtol = atol = 0), in float64 and in float32, over hundreds of steps.
"""

import numpy as np
import pytest
import torch

from solutions.momentum import largest_stable_lr, sgd_momentum_step

# (momentum, dampening, nesterov): plain heavy ball, dampened, Nesterov, full dampening, momentum > 1
SETTINGS = [(0.9, 0.0, False), (0.7, 0.3, False), (0.9, 0.0, True), (0.5, 1.0, False), (0.35, 0.0, True),
            (1.3, 0.1, False)]


def _trajectories(shape, lrs, momentum, dampening, nesterov, dtype, seed):
    """(torch's params and buffers, the reference's) after each step, on one seeded gradient sequence."""
    gen = torch.Generator().manual_seed(seed)
    start = torch.randn(shape, generator=gen, dtype=torch.float64).to(dtype)
    grads = [torch.randn(shape, generator=gen, dtype=torch.float64).to(dtype) * 3 + 0.5 for _ in lrs]
    weight = start.clone().requires_grad_(True)
    optimizer = torch.optim.SGD([weight], lr=lrs[0], momentum=momentum, dampening=dampening, nesterov=nesterov)
    param, velocity = start.clone(), None
    theirs, ours = [], []
    for lr, grad in zip(lrs, grads, strict=True):
        optimizer.param_groups[0]["lr"] = lr  # what a scheduler does between steps
        weight.grad = grad.clone()
        optimizer.step()
        theirs.append((weight.detach().clone(), optimizer.state[weight]["momentum_buffer"].clone()))
        param, velocity = sgd_momentum_step(param, grad, velocity, lr, momentum, dampening, nesterov)
        ours.append((param, velocity))
    return theirs, ours


@pytest.mark.parametrize(("momentum", "dampening", "nesterov"), SETTINGS)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_matches_torch_sgd_over_many_steps(momentum, dampening, nesterov, dtype):
    lrs = [0.05] * 300
    theirs, ours = _trajectories((7, 3), lrs, momentum, dampening, nesterov, dtype, seed=int(momentum * 100))
    for step, ((p_t, v_t), (p_o, v_o)) in enumerate(zip(theirs, ours, strict=True)):
        assert p_o.dtype == dtype and v_o.dtype == dtype
        torch.testing.assert_close(p_o, p_t, rtol=0, atol=0, msg=f"param after step {step + 1}")
        torch.testing.assert_close(v_o, v_t, rtol=0, atol=0, msg=f"velocity after step {step + 1}")


@pytest.mark.parametrize(("momentum", "dampening", "nesterov"), SETTINGS[:3])
def test_matches_torch_sgd_when_a_scheduler_changes_the_rate(momentum, dampening, nesterov):
    # the rate changes at every step (a warm-up then a decay): torch's velocity holds no rate, so a new
    # rate applies at once to the whole velocity
    lrs = [0.2 * min(1.0, (t + 1) / 10) * 0.97**t for t in range(120)]
    theirs, ours = _trajectories((40,), lrs, momentum, dampening, nesterov, torch.float64, seed=7)
    for step, ((p_t, v_t), (p_o, v_o)) in enumerate(zip(theirs, ours, strict=True)):
        torch.testing.assert_close(p_o, p_t, rtol=0, atol=0, msg=f"param after step {step + 1}")
        torch.testing.assert_close(v_o, v_t, rtol=0, atol=0, msg=f"velocity after step {step + 1}")


def test_literal_values():
    param, grad = torch.tensor([1.0, -2.0], dtype=torch.float64), torch.tensor([0.5, 1.0], dtype=torch.float64)
    # first step: the velocity is the gradient itself, even with a dampening
    p1, v1 = sgd_momentum_step(param, grad, None, lr=0.1, momentum=0.9, dampening=0.5)
    assert v1.tolist() == [0.5, 1.0]
    torch.testing.assert_close(p1, torch.tensor([0.95, -2.1], dtype=torch.float64), rtol=1e-15, atol=0)
    # second step: v = 0.9 * v + 0.5 * g
    p2, v2 = sgd_momentum_step(p1, grad, v1, lr=0.1, momentum=0.9, dampening=0.5)
    torch.testing.assert_close(v2, torch.tensor([0.7, 1.4], dtype=torch.float64), rtol=1e-15, atol=0)
    torch.testing.assert_close(p2, torch.tensor([0.88, -2.24], dtype=torch.float64), rtol=1e-15, atol=1e-15)
    # Nesterov: the step is g + momentum * v
    p3, v3 = sgd_momentum_step(param, grad, torch.tensor([1.0, 0.0], dtype=torch.float64), lr=0.1, momentum=0.5,
                               nesterov=True)
    torch.testing.assert_close(v3, torch.tensor([1.0, 1.0], dtype=torch.float64), rtol=1e-15, atol=0)
    torch.testing.assert_close(p3, param - 0.1 * (grad + 0.5 * v3), rtol=1e-15, atol=0)


def test_inputs_are_not_modified_and_outputs_are_new_tensors():
    gen = torch.Generator().manual_seed(3)
    param = torch.randn(5, generator=gen, dtype=torch.float64).requires_grad_(True)
    grad, velocity = torch.randn(5, generator=gen, dtype=torch.float64), torch.randn(5, generator=gen,
                                                                                      dtype=torch.float64)
    before = [t.detach().clone() for t in (param, grad, velocity)]
    new_param, new_velocity = sgd_momentum_step(param, grad, velocity, 0.1, 0.9)
    for original, now in zip(before, (param, grad, velocity), strict=True):
        assert torch.equal(original, now.detach())
    assert not new_param.requires_grad and new_param.grad_fn is None
    for out in (new_param, new_velocity):
        assert all(out.data_ptr() != t.data_ptr() for t in (param, grad, velocity))
    _, first = sgd_momentum_step(param, grad, None, 0.1, 0.9)
    assert first.data_ptr() != grad.data_ptr()  # the first velocity is a copy of grad, not grad itself


BAD_CALLS = [
    (dict(lr=-0.1, momentum=0.9), "lr"),
    (dict(lr=float("nan"), momentum=0.9), "lr"),
    (dict(lr=0.1, momentum=0.0), "momentum"),
    (dict(lr=0.1, momentum=-0.5), "momentum"),
    (dict(lr=0.1, momentum=0.9, dampening=1.5), "dampening"),
    (dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
]


@pytest.mark.parametrize(("kwargs", "name"), BAD_CALLS)
def test_invalid_arguments_raise_value_error_naming_the_argument(kwargs, name):
    param, grad = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    with pytest.raises(ValueError, match=rf"^{name} "):
        sgd_momentum_step(param, grad, None, **kwargs)


def test_torch_rejects_the_same_arguments():
    # the reference's rules are torch's, except momentum = 0 (plain SGD: torch keeps no velocity)
    # and dampening outside [0, 1] (torch does not check it)
    weight = torch.zeros(1, requires_grad=True)
    for kwargs in (dict(lr=-0.1, momentum=0.9), dict(lr=0.1, momentum=-0.5),
                   dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)):
        with pytest.raises(ValueError):
            torch.optim.SGD([weight], **kwargs)


def test_shapes_must_agree():
    param = torch.zeros(3, dtype=torch.float64)
    with pytest.raises(ValueError, match="^grad "):
        sgd_momentum_step(param, torch.ones(4, dtype=torch.float64), None, 0.1, 0.9)
    with pytest.raises(ValueError, match="^velocity "):
        sgd_momentum_step(param, torch.ones(3, dtype=torch.float64), torch.ones(2, 3), 0.1, 0.9)
    with pytest.raises(ValueError, match="^param "):
        sgd_momentum_step([0.0, 1.0], torch.ones(2), None, 0.1, 0.9)


# -- largest_stable_lr: the threshold found by bisection on torch's own optimizer ------------------------------
def _torch_step_matrix(curvature, lr, momentum, nesterov):
    """The 2 x 2 linear map (w, buffer) -> (w', buffer') of one ``torch.optim.SGD`` step on L(w) = curvature w^2 / 2,
    read off torch by stepping from the two unit states (the gradient curvature * w is set by hand)."""
    columns = []
    for w0, b0 in ((1.0, 0.0), (0.0, 1.0)):
        weight = torch.tensor([w0], dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.SGD([weight], lr=lr, momentum=momentum, nesterov=nesterov)
        optimizer.state[weight]["momentum_buffer"] = torch.tensor([b0], dtype=torch.float64)
        weight.grad = curvature * weight.detach().clone()
        optimizer.step()
        columns.append([weight.item(), optimizer.state[weight]["momentum_buffer"].item()])
    return np.array(columns).T


def _bisected_threshold(curvatures, momentum, nesterov):
    """The largest rate whose torch iteration contracts in every direction (spectral radius < 1), by bisection."""
    def stable(lr):
        return all(max(abs(np.linalg.eigvals(_torch_step_matrix(c, lr, momentum, nesterov)))) < 1 for c in curvatures)

    low, high = 0.0, 10.0 / max(curvatures)
    assert stable(1e-6 / max(curvatures)) and not stable(high)
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if stable(middle) else (low, middle)
    return low


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_largest_stable_lr_is_torchs_divergence_threshold(nesterov, seed):
    rng = np.random.default_rng(seed)
    curvatures = list(rng.uniform(0.1, 50.0, size=int(rng.integers(1, 4))))
    momentum = float(rng.uniform(0.05, 0.99))
    # bisection ends within 10/max(c) * 2**-60 of the threshold; near it the spectral radius moves like the
    # distance to it, so rounding in the 2 x 2 eigenvalues (~1e-15) shifts the found threshold by ~1e-13 relative
    assert largest_stable_lr(curvatures, momentum, nesterov) == pytest.approx(
        _bisected_threshold(curvatures, momentum, nesterov), rel=1e-9)


@pytest.mark.parametrize("nesterov", [False, True])
def test_runs_of_torch_sgd_converge_below_the_limit_and_diverge_above(nesterov):
    curvatures = torch.tensor([20.0, 1.0, 0.3], dtype=torch.float64)  # a bowl like the chapter's, plus one
    limit = largest_stable_lr(curvatures.numpy(), 0.9, nesterov)

    def final_distance(lr):
        weight = torch.ones(3, dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.SGD([weight], lr=lr, momentum=0.9, nesterov=nesterov)
        for _ in range(3000):
            optimizer.zero_grad()
            (0.5 * (curvatures * weight**2).sum()).backward()
            optimizer.step()
            if not weight.detach().norm().item() < 1e6:  # diverged: stop before it overflows to inf and NaN
                break
        return weight.detach().norm().item()

    # 3 % from the limit the steep direction's radius is ~1 -+ 0.005: after 3000 steps a factor e^(-+15) or more
    assert final_distance(0.97 * limit) < 1e-3
    assert final_distance(1.03 * limit) > 1e3


def test_largest_stable_lr_literal_values():
    assert largest_stable_lr(20.0, 0.9) == pytest.approx(2 * 1.9 / 20, rel=1e-15)
    assert largest_stable_lr([20.0, 1.0], 0.9, nesterov=True) == pytest.approx(2 * 1.9 / (2.8 * 20), rel=1e-15)
    # without momentum both are plain gradient descent's 2 / L
    assert largest_stable_lr([4.0, 0.5], 0.0) == largest_stable_lr([4.0, 0.5], 0.0, nesterov=True) == 0.5


def test_largest_stable_lr_does_not_modify_its_input():
    curvatures = np.array([3.0, 1.0])
    largest_stable_lr(curvatures, 0.5)
    assert curvatures.tolist() == [3.0, 1.0]


@pytest.mark.parametrize(("args", "name"), [
    (([], 0.9), "curvatures"), (([1.0, -2.0], 0.9), "curvatures"), (([1.0, np.nan], 0.9), "curvatures"),
    (([0.0], 0.9), "curvatures"), (([1.0], 1.0), "momentum"), (([1.0], -0.1), "momentum"),
    (([1.0], float("inf")), "momentum"), (([1.0], 0.9, "yes"), "nesterov"),
])
def test_largest_stable_lr_rejects_bad_input(args, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        largest_stable_lr(*args)

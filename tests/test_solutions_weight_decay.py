"""`solutions.weight_decay` equals torch.optim.SGD / Adam / AdamW, torch.renorm and autograd.

All comparisons in float64. Tolerances: one optimizer step is a handful of float64 operations, done by torch
in a slightly different order (lerp instead of beta*m + (1-beta)*g, a fused addcdiv); over 200 steps the
rounding differences stay far below 1e-12 relative, so rtol=1e-12 (with atol=1e-14 for entries near 0) is
tight enough to catch any wrong formula (a missing bias correction changes step 1 by a factor of ~3).
"""

import numpy as np
import pytest
import torch

from solutions.weight_decay import adam_step, l2_penalty, max_norm_, sgd_step

F64 = torch.float64
# Rounding-order differences with torch.optim over many steps (see the module docstring).
RTOL, ATOL = 1e-12, 1e-14


def random_grads(n_steps, shape, seed):
    gen = torch.Generator().manual_seed(seed)
    # Gradients of changing scale and a non-zero mean, like a real training run's.
    return [torch.randn(shape, dtype=F64, generator=gen) * (1 + k % 7) + 0.3 for k in range(n_steps)]


def start(shape, seed):
    return torch.randn(shape, dtype=F64, generator=torch.Generator().manual_seed(seed)) * 2.0


# ---------------------------------------------------------------- the literal numbers of the conventions


def test_one_step_numbers_from_the_conventions():
    # p = [1, -2], grad 1, lr 0.1, lambda 0.1. Adam + L2: g = 1 + 0.1 p = [1.1, 0.8]; at step 1 the
    # bias-corrected step is lr * g / |g| = 0.1 per entry -> [0.9, -2.1]. AdamW: p (1 - 0.01) =
    # [0.99, -1.98], then the same 0.1 step -> [0.89, -2.08]. eps 1e-8 moves these by about 1e-8,
    # inside atol 1e-7.
    p = torch.tensor([1.0, -2.0], dtype=F64)
    g = torch.ones(2, dtype=F64)
    zeros = torch.zeros(2, dtype=F64)
    coupled, m, v = adam_step(p, g, zeros, zeros, 1, lr=0.1, weight_decay=0.1)
    decoupled, _, _ = adam_step(p, g, zeros, zeros, 1, lr=0.1, weight_decay=0.1, decoupled=True)
    torch.testing.assert_close(coupled, torch.tensor([0.9, -2.1], dtype=F64), rtol=0, atol=1e-7)
    torch.testing.assert_close(decoupled, torch.tensor([0.89, -2.08], dtype=F64), rtol=0, atol=1e-7)
    # Raw moments after step 1: m = 0.1 g, v = 0.001 g^2 with g = [1.1, 0.8].
    torch.testing.assert_close(m, torch.tensor([0.11, 0.08], dtype=F64), rtol=1e-14, atol=0)
    torch.testing.assert_close(v, torch.tensor([0.00121, 0.00064], dtype=F64), rtol=1e-14, atol=0)
    # SGD: 1 - 0.1 (1 + 0.1) = 0.89, -2 - 0.1 (1 - 0.2) = -2.08: here SGD+L2 equals AdamW by coincidence.
    torch.testing.assert_close(
        sgd_step(p, g, 0.1, weight_decay=0.1), torch.tensor([0.89, -2.08], dtype=F64), rtol=1e-14, atol=0
    )


# ---------------------------------------------------------------- SGD


@pytest.mark.parametrize(("lr", "weight_decay"), [(0.1, 0.0), (0.05, 0.3), (0.5, 1e-3)])
@pytest.mark.parametrize("shape", [(7,), (4, 3)])
def test_sgd_step_equals_torch_sgd_over_many_steps(lr, weight_decay, shape):
    param = start(shape, 0)
    ours = param.clone()
    theirs = param.clone().requires_grad_()
    optimizer = torch.optim.SGD([theirs], lr=lr, weight_decay=weight_decay)
    ours_path, theirs_path = [], []
    for grad in random_grads(100, shape, 1):
        theirs.grad = grad.clone()
        optimizer.step()
        ours = sgd_step(ours, grad, lr, weight_decay=weight_decay)
        ours_path.append(ours)
        theirs_path.append(theirs.detach().clone())
    # Every step is compared (stacked, one assert for speed).
    torch.testing.assert_close(torch.stack(ours_path), torch.stack(theirs_path), rtol=RTOL, atol=ATOL)


def test_sgd_weight_decay_is_the_l2_penalty():
    # For SGD, weight_decay=lam is the gradient of (lam/2)||w||^2: one step with the penalty added to the
    # loss (weights only, decay 0) equals torch.optim.SGD with a weight_decay group for the weights.
    torch.manual_seed(0)
    x = torch.randn(32, 5, dtype=F64)
    y = torch.randn(32, 2, dtype=F64)
    lam, lr = 0.2, 0.1

    def model():
        torch.manual_seed(1)
        return torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)).double()

    penalized, decayed = model(), model()
    opt_a = torch.optim.SGD(penalized.parameters(), lr=lr)
    weights = [p for p in decayed.parameters() if p.dim() > 1]
    others = [p for p in decayed.parameters() if p.dim() <= 1]
    opt_b = torch.optim.SGD([{"params": weights, "weight_decay": lam}, {"params": others}], lr=lr)
    for _ in range(20):
        opt_a.zero_grad()
        (torch.nn.functional.mse_loss(penalized(x), y) + l2_penalty(penalized, lam)).backward()
        opt_a.step()
        opt_b.zero_grad()
        torch.nn.functional.mse_loss(decayed(x), y).backward()
        opt_b.step()
    for a, b in zip(penalized.parameters(), decayed.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------- Adam / AdamW


ADAM_SETTINGS = [
    {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
    {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1},
    {"lr": 0.01, "betas": (0.95, 0.9), "eps": 1e-3, "weight_decay": 0.5},
]


@pytest.mark.parametrize("settings", ADAM_SETTINGS)
@pytest.mark.parametrize("decoupled", [False, True])
def test_adam_step_equals_torch_over_many_steps(settings, decoupled):
    shape = (5, 3)
    param = start(shape, 2)
    ours = param.clone()
    m = torch.zeros(shape, dtype=F64)
    v = torch.zeros(shape, dtype=F64)
    theirs = param.clone().requires_grad_()
    optimizer = (torch.optim.AdamW if decoupled else torch.optim.Adam)([theirs], **settings)
    ours_path, theirs_path = [], []
    for t, grad in enumerate(random_grads(200, shape, 3), start=1):
        theirs.grad = grad.clone()
        optimizer.step()
        ours, m, v = adam_step(ours, grad, m, v, t, decoupled=decoupled, **settings)
        state = optimizer.state[theirs]
        ours_path.append(torch.stack([ours, m, v]))
        theirs_path.append(torch.stack([theirs.detach(), state["exp_avg"], state["exp_avg_sq"]]))
    # Parameter, exp_avg and exp_avg_sq after every step (stacked, one assert for speed).
    torch.testing.assert_close(torch.stack(ours_path), torch.stack(theirs_path), rtol=RTOL, atol=ATOL)


def test_adam_defaults_are_torch_defaults():
    # torch.optim.Adam's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0.
    param, grads = start((6,), 4), random_grads(30, (6,), 5)
    theirs = param.clone().requires_grad_()
    optimizer = torch.optim.Adam([theirs])
    ours, m, v = param.clone(), torch.zeros(6, dtype=F64), torch.zeros(6, dtype=F64)
    for t, grad in enumerate(grads, start=1):
        theirs.grad = grad.clone()
        optimizer.step()
        ours, m, v = adam_step(ours, grad, m, v, t)
    torch.testing.assert_close(ours, theirs.detach(), rtol=RTOL, atol=ATOL)


def test_coupled_and_decoupled_agree_without_decay_and_differ_with_it():
    p, g = start((4,), 6), random_grads(1, (4,), 7)[0]
    zeros = torch.zeros(4, dtype=F64)
    a = adam_step(p, g, zeros, zeros, 1, lr=0.1)[0]
    b = adam_step(p, g, zeros, zeros, 1, lr=0.1, decoupled=True)[0]
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    a = adam_step(p, g, zeros, zeros, 3, lr=0.1, weight_decay=0.3)[0]
    b = adam_step(p, g, zeros, zeros, 3, lr=0.1, weight_decay=0.3, decoupled=True)[0]
    assert (a - b).abs().max() > 1e-3


def test_coupled_decay_is_rescaled_away():
    # Loshchilov and Hutter's point, on one weight at step 1: with a large gradient, Adam's L2 term
    # lam*w is divided by |g + lam*w| and barely moves the weight; AdamW shrinks it by lr*lam*w anyway.
    p = torch.tensor([1.0], dtype=F64)
    g = torch.tensor([100.0], dtype=F64)
    zeros = torch.zeros(1, dtype=F64)
    no_decay = adam_step(p, g, zeros, zeros, 1, lr=0.1)[0]
    coupled = adam_step(p, g, zeros, zeros, 1, lr=0.1, weight_decay=0.1)[0]
    decoupled = adam_step(p, g, zeros, zeros, 1, lr=0.1, weight_decay=0.1, decoupled=True)[0]
    # By hand: no decay 1 - 0.1 = 0.9; coupled 1 - 0.1 * 100.1/100.1 = 0.9; AdamW 0.99 - 0.1 = 0.89.
    torch.testing.assert_close(coupled, no_decay, rtol=0, atol=1e-9)
    torch.testing.assert_close(decoupled, torch.tensor([0.89], dtype=F64), rtol=0, atol=1e-9)


# ---------------------------------------------------------------- inputs are not mutated


def test_steps_do_not_mutate_inputs():
    p, g = start((3, 2), 8), random_grads(1, (3, 2), 9)[0]
    m, v = g.clone() * 0.1, g.clone() ** 2 * 0.01
    before = [t.clone() for t in (p, g, m, v)]
    sgd_step(p, g, 0.1, weight_decay=0.5)
    adam_step(p, g, m, v, 4, lr=0.1, weight_decay=0.5)
    adam_step(p, g, m, v, 4, lr=0.1, weight_decay=0.5, decoupled=True)
    for a, b in zip((p, g, m, v), before, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_steps_accept_parameters_and_return_plain_tensors():
    p = torch.nn.Parameter(start((3,), 10))
    g = torch.ones(3, dtype=F64)
    out = sgd_step(p, g, 0.1)
    assert not out.requires_grad and out.data_ptr() != p.data_ptr()
    new_p, m, v = adam_step(p, g, torch.zeros(3, dtype=F64), torch.zeros(3, dtype=F64), 1)
    assert not new_p.requires_grad


# ---------------------------------------------------------------- l2_penalty


def test_l2_penalty_by_hand():
    layer = torch.nn.Linear(2, 1).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 2.0]]))
        layer.bias.fill_(5.0)
    # (0.5 / 2) * (1 + 4) = 1.25; the bias 5 would add 6.25 if it were included.
    torch.testing.assert_close(l2_penalty(layer, 0.5), torch.tensor(1.25, dtype=F64), rtol=1e-15, atol=0)


def net_with_norm_layers():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, kernel_size=(3, 2)),
        torch.nn.BatchNorm2d(3),
        torch.nn.Flatten(),
        torch.nn.Linear(3 * 4 * 5, 6),
        torch.nn.LayerNorm(6),
        torch.nn.Linear(6, 4, bias=False),
    ).double()


def test_l2_penalty_excludes_biases_and_norm_parameters():
    net = net_with_norm_layers()
    with torch.no_grad():  # make the norm scales and shifts matter if they were included
        for module in (net[1], net[4]):
            module.weight.fill_(3.0)
            module.bias.fill_(-2.0)
    lam = 0.3
    # The weights named explicitly (not selected by dimension, as the code under test does).
    squares = sum(float((w.detach() ** 2).sum()) for w in (net[0].weight, net[3].weight, net[5].weight))
    np.testing.assert_allclose(float(l2_penalty(net, lam).detach()), lam / 2 * squares, rtol=1e-13)


def test_l2_penalty_gradient_is_lam_times_weight():
    net = net_with_norm_layers()
    lam = 0.7
    l2_penalty(net, lam).backward()
    for name, p in net.named_parameters():
        expected = lam * p.detach() if p.dim() > 1 else torch.zeros_like(p)
        got = p.grad if p.grad is not None else torch.zeros_like(p)
        torch.testing.assert_close(got, expected, rtol=1e-14, atol=0, msg=name)


def test_l2_penalty_edge_cases_and_errors():
    assert float(l2_penalty(torch.nn.BatchNorm1d(3), 1.0)) == 0.0  # no weight matrix at all
    assert float(l2_penalty(net_with_norm_layers(), 0.0).detach()) == 0.0
    with pytest.raises(ValueError, match="lam"):
        l2_penalty(torch.nn.Linear(2, 2), -0.1)
    with pytest.raises(ValueError, match="Module"):
        l2_penalty([torch.zeros(2, 2)], 0.1)


# ---------------------------------------------------------------- max_norm_

# renorm and max_norm_ compute the same norm and factor; only summation order can differ.
RENORM_RTOL = 1e-14


@pytest.mark.parametrize("shape", [(6, 4), (3, 10), (5, 2, 3, 3)])
@pytest.mark.parametrize("max_value", [0.5, 1.5, 4.0])
def test_max_norm_equals_torch_renorm(shape, max_value):
    # Rows scaled from 0.03 to 3: norms on both sides of every threshold, so both branches run.
    scales = torch.logspace(-1.5, 0.5, shape[0], dtype=F64).reshape((-1,) + (1,) * (len(shape) - 1))
    weight = start(shape, 11) * scales
    row_norms = weight.reshape(shape[0], -1).norm(dim=1)
    assert (row_norms > max_value).any() and (row_norms < max_value).any()
    expected = torch.renorm(weight, 2, 0, max_value)
    out = max_norm_(weight, max_value)
    assert out is weight  # in place, returns its argument
    torch.testing.assert_close(weight, expected, rtol=RENORM_RTOL, atol=0)


def test_max_norm_by_hand():
    weight = torch.tensor([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]], dtype=F64)
    max_norm_(weight, 1.0)
    # Row 0 has norm 5 -> scaled by 1 / (5 + 1e-7); row 1 (norm 0.5) and the zero row are unchanged.
    factor = 1.0 / (5.0 + 1e-7)
    expected = torch.tensor([[3.0 * factor, 4.0 * factor], [0.3, 0.4], [0.0, 0.0]], dtype=F64)
    torch.testing.assert_close(weight, expected, rtol=1e-15, atol=0)


def test_max_norm_rows_not_columns():
    # Rows of a Linear weight (out, in) are the units' incoming weights; columns are not constrained.
    weight = torch.tensor([[1.0, 1.0, 1.0, 1.0], [0.1, 0.1, 0.1, 0.1]], dtype=F64)  # column norms ~1.005
    max_norm_(weight, 1.0)
    torch.testing.assert_close(weight.norm(dim=1), torch.tensor([1.0, 0.2], dtype=F64), rtol=0, atol=1e-7)


def test_max_norm_on_a_parameter_inside_a_model():
    layer = torch.nn.Linear(4, 3).double()
    with torch.no_grad():
        layer.weight.mul_(10.0)
    expected = torch.renorm(layer.weight.detach(), 2, 0, 0.2)
    ptr = layer.weight.data_ptr()
    max_norm_(layer.weight, 0.2)
    assert layer.weight.data_ptr() == ptr and layer.weight.requires_grad
    torch.testing.assert_close(layer.weight.detach(), expected, rtol=RENORM_RTOL, atol=0)


def test_max_norm_zero_and_errors():
    weight = start((3, 2), 12)
    max_norm_(weight, 0.0)
    torch.testing.assert_close(weight, torch.zeros(3, 2, dtype=F64), rtol=0, atol=0)
    with pytest.raises(ValueError, match="max_value"):
        max_norm_(start((3, 2), 0), -1.0)
    with pytest.raises(ValueError, match="2 dimensions"):
        max_norm_(torch.ones(3, dtype=F64), 1.0)


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"t": 0}, "t must"),
        ({"t": 1.5}, "t must"),
        ({"lr": -0.1}, "lr"),
        ({"eps": -1e-8}, "eps"),
        ({"weight_decay": -0.1}, "weight_decay"),
        ({"betas": (1.0, 0.999)}, r"betas\[0\]"),
        ({"betas": (0.9, -0.1)}, r"betas\[1\]"),
    ],
)
def test_adam_step_errors(kwargs, match):
    args = {"param": torch.zeros(2), "grad": torch.ones(2), "m": torch.zeros(2), "v": torch.zeros(2), "t": 1}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        adam_step(**args)


def test_shape_errors():
    with pytest.raises(ValueError, match="grad must have the shape"):
        sgd_step(torch.zeros(3), torch.zeros(2), 0.1)
    with pytest.raises(ValueError, match="v must have the shape"):
        adam_step(torch.zeros(3), torch.zeros(3), torch.zeros(3), torch.zeros(4), 1)
    with pytest.raises(ValueError, match="lr"):
        sgd_step(torch.zeros(3), torch.zeros(3), -1.0)
    with pytest.raises(ValueError, match="weight_decay"):
        sgd_step(torch.zeros(3), torch.zeros(3), 0.1, weight_decay=-1.0)

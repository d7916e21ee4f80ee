"""Oracle tests for solutions.dropout: torch.nn.Dropout semantics (p = drop probability).

Dropout is random, so exact checks (mask values, out == x * mask, eval and edge cases,
gradients) come with distribution checks. A statistic estimated from n independent
draws is compared with its expectation within 5 standard errors: for a Gaussian
approximation the chance of a false failure is 5.7e-7 per check, and every generator is
seeded, so a pass is reproducible.
"""

import math

import numpy as np
import pytest
import torch

from solutions.dropout import (
    Dropout,
    dropout2d_forward,
    dropout_backward,
    dropout_forward,
    mc_dropout_predict,
    mcnemar,
)

N_SE = 5  # standard errors allowed for every statistical check (see the module docstring)
PS = [0.1, 0.3, 0.5, 0.8]  # p != 0.5 separates the drop and keep conventions


def gen(seed):
    return torch.Generator().manual_seed(seed)


def randn(*shape, seed=0, dtype=torch.float64):
    # Non-zero mean so that "x * mask" and "mask" cannot be confused.
    return torch.randn(*shape, generator=gen(seed), dtype=dtype) + 1.5


# --- forward: exact properties -------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("p", PS)
def test_mask_values_are_exactly_zero_or_inverse_keep_probability(p, dtype):
    x = randn(50, 40, dtype=dtype)
    out, mask = dropout_forward(x, p, generator=gen(1))
    assert mask.shape == x.shape and mask.dtype == dtype and out.dtype == dtype
    scale = torch.tensor(1.0, dtype=dtype) / (1.0 - p)
    assert set(torch.unique(mask).tolist()) == {0.0, scale.item()}
    # torch's own survivors carry the same scale, to the last bit.
    torch_values = torch.unique(torch.nn.functional.dropout(torch.ones(2000, dtype=dtype), p))
    assert torch.equal(torch.unique(mask), torch_values)
    assert torch.equal(out, x * mask)


@pytest.mark.parametrize("shape", [(7,), (5, 3), (2, 3, 4), (2, 3, 4, 5)])
def test_shapes_and_zeros_where_the_mask_is_zero(shape):
    x = randn(*shape, seed=3)
    out, mask = dropout_forward(x, 0.4, generator=gen(2))
    assert out.shape == mask.shape == x.shape
    assert torch.all(out[mask == 0] == 0)
    assert torch.equal(out[mask != 0], x[mask != 0] / 0.6)


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_eval_mode_is_the_identity(p):
    x = randn(30, 20)
    out, mask = dropout_forward(x, p, training=False, generator=gen(0))
    assert torch.equal(mask, torch.ones_like(x))
    assert torch.equal(out, x)


def test_p_zero_is_the_identity_in_training():
    x = randn(30, 20)
    out, mask = dropout_forward(x, 0.0, generator=gen(0))
    assert torch.equal(mask, torch.ones_like(x))
    assert torch.equal(out, x)


def test_p_one_gives_zeros_without_nan():
    x = randn(30, 20)
    out, mask = dropout_forward(x, 1.0, generator=gen(0))
    assert torch.equal(mask, torch.zeros_like(x))
    assert torch.equal(out, torch.zeros_like(x))
    assert torch.equal(out, torch.nn.functional.dropout(x, 1.0))
    assert torch.isfinite(mask).all() and torch.isfinite(out).all()


def test_input_not_mutated_and_output_is_a_new_tensor():
    x = randn(20, 10)
    before = x.clone()
    for training in (True, False):
        out, _ = dropout_forward(x, 0.3, training=training, generator=gen(0))
        assert torch.equal(x, before)
        assert out.data_ptr() != x.data_ptr()


def test_integer_input_becomes_float64():
    out, mask = dropout_forward(torch.arange(1, 11), 0.5, generator=gen(0))
    assert out.dtype == mask.dtype == torch.float64
    assert set(torch.unique(mask).tolist()) <= {0.0, 2.0}


@pytest.mark.parametrize("p", [-0.1, 1.0001, float("nan"), float("inf"), True, "0.5", None])
def test_invalid_p_raises(p):
    with pytest.raises(ValueError, match="p must"):
        dropout_forward(randn(3, 3), p)
    with pytest.raises(ValueError, match="p must"):
        Dropout(p)


def test_scalar_input_raises():
    with pytest.raises(ValueError, match="at least one dimension"):
        dropout_forward(torch.tensor(1.0), 0.5)


# --- forward: randomness comes from the generator only ------------------------------


def test_same_seed_same_mask_and_the_generator_advances():
    x = randn(40, 30)
    _, m1 = dropout_forward(x, 0.3, generator=gen(7))
    _, m2 = dropout_forward(x, 0.3, generator=gen(7))
    assert torch.equal(m1, m2)
    g = gen(7)
    _, first = dropout_forward(x, 0.3, generator=g)
    _, second = dropout_forward(x, 0.3, generator=g)
    assert torch.equal(first, m1)
    assert not torch.equal(first, second)  # P(equal) = (0.3^2 + 0.7^2)^1200, nil


def test_global_rng_untouched_when_a_generator_is_given():
    state = torch.get_rng_state()
    dropout_forward(randn(40, 30), 0.3, generator=gen(7))
    assert torch.equal(torch.get_rng_state(), state)


def test_default_generator_when_none():
    x = randn(40, 30)
    torch.manual_seed(123)
    _, m1 = dropout_forward(x, 0.3)
    torch.manual_seed(123)
    _, m2 = dropout_forward(x, 0.3)
    assert torch.equal(m1, m2)


# --- forward: distribution ----------------------------------------------------------


@pytest.mark.parametrize("p", PS)
def test_keep_rate_is_one_minus_p(p):
    # Each entry is kept independently with probability q = 1 - p, so the kept fraction
    # of n entries has mean q and standard error sqrt(p * q / n).
    n = 200_000
    _, mask = dropout_forward(torch.ones(n, dtype=torch.float64), p, generator=gen(11))
    kept = (mask != 0).double().mean().item()
    se = math.sqrt(p * (1 - p) / n)
    assert abs(kept - (1 - p)) < N_SE * se, (kept, 1 - p, se)


@pytest.mark.parametrize("p", [0.2, 0.7])
def test_expected_output_equals_input(p):
    # out_j = x_j * m_j with E[m] = 1 and Var[m] = E[m^2] - 1 = 1/(1-p) - 1 = p/(1-p),
    # so the mean of T draws has standard error |x_j| * sqrt(p / ((1-p) T)), per column.
    T, D = 20_000, 12
    x = randn(D, seed=5)
    out, _ = dropout_forward(x.expand(T, D), p, generator=gen(12))
    se = x.abs() * math.sqrt(p / ((1 - p) * T))
    z = (out.mean(dim=0) - x) / se
    assert z.abs().max().item() < N_SE, z


@pytest.mark.parametrize("p", [0.2, 0.7])
def test_entries_are_independent(p):
    # Two distinct entries are both kept with probability q^2 if independent (q = 1-p).
    # Over n disjoint pairs the fraction has standard error sqrt(q^2 (1 - q^2) / n).
    # A mask shared across rows, or repeated along an axis, gives q instead.
    n_rows, n_cols = 400, 500
    _, mask = dropout_forward(torch.ones(n_rows, n_cols, dtype=torch.float64), p, generator=gen(13))
    kept = mask != 0
    q = 1 - p
    for a, b in [(kept[0::2], kept[1::2]), (kept[:, 0::2], kept[:, 1::2])]:
        both = (a & b).double().mean().item()
        se = math.sqrt(q**2 * (1 - q**2) / a.numel())
        assert abs(both - q**2) < N_SE * se, (both, q**2, se)


@pytest.mark.parametrize("p", [0.3, 0.8])
def test_same_statistics_as_torch_functional_dropout(p):
    # Two independent kept fractions over n entries each: their difference has standard
    # error sqrt(2 p (1-p) / n). Output mean 1 and variance p/(1-p) on an input of ones.
    n = 200_000
    ones = torch.ones(n, dtype=torch.float64)
    ours, _ = dropout_forward(ones, p, generator=gen(14))
    torch.manual_seed(14)
    theirs = torch.nn.functional.dropout(ones, p)
    diff = (ours != 0).double().mean() - (theirs != 0).double().mean()
    assert abs(diff.item()) < N_SE * math.sqrt(2 * p * (1 - p) / n)
    for out in (ours, theirs):
        # sample mean of m: se sqrt(Var[m] / n)
        assert abs(out.mean().item() - 1) < N_SE * math.sqrt(p / (1 - p) / n)
        # sample variance of m = s * b with s = 1/(1-p), b ~ Bernoulli(1-p): Var = s^2 pq; the
        # sample variance's se is about sqrt((mu4 - sigma^4) / n) with mu4 = s^4 pq (1 - 3pq).
        s, q = 1 / (1 - p), 1 - p
        var, mu4 = s**2 * p * q, s**4 * p * q * (1 - 3 * p * q)
        assert abs(out.var().item() - var) < N_SE * math.sqrt((mu4 - var**2) / n)


# --- backward -----------------------------------------------------------------------


@pytest.mark.parametrize("p", PS)
def test_backward_equals_autograd_through_x_times_mask(p):
    x = randn(6, 9, seed=20)
    grad_out = randn(6, 9, seed=21)
    _, mask = dropout_forward(x, p, generator=gen(22))
    leaf = x.clone().requires_grad_(True)
    (leaf * mask).backward(grad_out)
    # The product grad_out * mask is one rounding either way: exact equality.
    assert torch.equal(dropout_backward(grad_out, mask), leaf.grad)


@pytest.mark.parametrize("p", [0.3, 0.8])
def test_backward_equals_autograd_through_dropout_forward(p):
    leaf = randn(6, 9, seed=20).requires_grad_(True)
    grad_out = randn(6, 9, seed=21)
    out, mask = dropout_forward(leaf, p, generator=gen(23))
    assert not mask.requires_grad  # the mask is a constant of the graph
    out.backward(grad_out)
    assert torch.equal(dropout_backward(grad_out, mask), leaf.grad)


@pytest.mark.parametrize("p", [0.0, 0.3, 0.8, 1.0])
def test_backward_matches_numerical_gradient(p):
    # L(x) = sum(grad_out * dropout_forward(x)) with the mask fixed by reseeding. L is linear
    # in x, so central differences are exact up to rounding: with h = 1e-6 and |L| ~ 10,
    # the error is about eps * |L| / h ~ 1e-9 relative to gradients of order 1.
    seed, h = 24, 1e-6
    x = randn(4, 5, seed=25)
    grad_out = randn(4, 5, seed=26)

    def loss(z):
        return (grad_out * dropout_forward(z, p, generator=gen(seed))[0]).sum().item()

    numeric = torch.zeros_like(x)
    for i in range(x.numel()):
        e = torch.zeros(x.numel(), dtype=x.dtype)
        e[i] = h
        e = e.view_as(x)
        numeric.view(-1)[i] = (loss(x + e) - loss(x - e)) / (2 * h)
    _, mask = dropout_forward(x, p, generator=gen(seed))
    analytic = dropout_backward(grad_out, mask)
    rel = (analytic - numeric).norm() / max((analytic.norm() + numeric.norm()).item(), 1e-12)
    assert rel < 1e-7, rel.item()
    assert torch.autograd.gradcheck(lambda z: dropout_forward(z, p, generator=gen(seed))[0],
                                    (x.clone().requires_grad_(True),))


def test_backward_does_not_mutate_and_checks_shapes():
    grad_out, mask = randn(3, 4), dropout_forward(randn(3, 4), 0.5, generator=gen(0))[1]
    g0, m0 = grad_out.clone(), mask.clone()
    dropout_backward(grad_out, mask)
    assert torch.equal(grad_out, g0) and torch.equal(mask, m0)
    with pytest.raises(ValueError, match="same shape"):
        dropout_backward(randn(3, 4), torch.ones(4, 3))


# --- the module, against torch.nn.Dropout -------------------------------------------


def test_module_has_no_parameters_and_a_readable_repr():
    layer = Dropout(0.3)
    assert list(layer.parameters()) == [] and dict(layer.state_dict()) == {}
    assert layer.p == 0.3 and "p=0.3" in repr(layer)
    assert Dropout().p == torch.nn.Dropout().p == 0.5
    assert layer.training  # modules start in training mode


@pytest.mark.parametrize("p", [0.3, 0.8])
def test_module_follows_nn_dropout_over_train_and_eval_calls(p):
    ours, theirs = Dropout(p, generator=gen(30)), torch.nn.Dropout(p)
    torch.manual_seed(30)
    x = randn(300, 100, seed=31)
    n = x.numel()
    previous = None
    for mode in ["train", "eval", "train", "train", "eval", "train"]:
        for layer in (ours, theirs):
            layer.train(mode == "train")
        out_ours, out_theirs = ours(x), theirs(x)
        if mode == "eval":
            assert torch.equal(out_ours, x) and torch.equal(out_theirs, x)
            continue
        # Same support: 0 and x / (1 - p), exactly as torch.
        for out in (out_ours, out_theirs):
            kept = out != 0
            assert torch.allclose(out[kept], x[kept] / (1 - p), rtol=1e-15, atol=0)
        # Same keep rate: difference of two fractions over n entries, se sqrt(2pq/n).
        diff = (out_ours != 0).double().mean() - (out_theirs != 0).double().mean()
        assert abs(diff.item()) < N_SE * math.sqrt(2 * p * (1 - p) / n)
        # A fresh mask at every training call.
        assert previous is None or not torch.equal(out_ours, previous)
        previous = out_ours


@pytest.mark.parametrize("p", [0.3, 0.8])
def test_module_gradients_flow_like_nn_dropout(p):
    x = randn(20, 15, seed=40)
    for layer in (Dropout(p, generator=gen(41)), torch.nn.Dropout(p)):
        torch.manual_seed(41)
        leaf = x.clone().requires_grad_(True)
        out = layer(leaf)
        out.sum().backward()
        # d out / d x is the mask, which is out / x since x has no zeros.
        assert torch.allclose(leaf.grad, out.detach() / x, rtol=1e-14, atol=0)
        leaf.grad = None
        layer.eval()
        layer(leaf).sum().backward()
        assert torch.equal(leaf.grad, torch.ones_like(x))


def test_module_trains_inside_a_sequential():
    torch.manual_seed(0)
    layers = [torch.nn.Linear(4, 8), Dropout(0.3, generator=gen(50)), torch.nn.Linear(8, 1)]
    model = torch.nn.Sequential(*layers).double()
    model(randn(5, 4)).sum().backward()
    assert all(prm.grad is not None for prm in model.parameters())
    model.eval()
    assert torch.equal(model(randn(5, 4)), model(randn(5, 4)))


# --- dropout2d_forward: channel-wise dropout, against torch.nn.functional.dropout2d / dropout1d ---


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout2d_draws_exactly_as_torch_for_the_same_seed(p):
    # torch's feature dropout draws bernoulli_(1 - p) on an (N, C, 1, 1) tensor from the default
    # generator, as the reference does with generator=None: same seed, same masks, bit for bit.
    x = randn(6, 5, 3, 4, seed=60)
    torch.manual_seed(61)
    ours, mask = dropout2d_forward(x, p)
    torch.manual_seed(61)
    theirs = torch.nn.functional.dropout2d(x, p)
    assert mask.shape == (6, 5, 1, 1)
    assert torch.equal(ours, theirs)
    x3 = randn(6, 5, 7, seed=62)
    torch.manual_seed(63)
    ours3, mask3 = dropout2d_forward(x3, p)
    torch.manual_seed(63)
    theirs3 = torch.nn.functional.dropout1d(x3, p)
    assert mask3.shape == (6, 5, 1)
    # torch may scale before or after the product: one rounding apart at most.
    torch.testing.assert_close(ours3, theirs3, rtol=4 * torch.finfo(torch.float64).eps, atol=0)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("shape", [(8, 6, 3, 5), (8, 6, 9)])
def test_dropout2d_drops_whole_feature_maps(shape, dtype):
    x = randn(*shape, seed=64, dtype=dtype)
    p = 0.3
    out, mask = dropout2d_forward(x, p, generator=gen(65))
    assert out.shape == x.shape and out.dtype == mask.dtype == dtype
    assert mask.shape == (*shape[:2], *[1] * (len(shape) - 2))
    scale = torch.tensor(1.0, dtype=dtype) / (1.0 - p)
    assert set(torch.unique(mask).tolist()) == {0.0, scale.item()}
    assert torch.equal(out, x * mask)
    flat = out.reshape(*shape[:2], -1)
    dropped = (flat == 0).all(dim=-1)
    assert torch.equal(dropped, mask.reshape(shape[:2]) == 0)  # a map is all zero or all kept


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_dropout2d_eval_and_edge_cases(p):
    x = randn(4, 3, 2, 5, seed=66)
    out, mask = dropout2d_forward(x, p, training=False, generator=gen(0))
    assert torch.equal(out, x) and torch.equal(mask, torch.ones(4, 3, 1, 1, dtype=x.dtype))
    out, mask = dropout2d_forward(x, 0.0, generator=gen(0))
    assert torch.equal(out, x) and torch.equal(mask, torch.ones(4, 3, 1, 1, dtype=x.dtype))
    out, mask = dropout2d_forward(x, 1.0, generator=gen(0))
    assert torch.equal(mask, torch.zeros(4, 3, 1, 1, dtype=x.dtype))
    assert torch.equal(out, torch.nn.functional.dropout2d(x, 1.0))


def test_dropout2d_generator_input_and_errors():
    x = randn(10, 8, 4, seed=67)
    before = x.clone()
    state = torch.get_rng_state()
    _, m1 = dropout2d_forward(x, 0.4, generator=gen(5))
    _, m2 = dropout2d_forward(x, 0.4, generator=gen(5))
    assert torch.equal(m1, m2) and torch.equal(torch.get_rng_state(), state) and torch.equal(x, before)
    g = gen(5)
    dropout2d_forward(x, 0.4, generator=g)
    assert not torch.equal(dropout2d_forward(x, 0.4, generator=g)[1], m1)  # P(equal) = 0.52^80
    for bad in (randn(5, 4), randn(5), randn(2, 3, 4, 5, 6)):
        with pytest.raises(ValueError, match="shape"):
            dropout2d_forward(bad, 0.5)
    for p in (-0.1, 1.5, float("nan"), "0.5"):
        with pytest.raises(ValueError, match="p must"):
            dropout2d_forward(x, p)


@pytest.mark.parametrize("p", [0.25, 0.7])
def test_dropout2d_keep_rate_and_independence(p):
    # n = N * C draws; kept fraction: se sqrt(p q / n); pairs of samples and pairs of channels:
    # both kept with probability q^2 if independent, se sqrt(q^2 (1 - q^2) / pairs).
    n_samples, channels = 400, 300
    _, mask = dropout2d_forward(torch.ones(n_samples, channels, 2, 2, dtype=torch.float64), p, generator=gen(68))
    kept = mask.reshape(n_samples, channels) != 0
    q = 1 - p
    assert abs(kept.double().mean().item() - q) < N_SE * math.sqrt(p * q / kept.numel())
    for a, b in [(kept[0::2], kept[1::2]), (kept[:, 0::2], kept[:, 1::2])]:
        both = (a & b).double().mean().item()
        assert abs(both - q**2) < N_SE * math.sqrt(q**2 * (1 - q**2) / a.numel()), (both, q**2)


@pytest.mark.parametrize("p", [0.3, 0.8])
def test_dropout2d_gradient_is_the_broadcast_mask(p):
    leaf = randn(3, 4, 2, 2, seed=69).requires_grad_(True)
    grad_out = randn(3, 4, 2, 2, seed=70)
    out, mask = dropout2d_forward(leaf, p, generator=gen(71))
    out.backward(grad_out)
    assert torch.equal(leaf.grad, grad_out * mask)
    assert torch.autograd.gradcheck(lambda z: dropout2d_forward(z, p, generator=gen(71))[0],
                                    (leaf.detach().clone().requires_grad_(True),))


# --- mc_dropout_predict: Monte Carlo dropout --------------------------------------------------


def small_net(seed, p=0.3, batch_norm=True):
    torch.manual_seed(seed)
    layers = [torch.nn.Linear(5, 16)]
    if batch_norm:
        layers.append(torch.nn.BatchNorm1d(16))
    layers += [torch.nn.ReLU(), torch.nn.Dropout(p), torch.nn.Linear(16, 3)]
    model = torch.nn.Sequential(*layers).double()
    if batch_norm:  # running statistics away from their initial 0 and 1
        with torch.no_grad():
            model[1].running_mean.copy_(torch.randn(16, generator=gen(seed), dtype=torch.float64))
            model[1].running_var.copy_(torch.rand(16, generator=gen(seed + 1), dtype=torch.float64) + 0.5)
    return model


@pytest.mark.parametrize("start_in_train_mode", [False, True])
def test_mc_dropout_equals_a_loop_of_thinned_forward_passes(start_in_train_mode):
    # The definition: dropout layers on, every other layer in eval, n_samples calls in a row
    # from torch's default generator; mean and std (correction=0) over the calls.
    model = small_net(80)
    model.train(start_in_train_mode)
    x = randn(12, 5, seed=81)
    torch.manual_seed(82)
    mean, std = mc_dropout_predict(model, x, 7)
    twin = small_net(80).eval()
    twin[3].train()
    torch.manual_seed(82)
    with torch.no_grad():
        samples = torch.stack([twin(x) for _ in range(7)])
    assert torch.equal(mean, samples.mean(dim=0))
    assert torch.equal(std, samples.std(dim=0, correction=0))
    assert std.min() >= 0 and (std > 0).any()


def test_mc_dropout_moments_of_a_linear_model():
    # y = w . (x * m) + b with m the dropout mask: E[y] = w . x + b and, with a_j = w_j x_j,
    # Var[y] = v sum a_j^2 (v = p / (1 - p)). The mean of T draws has se sqrt(Var / T); the
    # sample variance has se sqrt((mu4 - Var^2) / T), mu4 = sum a^4 (k4 - 3 v^2) + 3 Var^2 for
    # independent centred terms with E[(m - 1)^4] = k4 = p + p^4 / (1 - p)^3.
    p, T = 0.4, 20_000
    model = torch.nn.Sequential(torch.nn.Dropout(p), torch.nn.Linear(6, 1)).double()
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[0.5, -1.0, 2.0, 0.3, -0.7, 1.2]], dtype=torch.float64))
        model[1].bias.fill_(0.25)
    x = torch.tensor([[1.0, 2.0, -0.5, 3.0, 1.5, -1.0]], dtype=torch.float64)
    torch.manual_seed(83)
    mean, std = mc_dropout_predict(model, x, T)
    a = (model[1].weight * x).squeeze()
    v = p / (1 - p)
    var = v * (a**2).sum()
    k4 = p + p**4 / (1 - p) ** 3
    mu4 = (a**4).sum() * (k4 - 3 * v**2) + 3 * var**2
    expected_mean = (model[1].weight @ x.T).squeeze() + 0.25
    assert abs(mean.item() - expected_mean.item()) < N_SE * math.sqrt(var.item() / T)
    assert abs(std.item() ** 2 - var.item()) < N_SE * math.sqrt((mu4 - var**2).item() / T)


def test_mc_dropout_restores_every_mode_and_leaves_batch_norm_alone():
    model = small_net(84)
    model.train()
    model[1].eval()  # mixed modes: they must come back exactly
    before = {name: m.training for name, m in model.named_modules()}
    state = {k: v.clone() for k, v in model.state_dict().items()}
    x = randn(10, 5, seed=85)
    x0 = x.clone()
    mean, std = mc_dropout_predict(model, x, 4)
    assert {name: m.training for name, m in model.named_modules()} == before
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())  # running stats unchanged
    assert torch.equal(x, x0)
    assert not mean.requires_grad and not std.requires_grad and mean.grad_fn is None


def test_mc_dropout_restores_modes_when_the_model_raises():
    model = small_net(86).eval()
    with pytest.raises(RuntimeError):
        mc_dropout_predict(model, randn(4, 7), 3)  # wrong input width
    assert not any(m.training for m in model.modules())


def test_mc_dropout_without_active_dropout_is_the_eval_prediction():
    model = small_net(87, p=0.0).eval()
    x = randn(9, 5, seed=88)
    mean, std = mc_dropout_predict(model, x, 5)
    with torch.no_grad():
        assert torch.allclose(mean, model(x), rtol=1e-15, atol=1e-15)  # five equal terms / 5
    assert torch.equal(std, torch.zeros_like(std))
    mean, std = mc_dropout_predict(small_net(87).eval(), x, 1)
    assert torch.equal(std, torch.zeros_like(std))


@pytest.mark.parametrize("n_samples", [0, -3, 2.5, True, "10", None])
def test_mc_dropout_rejects_a_bad_number_of_samples(n_samples):
    with pytest.raises(ValueError, match="n_samples"):
        mc_dropout_predict(small_net(89), randn(3, 5), n_samples)


# -- mcnemar: the exact test equals scipy's binomial test on the discordant pairs ------------------------------
@pytest.mark.parametrize("seed", range(60))
def test_mcnemar_equals_scipy_binomtest(seed):
    from scipy.stats import binomtest

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3000))
    cells = rng.dirichlet(np.ones(4))
    kind = rng.choice(4, size=n, p=cells)  # both right, only a, only b, both wrong
    a_np, b_np = kind <= 1, (kind == 0) | (kind == 2)
    a, b = torch.as_tensor(a_np), torch.as_tensor(b_np)
    only_a, only_b, p_value = mcnemar(a, b)
    assert (only_a, only_b) == (int(np.sum(kind == 1)), int(np.sum(kind == 2)))
    expected = binomtest(only_b, only_a + only_b, 0.5).pvalue if only_a + only_b else 1.0
    # scipy sums the pmf in floating point, the reference exact integers: agreement to ~1e-12 relative
    assert p_value == pytest.approx(expected, rel=1e-9, abs=1e-300)
    assert torch.equal(a, torch.as_tensor(a_np)) and torch.equal(b, torch.as_tensor(b_np))  # not mutated
    assert [type(v) for v in (only_a, only_b, p_value)] == [int, int, float]


def test_mcnemar_by_hand():
    a = torch.tensor([True, True, True, True, False, False, False, False, False, False, True, False])
    b = torch.tensor([True, True, True, False, True, True, True, True, True, True, True, False])
    assert mcnemar(a, b) == (1, 6, 2 * (1 + 7) / 128)  # 7 discordant: 2 P(X <= 1) = 2 * 8 / 128
    assert mcnemar(b, a) == (6, 1, 0.125)  # symmetric
    tie = torch.tensor([True, False]), torch.tensor([False, True])
    assert mcnemar(*tie) == (1, 1, 1.0)  # 2 * 3/4 capped at 1
    assert mcnemar(a, a.clone()) == (0, 0, 1.0)  # no discordant pair


@pytest.mark.parametrize(
    ("a", "b", "match"),
    [([True, False], [True, False], "bool tensor"),
     (torch.tensor([1.0, 0.0]), torch.tensor([True, False]), "bool tensor"),
     (torch.tensor([[True]]), torch.tensor([[True]]), "1-D"),
     (torch.tensor([True, False, True]), torch.tensor([True, False]), "same"),
     (torch.tensor([], dtype=torch.bool), torch.tensor([], dtype=torch.bool), "non-empty")],
)
def test_mcnemar_invalid(a, b, match):
    with pytest.raises(ValueError, match=match):
        mcnemar(a, b)

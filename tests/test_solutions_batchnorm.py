"""The reference batch norm equals torch.nn.BatchNorm1d, forward, backward and as a module.

Everything runs in float64. The oracle is torch itself: ``nn.BatchNorm1d`` and
``F.batch_norm`` for outputs and running statistics, autograd for gradients, plus a
central-difference check that does not rely on autograd. Inputs are chosen so that
every classic mistake changes the numbers: small batches (N/(N-1) is 2 at N=2 and
1.25 at N=5), momenta away from 0.5, non-zero means, running statistics away from
their 0/1 start, gamma away from 1 and beta away from 0.
"""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from solutions.batchnorm import BatchNorm1d, batchnorm_backward, batchnorm_forward, largest_trainable_lr

DTYPE = torch.float64
# Float64 comparisons with torch: both sides reduce over at most 17 samples of values below
# ~50, so rounding differences are ~1e-13; 1e-10 leaves room for a different summation order
# while every modelled mistake (n/(n-1), momentum, eps placement) changes results by > 1e-4.
TOL = {"rtol": 1e-10, "atol": 1e-10}

SHAPES = [(2, 1), (2, 5), (3, 4), (5, 3), (17, 7)]
MOMENTA = [0.1, 0.3, 0.0, 1.0]


def make_inputs(seed, n, d):
    """Batch with non-zero means and mixed scales, plus non-default parameters and running stats."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=DTYPE) * (0.5 + 3 * torch.rand(d, generator=g, dtype=DTYPE))
    x = x + 10 * torch.randn(d, generator=g, dtype=DTYPE)
    gamma = 0.5 + 1.5 * torch.rand(d, generator=g, dtype=DTYPE)
    beta = torch.randn(d, generator=g, dtype=DTYPE)
    running_mean = 2 * torch.randn(d, generator=g, dtype=DTYPE)
    running_var = 0.2 + 3 * torch.rand(d, generator=g, dtype=DTYPE)
    return x, gamma, beta, running_mean, running_var


def torch_bn(gamma, beta, running_mean, running_var, momentum=0.1, eps=1e-5):
    """An nn.BatchNorm1d in float64 holding the given parameters and running statistics."""
    bn = torch.nn.BatchNorm1d(gamma.shape[0], eps=eps, momentum=momentum, dtype=DTYPE)
    with torch.no_grad():
        bn.weight.copy_(gamma)
        bn.bias.copy_(beta)
        bn.running_mean.copy_(running_mean)
        bn.running_var.copy_(running_var)
    return bn


# ---------------------------------------------------------------- forward


@pytest.mark.parametrize(("shape", "momentum"), list(itertools.product(SHAPES, MOMENTA)))
@pytest.mark.parametrize("training", [True, False])
def test_forward_matches_nn_batchnorm1d(shape, momentum, training):
    x, gamma, beta, rm, rv = make_inputs(sum(shape) * 10 + int(100 * momentum), *shape)
    eps = 1e-3  # large enough that putting it outside the square root changes the output
    bn = torch_bn(gamma, beta, rm, rv, momentum=momentum, eps=eps).train(training)
    with torch.no_grad():
        expected = bn(x)
    out, new_mean, new_var, _ = batchnorm_forward(x, gamma, beta, rm, rv, training, momentum, eps)
    torch.testing.assert_close(out, expected, **TOL)
    torch.testing.assert_close(new_mean, bn.running_mean, **TOL)
    torch.testing.assert_close(new_var, bn.running_var, **TOL)
    assert out.dtype == new_mean.dtype == new_var.dtype == DTYPE


def test_forward_sequence_of_train_and_eval_calls_matches_nn_batchnorm1d():
    d, momentum = 4, 0.3
    _, gamma, beta, _, _ = make_inputs(1, 2, d)
    bn = torch_bn(gamma, beta, torch.zeros(d, dtype=DTYPE), torch.ones(d, dtype=DTYPE), momentum)
    rm, rv = torch.zeros(d, dtype=DTYPE), torch.ones(d, dtype=DTYPE)
    schedule = [(True, 3), (True, 2), (False, 4), (True, 5), (False, 1), (True, 2), (False, 3)]
    for step, (training, n) in enumerate(schedule):
        x = make_inputs(100 + step, n, d)[0]
        with torch.no_grad():
            expected = bn.train(training)(x)
        out, rm, rv, _ = batchnorm_forward(x, gamma, beta, rm, rv, training=training, momentum=momentum)
        torch.testing.assert_close(out, expected, **TOL, msg=f"output at call {step}")
        torch.testing.assert_close(rm, bn.running_mean, **TOL, msg=f"running_mean after call {step}")
        torch.testing.assert_close(rv, bn.running_var, **TOL, msg=f"running_var after call {step}")


def test_forward_hand_checked_case():
    # x = [1, 3]: mean 2, biased variance 1, unbiased variance 2. With eps=1e-12 the output is
    # [-1, 1] to 5e-13; running mean 0.9*0 + 0.1*2, running var 0.9*1 + 0.1*2 (unbiased).
    x = torch.tensor([[1.0], [3.0]], dtype=DTYPE)
    one, zero = torch.ones(1, dtype=DTYPE), torch.zeros(1, dtype=DTYPE)
    out, rm, rv, _ = batchnorm_forward(x, one, zero, zero, one, training=True, momentum=0.1, eps=1e-12)
    torch.testing.assert_close(out, torch.tensor([[-1.0], [1.0]], dtype=DTYPE), rtol=0, atol=1e-12)
    torch.testing.assert_close(rm, torch.tensor([0.2], dtype=DTYPE), rtol=0, atol=1e-15)
    torch.testing.assert_close(rv, torch.tensor([1.1], dtype=DTYPE), rtol=0, atol=1e-15)
    # eps=1 inside the square root: (x - 2) / sqrt(1 + 1); gamma 3 and beta -1 scale and shift.
    out, _, _, _ = batchnorm_forward(x, 3 * one, -one, zero, one, eps=1.0)
    expected = 3 * torch.tensor([[-1.0], [1.0]], dtype=DTYPE) / 2**0.5 - 1
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-15)
    # Evaluation with running mean 1 and variance 3, eps 1: (x - 1) / 2. eps=0 is allowed there.
    out, rm, rv, _ = batchnorm_forward(x, one, zero, one, 3 * one, training=False, eps=1.0)
    torch.testing.assert_close(out, torch.tensor([[0.0], [1.0]], dtype=DTYPE), rtol=0, atol=1e-15)
    torch.testing.assert_close((rm, rv), (one, 3 * one), rtol=0, atol=0)
    out, _, _, _ = batchnorm_forward(x, one, zero, one, 4 * one, training=False, eps=0.0)
    torch.testing.assert_close(out, torch.tensor([[0.0], [1.0]], dtype=DTYPE), rtol=0, atol=1e-15)


def test_eps_zero_is_refused_in_training_like_torch():
    x, gamma, beta, rm, rv = make_inputs(13, 4, 2)
    with pytest.raises(ValueError, match="eps must be positive"):
        F.batch_norm(x, rm.clone(), rv.clone(), gamma, beta, training=True, eps=0.0)  # the oracle refuses too
    with pytest.raises(ValueError, match="eps must be positive in training"):
        batchnorm_forward(x, gamma, beta, rm, rv, training=True, eps=0.0)
    bn = BatchNorm1d(2, eps=0.0)  # torch accepts eps=0 at construction and in evaluation
    with pytest.raises(ValueError, match="eps must be positive in training"):
        bn(x.float())
    assert bn.num_batches_tracked.item() == 0
    theirs = torch.nn.BatchNorm1d(2, eps=0.0).eval()
    with torch.no_grad():
        torch.testing.assert_close(bn.eval()(x.float()), theirs(x.float()), rtol=0, atol=0)


def test_constant_feature_maps_to_beta_thanks_to_eps():
    x = torch.tensor([[5.0, 1.0], [5.0, 2.0], [5.0, 4.0]], dtype=DTYPE)
    gamma = torch.tensor([2.0, 1.0], dtype=DTYPE)
    beta = torch.tensor([0.7, 0.0], dtype=DTYPE)
    rm, rv = torch.zeros(2, dtype=DTYPE), torch.ones(2, dtype=DTYPE)
    out, _, new_var, _ = batchnorm_forward(x, gamma, beta, rm, rv)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out[:, 0], torch.full((3,), 0.7, dtype=DTYPE), rtol=0, atol=1e-15)
    with torch.no_grad():
        bn = torch_bn(gamma, beta, rm, rv)
        torch.testing.assert_close(out, bn(x), **TOL)
    torch.testing.assert_close(new_var, bn.running_var, **TOL)


def test_forward_keeps_float32_and_converts_integers():
    x, gamma, beta, rm, rv = make_inputs(3, 4, 3)
    out32, rm32, rv32, _ = batchnorm_forward(x.float(), gamma.float(), beta.float(), rm.float(), rv.float())
    assert out32.dtype == rm32.dtype == rv32.dtype == torch.float32
    out, _, _, _ = batchnorm_forward(x, gamma, beta, rm, rv)
    # float32 rounding (6e-8 relative) on normalized values below ~5
    torch.testing.assert_close(out32.double(), out, rtol=0, atol=1e-5)
    x_int = torch.tensor([[1, 2], [3, 7], [4, 4]])
    out_int, _, _, _ = batchnorm_forward(x_int, gamma[:2], beta[:2], rm[:2], rv[:2])
    assert out_int.dtype == DTYPE
    out_ref, _, _, _ = batchnorm_forward(x_int.double(), gamma[:2], beta[:2], rm[:2], rv[:2])
    torch.testing.assert_close(out_int, out_ref, rtol=0, atol=0)


@pytest.mark.parametrize("training", [True, False])
def test_inputs_not_mutated(training):
    inputs = make_inputs(5, 4, 3)
    saved = [t.clone() for t in inputs]
    out, rm, rv, cache = batchnorm_forward(*inputs, training=training, momentum=0.3)
    grad_out = torch.randn(4, 3, generator=torch.Generator().manual_seed(0), dtype=DTYPE)
    grad_saved = grad_out.clone()
    batchnorm_backward(grad_out, cache)
    for before, after in zip(saved, inputs, strict=True):
        torch.testing.assert_close(after, before, rtol=0, atol=0)
    torch.testing.assert_close(grad_out, grad_saved, rtol=0, atol=0)
    # the returned running statistics are new tensors, even in evaluation
    assert rm.data_ptr() != inputs[3].data_ptr() and rv.data_ptr() != inputs[4].data_ptr()


def test_forward_output_carries_autograd_history():
    x, gamma, beta, rm, rv = make_inputs(6, 3, 2)
    gamma.requires_grad_(True)
    out, new_mean, new_var, _ = batchnorm_forward(x, gamma, beta, rm, rv)
    assert out.requires_grad
    assert not new_mean.requires_grad and not new_var.requires_grad


def test_forward_in_eval_accepts_a_single_sample():
    x, gamma, beta, rm, rv = make_inputs(7, 1, 3)
    bn = torch_bn(gamma, beta, rm, rv).eval()
    out, _, _, _ = batchnorm_forward(x, gamma, beta, rm, rv, training=False)
    with torch.no_grad():
        torch.testing.assert_close(out, bn(x), **TOL)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"momentum": -0.1}, "momentum"),
        ({"momentum": 1.5}, "momentum"),
        ({"momentum": "0.1"}, "momentum"),
        ({"eps": -1e-5}, "eps"),
        ({"eps": float("nan")}, "eps"),
        ({"x": torch.zeros(6, dtype=DTYPE)}, "x must have 2"),
        ({"x": torch.zeros(2, 3, 1, dtype=DTYPE)}, "x must have 2"),
        ({"x": torch.tensor([[1.0, float("nan"), 0.0], [0.0, 1.0, 2.0]], dtype=DTYPE)}, "NaN"),
        ({"x": torch.ones(1, 3, dtype=DTYPE)}, "at least 2 samples"),
        ({"gamma": torch.ones(4, dtype=DTYPE)}, "gamma must have shape"),
        ({"beta": torch.ones(2, dtype=DTYPE)}, "beta must have shape"),
        ({"running_mean": torch.zeros(1, 3, dtype=DTYPE)}, "running_mean must have 1"),
        ({"running_var": torch.ones(2, dtype=DTYPE)}, "running_var must have shape"),
        ({"running_var": -torch.ones(3, dtype=DTYPE)}, "non-negative"),
    ],
)
def test_forward_rejects_bad_arguments(change, message):
    x, gamma, beta, rm, rv = make_inputs(8, 2, 3)
    kwargs = {"x": x, "gamma": gamma, "beta": beta, "running_mean": rm, "running_var": rv}
    kwargs.update(change)
    with pytest.raises(ValueError, match=message):
        batchnorm_forward(**kwargs)


# ---------------------------------------------------------------- backward


def autograd_gradients(x, gamma, beta, rm, rv, grad_out, training, eps=1e-5):
    """dx, dgamma, dbeta of sum(grad_out * F.batch_norm(...)) by torch autograd."""
    x, gamma, beta = (t.clone().requires_grad_(True) for t in (x, gamma, beta))
    out = F.batch_norm(x, rm.clone(), rv.clone(), gamma, beta, training=training, eps=eps)
    return torch.autograd.grad(out, (x, gamma, beta), grad_out)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
def test_backward_matches_torch_autograd(shape, training):
    x, gamma, beta, rm, rv = make_inputs(20 + sum(shape), *shape)
    grad_out = torch.randn(*shape, generator=torch.Generator().manual_seed(1), dtype=DTYPE) + 0.5
    eps = 1e-3
    _, _, _, cache = batchnorm_forward(x, gamma, beta, rm, rv, training=training, momentum=0.3, eps=eps)
    dx, dgamma, dbeta = batchnorm_backward(grad_out, cache)
    ex_dx, ex_dgamma, ex_dbeta = autograd_gradients(x, gamma, beta, rm, rv, grad_out, training, eps)
    torch.testing.assert_close(dx, ex_dx, **TOL)
    torch.testing.assert_close(dgamma, ex_dgamma, **TOL)
    torch.testing.assert_close(dbeta, ex_dbeta, **TOL)


@pytest.mark.parametrize("shape", SHAPES)
def test_backward_accepts_the_exercise_cache_without_training_flag(shape):
    # The exercise's cache is {"xhat", "gamma", "inv_std"} of a training pass, built by the tests from data:
    # the reference must read it as a training cache and equal torch autograd.
    x, gamma, beta, rm, rv = make_inputs(60 + sum(shape), *shape)
    grad_out = torch.randn(*shape, generator=torch.Generator().manual_seed(4), dtype=DTYPE) - 0.5
    eps = 1e-2
    _, _, _, cache = batchnorm_forward(x, gamma, beta, rm, rv, eps=eps)
    exercise_cache = {key: cache[key].clone() for key in ("xhat", "gamma", "inv_std")}
    saved = {key: value.clone() for key, value in exercise_cache.items()}
    got = batchnorm_backward(grad_out, exercise_cache)
    for got_k, expected_k in zip(got, autograd_gradients(x, gamma, beta, rm, rv, grad_out, True, eps), strict=True):
        torch.testing.assert_close(got_k, expected_k, **TOL)
    for key, value in exercise_cache.items():  # the cache is not modified either
        torch.testing.assert_close(value, saved[key], rtol=0, atol=0)


def test_backward_training_dx_sums_to_zero_per_feature():
    # The output does not change when a constant is added to a feature (the batch mean absorbs
    # it), so dx sums to zero over the batch. A backward without the path through the mean fails.
    x, gamma, beta, rm, rv = make_inputs(30, 5, 4)
    grad_out = torch.randn(5, 4, generator=torch.Generator().manual_seed(2), dtype=DTYPE) + 1.0
    _, _, _, cache = batchnorm_forward(x, gamma, beta, rm, rv)
    dx, _, _ = batchnorm_backward(grad_out, cache)
    torch.testing.assert_close(dx.sum(dim=0), torch.zeros(4, dtype=DTYPE), rtol=0, atol=1e-12)


def relative_error(a, b):
    return ((a - b).abs().max() / (a.abs() + b.abs()).max().clamp_min(1e-300)).item()


@pytest.mark.parametrize("training", [True, False])
def test_backward_passes_numerical_gradient_check(training):
    # Central differences of L = sum(grad_out * F.batch_norm(...)), with torch's forward: the
    # truncation error is O(h^2) ~ 1e-10 and the rounding error ~ 1e-16 / h ~ 1e-10 for h = 1e-5.
    x, gamma, beta, rm, rv = make_inputs(40, 4, 3)
    grad_out = torch.randn(4, 3, generator=torch.Generator().manual_seed(3), dtype=DTYPE)
    eps, h = 1e-3, 1e-5

    def loss(x_, gamma_, beta_):
        out = F.batch_norm(x_, rm.clone(), rv.clone(), gamma_, beta_, training=training, eps=eps)
        return (grad_out * out).sum().item()

    args = [x, gamma, beta]
    numeric = []
    for k, arg in enumerate(args):
        grad = torch.zeros_like(arg)
        for idx in itertools.product(*map(range, arg.shape)):
            plus = [a.clone() for a in args]
            minus = [a.clone() for a in args]
            plus[k][idx] += h
            minus[k][idx] -= h
            grad[idx] = (loss(*plus) - loss(*minus)) / (2 * h)
        numeric.append(grad)
    _, _, _, cache = batchnorm_forward(x, gamma, beta, rm, rv, training=training, eps=eps)
    analytic = batchnorm_backward(grad_out, cache)
    for name, got, expected in zip(["dx", "dgamma", "dbeta"], analytic, numeric, strict=True):
        error = relative_error(got, expected)
        assert error < 1e-7, f"{name}: relative error {error:.2e}"


def test_backward_rejects_bad_arguments():
    x, gamma, beta, rm, rv = make_inputs(9, 3, 2)
    _, _, _, cache = batchnorm_forward(x, gamma, beta, rm, rv)
    with pytest.raises(ValueError, match="grad_out must have the shape"):
        batchnorm_backward(torch.ones(3, 3, dtype=DTYPE), cache)
    with pytest.raises(ValueError, match="grad_out must have 2"):
        batchnorm_backward(torch.ones(3, dtype=DTYPE), cache)
    with pytest.raises(ValueError, match="cache"):
        batchnorm_backward(torch.ones(3, 2, dtype=DTYPE), (x, gamma))


# ---------------------------------------------------------------- module


def test_module_parameters_and_buffers_match_nn_batchnorm1d():
    ours, theirs = BatchNorm1d(5), torch.nn.BatchNorm1d(5)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (name, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items(), strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape, name
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)
    assert (ours.eps, ours.momentum, ours.num_features) == (theirs.eps, theirs.momentum, theirs.num_features)
    assert ours.training and repr(ours) == "BatchNorm1d(5, eps=1e-05, momentum=0.1)"
    # a state_dict of torch's module loads into ours
    ours.load_state_dict(torch_bn(*make_inputs(10, 2, 5)[1:]).float().state_dict())


@pytest.mark.parametrize("momentum", [0.3, 0.05, None])
def test_module_sequence_of_train_and_eval_calls_matches_nn_batchnorm1d(momentum):
    d = 3
    ours = BatchNorm1d(d, eps=1e-3, momentum=momentum).double()
    theirs = torch.nn.BatchNorm1d(d, eps=1e-3, momentum=momentum, dtype=DTYPE)
    state = make_inputs(11, 2, d)
    with torch.no_grad():
        for module in (ours, theirs):
            module.weight.copy_(state[1])
            module.bias.copy_(state[2])
    schedule = [(True, 2), (True, 5), (False, 3), (True, 3), (False, 1), (True, 4), (True, 2), (False, 6)]
    for step, (training, n) in enumerate(schedule):
        x = make_inputs(200 + step, n, d)[0]
        x_ours, x_theirs = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
        ours.train(training)
        theirs.train(training)
        out_ours, out_theirs = ours(x_ours), theirs(x_theirs)
        torch.testing.assert_close(out_ours, out_theirs, **TOL, msg=f"output at call {step}")
        for name, buf in theirs.named_buffers():
            torch.testing.assert_close(getattr(ours, name), buf, **TOL, msg=f"{name} after call {step}")
        # gradients through autograd, with a non-trivial upstream gradient
        grad_out = make_inputs(300 + step, n, d)[0]
        (out_ours * grad_out).sum().backward()
        (out_theirs * grad_out).sum().backward()
        torch.testing.assert_close(x_ours.grad, x_theirs.grad, **TOL, msg=f"dx at call {step}")
        torch.testing.assert_close(ours.weight.grad, theirs.weight.grad, **TOL, msg=f"dweight at call {step}")
        torch.testing.assert_close(ours.bias.grad, theirs.bias.grad, **TOL, msg=f"dbias at call {step}")


def test_module_trains_like_nn_batchnorm1d_inside_a_network():
    # Same init, same data, same SGD steps: the two networks must stay equal.
    def net(norm):
        torch.manual_seed(0)
        layers = [torch.nn.Linear(4, 6), norm, torch.nn.ReLU(), torch.nn.Linear(6, 2)]
        return torch.nn.Sequential(*layers).double()

    ours, theirs = net(BatchNorm1d(6, momentum=0.2)), net(torch.nn.BatchNorm1d(6, momentum=0.2))
    opt_ours = torch.optim.SGD(ours.parameters(), lr=0.1)
    opt_theirs = torch.optim.SGD(theirs.parameters(), lr=0.1)
    g = torch.Generator().manual_seed(12)
    for _ in range(5):
        x = torch.randn(8, 4, generator=g, dtype=DTYPE) + 1
        y = torch.randint(0, 2, (8,), generator=g)
        for model, opt in ((ours, opt_ours), (theirs, opt_theirs)):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
    for (name, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items(), strict=True):
        torch.testing.assert_close(a, b, **TOL, msg=name)


def test_module_rejects_bad_arguments_and_leaves_no_trace():
    for kwargs, message in [
        ({"num_features": 0}, "num_features"),
        ({"num_features": 2.5}, "num_features"),
        ({"num_features": 3, "eps": -1.0}, "eps"),
        ({"num_features": 3, "momentum": 2.0}, "momentum"),
    ]:
        with pytest.raises(ValueError, match=message):
            BatchNorm1d(**kwargs)
    bn = BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        bn(torch.ones(4, 2))
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        bn(torch.ones(4, 3, 2))
    with pytest.raises(ValueError, match="at least 2 samples"):
        bn(torch.ones(1, 3))
    # a refused call counts no batch and moves no statistic
    assert bn.num_batches_tracked.item() == 0
    torch.testing.assert_close(bn.running_mean, torch.zeros(3), rtol=0, atol=0)
    bn.eval()(torch.ones(1, 3))  # one sample is fine in evaluation


# -- largest_trainable_lr: a brute force over the runs, written differently (numpy, sorted descending) ------------
def brute_force_largest(lrs, curves, threshold):
    last = np.array([curve[-1] for curve in curves], dtype=float)
    trained = np.isfinite(last) & (last < threshold)
    if not trained.any():
        return None
    return float(np.sort(np.asarray(lrs, dtype=float)[trained])[::-1][0])


@pytest.mark.parametrize("seed", range(100))
def test_largest_trainable_lr_equals_the_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 12))
    lrs = rng.permutation(10.0 ** rng.uniform(-4, 1, n)).tolist()
    ends = rng.choice([0.0625, 0.125, 0.25, 0.5, 1.0, np.nan, np.inf], size=n)  # ties with the threshold included
    curves = [[2.0] * int(rng.integers(0, 4)) + [float(end)] for end in ends]
    threshold = float(rng.choice([0.125, 0.25, 0.5]))
    saved = [list(c) for c in curves], list(lrs)
    got = largest_trainable_lr(lrs, curves, threshold)
    assert got == brute_force_largest(lrs, curves, threshold)
    assert got is None or isinstance(got, float)
    assert repr(curves) == repr(saved[0]) and lrs == saved[1]  # not mutated (repr: NaN equals itself)


def test_largest_trainable_lr_by_hand():
    nan, inf = float("nan"), float("inf")
    curves = [[2.0, 1.0], [2.0, 0.125], [2.0, 0.0625], [2.0, nan]]
    assert largest_trainable_lr([0.01, 0.1, 1.0, 10.0], curves, 0.25) == 1.0  # NaN is never below the threshold
    assert largest_trainable_lr([0.01, 0.1, 1.0, 10.0], curves, 0.05) is None
    assert largest_trainable_lr([0.1, 0.3], [[1.0, 0.125], [1.0, 0.25]], 0.25) == 0.1  # strict: 0.25 < 0.25 is False
    # unsorted, with a failure (inf) between two runs that train
    assert largest_trainable_lr([3.0, 0.3, 1.0], [[1.0, 0.0625], [1.0, 0.25], [1.0, inf]], 0.375) == 3.0


@pytest.mark.parametrize(
    ("args", "match"),
    [(([], [], 0.1), "empty"), (([0.1, 1.0], [[1.0]], 0.1), "one loss curve per"),
     (([0.1], [[]], 0.1), "at least one value"), (([-0.1], [[1.0]], 0.1), "positive"),
     (([float("nan")], [[1.0]], 0.1), "positive")],
)
def test_largest_trainable_lr_invalid(args, match):
    with pytest.raises(ValueError, match=match):
        largest_trainable_lr(*args)

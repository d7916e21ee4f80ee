"""Oracle tests for solutions.init: fans, gains and initializers equal to torch.nn.init.

Exact oracles where the contract is exact: fans and gains equal torch's to the last bit,
uniform samples never leave [-b, b], and with the same generator state every initializer
returns exactly what the in-place torch.nn.init function writes into a float64 tensor.
Distribution checks on top of that judge the samples against the formulas (not against
torch's code): a statistic estimated from n independent draws is compared with its
expectation within N_SE = 5 standard errors, so that for a Gaussian approximation the
chance of a false failure is 5.7e-7 per check; every generator is seeded, so a pass is
reproducible.
"""

import math

import numpy as np
import pytest
import scipy.stats
import torch
import torch.nn.init as tinit

from solutions.init import (
    activation_stats,
    calculate_gain,
    fan_in_and_fan_out,
    input_share,
    kaiming_normal,
    kaiming_uniform,
    xavier_normal,
    xavier_uniform,
)

N_SE = 5  # standard errors allowed for every statistical check (see the module docstring)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    # The tensors here are small: one thread is faster than several competing for shared cores.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def gen(seed):
    return torch.Generator().manual_seed(seed)


# Weight shapes of real layers: fan_in != fan_out everywhere, non-square kernels, groups > 1.
LAYER_SHAPES = {
    "linear": torch.nn.Linear(7, 3).weight.shape,  # (3, 7)
    "linear_tall": torch.nn.Linear(2, 11).weight.shape,  # (11, 2)
    "conv1d": torch.nn.Conv1d(4, 6, 5).weight.shape,  # (6, 4, 5)
    "conv2d": torch.nn.Conv2d(3, 8, (3, 5)).weight.shape,  # (8, 3, 3, 5)
    "conv2d_groups": torch.nn.Conv2d(6, 9, (3, 2), groups=3).weight.shape,  # (9, 2, 3, 2)
    "conv3d": torch.nn.Conv3d(2, 4, (1, 2, 3)).weight.shape,  # (4, 2, 1, 2, 3)
    "conv3d_groups": torch.nn.Conv3d(4, 6, (2, 3, 1), groups=2).weight.shape,  # (6, 2, 2, 3, 1)
    "conv_transpose2d": torch.nn.ConvTranspose2d(4, 6, (2, 3), groups=2).weight.shape,  # (4, 3, 2, 3)
}


def torch_fans(shape):
    return tinit._calculate_fan_in_and_fan_out(torch.empty(shape))


# --- fan_in_and_fan_out ---------------------------------------------------------------


@pytest.mark.parametrize("layer", sorted(LAYER_SHAPES))
def test_fans_equal_torch_for_real_layers(layer):
    shape = LAYER_SHAPES[layer]
    got = fan_in_and_fan_out(shape)
    assert got == torch_fans(shape)
    assert all(isinstance(f, int) for f in got)


def test_fans_equal_torch_on_random_shapes():
    rng = np.random.default_rng(0)
    for _ in range(200):
        ndim = int(rng.integers(2, 6))
        shape = tuple(int(d) for d in rng.integers(1, 7, size=ndim))
        assert fan_in_and_fan_out(shape) == torch_fans(shape), shape


def test_fans_by_hand_for_a_non_square_grouped_kernel():
    # Conv2d(6, 9, (3, 2), groups=3): weight (9, 2, 3, 2), receptive field 3*2 = 6.
    assert fan_in_and_fan_out((9, 2, 3, 2)) == (2 * 6, 9 * 6)


@pytest.mark.parametrize("shape", [[3, 7], (3, 7), torch.Size([3, 7]), np.array([3, 7])])
def test_fans_accept_any_sequence_of_ints(shape):
    assert fan_in_and_fan_out(shape) == (7, 3)


def test_fans_of_zero_sized_layers_equal_torch():
    for shape in [(0, 4), (3, 0), (2, 3, 0)]:
        assert fan_in_and_fan_out(shape) == torch_fans(shape)


@pytest.mark.parametrize("shape", [(5,), (), 5, (3, -1), (3, 2.0), (True, 3), "ab", None])
def test_fans_reject_bad_shapes(shape):
    with pytest.raises(ValueError, match="shape|dimensions"):
        fan_in_and_fan_out(shape)


def test_fans_reject_one_dimension_like_torch():
    with pytest.raises(ValueError):
        torch_fans((5,))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        fan_in_and_fan_out((5,))


# --- calculate_gain ------------------------------------------------------------------

GAIN_CASES = [
    ("linear", None),
    ("conv1d", None),
    ("conv2d", None),
    ("conv3d", None),
    ("conv_transpose1d", None),
    ("conv_transpose2d", None),
    ("conv_transpose3d", None),
    ("sigmoid", None),
    ("tanh", None),
    ("relu", None),
    ("relu", 0.3),  # param ignored
    ("selu", None),
    ("leaky_relu", None),  # default slope 0.01
    ("leaky_relu", 0),
    ("leaky_relu", 0.2),
    ("leaky_relu", -0.5),
    ("leaky_relu", 3),
    ("leaky_relu", math.sqrt(5)),
    ("leaky_relu", np.float64(0.1)),
]


@pytest.mark.parametrize(("nonlinearity", "param"), GAIN_CASES)
def test_gain_equals_torch_exactly(nonlinearity, param):
    got = calculate_gain(nonlinearity, param)
    assert got == tinit.calculate_gain(nonlinearity, param)
    assert isinstance(got, float)


def test_gain_values_by_hand():
    # The table of the chapter, written independently of torch.
    assert calculate_gain("tanh") == pytest.approx(5 / 3, rel=1e-15)
    assert calculate_gain("relu") == pytest.approx(2**0.5, rel=1e-15)
    assert calculate_gain("leaky_relu") == pytest.approx((2 / 1.0001) ** 0.5, rel=1e-15)
    assert calculate_gain("leaky_relu", 0.0) == calculate_gain("relu")
    assert calculate_gain("selu") == 0.75
    assert calculate_gain("sigmoid") == 1.0


@pytest.mark.parametrize(
    ("nonlinearity", "param"),
    [("softmax", None), ("ReLU", None), ("", None), ("leaky_relu", True), ("leaky_relu", "0.1")],
)
def test_gain_rejects_what_torch_rejects(nonlinearity, param):
    with pytest.raises(ValueError):
        tinit.calculate_gain(nonlinearity, param)
    with pytest.raises(ValueError, match="nonlinearity|slope"):
        calculate_gain(nonlinearity, param)


# --- initializers: exact agreement with torch.nn.init for the same generator -----------

INIT_CASES = [
    # (ours, torch in-place, keyword arguments)
    (xavier_uniform, tinit.xavier_uniform_, {}),
    (xavier_uniform, tinit.xavier_uniform_, {"gain": 5 / 3}),
    (xavier_normal, tinit.xavier_normal_, {}),
    (xavier_normal, tinit.xavier_normal_, {"gain": 0.7}),
    (kaiming_uniform, tinit.kaiming_uniform_, {}),
    (kaiming_uniform, tinit.kaiming_uniform_, {"a": math.sqrt(5)}),
    (kaiming_uniform, tinit.kaiming_uniform_, {"mode": "fan_out", "nonlinearity": "relu"}),
    (kaiming_normal, tinit.kaiming_normal_, {}),
    (kaiming_normal, tinit.kaiming_normal_, {"a": 0.2, "mode": "fan_out"}),
    (kaiming_normal, tinit.kaiming_normal_, {"nonlinearity": "tanh"}),
]


@pytest.mark.parametrize("layer", sorted(LAYER_SHAPES))
@pytest.mark.parametrize(("ours", "theirs", "kwargs"), INIT_CASES)
def test_initializers_equal_torch_with_the_same_generator(ours, theirs, kwargs, layer):
    shape = LAYER_SHAPES[layer]
    got = ours(shape, generator=gen(11), **kwargs)
    expected = theirs(torch.empty(shape, dtype=torch.float64), generator=gen(11), **kwargs)
    assert got.dtype == torch.float64 and got.shape == shape
    assert torch.equal(got, expected)


# --- initializers: distributions judged against the formulas -----------------------------

# A big weight with fan_in = 240, fan_out = 300 (a conv with a non-square 2x3 kernel):
# n = 50 * 40 * 2 * 3 = 12000 draws. Every mistake of the chapter moves the std by >= 9 %,
# far outside the 5 standard errors allowed below (about 3 % for a normal, 2 % for a uniform).
BIG = (50, 40, 2, 3)
FAN_IN, FAN_OUT = 40 * 6, 50 * 6
N = 50 * 40 * 6


def check_normal(w, std):
    """Mean 0 and std ``std`` within N_SE standard errors, plus a KS test of the shape."""
    x = w.flatten().numpy()
    n = x.size
    # SE of the mean: std / sqrt(n). SE of the sample std of a normal: std / sqrt(2n).
    assert abs(x.mean()) < N_SE * std / math.sqrt(n), f"mean {x.mean()} is not 0"
    assert abs(x.std() / std - 1) < N_SE / math.sqrt(2 * n), f"std {x.std()} != {std}"
    # Shape of the distribution: the KS p-value falls below 1e-6 with probability 1e-6.
    assert scipy.stats.kstest(x, "norm", args=(0, std)).pvalue > 1e-6


def check_uniform(w, bound):
    """Exact bounds, both ends reached, std b/sqrt(3) within N_SE standard errors, KS test."""
    x = w.flatten().numpy()
    n = x.size
    assert x.min() >= -bound and x.max() <= bound, "a sample left [-b, b]"
    # P(no draw in the top 20/n of the interval) = (1 - 10/n)^n < e^-10 = 4.5e-5, each end.
    assert x.max() > bound * (1 - 20 / n) and x.min() < -bound * (1 - 20 / n), "the bound is not reached"
    std = bound / math.sqrt(3)
    assert abs(x.mean()) < N_SE * std / math.sqrt(n), f"mean {x.mean()} is not 0"
    # Var of the sample variance of U(-b, b): (mu4 - sigma^4) / n with mu4 = b^4 / 5,
    # sigma^4 = b^4 / 9, so the relative SE of the variance is sqrt(4/5) / sqrt(n) and that of
    # the std half of it: sqrt(1/5) / sqrt(n).
    assert abs(x.std() / std - 1) < N_SE * math.sqrt(0.2 / n), f"std {x.std()} != {std}"
    assert scipy.stats.kstest(x, "uniform", args=(-bound, 2 * bound)).pvalue > 1e-6


@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier_uniform_distribution(gain):
    w = xavier_uniform(BIG, gain=gain, generator=gen(1))
    check_uniform(w, gain * math.sqrt(6 / (FAN_IN + FAN_OUT)))


@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier_normal_distribution(gain):
    w = xavier_normal(BIG, gain=gain, generator=gen(2))
    check_normal(w, gain * math.sqrt(2 / (FAN_IN + FAN_OUT)))


KAIMING_CASES = [
    # (kwargs, gain, fan): the defaults are leaky_relu with a = 0, i.e. the ReLU gain, on fan_in.
    ({}, math.sqrt(2), FAN_IN),
    ({"mode": "fan_out"}, math.sqrt(2), FAN_OUT),
    ({"a": 0.3}, math.sqrt(2 / 1.09), FAN_IN),
    ({"nonlinearity": "tanh"}, 5 / 3, FAN_IN),
    ({"nonlinearity": "linear", "mode": "fan_out"}, 1.0, FAN_OUT),
]


@pytest.mark.parametrize(("kwargs", "gain", "fan"), KAIMING_CASES)
def test_kaiming_uniform_distribution(kwargs, gain, fan):
    w = kaiming_uniform(BIG, generator=gen(3), **kwargs)
    check_uniform(w, math.sqrt(3) * gain / math.sqrt(fan))


@pytest.mark.parametrize(("kwargs", "gain", "fan"), KAIMING_CASES)
def test_kaiming_normal_distribution(kwargs, gain, fan):
    w = kaiming_normal(BIG, generator=gen(4), **kwargs)
    check_normal(w, gain / math.sqrt(fan))


def test_torch_default_linear_init_is_kaiming_uniform_with_a_sqrt5():
    # nn.Linear.reset_parameters calls kaiming_uniform_(weight, a=sqrt(5)): gain sqrt(2/6),
    # bound sqrt(3) * sqrt(1/3) / sqrt(fan_in) = 1/sqrt(fan_in). n = 12000 draws.
    w = kaiming_uniform((300, 40), a=math.sqrt(5), generator=gen(5))
    check_uniform(w, 1 / math.sqrt(40))


# --- initializers: randomness, validation, no global state ----------------------------

ALL_INITS = [xavier_uniform, xavier_normal, kaiming_uniform, kaiming_normal]


@pytest.mark.parametrize("init", ALL_INITS)
def test_same_seed_same_tensor_other_seed_other_tensor(init):
    a = init((20, 30), generator=gen(5))
    b = init((20, 30), generator=gen(5))
    c = init((20, 30), generator=gen(6))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert a.unique().numel() == a.numel(), "a random init has no repeated values"


@pytest.mark.parametrize("init", ALL_INITS)
def test_generator_advances_between_calls(init):
    g = gen(7)
    assert not torch.equal(init((20, 30), generator=g), init((20, 30), generator=g))


@pytest.mark.parametrize("init", ALL_INITS)
def test_global_rng_is_neither_read_nor_changed(init):
    torch.manual_seed(0)
    state = torch.get_rng_state()
    a = init((20, 30), generator=gen(8))
    assert torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(123)
    assert torch.equal(init((20, 30), generator=gen(8)), a)
    # Without a generator: a fresh OS-seeded one, still not the global generator.
    state = torch.get_rng_state()
    w = init((20, 30))
    assert torch.equal(torch.get_rng_state(), state)
    assert w.shape == (20, 30) and w.dtype == torch.float64 and w.std() > 0


@pytest.mark.parametrize("init", ALL_INITS)
def test_shape_is_not_mutated_and_zero_sized_shapes_give_empty_tensors(init):
    shape = [3, 0]
    out = init(shape, generator=gen(0))
    assert shape == [3, 0]
    assert out.shape == (3, 0) and out.dtype == torch.float64


@pytest.mark.parametrize("init", ALL_INITS)
def test_initializers_reject_bad_arguments(init):
    with pytest.raises(ValueError, match="dimensions"):
        init((5,), generator=gen(0))
    with pytest.raises(TypeError, match="generator"):
        init((3, 4), generator=0)


@pytest.mark.parametrize("init", [xavier_uniform, xavier_normal])
@pytest.mark.parametrize("gain", [0.0, -1.0, math.inf, math.nan, "1"])
def test_xavier_rejects_bad_gain(init, gain):
    with pytest.raises(ValueError, match="gain"):
        init((3, 4), gain=gain, generator=gen(0))


@pytest.mark.parametrize("init", [kaiming_uniform, kaiming_normal])
def test_kaiming_rejects_bad_mode_nonlinearity_and_slope(init):
    with pytest.raises(ValueError, match="mode"):
        init((3, 4), mode="fan_avg", generator=gen(0))
    with pytest.raises(ValueError, match="nonlinearity"):
        init((3, 4), nonlinearity="softmax", generator=gen(0))
    with pytest.raises(ValueError, match="slope"):
        init((3, 4), a=True, generator=gen(0))


# --- activation_stats ----------------------------------------------------------------


def torch_activation_stats(init, activation, n_layers, width, n_samples, seed):
    """The experiment written with torch.nn modules and torch.nn.init, same draw order."""
    g = gen(seed)
    x = torch.randn((n_samples, width), generator=g, dtype=torch.float64)
    f = {"sigmoid": torch.nn.Sigmoid(), "tanh": torch.nn.Tanh(), "relu": torch.nn.ReLU()}[activation]
    rows = []
    for _ in range(n_layers):
        layer = torch.nn.Linear(width, width, bias=False, dtype=torch.float64)
        with torch.no_grad():
            if init == "normal":
                tinit.normal_(layer.weight, 0.0, 1.0, generator=g)
            elif init == "xavier":
                tinit.xavier_normal_(layer.weight, generator=g)
            else:
                tinit.kaiming_normal_(layer.weight, nonlinearity="relu", generator=g)
            x = f(layer(x))
        a = x.numpy()
        if activation == "sigmoid":
            sat = np.mean((a < 0.01) | (a > 0.99))
        elif activation == "tanh":
            sat = np.mean(np.abs(a) > 0.97)
        else:
            sat = np.mean(a == 0)
        rows.append([a.mean(), a.std(), sat])  # numpy std: ddof=0
    return torch.tensor(rows, dtype=torch.float64)


@pytest.mark.parametrize("init", ["normal", "xavier", "he"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_activation_stats_equal_a_torch_nn_network(init, activation):
    got = activation_stats(init, activation, n_layers=6, width=64, n_samples=200, generator=gen(3))
    expected = torch_activation_stats(init, activation, 6, 64, 200, seed=3)
    assert got.shape == (6, 3) and got.dtype == torch.float64
    # Same draws; only the summation order of the matmul and of the reductions may differ:
    # a few ulps per layer, compounded over 6 layers, stays far below 1e-9 relative.
    # (The std-1 relu network grows by ~sqrt(32) per layer, so the tolerance is relative.)
    torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-12)


def test_activation_stats_default_size():
    stats_ = activation_stats("he", "relu", generator=gen(0))
    assert stats_.shape == (10, 3) and stats_.dtype == torch.float64


def test_activation_stats_reproducibility():
    a = activation_stats("xavier", "tanh", n_layers=3, width=16, n_samples=50, generator=gen(0))
    b = activation_stats("xavier", "tanh", n_layers=3, width=16, n_samples=50, generator=gen(0))
    c = activation_stats("xavier", "tanh", n_layers=3, width=16, n_samples=50, generator=gen(1))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def stats(init, activation, seed=0):
    # Smaller than the default (10 x 256 x 1000) to keep the suite fast; the facts below
    # are about the per-unit variance, which does not depend on the width.
    return activation_stats(init, activation, n_layers=10, width=128, n_samples=300, generator=gen(seed))


def test_std1_sigmoid_saturates_and_xavier_sigmoid_does_not():
    # Std-1 weights: pre-activations have std ~ sqrt(128 * E[s^2]) ~ 6, so most units sit
    # at 0 or 1. Xavier: pre-activation std ~ 0.5, no unit beyond the 0.01 / 0.99 cut.
    normal = stats("normal", "sigmoid")
    xavier = stats("xavier", "sigmoid")
    assert (normal[:, 2] > 0.5).all()
    assert (xavier[:, 2] < 0.01).all()
    assert (xavier[:, 1] > 0.05).all()  # healthy spread, not a collapse


def test_xavier_tanh_keeps_a_spread_without_saturation():
    xavier = stats("xavier", "tanh")
    normal = stats("normal", "tanh")
    assert (normal[:, 2] > 0.8).all()
    assert (xavier[1:, 2] < 0.02).all()
    assert (xavier[:, 1] > 0.1).all()


def test_xavier_relu_collapses_and_he_relu_keeps_the_std():
    xavier = stats("xavier", "relu")
    he = stats("he", "relu")
    # Xavier on a square layer has Var(w) = 1/n: a relu halves the second moment per layer,
    # so the std shrinks by ~1/sqrt(2) per layer, a factor ~20 over 9 layers.
    assert xavier[-1, 1] < xavier[0, 1] / 10
    # He doubles Var(w) to 2/n and the second moment stays put: std within a factor 2.
    assert (he[:, 1] > he[0, 1] / 2).all() and (he[:, 1] < he[0, 1] * 2).all()
    # A relu zeroes about half of the activations. The independent draws are the 128 units
    # (all samples of a unit share its weights), each contributing a fraction in [0, 1] of
    # variance <= 1/4: SE <= 0.5 / sqrt(128) = 0.044, and 5 SE = 0.22.
    assert (abs(he[:, 2] - 0.5) < 0.22).all()


def test_std1_relu_explodes():
    normal = stats("normal", "relu")
    # Var(w) = 1 on 128 inputs multiplies the second moment by 128 / 2 = 64 per layer:
    # std ~ 0.83 * 8^10 ~ 9e8 after 10 layers.
    assert normal[-1, 1] > 1e8


def test_activation_stats_does_not_touch_global_rng():
    state = torch.get_rng_state()
    activation_stats("xavier", "tanh", n_layers=2, width=8, n_samples=10, generator=gen(0))
    activation_stats("xavier", "tanh", n_layers=2, width=8, n_samples=10)
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"init": "glorot"},
        {"init": "kaiming"},
        {"activation": "softmax"},
        {"n_layers": 0},
        {"width": 0},
        {"n_samples": 1},
        {"n_layers": 2.0},
    ],
)
def test_activation_stats_rejects_bad_arguments(kwargs):
    args = {"init": "he", "activation": "relu", "n_layers": 2, "width": 4, "n_samples": 5}
    args.update(kwargs)
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        activation_stats(**args, generator=gen(0))


# -- input_share: against torch's variances and the law of total variance -------------------------------------
def _layers(seed):
    """Activations of a few random deep nets (sigmoid, tanh, relu; small and He-like scales), as numpy arrays."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for act, std in [(torch.sigmoid, 1.0), (torch.tanh, 1.0), (torch.relu, 2.0), (torch.sigmoid, 4.0)]:
        x = torch.randn(40, 16, generator=gen, dtype=torch.float64)
        for _ in range(int(torch.randint(1, 12, (1,), generator=gen))):
            x = act(x @ (torch.randn(16, 16, generator=gen, dtype=torch.float64) * std / 4).T)
        out.append(x.numpy())
    return out


@pytest.mark.parametrize("seed", range(5))
def test_input_share_equals_torchs_variances(seed):
    for a in _layers(seed):
        t = torch.from_numpy(a)
        expected = (t.var(dim=0, correction=0).mean() / t.var(correction=0)).item()
        # one division of sums computed in another order: ~1e-15 relative
        assert input_share(a) == pytest.approx(expected, rel=1e-12)
        # the law of total variance: pooled = mean per-unit variance + variance of the unit means
        between = a.mean(axis=0).var()
        assert input_share(a) == pytest.approx(1 - between / a.var(), rel=1e-9, abs=1e-12)


def test_input_share_literal_values():
    # per-unit variances 1 and 0 (mean 0.5); pooled variance of 0, 5, 2, 5 is 4.5
    assert input_share([[0.0, 5.0], [2.0, 5.0]]) == pytest.approx(0.5 / 4.5, rel=1e-15)
    assert input_share([[1.0, 3.0], [1.0, 3.0], [1.0, 3.0]]) == 0.0  # every input the same: forgotten
    assert input_share([[1.0, -1.0], [-1.0, 1.0]]) == 1.0  # unit means equal: all spread is across inputs


def test_input_share_does_not_modify_its_input():
    a = np.array([[0.0, 1.0], [2.0, 5.0]])
    input_share(a)
    assert a.tolist() == [[0.0, 1.0], [2.0, 5.0]]


@pytest.mark.parametrize("bad", [np.ones(4), np.ones((1, 3)), np.full((3, 2), 7.0), np.array([[np.nan, 1], [1, 2]])])
def test_input_share_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        input_share(bad)

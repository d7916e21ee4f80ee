"""Chapter 03-weight-init: where the weights of a network start.

Fans, gains and the Xavier (Glorot) and Kaiming (He) initializers of
:mod:`torch.nn.init`, written as functions that return a new float64 tensor
instead of filling one in place, and the activation-statistics experiment that
motivates them. Weight shapes follow torch: ``(out, in)`` for ``Linear`` and
``(out, in / groups, *kernel)`` for ``Conv``.

Random functions draw only from the ``torch.Generator`` they are given; with
``generator=None`` they make a fresh one seeded from the operating system, so
torch's global random state is never read or changed.
"""

import math
import numbers

import numpy as np
import torch

_LINEAR_GAIN_ONE = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
)
_DEFAULT_LEAKY_SLOPE = 0.01
_MODES = ("fan_in", "fan_out")

# activation_stats: the initializers and activations of the experiment, and the
# test that a unit is saturated (its gradient is close to zero).
_STATS_INITS = ("normal", "xavier", "he")
_ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
}
_SATURATED = {
    "sigmoid": lambda a: (a < 0.01) | (a > 0.99),
    "tanh": lambda a: a.abs() > 0.97,
    "relu": lambda a: a == 0,
}


def _check_shape(shape):
    """Return ``shape`` as a tuple of non-negative ints with at least 2 entries."""
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError(f"shape must be a sequence of ints, got {shape!r}") from None
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 0:
            raise ValueError(f"shape must contain non-negative ints, got {shape!r}")
    if len(dims) < 2:
        raise ValueError(
            f"fan_in and fan_out need a weight shape with at least 2 dimensions, got {dims!r}"
        )
    return tuple(int(d) for d in dims)


def _check_generator(generator):
    """Return ``generator``, or a fresh generator seeded from the OS when it is None."""
    if generator is None:
        generator = torch.Generator()
        generator.seed()
        return generator
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    return generator


def _check_positive(value, name):
    bad_type = isinstance(value, bool) or not isinstance(value, numbers.Real)
    if bad_type or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def _uniform(shape, bound, generator):
    """New float64 tensor of ``shape`` with entries ~ U(-bound, bound)."""
    out = torch.empty(shape, dtype=torch.float64)
    if out.numel() == 0:
        return out
    return out.uniform_(-bound, bound, generator=generator)


def _normal(shape, std, generator):
    """New float64 tensor of ``shape`` with entries ~ N(0, std^2)."""
    out = torch.empty(shape, dtype=torch.float64)
    if out.numel() == 0:
        return out
    return out.normal_(0.0, std, generator=generator)


def fan_in_and_fan_out(shape):
    r"""Number of inputs and outputs that each weight connects.

    For a weight of shape ``(out, in, k_1, ..., k_d)`` the receptive field is
    :math:`r = \prod_i k_i` (1 for a ``Linear`` weight ``(out, in)``) and

    .. math:: \text{fan\_in} = \text{in} \cdot r, \qquad
              \text{fan\_out} = \text{out} \cdot r

    A grouped convolution stores ``in / groups`` in the second dimension, so
    the fans count the inputs of one group, as in torch.

    Parameters
    ----------
    shape : sequence of int, at least 2 entries
        Weight shape, e.g. ``nn.Linear(5, 3).weight.shape == (3, 5)``.

    Returns
    -------
    fan_in, fan_out : tuple of int
        Equal to ``torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))``.

    Raises
    ------
    ValueError
        If ``shape`` has fewer than 2 dimensions or an entry that is not a
        non-negative int.
    """
    out_features, in_features, *kernel = _check_shape(shape)
    receptive_field = math.prod(kernel)
    return in_features * receptive_field, out_features * receptive_field


def calculate_gain(nonlinearity, param=None):
    r"""Recommended scale of the weights for a nonlinearity (torch's table).

    ==========================================  ===================================
    nonlinearity                                gain
    ==========================================  ===================================
    linear, conv1d/2d/3d, conv_transpose*,      :math:`1`
    sigmoid
    tanh                                        :math:`5/3`
    relu                                        :math:`\sqrt{2}`
    leaky_relu (slope ``param``, default 0.01)  :math:`\sqrt{2 / (1 + \text{slope}^2)}`
    selu                                        :math:`3/4`
    ==========================================  ===================================

    Parameters
    ----------
    nonlinearity : str
        Name of the function that follows the layer (``torch.nn.functional`` name).
    param : int or float, optional
        Negative slope of ``"leaky_relu"`` (``None`` means 0.01); ignored by
        the other nonlinearities, as in torch.

    Returns
    -------
    float
        Equal to ``torch.nn.init.calculate_gain(nonlinearity, param)``.

    Raises
    ------
    ValueError
        If ``nonlinearity`` is not in the table, or the slope of
        ``"leaky_relu"`` is not a real number (a bool is rejected).
    """
    if nonlinearity in _LINEAR_GAIN_ONE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = _DEFAULT_LEAKY_SLOPE
        elif isinstance(param, bool) or not isinstance(param, numbers.Real):
            raise ValueError(f"leaky_relu negative slope must be a real number, got {param!r}")
        else:
            slope = param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"nonlinearity must be one of {sorted((*_LINEAR_GAIN_ONE, 'tanh', 'relu', 'leaky_relu', 'selu'))}, "
        f"got {nonlinearity!r}"
    )


def _xavier_std(shape, gain):
    gain = _check_positive(gain, "gain")
    fan_in, fan_out = fan_in_and_fan_out(shape)
    if fan_in + fan_out == 0:
        return 0.0
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


def xavier_uniform(shape, gain=1.0, generator=None):
    r"""New weight tensor drawn from Glorot and Bengio's uniform distribution.

    .. math:: W_{ij} \sim \mathcal{U}(-b, b), \qquad
              b = \text{gain} \sqrt{\frac{6}{\text{fan\_in} + \text{fan\_out}}}

    so that :math:`\operatorname{Var}(W) = \text{gain}^2 \cdot 2 / (\text{fan\_in} + \text{fan\_out})`,
    the compromise between keeping the forward (fan_in) and the backward
    (fan_out) variance.

    Parameters
    ----------
    shape : sequence of int, at least 2 entries
        Weight shape, ``(out, in, *kernel)``.
    gain : float > 0, default 1.0
        Scale for the nonlinearity, see :func:`calculate_gain`.
    generator : torch.Generator, optional
        Source of randomness; ``None`` makes a fresh one seeded from the OS.

    Returns
    -------
    torch.Tensor of float64, shape ``shape``
        A new tensor; with the same generator state it equals
        ``torch.nn.init.xavier_uniform_(torch.empty(shape, dtype=torch.float64), gain, generator)``.

    Raises
    ------
    ValueError
        If ``shape`` is invalid (see :func:`fan_in_and_fan_out`) or ``gain <= 0``.
    TypeError
        If ``generator`` is not a ``torch.Generator``.
    """
    std = _xavier_std(shape, gain)
    generator = _check_generator(generator)
    # sqrt(3) * std == gain * sqrt(6 / (fan_in + fan_out)), computed in torch's order.
    return _uniform(shape, math.sqrt(3.0) * std, generator)


def xavier_normal(shape, gain=1.0, generator=None):
    r"""New weight tensor drawn from Glorot and Bengio's normal distribution.

    .. math:: W_{ij} \sim \mathcal{N}(0, \sigma^2), \qquad
              \sigma = \text{gain} \sqrt{\frac{2}{\text{fan\_in} + \text{fan\_out}}}

    Parameters
    ----------
    shape : sequence of int, at least 2 entries
        Weight shape, ``(out, in, *kernel)``.
    gain : float > 0, default 1.0
        Scale for the nonlinearity, see :func:`calculate_gain`.
    generator : torch.Generator, optional
        Source of randomness; ``None`` makes a fresh one seeded from the OS.

    Returns
    -------
    torch.Tensor of float64, shape ``shape``
        A new tensor; with the same generator state it equals
        ``torch.nn.init.xavier_normal_(torch.empty(shape, dtype=torch.float64), gain, generator)``.

    Raises
    ------
    ValueError
        If ``shape`` is invalid (see :func:`fan_in_and_fan_out`) or ``gain <= 0``.
    TypeError
        If ``generator`` is not a ``torch.Generator``.
    """
    std = _xavier_std(shape, gain)
    generator = _check_generator(generator)
    return _normal(shape, std, generator)


def _kaiming_std(shape, a, mode, nonlinearity):
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {list(_MODES)}, got {mode!r}")
    gain = calculate_gain(nonlinearity, a)
    fan_in, fan_out = fan_in_and_fan_out(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:
        return 0.0
    return gain / math.sqrt(fan)


def kaiming_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    r"""New weight tensor drawn from He et al.'s uniform distribution.

    .. math:: W_{ij} \sim \mathcal{U}(-b, b), \qquad
              b = \sqrt{3}\,\sigma, \qquad
              \sigma = \frac{\text{gain}}{\sqrt{\text{fan}}}

    where ``gain = calculate_gain(nonlinearity, a)`` and ``fan`` is
    ``fan_in`` (keeps the variance of the forward pass) or ``fan_out`` (of the
    backward pass). The defaults, leaky_relu with slope ``a = 0``, give the
    ReLU gain :math:`\sqrt{2}`: :math:`\operatorname{Var}(W) = 2 / \text{fan\_in}`.

    Parameters
    ----------
    shape : sequence of int, at least 2 entries
        Weight shape, ``(out, in, *kernel)``.
    a : float, default 0.0
        Negative slope of the rectifier, used only with ``"leaky_relu"``.
    mode : {"fan_in", "fan_out"}, default "fan_in"
    nonlinearity : str, default "leaky_relu"
        A name accepted by :func:`calculate_gain`.
    generator : torch.Generator, optional
        Source of randomness; ``None`` makes a fresh one seeded from the OS.

    Returns
    -------
    torch.Tensor of float64, shape ``shape``
        A new tensor; with the same generator state it equals
        ``torch.nn.init.kaiming_uniform_`` on an empty float64 tensor.

    Raises
    ------
    ValueError
        If ``shape``, ``mode``, ``nonlinearity`` or ``a`` is invalid.
    TypeError
        If ``generator`` is not a ``torch.Generator``.
    """
    std = _kaiming_std(shape, a, mode, nonlinearity)
    generator = _check_generator(generator)
    return _uniform(shape, math.sqrt(3.0) * std, generator)


def kaiming_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    r"""New weight tensor drawn from He et al.'s normal distribution.

    .. math:: W_{ij} \sim \mathcal{N}(0, \sigma^2), \qquad
              \sigma = \frac{\text{gain}}{\sqrt{\text{fan}}}

    with ``gain = calculate_gain(nonlinearity, a)``; the defaults give
    :math:`\sigma = \sqrt{2 / \text{fan\_in}}`.

    Parameters
    ----------
    shape : sequence of int, at least 2 entries
        Weight shape, ``(out, in, *kernel)``.
    a : float, default 0.0
        Negative slope of the rectifier, used only with ``"leaky_relu"``.
    mode : {"fan_in", "fan_out"}, default "fan_in"
    nonlinearity : str, default "leaky_relu"
        A name accepted by :func:`calculate_gain`.
    generator : torch.Generator, optional
        Source of randomness; ``None`` makes a fresh one seeded from the OS.

    Returns
    -------
    torch.Tensor of float64, shape ``shape``
        A new tensor; with the same generator state it equals
        ``torch.nn.init.kaiming_normal_`` on an empty float64 tensor.

    Raises
    ------
    ValueError
        If ``shape``, ``mode``, ``nonlinearity`` or ``a`` is invalid.
    TypeError
        If ``generator`` is not a ``torch.Generator``.
    """
    std = _kaiming_std(shape, a, mode, nonlinearity)
    generator = _check_generator(generator)
    return _normal(shape, std, generator)


def _check_count(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def activation_stats(init, activation, n_layers=10, width=256, n_samples=1000, generator=None):
    r"""Statistics of the activations of a deep bias-free MLP at initialization.

    Inputs :math:`x^{(0)} \sim \mathcal{N}(0, 1)` of shape ``(n_samples, width)``
    go through ``n_layers`` layers

    .. math:: x^{(l)} = f\left(x^{(l-1)} W^{(l)\top}\right), \qquad
              W^{(l)} \in \mathbb{R}^{\text{width} \times \text{width}}

    with :math:`W^{(l)}` drawn by ``init``: ``"normal"`` is
    :math:`\mathcal{N}(0, 1)`, ``"xavier"`` is :func:`xavier_normal` (gain 1)
    and ``"he"`` is :func:`kaiming_normal` with ``nonlinearity="relu"``
    (std :math:`\sqrt{2/\text{width}}`). A unit counts as saturated where the
    activation's gradient is (nearly) zero: sigmoid below 0.01 or above 0.99,
    :math:`|\tanh| > 0.97`, relu exactly 0.

    Draw order (fixes the result for a seeded generator): the inputs with
    ``torch.randn``, then the weights layer after layer.

    Parameters
    ----------
    init : {"normal", "xavier", "he"}
    activation : {"sigmoid", "tanh", "relu"}
    n_layers : int >= 1, default 10
    width : int >= 1, default 256
    n_samples : int >= 2, default 1000
    generator : torch.Generator, optional
        Source of randomness; ``None`` makes a fresh one seeded from the OS.

    Returns
    -------
    torch.Tensor of float64, shape (n_layers, 3)
        Row ``l`` holds the mean, the standard deviation (ddof=0) and the
        fraction of saturated units of all ``n_samples * width`` activations
        of layer ``l + 1``.

    Raises
    ------
    ValueError
        If ``init`` or ``activation`` is not one of the names above, or a
        count is too small.
    TypeError
        If ``generator`` is not a ``torch.Generator``.
    """
    if init not in _STATS_INITS:
        raise ValueError(f"init must be one of {list(_STATS_INITS)}, got {init!r}")
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    n_layers = _check_count(n_layers, "n_layers", 1)
    width = _check_count(width, "width", 1)
    n_samples = _check_count(n_samples, "n_samples", 2)
    generator = _check_generator(generator)

    draw_weight = {
        "normal": lambda shape: _normal(shape, 1.0, generator),
        "xavier": lambda shape: xavier_normal(shape, generator=generator),
        "he": lambda shape: kaiming_normal(shape, nonlinearity="relu", generator=generator),
    }[init]
    f = _ACTIVATIONS[activation]
    saturated = _SATURATED[activation]

    x = torch.randn((n_samples, width), generator=generator, dtype=torch.float64)
    stats = torch.empty((n_layers, 3), dtype=torch.float64)
    for layer in range(n_layers):
        weight = draw_weight((width, width))
        x = f(x @ weight.T)
        stats[layer, 0] = x.mean()
        stats[layer, 1] = x.std(correction=0)
        stats[layer, 2] = saturated(x).double().mean()
    return stats


def input_share(activations):
    r"""The share of a layer's spread that depends on the input.

    A layer's activations :math:`a_{ij}` (input :math:`i`, unit :math:`j`) spread for two reasons:
    one unit answers different inputs differently (what the next layers can use), or different
    units sit at different values that are the same for every input (no information at all). The
    law of total variance (ddof=0 throughout) splits the pooled variance into the two:

    .. math:: \operatorname{Var}_{ij}(a_{ij}) = \underbrace{\tfrac{1}{m}\textstyle\sum_j
              \operatorname{Var}_i(a_{ij})}_{\text{across inputs, per unit}} +
              \operatorname{Var}_j\big(\bar a_{\cdot j}\big),
              \qquad \text{share} = \frac{\tfrac{1}{m}\sum_j \operatorname{Var}_i(a_{ij})}
              {\operatorname{Var}_{ij}(a_{ij})} \in [0, 1].

    A share near 0 means the network has forgotten its input: every input gives the same
    activations, however wide the pooled histogram looks.

    Parameters
    ----------
    activations : array_like, shape (n_samples, n_units)
        One layer's activations, a row per input (n_samples >= 2).

    Returns
    -------
    float
        The share, in [0, 1].

    Raises
    ------
    ValueError
        If ``activations`` is not a finite 2-D array with at least 2 rows, or nothing varies at
        all (pooled variance 0: the share is undefined).
    """
    a = np.array(activations, dtype=np.float64, copy=True)
    if a.ndim != 2 or a.shape[0] < 2 or a.shape[1] < 1 or not np.all(np.isfinite(a)):
        raise ValueError(f"activations must be a finite 2-D array with >= 2 rows, got shape {a.shape}")
    pooled = a.var()
    if pooled == 0:
        raise ValueError("the activations do not vary at all: the share is undefined")
    return float(min(a.var(axis=0).mean() / pooled, 1.0))

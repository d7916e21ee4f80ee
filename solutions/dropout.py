"""Chapter 05-dropout: inverted dropout, as ``torch.nn.Dropout`` does it, channel-wise dropout and MC dropout.

``p`` is the probability of DROPPING a unit (torch's and Keras' convention; the
CS231n assignments use the keep probability instead). Survivors are scaled by
``1 / (1 - p)`` during training so that the expected output equals the input, and
evaluation is the identity. :func:`dropout2d_forward` drops whole feature maps
(``torch.nn.Dropout2d`` / ``Dropout1d``); :func:`mc_dropout_predict` keeps dropout on at
prediction time and averages stochastic forward passes (Gal and Ghahramani, 2016).
:func:`mcnemar` judges whether one trained network beats another on the same images (a paired test).
"""

import math
import numbers

import torch

__all__ = ["Dropout", "dropout2d_forward", "dropout_backward", "dropout_forward", "mc_dropout_predict", "mcnemar"]


def _check_p(p):
    """Return ``p`` as a float after checking that it is a probability."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise ValueError(f"p must be a real number in [0, 1], got {p!r}")
    p = float(p)
    # `not (0 <= p <= 1)` also rejects NaN.
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1] (the drop probability), got {p}")
    return p


def _as_float_tensor(x, name="x"):
    """Return ``x`` as a floating tensor without copying or detaching it."""
    x = torch.as_tensor(x)
    if not x.is_floating_point():
        x = x.to(torch.float64)
    if x.dim() == 0:
        raise ValueError(f"{name} must have at least one dimension, got a scalar")
    return x


def dropout_forward(x, p, training=True, generator=None):
    r"""Inverted dropout: zero each entry with probability ``p``, scale the rest.

    .. math:: m_i = \frac{b_i}{1 - p},\quad b_i \sim \mathrm{Bernoulli}(1 - p)
              \text{ independently},\qquad y = x \odot m,

    so that :math:`\mathbb{E}[y_i] = x_i`. At evaluation time (``training=False``)
    or for ``p == 0`` the mask is all ones; for ``p == 1`` it is all zeros (every
    unit is dropped; nothing is divided by zero).

    Parameters
    ----------
    x : torch.Tensor, at least 1-D
        Activations. A non-floating input is converted to float64. Autograd
        flows through the returned ``out`` (the mask is a constant).
    p : float in [0, 1]
        Probability of dropping an entry (torch's convention, not the keep
        probability).
    training : bool, default True
        ``False`` makes the call the identity.
    generator : torch.Generator or None
        Source of the random numbers; ``None`` uses torch's default generator,
        as ``torch.rand`` does. No other random state is used.

    Returns
    -------
    out : torch.Tensor, same shape and dtype as ``x``
        ``x * mask``; a new tensor (``x`` is not modified). The exercise's contract also
        allows ``x`` itself when the mask is all ones, as ``torch.nn.functional.dropout``
        returns at evaluation.
    mask : torch.Tensor, same shape and dtype as ``x``
        Entries are exactly ``0`` or ``1 / (1 - p)``; keep it for the backward pass.

    Raises
    ------
    ValueError
        If ``p`` is not a number in [0, 1] or ``x`` is a scalar.
    """
    p = _check_p(p)
    x = _as_float_tensor(x)
    if not training or p == 0.0:
        mask = torch.ones_like(x)
    elif p == 1.0:
        mask = torch.zeros_like(x)
    else:
        # torch.rand is uniform on [0, 1): P(u < 1 - p) = 1 - p, the keep probability.
        u = torch.rand(x.shape, generator=generator, dtype=torch.float64, device=x.device)
        keep = (u < 1.0 - p).to(x.dtype)
        mask = keep / (1.0 - p)
    return x * mask, mask


def dropout_backward(grad_out, mask):
    r"""Gradient of :func:`dropout_forward` with respect to ``x``.

    .. math:: \frac{\partial L}{\partial x_i} = \frac{\partial L}{\partial y_i}\, m_i

    The forward pass is linear in ``x`` with the mask held fixed, so the gradient
    reuses the very mask of that forward call (a fresh mask would be wrong).

    Parameters
    ----------
    grad_out : torch.Tensor
        Upstream gradient :math:`\partial L / \partial y`, same shape as ``mask``.
    mask : torch.Tensor
        The ``mask`` returned by :func:`dropout_forward`.

    Returns
    -------
    torch.Tensor
        ``grad_out * mask``, a new tensor.

    Raises
    ------
    ValueError
        If the shapes differ.
    """
    grad_out = _as_float_tensor(grad_out, "grad_out")
    mask = _as_float_tensor(mask, "mask")
    if grad_out.shape != mask.shape:
        raise ValueError(
            f"grad_out and mask must have the same shape, got {tuple(grad_out.shape)} "
            f"and {tuple(mask.shape)}"
        )
    return grad_out * mask


class Dropout(torch.nn.Module):
    r"""Inverted dropout layer with the behaviour of :class:`torch.nn.Dropout`.

    In training mode each call draws a fresh mask through :func:`dropout_forward`
    (entries 0 or :math:`1/(1-p)`); in evaluation mode (``.eval()``) the layer is
    the identity. Gradients flow through autograd; the layer has no parameters.

    Parameters
    ----------
    p : float in [0, 1], default 0.5
        Drop probability.
    generator : torch.Generator or None, keyword-only
        Source of the masks; ``None`` uses torch's default generator.

    Raises
    ------
    ValueError
        If ``p`` is not a number in [0, 1].
    """

    def __init__(self, p=0.5, *, generator=None):
        super().__init__()
        self.p = _check_p(p)
        self.generator = generator

    def forward(self, x):
        out, _ = dropout_forward(x, self.p, training=self.training, generator=self.generator)
        return out

    def extra_repr(self):
        return f"p={self.p}"


def dropout2d_forward(x, p, training=True, generator=None):
    r"""Channel-wise (spatial) dropout: drop whole feature maps, scale the rest.

    .. math:: m_{nc} = \frac{b_{nc}}{1 - p},\quad b_{nc} \sim \mathrm{Bernoulli}(1 - p)
              \text{ independently},\qquad y_{nc\ldots} = x_{nc\ldots}\, m_{nc},

    one draw per (sample ``n``, channel ``c``), shared by every position of that feature map:
    ``torch.nn.Dropout2d`` for ``(N, C, H, W)`` input and ``torch.nn.Dropout1d`` for
    ``(N, C, L)`` input (``torch.nn.Dropout2d`` reads a 3-D input as one unbatched ``(C, H, W)``
    sample instead; here 3-D always means ``(N, C, L)``). Evaluation or ``p == 0``: a mask of
    ones; ``p == 1``: zeros, without dividing by zero.

    Parameters
    ----------
    x : torch.Tensor of shape (N, C, H, W) or (N, C, L)
        Feature maps. A non-floating input is converted to float64.
    p : float in [0, 1]
        Probability of dropping a feature map.
    training : bool, default True
        ``False`` makes the call the identity.
    generator : torch.Generator or None
        Source of the random numbers; ``None`` uses torch's default generator (then the
        draws equal ``torch.nn.functional.dropout2d``'s for the same seed).

    Returns
    -------
    out : torch.Tensor, same shape and dtype as ``x``
        ``x * mask`` (broadcast), a new tensor.
    mask : torch.Tensor of shape (N, C, 1, 1) or (N, C, 1), dtype of ``x``
        Entries exactly ``0`` or ``1 / (1 - p)``.

    Raises
    ------
    ValueError
        If ``p`` is not a number in [0, 1] or ``x`` is not 3-D or 4-D.
    """
    p = _check_p(p)
    x = _as_float_tensor(x)
    if x.dim() not in (3, 4):
        raise ValueError(f"x must have shape (N, C, H, W) or (N, C, L), got {x.dim()} dimension(s)")
    shape = (*x.shape[:2], *([1] * (x.dim() - 2)))
    if not training or p == 0.0:
        mask = torch.ones(shape, dtype=x.dtype, device=x.device)
    elif p == 1.0:
        mask = torch.zeros(shape, dtype=x.dtype, device=x.device)
    else:
        # torch's feature dropout draws the same way: bernoulli_(1 - p) on an (N, C, 1, ...) tensor.
        keep = torch.empty(shape, dtype=x.dtype, device=x.device).bernoulli_(1.0 - p, generator=generator)
        mask = keep / (1.0 - p)
    return x * mask, mask


def _is_dropout_layer(module):
    return isinstance(module, torch.nn.modules.dropout._DropoutNd)


def mc_dropout_predict(model, x, n_samples):
    r"""Monte Carlo dropout (Gal and Ghahramani, 2016): average stochastic forward passes.

    Every dropout layer of ``model`` (``torch.nn.Dropout``, ``Dropout1d/2d/3d``,
    ``AlphaDropout``, ...) is put in training mode and every other layer in evaluation mode
    (batch norm uses its running statistics, which do not change); then ``model(x)`` is
    called ``n_samples`` times, one call after the other, without autograd:

    .. math:: \hat\mu = \frac1T \sum_{t=1}^T f_t(x),\qquad
              \hat\sigma = \sqrt{\frac1T \sum_{t=1}^T \big(f_t(x) - \hat\mu\big)^2},

    with :math:`T` = ``n_samples`` and :math:`f_t` the network thinned by the masks of call
    :math:`t` (the standard deviation divides by :math:`T`, ``correction=0``). The masks come
    from torch's default generator, as in ``torch.nn.Dropout``: seed it with
    ``torch.manual_seed`` for reproducible results. Afterwards every submodule is back in the
    mode it had before the call, also when a forward pass raises.

    Parameters
    ----------
    model : torch.nn.Module
    x : torch.Tensor
        The input of ``model``.
    n_samples : int >= 1
        Number of stochastic forward passes :math:`T`.

    Returns
    -------
    mean, std : torch.Tensor, shape of ``model(x)``
        Mean and standard deviation (``correction=0``) over the samples; no autograd graph.

    Raises
    ------
    ValueError
        If ``n_samples`` is not an integer >= 1.
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) or n_samples < 1:
        raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}")
    modes = {module: module.training for module in model.modules()}
    try:
        model.eval()
        for module in model.modules():
            if _is_dropout_layer(module):
                module.train()
        with torch.no_grad():
            samples = torch.stack([model(x) for _ in range(int(n_samples))])
    finally:
        for module, mode in modes.items():  # one module at a time: .train(mode) would recurse
            module.training = mode
    return samples.mean(dim=0), samples.std(dim=0, correction=0)


def mcnemar(correct_a, correct_b):
    r"""McNemar's exact test of two classifiers scored on the same examples.

    Only the discordant examples carry information about which classifier is better: with
    :math:`n_a` examples right only with ``a`` and :math:`n_b` right only with ``b``, under the null
    hypothesis (same accuracy) each of the :math:`n = n_a + n_b` discordant examples is equally likely to
    favour either, so :math:`n_b \sim \mathrm{Binomial}(n, 1/2)`. The exact two-sided p-value is

    .. math:: p = \min\Bigl(1,\; 2 \sum_{k=0}^{\min(n_a, n_b)} \binom{n}{k} 2^{-n}\Bigr),

    (``scipy.stats.binomtest(n_b, n, 0.5).pvalue``), and :math:`p = 1` when :math:`n = 0`. The examples both
    classifiers get right, or both get wrong, do not enter the test.

    Parameters
    ----------
    correct_a, correct_b : 1-D bool tensors of the same length
        Whether classifier ``a`` (``b``) got each example right.

    Returns
    -------
    only_a : int
        Examples right with ``a`` and wrong with ``b``.
    only_b : int
        Examples right with ``b`` and wrong with ``a``.
    p_value : float
        The exact two-sided p-value.

    Raises
    ------
    ValueError
        If the inputs are not 1-D bool tensors of the same, non-zero, length.
    """
    for name, value in (("correct_a", correct_a), ("correct_b", correct_b)):
        if not isinstance(value, torch.Tensor) or value.dtype != torch.bool or value.dim() != 1:
            raise ValueError(f"{name} must be a 1-D bool tensor, got {type(value).__name__} "
                             f"{getattr(value, 'dtype', '')} {tuple(getattr(value, 'shape', ()))}")
    if correct_a.shape != correct_b.shape or correct_a.numel() == 0:
        raise ValueError(f"correct_a and correct_b must score the same, non-empty, set of examples, got lengths "
                         f"{correct_a.numel()} and {correct_b.numel()}")
    only_a = int((correct_a & ~correct_b).sum())
    only_b = int((correct_b & ~correct_a).sum())
    n = only_a + only_b
    tail = sum(math.comb(n, k) for k in range(min(only_a, only_b) + 1))  # exact integers
    return only_a, only_b, min(1.0, 2 * tail / 2**n)

"""Chapter 05-dropout: inverted dropout, as ``torch.nn.Dropout`` does it.

``p`` is the probability of DROPPING a unit (torch's and Keras' convention; the
CS231n assignments use the keep probability instead). Survivors are scaled by
``1 / (1 - p)`` during training so that the expected output equals the input, and
evaluation is the identity.
"""

import numbers

import torch

__all__ = ["Dropout", "dropout_backward", "dropout_forward"]


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
        ``x * mask``; a new tensor (``x`` is not modified).
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

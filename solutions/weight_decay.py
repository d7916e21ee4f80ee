"""Chapter 07-early-stopping: weight decay, coupled and decoupled, and the max-norm constraint.

One optimizer step written out as a pure function of tensors, so that it can be
compared with ``torch.optim.SGD``, ``torch.optim.Adam`` and ``torch.optim.AdamW``
step by step. Only :func:`max_norm_` changes its argument (in place, as its name
says, like ``torch.nn.init`` functions).
"""

import math
import numbers

import torch


def _check_nonnegative(value, name):
    is_real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not is_real or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _as_tensors(names, *tensors):
    """Detached copies of the arguments, checked to share one shape."""
    out = [torch.as_tensor(t).detach().clone() for t in tensors]
    for name, t in zip(names[1:], out[1:], strict=True):
        if t.shape != out[0].shape:
            expected = tuple(out[0].shape)
            raise ValueError(f"{name} must have the shape of {names[0]} {expected}, got {tuple(t.shape)}")
    return out


def l2_penalty(model, lam):
    r"""L2 penalty on the weight matrices and kernels of a model.

    .. math:: \Omega(\theta) = \frac{\lambda}{2} \sum_{W:\ \dim W > 1} \sum_{ij} W_{ij}^2

    Biases and the scales and shifts of normalization layers (1-D parameters)
    are left out: shrinking them does not reduce the model's capacity.

    Parameters
    ----------
    model : torch.nn.Module
    lam : float, >= 0
        The strength :math:`\lambda`.

    Returns
    -------
    torch.Tensor, 0-d
        Differentiable: add it to the loss. Its gradient is :math:`\lambda W`,
        the term ``torch.optim.SGD(weight_decay=lam)`` adds to the gradient.

    Raises
    ------
    ValueError
        If ``model`` is not a ``torch.nn.Module`` or ``lam`` is negative or not finite.
    """
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    lam = _check_nonnegative(lam, "lam")
    weights = [p for p in model.parameters() if p.dim() > 1]
    if not weights:
        return torch.zeros(())
    total = sum((w**2).sum() for w in weights)
    return lam / 2 * total


def sgd_step(param, grad, lr, weight_decay=0.0):
    r"""One step of plain SGD with (coupled) weight decay, as ``torch.optim.SGD``.

    .. math:: \theta \leftarrow \theta - \eta\,(g + \lambda\theta)
              = (1 - \eta\lambda)\,\theta - \eta g

    Adding :math:`\lambda\theta` to the gradient is the gradient of the penalty
    :math:`\tfrac{\lambda}{2}\lVert\theta\rVert^2`: for SGD, weight decay and an
    L2 penalty are the same thing.

    Parameters
    ----------
    param, grad : torch.Tensor, same shape
    lr : float, >= 0
    weight_decay : float, >= 0

    Returns
    -------
    torch.Tensor
        The new parameter (a new tensor; ``param`` is unchanged).

    Raises
    ------
    ValueError
        If the shapes differ or ``lr`` or ``weight_decay`` is negative.
    """
    lr = _check_nonnegative(lr, "lr")
    weight_decay = _check_nonnegative(weight_decay, "weight_decay")
    param, grad = _as_tensors(("param", "grad"), param, grad)
    direction = grad + weight_decay * param
    return param - lr * direction


def adam_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    r"""One Adam step, with weight decay coupled (Adam) or decoupled (AdamW).

    Coupled (``torch.optim.Adam(weight_decay=lam)``): :math:`g \leftarrow g + \lambda\theta`,
    then the Adam step. Decoupled (``torch.optim.AdamW``):
    :math:`\theta \leftarrow (1 - \eta\lambda)\,\theta`, then the Adam step on the raw
    gradient. The Adam step at step :math:`t` (1-based):

    .. math::
        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g^2, \\
        \theta \leftarrow \theta - \frac{\eta}{1 - \beta_1^t}\,
        \frac{m_t}{\sqrt{v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    With coupled decay the term :math:`\lambda\theta` is divided by
    :math:`\sqrt{\hat v_t}` like the rest of the gradient, so weights with large
    gradients are barely decayed (Loshchilov and Hutter, 2019).

    Parameters
    ----------
    param, grad, m, v : torch.Tensor, same shape
        Parameter, its gradient, and the first and second moment estimates before
        this step (zeros before step 1).
    t : int, >= 1
        Index of this step.
    lr : float, >= 0
    betas : tuple of float, each in [0, 1)
    eps : float, >= 0
        Added to :math:`\sqrt{\hat v_t}` (outside the square root, as torch does).
    weight_decay : float, >= 0
    decoupled : bool
        False: ``torch.optim.Adam``; True: ``torch.optim.AdamW``.

    Returns
    -------
    (param, m, v) : tuple of torch.Tensor
        New tensors; ``m`` and ``v`` are the raw moments :math:`m_t, v_t` (the
        optimizer's ``exp_avg`` and ``exp_avg_sq``), not the bias-corrected ones.

    Raises
    ------
    ValueError
        If the shapes differ, ``t`` is not an integer >= 1, a beta is outside
        [0, 1), or ``lr``, ``eps`` or ``weight_decay`` is negative.
    """
    if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < 1:
        raise ValueError(f"t must be an integer >= 1 (steps count from 1), got {t!r}")
    lr = _check_nonnegative(lr, "lr")
    eps = _check_nonnegative(eps, "eps")
    weight_decay = _check_nonnegative(weight_decay, "weight_decay")
    beta1, beta2 = (float(b) for b in betas)
    for name, beta in (("betas[0]", beta1), ("betas[1]", beta2)):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {beta!r}")
    param, grad, m, v = _as_tensors(("param", "grad", "m", "v"), param, grad, m, v)

    if decoupled:
        param = param * (1 - lr * weight_decay)
    else:
        grad = grad + weight_decay * param
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    bias_correction1 = 1 - beta1**t
    bias_correction2 = 1 - beta2**t
    denom = v.sqrt() / math.sqrt(bias_correction2) + eps
    param = param - lr / bias_correction1 * m / denom
    return param, m, v


# torch.renorm divides by (norm + 1e-7) so that a zero row never divides by zero.
_RENORM_EPS = 1e-7


def max_norm_(weight, max_value):
    r"""Clip, in place, the L2 norm of every row of a weight to ``max_value``.

    .. math:: w_i \leftarrow w_i \cdot
              \begin{cases} \dfrac{c}{\lVert w_i\rVert_2 + 10^{-7}} & \lVert w_i\rVert_2 > c \\
              1 & \text{otherwise} \end{cases}

    Row :math:`i` of a Linear weight ``(out, in)`` holds the incoming weights of
    output unit :math:`i`, the vector Keras' ``MaxNorm(c)`` constrains (its
    ``(in, out)`` kernel with ``axis=0``). Equal to ``torch.renorm(weight, 2, 0, c)``;
    applied after every optimizer step.

    Parameters
    ----------
    weight : torch.Tensor, shape (out, in, ...)
        Modified in place (under ``torch.no_grad``, so a Parameter works);
        trailing dimensions belong to each row, as in ``torch.renorm``.
    max_value : float, >= 0
        The largest allowed row norm :math:`c`.

    Returns
    -------
    torch.Tensor
        ``weight`` itself.

    Raises
    ------
    ValueError
        If ``weight`` has fewer than 2 dimensions or ``max_value`` is negative.
    """
    if not isinstance(weight, torch.Tensor) or weight.dim() < 2:
        raise ValueError(f"weight must be a tensor with at least 2 dimensions (out, in), got {weight!r}")
    max_value = _check_nonnegative(max_value, "max_value")
    with torch.no_grad():
        norms = weight.reshape(weight.shape[0], -1).norm(dim=1)
        factor = torch.where(norms > max_value, max_value / (norms + _RENORM_EPS), torch.ones_like(norms))
        weight.mul_(factor.reshape((-1,) + (1,) * (weight.dim() - 1)))
    return weight

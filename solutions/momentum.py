"""Chapter 04-lr-schedules: one step of SGD with momentum, as a pure function of tensors.

``torch.optim.SGD(params, lr, momentum, dampening, nesterov)`` keeps a *momentum buffer*
(the velocity) per parameter. :func:`sgd_momentum_step` takes the velocity as an argument
and returns the new one, so a training loop written with it gives the same parameters as
torch's optimizer, step after step, while every value stays visible. Nothing is modified in
place.
"""

import math
import numbers

import torch


def _check_real(value, name, minimum, strict=False, maximum=None):
    """``value`` as a float after checking it is a finite real in the allowed range."""
    is_real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not is_real or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < minimum or (strict and value == minimum) or (maximum is not None and value > maximum):
        low = f"> {minimum}" if strict else f">= {minimum}"
        high = f" and <= {maximum}" if maximum is not None else ""
        raise ValueError(f"{name} must be {low}{high}, got {value!r}")
    return float(value)


def _check_tensor(value, name, like=None):
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if like is not None and value.shape != like.shape:
        raise ValueError(f"{name} must have the shape of param {tuple(like.shape)}, got {tuple(value.shape)}")


def sgd_momentum_step(param, grad, velocity, lr, momentum, dampening=0.0, nesterov=False):
    r"""One step of ``torch.optim.SGD`` with momentum: returns ``(new_param, new_velocity)``.

    With :math:`\mu` = ``momentum``, :math:`\tau` = ``dampening``, :math:`\eta` = ``lr``
    and the gradient :math:`g`:

    .. math::

        v' = \begin{cases} g & \text{first step (``velocity`` is None)} \\
                           \mu v + (1 - \tau)\, g & \text{otherwise} \end{cases}
        \qquad
        d = \begin{cases} g + \mu v' & \text{nesterov} \\ v' & \text{otherwise} \end{cases}
        \qquad
        \theta' = \theta - \eta\, d

    The velocity is torch's ``momentum_buffer``: the rate is *not* inside it (Sutskever's
    :math:`v \leftarrow \mu v - \eta g` form differs as soon as the rate changes), and the
    first step copies the gradient without dampening, as torch does.

    Parameters
    ----------
    param, grad : torch.Tensor, same shape
        The parameter :math:`\theta` and its gradient :math:`g`.
    velocity : torch.Tensor of the shape of param, or None
        The velocity returned by the previous step; None on the first step.
    lr : float, >= 0
    momentum : float, > 0
        (With momentum 0 torch keeps no velocity: that is plain SGD.)
    dampening : float, in [0, 1]
    nesterov : bool
        Nesterov momentum; requires ``dampening == 0``.

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        The new parameter and the new velocity, new tensors in the dtype of ``param``,
        without autograd history.

    Raises
    ------
    ValueError
        If a tensor argument is not a tensor of the shape of ``param``, ``lr`` is negative,
        ``momentum`` is not positive, ``dampening`` is outside [0, 1], any of them is not
        finite, or ``nesterov`` is used with a dampening (torch's rule).
    """
    _check_tensor(param, "param")
    _check_tensor(grad, "grad", like=param)
    if velocity is not None:
        _check_tensor(velocity, "velocity", like=param)
    lr = _check_real(lr, "lr", 0.0)
    momentum = _check_real(momentum, "momentum", 0.0, strict=True)
    dampening = _check_real(dampening, "dampening", 0.0, maximum=1.0)
    if nesterov and dampening != 0.0:
        raise ValueError(f"nesterov momentum requires dampening == 0 (as in torch.optim.SGD), got {dampening!r}")
    # torch's own operations (``add`` with ``alpha`` rounds once, like the optimizer's ``add_``), on new tensors
    grad = grad.detach().to(param.dtype)
    if velocity is None:
        new_velocity = grad.clone()
    else:
        new_velocity = torch.add(velocity.detach().to(param.dtype) * momentum, grad, alpha=1.0 - dampening)
    direction = torch.add(grad, new_velocity, alpha=momentum) if nesterov else new_velocity
    new_param = torch.add(param.detach(), direction, alpha=-lr)
    return new_param, new_velocity

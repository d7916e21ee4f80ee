"""Chapter 04-lr-schedules: one step of SGD with momentum, as a pure function of tensors.

``torch.optim.SGD(params, lr, momentum, dampening, nesterov)`` keeps a *momentum buffer*
(the velocity) per parameter. :func:`sgd_momentum_step` takes the velocity as an argument
and returns the new one, so a training loop written with it gives the same parameters as
torch's optimizer, step after step, while every value stays visible. Nothing is modified in
place.
"""

import math
import numbers

import numpy as np
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


def largest_stable_lr(curvatures, momentum, nesterov=False):
    r"""The largest learning rate at which SGD with momentum converges on a quadratic bowl.

    On :math:`L(w) = \tfrac12 \sum_i \lambda_i w_i^2` every direction evolves on its own, and torch's
    momentum step (:func:`sgd_momentum_step`, no dampening) is a linear recursion in it. The recursion
    converges iff :math:`\eta\lambda_i` stays below the limit of its method, so the steepest direction
    :math:`\lambda_{\max} = \max_i \lambda_i` decides:

    .. math::

        \eta_{\max} = \frac{2(1 + \beta)}{\lambda_{\max}} \quad \text{(heavy ball)}, \qquad
        \eta_{\max} = \frac{2(1 + \beta)}{(1 + 2\beta)\,\lambda_{\max}} \quad \text{(Nesterov)}

    (from the characteristic polynomials :math:`z^2 - (1 + \beta - \eta\lambda) z + \beta` and
    :math:`z^2 - (1 + \beta - (1 + \beta)\eta\lambda) z + \beta(1 - \eta\lambda)`; both give
    :math:`2/\lambda_{\max}` without momentum). At :math:`\eta_{\max}` itself the iterate oscillates
    without shrinking; every smaller positive rate converges.

    Parameters
    ----------
    curvatures : float or array_like of float
        The curvatures :math:`\lambda_i > 0` of the bowl (the eigenvalues of its Hessian).
    momentum : float, in [0, 1)
        :math:`\beta` (with :math:`\beta \ge 1` no rate converges).
    nesterov : bool
        Nesterov momentum (``torch.optim.SGD(..., nesterov=True)``) instead of the heavy ball.

    Returns
    -------
    float
        :math:`\eta_{\max}`.

    Raises
    ------
    ValueError
        If ``curvatures`` is empty, not finite or not positive, ``momentum`` is not a finite number
        in [0, 1), or ``nesterov`` is not a bool.
    """
    lam = np.array(curvatures, dtype=np.float64, copy=True).ravel()
    if lam.size == 0 or not np.all(np.isfinite(lam)) or np.any(lam <= 0):
        raise ValueError(f"curvatures must be finite positive numbers, got {curvatures!r}")
    beta = _check_real(momentum, "momentum", 0.0)
    if beta >= 1.0:
        raise ValueError(f"momentum must be < 1 (no learning rate converges otherwise), got {momentum!r}")
    if not isinstance(nesterov, (bool, np.bool_)):
        raise ValueError(f"nesterov must be a bool, got {nesterov!r}")
    limit = 2.0 * (1.0 + beta) / float(lam.max())
    return limit / (1.0 + 2.0 * beta) if nesterov else limit

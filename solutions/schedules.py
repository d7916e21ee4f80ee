"""Chapter 04-lr-schedules: learning-rate schedules as pure functions of the step, and as a scheduler.

Each function returns the learning rate that the matching
``torch.optim.lr_scheduler`` class puts in the optimizer after ``step`` calls of
``scheduler.step()`` (one call per epoch, or per batch, after ``optimizer.step()``):
step 0 is the rate used for the very first update. torch computes most of these
rates recursively from the previous one; the closed forms below give the same
numbers without the accumulated rounding error.

:class:`WarmupCosine` is :func:`warmup_cosine` as a real ``LRScheduler``: it drives
an optimizer's ``param_groups`` like any torch scheduler.
"""

import math
import numbers

from torch.optim.lr_scheduler import LRScheduler


def _check_step(step):
    """Return ``step`` as a float after checking it is a finite real >= 0."""
    if isinstance(step, bool) or not isinstance(step, numbers.Real):
        raise ValueError(f"step must be a real number, got {step!r}")
    if not math.isfinite(step) or step < 0:
        raise ValueError(f"step must be finite and >= 0, got {step!r}")
    return step


def _check_nonnegative(value, name):
    """Check that ``value`` is a finite real number >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")


def _check_positive_int(value, name, minimum=1):
    """Check that ``value`` is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _cosine(fraction, base_lr, eta_min):
    """Half-cosine from ``base_lr`` (fraction 0) down to ``eta_min`` (fraction 1)."""
    # Same order of operations as torch's closed forms, so equal inputs give equal floats.
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * fraction)) / 2


def step_decay(step, base_lr, step_size, gamma=0.1):
    r"""Learning rate of ``torch.optim.lr_scheduler.StepLR`` after ``step`` steps.

    .. math:: \eta_t = \eta_0 \, \gamma^{\lfloor t / s \rfloor}

    The first decay happens at ``step == step_size``, not before.

    Parameters
    ----------
    step : int or float, >= 0
        Number of ``scheduler.step()`` calls so far (epochs, or batches).
    base_lr : float, >= 0
        Initial learning rate :math:`\eta_0`.
    step_size : int, >= 1
        Period :math:`s` of the decay.
    gamma : float, > 0
        Multiplicative factor applied every ``step_size`` steps.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``step`` or ``base_lr`` is negative or not finite, ``step_size`` is not
        a positive integer, or ``gamma`` is not a finite positive number.
    """
    step = _check_step(step)
    _check_nonnegative(base_lr, "base_lr")
    _check_positive_int(step_size, "step_size")
    _check_nonnegative(gamma, "gamma")
    if gamma == 0:
        raise ValueError(f"gamma must be > 0, got {gamma!r}")
    return float(base_lr * gamma ** (step // step_size))


def exponential_decay(step, base_lr, gamma):
    r"""Learning rate of ``torch.optim.lr_scheduler.ExponentialLR`` after ``step`` steps.

    .. math:: \eta_t = \eta_0 \, \gamma^{t}

    Step 0 is undecayed: the first update uses ``base_lr`` itself.

    Parameters
    ----------
    step : int or float, >= 0
        Number of ``scheduler.step()`` calls so far.
    base_lr : float, >= 0
        Initial learning rate :math:`\eta_0`.
    gamma : float, > 0
        Multiplicative factor applied at every step.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``step`` or ``base_lr`` is negative or not finite, or ``gamma`` is not a
        finite positive number.
    """
    step = _check_step(step)
    _check_nonnegative(base_lr, "base_lr")
    _check_nonnegative(gamma, "gamma")
    if gamma == 0:
        raise ValueError(f"gamma must be > 0, got {gamma!r}")
    return float(base_lr * gamma**step)


def cosine_annealing(step, base_lr, T_max, eta_min=0.0):
    r"""Learning rate of ``torch.optim.lr_scheduler.CosineAnnealingLR`` after ``step`` steps.

    .. math:: \eta_t = \eta_{\min} + \tfrac{1}{2}(\eta_0 - \eta_{\min})
              \left(1 + \cos\frac{\pi t}{T_{\max}}\right)

    The rate starts at ``base_lr`` and reaches ``eta_min`` exactly at
    ``step == T_max``. Past ``T_max`` the formula keeps going (the rate rises
    again, with period ``2 * T_max``), as torch does; there is no restart.

    Parameters
    ----------
    step : int or float, >= 0
        Number of ``scheduler.step()`` calls so far.
    base_lr : float, >= 0
        Initial (largest) learning rate :math:`\eta_0`.
    T_max : int, >= 1
        Number of steps of the half cosine.
    eta_min : float, >= 0
        Smallest learning rate, reached at ``T_max``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``step``, ``base_lr`` or ``eta_min`` is negative or not finite, or
        ``T_max`` is not a positive integer.
    """
    step = _check_step(step)
    _check_nonnegative(base_lr, "base_lr")
    _check_positive_int(T_max, "T_max")
    _check_nonnegative(eta_min, "eta_min")
    return float(_cosine(step / T_max, base_lr, eta_min))


def _restart_cycle(step, T_0, T_mult):
    """Return ``(T_cur, T_i)``: steps since the last restart and length of the current cycle.

    Cycle ``i`` starts at ``T_0 * (1 + T_mult + ... + T_mult**(i-1))``. The start is
    found by adding integer cycle lengths, never by a floating-point logarithm, so a
    step that falls exactly on a restart always begins the new cycle.
    """
    if T_mult == 1:
        n_restarts = step // T_0
        return step - n_restarts * T_0, T_0
    start, length = 0, T_0
    while step >= start + length:
        start += length
        length *= T_mult
    return step - start, length


def cosine_warm_restarts(step, base_lr, T_0, T_mult=1, eta_min=0.0):
    r"""Learning rate of ``torch.optim.lr_scheduler.CosineAnnealingWarmRestarts`` (SGDR).

    .. math:: \eta_t = \eta_{\min} + \tfrac{1}{2}(\eta_0 - \eta_{\min})
              \left(1 + \cos\frac{\pi T_{cur}}{T_i}\right),\quad
              T_i = T_0 T_{mult}^{\,i}

    where :math:`i` is the number of restarts before ``step`` and :math:`T_{cur}`
    the number of steps since the last one. Restarts happen at
    :math:`T_0 (1 + T_{mult} + \dots + T_{mult}^{i-1})`, e.g. 3, 9, 21, 45 for
    ``T_0=3, T_mult=2``; at a restart the rate jumps back to ``base_lr``, so
    ``eta_min`` itself is never reached at an integer step. A fractional ``step``
    (``epoch + batch / n_batches``, as in ``scheduler.step(epoch)``) is allowed.

    Parameters
    ----------
    step : int or float, >= 0
        Number of steps (or fractional epochs) since the start.
    base_lr : float, >= 0
        Learning rate at every restart, :math:`\eta_0`.
    T_0 : int, >= 1
        Length of the first cycle.
    T_mult : int, >= 1
        Factor by which each cycle is longer than the previous one.
    eta_min : float, >= 0
        Lower end of every cosine.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``step``, ``base_lr`` or ``eta_min`` is negative or not finite, or
        ``T_0`` or ``T_mult`` is not a positive integer.

    Notes
    -----
    torch's ``scheduler.step(epoch)`` finds the cycle with ``int(math.log(...))``,
    which rounds down at some exact restarts (``math.log(243, 3)`` is
    4.999999999999999), so ``step(363)`` with ``T_0=3, T_mult=3`` gives ``eta_min``.
    This function returns ``base_lr`` there, as torch's plain ``step()`` path does.
    """
    step = _check_step(step)
    _check_nonnegative(base_lr, "base_lr")
    _check_positive_int(T_0, "T_0")
    _check_positive_int(T_mult, "T_mult")
    _check_nonnegative(eta_min, "eta_min")
    T_cur, T_i = _restart_cycle(step, T_0, T_mult)
    return float(_cosine(T_cur / T_i, base_lr, eta_min))


def _check_warmup_cosine(warmup_steps, total_steps, start_factor, eta_min):
    """The checks shared by :func:`warmup_cosine` and :class:`WarmupCosine`."""
    _check_positive_int(warmup_steps, "warmup_steps")
    _check_positive_int(total_steps, "total_steps", minimum=warmup_steps + 1)
    _check_nonnegative(start_factor, "start_factor")
    if not 0 < start_factor <= 1:
        raise ValueError(f"start_factor must be in (0, 1], got {start_factor!r}")
    _check_nonnegative(eta_min, "eta_min")


def warmup_cosine(step, base_lr, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    r"""Linear warm-up followed by cosine annealing, then ``eta_min`` for good.

    For ``0 <= step <= total_steps`` equal to ``SequentialLR([LinearLR(start_factor, 1.0,
    warmup_steps), CosineAnnealingLR(total_steps - warmup_steps, eta_min)], milestones=[warmup_steps])``:

    .. math:: \eta_t = \begin{cases}
              \eta_0 \left(f + (1 - f)\,\frac{t}{W}\right) & t < W \\
              \eta_{\min} + \tfrac{1}{2}(\eta_0 - \eta_{\min})
              \left(1 + \cos\frac{\pi (t - W)}{T - W}\right) & W \le t \le T \\
              \eta_{\min} & t > T
              \end{cases}

    with :math:`f` = ``start_factor``, :math:`W` = ``warmup_steps`` and :math:`T` =
    ``total_steps``. Warm-up starts at ``start_factor * base_lr`` (not 0), reaches
    ``base_lr`` at step ``W`` and the cosine ends at ``eta_min`` at step ``T``.
    Past ``T`` the rate stays at ``eta_min`` (the course's choice: a loop that runs a
    few steps too long keeps the smallest rate), where torch's ``SequentialLR`` would
    let the cosine rise again.

    Parameters
    ----------
    step : int or float, >= 0
        Number of ``scheduler.step()`` calls so far.
    base_lr : float, >= 0
        Peak learning rate :math:`\eta_0`.
    warmup_steps : int, >= 1
        Length :math:`W` of the linear warm-up.
    total_steps : int, > warmup_steps
        Step :math:`T` at which the cosine reaches ``eta_min``.
    start_factor : float, 0 < start_factor <= 1
        Fraction of ``base_lr`` used at step 0.
    eta_min : float, >= 0
        Learning rate at ``total_steps`` and after it.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``step``, ``base_lr`` or ``eta_min`` is negative or not finite,
        ``warmup_steps`` is not a positive integer, ``total_steps`` is not an
        integer larger than ``warmup_steps``, or ``start_factor`` is outside (0, 1].
    """
    step = _check_step(step)
    _check_nonnegative(base_lr, "base_lr")
    _check_warmup_cosine(warmup_steps, total_steps, start_factor, eta_min)
    if step < warmup_steps:
        return float(base_lr * (start_factor + (1.0 - start_factor) * step / warmup_steps))
    if step >= total_steps:
        return float(eta_min)
    return float(_cosine((step - warmup_steps) / (total_steps - warmup_steps), base_lr, eta_min))


class WarmupCosine(LRScheduler):
    r"""Linear warm-up then cosine annealing, as a ``torch.optim.lr_scheduler.LRScheduler``.

    After ``t`` calls of ``step()`` (``t = self.last_epoch``) param group ``i`` of the
    optimizer has the rate ``warmup_cosine(t, base_lrs[i], warmup_steps, total_steps,
    start_factor, eta_min)``, where ``base_lrs[i]`` is the group's rate when the
    scheduler was created: the same rates as ``SequentialLR([LinearLR(optimizer,
    start_factor, 1.0, warmup_steps), CosineAnnealingLR(optimizer, total_steps -
    warmup_steps, eta_min)], milestones=[warmup_steps])`` for ``t <= total_steps``, and
    ``eta_min`` after it.

    :meth:`get_lr` is the closed form: it reads ``self.last_epoch`` and ``self.base_lrs``
    only, never the optimizer's current rates, so a scheduler restored with
    ``load_state_dict`` (or with ``last_epoch`` set) continues the schedule exactly.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
    warmup_steps : int, >= 1
    total_steps : int, > warmup_steps
    start_factor : float, 0 < start_factor <= 1
    eta_min : float, >= 0

    Raises
    ------
    ValueError
        For the arguments :func:`warmup_cosine` rejects, before the optimizer is touched.
    """

    def __init__(self, optimizer, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
        _check_warmup_cosine(warmup_steps, total_steps, start_factor, eta_min)
        # LRScheduler.__init__ calls step(), hence get_lr(): the settings must exist before it.
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps
        self.start_factor = start_factor
        self.eta_min = eta_min
        super().__init__(optimizer)

    def get_lr(self):
        """The rate of every param group after ``self.last_epoch`` steps (a list, one per group)."""
        return [warmup_cosine(self.last_epoch, base_lr, self.warmup_steps, self.total_steps, self.start_factor,
                              self.eta_min) for base_lr in self.base_lrs]

"""Chapter 06-batch-norm: batch normalization of fully connected activations.

The semantics are those of :class:`torch.nn.BatchNorm1d` on an ``(N, D)`` input
(Ioffe and Szegedy, 2015):

* training normalizes every feature with the mean and the *biased* variance of
  the mini-batch, ``eps`` inside the square root, then scales by ``gamma`` and
  shifts by ``beta``;
* the running statistics follow ``new = (1 - momentum) * old + momentum * batch``,
  where the batch variance is the *unbiased* one (divided by ``N - 1``);
* evaluation normalizes with the running statistics and leaves them unchanged.

:func:`batchnorm_forward` and :func:`batchnorm_backward` are the layer written
by hand (forward with a cache, backward from the cache); :class:`BatchNorm1d`
is the module, trained through autograd. :func:`largest_trainable_lr` reads a
learning-rate sweep (the chapter's "Larger learning rates").
"""

import math
import numbers

import torch

__all__ = ["batchnorm_forward", "batchnorm_backward", "BatchNorm1d", "largest_trainable_lr"]


def _as_tensor(value, name, ndim, dtype=None):
    """Return ``value`` as a floating tensor with ``ndim`` dimensions, without copying it.

    Nothing here writes into the result, so no copy is needed to protect the caller;
    autograd history is kept so that the module can train through the functions.
    """
    tensor = torch.as_tensor(value)
    if dtype is not None:
        tensor = tensor.to(dtype)
    elif not tensor.is_floating_point():
        tensor = tensor.to(torch.float64)
    if tensor.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {tuple(tensor.shape)}")
    if not bool(torch.isfinite(tensor.detach()).all()):
        raise ValueError(f"{name} contains NaN or infinity")
    return tensor


def _check_momentum(momentum):
    if (
        isinstance(momentum, bool)
        or not isinstance(momentum, numbers.Real)
        or not 0.0 <= float(momentum) <= 1.0
    ):
        raise ValueError(f"momentum must be a number in [0, 1], got {momentum!r}")
    return float(momentum)


def _check_eps(eps):
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not 0.0 <= float(eps) < math.inf:
        raise ValueError(f"eps must be a finite number >= 0, got {eps!r}")
    return float(eps)


def _check_training_call(shape, eps):
    """What training needs beyond valid shapes: two samples and a positive eps, as in torch."""
    if shape[0] < 2:
        raise ValueError(
            "Expected more than 1 value per channel when training: training needs at least 2 samples per "
            f"feature, got input of shape {tuple(shape)}"
        )
    if eps == 0.0:
        raise ValueError("eps must be positive in training (a constant feature would give 0 / 0), got 0.0")


def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
    r"""Batch-normalize ``x`` feature by feature and update the running statistics.

    Training, with batch size :math:`N`:

    .. math::
        \mu = \frac{1}{N}\sum_{i} x_i,\quad
        \sigma^2 = \frac{1}{N}\sum_{i} (x_i - \mu)^2,\quad
        \hat x_i = \frac{x_i - \mu}{\sqrt{\sigma^2 + \epsilon}},\quad
        y_i = \gamma \hat x_i + \beta

    .. math::
        \mu_{run} \leftarrow (1 - m)\,\mu_{run} + m\,\mu,\quad
        \sigma^2_{run} \leftarrow (1 - m)\,\sigma^2_{run} + m\,\frac{N}{N - 1}\sigma^2

    Evaluation: :math:`y = \gamma (x - \mu_{run}) / \sqrt{\sigma^2_{run} + \epsilon} + \beta`,
    running statistics unchanged.

    Parameters
    ----------
    x : torch.Tensor, shape (N, D)
        Mini-batch; an integer tensor is converted to float64.
    gamma, beta : torch.Tensor, shape (D,)
        Scale and shift (``weight`` and ``bias`` of :class:`torch.nn.BatchNorm1d`).
    running_mean, running_var : torch.Tensor, shape (D,)
        Running statistics before this call (torch starts them at 0 and 1).
    training : bool
        Use the batch statistics and update the running ones (True), or
        normalize with the running statistics (False).
    momentum : float in [0, 1]
        Weight ``m`` of the *new* batch statistic in the running average
        (torch's convention; Keras' ``momentum`` is ``1 - m``).
    eps : float >= 0, > 0 in training
        Added to the variance inside the square root. Training refuses ``eps = 0``,
        as torch does: a feature that is constant over the batch would divide 0 by 0.

    Returns
    -------
    out : torch.Tensor, shape (N, D)
        Normalized, scaled and shifted batch, with autograd history to ``x``,
        ``gamma`` and ``beta``.
    new_running_mean, new_running_var : torch.Tensor, shape (D,)
        Updated running statistics (new tensors, detached from the graph); in
        evaluation, copies of the inputs.
    cache : dict
        What :func:`batchnorm_backward` needs: ``xhat`` (N, D), ``gamma`` (D,), ``inv_std``
        (D,), :math:`1/\sqrt{\sigma^2+\epsilon}` of the statistics used, all detached, and
        ``training``. The exercise's cache is the same dict without ``training`` (its
        backward is that of a training pass).

    Raises
    ------
    ValueError
        If the shapes disagree, an input is not finite, ``momentum`` is outside
        [0, 1], ``eps`` is negative (or 0 in training), or ``N < 2`` in training
        (the unbiased variance of one sample is undefined; torch refuses it too).
    """
    momentum = _check_momentum(momentum)
    eps = _check_eps(eps)
    x = _as_tensor(x, "x", ndim=2)
    n_samples, n_features = x.shape
    params = {}
    for name, value in [
        ("gamma", gamma),
        ("beta", beta),
        ("running_mean", running_mean),
        ("running_var", running_var),
    ]:
        params[name] = _as_tensor(value, name, ndim=1, dtype=x.dtype)
        if params[name].shape[0] != n_features:
            raise ValueError(
                f"{name} must have shape ({n_features},) to match x of shape {tuple(x.shape)}, "
                f"got {tuple(params[name].shape)}"
            )
    gamma, beta = params["gamma"], params["beta"]
    running_mean = params["running_mean"].detach()
    running_var = params["running_var"].detach()
    if bool((running_var < 0).any()):
        raise ValueError("running_var must be non-negative")

    if training:
        _check_training_call(x.shape, eps)
        mean = x.mean(dim=0)
        centered = x - mean
        var = (centered**2).mean(dim=0)  # biased: divide by N
        inv_std = torch.rsqrt(var + eps)
        batch_mean = mean.detach()
        batch_var_unbiased = var.detach() * (n_samples / (n_samples - 1))
        new_running_mean = (1.0 - momentum) * running_mean + momentum * batch_mean
        new_running_var = (1.0 - momentum) * running_var + momentum * batch_var_unbiased
    else:
        centered = x - running_mean
        inv_std = torch.rsqrt(running_var + eps)
        new_running_mean = running_mean.clone()
        new_running_var = running_var.clone()

    xhat = centered * inv_std
    out = gamma * xhat + beta
    cache = {
        "xhat": xhat.detach(),
        "gamma": gamma.detach(),
        "inv_std": inv_std.detach(),
        "training": bool(training),
    }
    return out, new_running_mean, new_running_var, cache


def batchnorm_backward(grad_out, cache):
    r"""Gradients of :func:`batchnorm_forward` with respect to ``x``, ``gamma`` and ``beta``.

    With :math:`g = \partial L/\partial y` and :math:`\hat g = g\,\gamma`, in training
    (the batch mean and variance depend on every :math:`x_i`):

    .. math::
        \frac{\partial L}{\partial x} = \frac{1}{N\sqrt{\sigma^2+\epsilon}}
        \Big(N \hat g - \sum_i \hat g_i - \hat x \sum_i \hat g_i \hat x_i\Big),\quad
        \frac{\partial L}{\partial \gamma} = \sum_i g_i \hat x_i,\quad
        \frac{\partial L}{\partial \beta} = \sum_i g_i

    In evaluation the statistics are constants and
    :math:`\partial L/\partial x = \hat g / \sqrt{\sigma^2_{run}+\epsilon}`.

    Parameters
    ----------
    grad_out : torch.Tensor, shape (N, D)
        Upstream gradient :math:`\partial L/\partial y`.
    cache : dict
        The cache returned by :func:`batchnorm_forward`: ``xhat``, ``gamma`` and ``inv_std``,
        plus ``training`` (a cache without it is that of a training pass, as in the exercise).

    Returns
    -------
    dx : torch.Tensor, shape (N, D)
    dgamma, dbeta : torch.Tensor, shape (D,)

    Raises
    ------
    ValueError
        If ``cache`` is not a cache of :func:`batchnorm_forward`, or ``grad_out``
        is not finite or does not have the shape of the forward output.
    """
    keys = {"xhat", "gamma", "inv_std"}
    if not isinstance(cache, dict) or not keys <= cache.keys():
        raise ValueError(f"cache must be the dict returned by batchnorm_forward, with keys {sorted(keys)}")
    xhat, gamma, inv_std = cache["xhat"], cache["gamma"], cache["inv_std"]
    training = bool(cache.get("training", True))
    grad_out = _as_tensor(grad_out, "grad_out", ndim=2, dtype=xhat.dtype)
    if grad_out.shape != xhat.shape:
        raise ValueError(
            f"grad_out must have the shape of the forward output {tuple(xhat.shape)}, "
            f"got {tuple(grad_out.shape)}"
        )
    grad_out = grad_out.detach()
    n_samples = xhat.shape[0]

    dbeta = grad_out.sum(dim=0)
    dgamma = (grad_out * xhat).sum(dim=0)
    dxhat = grad_out * gamma
    if training:
        dx = (inv_std / n_samples) * (n_samples * dxhat - dxhat.sum(dim=0) - xhat * (dxhat * xhat).sum(dim=0))
    else:
        dx = dxhat * inv_std
    return dx, dgamma, dbeta


class BatchNorm1d(torch.nn.Module):
    r"""Batch normalization over the features of an ``(N, D)`` input, like :class:`torch.nn.BatchNorm1d`.

    Training: :math:`y = \gamma\,(x - \mu_B)/\sqrt{\sigma^2_B + \epsilon} + \beta` with the
    batch mean and biased variance, and the running statistics updated with
    ``new = (1 - momentum) * old + momentum * batch`` (unbiased batch variance).
    Evaluation (after ``.eval()``): the running statistics replace the batch ones.

    Parameters
    ----------
    num_features : int
        Number of features ``D``.
    eps : float >= 0
        Added to the variance inside the square root; training needs ``eps > 0``.
    momentum : float in [0, 1] or None
        Weight of the new batch statistic in the running average; ``None`` gives
        the cumulative average over all batches seen (weight ``1 / t`` at batch ``t``),
        as in torch.

    Attributes
    ----------
    weight, bias : torch.nn.Parameter, shape (D,)
        :math:`\gamma` (ones) and :math:`\beta` (zeros) at initialization.
    running_mean, running_var : buffer, shape (D,)
        Zeros and ones at initialization.
    num_batches_tracked : buffer, int64 scalar
        Training batches seen, as in torch (it sets the weight when ``momentum`` is None).

    Raises
    ------
    ValueError
        At construction, for a non-positive ``num_features``, a negative ``eps`` or
        a ``momentum`` outside [0, 1]; in ``forward``, for an input that is not
        ``(N, num_features)``, or ``N < 2`` or ``eps = 0`` in training.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        if (
            isinstance(num_features, bool)
            or not isinstance(num_features, numbers.Integral)
            or num_features < 1
        ):
            raise ValueError(f"num_features must be a positive integer, got {num_features!r}")
        self.num_features = int(num_features)
        self.eps = _check_eps(eps)
        self.momentum = None if momentum is None else _check_momentum(momentum)
        self.weight = torch.nn.Parameter(torch.ones(self.num_features))
        self.bias = torch.nn.Parameter(torch.zeros(self.num_features))
        self.register_buffer("running_mean", torch.zeros(self.num_features))
        self.register_buffer("running_var", torch.ones(self.num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def forward(self, x):
        x = torch.as_tensor(x)
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(f"expected input of shape (N, {self.num_features}), got {tuple(x.shape)}")
        if self.training:
            # checked before counting the batch, so that a refused call leaves no trace
            _check_training_call(x.shape, self.eps)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked)
        out, new_mean, new_var, _ = batchnorm_forward(
            x,
            self.weight,
            self.bias,
            self.running_mean,
            self.running_var,
            training=self.training,
            momentum=momentum,
            eps=self.eps,
        )
        if self.training:
            with torch.no_grad():
                self.running_mean.copy_(new_mean)
                self.running_var.copy_(new_var)
        return out

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


def largest_trainable_lr(lrs, curves, threshold):
    r"""The largest learning rate of a sweep whose run trained.

    The run at ``lrs[i]`` *trained* when the last value of its loss curve ``curves[i]`` is strictly
    below the threshold; a diverged run ends in NaN or infinity, which is never below it:

    .. math:: \eta^* = \max\{\eta_i : L_i[-1] < \tau\},

    with ``None`` when no run trained. The learning rates need not be sorted, and the answer need not
    be followed by failures only: a run can fail between two that train (trainability is measured,
    not assumed monotone).

    Parameters
    ----------
    lrs : sequence of float
        The learning rates of the sweep (positive).
    curves : sequence of sequences of float
        ``curves[i]``: the loss after each epoch of the run at ``lrs[i]`` (at least one value).
    threshold : float
        A run trained when its last loss is strictly below it.

    Returns
    -------
    float or None
        The largest learning rate whose run trained, or ``None``.

    Raises
    ------
    ValueError
        If ``lrs`` is empty, ``lrs`` and ``curves`` differ in length, a curve is empty, or a learning
        rate is not a positive finite number.
    """
    rates = [float(lr) for lr in lrs]
    runs = [[float(v) for v in curve] for curve in curves]
    if not rates:
        raise ValueError("lrs is empty: a sweep needs at least one learning rate")
    if len(rates) != len(runs):
        raise ValueError(f"one loss curve per learning rate: got {len(rates)} learning rates and {len(runs)} curves")
    if any(not run for run in runs):
        raise ValueError("every loss curve needs at least one value")
    if any(not (math.isfinite(lr) and lr > 0) for lr in rates):
        raise ValueError(f"learning rates must be positive and finite, got {rates}")
    trained = [lr for lr, run in zip(rates, runs, strict=True) if run[-1] < float(threshold)]  # NaN < t is False
    return max(trained) if trained else None

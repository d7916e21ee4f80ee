"""Chapter 07-early-stopping: stop training when a validation metric stops improving.

:class:`EarlyStopping` follows the semantics of ``keras.callbacks.EarlyStopping``
(``monitor="val_loss"`` or a metric to maximize), with the best weights kept as a
deep copy of the model's ``state_dict`` (Keras' ``restore_best_weights``).
"""

import copy
import math
import numbers

_MODES = ("min", "max")


class EarlyStopping:
    r"""Decide, once per epoch, whether training should stop.

    An epoch *improves* when its value beats the best value so far by more than
    ``min_delta`` (strictly, so a tie is not an improvement):

    .. math:: \text{mode "min": } v_t + \delta < b, \qquad
              \text{mode "max": } v_t - \delta > b,

    where :math:`b` starts at :math:`+\infty` ("min") or :math:`-\infty` ("max").
    On an improvement :math:`b \leftarrow v_t` and the wait counter resets to 0;
    otherwise it grows by one, and training should stop as soon as
    :math:`\text{wait} \ge \text{patience}`.

    Parameters
    ----------
    patience : int, default 5
        Number of epochs without improvement tolerated; 0 stops at the first one.
    min_delta : float, default 0.0
        Smallest change of the monitored value that counts as an improvement.
    mode : {"min", "max"}, default "min"
        "min" for a loss, "max" for an accuracy.
    restore_best_weights : bool, default True
        Keep a deep copy of the model's ``state_dict`` at the best epoch, for
        :meth:`restore`.

    Attributes
    ----------
    best : float
        Best value seen so far (``inf`` / ``-inf`` before the first epoch).
    best_epoch : int or None
        0-based epoch of ``best`` (``None`` before the first improvement).
    wait : int
        Epochs since the last improvement.
    epoch : int
        Number of values seen so far (the next epoch's 0-based index).
    best_state : dict or None
        Deep copy of the model's ``state_dict`` at ``best_epoch``.

    Raises
    ------
    ValueError
        If ``patience`` is not a non-negative integer, ``min_delta`` is negative or
        not finite, or ``mode`` is not "min" or "max".

    Notes
    -----
    ``step`` never changes the model: Keras restores the best weights itself at the
    end of ``fit``; here the training loop calls :meth:`restore` after its last epoch.
    A NaN value never improves (it counts as a bad epoch), as in Keras.
    """

    def __init__(self, patience=5, min_delta=0.0, mode="min", restore_best_weights=True):
        if isinstance(patience, bool) or not isinstance(patience, numbers.Integral) or patience < 0:
            raise ValueError(f"patience must be a non-negative integer, got {patience!r}")
        if not math.isfinite(float(min_delta)) or min_delta < 0:
            raise ValueError(f"min_delta must be a finite number >= 0, got {min_delta!r}")
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.mode = mode
        self.restore_best_weights = bool(restore_best_weights)
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = None
        self.wait = 0
        self.epoch = 0
        self.best_state = None

    def _improves(self, value):
        # Keras' form (value shifted by min_delta, then compared with best), so that
        # rounding at the boundary agrees with it. NaN compares False: no improvement.
        if self.mode == "min":
            return value + self.min_delta < self.best
        return value - self.min_delta > self.best

    def step(self, value, model=None):
        """Record one epoch's monitored value; return True when training should stop.

        Parameters
        ----------
        value : float
            The epoch's validation metric (a 0-d tensor or array is accepted).
        model : torch.nn.Module, optional
            When given and ``restore_best_weights`` is True, its ``state_dict`` is
            deep-copied at every improvement.

        Returns
        -------
        bool
            True when this epoch did not improve and ``wait >= patience``; an
            improving epoch never stops training (so ``patience=0`` stops at the
            first epoch without improvement, as in Keras).
        """
        value = float(value)
        if self._improves(value):
            self.best = value
            self.best_epoch = self.epoch
            self.wait = 0
            if model is not None and self.restore_best_weights:
                # state_dict() returns views of the live tensors: copy them.
                self.best_state = copy.deepcopy(model.state_dict())
            self.epoch += 1
            return False
        self.wait += 1
        self.epoch += 1
        return self.wait >= self.patience

    def restore(self, model):
        """Load the best epoch's weights into ``model`` (a deep copy, not an alias).

        Returns
        -------
        model
            The same module, with the weights of ``best_epoch``.

        Raises
        ------
        ValueError
            If no weights were recorded (``restore_best_weights=False``, or ``step``
            was never given a model on an improving epoch).
        """
        if self.best_state is None:
            raise ValueError(
                "no best weights recorded: pass the model to step() with restore_best_weights=True"
            )
        model.load_state_dict(copy.deepcopy(self.best_state))
        return model


def early_stopping_plan(train_losses, val_losses, patience, min_delta=0.0):
    r"""Read a finished run's loss curves as early stopping would: when it stops, what it restores, and how to
    use the validation data afterwards (Goodfellow et al., Algorithms 7.2 and 7.3).

    The rule is :class:`EarlyStopping`'s (mode "min"): epoch :math:`t` (0-based) improves when
    :math:`v_t + \delta < b`, with :math:`b` the best value so far (starting at :math:`+\infty`); the wait counter
    resets on an improvement and grows by one otherwise, and training stops after the first epoch with
    :math:`\text{wait} \ge \text{patience}`. Epochs after the stop were never trained, so the restored epoch is the
    best one up to the stop:

    .. math:: t_\text{stop} = \min\{t : \text{wait}_t \ge p\} \ (\text{or } T - 1), \qquad
              t^* = \text{best epoch at } t_\text{stop}, \qquad
              E = t^* + 1, \qquad \varepsilon = J_\text{train}(t^*).

    :math:`E` is the number of epochs to retrain a fresh network on training plus validation data (Algorithm 7.2,
    counted in epochs as in the book); :math:`\varepsilon` is the target of Algorithm 7.3: continue the restored
    network on training plus validation data until the validation loss falls to the training loss it had at the
    restored epoch.

    Parameters
    ----------
    train_losses : sequence of float, length T
        Training loss after each epoch.
    val_losses : sequence of float, length T
        Validation loss after each epoch (NaN never improves, as in Keras).
    patience : int
        Epochs without improvement tolerated (0 stops at the first one, like 1).
    min_delta : float, default 0.0
        Smallest decrease that counts as an improvement.

    Returns
    -------
    stop_epoch : int
        0-based epoch after which training stops (``T - 1`` when the rule never fires).
    restore_epoch : int
        0-based epoch whose weights are restored (the best one up to ``stop_epoch``).
    retrain_epochs : int
        ``restore_epoch + 1``: epochs of Algorithm 7.2.
    target_loss : float
        ``train_losses[restore_epoch]``: the target of Algorithm 7.3.

    Raises
    ------
    ValueError
        If the curves are empty or of different lengths, ``patience`` is not a non-negative integer or
        ``min_delta`` is negative or not finite.
    """
    train = [float(v) for v in train_losses]
    val = [float(v) for v in val_losses]
    if not val:
        raise ValueError("val_losses is empty: at least one epoch is needed")
    if len(train) != len(val):
        raise ValueError(f"train_losses and val_losses must have one value per epoch, got lengths {len(train)} and "
                         f"{len(val)}")
    stopper = EarlyStopping(patience=patience, min_delta=min_delta, restore_best_weights=False)
    stop_epoch = len(val) - 1
    for epoch, value in enumerate(val):
        if stopper.step(value):
            stop_epoch = epoch
            break
    if stopper.best_epoch is None:
        raise ValueError("no epoch improves on +inf (every validation loss is NaN or +inf): nothing to restore")
    restore = stopper.best_epoch
    return stop_epoch, restore, restore + 1, train[restore]

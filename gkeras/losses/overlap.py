"""Overlap losses for segmentation: `dice` / `Dice` and `tversky` /
`Tversky` (Keras 3 math, including which term `alpha` and `beta`
weight)."""

from gkeras import backend, ops
from gkeras.losses.loss import Loss
from gkeras.losses.losses import LossFunctionWrapper, _prep


def dice(y_true, y_pred, axis=None):
    """Dice loss: `1 - 2 sum(y_true y_pred) / (sum(y_true) + sum(y_pred))`.

    Args:
        y_true: targets (e.g. binary masks).
        y_pred: predicted probabilities.
        axis: the axes summed over; None (default) sums over everything,
            giving one loss for the whole batch.

    Returns:
        The loss, reduced over `axis`.

    Example:
    >>> gkeras.losses.dice([[1.0, 0.0]], [[0.8, 0.2]])  # 1 - 1.6 / 2
    ... # 0.2
    """
    y_true, y_pred = _prep(y_true, y_pred)
    inter = ops.sum(ops.multiply(y_true, y_pred), axis=axis)
    total = ops.add(ops.add(ops.sum(y_true, axis=axis),
                            ops.sum(y_pred, axis=axis)), backend.epsilon())
    return ops.subtract(1.0, ops.divide(ops.multiply(2.0, inter), total))


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """Tversky loss: `1 - TP / (TP + alpha A + beta B + epsilon)`.

    As Keras 3 computes it: `TP = sum(y_true y_pred)`,
    `A = sum(y_true (1 - y_pred))` (missed foreground) and
    `B = sum(y_pred (1 - y_true))` (spurious foreground). With
    `alpha = beta = 0.5` it is the Dice loss.

    Args:
        y_true: targets.
        y_pred: predicted probabilities.
        alpha: weight of the missed-foreground term. Defaults to `0.5`.
        beta: weight of the spurious-foreground term. Defaults to `0.5`.
        axis: the axes summed over (None: everything).

    Returns:
        The loss, reduced over `axis`.
    """
    y_true, y_pred = _prep(y_true, y_pred)
    inter = ops.sum(ops.multiply(y_true, y_pred), axis=axis)
    missed = ops.sum(ops.multiply(ops.subtract(1.0, y_pred), y_true),
                     axis=axis)
    spurious = ops.sum(ops.multiply(y_pred, ops.subtract(1.0, y_true)),
                       axis=axis)
    den = ops.add(ops.add(ops.add(inter, ops.multiply(missed, alpha)),
                          ops.multiply(spurious, beta)), backend.epsilon())
    return ops.subtract(1.0, ops.divide(inter, den))


class Dice(LossFunctionWrapper):
    """Computes the Dice loss between targets and predictions (see
    `dice`).

    Args:
        reduction, name, dtype: see `Loss`.
        axis: the axes the overlap is summed over (None: everything).

    Example:
    >>> model.compile(optimizer="adam", loss=gkeras.losses.Dice())
    """

    def __init__(self, reduction="sum_over_batch_size", name="dice",
                 axis=None, dtype=None):
        super().__init__(dice, name=name, reduction=reduction, dtype=dtype,
                         axis=axis)
        self.axis = axis

    def get_config(self):
        return {**Loss.get_config(self), "axis": self.axis}


class Tversky(LossFunctionWrapper):
    """Computes the Tversky loss between targets and predictions (see
    `tversky`).

    Args:
        alpha, beta: the weights of the two mismatch terms.
        reduction, name, dtype: see `Loss`.
        axis: the axes the overlap is summed over (None: everything).
    """

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size",
                 name="tversky", axis=None, dtype=None):
        super().__init__(tversky, name=name, reduction=reduction,
                         dtype=dtype, alpha=alpha, beta=beta, axis=axis)
        self.alpha = alpha
        self.beta = beta
        self.axis = axis

    def get_config(self):
        return {**Loss.get_config(self), "alpha": self.alpha,
                "beta": self.beta, "axis": self.axis}

"""Focal crossentropies (Lin et al., 2018): the crossentropy scaled by
`(1 - p_t) ** gamma`, which down-weights the well-classified examples."""

from gkeras import backend, ops
from gkeras.losses.loss import Loss
from gkeras.losses.losses import (LossFunctionWrapper, _mean, _prep,
                                  _prep_categorical)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False,
                              alpha=0.25, gamma=2.0, from_logits=False,
                              label_smoothing=0.0, axis=-1):
    """Binary focal crossentropy (Lin et al., 2018).

    `focal_factor = (1 - p_t) ** gamma` multiplies the binary
    crossentropy, with `p_t = y_true * p + (1 - y_true) * (1 - p)`; with
    `apply_class_balancing`, also `alpha` for class 1 and `1 - alpha` for
    class 0.

    Args:
        y_true: 0/1 targets.
        y_pred: probabilities, or logits with `from_logits=True`.
        apply_class_balancing: whether to apply the `alpha` weighting.
        alpha: weight of class 1. Defaults to `0.25`.
        gamma: focusing parameter. Defaults to `2.0`.
        from_logits: whether `y_pred` is a logits tensor.
        label_smoothing: as in `binary_crossentropy`.
        axis: the axis the mean is taken over.
    """
    y_true, y_pred = _prep(y_true, y_pred)
    if label_smoothing:
        y_true = ops.add(ops.multiply(y_true, 1.0 - label_smoothing),
                         0.5 * label_smoothing)
    if from_logits:
        y_pred = ops.sigmoid(y_pred)
    bce = ops.binary_crossentropy(y_true, y_pred, from_logits=False)
    p_t = ops.add(ops.multiply(y_true, y_pred),
                  ops.multiply(ops.subtract(1.0, y_true),
                               ops.subtract(1.0, y_pred)))
    focal = ops.multiply(ops.power(ops.subtract(1.0, p_t), gamma), bce)
    if apply_class_balancing:
        weight = ops.add(ops.multiply(y_true, alpha),
                         ops.multiply(ops.subtract(1.0, y_true), 1.0 - alpha))
        focal = ops.multiply(weight, focal)
    return _mean(focal, axis=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0,
                                   from_logits=False, label_smoothing=0.0,
                                   axis=-1):
    """Categorical focal crossentropy (Lin et al., 2018).

    `sum(alpha * (1 - p) ** gamma * -y_true * log(p), axis)` with `p` the
    predicted probabilities renormalized over `axis` and clipped to
    `[epsilon, 1 - epsilon]`, as Keras computes it.

    Args:
        y_true: one-hot (or soft) targets.
        y_pred: probabilities, or logits with `from_logits=True`.
        alpha: weighting factor (a scalar, or one weight per class).
            Defaults to `0.25`.
        gamma: focusing parameter. Defaults to `2.0`.
        from_logits: whether `y_pred` is a logits tensor.
        label_smoothing: in `[0, 1]`: targets become
            `y_true * (1 - label_smoothing) + label_smoothing / classes`.
        axis: the class axis. Defaults to `-1`.

    Returns:
        Per-sample losses.

    Example:
    >>> y_true = [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    >>> y_pred = [[0.05, 0.9, 0.05], [0.1, 0.85, 0.05]]
    >>> gkeras.losses.categorical_focal_crossentropy(y_true, y_pred)
    ... # [2.634e-04, 6.486e-01]
    """
    y_true, y_pred = _prep_categorical(y_true, y_pred, label_smoothing,
                                       axis, "categorical_focal_crossentropy")
    if from_logits:
        y_pred = ops.softmax(y_pred, axis=axis)
    out = ops.divide(y_pred, ops.sum(y_pred, axis=axis, keepdims=True))
    eps = backend.epsilon()
    out = ops.clip(out, eps, 1.0 - eps)
    cce = ops.multiply(ops.negative(y_true), ops.log(out))
    factor = ops.multiply(ops.power(ops.subtract(1.0, out), gamma), alpha)
    return ops.sum(ops.multiply(factor, cce), axis=axis)


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Computes the focal crossentropy between binary labels and
    predictions (see `binary_focal_crossentropy`).

    Args:
        apply_class_balancing: whether to weight classes by `alpha`.
        alpha: weight of class 1 (class 0 gets `1 - alpha`).
        gamma: focusing parameter.
        from_logits, label_smoothing, axis: as `BinaryCrossentropy`.
        reduction, name, dtype: see `Loss`.
    """

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                 from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy", dtype=None):
        super().__init__(binary_focal_crossentropy, name=name,
                         reduction=reduction, dtype=dtype,
                         apply_class_balancing=apply_class_balancing,
                         alpha=alpha, gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis
        self.apply_class_balancing = apply_class_balancing
        self.alpha = alpha
        self.gamma = gamma

    def get_config(self):
        config = Loss.get_config(self)
        config.update({"from_logits": self.from_logits,
                       "label_smoothing": self.label_smoothing,
                       "axis": self.axis,
                       "apply_class_balancing": self.apply_class_balancing,
                       "alpha": self.alpha, "gamma": self.gamma})
        return config


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Computes the focal crossentropy between one-hot labels and
    predictions (see `categorical_focal_crossentropy`).

    Args:
        alpha: weighting factor (scalar or per class).
        gamma: focusing parameter.
        from_logits, label_smoothing, axis: as `CategoricalCrossentropy`.
        reduction, name, dtype: see `Loss`.

    Example:
    >>> loss = gkeras.losses.CategoricalFocalCrossentropy(gamma=2.0)
    >>> model.compile(optimizer="adam", loss=loss)
    """

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size",
                 name="categorical_focal_crossentropy", dtype=None):
        super().__init__(categorical_focal_crossentropy, name=name,
                         reduction=reduction, dtype=dtype, alpha=alpha,
                         gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis
        self.alpha = alpha
        self.gamma = gamma

    def get_config(self):
        config = Loss.get_config(self)
        config.update({"from_logits": self.from_logits,
                       "label_smoothing": self.label_smoothing,
                       "axis": self.axis, "alpha": self.alpha,
                       "gamma": self.gamma})
        return config

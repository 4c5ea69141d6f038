"""Loss classes and functions (`keras.losses`), with Keras 3's math.

Functions return per-sample losses (the last axis reduced); the classes
wrap them with a reduction. Crossentropies use the fused, numerically
stable `gkeras.ops` primitives (probabilities renormalised by their sum
and clipped to `[epsilon, 1 - epsilon]`, as Keras).
"""

import warnings

from gkeras import backend
from gkeras import ops
from gkeras.losses.loss import Loss, squeeze_or_expand_to_same_rank

_REDUCTION_DOC = """reduction: `"sum_over_batch_size"` (default), `"sum"`,
            `"mean"`, `"mean_with_sample_weight"`, or `"none"`/None.
        name: Optional name for the loss instance.
        dtype: The dtype of the loss's computations (default floatx)."""


def _mean(x, axis=-1):
    """Mean over one axis as `sum / n` (a float op of the input's dtype)."""
    n = x.shape[axis]
    return ops.divide(ops.sum(x, axis=axis), n)


def _prep(y_true, y_pred):
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(ops.convert_to_tensor(y_true), y_pred.dtype)
    return y_true, y_pred


def _prep_categorical(y_true, y_pred, label_smoothing, axis, loss_name):
    """The checks and label smoothing the categorical crossentropies share:
    `axis` an int, a class axis of more than one class (a warning
    otherwise, as Keras), targets smoothed towards `1 / classes`."""
    if isinstance(axis, bool):
        raise ValueError("`axis` must be of type `int`. "
                         f"Received: axis={axis} of type {type(axis)}")
    y_true, y_pred = _prep(y_true, y_pred)
    if y_pred.shape[-1] == 1:
        warnings.warn(
            f"In loss {loss_name}, expected y_pred.shape to be (batch_size, "
            "num_classes) with num_classes > 1. Received: "
            f"y_pred.shape={tuple(y_pred.shape)}. Consider using "
            "'binary_crossentropy' if you only have 2 classes.",
            SyntaxWarning, stacklevel=3)
    if label_smoothing:
        classes = y_true.shape[-1]
        y_true = ops.add(ops.multiply(y_true, 1.0 - label_smoothing),
                         label_smoothing / classes)
    return y_true, y_pred


# ------------------------------------------------------------- functions
def mean_squared_error(y_true, y_pred):
    """Mean squared error: `mean(square(y_true - y_pred), axis=-1)`.

    Args:
        y_true: Ground truth values, shape `(batch_size, d0, .. dN)`.
        y_pred: The predicted values, same shape.

    Returns:
        Per-sample losses, shape `(batch_size, d0, .. dN-1)`.
    """
    y_true, y_pred = _prep(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return _mean(ops.square(ops.subtract(y_true, y_pred)), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """Mean absolute error: `mean(abs(y_true - y_pred), axis=-1)`."""
    y_true, y_pred = _prep(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return _mean(ops.abs(ops.subtract(y_true, y_pred)), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """`100 * mean(abs((y_true - y_pred) / max(abs(y_true), eps)), -1)`."""
    y_true, y_pred = _prep(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    diff = ops.abs(ops.divide(
        ops.subtract(y_true, y_pred),
        ops.maximum(ops.abs(y_true), backend.epsilon())))
    return ops.multiply(100.0, _mean(diff, axis=-1))


def mean_squared_logarithmic_error(y_true, y_pred):
    """`mean(square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)),
    axis=-1)`."""
    y_true, y_pred = _prep(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    eps = backend.epsilon()
    first = ops.log(ops.add(ops.maximum(y_pred, eps), 1.0))
    second = ops.log(ops.add(ops.maximum(y_true, eps), 1.0))
    return _mean(ops.square(ops.subtract(first, second)), axis=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    """`-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)` (a loss:
    -1 means identical directions)."""
    y_true, y_pred = _prep(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_pred = ops.normalize(y_pred, axis=axis)
    y_true = ops.normalize(y_true, axis=axis)
    return ops.negative(ops.sum(ops.multiply(y_true, y_pred), axis=axis))


def huber(y_true, y_pred, delta=1.0):
    """Huber loss: `0.5 x^2` for `|x| <= delta`, else
    `delta |x| - 0.5 delta^2`, averaged over the last axis.

    Args:
        y_true: tensor of true targets.
        y_pred: tensor of predicted targets.
        delta: the point where the loss changes from quadratic to linear.
    """
    y_true, y_pred = _prep(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    error = ops.subtract(y_pred, y_true)
    abs_error = ops.abs(error)
    quad = ops.multiply(0.5, ops.square(error))
    lin = ops.subtract(ops.multiply(delta, abs_error), 0.5 * delta * delta)
    return _mean(ops.where(ops.less_equal(abs_error, delta), quad, lin),
                    axis=-1)


def log_cosh(y_true, y_pred):
    """`mean(log(cosh(y_pred - y_true)), axis=-1)`, computed stably as
    `x + softplus(-2x) - log(2)`."""
    y_true, y_pred = _prep(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    x = ops.subtract(y_pred, y_true)
    log2 = 0.6931471805599453
    return _mean(ops.subtract(
        ops.add(x, ops.softplus(ops.multiply(x, -2.0))), log2), axis=-1)


def _hinge_labels(y_true):
    """Converts {0, 1} labels to {-1, 1} (on the device, no host sync)."""
    is_binary = ops.all(ops.logical_or(ops.equal(y_true, 0),
                                       ops.equal(y_true, 1)))
    return ops.where(is_binary, ops.subtract(ops.multiply(y_true, 2.0), 1.0),
                     y_true)


def hinge(y_true, y_pred):
    """`mean(maximum(1 - y_true * y_pred, 0), axis=-1)`; {0, 1} labels are
    converted to {-1, 1}."""
    y_true, y_pred = _prep(y_true, y_pred)
    y_true = _hinge_labels(y_true)
    return _mean(ops.maximum(
        ops.subtract(1.0, ops.multiply(y_true, y_pred)), 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """`mean(square(maximum(1 - y_true * y_pred, 0)), axis=-1)`; {0, 1}
    labels are converted to {-1, 1}."""
    y_true, y_pred = _prep(y_true, y_pred)
    y_true = _hinge_labels(y_true)
    return _mean(ops.square(ops.maximum(
        ops.subtract(1.0, ops.multiply(y_true, y_pred)), 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred):
    """`maximum(neg - pos + 1, 0)` with `pos = sum(y_true * y_pred)` and
    `neg = max((1 - y_true) * y_pred)`."""
    y_true, y_pred = _prep(y_true, y_pred)
    pos = ops.sum(ops.multiply(y_true, y_pred), axis=-1)
    neg = ops.max(ops.multiply(ops.subtract(1.0, y_true), y_pred), axis=-1)
    return ops.maximum(ops.add(ops.subtract(neg, pos), 1.0), 0.0)


def kl_divergence(y_true, y_pred):
    """`sum(y_true * log(y_true / y_pred), axis=-1)`, both clipped to
    `[epsilon, 1]`."""
    y_true, y_pred = _prep(y_true, y_pred)
    eps = backend.epsilon()
    y_true = ops.clip(y_true, eps, 1.0)
    y_pred = ops.clip(y_pred, eps, 1.0)
    return ops.sum(ops.multiply(y_true, ops.log(ops.divide(y_true, y_pred))),
                   axis=-1)


def poisson(y_true, y_pred):
    """`mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)`."""
    y_true, y_pred = _prep(y_true, y_pred)
    return _mean(ops.subtract(y_pred, ops.multiply(
        y_true, ops.log(ops.add(y_pred, backend.epsilon())))), axis=-1)


def categorical_crossentropy(y_true, y_pred, from_logits=False,
                             label_smoothing=0.0, axis=-1):
    """Categorical crossentropy between one-hot targets and predictions.

    Args:
        y_true: one-hot (or soft) targets.
        y_pred: probabilities, or logits with `from_logits=True`.
        from_logits: whether `y_pred` is a logits tensor.
        label_smoothing: Float in [0, 1]; targets become
            `y_true * (1 - label_smoothing) + label_smoothing / num_classes`.
        axis: the class axis. Defaults to `-1`.

    Returns:
        Per-sample losses.

    Example:

    >>> categorical_crossentropy([[0, 1, 0]], [[0.05, 0.95, 0]])
    [0.0513]
    """
    y_true, y_pred = _prep_categorical(y_true, y_pred, label_smoothing,
                                       axis, "categorical_crossentropy")
    return ops.categorical_crossentropy(y_true, y_pred,
                                        from_logits=from_logits, axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False,
                                    ignore_class=None, axis=-1):
    """Categorical crossentropy with integer labels.

    Args:
        y_true: integer class ids (float ids are accepted), shape
            `y_pred.shape[:-1]` or with a trailing axis of size 1.
        y_pred: probabilities, or logits with `from_logits=True`.
        from_logits: whether `y_pred` is a logits tensor.
        ignore_class: optional class id whose entries get no loss (and are
            masked out of the reduction), e.g. a "void" class.
        axis: the class axis. Defaults to `-1`.

    Returns:
        Per-sample losses.

    Raises:
        ValueError: when a label is outside `[0, num_classes)`.
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true)
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, axis=-1)
    valid_mask = None
    if ignore_class is not None:
        res_shape = tuple(y_pred.shape[:-1])
        valid_mask = ops.not_equal(y_true, ops.cast(ignore_class,
                                                    y_true.dtype))
        y_true = ops.multiply(y_true, ops.cast(valid_mask, y_true.dtype))
        # Keras multiplies ignored rows by 0, which makes 0/0 in the
        # renormalisation (NaN gradients); a row of ones is as masked.
        y_pred = ops.where(ops.expand_dims(valid_mask, -1), y_pred, 1.0)
    res = ops.sparse_categorical_crossentropy(
        y_true, y_pred, from_logits=from_logits, axis=axis)
    if ignore_class is not None:
        valid_mask = ops.reshape(valid_mask, res_shape)
        res = ops.where(valid_mask, res, 0.0)
        res._keras_mask = valid_mask
    return res


def binary_crossentropy(y_true, y_pred, from_logits=False,
                        label_smoothing=0.0, axis=-1):
    """Binary crossentropy, averaged over `axis`.

    Args:
        y_true: 0/1 (or soft) targets.
        y_pred: probabilities, or logits with `from_logits=True`.
        from_logits: whether `y_pred` is a logits tensor.
        label_smoothing: Float in [0, 1]; targets are squeezed towards 0.5:
            `y_true * (1 - label_smoothing) + 0.5 * label_smoothing`.
        axis: the axis the mean is taken over. Defaults to `-1`.

    Returns:
        Per-sample losses.
    """
    y_true, y_pred = _prep(y_true, y_pred)
    if label_smoothing:
        y_true = ops.add(ops.multiply(y_true, 1.0 - label_smoothing),
                         0.5 * label_smoothing)
    return _mean(ops.binary_crossentropy(y_true, y_pred,
                                            from_logits=from_logits),
                    axis=axis)


# --------------------------------------------------------------- classes
class LossFunctionWrapper(Loss):
    """Wraps a loss function `fn(y_true, y_pred, **kwargs)` as a `Loss`.

    Args:
        fn: the per-sample loss function.
        reduction, name, dtype: see `Loss`.
        **kwargs: keyword arguments passed on to `fn`.

    Example:

    >>> loss = LossFunctionWrapper(mean_squared_error, name="mse")
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None,
                 dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        from gkeras.utils import object_registry
        config["fn"] = object_registry.serialize_keras_object(
            self.fn, "keras.losses")
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config:
            from gkeras.losses import deserialize
            config["fn"] = deserialize(config["fn"])
        return cls(**config)

    def __repr__(self):
        return (f"<LossFunctionWrapper({getattr(self.fn, '__name__', self.fn)}"
                f", kwargs={self._fn_kwargs})>")


def _simple_loss(fn, default_name, doc):
    class _L(LossFunctionWrapper):
        def __init__(self, reduction="sum_over_batch_size",
                     name=default_name, dtype=None):
            super().__init__(fn, name=name, reduction=reduction, dtype=dtype)

        def get_config(self):
            return Loss.get_config(self)

    _L.__doc__ = doc + "\n\n    Args:\n        " + _REDUCTION_DOC + "\n"
    return _L


MeanSquaredError = _simple_loss(
    mean_squared_error, "mean_squared_error",
    "Computes the mean of squares of errors: `mean(square(y_true - "
    "y_pred))`.")
MeanAbsoluteError = _simple_loss(
    mean_absolute_error, "mean_absolute_error",
    "Computes the mean of absolute errors: `mean(abs(y_true - y_pred))`.")
MeanAbsolutePercentageError = _simple_loss(
    mean_absolute_percentage_error, "mean_absolute_percentage_error",
    "Computes `100 * mean(abs((y_true - y_pred) / y_true))`.")
MeanSquaredLogarithmicError = _simple_loss(
    mean_squared_logarithmic_error, "mean_squared_logarithmic_error",
    "Computes `mean(square(log(y_true + 1) - log(y_pred + 1)))`.")
LogCosh = _simple_loss(
    log_cosh, "log_cosh",
    "Computes the logarithm of the hyperbolic cosine of the error.")
Hinge = _simple_loss(
    hinge, "hinge",
    "Computes the hinge loss `maximum(1 - y_true * y_pred, 0)` (0/1 labels "
    "become -1/1).")
SquaredHinge = _simple_loss(
    squared_hinge, "squared_hinge",
    "Computes the squared hinge loss `square(maximum(1 - y_true * y_pred, "
    "0))`.")
CategoricalHinge = _simple_loss(
    categorical_hinge, "categorical_hinge",
    "Computes the categorical hinge loss `maximum(neg - pos + 1, 0)`.")
KLDivergence = _simple_loss(
    kl_divergence, "kl_divergence",
    "Computes the Kullback-Leibler divergence `y_true * log(y_true / "
    "y_pred)`.")
Poisson = _simple_loss(
    poisson, "poisson",
    "Computes the Poisson loss `y_pred - y_true * log(y_pred)`.")
for _cls, _name in ((MeanSquaredError, "MeanSquaredError"),
                    (MeanAbsoluteError, "MeanAbsoluteError"),
                    (MeanAbsolutePercentageError,
                     "MeanAbsolutePercentageError"),
                    (MeanSquaredLogarithmicError,
                     "MeanSquaredLogarithmicError"),
                    (LogCosh, "LogCosh"), (Hinge, "Hinge"),
                    (SquaredHinge, "SquaredHinge"),
                    (CategoricalHinge, "CategoricalHinge"),
                    (KLDivergence, "KLDivergence"), (Poisson, "Poisson")):
    _cls.__name__ = _cls.__qualname__ = _name
    _cls.__module__ = __name__


class CosineSimilarity(LossFunctionWrapper):
    """Computes the cosine similarity loss `-sum(l2_norm(y_true) *
    l2_norm(y_pred))` (in [-1, 1]; -1 for identical directions).

    Args:
        axis: The features axis. Defaults to `-1`.
        reduction, name, dtype: see `Loss`.
    """

    def __init__(self, axis=-1, reduction="sum_over_batch_size",
                 name="cosine_similarity", dtype=None):
        super().__init__(cosine_similarity, name=name, reduction=reduction,
                         dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        # Keras 3 drops `axis` here; it is kept so configs round-trip.
        return {**Loss.get_config(self), "axis": self.axis}


class Huber(LossFunctionWrapper):
    """Computes the Huber loss (quadratic below `delta`, linear above).

    Args:
        delta: the point where the loss changes from quadratic to linear.
        reduction, name, dtype: see `Loss`.
    """

    def __init__(self, delta=1.0, reduction="sum_over_batch_size",
                 name="huber_loss", dtype=None):
        super().__init__(huber, name=name, reduction=reduction, dtype=dtype,
                         delta=delta)
        self.delta = delta

    def get_config(self):
        # Keras 3 drops `delta` here; it is kept so configs round-trip.
        return {**Loss.get_config(self), "delta": self.delta}


class BinaryCrossentropy(LossFunctionWrapper):
    """Computes the crossentropy between binary labels and predictions.

    Args:
        from_logits: Whether `y_pred` holds logits (else probabilities).
        label_smoothing: Float in [0, 1]; labels are squeezed towards 0.5.
        axis: The axis the mean is computed over. Defaults to `-1`.
        reduction, name, dtype: see `Loss`.

    Example:

    >>> loss = BinaryCrossentropy(from_logits=True)
    >>> loss([0., 1.], [-2.3, 1.7])
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size",
                 name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, name=name,
                         reduction=reduction, dtype=dtype,
                         from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        config = Loss.get_config(self)
        config.update({"from_logits": self.from_logits,
                       "label_smoothing": self.label_smoothing,
                       "axis": self.axis})
        return config


class CategoricalCrossentropy(LossFunctionWrapper):
    """Computes the crossentropy between one-hot labels and predictions.

    Args:
        from_logits: Whether `y_pred` holds logits (else probabilities).
        label_smoothing: Float in [0, 1]; `0.1` uses `0.1 / num_classes`
            for non-target labels and `0.9 + 0.1 / num_classes` for targets.
        axis: The class axis. Defaults to `-1`.
        reduction, name, dtype: see `Loss`.
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size",
                 name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, name=name,
                         reduction=reduction, dtype=dtype,
                         from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        config = Loss.get_config(self)
        config.update({"from_logits": self.from_logits,
                       "label_smoothing": self.label_smoothing,
                       "axis": self.axis})
        return config


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Computes the crossentropy between integer labels and predictions.

    Args:
        from_logits: Whether `y_pred` holds logits (else probabilities).
        ignore_class: Optional class id to ignore (masked out of the loss).
        axis: The class axis. Defaults to `-1`.
        reduction, name, dtype: see `Loss`.

    Example:

    >>> loss = SparseCategoricalCrossentropy(from_logits=True)
    >>> loss([1, 2], logits)
    """

    def __init__(self, from_logits=False, ignore_class=None, axis=-1,
                 reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, name=name,
                         reduction=reduction, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class,
                         axis=axis)
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis

    def get_config(self):
        config = Loss.get_config(self)
        config.update({"from_logits": self.from_logits,
                       "ignore_class": self.ignore_class,
                       "axis": self.axis})
        return config

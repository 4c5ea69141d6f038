"""Regression, probabilistic and hinge metrics: the mean of a loss
function over the samples seen (Keras's `regression_metrics`,
`probabilistic_metrics`, `hinge_metrics`)."""

from gkeras import losses
from gkeras.metrics.metric import to_array, xp_of
from gkeras.metrics.reduction_metrics import Mean, MeanMetricWrapper


def cosine_similarity(y_true, y_pred, axis=-1):
    """`sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)` (the metric
    is the positive similarity; the loss is its negative)."""
    return -to_array(losses.cosine_similarity(y_true, y_pred, axis=axis))


def _wrapper(fn, default_name, doc, direction="down", extra=()):
    """Builds a `MeanMetricWrapper` subclass around a loss function."""
    extra = tuple(extra)

    def __init__(self, name=default_name, dtype=None, **kwargs):
        defaults = dict(extra)
        unknown = set(kwargs) - set(defaults)
        if unknown:
            raise TypeError(f"Unexpected arguments: {sorted(unknown)}. "
                            f"Expected: {sorted(defaults)}.")
        defaults.update(kwargs)
        MeanMetricWrapper.__init__(self, fn=fn, name=name, dtype=dtype,
                                   **defaults)
        for k, v in defaults.items():
            setattr(self, k, v)
        self._direction = direction

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype}
        config.update({k: getattr(self, k) for k, _ in extra})
        return config

    return __init__, get_config, doc


def _make(class_name, fn, default_name, doc, direction="down", extra=()):
    init, get_config, doc = _wrapper(fn, default_name, doc, direction, extra)
    args = "".join(f"        {k}: defaults to `{v!r}`.\n" for k, v in extra)
    cls = type(class_name, (MeanMetricWrapper,), {
        "__init__": init, "get_config": get_config,
        "__doc__": (doc + "\n\n    Args:\n        name: (Optional) name of "
                    "the metric instance.\n        dtype: (Optional) data "
                    "type of the metric result.\n" + args),
        "__module__": __name__})
    return cls


def _m(fn):
    def metric_fn(y_true, y_pred, **kw):
        return to_array(fn(y_true, y_pred, **kw))
    metric_fn.__name__ = fn.__name__
    return metric_fn


MeanSquaredError = _make(
    "MeanSquaredError", _m(losses.mean_squared_error), "mean_squared_error",
    "Computes the mean squared error between `y_true` and `y_pred`.")
MeanAbsoluteError = _make(
    "MeanAbsoluteError", _m(losses.mean_absolute_error),
    "mean_absolute_error",
    "Computes the mean absolute error between `y_true` and `y_pred`.")
MeanAbsolutePercentageError = _make(
    "MeanAbsolutePercentageError",
    _m(losses.mean_absolute_percentage_error),
    "mean_absolute_percentage_error",
    "Computes the mean absolute percentage error.")
MeanSquaredLogarithmicError = _make(
    "MeanSquaredLogarithmicError",
    _m(losses.mean_squared_logarithmic_error),
    "mean_squared_logarithmic_error",
    "Computes the mean squared logarithmic error.")
LogCoshError = _make(
    "LogCoshError", _m(losses.log_cosh), "logcosh",
    "Computes the logarithm of the hyperbolic cosine of the error.")
CosineSimilarity = _make(
    "CosineSimilarity", cosine_similarity, "cosine_similarity",
    "Computes the cosine similarity between labels and predictions.",
    direction="up", extra=(("axis", -1),))
KLDivergence = _make(
    "KLDivergence", _m(losses.kl_divergence), "kl_divergence",
    "Computes the Kullback-Leibler divergence between `y_true` and "
    "`y_pred`.")
Poisson = _make(
    "Poisson", _m(losses.poisson), "poisson",
    "Computes the Poisson metric between `y_true` and `y_pred`.")
BinaryCrossentropy = _make(
    "BinaryCrossentropy", _m(losses.binary_crossentropy),
    "binary_crossentropy",
    "Computes the crossentropy between binary labels and predictions.",
    extra=(("from_logits", False), ("label_smoothing", 0)))
CategoricalCrossentropy = _make(
    "CategoricalCrossentropy", _m(losses.categorical_crossentropy),
    "categorical_crossentropy",
    "Computes the crossentropy between one-hot labels and predictions.",
    extra=(("from_logits", False), ("label_smoothing", 0), ("axis", -1)))
_SparseCategoricalCrossentropy = _make(
    "SparseCategoricalCrossentropy",
    _m(losses.sparse_categorical_crossentropy),
    "sparse_categorical_crossentropy",
    "Computes the crossentropy between integer labels and predictions.",
    extra=(("from_logits", False), ("ignore_class", None), ("axis", -1)))


class SparseCategoricalCrossentropy(_SparseCategoricalCrossentropy):
    __doc__ = _SparseCategoricalCrossentropy.__doc__ + (
        "        ignore_class: a label whose entries get no loss. As in "
        "Keras, they\n            still count in the mean without "
        "`sample_weight`; with it,\n            their weight is zeroed.\n")

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.ignore_class is not None and sample_weight is not None:
            keep = to_array(y_true) != self.ignore_class
            w = to_array(sample_weight, self.dtype)
            if keep.ndim > w.ndim and keep.shape[-1] == 1:
                keep = keep[..., 0]
            sample_weight = w * keep.astype(w.dtype)
        return super().update_state(y_true, y_pred,
                                    sample_weight=sample_weight)
Hinge = _make("Hinge", _m(losses.hinge), "hinge",
              "Computes the hinge metric between `y_true` and `y_pred`.")
SquaredHinge = _make(
    "SquaredHinge", _m(losses.squared_hinge), "squared_hinge",
    "Computes the squared hinge metric between `y_true` and `y_pred`.")
CategoricalHinge = _make(
    "CategoricalHinge", _m(losses.categorical_hinge), "categorical_hinge",
    "Computes the categorical hinge metric between `y_true` and `y_pred`.")


class RootMeanSquaredError(Mean):
    """Computes the root mean squared error: `sqrt(mean((y_pred -
    y_true) ** 2))`.

    Args:
        name: (Optional) string name of the metric instance.
        dtype: (Optional) data type of the metric result.
    """

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "down"

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = to_array(y_pred, self.dtype)
        y_true = to_array(y_true, self.dtype)
        from gkeras.metrics.metric import squeeze_or_expand_to_same_rank
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return super().update_state((y_pred - y_true) ** 2,
                                    sample_weight=sample_weight)

    def result(self):
        return xp_of(self.total.data).sqrt(super().result())

"""`Sum`, `Mean` and `MeanMetricWrapper` (Keras 3 semantics)."""

import numpy as np

from gkeras.ops.engine import Tensor
from gkeras.metrics.metric import (Metric, divide_no_nan,
                                   squeeze_or_expand_to_same_rank,
                                   to_array, xp_of)


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype):
    """Weights `values` and reduces them to one value per sample, as
    Keras's helper of the same name (arrays in, arrays out)."""
    values = to_array(values, dtype)
    xp = xp_of(values)
    if sample_weight is not None:
        sample_weight = to_array(sample_weight, dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(
            values, sample_weight)
        weight_ndim, values_ndim = sample_weight.ndim, values.ndim
        if values_ndim > weight_ndim:
            values = reduce_fn(values, axis=tuple(range(weight_ndim,
                                                        values_ndim)))
        sample_weight = xp.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight,
                                      axis=tuple(range(1, weight_ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


def _fold_mask(sample_weight, mask, dtype):
    if mask is None:
        return sample_weight
    mask = to_array(mask, dtype)
    if sample_weight is None:
        return mask
    sample_weight = to_array(sample_weight, dtype)
    mask, sample_weight = squeeze_or_expand_to_same_rank(mask, sample_weight)
    return sample_weight * mask


class Sum(Metric):
    """Computes the (weighted) sum of the given values.

    Args:
        name: (Optional) string name of the metric instance.
        dtype: (Optional) data type of the metric result.

    Example:

    >>> m = Sum()
    >>> m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    >>> float(m.result())
    4.0
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), name="total")

    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(
            values, sample_weight, reduce_fn=_sum, dtype=self.dtype)
        self.total.data += values.sum()

    def result(self):
        return self.total.data.copy()


# Metric dtype name -> NumPy dtype (parsing the name costs microseconds).
_NP_DTYPES = {}


def _sum(x, axis):
    return x.sum(axis=axis)


def _mean(x, axis):
    return x.mean(axis=axis)


class Mean(Metric):
    """Computes the (weighted) mean of the given values.

    Two variables, `total` and `count`; the result is `total / count`
    (0 when nothing was counted).

    Args:
        name: (Optional) string name of the metric instance.
        dtype: (Optional) data type of the metric result.

    Example:

    >>> m = Mean()
    >>> m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    >>> float(m.result())
    2.0
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), name="total")
        self.count = self.add_variable(shape=(), name="count")

    def update_state(self, values, sample_weight=None):
        v = values.data if isinstance(values, Tensor) else values
        dt = _NP_DTYPES.get(self.dtype)
        if dt is None:
            dt = _NP_DTYPES.setdefault(self.dtype, np.dtype(self.dtype))
        total = self.total._raw
        if (type(sample_weight) is int and type(total) is np.ndarray
                and (type(v) is dt.type or (type(v) is np.ndarray
                                            and v.ndim == 0
                                            and v.dtype is dt))):
            # The loss tracker's step on the CPU: a scalar loss (a NumPy
            # scalar or 0-d array) weighted by the batch size. The general
            # path's float32 operations (the sum of one value is that
            # value) without its shape handling, written in place:
            # ~25 -> ~5 us, once per training step.
            w = np.asarray(sample_weight).astype(dt)
            np.add(total, v * w, out=total)
            count = self.count._raw
            np.add(count, w, out=count)
            return
        values, sample_weight = reduce_to_samplewise_values(
            values, sample_weight, reduce_fn=_mean, dtype=self.dtype)
        self.total.data += values.sum()
        if sample_weight is not None:
            self.count.data += sample_weight.sum()
        elif values.ndim >= 1:
            self.count.data += values.shape[0]
        else:
            self.count.data += 1

    def result(self):
        xp = xp_of(self.total.data)
        return divide_no_nan(xp, self.total.data, self.count.data).astype(
            self.dtype, copy=False)


class MeanMetricWrapper(Mean):
    """Wraps a stateless metric function `fn(y_true, y_pred, **kwargs)`
    (returning per-sample values) with the `Mean` metric.

    Args:
        fn: The metric function to wrap.
        name: (Optional) string name of the metric instance.
        dtype: (Optional) data type of the metric result.
        **kwargs: Keyword arguments to pass on to `fn`.

    Example:

    >>> def mse(y_true, y_pred):
    ...     return (y_true - y_pred) ** 2
    >>> m = MeanMetricWrapper(fn=mse)
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None),
                         dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = getattr(y_pred, "_keras_mask", None)
        # Metrics never build autograd graphs: work on raw arrays.
        y_true = to_array(y_true)
        y_pred = to_array(y_pred)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        values = to_array(values)
        sample_weight = _fold_mask(sample_weight, mask, self.dtype)
        return super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        from gkeras.utils import object_registry
        config = super().get_config()
        config["fn"] = object_registry.serialize_keras_object(
            self._fn, "keras.metrics")
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config:
            from gkeras.metrics import deserialize
            config["fn"] = deserialize(config["fn"])
        return cls(**config)


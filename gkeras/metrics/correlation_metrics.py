"""Correlation metrics (`keras.metrics.PearsonCorrelation`,
`ConcordanceCorrelation` and their functions), Keras 3.15's math.

The functions are written with `gkeras.ops`, so they are differentiable
(usable in a loss) and run on NumPy or CuPy arrays alike; the metric
classes average their per-sample values over batches.
"""

from gkeras import backend
from gkeras import ops
from gkeras.losses.loss import squeeze_or_expand_to_same_rank
from gkeras.metrics.reduction_metrics import MeanMetricWrapper


def _prep(y_true, y_pred):
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true, dtype=y_pred.dtype)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def pearson_correlation(y_true, y_pred, axis=-1):
    """Computes the Pearson correlation coefficient between labels and
    predictions along `axis`.

    Args:
        y_true: Tensor of true targets.
        y_pred: Tensor of predicted targets.
        axis: Axis along which the coefficient is computed. Defaults to
            `-1`.

    Returns:
        The coefficients, `axis` reduced.

    Example:

    >>> y_true = [[0, 1, 0.5], [1, 1, 0.2]]
    >>> y_pred = [[0.1, 0.9, 0.5], [1, 0.9, 0.2]]
    >>> gkeras.metrics.pearson_correlation(y_true, y_pred)
    [1.         0.99339927]
    """
    y_true, y_pred = _prep(y_true, y_pred)
    y_true_norm = ops.subtract(y_true, ops.mean(y_true, axis=axis,
                                                keepdims=True))
    y_pred_norm = ops.subtract(y_pred, ops.mean(y_pred, axis=axis,
                                                keepdims=True))
    y_true_norm = ops.divide(y_true_norm, ops.std(y_true_norm, axis=axis,
                                                  keepdims=True))
    y_pred_norm = ops.divide(y_pred_norm, ops.std(y_pred_norm, axis=axis,
                                                  keepdims=True))
    return ops.mean(ops.multiply(y_true_norm, y_pred_norm), axis=axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Computes the concordance correlation coefficient between labels and
    predictions along `axis`, as Keras 3.15 does:
    `mean(2 * (y_true - mean(y_pred)) * (y_pred - mean(y_pred)) /
    (var(y_true) + var(y_pred) + (mean(y_true) - mean(y_pred))**2 + eps))`.

    (Keras centres the `y_true` factor on the mean of `y_pred`; gkeras
    keeps its formula so that results agree.)

    Args:
        y_true: Tensor of true targets.
        y_pred: Tensor of predicted targets.
        axis: Axis along which the coefficient is computed. Defaults to
            `-1`.

    Returns:
        The coefficients, `axis` reduced.

    Example:

    >>> y_true = [[0, 1, 0.5], [1, 1, 0.2]]
    >>> y_pred = [[0.1, 0.9, 0.5], [1, 0.9, 0.2]]
    >>> gkeras.metrics.concordance_correlation(y_true, y_pred)
    [0.97560976 0.98765432]
    """
    y_true, y_pred = _prep(y_true, y_pred)
    y_true_mean = ops.mean(y_true, axis=axis, keepdims=True)
    y_pred_mean = ops.mean(y_pred, axis=axis, keepdims=True)
    y_true_var = ops.var(ops.subtract(y_true, y_true_mean), axis=axis,
                         keepdims=True)
    y_pred_var = ops.var(ops.subtract(y_pred, y_pred_mean), axis=axis,
                         keepdims=True)
    covar = ops.multiply(ops.subtract(y_true, y_pred_mean),
                         ops.subtract(y_pred, y_pred_mean))
    norm = ops.add(ops.add(y_true_var, y_pred_var),
                   ops.square(ops.subtract(y_true_mean, y_pred_mean)))
    return ops.mean(ops.divide(ops.multiply(2.0, covar),
                               ops.add(norm, backend.epsilon())), axis=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """Calculates the Pearson correlation coefficient (PCC), averaged over
    the samples seen.

    Args:
        name: (Optional) string name of the metric instance. Defaults to
            `"pearson_correlation"`.
        dtype: (Optional) data type of the metric result.
        axis: (Optional) the axis (or axes) along which the coefficient is
            computed. Defaults to `-1`.

    Example:

    >>> pcc = gkeras.metrics.PearsonCorrelation(axis=-1)
    >>> pcc.update_state([[0, 1, 0.5], [1, 1, 0.2]],
    ...                  [[0.1, 0.9, 0.5], [1, 0.9, 0.2]])
    >>> float(pcc.result())
    0.9966996
    """

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(fn=pearson_correlation, name=name, dtype=dtype,
                         axis=axis)
        self.axis = axis
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class ConcordanceCorrelation(MeanMetricWrapper):
    """Calculates the concordance correlation coefficient (CCC), averaged
    over the samples seen (see `concordance_correlation`).

    Args:
        name: (Optional) string name of the metric instance. Defaults to
            `"concordance_correlation"`.
        dtype: (Optional) data type of the metric result.
        axis: (Optional) the axis (or axes) along which the coefficient is
            computed. Defaults to `-1`.

    Example:

    >>> ccc = gkeras.metrics.ConcordanceCorrelation(axis=-1)
    >>> ccc.update_state([[0, 1, 0.5], [1, 1, 0.2]],
    ...                  [[0.1, 0.9, 0.5], [1, 0.9, 0.2]])
    >>> float(ccc.result())
    0.98163205
    """

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(fn=concordance_correlation, name=name, dtype=dtype,
                         axis=axis)
        self.axis = axis
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

"""`R2Score`: the coefficient of determination, accumulated over batches."""

import warnings

from gkeras.metrics.metric import Metric, squeeze_or_expand_to_same_rank, \
    to_array, xp_of

_AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")


class R2Score(Metric):
    """Computes R2 score: `1 - sum((y - y_pred)^2) / sum((y - mean(y))^2)`.

    Statistics are accumulated per output column over every batch, so the
    result is the R2 of all the data seen, not a mean of batch scores.

    Args:
        class_aggregation: how the per-output scores combine: `None` (one
            score per output), `"uniform_average"` (default, their mean)
            or `"variance_weighted_average"` (weighted by each output's
            total variance).
        num_regressors: number of independent regressors; when positive,
            the adjusted R2 `1 - (1 - R2) (n - 1) / (n - p - 1)` is
            returned (it falls back to the plain score, with a warning,
            when `p >= n - 1`).
        name: (Optional) string name of the metric instance.
        dtype: (Optional) data type of the metric result.

    Example:

    >>> y_true = np.array([[1], [4], [3]], dtype=np.float32)
    >>> y_pred = np.array([[2], [4], [4]], dtype=np.float32)
    >>> m = gkeras.metrics.R2Score()
    >>> m.update_state(y_true, y_pred)
    >>> float(m.result())
    0.57142854
    """

    def __init__(self, class_aggregation="uniform_average", num_regressors=0,
                 name="r2_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        if class_aggregation not in _AGGREGATIONS:
            raise ValueError(
                "Invalid value for argument `class_aggregation`. Expected "
                f"one of {_AGGREGATIONS}. Received: "
                f"class_aggregation={class_aggregation}")
        if num_regressors < 0:
            raise ValueError(
                "Invalid value for argument `num_regressors`. Expected a "
                f"value >= 0. Received: num_regressors={num_regressors}")
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable(shape=(), name="num_samples")
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(
                "R2Score expects 2D inputs with shape (batch_size, "
                f"output_dim). Received input shapes: y_pred.shape="
                f"{tuple(y_pred_shape)} and y_true.shape="
                f"{tuple(y_true_shape)}.")
        n = y_pred_shape[-1]
        self.squared_sum = self.add_variable(shape=(n,), name="squared_sum")
        self.sum = self.add_variable(shape=(n,), name="sum")
        self.total_mse = self.add_variable(shape=(n,), name="residual")
        self.count = self.add_variable(shape=(n,), name="count")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulates the per-output sums of one batch.

        Args:
            y_true: `(batch, outputs)` targets.
            y_pred: `(batch, outputs)` predictions.
            sample_weight: optional scalar, `(batch,)` or `(batch,
                outputs)` weights.
        """
        y_true = to_array(y_true, self.dtype)
        y_pred = to_array(y_pred, self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        xp = xp_of(y_true)
        w = xp.asarray(1.0 if sample_weight is None
                       else to_array(sample_weight, self.dtype),
                       dtype=y_true.dtype)
        if w.ndim == 1:
            w = w[:, None]
        w = xp.broadcast_to(w, y_true.shape)
        wy = y_true * w
        self.sum.data += wy.sum(axis=0)
        self.squared_sum.data += (y_true * wy).sum(axis=0)
        self.total_mse.data += ((y_true - y_pred) ** 2 * w).sum(axis=0)
        self.count.data += w.sum(axis=0)
        self.num_samples.data += y_true.size

    def result(self):
        if not self._built:
            raise ValueError("R2Score: `result()` called before any "
                             "`update_state()`; there is no data yet.")
        xp = xp_of(self.sum.data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = self.sum.data / self.count.data
            total = self.squared_sum.data - self.sum.data * mean
            raw = 1.0 - self.total_mse.data / total
        raw = xp.where(xp.isinf(raw), 0.0, raw).astype(self.sum.data.dtype)
        if self.class_aggregation == "uniform_average":
            r2 = raw.mean()
        elif self.class_aggregation == "variance_weighted_average":
            r2 = (total * raw).sum() / total.sum()
        else:
            r2 = raw
        p = self.num_regressors
        if p != 0:
            n = float(self.num_samples.data)
            if p > n - 1:
                warnings.warn("More independent predictors than datapoints "
                              "in adjusted R2 score. Falling back to "
                              "standard R2 score.", stacklevel=2)
            elif p == n - 1:
                warnings.warn("Division by zero in Adjusted R2 score. "
                              "Falling back to standard R2 score.",
                              stacklevel=2)
            else:
                r2 = 1.0 - (1.0 - r2) * (n - 1.0) / (n - p - 1.0)
        return xp.asarray(r2, dtype=self.sum.data.dtype)

    def get_config(self):
        return {**super().get_config(),
                "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}

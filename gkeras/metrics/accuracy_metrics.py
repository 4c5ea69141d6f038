"""Accuracy metrics (`keras.metrics.*Accuracy`), computed on raw arrays."""

from gkeras import backend
from gkeras.metrics.metric import squeeze_or_expand_to_same_rank, to_array, \
    xp_of
from gkeras.metrics.reduction_metrics import MeanMetricWrapper


def accuracy(y_true, y_pred):
    """1.0 where `y_true == y_pred`, else 0.0 (per element)."""
    y_pred = to_array(y_pred)
    y_true = to_array(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return (y_true == y_pred).astype(backend.floatx())


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where `y_true == (y_pred > threshold)`, else 0.0."""
    y_pred = to_array(y_pred)
    y_true = to_array(y_true)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_pred = (y_pred > threshold).astype(y_true.dtype)
    return (y_true == y_pred).astype(backend.floatx())


def categorical_accuracy(y_true, y_pred):
    """1.0 where `argmax(y_true) == argmax(y_pred)` (one-hot targets)."""
    y_pred = to_array(y_pred)
    y_true = to_array(y_true)
    xp = xp_of(y_pred)
    y_true = xp.argmax(y_true, axis=-1)
    reshape = False
    org_shape = y_true.shape
    if y_true.ndim == y_pred.ndim:
        y_true = y_true[..., 0] if y_true.shape[-1] == 1 else y_true
        reshape = True
    y_pred = xp.argmax(y_pred, axis=-1)
    matches = (y_true == y_pred).astype(backend.floatx())
    return matches.reshape(org_shape) if reshape else matches


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where `y_true == argmax(y_pred)` (integer targets)."""
    y_pred = to_array(y_pred)
    y_true = to_array(y_true)
    xp = xp_of(y_pred)
    reshape = False
    org_shape = y_true.shape
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
        reshape = True
    y_pred = xp.argmax(y_pred, axis=-1)
    if y_pred.dtype != y_true.dtype:
        y_pred = y_pred.astype(y_true.dtype)
    matches = (y_true == y_pred).astype(backend.floatx())
    return matches.reshape(org_shape) if reshape else matches


def _in_top_k(xp, targets, predictions, k):
    """True where the target's score is among the top `k` (ties count
    in, as TF/Keras)."""
    t = targets.astype("int64")[..., None]
    score = xp.take_along_axis(predictions, t, axis=-1)
    return (predictions > score).sum(axis=-1) < k


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the target class (argmax of one-hot `y_true`) is among
    the `k` highest predictions."""
    y_pred = to_array(y_pred)
    y_true = to_array(y_true)
    xp = xp_of(y_pred)
    y_true = xp.argmax(y_true, axis=-1)
    org_shape = y_true.shape
    if y_pred.ndim > 2:
        y_pred = y_pred.reshape(-1, y_pred.shape[-1])
        y_true = y_true.reshape(-1)
    m = _in_top_k(xp, y_true, y_pred, k).astype(backend.floatx())
    return m.reshape(org_shape)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5,
                                      from_sorted_ids=False):
    """1.0 where the integer target is among the `k` highest predictions
    (or, with `from_sorted_ids=True`, among the first `k` ids of
    `y_pred`, which then holds class ids sorted by score)."""
    y_pred = to_array(y_pred)
    y_true = to_array(y_true)
    xp = xp_of(y_pred)
    org_shape = y_true.shape
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
        org_shape = y_true.shape
    if y_pred.ndim > 2:
        y_pred = y_pred.reshape(-1, y_pred.shape[-1])
        y_true = y_true.reshape(-1)
    if from_sorted_ids:
        m = (y_true[:, None].astype(y_pred.dtype) == y_pred[:, :k]).any(
            axis=1)
    else:
        m = _in_top_k(xp, y_true, y_pred, k)
    return m.astype(backend.floatx()).reshape(org_shape)


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels.

    Args:
        name: (Optional) string name of the metric instance.
        dtype: (Optional) data type of the metric result.

    Example:

    >>> m = Accuracy()
    >>> m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]])
    >>> float(m.result())
    0.75
    """

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(fn=accuracy, name=name, dtype=dtype)
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class BinaryAccuracy(MeanMetricWrapper):
    """How often predictions match binary labels (`y_pred > threshold`).

    Args:
        name: (Optional) string name of the metric instance.
        dtype: (Optional) data type of the metric result.
        threshold: Float, the threshold for deciding whether prediction
            values are 1 or 0. Defaults to `0.5`.
    """

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(fn=binary_accuracy, name=name, dtype=dtype,
                         threshold=threshold)
        self.threshold = threshold
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype,
                "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of predictions matches the one-hot labels.

    Args:
        name: (Optional) string name of the metric instance.
        dtype: (Optional) data type of the metric result.
    """

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(fn=categorical_accuracy, name=name, dtype=dtype)
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of predictions matches the integer labels.

    Args:
        name: (Optional) string name of the metric instance.
        dtype: (Optional) data type of the metric result.
    """

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(fn=sparse_categorical_accuracy, name=name,
                         dtype=dtype)
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target is in the top `k` predictions.

    Args:
        k: Number of top elements to look at. Defaults to `5`.
        name: (Optional) string name of the metric instance.
        dtype: (Optional) data type of the metric result.
    """

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(fn=top_k_categorical_accuracy, name=name,
                         dtype=dtype, k=k)
        self.k = k
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer target is in the top `k` predictions.

    Args:
        k: Number of top elements to look at. Defaults to `5`.
        name: (Optional) string name of the metric instance.
        dtype: (Optional) data type of the metric result.
        from_sorted_ids: When `True`, `y_pred` holds class ids sorted by
            score (the first `k` are compared with the target).
    """

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy",
                 dtype=None, from_sorted_ids=False):
        super().__init__(fn=sparse_top_k_categorical_accuracy, name=name,
                         dtype=dtype, k=k, from_sorted_ids=from_sorted_ids)
        self.k = k
        self.from_sorted_ids = from_sorted_ids
        self._direction = "up"

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config

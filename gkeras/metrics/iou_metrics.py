"""Intersection-over-Union metrics (Keras 3 `iou_metrics`): `IoU`,
`BinaryIoU`, `MeanIoU`, `OneHotIoU`, `OneHotMeanIoU`.

Each accumulates a `(num_classes, num_classes)` confusion matrix (rows:
true class, columns: predicted) over every batch; the result is
`TP / (TP + FP + FN)` averaged over the target classes that occurred.
"""

import warnings

import numpy as np

from gkeras import backend
from gkeras.metrics.metric import Metric, to_array, xp_of


class _IoUBase(Metric):
    """The shared confusion-matrix state of the IoU metrics.

    Args:
        num_classes: number of classes (labels in `[0, num_classes)`;
            others are ignored).
        name, dtype: metric name and the confusion matrix's dtype
            (default `"int32"`, as Keras).
        ignore_class: optional label whose entries are not counted.
        sparse_y_true, sparse_y_pred: whether the labels / predictions are
            class ids (True) or per-class scores to `argmax` over `axis`.
        axis: the class axis of dense inputs.
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=dtype or "int32")
        self._direction = "up"
        self.num_classes = int(num_classes)
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_variable(
            shape=(self.num_classes, self.num_classes),
            name="total_confusion_matrix", dtype=self.dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds a batch to the confusion matrix.

        Args:
            y_true: class ids (or scores with `sparse_y_true=False`).
            y_pred: class ids (or scores with `sparse_y_pred=False`).
            sample_weight: optional weights broadcastable to the labels.
        """
        y_true, y_pred = to_array(y_true), to_array(y_pred)
        xp = xp_of(y_true)
        if not self.sparse_y_true:
            y_true = xp.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = xp.argmax(y_pred, axis=self.axis)
        y_true = y_true.reshape(-1).astype("int64")
        y_pred = xp.asarray(y_pred).reshape(-1).astype("int64")
        if y_true.shape != y_pred.shape:
            raise ValueError(
                f"{type(self).__name__}: `y_true` and `y_pred` must hold the "
                f"same number of labels. Received {y_true.size} and "
                f"{y_pred.size}.")
        if sample_weight is None:
            w = xp.ones(y_true.shape, self.dtype)
        else:
            w = to_array(sample_weight)
            if w.dtype.kind == "f" and np.dtype(self.dtype).kind in "iu":
                warnings.warn(
                    "You are passing weight as `float`, but dtype is `int`. "
                    "This may result in an incorrect weight due to type "
                    "casting Consider using integer weights.", stacklevel=2)
            w = xp.broadcast_to(w.reshape(-1) if w.ndim > 1 else w,
                                y_true.shape).astype(self.dtype)
        n = self.num_classes
        keep = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            keep &= y_true != self.ignore_class
        # Masked by weight 0, not by boolean indexing (which needs the
        # number of kept entries on the host: a sync per step on the GPU),
        # and summed with the deterministic scatter-add, not bincount
        # (whose output size is read back too).
        idx = xp.where(keep, y_true * n + y_pred, 0)
        wk = xp.where(keep, w.astype(self.dtype), 0)
        counts = xp.zeros(n * n, self.dtype)
        backend.kernels_for(counts).scatter_add(counts, idx, wk)
        self.total_cm.data += counts.reshape(n, n)


class IoU(_IoUBase):
    """Computes the Intersection-Over-Union of chosen classes.

    `IoU = TP / (TP + FP + FN)` per class from the accumulated confusion
    matrix, averaged over `target_class_ids` (classes that never appear in
    labels or predictions are left out of the mean).

    Args:
        num_classes: number of classes.
        target_class_ids: the class ids whose IoU is averaged.
        name, dtype, ignore_class, sparse_y_true, sparse_y_pred, axis: see
            `MeanIoU`.

    Example:
    >>> m = gkeras.metrics.IoU(num_classes=2, target_class_ids=[0])
    >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    >>> float(m.result())  # class 0: 1 / (2 + 2 - 1)
    0.33333334
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None,
                 ignore_class=None, sparse_y_true=True, sparse_y_pred=True,
                 axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype,
                         ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)
        if max(target_class_ids) >= num_classes:
            raise ValueError(
                f"Target class id {max(target_class_ids)} is out of range, "
                f"which is [0, {num_classes}).")
        self.target_class_ids = list(target_class_ids)

    def result(self):
        cm = self.total_cm.data.astype("float32")
        xp = xp_of(cm)
        tp = xp.diagonal(cm)
        denom = cm.sum(axis=0) + cm.sum(axis=1) - tp
        ids = xp.asarray(self.target_class_ids)
        tp, denom = tp[ids], denom[ids]
        valid = denom > 1e-9
        iou = xp.where(valid, tp / (denom + backend.epsilon()), 0.0)
        return (iou.sum() / (valid.sum() + backend.epsilon())).astype(
            "float32")

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids,
                "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class BinaryIoU(IoU):
    """IoU of binary predictions thresholded at `threshold`.

    Args:
        target_class_ids: which of the classes 0 and 1 are averaged
            (default both).
        threshold: predictions `>= threshold` count as class 1.
        name, dtype: see `Metric`.

    Example:
    >>> m = gkeras.metrics.BinaryIoU(target_class_ids=[1], threshold=0.5)
    >>> m.update_state([0, 1, 1], [0.3, 0.6, 0.2])
    >>> float(m.result())  # 1 / (1 + 2 - 1)
    0.5
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None,
                 dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids,
                         name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = to_array(y_pred).astype("float32") >= self.threshold
        return super().update_state(y_true, y_pred.astype("int32"),
                                    sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids,
                "threshold": self.threshold, "name": self.name,
                "dtype": self.dtype}


class MeanIoU(IoU):
    """Computes the mean Intersection-Over-Union over all classes.

    Args:
        num_classes: number of classes.
        name: (Optional) name of the metric instance.
        dtype: (Optional) dtype of the confusion matrix (default int32).
        ignore_class: optional label whose entries are not counted (e.g. a
            "void" class in segmentation).
        sparse_y_true: labels are class ids (default) or one-hot/scores.
        sparse_y_pred: predictions are class ids (default) or scores to
            `argmax`.
        axis: the class axis of dense labels/predictions.

    Example:
    >>> m = gkeras.metrics.MeanIoU(num_classes=2)
    >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    >>> float(m.result())
    0.33333334
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, list(range(num_classes)), name=name,
                         dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name,
                "dtype": self.dtype, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotIoU(IoU):
    """`IoU` for one-hot labels and per-class scores (argmax over `axis`).

    Args:
        num_classes, target_class_ids, name, dtype, ignore_class, axis: see
            `IoU`.
        sparse_y_pred: predictions are class ids instead of scores.
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None,
                 ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, target_class_ids, name=name,
                         dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred,
                         axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids,
                "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotMeanIoU(MeanIoU):
    """`MeanIoU` for one-hot labels and per-class scores.

    Args:
        num_classes, name, dtype, ignore_class, axis: see `MeanIoU`.
        sparse_y_pred: predictions are class ids instead of scores.
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name,
                "dtype": self.dtype, "ignore_class": self.ignore_class,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}

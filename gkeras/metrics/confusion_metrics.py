"""Confusion-matrix metrics: TruePositives..., Precision, Recall, AUC,
F1Score/FBetaScore (Keras 3 semantics), accumulated on the device."""

import numpy as np

from gkeras import backend
from gkeras.backend.device_constants import device_constant
from gkeras.metrics.metric import Metric, divide_no_nan, \
    squeeze_or_expand_to_same_rank, to_array, xp_of

NEG_INF = -1e10


def _thresholds_list(thresholds, default):
    if thresholds is None:
        return [default]
    if isinstance(thresholds, (list, tuple, np.ndarray)):
        t = [float(x) for x in thresholds]
    else:
        t = [float(thresholds)]
    for x in t:
        if not (0 <= x <= 1) and x != NEG_INF:
            raise ValueError(
                "Threshold values must be in [0, 1]. Received: "
                f"thresholds={thresholds}")
    return t


def update_confusion_matrix_variables(variables, y_true, y_pred, thresholds,
                                      top_k=None, class_id=None,
                                      sample_weight=None, multi_label=False,
                                      label_weights=None):
    """Adds the weighted counts of true/false positives/negatives at each
    threshold (`y_pred > threshold` is a positive) to `variables` (a dict
    with keys among "tp", "fp", "tn", "fn" holding Variables)."""
    y_pred = to_array(y_pred, "float32")
    y_true = to_array(y_true)
    xp = xp_of(y_pred)
    y_true = (y_true != 0) if y_true.dtype != bool else y_true
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    if sample_weight is not None:
        sample_weight = to_array(sample_weight, "float32")
        y_pred_sq, sample_weight = squeeze_or_expand_to_same_rank(
            y_pred, sample_weight)
    if top_k is not None:
        # Exactly k entries per row (ties: the first ones, as top_k).
        kw = {"kind": "stable"} if xp is np else {}
        order = xp.argsort(-y_pred, axis=-1, **kw)
        ranks = xp.argsort(order, axis=-1, **kw)
        y_pred = xp.where(ranks < top_k, y_pred, NEG_INF)
    if class_id is not None:
        y_true = y_true[..., class_id]
        y_pred = y_pred[..., class_id]
        if sample_weight is not None and sample_weight.ndim == y_pred.ndim \
                + 1:
            sample_weight = sample_weight[..., class_id]
    # The thresholds (up to a few hundred) live on the device once.
    thr = device_constant(thresholds, "float32") if xp is not np else \
        np.asarray(thresholds, dtype="float32")
    if multi_label:
        # (N, L) -> counts of shape (T, L)
        yp = y_pred.reshape(-1, y_pred.shape[-1])
        yt = y_true.reshape(-1, y_true.shape[-1])
        w = None
        if sample_weight is not None:
            w = xp.broadcast_to(sample_weight.reshape(
                sample_weight.shape + (1,) * (y_pred.ndim - sample_weight.ndim)),
                y_pred.shape).reshape(yp.shape)
        if label_weights is not None:
            lw = xp.asarray(np.asarray(label_weights, dtype="float32"))
            w = lw if w is None else w * lw
        pos = yp[None] > thr[:, None, None]
        lab = yt[None]

        def count(mask):
            m = mask.astype("float32")
            return (m * w).sum(axis=1) if w is not None else m.sum(axis=1)
    else:
        yp = y_pred.reshape(-1)
        yt = y_true.reshape(-1)
        w = None
        if sample_weight is not None:
            sw = sample_weight.reshape(
                sample_weight.shape + (1,) * (y_pred.ndim - sample_weight.ndim))
            w = xp.broadcast_to(sw, y_pred.shape).reshape(-1)
        pos = yp[None] > thr[:, None]
        lab = yt[None]

        def count(mask):
            m = mask.astype("float32")
            return m @ w if w is not None else m.sum(axis=1)
    if "tp" in variables:
        variables["tp"].data += count(pos & lab)
    if "fp" in variables:
        variables["fp"].data += count(pos & ~lab)
    if "tn" in variables:
        variables["tn"].data += count(~pos & ~lab)
    if "fn" in variables:
        variables["fn"].data += count(~pos & lab)


class _ConfusionMatrixConditionCount(Metric):
    _key = None

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = _thresholds_list(thresholds, 0.5)
        self._thresholds_distributed_evenly = False
        self.accumulator = self.add_variable(
            shape=(len(self.thresholds),), name="accumulator")

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulates the count for each threshold."""
        update_confusion_matrix_variables(
            {self._key: self.accumulator}, y_true, y_pred, self.thresholds,
            sample_weight=sample_weight)

    def result(self):
        if len(self.thresholds) == 1:
            return self.accumulator.data[0].copy()
        return self.accumulator.data.copy()

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixConditionCount):
    """Calculates the (weighted) number of true positives.

    Args:
        thresholds: (Optional) a float or list of floats in [0, 1];
            `y_pred > threshold` is a positive. Defaults to 0.5.
        name: (Optional) string name of the metric instance.
        dtype: (Optional) data type of the metric result.
    """
    _key = "tp"


class FalsePositives(_ConfusionMatrixConditionCount):
    """Calculates the (weighted) number of false positives (see
    `TruePositives` for the arguments)."""
    _key = "fp"


class TrueNegatives(_ConfusionMatrixConditionCount):
    """Calculates the (weighted) number of true negatives (see
    `TruePositives` for the arguments)."""
    _key = "tn"


class FalseNegatives(_ConfusionMatrixConditionCount):
    """Calculates the (weighted) number of false negatives (see
    `TruePositives` for the arguments)."""
    _key = "fn"


class Precision(Metric):
    """Computes the precision of the predictions: `tp / (tp + fp)`.

    Args:
        thresholds: (Optional) a float or list of floats in [0, 1];
            `y_pred > threshold` is a positive. Defaults to 0.5 (or, with
            `top_k`, no threshold). A list gives one result per threshold.
        top_k: (Optional) only the `top_k` highest predictions per sample
            count as positives.
        class_id: (Optional) the class whose precision is computed.
        name: (Optional) string name of the metric instance.
        dtype: (Optional) data type of the metric result.

    Example:

    >>> m = Precision()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> float(m.result())
    0.6666667
    """

    _second = ("fp", "false_positives")

    def __init__(self, thresholds=None, top_k=None, class_id=None,
                 name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = 0.5 if top_k is None else NEG_INF
        self.thresholds = _thresholds_list(thresholds, default)
        self._thresholds_distributed_evenly = False
        n = len(self.thresholds)
        self.true_positives = self.add_variable((n,), name="true_positives")
        setattr(self, self._second[1],
                self.add_variable((n,), name=self._second[1]))

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulates true positive and false positive statistics."""
        update_confusion_matrix_variables(
            {"tp": self.true_positives,
             self._second[0]: getattr(self, self._second[1])},
            y_true, y_pred, self.thresholds, top_k=self.top_k,
            class_id=self.class_id, sample_weight=sample_weight)

    def result(self):
        tp = self.true_positives.data
        other = getattr(self, self._second[1]).data
        r = divide_no_nan(xp_of(tp), tp, tp + other)
        return r[0] if len(self.thresholds) == 1 else r

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Recall(Precision):
    """Computes the recall of the predictions: `tp / (tp + fn)`.

    Args:
        thresholds, top_k, class_id, name, dtype: as `Precision`.
    """

    _second = ("fn", "false_negatives")


class AUC(Metric):
    """Approximates the AUC (area under the ROC or PR curve) with a
    Riemann sum over `num_thresholds` thresholds, as Keras.

    Thresholds are `[0 - eps, 1/(n-1), ..., (n-2)/(n-1), 1 + eps]` (or
    the given ones, framed by `-eps` and `1 + eps`); the curve's points
    come from the confusion counts at each threshold; with
    `summation_method="interpolation"` the ROC area uses the trapezoidal
    rule and the PR area Davis & Goadrich's interpolation.

    Args:
        num_thresholds: number of thresholds (> 1). Defaults to 200.
        curve: `"ROC"` (default) or `"PR"`.
        summation_method: `"interpolation"` (default), `"minoring"` or
            `"majoring"`.
        name: (Optional) string name of the metric instance.
        dtype: (Optional) data type of the metric result.
        thresholds: (Optional) list of thresholds in [0, 1], overriding
            `num_thresholds`.
        multi_label: whether inputs are multi-label `(N, L)`: one curve per
            label, then the (label-weighted) mean of the areas.
        num_labels: number of labels (multi-label), else inferred.
        label_weights: (Optional) per-label weights.
        from_logits: whether predictions are logits (a sigmoid is applied).
    """

    def __init__(self, num_thresholds=200, curve="ROC",
                 summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        curve = str(curve).upper()
        if curve not in ("ROC", "PR"):
            raise ValueError('Invalid `curve` argument value "{}". Expected '
                             'one of: ["ROC", "PR"]'.format(curve))
        summation_method = str(summation_method).lower()
        if summation_method not in ("interpolation", "minoring",
                                    "majoring"):
            raise ValueError(
                f'Invalid `summation_method` argument value '
                f'"{summation_method}". Expected one of: '
                '["interpolation", "minoring", "majoring"]')
        self.curve = curve
        self.summation_method = summation_method
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = (None if label_weights is None
                              else [float(x) for x in np.ravel(label_weights)])
        self._from_logits = from_logits
        eps = 1e-7
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            thresholds = sorted(float(t) for t in thresholds)
            self._thresholds_distributed_evenly = False
        else:
            if num_thresholds <= 1:
                raise ValueError("Argument `num_thresholds` must be an "
                                 "integer > 1. Received: num_thresholds="
                                 f"{num_thresholds}")
            self.num_thresholds = num_thresholds
            thresholds = [(i + 1) * 1.0 / (num_thresholds - 1)
                          for i in range(num_thresholds - 2)]
            self._thresholds_distributed_evenly = True
        self._thresholds = np.array([0.0 - eps] + thresholds + [1.0 + eps])
        self._built = False
        if not multi_label or num_labels is not None:
            self._build(num_labels)

    @property
    def thresholds(self):
        """The thresholds used to evaluate the AUC."""
        return list(self._thresholds)

    def _build(self, num_labels):
        shape = ((self.num_thresholds,) if not self.multi_label
                 else (self.num_thresholds, num_labels))
        self.num_labels = num_labels if self.multi_label else None
        self.true_positives = self.add_variable(shape, name="true_positives")
        self.false_positives = self.add_variable(shape,
                                                 name="false_positives")
        self.true_negatives = self.add_variable(shape, name="true_negatives")
        self.false_negatives = self.add_variable(shape,
                                                 name="false_negatives")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulates confusion-matrix statistics."""
        y_pred = to_array(y_pred, "float32")
        if not self._built:
            self._build(y_pred.shape[-1])
        if self._from_logits:
            xp = xp_of(y_pred)
            y_pred = 1.0 / (1.0 + xp.exp(-y_pred))
        update_confusion_matrix_variables(
            {"tp": self.true_positives, "fp": self.false_positives,
             "tn": self.true_negatives, "fn": self.false_negatives},
            y_true, y_pred, self._thresholds, sample_weight=sample_weight,
            multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights)

    def _interpolate_pr_auc(self, xp, tp, fp, fn):
        n = self.num_thresholds
        dtp = tp[:n - 1] - tp[1:]
        p = tp + fp
        dp = p[:n - 1] - p[1:]
        prec_slope = divide_no_nan(xp, dtp, xp.maximum(dp, 0))
        intercept = tp[1:] - prec_slope * p[1:]
        both = (p[:n - 1] > 0) & (p[1:] > 0)
        safe_p_ratio = xp.where(
            both, divide_no_nan(xp, p[:n - 1], xp.maximum(p[1:], 0)), 1.0)
        inc = divide_no_nan(
            xp, prec_slope * (dtp + intercept * xp.log(safe_p_ratio)),
            xp.maximum(tp[1:] + fn[1:], 0))
        return inc.sum(axis=0)

    def result(self):
        if not self._built:
            return np.float32(0.0)
        tp = self.true_positives.data.astype("float64")
        fp = self.false_positives.data.astype("float64")
        tn = self.true_negatives.data.astype("float64")
        fn = self.false_negatives.data.astype("float64")
        xp = xp_of(tp)
        if self.curve == "PR" and self.summation_method == "interpolation":
            by_label = self._interpolate_pr_auc(xp, tp, fp, fn)
        else:
            recall = divide_no_nan(xp, tp, tp + fn)
            if self.curve == "ROC":
                x = divide_no_nan(xp, fp, fp + tn)
                y = recall
            else:
                x = recall
                y = divide_no_nan(xp, tp, tp + fp)
            if self.summation_method == "interpolation":
                heights = (y[:-1] + y[1:]) / 2.0
            elif self.summation_method == "minoring":
                heights = xp.minimum(y[:-1], y[1:])
            else:
                heights = xp.maximum(y[:-1], y[1:])
            by_label = ((x[:-1] - x[1:]) * heights).sum(axis=0)
        if self.multi_label:
            if self.label_weights is None:
                out = by_label.mean()
            else:
                lw = xp.asarray(np.asarray(self.label_weights))
                out = divide_no_nan(xp, (by_label * lw).sum(), lw.sum())
        else:
            out = by_label
        return out.astype(self.dtype)

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        config = {
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": self.label_weights,
            "from_logits": self._from_logits,
        }
        if not self._thresholds_distributed_evenly:
            config["thresholds"] = [float(t) for t in self._thresholds[1:-1]]
        return {**super().get_config(), **config}


class FBetaScore(Metric):
    """Computes the F-Beta score:
    `(1 + beta^2) * precision * recall / (beta^2 * precision + recall)`.

    Args:
        average: None (one score per class), `"micro"`, `"macro"` or
            `"weighted"`.
        beta: weight of recall relative to precision. Defaults to 1.
        threshold: predictions above it count as positives; None: the
            per-sample argmax is the positive.
        name: (Optional) string name of the metric instance.
        dtype: (Optional) data type of the metric result.
    """

    def __init__(self, average=None, beta=1.0, threshold=None,
                 name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(
                "Invalid `average` argument value. Expected one of: "
                "[None, 'micro', 'macro', 'weighted']. Received: "
                f"average={average}")
        if not isinstance(beta, float):
            raise ValueError("Invalid `beta` argument value. It should be a "
                             f"Python float. Received: beta={beta} of type "
                             f"{type(beta)}")
        if beta <= 0.0:
            raise ValueError("Invalid `beta` argument value. It should be "
                             f"> 0. Received: beta={beta}")
        if threshold is not None and not (0 < threshold <= 1):
            raise ValueError("Invalid `threshold` argument value. It should "
                             "be a Python float in the range ]0, 1]. "
                             f"Received: threshold={threshold}")
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, num_classes):
        shape = () if self.average == "micro" else (num_classes,)
        self.true_positives = self.add_variable(shape, name="true_positives")
        self.false_positives = self.add_variable(shape,
                                                 name="false_positives")
        self.false_negatives = self.add_variable(shape,
                                                 name="false_negatives")
        self.intermediate_weights = self.add_variable(
            shape, name="intermediate_weights")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = to_array(y_pred, self.dtype)
        y_true = to_array(y_true, self.dtype)
        xp = xp_of(y_pred)
        if not self._built:
            self._build(y_pred.shape[-1])
        if self.threshold is None:
            thr = y_pred.max(axis=-1, keepdims=True)
            y_pred = (y_pred >= thr) & (xp.abs(y_pred) > 1e-9)
        else:
            y_pred = y_pred > self.threshold
        y_pred = y_pred.astype(self.dtype)

        def wsum(val):
            if sample_weight is not None:
                sw = to_array(sample_weight, self.dtype)
                val = val * sw.reshape(sw.shape[0], 1)
            return val.sum(axis=self.axis)

        self.true_positives.data += wsum(y_pred * y_true)
        self.false_positives.data += wsum(y_pred * (1 - y_true))
        self.false_negatives.data += wsum((1 - y_pred) * y_true)
        self.intermediate_weights.data += wsum(y_true)

    def result(self):
        tp = self.true_positives.data
        eps = backend.epsilon()
        xp = xp_of(tp)
        precision = tp / (tp + self.false_positives.data + eps)
        recall = tp / (tp + self.false_negatives.data + eps)
        b2 = self.beta ** 2
        f = precision * recall / (b2 * precision + recall + eps) * (1 + b2)
        if self.average == "weighted":
            w = self.intermediate_weights.data
            f = (f * w / (w.sum() + eps)).sum()
        elif self.average is not None:
            f = f.mean()
        return xp.asarray(f, dtype=self.dtype)

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype,
                "beta": self.beta, "average": self.average,
                "threshold": self.threshold}


class F1Score(FBetaScore):
    """Computes the F1 score: `2 * precision * recall / (precision +
    recall)` (see `FBetaScore` for the arguments).

    Example:

    >>> m = F1Score(threshold=0.5)
    >>> m.update_state(y_true, y_pred)
    """

    def __init__(self, average=None, threshold=None, name="f1_score",
                 dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold,
                         name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config

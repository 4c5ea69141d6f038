"""Metrics at an operating point (`keras.metrics.SensitivityAtSpecificity`,
`SpecificityAtSensitivity`, `PrecisionAtRecall`, `RecallAtPrecision`):
confusion counts at `num_thresholds` evenly spaced thresholds, accumulated
on the device; the result is the best value of one rate among the
thresholds where the other meets the constraint."""

from gkeras.metrics.confusion_metrics import update_confusion_matrix_variables
from gkeras.metrics.metric import Metric, divide_no_nan, xp_of


class SensitivitySpecificityBase(Metric):
    """Abstract base of the metrics that compute one rate at a fixed value
    of another (Keras's `SensitivitySpecificityBase`).

    Args:
        value: the constraint value, in `[0, 1]`.
        num_thresholds: number of thresholds to evaluate, evenly spaced in
            `[0, 1]` (one threshold: 0.5). Defaults to `200`.
        class_id: (Optional) the class (last-axis index) the metric is
            computed for.
        name: (Optional) string name of the metric instance.
        dtype: (Optional) data type of the metric result.
    """

    def __init__(self, value, num_thresholds=200, class_id=None, name=None,
                 dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        if num_thresholds <= 0:
            raise ValueError(
                f"Argument `num_thresholds` of {type(self).__name__} must be "
                f"an integer > 0. Received: num_thresholds={num_thresholds}")
        self.value = value
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds = [0.5]
            self._thresholds_distributed_evenly = False
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1)
                     for i in range(num_thresholds - 2)]
            self.thresholds = [0.0] + inner + [1.0]
            self._thresholds_distributed_evenly = True
        n = len(self.thresholds)
        self.true_positives = self.add_variable((n,), name="true_positives")
        self.false_positives = self.add_variable((n,),
                                                 name="false_positives")
        self.true_negatives = self.add_variable((n,), name="true_negatives")
        self.false_negatives = self.add_variable((n,),
                                                 name="false_negatives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulates the confusion counts at every threshold.

        Args:
            y_true: the ground truth (non-zero is positive).
            y_pred: the predictions, in `[0, 1]`.
            sample_weight: (Optional) per-sample weights.
        """
        update_confusion_matrix_variables(
            {"tp": self.true_positives, "tn": self.true_negatives,
             "fp": self.false_positives, "fn": self.false_negatives},
            y_true, y_pred, self.thresholds, class_id=self.class_id,
            sample_weight=sample_weight)

    def _rates(self):
        tp = self.true_positives.data
        fp = self.false_positives.data
        tn = self.true_negatives.data
        fn = self.false_negatives.data
        xp = xp_of(tp)
        return {
            "sensitivity": divide_no_nan(xp, tp, tp + fn),
            "specificity": divide_no_nan(xp, tn, tn + fp),
            "precision": divide_no_nan(xp, tp, tp + fp),
        }

    def _find_max_under_constraint(self, constrained, dependent):
        """The largest `dependent` where `constrained >= value` (0 when no
        threshold qualifies)."""
        xp = xp_of(dependent)
        feasible = constrained >= self.value
        best = xp.max(xp.where(feasible, dependent, 0))
        return xp.maximum(best, 0).astype(self.dtype, copy=False)

    def get_config(self):
        return {**super().get_config(), "class_id": self.class_id}


def _check_range(cls_name, arg, value):
    if value < 0 or value > 1:
        raise ValueError(f"Argument `{arg}` of {cls_name} must be in the "
                         f"range [0, 1]. Received: {arg}={value}")


class SensitivityAtSpecificity(SensitivitySpecificityBase):
    """Computes the best sensitivity where specificity is >= a value.

    Sensitivity is `tp / (tp + fn)`, specificity `tn / (tn + fp)`.

    Args:
        specificity: a float in `[0, 1]`.
        num_thresholds: number of thresholds (evenly spaced in `[0, 1]`)
            used to match the given specificity. Defaults to `200`.
        class_id: (Optional) the class the metric is computed for.
        name: (Optional) string name of the metric instance.
        dtype: (Optional) data type of the metric result.

    Example:

    >>> m = gkeras.metrics.SensitivityAtSpecificity(0.5)
    >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    >>> float(m.result())
    0.5
    """

    def __init__(self, specificity, num_thresholds=200, class_id=None,
                 name=None, dtype=None):
        _check_range(type(self).__name__, "specificity", specificity)
        self.specificity = specificity
        self.num_thresholds = num_thresholds
        super().__init__(specificity, num_thresholds=num_thresholds,
                         class_id=class_id, name=name, dtype=dtype)

    def result(self):
        r = self._rates()
        return self._find_max_under_constraint(r["specificity"],
                                               r["sensitivity"])

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                "specificity": self.specificity}


class SpecificityAtSensitivity(SensitivitySpecificityBase):
    """Computes the best specificity where sensitivity is >= a value.

    Args:
        sensitivity: a float in `[0, 1]`.
        num_thresholds: number of thresholds (evenly spaced in `[0, 1]`)
            used to match the given sensitivity. Defaults to `200`.
        class_id: (Optional) the class the metric is computed for.
        name: (Optional) string name of the metric instance.
        dtype: (Optional) data type of the metric result.

    Example:

    >>> m = gkeras.metrics.SpecificityAtSensitivity(0.5)
    >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    >>> float(m.result())
    0.6666667
    """

    def __init__(self, sensitivity, num_thresholds=200, class_id=None,
                 name=None, dtype=None):
        _check_range(type(self).__name__, "sensitivity", sensitivity)
        self.sensitivity = sensitivity
        self.num_thresholds = num_thresholds
        super().__init__(sensitivity, num_thresholds=num_thresholds,
                         class_id=class_id, name=name, dtype=dtype)

    def result(self):
        r = self._rates()
        return self._find_max_under_constraint(r["sensitivity"],
                                               r["specificity"])

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                "sensitivity": self.sensitivity}


class PrecisionAtRecall(SensitivitySpecificityBase):
    """Computes the best precision where recall is >= a value.

    Args:
        recall: a float in `[0, 1]`.
        num_thresholds: number of thresholds (evenly spaced in `[0, 1]`)
            used to match the given recall. Defaults to `200`.
        class_id: (Optional) the class the metric is computed for.
        name: (Optional) string name of the metric instance.
        dtype: (Optional) data type of the metric result.

    Example:

    >>> m = gkeras.metrics.PrecisionAtRecall(0.5)
    >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    >>> float(m.result())
    0.5
    """

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None,
                 dtype=None):
        _check_range(type(self).__name__, "recall", recall)
        self.recall = recall
        self.num_thresholds = num_thresholds
        super().__init__(recall, num_thresholds=num_thresholds,
                         class_id=class_id, name=name, dtype=dtype)

    def result(self):
        r = self._rates()
        return self._find_max_under_constraint(r["sensitivity"],
                                               r["precision"])

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                "recall": self.recall}


class RecallAtPrecision(SensitivitySpecificityBase):
    """Computes the best recall where precision is >= a value.

    Args:
        precision: a float in `[0, 1]`.
        num_thresholds: number of thresholds (evenly spaced in `[0, 1]`)
            used to match the given precision. Defaults to `200`.
        class_id: (Optional) the class the metric is computed for.
        name: (Optional) string name of the metric instance.
        dtype: (Optional) data type of the metric result.

    Example:

    >>> m = gkeras.metrics.RecallAtPrecision(0.8)
    >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    >>> float(m.result())
    0.5
    """

    def __init__(self, precision, num_thresholds=200, class_id=None,
                 name=None, dtype=None):
        _check_range(type(self).__name__, "precision", precision)
        self.precision = precision
        self.num_thresholds = num_thresholds
        super().__init__(precision, num_thresholds=num_thresholds,
                         class_id=class_id, name=name, dtype=dtype)

    def result(self):
        r = self._rates()
        return self._find_max_under_constraint(r["precision"],
                                               r["sensitivity"])

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                "precision": self.precision}

"""`gkeras.metrics`: metrics with Keras 3 names, semantics and string ids.

`get("AUC")` / `get("auc")` give an instance; `get("mse")` a
`MeanSquaredError`. `resolve_metric(identifier, y_true, y_pred)` is what
`compile(metrics=[...])` uses: it picks the accuracy flavour for
`"accuracy"`/`"acc"` from the shapes, wraps functions in
`MeanMetricWrapper`, and names the metric as the user wrote it.
"""

import inspect

from gkeras.metrics.accuracy_metrics import (  # noqa: F401
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy, accuracy,
    binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy, top_k_categorical_accuracy,
)
from gkeras.metrics.confusion_metrics import (  # noqa: F401
    AUC, F1Score, FalseNegatives, FalsePositives, FBetaScore, Precision,
    Recall, TrueNegatives, TruePositives,
)
from gkeras.metrics.correlation_metrics import (  # noqa: F401
    ConcordanceCorrelation, PearsonCorrelation, concordance_correlation,
    pearson_correlation,
)
from gkeras.metrics.loss_based_metrics import (  # noqa: F401
    BinaryCrossentropy, CategoricalCrossentropy, CategoricalHinge,
    CosineSimilarity, Hinge, KLDivergence, LogCoshError, MeanAbsoluteError,
    MeanAbsolutePercentageError, MeanSquaredError,
    MeanSquaredLogarithmicError, Poisson, RootMeanSquaredError,
    SparseCategoricalCrossentropy, SquaredHinge,
)
from gkeras.metrics.iou_metrics import (  # noqa: F401
    BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU,
)
from gkeras.metrics.metric import Metric  # noqa: F401
from gkeras.metrics.r2_score import R2Score  # noqa: F401
from gkeras.metrics.reduction_metrics import (  # noqa: F401
    Mean, MeanMetricWrapper, Sum,
)
from gkeras.metrics.sensitivity_specificity import (  # noqa: F401
    PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity,
    SpecificityAtSensitivity,
)
from gkeras.losses import (  # noqa: F401  (keras.metrics.<fn> aliases)
    binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
    categorical_focal_crossentropy, categorical_hinge, hinge, huber, kl_divergence, log_cosh,
    mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy,
    squared_hinge,
)
from gkeras.utils import object_registry
from gkeras.utils.naming import to_snake_case

ALL_OBJECTS = (
    Metric, Mean, Sum, MeanMetricWrapper, MeanSquaredError,
    RootMeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError, AUC,
    FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives,
    TruePositives, Hinge, SquaredHinge, CategoricalHinge, KLDivergence,
    Poisson, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, Accuracy, BinaryAccuracy,
    CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, F1Score, FBetaScore, R2Score, IoU,
    BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU, PearsonCorrelation,
    ConcordanceCorrelation, PrecisionAtRecall, RecallAtPrecision,
    SensitivityAtSpecificity, SpecificityAtSensitivity,
)
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({to_snake_case(c.__name__): c for c in ALL_OBJECTS})
ALL_OBJECTS_DICT.update({
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
    "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
    # Keras-2 names
    "acc": Accuracy, "logcosh": LogCoshError, "rmse": RootMeanSquaredError,
    "kld": KLDivergence, "KLD": KLDivergence, "f1": F1Score,
})
_FUNCTIONS = {f.__name__: f for f in (
    binary_crossentropy, categorical_crossentropy,
    sparse_categorical_crossentropy, categorical_hinge, hinge, huber,
    kl_divergence, log_cosh, mean_absolute_error,
    mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error, poisson, squared_hinge,
    binary_focal_crossentropy, categorical_focal_crossentropy,
    pearson_correlation, concordance_correlation, accuracy, binary_accuracy,
    categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy)}


def serialize(metric):
    """Returns the Keras config of a `Metric` (or a function's entry)."""
    return object_registry.serialize_keras_object(metric, "keras.metrics")


def deserialize(config, custom_objects=None):
    """Returns a metric instance (or function) from its config or name."""
    objects = {**_FUNCTIONS, **ALL_OBJECTS_DICT}
    return object_registry.deserialize_keras_object(
        config, objects, custom_objects, kind="metric")


def get(identifier):
    """Retrieves a metric as a `Metric` instance or a function.

    Args:
        identifier: None, a name (`"AUC"`, `"auc"`, `"mse"`,
            `"binary_accuracy"`, ...), a config dict, a Metric class or
            instance, or a function `fn(y_true, y_pred)`.

    Returns:
        A `Metric` instance or a function (or None).
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier)
        if obj is None:
            raise ValueError(
                f"Unknown metric identifier: {identifier!r}. Expected one of "
                f"{sorted(ALL_OBJECTS_DICT)}, a config dict, a Metric "
                "instance, or a callable `fn(y_true, y_pred)`.")
    else:
        obj = identifier
    if callable(obj):
        if inspect.isclass(obj):
            obj = obj()
        return obj
    raise ValueError(
        f"Could not interpret metric identifier: {identifier!r}. Expected "
        f"one of {sorted(ALL_OBJECTS_DICT)}, a config dict, a Metric "
        "instance, or a callable.")


def is_binary_or_sparse_categorical(y_true, y_pred):
    """`(is_binary, is_sparse_categorical)` from the shapes, as Keras."""
    t_shape, p_shape = tuple(y_true.shape), tuple(y_pred.shape)
    t_last = t_shape[-1] if t_shape else 1
    p_last = p_shape[-1] if p_shape else 1
    is_binary = p_last == 1
    is_sparse = len(t_shape) < len(p_shape) or (t_last == 1 and p_last > 1)
    return is_binary, is_sparse


def resolve_metric(identifier, y_true, y_pred):
    """Turns a `compile(metrics=...)` entry into a `Metric` instance
    (Keras 3's `compile_utils.get_metric`).

    `"accuracy"`/`"acc"` become BinaryAccuracy (predictions with a last
    axis of 1), SparseCategoricalAccuracy (integer targets) or
    CategoricalAccuracy, from the shapes of `y_true` and `y_pred`, keeping
    the name the user wrote; functions are wrapped in `MeanMetricWrapper`;
    a string identifier names the metric (`"mse"` reports as `mse`).

    Args:
        identifier: string, function, Metric class or instance, or None.
        y_true: an example target batch (only its shape is used).
        y_pred: an example prediction batch (only its shape is used).

    Returns:
        A `Metric`, or None for a None identifier.
    """
    if identifier is None:
        return None
    if str(identifier).lower() in ("accuracy", "acc"):
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true,
                                                               y_pred)
        if is_binary:
            metric = BinaryAccuracy(name=str(identifier))
        elif is_sparse:
            metric = SparseCategoricalAccuracy(name=str(identifier))
        else:
            metric = CategoricalAccuracy(name=str(identifier))
    else:
        metric = get(identifier)
    if isinstance(identifier, str):
        name = identifier
    else:
        name = getattr(metric, "name", None) or getattr(
            metric, "__name__", None) or to_snake_case(
            type(metric).__name__)
    if not isinstance(metric, Metric):
        metric = MeanMetricWrapper(metric, name=name)
    metric.name = name
    return metric

"""`gkeras.losses`: loss classes and functions (Keras 3 names and math).

`get("mse")` / `get("categorical_crossentropy")` return the loss
function; `get("CategoricalCrossentropy")` returns an instance.
"""

import inspect

from gkeras.losses.circle import Circle, circle  # noqa: F401
from gkeras.losses.ctc import CTC, ctc  # noqa: F401
from gkeras.losses.focal import (  # noqa: F401
    BinaryFocalCrossentropy,
    CategoricalFocalCrossentropy,
    binary_focal_crossentropy,
    categorical_focal_crossentropy,
)
from gkeras.losses.generalized_crossentropy import (  # noqa: F401
    CategoricalGeneralizedCrossEntropy,
    categorical_generalized_cross_entropy,
)
from gkeras.losses.loss import Loss, reduce_weighted_values  # noqa: F401
from gkeras.losses.overlap import Dice, Tversky, dice, tversky  # noqa: F401
from gkeras.losses.losses import (  # noqa: F401
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    LossFunctionWrapper,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
    binary_crossentropy,
    categorical_crossentropy,
    categorical_hinge,
    cosine_similarity,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from gkeras.utils import object_registry

# Keras-2 / legacy aliases.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
bce = BCE = binary_crossentropy
huber_loss = huber

ALL_OBJECTS = (
    Loss, LossFunctionWrapper, KLDivergence, Poisson, BinaryCrossentropy,
    BinaryFocalCrossentropy, CategoricalFocalCrossentropy,
    CategoricalCrossentropy, SparseCategoricalCrossentropy, CosineSimilarity, Hinge, SquaredHinge,
    CategoricalHinge, Huber, LogCosh, MeanSquaredError, MeanAbsoluteError,
    MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
    kl_divergence, poisson, binary_crossentropy, binary_focal_crossentropy,
    categorical_focal_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy,
    cosine_similarity, hinge, squared_hinge, categorical_hinge, huber,
    log_cosh, mean_squared_error, mean_absolute_error,
    mean_absolute_percentage_error, mean_squared_logarithmic_error,
    Dice, Tversky, dice, tversky, CTC, ctc, Circle, circle,
    CategoricalGeneralizedCrossEntropy, categorical_generalized_cross_entropy,
)
ALL_OBJECTS_DICT = {obj.__name__: obj for obj in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({
    "bce": binary_crossentropy, "BCE": binary_crossentropy,
    "kld": kl_divergence, "KLD": kl_divergence,
    "kullback_leibler_divergence": kl_divergence,
    "mae": mean_absolute_error, "MAE": mean_absolute_error,
    "mse": mean_squared_error, "MSE": mean_squared_error,
    "mape": mean_absolute_percentage_error,
    "MAPE": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error,
    "MSLE": mean_squared_logarithmic_error,
    "logcosh": log_cosh, "huber_loss": huber,
})


def serialize(loss):
    """Returns the Keras config of a loss instance (or a function's name
    entry)."""
    return object_registry.serialize_keras_object(loss, "keras.losses")


def deserialize(name, custom_objects=None):
    """Returns a loss from its config dict or name."""
    return object_registry.deserialize_keras_object(
        name, ALL_OBJECTS_DICT, custom_objects, kind="loss")


def get(identifier):
    """Retrieves a loss function or `Loss` instance.

    Args:
        identifier: None, a name (`"mse"`, `"categorical_crossentropy"`,
            `"CategoricalCrossentropy"`, ...), a config dict, a `Loss`
            class or instance, or a callable `fn(y_true, y_pred)`.

    Returns:
        A loss function or `Loss` instance (or None).

    Example:

    >>> gkeras.losses.get("categorical_crossentropy")
    <function categorical_crossentropy ...>
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier)
        if obj is None:
            raise ValueError(
                f"Unknown loss identifier: {identifier!r}. Expected one of "
                f"{sorted(ALL_OBJECTS_DICT)}, a config dict, a Loss "
                "instance, or a callable `fn(y_true, y_pred)`.")
    else:
        obj = identifier
    if callable(obj):
        if inspect.isclass(obj):
            obj = obj()
        return obj
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}. "
                     f"Expected one of {sorted(ALL_OBJECTS_DICT)}, a config "
                     "dict, a Loss instance, or a callable.")

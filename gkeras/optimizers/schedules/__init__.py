"""`gkeras.optimizers.schedules`: learning-rate schedules (Keras 3 names)."""

from gkeras.optimizers.schedules.learning_rate_schedule import (  # noqa: F401
    CosineDecay,
    CosineDecayRestarts,
    ExponentialDecay,
    InverseTimeDecay,
    LearningRateSchedule,
    PiecewiseConstantDecay,
    PolynomialDecay,
)
from gkeras.utils import object_registry

ALL_OBJECTS = (LearningRateSchedule, ExponentialDecay,
               PiecewiseConstantDecay, PolynomialDecay, InverseTimeDecay,
               CosineDecay, CosineDecayRestarts)
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}


def serialize(learning_rate_schedule):
    """Serializes a `LearningRateSchedule` into a Keras config dict.

    Example:

    >>> serialize(ExponentialDecay(0.1, 1000, 0.96))
    {'module': 'keras.optimizers.schedules', 'class_name':
    'ExponentialDecay', 'config': {...}, 'registered_name': None}
    """
    return object_registry.serialize_keras_object(
        learning_rate_schedule, "keras.optimizers.schedules")


def deserialize(config, custom_objects=None):
    """Instantiates a `LearningRateSchedule` from its config dict."""
    return object_registry.deserialize_keras_object(
        config, ALL_OBJECTS_DICT, custom_objects,
        kind="learning rate schedule")

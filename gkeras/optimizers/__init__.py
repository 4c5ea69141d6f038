"""`gkeras.optimizers`: optimizers and learning-rate schedules (Keras 3).

Resolve one with `get("adam")` (case-insensitive class names), a config
dict, or an instance.
"""

from gkeras.optimizers import legacy, schedules  # noqa: F401
from gkeras.optimizers.adadelta import Adadelta
from gkeras.optimizers.adafactor import Adafactor
from gkeras.optimizers.adagrad import Adagrad
from gkeras.optimizers.adam import Adam
from gkeras.optimizers.adamax import Adamax
from gkeras.optimizers.adamw import AdamW
from gkeras.optimizers.base_optimizer import Optimizer
from gkeras.optimizers.ftrl import Ftrl
from gkeras.optimizers.lamb import Lamb
from gkeras.optimizers.lion import Lion
from gkeras.optimizers.loss_scale_optimizer import LossScaleOptimizer
from gkeras.optimizers.multi_optimizer import MultiOptimizer, OptimizerMap
from gkeras.optimizers.muon import Muon
from gkeras.optimizers.nadam import Nadam
from gkeras.optimizers.rmsprop import RMSprop
from gkeras.optimizers.schedule_free_adamw import ScheduleFreeAdamW
from gkeras.optimizers.sgd import SGD
from gkeras.utils import object_registry

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad",
           "Adadelta", "Adamax", "Nadam", "Lion", "Ftrl", "Adafactor", "Lamb",
           "Muon", "ScheduleFreeAdamW", "MultiOptimizer", "OptimizerMap",
           "LossScaleOptimizer", "get",
           "serialize", "deserialize", "schedules"]

ALL_OBJECTS = (Optimizer, Adam, SGD, RMSprop, Adadelta, AdamW, Adagrad,
               Adamax, Ftrl, Nadam, Lion, Adafactor, Lamb, Muon,
               ScheduleFreeAdamW, MultiOptimizer, OptimizerMap,
               LossScaleOptimizer)
ALL_OBJECTS_DICT = {cls.__name__.lower(): cls for cls in ALL_OBJECTS}


def serialize(optimizer):
    """Returns the optimizer's Keras config dict.

    Example:

    >>> serialize(Adam())["class_name"]
    'Adam'
    """
    return object_registry.serialize_keras_object(optimizer,
                                                  "keras.optimizers")


def deserialize(config, custom_objects=None):
    """Returns an optimizer from its config dict (class names are
    case-insensitive, as in Keras)."""
    if isinstance(config, dict) and isinstance(config.get("class_name"),
                                               str):
        name = config["class_name"]
        if name.lower() in ALL_OBJECTS_DICT and not (
                custom_objects and name in custom_objects):
            config = {**config, "class_name": name.lower()}
    return object_registry.deserialize_keras_object(
        config, ALL_OBJECTS_DICT, custom_objects, kind="optimizer")


def get(identifier):
    """Retrieves an optimizer from an identifier.

    Args:
        identifier: an `Optimizer` instance, a name (`"adam"`, `"SGD"`,
            `"rmsprop"`, ...), a config dict, or an Optimizer subclass.

    Returns:
        An `Optimizer` instance.

    Example:

    >>> opt = gkeras.optimizers.get("adam")
    """
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = deserialize({"class_name": identifier, "config": {}})
    elif isinstance(identifier, type) and issubclass(identifier, Optimizer):
        obj = identifier()
    else:
        obj = None
    if isinstance(obj, Optimizer):
        return obj
    raise ValueError(
        f"Could not interpret optimizer identifier: {identifier!r}. "
        f"Expected one of {sorted(ALL_OBJECTS_DICT)} (case-insensitive), a "
        "config dict, or an Optimizer instance.")

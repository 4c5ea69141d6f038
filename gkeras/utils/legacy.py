"""`gkeras.utils.legacy`: the Keras-2 serialization format (the same
functions as `gkeras.legacy.saving`)."""

from gkeras.legacy.saving import (  # noqa: F401
    deserialize_keras_object, serialize_keras_object,
)

__all__ = ["serialize_keras_object", "deserialize_keras_object"]

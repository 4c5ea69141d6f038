"""`gkeras.saving`: serialization, custom objects, model files."""

from gkeras.saving.custom_objects import (  # noqa: F401
    CustomObjectScope, custom_object_scope, get_custom_objects,
    get_registered_name, get_registered_object, register_keras_serializable,
)
from gkeras.saving.serialization import (  # noqa: F401
    deserialize_keras_object, serialize_keras_object,
)

_SAFE_MODE = [True]


def safe_mode_enabled():
    """Whether loading refuses to run code stored in files (default True)."""
    return _SAFE_MODE[0]


def enable_unsafe_deserialization():
    """Allows `Lambda` bytecode to be loaded from files (use with care)."""
    _SAFE_MODE[0] = False

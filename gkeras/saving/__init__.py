"""`gkeras.saving`: serialization, custom objects, model files."""

from gkeras.saving.custom_objects import (  # noqa: F401
    CustomObjectScope, custom_object_scope, get_custom_objects,
    get_registered_name, get_registered_object, register_keras_serializable,
)
from gkeras.saving.serialization import (  # noqa: F401
    deserialize_keras_object, serialize_keras_object,
)

_SAFE_MODE = [True]
# Settings of the `safe_mode=` arguments of the loads in progress, innermost
# last: nested deserialization (a Lambda inside a Sequential) inherits them.
_SAFE_MODE_SCOPES = []


def safe_mode_enabled():
    """Whether loading refuses to run code stored in files (default True)."""
    if _SAFE_MODE_SCOPES:
        return _SAFE_MODE_SCOPES[-1]
    return _SAFE_MODE[0]


def in_safe_mode():
    """The `safe_mode` of the load in progress: True or False inside
    `load_model`/`deserialize_keras_object(..., safe_mode=...)`, None
    outside any load (as Keras's `in_safe_mode`)."""
    return _SAFE_MODE_SCOPES[-1] if _SAFE_MODE_SCOPES else None


class safe_mode_scope:
    """Sets the safe mode for the deserialization inside a `with` block.

    Args:
        safe_mode: True refuses code stored in files (Lambda bytecode).
    """

    def __init__(self, safe_mode=True):
        self.safe_mode = bool(safe_mode)

    def __enter__(self):
        _SAFE_MODE_SCOPES.append(self.safe_mode)
        return self

    def __exit__(self, *exc):
        _SAFE_MODE_SCOPES.pop()
        return False


def enable_unsafe_deserialization():
    """Allows `Lambda` bytecode to be loaded from files (use with care)."""
    _SAFE_MODE[0] = False

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


def save_model(model, filepath, overwrite=True, zipped=None, **kwargs):
    """Saves a model to a `.keras` zip (or a legacy `.h5` file).

    The Keras 3 spelling of `model.save(filepath)`.

    Args:
        model: the model to save.
        filepath: a path ending in `.keras`, `.h5` or `.hdf5`.
        overwrite: replace an existing file (default True).
        zipped: True or None (a `.keras` zip); unzipped folders are not
            supported.
        **kwargs: as `Model.save` (`include_optimizer` for `.h5`).

    Example:
    >>> gkeras.saving.save_model(model, "model.keras")
    """
    model.save(filepath, overwrite=overwrite, zipped=zipped, **kwargs)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved by `save_model` (gkeras or Keras files).

    Args:
        filepath: a `.keras` zip or a legacy `.h5` file.
        custom_objects: dict of user classes/functions in the model.
        compile: restore the compiled state (optimizer, loss, metrics).
        safe_mode: refuse to run code stored in the file (Lambda layers).

    Returns:
        The model.
    """
    from gkeras.saving import model_files
    return model_files.load_model(filepath, custom_objects=custom_objects,
                                  compile=compile, safe_mode=safe_mode)


def save_weights(model, filepath, overwrite=True, **kwargs):
    """Saves `model`'s weights (`.weights.h5`); as
    `model.save_weights`."""
    model.save_weights(filepath, overwrite=overwrite, **kwargs)


def load_weights(model, filepath, skip_mismatch=False, **kwargs):
    """Loads weights into `model` from a `.weights.h5`, `.keras` or
    legacy `.h5` file; as `model.load_weights`."""
    model.load_weights(filepath, skip_mismatch=skip_mismatch, **kwargs)


class KerasFileEditor:
    """Not supported: Keras's interactive editor of `.keras` files."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            "gkeras.saving.KerasFileEditor is not supported: gkeras leaves "
            "out Keras's interactive `.keras` file editor (issue 17's "
            "exemptions). Load the model, change it, and save it again.")

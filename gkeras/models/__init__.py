"""`gkeras.models`: Model, Sequential, and model loading."""

from gkeras.models.model import Model  # noqa: F401
from gkeras.models.functional import Functional  # noqa: F401
from gkeras.models.sequential import Sequential  # noqa: F401


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved by `model.save` (gkeras or Keras): `.keras`
    zips and legacy `.h5` files.

    Args:
        filepath: path to the file.
        custom_objects: dict of user classes/functions used by the model.
        compile: restore the compiled state (optimizer, loss, metrics).
        safe_mode: refuse to run code stored in the file (Lambda layers).
    """
    from gkeras.saving import model_files
    return model_files.load_model(filepath, custom_objects=custom_objects,
                                  compile=compile, safe_mode=safe_mode)


def save_model(model, filepath, overwrite=True, zipped=None, **kwargs):
    """Saves a model to a `.keras` zip (or legacy `.h5`); the Keras 3
    spelling of `model.save`. See `gkeras.saving.save_model`."""
    from gkeras.saving import save_model as _save_model
    _save_model(model, filepath, overwrite=overwrite, zipped=zipped,
                **kwargs)


def model_from_json(json_string, custom_objects=None):
    """Rebuilds a model (uncompiled, fresh weights) from `to_json()`."""
    import json
    from gkeras.saving.serialization import deserialize_keras_object
    return deserialize_keras_object(json.loads(json_string),
                                    custom_objects=custom_objects)


def clone_model(model, input_tensors=None, clone_function=None):
    """A new model with the same architecture and freshly initialised
    weights."""
    from gkeras.saving.serialization import (deserialize_keras_object,
                                             serialize_keras_object)
    if input_tensors is not None or clone_function is not None:
        raise NotImplementedError(
            "clone_model: `input_tensors` and `clone_function` are not "
            "supported yet; clone with the defaults.")
    # The config comes from a live model, not from a file: the user's own
    # lambdas and vocabulary files are theirs to rebuild.
    return deserialize_keras_object(serialize_keras_object(model),
                                    safe_mode=False)

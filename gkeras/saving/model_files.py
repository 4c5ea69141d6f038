"""`model.save`, `save_weights`, `load_weights` and `load_model` in
Keras's three file formats.

| file name | written as |
|---|---|
| `*.keras` | Keras 3 zip (`keras_zip`) |
| `*.weights.h5` | Keras 3 weights tree (`weights_h5`) |
| `*.h5`, `*.hdf5` | legacy Keras HDF5 (`legacy_h5`): full model from `save`, weights from `save_weights` |

Every write goes to a temporary file beside the destination, renamed into
place at the end (`file_io.atomic_path`); reading checks what it opens and
names the file and the missing piece in its errors. h5py is imported on
first use.
"""

import os
import warnings

from gkeras.saving import keras_zip, legacy_h5, weights_h5
from gkeras.saving.file_io import (ModelFileError, atomic_path, h5py_module,
                                   label, open_h5_for_reading)

_H5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_ZIP_SIGNATURE = b"PK\x03\x04"


def _path_str(filepath):
    return os.fspath(filepath) if not hasattr(filepath, "write") else None


def _is_h5_name(path):
    return path.endswith((".h5", ".hdf5")) and not path.endswith(
        ".weights.h5")


def save_model(model, filepath, overwrite=True, **kwargs):
    """Saves `model` to `filepath` (`.keras` zip or legacy `.h5`).

    Args:
        model: the model.
        filepath: a path ending in `.keras`, `.h5` or `.hdf5` (or an open
            binary file object, written as a `.keras` zip).
        overwrite: replace an existing file (default True).
        **kwargs: `include_optimizer` (legacy `.h5`, default True),
            `save_format` (`"keras"` or `"h5"`, Keras 2 spelling),
            `zipped` (must be True or None).

    Example:

    ```python
    model.save("model.keras")
    model.save("model.h5")
    ```
    """
    include_optimizer = kwargs.pop("include_optimizer", True)
    save_format = kwargs.pop("save_format", None)
    zipped = kwargs.pop("zipped", None)
    kwargs.pop("signatures", None)
    kwargs.pop("options", None)
    if kwargs:
        raise ValueError("The following argument(s) are not supported: "
                         f"{sorted(kwargs)}")
    if zipped is False:
        raise NotImplementedError(
            "model.save(zipped=False): unzipped `.keras` folders are not "
            "supported; save a zipped `.keras` file.")
    if save_format == "tf":
        raise NotImplementedError(
            "model.save(save_format='tf'): the TensorFlow SavedModel format "
            "is not supported by gkeras. Save a `.keras` or `.h5` file.")
    if hasattr(filepath, "write"):
        keras_zip.write(model, filepath)
        return
    path = _path_str(filepath)
    if save_format == "h5" or _is_h5_name(path):
        _warn_unbuilt(model)
        h5py = h5py_module()
        with atomic_path(path, overwrite) as tmp:
            with h5py.File(tmp, "w") as f:
                legacy_h5.write_model(model, f,
                                      include_optimizer=include_optimizer)
        return
    if save_format in (None, "keras") and path.endswith(".keras"):
        _warn_unbuilt(model)
        with atomic_path(path, overwrite) as tmp:
            with open(tmp, "wb") as f:
                keras_zip.write(model, f)
        return
    raise ValueError(
        "Invalid filepath extension for saving. Please add either a "
        "`.keras` extension for the native Keras format (recommended) or a "
        f"`.h5` extension. Received: filepath={path}")


def _warn_unbuilt(model):
    if not model.built:
        warnings.warn(
            "You are saving a model that has not yet been built. It might "
            "not contain any weights yet. Consider building the model first "
            "by calling it on some data.", stacklevel=4)


def save_weights(model, filepath, overwrite=True, **kwargs):
    """Saves the model's weights (and, in `.weights.h5`, its optimizer's
    variables).

    Args:
        model: the model.
        filepath: a path ending in `.weights.h5` (Keras 3 layout) or in
            `.h5`/`.hdf5` (legacy layout, topological order).
        overwrite: replace an existing file.
        **kwargs: `save_format` (`"h5"`, Keras 2 spelling).

    Example:

    ```python
    model.save_weights("model.weights.h5")
    ```
    """
    save_format = kwargs.pop("save_format", None)
    kwargs.pop("options", None)
    if kwargs:
        raise ValueError("The following argument(s) are not supported: "
                         f"{sorted(kwargs)}")
    path = _path_str(filepath)
    if path is None:
        raise ValueError("save_weights needs a file path (ending in "
                         "`.weights.h5`), not a file object.")
    if save_format == "tf":
        raise NotImplementedError(
            "save_weights(save_format='tf'): TensorFlow checkpoints are not "
            "supported by gkeras. Use a `.weights.h5` file name.")
    h5py = h5py_module()
    if path.endswith(".weights.h5"):
        with atomic_path(path, overwrite) as tmp:
            with h5py.File(tmp, "w") as f:
                weights_h5.write(model, f)
        return
    if save_format == "h5" or _is_h5_name(path):
        with atomic_path(path, overwrite) as tmp:
            with h5py.File(tmp, "w") as f:
                legacy_h5.write_weights_group(f, model)
        return
    raise ValueError(
        "The filename must end in `.weights.h5` (or `.h5` for the legacy "
        f"layout). Received: filepath={path}")


def _sniff(path):
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except IsADirectoryError:
        return "dir"
    if head.startswith(_ZIP_SIGNATURE):
        return "zip"
    if head == _H5_SIGNATURE:
        return "h5"
    return "unknown"


def load_weights(model, filepath, skip_mismatch=False, by_name=False,
                 **kwargs):
    """Loads weights from a `.weights.h5`, `.keras` or legacy `.h5` file.

    Args:
        model: the (built) model to load into.
        filepath: the file.
        skip_mismatch: skip (with a warning) layers whose weight count or
            shapes differ instead of raising.
        by_name: legacy `.h5` only: match layers by name rather than by
            topological order.

    Example:

    ```python
    model.load_weights("model.weights.h5")
    ```
    """
    kwargs.pop("options", None)
    if kwargs:
        raise ValueError("Invalid keyword arguments: "
                         f"{sorted(kwargs)}")
    path = _path_str(filepath)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such file: {path!r}. Check the path "
                                "passed to `load_weights`.")
    kind = _sniff(path)
    if kind == "dir":
        raise ModelFileError(
            f"{path!r} is a folder (a TensorFlow checkpoint or SavedModel); "
            "gkeras loads `.weights.h5`, `.keras` and `.h5` files.")
    if kind == "zip":
        if by_name:
            raise ValueError("`by_name=True` is only supported for legacy "
                             "`.h5` weight files.")
        keras_zip.read_weights(model, path, skip_mismatch=skip_mismatch)
        return
    if kind != "h5":
        raise ModelFileError(
            f"{label(path)} is neither an HDF5 nor a `.keras` (zip) file; "
            "it may be truncated or in another format.")
    with open_h5_for_reading(path, "Keras weights file") as f:
        legacy = "layer_names" in f.attrs or "model_weights" in f or any(
            k.startswith("layer_names") for k in f.attrs)
        if not legacy:
            if by_name:
                raise ValueError("`by_name=True` is only supported for "
                                 "legacy `.h5` weight files; this file "
                                 "has the Keras 3 `.weights.h5` layout.")
            weights_h5.read(model, f, path, skip_mismatch=skip_mismatch)
            return
        group = f if "layer_names" in f.attrs or "layer_names0" in \
            f.attrs else f["model_weights"]
        if by_name:
            legacy_h5.read_weights_group_by_name(group, model, path,
                                                 skip_mismatch)
        else:
            legacy_h5.read_weights_group(group, model, path, skip_mismatch)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved by gkeras or Keras (`.keras` or legacy `.h5`).

    Args:
        filepath: path (or binary file object of a `.keras` zip).
        custom_objects: dict of the user classes/functions the model uses.
        compile: restore the compiled state (optimizer with its variables,
            loss, metrics) so training continues where it stopped.
        safe_mode: refuse to run code stored in the file (the bytecode of
            `Lambda` layers); pass False only for trusted files.

    Returns:
        The model.

    Example:

    ```python
    model = gkeras.models.load_model("model.keras")
    ```
    """
    from gkeras.saving import safe_mode_scope
    from gkeras.saving.custom_objects import CustomObjectScope
    with CustomObjectScope(custom_objects or {}), safe_mode_scope(safe_mode):
        if hasattr(filepath, "read"):
            return keras_zip.read(filepath, custom_objects, compile,
                                  safe_mode)
        path = _path_str(filepath)
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"File not found: filepath={path}. Please ensure the file is "
                "an accessible `.keras` zip file or `.h5` file.")
        kind = _sniff(path)
        if kind == "zip":
            return keras_zip.read(path, custom_objects, compile, safe_mode)
        if kind == "h5":
            with open_h5_for_reading(path, "Keras model file") as f:
                return legacy_h5.read_model(f, path, custom_objects,
                                            compile, safe_mode)
        if kind == "dir":
            raise ModelFileError(
                f"{path!r} is a folder: TensorFlow SavedModel folders are "
                "not supported. Load a `.keras` or `.h5` file.")
        if path.endswith(".keras"):
            raise ModelFileError(
                f"{label(path)} is not a valid `.keras` file: it is not a "
                "zip archive (it may be truncated or corrupt).")
        raise ModelFileError(
            f"{label(path)} is neither a `.keras` zip nor an HDF5 file "
            "(it may be truncated, corrupt or in another format).")

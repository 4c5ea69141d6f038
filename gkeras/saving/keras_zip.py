"""The Keras 3 `.keras` zip: `metadata.json`, `config.json` and
`model.weights.h5`, stored uncompressed and in that order.

Reading takes members by name into memory (nothing is extracted to disk)
after checking their declared sizes, and checks the weights file for links
and datasets that would read other files (`h5_safety`).

`config.json` is the model's serialized config plus `build_config` (the
input shape to build a subclassed model with) and `compile_config` (the
arguments of `compile`, with the optimizer serialized); the weights file
has the Keras 3 object-tree layout of `weights_h5`, optimizer included.
"""

import datetime
import io
import json
import os
import zipfile

from gkeras.saving import weights_h5
from gkeras.saving.file_io import (KERAS_VERSION, ModelFileError,
                                   h5py_module, label)

CONFIG = "config.json"
METADATA = "metadata.json"
WEIGHTS = "model.weights.h5"


def build_config(model):
    """`{"input_shape": ...}` as Keras's `get_build_config` gives it."""
    from gkeras.models.functional import Functional
    from gkeras.models.sequential import Sequential
    if isinstance(model, Functional):
        return {"input_shape": None}
    if isinstance(model, Sequential):
        shape = model._build_input_shape
        return {"input_shape": list(shape) if shape is not None else None}
    shapes = getattr(model, "_build_shapes", None)
    return {"input_shape": _jsonable_shape(shapes)} if shapes is not None \
        else None


def _jsonable_shape(s):
    if isinstance(s, dict):
        return {k: _jsonable_shape(v) for k, v in s.items()}
    if isinstance(s, (list, tuple)):
        if all(v is None or isinstance(v, int) for v in s):
            return [None] + list(s[1:]) if s else []
        return [_jsonable_shape(v) for v in s]
    return s


def model_config(model):
    """The dict written to `config.json`."""
    from gkeras.saving.legacy_h5 import _json_default
    from gkeras.saving.serialization import serialize_keras_object
    cfg = serialize_keras_object(model)
    cfg["build_config"] = build_config(model)
    # Serialized, as Keras does: a model's own get_compile_config may
    # return objects (an optimizer, a loss).
    cfg["compile_config"] = serialize_keras_object(
        model.get_compile_config()) if getattr(model, "compiled", False) \
        else None
    # Round trip through JSON so that tuples/NumPy scalars fail here, before
    # anything is written, with a message naming the offending value.
    return json.loads(json.dumps(cfg, default=_json_default))


def write(model, fileobj):
    """Writes the zip to an open binary file object."""
    h5py = h5py_module()
    config = json.dumps(model_config(model))
    metadata = json.dumps({
        "keras_version": KERAS_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")})
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        weights_h5.write(model, f)
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(METADATA, metadata)
        zf.writestr(CONFIG, config)
        zf.writestr(WEIGHTS, buf.getvalue())


def _open_zip(filepath):
    try:
        return zipfile.ZipFile(filepath, "r")
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, OSError) as e:
        raise ModelFileError(
            f"{label(filepath)} is not a valid `.keras` file: it is not a "
            f"zip archive, or it is truncated ({e}).") from None


# A member above this many bytes must not expand more than 100-fold: Keras
# and gkeras store members uncompressed, so only a decompression bomb
# declares gigabytes for a few kilobytes in the archive.
MEMBER_BOMB_FLOOR_BYTES = 1 << 26  # 64 MiB
MEMBER_MAX_EXPANSION = 100


def _member(zf, name, filepath):
    """Reads one member into memory by name (never extracting to disk),
    after checking its declared size."""
    try:
        info = zf.getinfo(name)
        if info.file_size > MEMBER_BOMB_FLOOR_BYTES and info.file_size > \
                MEMBER_MAX_EXPANSION * info.compress_size:
            raise ModelFileError(
                f"Not allowed: {name!r} in {label(filepath)} declares "
                f"{info.file_size} bytes but only {info.compress_size} are "
                "stored in the archive; refusing to load a potential "
                "decompression bomb.")
        with zf.open(info, "r") as f:
            return f.read()
    except KeyError:
        raise ModelFileError(
            f"{label(filepath)} is not a complete `.keras` file: the "
            f"archive has no {name!r} (it holds {zf.namelist()}).") from None
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError,
            NotImplementedError) as e:
        raise ModelFileError(
            f"{label(filepath)}: could not read {name!r} from the archive; "
            f"the file is corrupt or truncated ({e}).") from None


def read(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model from a `.keras` file (path or binary file object)."""
    from gkeras.saving.serialization import deserialize_keras_object
    with _open_zip(filepath) as zf:
        raw = _member(zf, CONFIG, filepath)
        try:
            config = json.loads(raw)
        except ValueError as e:
            raise ModelFileError(f"{label(filepath)}: `config.json` is not "
                                 f"valid JSON ({e}).") from None
        if not isinstance(config, dict) or "class_name" not in config:
            raise ModelFileError(f"{label(filepath)}: `config.json` does "
                                 "not describe a model (no `class_name`).")
        model = deserialize_keras_object(config,
                                         custom_objects=custom_objects,
                                         safe_mode=safe_mode)
        bcfg = config.get("build_config")
        if not model.built and bcfg and bcfg.get("input_shape") is not None:
            model.build(_shape_from_json(bcfg["input_shape"]))
        ccfg = config.get("compile_config")
        if compile and ccfg and hasattr(type(model), "compile_from_config"):
            # The model's own hook (Keras's customizing-saving guide).
            model.compile_from_config(ccfg)
        elif compile and ccfg:
            compile_from_config(model, ccfg, custom_objects)
            if model.built and model.trainable_weights and \
                    not model.optimizer.built:
                model.optimizer.build(model.trainable_weights)
        weights = _member(zf, WEIGHTS, filepath)
    with _open_weights(weights, filepath) as h5:
        weights_h5.read(model, h5, filepath)
    return model


def _open_weights(data, filepath):
    """The archive's weights file, opened in memory and checked for links
    and datasets that would read other files."""
    from gkeras.saving.h5_safety import check_h5_tree
    h5py = h5py_module()
    try:
        h5 = h5py.File(io.BytesIO(data), "r")
    except OSError as e:
        raise ModelFileError(
            f"{label(filepath)}: its `{WEIGHTS}` is not a readable HDF5 "
            f"file ({e}).") from None
    try:
        where = f"{os.fspath(filepath)}/{WEIGHTS}" if isinstance(
            filepath, (str, os.PathLike)) else WEIGHTS
        check_h5_tree(h5, where)
    except BaseException:
        h5.close()
        raise
    return h5


def read_weights(model, filepath, skip_mismatch=False):
    """Loads only the weights of a `.keras` file into `model`."""
    with _open_zip(filepath) as zf:
        weights = _member(zf, WEIGHTS, filepath)
    with _open_weights(weights, filepath) as h5:
        weights_h5.read(model, h5, filepath, skip_mismatch=skip_mismatch)


def _shape_from_json(s):
    if isinstance(s, dict):
        return {k: _shape_from_json(v) for k, v in s.items()}
    if isinstance(s, list) and s and isinstance(s[0], list):
        return [tuple(x) for x in s]
    return tuple(s)


def deserialize_compile_spec(spec, kind, custom_objects=None):
    """A `loss`/`metrics` argument of `compile` back from its config:
    names stay names; serialized objects are rebuilt."""
    if spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, list):
        return [deserialize_compile_spec(s, kind, custom_objects)
                for s in spec]
    if isinstance(spec, dict) and "class_name" not in spec:
        return {k: deserialize_compile_spec(v, kind, custom_objects)
                for k, v in spec.items()}
    if isinstance(spec, dict):
        if spec.get("class_name") == "function":
            return spec.get("config")
        if kind == "loss":
            from gkeras import losses
            return losses.deserialize(spec, custom_objects=custom_objects)
        from gkeras import metrics
        return metrics.deserialize(spec, custom_objects=custom_objects)
    return spec


def compile_from_config(model, config, custom_objects=None):
    """Compiles `model` from a Keras 3 `compile_config`."""
    from gkeras import optimizers
    opt = config.get("optimizer")
    if isinstance(opt, dict):
        opt = optimizers.deserialize(opt, custom_objects)
    model.compile(
        optimizer=opt if opt is not None else "rmsprop",
        loss=deserialize_compile_spec(config.get("loss"), "loss",
                                      custom_objects),
        loss_weights=config.get("loss_weights"),
        metrics=deserialize_compile_spec(config.get("metrics"), "metric",
                                         custom_objects),
        weighted_metrics=deserialize_compile_spec(
            config.get("weighted_metrics"), "metric", custom_objects),
        run_eagerly=config.get("run_eagerly", False),
        steps_per_execution=config.get("steps_per_execution", 1),
        jit_compile=config.get("jit_compile", "auto"))

"""The legacy Keras HDF5 format (`model.save("x.h5")`, and
`save_weights("x.h5")`), laid out as Keras 3.15 writes it:

```
/  @backend @keras_version @model_config @training_config
  model_weights/  @backend @keras_version @layer_names
    <layer name>/  @weight_names = [variable paths]
      <variable path>  dataset (the path's slashes make sub-groups)
    top_level_model_weights/  @weight_names = []
  optimizer_weights/  @weight_names = [optimizer variable paths]
    <path>  dataset
```

A layer without weights stores `weight_names` as an empty float64 array
(what h5py makes of an empty list). Values are paired with layers by the
order of `layer_names` (layers without weights skipped) and within a layer
by the order of `weight_names`, never by dataset names.
"""

import json
import warnings

import numpy as np

from gkeras.saving.file_io import (BACKEND_NAME, KERAS_VERSION,
                                   ModelFileError, label, require)

# Keras splits attributes above this size into `name0`, `name1`, ...
HDF5_OBJECT_HEADER_LIMIT = 64512


# -- attributes ----------------------------------------------------------------

def save_attributes(group, name, data):
    """Writes a list of strings as an attribute (chunked when large)."""
    too_long = [x for x in data if len(x) > HDF5_OBJECT_HEADER_LIMIT]
    if too_long:
        raise RuntimeError(
            "The following attributes cannot be saved to HDF5 file because "
            f"they are larger than {HDF5_OBJECT_HEADER_LIMIT} bytes: "
            f"{too_long}")
    data = [x.encode("utf8") if isinstance(x, str) else x for x in data]
    if not data:
        group.attrs[name] = np.zeros((0,), dtype="float64")
        return
    arr = np.asarray(data)
    chunks = 1
    parts = [arr]
    while any(p.nbytes > HDF5_OBJECT_HEADER_LIMIT for p in parts):
        chunks += 1
        parts = np.array_split(arr, chunks)
    h5py = _h5py()
    dt = h5py.string_dtype("ascii")
    if chunks > 1:
        for i, part in enumerate(parts):
            group.attrs.create(f"{name}{i}", [bytes(p) for p in part],
                               dtype=dt)
    else:
        group.attrs.create(name, data, dtype=dt)


def load_attributes(group, name):
    """Reads a list-of-strings attribute (joining Keras's chunks)."""
    if name in group.attrs:
        values = list(group.attrs[name])
    else:
        values, i = [], 0
        while f"{name}{i}" in group.attrs:
            values.extend(group.attrs[f"{name}{i}"])
            i += 1
    return [v.decode("utf8") if isinstance(v, bytes) else str(v)
            for v in values]


def _h5py():
    from gkeras.saving.file_io import h5py_module
    return h5py_module()


def set_str_attr(obj, name, value, encoding="ascii"):
    """A scalar variable-length string attribute, as Keras writes them."""
    h5py = _h5py()
    obj.attrs.create(name, value.encode("utf8") if encoding == "ascii"
                     else value, dtype=h5py.string_dtype(encoding))


def _str_attr(v):
    return v.decode("utf8") if isinstance(v, bytes) else v


# -- configs --------------------------------------------------------------------

# Keras's legacy serializer writes the Python class name where the `.keras`
# format writes the exported one (see `_keras_class_name`).
_LEGACY_CLASS_NAMES = {"GroupQueryAttention": "GroupedQueryAttention"}


def _strip_layer_entries(model_cfg):
    """The legacy file's layer entries carry no `module`, `registered_name`
    or `build_config` (Keras's legacy serializer)."""
    cfg = dict(model_cfg)
    inner = dict(cfg.get("config", {}))
    if isinstance(inner.get("layers"), list):
        layers = []
        for entry in inner["layers"]:
            registered = entry.get("registered_name")
            if isinstance(registered, str) and ">" in registered:
                # Keras's legacy serializer names registered classes by
                # their registered name ("Package>Class").
                entry = {**entry, "class_name": registered}
            if entry.get("class_name") in _LEGACY_CLASS_NAMES:
                entry = {**entry, "class_name":
                         _LEGACY_CLASS_NAMES[entry["class_name"]]}
            entry = {k: v for k, v in entry.items()
                     if k not in ("module", "registered_name",
                                  "build_config")}
            if entry.get("class_name") in ("Sequential", "Functional") or \
                    isinstance(entry.get("config", {}).get("layers"), list):
                entry = _strip_layer_entries(entry)
            layers.append(entry)
        inner["layers"] = layers
    cfg["config"] = inner
    return {"class_name": cfg["class_name"], "config": cfg["config"]}


def model_config_json(model):
    """The `model_config` attribute."""
    from gkeras.saving.serialization import serialize_keras_object
    return json.dumps(_strip_layer_entries(serialize_keras_object(model)),
                      default=_json_default)


def training_config_json(model):
    """The `training_config` attribute of a compiled model, or None."""
    cfg = model.get_compile_config()
    if cfg is None:
        return None
    cfg = dict(cfg)
    opt = cfg.pop("optimizer")
    if model.__dict__.get("_gk_auto_wrapped"):
        # Keras's .h5 stores the LossScaleOptimizer that compile wrapped
        # around the given optimizer (its .keras stores the given one).
        from gkeras.saving.serialization import serialize_keras_object
        opt = serialize_keras_object(model.optimizer)
    out = {k: cfg.get(k) for k in ("loss", "loss_weights", "metrics",
                                   "weighted_metrics", "run_eagerly",
                                   "steps_per_execution", "jit_compile")}
    out["optimizer_config"] = {"class_name": opt["class_name"],
                               "config": opt["config"]}
    return json.dumps(out, default=_json_default)


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(f"Cannot write {obj!r} ({type(obj).__name__}) to a "
                    "model config as JSON.")


# -- writing ----------------------------------------------------------------------

def _legacy_weights(layer):
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def _host(v):
    from gkeras import backend
    return np.asarray(backend.to_numpy(v.data), order="C")


def write_weights_group(group, model):
    """Fills a `model_weights` group (or a weights-only file's root)."""
    layers = list(model.layers)
    set_str_attr(group, "backend", BACKEND_NAME)
    set_str_attr(group, "keras_version", KERAS_VERSION)
    save_attributes(group, "layer_names", [l.name for l in layers])
    for layer in layers:
        g = group.create_group(layer.name)
        weights = _legacy_weights(layer)
        names = _unique_paths(weights)
        save_attributes(g, "weight_names", names)
        for name, w in zip(names, weights):
            g.create_dataset(name, data=_host(w))
    top = group.create_group("top_level_model_weights")
    own = [v for v in list(model._trainable_variables) +
           list(model._non_trainable_variables)]
    names = _unique_paths(own)
    save_attributes(top, "weight_names", names)
    for name, w in zip(names, own):
        top.create_dataset(name, data=_host(w))


def _unique_paths(weights):
    seen, out = {}, []
    for w in weights:
        p = getattr(w, "path", None) or w.name
        if p in seen:
            seen[p] += 1
            p = f"{p}_{seen[p]}"
        else:
            seen[p] = 0
        out.append(p)
    return out


def write_model(model, h5file, include_optimizer=True):
    """Writes the full legacy model file into an open h5py File."""
    set_str_attr(h5file, "backend", BACKEND_NAME, "utf-8")
    set_str_attr(h5file, "keras_version", KERAS_VERSION, "utf-8")
    set_str_attr(h5file, "model_config", model_config_json(model))
    training = training_config_json(model) if getattr(
        model, "compiled", False) else None
    if training is not None:
        set_str_attr(h5file, "training_config", training)
    write_weights_group(h5file.create_group("model_weights"), model)
    optimizer = getattr(model, "optimizer", None)
    if include_optimizer and optimizer is not None and training is not None:
        variables = list(optimizer.variables)
        g = h5file.create_group("optimizer_weights")
        # Paths can repeat (Adafactor's per-variable placeholders, two
        # inner optimizers of one name): Keras then fails on the duplicate
        # dataset; suffixes keep them apart, and readers go by the
        # `weight_names` order anyway.
        names, seen = [], {}
        for v in variables:
            n = seen[v.path] = seen.get(v.path, -1) + 1
            names.append(v.path if n == 0 else f"{v.path}_{n}")
        save_attributes(g, "weight_names", names)
        for name, v in zip(names, variables):
            g.create_dataset(name, data=_host(v))


# -- reading ----------------------------------------------------------------------

def _subset_values(group, filepath):
    names = load_attributes(group, "weight_names")
    return [np.asarray(require(group, n, filepath, "Keras HDF5 file"))
            for n in names]


def _plan_layer_weights(symbolic, values, skip_mismatch, where, filepath):
    """The (variable, value) pairs of one layer, after checking shapes; a
    mismatch raises (naming the weight, expected vs found) or, with
    `skip_mismatch`, warns and skips that weight."""
    planned = []
    for v, val in zip(symbolic, values):
        if tuple(v.shape) != tuple(np.shape(val)):
            msg = (f"Shape mismatch in {where}, weight {v.path!r}: the model "
                   f"expects shape {tuple(v.shape)}, {label(filepath)} holds "
                   f"shape {tuple(np.shape(val))}.")
            if skip_mismatch:
                warnings.warn("Skipping loading weights for " + msg +
                              " (skip_mismatch=True)", stacklevel=4)
                continue
            raise ModelFileError(msg + " The model was left unchanged.")
        try:
            planned.append((v, np.asarray(val, dtype=v.dtype)))
        except (TypeError, ValueError):
            raise ModelFileError(
                f"{where}, weight {v.path!r}: {label(filepath)} holds "
                f"{np.asarray(val).dtype} values that do not convert to "
                f"{v.dtype}. The model was left unchanged.") from None
    return planned


def _assign_all(planned):
    for v, val in planned:
        v.assign(val)


def read_weights_group(group, model, filepath, skip_mismatch=False):
    """Loads a `model_weights` group by topological order (Keras's rule).

    Every weight is read and checked before any is assigned: on a
    mismatch the model is left unchanged."""
    layers = [l for l in model.layers if _legacy_weights(l)]
    saved = []
    for name in load_attributes(group, "layer_names"):
        g = require(group, name, filepath, "Keras HDF5 weights file")
        if load_attributes(g, "weight_names"):
            saved.append(name)
    if len(saved) != len(layers):
        raise ModelFileError(
            f"Layer count mismatch when loading weights from "
            f"{label(filepath)}: model {model.name!r} has {len(layers)} "
            f"layers with weights ({[l.name for l in layers]}), the file "
            f"has {len(saved)} ({saved}). Pass `by_name=True` to match "
            "layers by name.")
    planned = []
    for k, (name, layer) in enumerate(zip(saved, layers)):
        values = _subset_values(group[name], filepath)
        symbolic = _legacy_weights(layer)
        if len(values) != len(symbolic):
            raise ModelFileError(
                f"Weight count mismatch for layer #{k} (named "
                f"{layer.name!r} in the model, {name!r} in "
                f"{label(filepath)}): the model expects {len(symbolic)} "
                f"weights, the file holds {len(values)}. The model was "
                "left unchanged.")
        planned += _plan_layer_weights(
            symbolic, values, skip_mismatch,
            f"layer #{k} (named {layer.name!r})", filepath)
    if "top_level_model_weights" in group:
        own = list(model._trainable_variables) + list(
            model._non_trainable_variables)
        values = _subset_values(group["top_level_model_weights"], filepath)
        if len(values) != len(own):
            raise ModelFileError(
                f"Model {model.name!r} has {len(own)} top-level weights, "
                f"{label(filepath)} holds {len(values)}. The model was "
                "left unchanged.")
        planned += _plan_layer_weights(own, values, skip_mismatch,
                                       "the model's own weights", filepath)
    _assign_all(planned)


def read_weights_group_by_name(group, model, filepath, skip_mismatch=False):
    """Loads a `model_weights` group by matching layer names (all checked
    before any is assigned)."""
    by_name = {}
    for layer in model._flatten_layers() if hasattr(
            model, "_flatten_layers") else model.layers:
        by_name.setdefault(layer.name, []).append(layer)
    for layer in model.layers:
        by_name.setdefault(layer.name, [])
        if layer not in by_name[layer.name]:
            by_name[layer.name].append(layer)
    planned = []
    for name in load_attributes(group, "layer_names"):
        values = _subset_values(
            require(group, name, filepath, "Keras HDF5 weights file"),
            filepath)
        for layer in by_name.get(name, []):
            symbolic = _legacy_weights(layer)
            if len(values) != len(symbolic):
                msg = (f"Weight count mismatch for layer {name!r}: the model "
                       f"expects {len(symbolic)} weights, {label(filepath)} "
                       f"holds {len(values)}.")
                if skip_mismatch:
                    warnings.warn("Skipping loading of weights: " + msg,
                                  stacklevel=3)
                    continue
                raise ModelFileError(msg + " The model was left unchanged.")
            planned += _plan_layer_weights(symbolic, values, skip_mismatch,
                                           f"layer {name!r}", filepath)
    _assign_all(planned)


def read_model(h5file, filepath, custom_objects=None, compile=True,
               safe_mode=True):
    """Rebuilds a model from an open legacy file (architecture, weights,
    and, if `compile`, the compiled state with the optimizer's
    variables)."""
    from gkeras.saving.serialization import deserialize_keras_object
    if "model_config" not in h5file.attrs:
        raise ModelFileError(
            f"No model config found in {label(filepath)}: it is not a "
            "full Keras model file (it may hold weights only; use "
            "`model.load_weights`).")
    try:
        config = json.loads(_str_attr(h5file.attrs["model_config"]))
    except ValueError as e:
        raise ModelFileError(f"{label(filepath)}: the `model_config` "
                             f"attribute is not valid JSON ({e}).") from None
    model = deserialize_keras_object(config, custom_objects=custom_objects,
                                     safe_mode=safe_mode)
    weights = require(h5file, "model_weights", filepath, "Keras HDF5 file")
    read_weights_group(weights, model, filepath)
    training = h5file.attrs.get("training_config")
    if compile and training is not None:
        training = json.loads(_str_attr(training))
        compile_from_training_config(model, training, custom_objects)
        if "optimizer_weights" in h5file:
            _read_optimizer_weights(model, h5file["optimizer_weights"],
                                    filepath)
    return model


def compile_from_training_config(model, training, custom_objects=None):
    """Compiles `model` as the legacy `training_config` says."""
    from gkeras import optimizers
    opt_cfg = training.get("optimizer_config")
    optimizer = optimizers.deserialize(opt_cfg, custom_objects) \
        if opt_cfg else "rmsprop"
    from gkeras.saving.keras_zip import deserialize_compile_spec
    model.compile(
        optimizer=optimizer,
        loss=deserialize_compile_spec(training.get("loss"), "loss",
                                      custom_objects),
        loss_weights=training.get("loss_weights"),
        metrics=deserialize_compile_spec(training.get("metrics"), "metric",
                                         custom_objects),
        weighted_metrics=deserialize_compile_spec(
            training.get("weighted_metrics"), "metric", custom_objects),
        run_eagerly=training.get("run_eagerly", False),
        steps_per_execution=training.get("steps_per_execution", 1),
        jit_compile=training.get("jit_compile", "auto"))


def _read_optimizer_weights(model, group, filepath):
    optimizer = model.optimizer
    values = _subset_values(group, filepath)
    if not optimizer.built and model.trainable_weights:
        optimizer.build(model.trainable_weights)
    # An optimizer may accept other saved layouts (LossScaleOptimizer: the
    # one Keras writes before its first step).
    layout = getattr(optimizer, "_variables_for_saved", None)
    variables = layout(len(values)) if layout is not None else \
        list(optimizer.variables)
    if variables is None or len(values) != len(variables):
        variables = list(optimizer.variables)
        warnings.warn(
            f"Error in loading the saved optimizer state from "
            f"{label(filepath)}: the optimizer has {len(variables)} "
            f"variables, the file holds {len(values)}. The optimizer starts "
            "afresh.", stacklevel=3)
        return
    for v, val in zip(variables, values):
        if tuple(v.shape) != tuple(np.shape(val)):
            warnings.warn(
                f"Optimizer variable {v.path!r} has shape "
                f"{tuple(v.shape)}, {label(filepath)} holds "
                f"{tuple(np.shape(val))}; the optimizer state is not "
                "restored.", stacklevel=3)
            return
    for v, val in zip(variables, values):
        v.assign(np.asarray(val, dtype=v.dtype))
    optimizer._sync_host_state()

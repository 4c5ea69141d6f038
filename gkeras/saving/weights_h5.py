"""The Keras 3 weights layout (`.weights.h5`, and `model.weights.h5`
inside a `.keras` zip).

The file mirrors the model's object tree, as Keras's `saving_lib` walks
it:

```
layers/<snake_case class name>[_<n>]/vars/<i>   a layer's own variables
layers/lstm/cell/vars/<i>                       nested objects, by attribute
optimizer/vars/<i>                              iteration, learning rate, slots
vars/                                           the model's own variables
```

Each `vars` group carries a `name` attribute (the object's real name).
The walk: a Sequential/Functional model yields its `layers` first; then
every attribute of the object in `dir()` order with private names last;
layers and optimizers are visited once (the first path wins); lists and
dicts of them are named `snake_case(class name)` with a per-class counter.
Loading walks the new model the same way, so files are matched by
structure, never by (auto-generated) layer names.
"""

import warnings

import numpy as np

from gkeras.saving.file_io import ModelFileError, label

_SKIP = None
# gkeras-internal attributes that hold layers but are not part of the
# saved object tree (Keras's skip list holds its own equivalents).
_EXTRA_SKIP = frozenset({
    "_operations", "operations", "_functional", "_functional_graph",
    "_input_layer", "_seq_layers", "_outer_model", "_tracked_cache",
    "_reg_cache", "_step_vars", "_plan", "_nodes", "history",
    "_inbound_nodes", "_outbound_nodes", "_layers", "_self_setattr_tracking",
    "_compile_loss", "_compile_metrics", "_loss_tracker", "_compile_config",
    "_build_shapes", "_batch_input_shape", "inputs", "outputs",
    "_inputs_struct", "_outputs_struct", "input_spec",
})


def _skiplist():
    global _SKIP
    if _SKIP is None:
        from gkeras.layers.layer import Layer
        ref = Layer(name="gk_saving_reference")
        _SKIP = frozenset(dir(ref)) | _EXTRA_SKIP
    return _SKIP


def _is_saveable(obj):
    from gkeras.layers.layer import Layer
    from gkeras.optimizers.base_optimizer import Optimizer
    return isinstance(obj, (Layer, Optimizer))


def _name_key(name):
    # Keras visits private attributes last ("~" sorts after letters).
    return "~" + name if name.startswith("_") else name


def _children(obj):
    """(attribute name, value) pairs in Keras's walking order."""
    from gkeras.layers.layer import Layer
    from gkeras.models.functional import Functional
    from gkeras.models.sequential import Sequential
    from gkeras.optimizers.base_optimizer import Optimizer
    if isinstance(obj, Optimizer):
        inner = obj.__dict__.get("inner_optimizer")
        if isinstance(inner, Optimizer):
            # A LossScaleOptimizer: Keras saves the wrapped optimizer's
            # variables again under `inner_optimizer`.
            yield "inner_optimizer", inner
        return  # no other saveable objects
    if isinstance(obj, (Sequential, Functional)):
        yield "layers", [l for l in obj.layers if isinstance(l, Layer)]
    skip = _skiplist()
    names = set(obj.__dict__)
    # Properties a class inherits but whose Keras counterpart lacks (so
    # Keras files name those children by their private attributes).
    hidden = set(type(obj).__dict__.get("_unsaved_properties", ()))
    for klass in type(obj).__mro__:
        if klass.__module__.startswith(("gkeras.layers.layer",
                                        "gkeras.models.", "builtins")):
            continue
        names.update(k for k, v in vars(klass).items()
                     if isinstance(v, property) and k not in hidden)
    for attr in sorted(names, key=_name_key):
        if attr.startswith("__") or attr in skip:
            continue
        try:
            value = getattr(obj, attr)
        except Exception:  # noqa: BLE001 - a failing property is no child
            continue
        yield attr, value


def _container_items(container, inner_path):
    if isinstance(container, dict):
        container = list(container.values())
    used = {}
    from gkeras.utils.naming import to_snake_case
    for item in container:
        if not _is_saveable(item):
            continue
        name = to_snake_case(type(item).__name__)
        if name in used:
            used[name] += 1
            name = f"{name}_{used[name]}"
        else:
            used[name] = 0
        yield _join(inner_path, name), item


def _join(a, b):
    return f"{a}/{b}" if a else b


def walk(root):
    """Yields `(inner_path, object)` for every saveable object under
    `root` (the root itself first, at path "")."""
    visited = set()

    def visit(obj, path):
        if id(obj) in visited:
            return
        visited.add(id(obj))
        yield path, obj
        for attr, child in _children(obj):
            if _is_saveable(child):
                yield from visit(child, _join(path, attr))
            elif isinstance(child, (list, tuple, dict, set)):
                for p, item in _container_items(child, _join(path, attr)):
                    yield from visit(item, p)

    yield from visit(root, "")


def own_variables(obj):
    """The variables an object saves in its own `vars` group."""
    from gkeras.optimizers.base_optimizer import Optimizer
    if isinstance(obj, Optimizer):
        return list(obj.variables)
    return list(obj._trainable_variables) + list(
        obj._non_trainable_variables)


def _to_host(v):
    from gkeras import backend
    arr = v.data if hasattr(v, "data") else v
    return np.asarray(backend.to_numpy(arr), order="C")


class _WriteStore(dict):
    """What `save_own_variables(store)` writes into (keys "0", "1", ...)."""

    def __setitem__(self, key, value):
        super().__setitem__(str(key), _to_host(value))


def _has_custom(obj, method):
    from gkeras.layers.layer import Layer
    fn = getattr(type(obj), method, None)
    # The base Layer's own implementations are the default path (with its
    # checks before any assignment), not a custom one.
    return fn is not None and fn is not getattr(Layer, method, None) and \
        not type(obj).__module__.startswith("gkeras.optimizers")


def write(model, h5file):
    """Writes `model`'s object tree into an open, empty h5py File."""
    for path, obj in walk(model):
        group = h5file.create_group(_join(path, "vars")) if path else \
            h5file.create_group("vars")
        name = getattr(obj, "name", None)
        if isinstance(name, str):
            group.attrs["name"] = name
        store = _WriteStore()
        if _has_custom(obj, "save_own_variables"):
            obj.save_own_variables(store)
        else:
            for i, v in enumerate(own_variables(obj)):
                store[str(i)] = v
        for key in sorted(store, key=lambda k: (len(k), k)):
            ds = group.create_dataset(key, data=store[key])
            if store[key].dtype.name == "bfloat16":
                # HDF5 has no bfloat16: Keras stores the raw 2-byte values
                # and marks them with this attribute.
                ds.attrs["dtype"] = "bfloat16"


def _read_group(h5file, path):
    key = _join(path, "vars")
    if key in h5file:
        group = h5file[key]
    elif path and "_layer_checkpoint_dependencies" in h5file:
        # Keras 2.13 wrote `_layer_checkpoint_dependencies` for `layers`.
        alt = key.replace("layers", "_layer_checkpoint_dependencies", 1)
        group = h5file[alt] if alt in h5file else None
    else:
        group = None
    if group is None:
        return {}
    return {k: _dataset_value(group[k]) for k in group.keys()}


def _dataset_value(ds):
    if ds.attrs.get("dtype") == "bfloat16":
        from gkeras import backend
        return np.asarray(ds).view(backend.bfloat16())
    return np.asarray(ds)


def read(model, h5file, filepath=None, skip_mismatch=False):
    """Loads the values of an open Keras 3 weights file into `model`.

    Every variable is read and checked (count and shape) before any is
    assigned, so a file that does not match leaves the model untouched.
    Layers with their own `load_own_variables` (user layers, lookup
    tables) run after the checks; if one raises, the variables of every
    object already loaded are put back.

    Raises:
        ModelFileError: when the file does not match the model (and
            `skip_mismatch` is False), naming the first mismatching object
            and variable with expected vs found; with `skip_mismatch` a
            warning lists the objects left as they were.
    """
    if "vars" not in h5file and "layers" not in h5file:
        raise ModelFileError(
            f"{label(filepath)} is not a Keras 3 weights file: it has no "
            "`layers` or `vars` group. Legacy `.h5` weights are loaded from "
            "a file whose name does not end in `.weights.h5`.")
    from gkeras.optimizers.base_optimizer import Optimizer
    failures = []
    assignments = []   # (variable, value already cast to its dtype)
    custom = []        # (object, store) for `load_own_variables`
    optimizers = []
    for path, obj in walk(model):
        store = _read_group(h5file, path)
        try:
            if isinstance(obj, Optimizer):
                planned = _plan_optimizer(model, obj, store)
                if planned:
                    optimizers.append(obj)
            elif _has_custom(obj, "load_own_variables"):
                custom.append((obj, store))
                continue
            else:
                planned = _plan_layer(obj, store)
        except (ValueError, TypeError) as e:
            if not skip_mismatch:
                raise ModelFileError(
                    f"Could not load {label(filepath)} into model "
                    f"{model.name!r}: at `{path or '/'}`: {e} The model was "
                    "left unchanged.") from None
            failures.append((path or "/", str(e)))
            continue
        assignments.extend(planned)
    _apply(assignments, custom)
    for opt in optimizers:
        opt._sync_host_state()
    if failures:
        warnings.warn(
            f"Skipped loading {len(failures)} objects from "
            f"{label(filepath)} because they did not match the model: "
            + "; ".join(f"{p}: {m}" for p, m in failures), stacklevel=3)


def _apply(assignments, custom):
    """Assigns the checked values, then runs the objects' own loaders; on
    an error in a loader every variable touched is restored."""
    if not custom:
        for variable, value in assignments:
            variable.assign(value)
        return
    touched = [v for v, _ in assignments]
    for obj, _ in custom:
        touched.extend(own_variables(obj))
    saved = [(v, _to_host(v).copy()) for v in touched]
    try:
        for variable, value in assignments:
            variable.assign(value)
        for obj, store in custom:
            obj.load_own_variables(store)
    except BaseException:
        for variable, value in saved:
            variable.assign(value)
        raise


def _plan_layer(layer, store):
    """The (variable, value) pairs to load into `layer`, after checking
    count and shapes; raises ValueError naming what does not match."""
    variables = own_variables(layer)
    if len(store) != len(variables):
        if not variables and not layer.built:
            raise ValueError(
                f"Layer {layer.name!r} was never built and thus it doesn't "
                f"have any variables. However the weights file lists "
                f"{len(store)} variables for this layer. Build the model "
                "(call it on data, or `model.build(input_shape)`) before "
                "loading weights.")
        raise ValueError(
            f"Layer {layer.name!r} expected {len(variables)} variables, but "
            f"received {len(store)} variables during loading. Expected: "
            f"{[v.name for v in variables]}")
    values = [store[str(i)] for i in range(len(variables))] if all(
        str(i) in store for i in range(len(variables))) else None
    if values is None:
        raise ValueError(f"Layer {layer.name!r}: the variables are not "
                         f"numbered 0..{len(variables) - 1} in the file "
                         f"(found {sorted(store)}).")
    return [_checked(v, val, layer.name) for v, val in zip(variables,
                                                             values)]


def _checked(variable, value, owner):
    if tuple(np.shape(value)) != tuple(variable.shape):
        raise ValueError(
            f"{owner!r}: variable {variable.path!r} has shape "
            f"{tuple(variable.shape)}, the file holds shape "
            f"{tuple(np.shape(value))}.")
    try:
        return variable, np.asarray(value, dtype=variable.dtype)
    except (TypeError, ValueError):
        raise ValueError(
            f"{owner!r}: variable {variable.path!r} has dtype "
            f"{variable.dtype}, the file holds {np.asarray(value).dtype} "
            "values that do not convert.") from None


def _plan_optimizer(model, optimizer, store):
    if not store:
        return []
    trainable = getattr(model, "trainable_weights", [])
    if not optimizer.built and len(store) > len(optimizer.variables) and \
            trainable:
        # Slots exist only once built; building here lets a reloaded model
        # continue training with its saved optimizer state (a fresh build
        # is the state an unbuilt optimizer stands for).
        optimizer.build(trainable)
    # An optimizer may accept other saved layouts (LossScaleOptimizer: the
    # one Keras writes before its first step).
    layout = getattr(optimizer, "_variables_for_saved", None)
    variables = layout(len(store)) if layout is not None else None
    if variables is None:
        variables = list(optimizer.variables)
    if len(store) != len(variables):
        warnings.warn(
            f"Skipping variable loading for optimizer "
            f"'{optimizer.name}', because it has "
            f"{len(optimizer.variables)} variables whereas the saved "
            f"optimizer has {len(store)} variables.", stacklevel=5)
        return []
    return [_checked(v, store[str(i)], optimizer.name)
            for i, v in enumerate(variables)]

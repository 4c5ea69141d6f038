"""Minimal Keras-format (de)serialization for the building-block packages.

Initializers, constraints, regularizers, optimizers, schedules, losses and
metrics serialize to Keras 3's dict layout so that configs written here
load in Keras and vice versa:

```python
{"module": "keras.optimizers", "class_name": "Adam",
 "config": {...}, "registered_name": None}
```

Keras-2 layouts (`{"class_name": ..., "config": ...}` without `module`)
are read too.

This module is the per-package front end of `gkeras.saving.serialization`:
objects are serialized there (so user classes get their
`registered_name`), and names are resolved through
`gkeras.saving.custom_objects` first (`custom_object_scope`,
`register_keras_serializable`, the `custom_objects=` argument), then
through the package's own table.
"""

import inspect


def serialize_keras_object(obj, module):
    """Returns the Keras-3 config dict of `obj` (an object with
    `get_config`, or a plain function), or `obj` itself for None/str."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    from gkeras.saving.custom_objects import _GLOBAL_CUSTOM_NAMES
    if inspect.isfunction(obj):
        registered = _GLOBAL_CUSTOM_NAMES.get(obj)
        return {"module": module, "class_name": "function",
                "config": registered or obj.__name__,
                "registered_name": "function"}
    if hasattr(obj, "get_config"):
        from gkeras.saving import serialization
        out = serialization.serialize_keras_object(obj)
        if type(obj).__module__.startswith("gkeras."):
            out["module"] = module
        return out
    raise TypeError(f"Cannot serialize {obj!r}: it has no `get_config()`.")


def lookup(name, module_objects, custom_objects, kind):
    """Finds `name` in `custom_objects`, then `module_objects`; raises a
    ValueError listing the valid names otherwise."""
    from gkeras.saving.custom_objects import (get_registered_object,
                                              lookup_custom)
    found = get_registered_object(name, custom_objects)
    if found is not None:
        return found
    if name in module_objects:
        return module_objects[name]
    found = lookup_custom(name, custom_objects)
    if found is not None:
        return found
    valid = sorted(k for k in module_objects if not k.startswith("_"))
    raise ValueError(
        f"Unknown {kind}: {name!r}. Expected one of {valid}, or a "
        f"callable / {kind} instance, or pass custom objects with "
        "`custom_objects=`.")


def deserialize_keras_object(config, module_objects, custom_objects=None,
                             kind="object"):
    """Instantiates an object from a Keras config dict (or a name).

    Args:
        config: `{"class_name": ..., "config": {...}}` (Keras 2 or 3), or
            a string name.
        module_objects: dict name -> class or function.
        custom_objects: optional dict of user classes/functions.
        kind: what is being deserialized, for error messages.

    Returns:
        An instance (classes are built with `from_config`), or the function.
    """
    if config is None:
        return None
    if isinstance(config, str):
        obj = lookup(config, module_objects, custom_objects, kind)
        return obj
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"Could not interpret {kind} config: expected a dict with "
            f"'class_name' and 'config' keys. Received: {config!r}")
    class_name = config["class_name"]
    inner = config.get("config", {})
    if class_name == "function":
        return lookup(inner, module_objects, custom_objects, kind)
    from gkeras.saving.custom_objects import get_registered_object
    name = config.get("registered_name") or class_name
    cls = get_registered_object(name, custom_objects)
    if cls is None:
        cls = lookup(class_name, module_objects, custom_objects, kind)
    if not inspect.isclass(cls):
        return cls
    if hasattr(cls, "from_config"):
        return cls.from_config(dict(inner or {}))
    return cls(**(inner or {}))


def get_from_identifier(identifier, deserialize, kind, all_objects):
    """The shared body of `initializers.get`, `regularizers.get`,
    `constraints.get`: None stays None; a name or config dict is
    deserialized; a class is instantiated; a callable is returned as is.

    Args:
        identifier: None, a name, a config dict, a class or a callable.
        deserialize: the module's `deserialize(config)`.
        kind: what is looked up, for the error message ("initializer").
        all_objects: the module's name -> object dict (for the error).
    """
    import inspect
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = deserialize({"class_name": identifier, "config": {}})
    else:
        obj = identifier
    if callable(obj):
        if inspect.isclass(obj):
            obj = obj()
        return obj
    raise ValueError(
        f"Could not interpret {kind} identifier: {identifier!r}. "
        f"Expected a name among {sorted(all_objects)}, a config "
        "dict, or a callable.")

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
"""

import inspect


def serialize_keras_object(obj, module):
    """Returns the Keras-3 config dict of `obj` (an object with
    `get_config`, or a plain function), or `obj` itself for None/str."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if inspect.isfunction(obj):
        return {"module": module, "class_name": "function",
                "config": obj.__name__, "registered_name": "function"}
    if hasattr(obj, "get_config"):
        return {"module": module, "class_name": type(obj).__name__,
                "config": obj.get_config(), "registered_name": None}
    raise TypeError(f"Cannot serialize {obj!r}: it has no `get_config()`.")


def lookup(name, module_objects, custom_objects, kind):
    """Finds `name` in `custom_objects`, then `module_objects`; raises a
    ValueError listing the valid names otherwise."""
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name in module_objects:
        return module_objects[name]
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
    name = config.get("registered_name") or class_name
    if custom_objects and name in custom_objects:
        cls = custom_objects[name]
    else:
        cls = lookup(class_name, module_objects, custom_objects, kind)
    if not inspect.isclass(cls):
        return cls
    if hasattr(cls, "from_config"):
        return cls.from_config(dict(inner or {}))
    return cls(**(inner or {}))

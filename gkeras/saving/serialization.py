"""Keras-format (de)serialization of configurable objects.

`serialize_keras_object` writes the Keras 3 form
`{"module", "class_name", "config", "registered_name"}`;
`deserialize_keras_object` reads that form, the Keras-2 form
`{"class_name", "config"}`, and plain string names.
"""

import importlib

from gkeras.saving.custom_objects import get_registered_object, \
    _GLOBAL_CUSTOM_NAMES

# gkeras package -> the Keras module name written in configs.
_KERAS_MODULES = {
    "layers": "keras.layers", "initializers": "keras.initializers",
    "regularizers": "keras.regularizers", "constraints": "keras.constraints",
    "optimizers": "keras.optimizers", "losses": "keras.losses",
    "metrics": "keras.metrics", "models": "keras",
    "activations": "keras.activations",
}
_SEARCH = ("gkeras.layers", "gkeras.models", "gkeras.initializers",
           "gkeras.regularizers", "gkeras.constraints", "gkeras.optimizers",
           "gkeras.losses", "gkeras.metrics", "gkeras.activations",
           "gkeras.optimizers.schedules")


def _keras_module(obj):
    mod = type(obj).__module__ if not isinstance(obj, type) else \
        obj.__module__
    parts = mod.split(".")
    if parts[0] == "gkeras" and len(parts) > 1:
        if parts[1] == "optimizers" and "schedules" in parts:
            return "keras.optimizers.schedules"
        return _KERAS_MODULES.get(parts[1], "keras")
    return mod


def serialize_keras_object(obj):
    """Returns the Keras 3 config dict of `obj` (None stays None)."""
    if obj is None:
        return None
    if isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(o) for o in obj]
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    cls = type(obj)
    if not hasattr(obj, "get_config"):
        if callable(obj):
            name = _GLOBAL_CUSTOM_NAMES.get(obj, getattr(obj, "__name__",
                                                         None))
            return name
        raise TypeError(f"Cannot serialize {obj!r}: it has no get_config().")
    registered = _GLOBAL_CUSTOM_NAMES.get(cls)
    is_builtin = cls.__module__.startswith("gkeras.")
    if is_builtin and cls.__name__ == "Functional":
        # Keras 3 writes Functional with its source module (config.json).
        return {"module": "keras.src.models.functional",
                "class_name": "Functional", "config": obj.get_config(),
                "registered_name": "Functional"}
    # A built-in class may be exported by Keras under another name than
    # its class (GroupedQueryAttention is "GroupQueryAttention" in files).
    class_name = cls.__dict__.get("_keras_class_name", cls.__name__)
    return {"module": _keras_module(obj) if is_builtin else cls.__module__,
            "class_name": class_name,
            "config": obj.get_config(),
            "registered_name": None if is_builtin else
            (registered or cls.__name__)}


def _find_builtin(class_name):
    for modname in _SEARCH:
        try:
            mod = importlib.import_module(modname)
        except ImportError:
            continue
        obj = getattr(mod, class_name, None)
        if obj is not None:
            return obj
    return None


def deserialize_keras_object(config, module_objects=None, custom_objects=None,
                             safe_mode=None, **kwargs):
    """Rebuilds an object from its config (Keras 3 or Keras 2 form).

    Args:
        config: a dict with `class_name`/`config`, or a string name.
        module_objects: optional dict of candidate classes/functions.
        custom_objects: optional dict of user classes/functions.
        safe_mode: refuse to rebuild code stored in the file (Lambda).
            None (the default) inherits the setting of an enclosing call,
            or `gkeras.saving.safe_mode_enabled()`.

    Returns:
        The object.
    """
    if safe_mode is not None:
        from gkeras.saving import safe_mode_scope
        with safe_mode_scope(safe_mode):
            return deserialize_keras_object(config, module_objects,
                                            custom_objects, None, **kwargs)
    if config is None:
        return None
    if isinstance(config, str):
        obj = get_registered_object(config, custom_objects, module_objects)
        if obj is None:
            obj = _find_builtin(config)
        if obj is None:
            raise ValueError(f"Could not locate object {config!r}. Pass it "
                             "in `custom_objects` or register it with "
                             "`@gkeras.saving.register_keras_serializable`.")
        return obj
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not deserialize {config!r}: expected a dict "
                         "with 'class_name' and 'config'.")
    class_name = config["class_name"]
    inner = config.get("config", {})
    if class_name == "function":
        return deserialize_keras_object(inner, module_objects,
                                        custom_objects)
    cls = None
    registered = config.get("registered_name")
    for key in (registered, class_name):
        if key:
            cls = get_registered_object(key, custom_objects, module_objects)
            if cls is not None:
                break
    if cls is None:
        cls = _find_builtin(class_name)
    if cls is None:
        raise ValueError(
            f"Unknown object: {class_name!r} (module "
            f"{config.get('module')!r}). Please ensure you are using a "
            "`gkeras.utils.custom_object_scope` and that this object is "
            "included in the scope, or pass it in `custom_objects`.")
    if not hasattr(cls, "from_config"):
        return cls
    import inspect
    params = inspect.signature(cls.from_config).parameters
    kw = {}
    if "custom_objects" in params:
        kw["custom_objects"] = custom_objects
    if "safe_mode" in params:
        kw["safe_mode"] = safe_mode
    if isinstance(inner, dict) and "name" in inner and inner.get(
            "name") is None:
        inner = {k: v for k, v in inner.items() if k != "name"}
    return cls.from_config(inner, **kw)

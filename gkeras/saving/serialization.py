"""Keras-format (de)serialization of configurable objects.

`serialize_keras_object` writes the Keras 3 form
`{"module", "class_name", "config", "registered_name"}`;
`deserialize_keras_object` reads that form, the Keras-2 form
`{"class_name", "config"}`, and plain string names.

Loading is allow-listed: a name resolves to a user object (registered, in
`custom_objects` or a `custom_object_scope`), to a gkeras modelling class
(layer, model, loss, metric, optimizer, initializer, regularizer,
constraint, learning-rate schedule), or to a function Keras serializes by
name (activations, losses, metrics). Any other gkeras attribute a file
names (`load_model`, `get_file`, ...) is refused: a config must never make
loading call library functions with arguments from the file.
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
        if parts[1] == "applications":
            # Layers Keras defines inside an application module
            # (ConvNeXt's LayerScale) are written with that module.
            return "keras.src." + ".".join(parts[1:])
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
    if hasattr(obj, "_keras_serialized"):
        # An op node of a Functional model (`x + 1.0` on KerasTensors).
        return obj._keras_serialized()
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
            "registered_name": None if is_builtin and not
            _is_application_class(cls) else (registered or cls.__name__)}


def _is_application_class(cls):
    return cls.__module__.startswith("gkeras.applications.")


def _application_class(class_name, module):
    """The layer class `class_name` defined in the `keras.applications`
    family module `module` names (`keras.src.applications.convnext`), or
    None."""
    parts = (module or "").split(".")
    if parts[:3] == ["keras", "src", "applications"]:
        family = parts[3:]
    elif parts[:2] == ["gkeras", "applications"]:
        family = parts[2:]
    else:
        return None
    if len(family) != 1 or not family[0].isidentifier():
        return None
    try:
        mod = importlib.import_module("gkeras.applications." + family[0])
    except ImportError:
        return None
    from gkeras.layers.layer import Layer
    obj = getattr(mod, class_name, None)
    return obj if isinstance(obj, type) and issubclass(obj, Layer) else None


def _modelling_bases():
    """The base classes a file may name (with their subclasses)."""
    from gkeras.constraints import Constraint
    from gkeras.initializers.initializers import Initializer
    from gkeras.layers.layer import Layer
    from gkeras.losses.loss import Loss
    from gkeras.metrics.metric import Metric
    from gkeras.optimizers.base_optimizer import Optimizer
    from gkeras.optimizers.schedules.learning_rate_schedule import \
        LearningRateSchedule
    from gkeras.regularizers import Regularizer
    return (Layer, Loss, Metric, Optimizer, Initializer, Regularizer,
            Constraint, LearningRateSchedule)


_TABLES = []


def _function_tables():
    """{Keras module: {name: function}} of the functions Keras serializes
    by name (activations, losses, metrics), each from its own module."""
    if not _TABLES:
        _TABLES.append(_build_function_tables())
    return _TABLES[0]


def _build_function_tables():
    import inspect
    from gkeras import activations, losses, metrics
    loss_fns = {k: v for k, v in losses.ALL_OBJECTS_DICT.items()
                if inspect.isfunction(v)}
    return {"keras.activations": dict(activations._ALL),
            "keras.losses": loss_fns,
            "keras.metrics": {**loss_fns, **metrics._FUNCTIONS}}


def _function_module(module):
    """The Keras function module a config's `module` names, or None."""
    if not module:
        return None
    parts = module.split(".")
    if parts[0] in ("keras", "gkeras") and len(parts) > 1:
        sub = parts[2] if parts[1] == "src" and len(parts) > 2 else parts[1]
        if sub in ("activations", "losses", "metrics"):
            return f"keras.{sub}"
    return None


class UnsafeObjectError(ValueError):
    """A file names an object that loading is not allowed to build."""


def _refuse(name, config, found):
    raise UnsafeObjectError(
        f"Refusing to deserialize {name!r}"
        + (f" (module {config.get('module')!r})"
           if isinstance(config, dict) and config.get("module") else "")
        + ": "
        + (f"it is {_describe(found)}, not a layer, model, loss, metric, "
           "optimizer, initializer, regularizer, constraint, learning-rate "
           "schedule or activation. " if found is not None else
           "it is not a known gkeras/Keras modelling object. ")
        + "A model file may only name modelling objects, for security. If "
        "the file uses your own class or function, pass it in "
        "`custom_objects` or register it with "
        "`@gkeras.saving.register_keras_serializable()`.")


def _describe(obj):
    kind = "the class" if isinstance(obj, type) else "the function" \
        if callable(obj) else "the object"
    name = getattr(obj, "__qualname__", None) or type(obj).__name__
    module = getattr(obj, "__module__", None)
    return f"{kind} {module + '.' if module else ''}{name}"


def _find_builtin(class_name, module=None, config=None):
    """The gkeras modelling class or serializable function `class_name`,
    None when gkeras has nothing of that name; raises `UnsafeObjectError`
    when the name exists but is not a modelling object (a file must never
    reach `load_model`, `get_file`, ... through a config)."""
    if not isinstance(class_name, str):
        return None
    fn_module = _function_module(module)
    tables = _function_tables()
    if fn_module is not None:
        fn = tables[fn_module].get(class_name)
        if fn is not None:
            return fn
    app_cls = _application_class(class_name, module)
    if app_cls is not None:
        return app_cls
    from gkeras.ops.symbolic import keras_operation_class
    op_cls = keras_operation_class(class_name, module)
    if op_cls is not None:
        return op_cls
    bases = _modelling_bases()
    found = None
    for modname in _SEARCH:
        try:
            mod = importlib.import_module(modname)
        except ImportError:
            continue
        obj = getattr(mod, class_name, None)
        if obj is None:
            continue
        if isinstance(obj, type) and issubclass(obj, bases):
            return obj
        found = obj if found is None else found
    if fn_module is None:
        for table in tables.values():
            if class_name in table:
                return table[class_name]
    if found is not None:
        _refuse(class_name, config, found)
    return None


def deserialize_layer(config, custom_objects=None, where="model"):
    """`deserialize_keras_object` for an entry of a model's layer list:
    anything but a layer is refused (a file must not make a model call
    some other object with arguments it supplies).

    Args:
        config: the layer's config entry.
        custom_objects: optional dict of user classes.
        where: what holds the entry, for the error message.

    Returns:
        The layer.
    """
    from gkeras.layers.layer import Layer
    from gkeras.ops.symbolic import SymbolicOp
    obj = deserialize_keras_object(config, custom_objects=custom_objects)
    if not isinstance(obj, (Layer, SymbolicOp)):
        name = config.get("class_name") if isinstance(config, dict) \
            else config
        raise UnsafeObjectError(
            f"The layer list of {where} names {name!r}, which deserializes "
            f"to {obj!r}, not a layer. Only layers may appear in a model's "
            "`layers`.")
    return obj


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
    from gkeras.saving import in_safe_mode, safe_mode_enabled
    if safe_mode is None and in_safe_mode() is None:
        # An outermost call (model_from_json, layers.deserialize) loads
        # untrusted configs too: it runs in the global safe mode.
        safe_mode = safe_mode_enabled()
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
            obj = _find_builtin(config, config=config)
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
        if isinstance(inner, str):
            obj = get_registered_object(inner, custom_objects,
                                        module_objects)
            if obj is None:
                obj = _find_builtin(inner, config.get("module"), config)
            if obj is None:
                raise ValueError(
                    f"Could not locate function {inner!r} (module "
                    f"{config.get('module')!r}). Pass it in `custom_objects` "
                    "or register it with "
                    "`@gkeras.saving.register_keras_serializable()`.")
            return obj
        return deserialize_keras_object(inner, module_objects,
                                        custom_objects)
    cls = None
    registered = config.get("registered_name")
    for key in (registered, class_name):
        if key:
            cls = get_registered_object(key, custom_objects, module_objects)
            if cls is not None:
                break
    user_provided = cls is not None
    if cls is None:
        cls = _find_builtin(class_name, config.get("module"), config)
    if cls is None:
        raise ValueError(
            f"Unknown object: {class_name!r} (module "
            f"{config.get('module')!r}). Please ensure you are using a "
            "`gkeras.utils.custom_object_scope` and that this object is "
            "included in the scope, or pass it in `custom_objects`.")
    import inspect
    if not inspect.isclass(cls):
        # A function (an activation, a loss, or one the user provided).
        return cls
    if not hasattr(cls, "from_config"):
        if user_provided:
            return cls
        _refuse(class_name, config, cls)
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

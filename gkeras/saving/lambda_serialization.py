"""Serialization of Python functions held by `Lambda` layers.

Like Keras, the bytecode of a lambda is stored (base64 of marshal) so the
file can be shared; loading it back executes code from the file, which is
refused unless the user passes `safe_mode=False`. A named function is
looked up among the user's registered objects and gkeras's tensor
functions (`ops`, `activations`, `losses`, `metrics`); importing any other
module a file names (which runs that module's code) also needs
`safe_mode=False`.
"""

import base64
import marshal
import types

from gkeras.saving.custom_objects import get_registered_object


def serialize_function(fn):
    """Returns the Keras config of a function (named, or lambda bytecode)."""
    if getattr(fn, "__name__", "<lambda>") != "<lambda>" and \
            "<locals>" not in getattr(fn, "__qualname__", ""):
        return {"module": fn.__module__, "class_name": "function",
                "config": fn.__name__, "registered_name": "function"}
    code = base64.b64encode(marshal.dumps(fn.__code__)).decode("ascii")
    return {"class_name": "__lambda__",
            "config": {"code": code, "defaults": fn.__defaults__,
                       "closure": None}}


# Public namespaces whose functions a Lambda may name under safe mode,
# keyed by the first two parts of the module a file writes for them.
_SAFE_FUNCTION_NAMESPACES = {
    "ops": "gkeras.ops", "activations": "gkeras.activations",
    "losses": "gkeras.losses", "metrics": "gkeras.metrics",
}


def _safe_namespace(module):
    """The gkeras namespace a file's `module` stands for when it is a
    gkeras/Keras module of tensor functions, else None."""
    if not isinstance(module, str):
        return None
    parts = module.split(".")
    if parts[0] not in ("keras", "gkeras") or len(parts) < 2:
        return None
    sub = parts[2] if parts[1] == "src" and len(parts) > 2 else parts[1]
    return _SAFE_FUNCTION_NAMESPACES.get(sub)


def _named_function(config, custom_objects, safe_mode):
    """A function a config names by module and name: user-registered ones,
    gkeras/Keras tensor functions, and (only with safe mode off) any
    importable function."""
    import importlib
    import inspect
    name = config.get("config")
    module = config.get("module")
    for key in (config.get("registered_name"), name):
        if isinstance(key, str) and key != "function":
            obj = get_registered_object(key, custom_objects)
            if obj is not None:
                return obj
    if not isinstance(name, str):
        raise ValueError(f"Unrecognised function config: {config!r}")
    namespace = _safe_namespace(module)
    if namespace == "gkeras.ops":
        obj = getattr(importlib.import_module(namespace), name, None)
        if inspect.isfunction(obj) and obj.__module__.startswith(
                namespace):
            return obj
    elif namespace is not None:
        # Activations, losses, metrics: only their serializable functions
        # (not the modules' `get`/`deserialize` helpers).
        from gkeras.saving.serialization import _function_tables
        table = _function_tables()["keras." + namespace.split(".")[1]]
        if name in table:
            return table[name]
    from gkeras.saving import safe_mode_enabled
    if safe_mode is None:
        safe_mode = safe_mode_enabled()
    if safe_mode:
        raise ValueError(
            f"Refusing to load the function {module}.{name} named by a "
            "`Lambda` layer's config: with `safe_mode=True` a file may only "
            "name gkeras/Keras functions and functions you registered, "
            "because importing a module a file names can run arbitrary "
            "code. Pass the function in `custom_objects={"
            f"{name!r}: {name}}}`, or, if you trust the source of this "
            "file, pass `safe_mode=False` to the loading function.")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, TypeError, ValueError):
        raise ValueError(
            f"Could not locate function {name!r} (module {module!r}) for a "
            "Lambda layer; pass it in `custom_objects`.") from None


def deserialize_function(config, custom_objects=None, safe_mode=None):
    """Rebuilds a function from `serialize_function`'s output.

    Raises:
        ValueError: while safe mode is on, for stored bytecode and for a
            function of a module other than gkeras's/Keras's that the user
            did not register.
    """
    if callable(config):
        return config
    if isinstance(config, str):
        obj = get_registered_object(config, custom_objects)
        if obj is None:
            raise ValueError(f"Unknown function {config!r} in a Lambda "
                             "config; pass it in `custom_objects`.")
        return obj
    if not isinstance(config, dict):
        # Keras 2 wrote bytecode as a bare [code, defaults, closure] list;
        # Keras 3 does not read it either.
        raise ValueError(
            "Unrecognised function config in a Lambda layer (the Keras 2 "
            f"bytecode list format is not supported): {str(config)[:80]}")
    if config.get("class_name") == "function":
        return _named_function(config, custom_objects, safe_mode)
    if config.get("class_name") == "__lambda__":
        from gkeras.saving import safe_mode_enabled
        if safe_mode is None:
            safe_mode = safe_mode_enabled()
        if safe_mode:
            raise ValueError(
                "Requested the deserialization of a `Lambda` layer whose "
                "function is stored as Python bytecode. Loading it executes "
                "code from the file, which is disallowed by default. If you "
                "trust the source of this file, pass `safe_mode=False` to "
                "the loading function.")
        raw = config["config"]
        code = marshal.loads(base64.b64decode(raw["code"]))
        defaults = raw.get("defaults")
        return types.FunctionType(code, globals(), None,
                                  tuple(defaults) if defaults else None)
    raise ValueError(f"Unrecognised function config: {config!r}")

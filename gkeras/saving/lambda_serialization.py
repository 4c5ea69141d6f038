"""Serialization of Python functions held by `Lambda` layers.

Like Keras, the bytecode of a lambda is stored (base64 of marshal) so the
file can be shared; loading it back executes code from the file, which is
refused unless the user passes `safe_mode=False`.
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


def deserialize_function(config, custom_objects=None, safe_mode=None):
    """Rebuilds a function from `serialize_function`'s output.

    Raises:
        ValueError: for stored bytecode while safe mode is on.
    """
    if callable(config):
        return config
    if isinstance(config, str):
        obj = get_registered_object(config, custom_objects)
        if obj is None:
            raise ValueError(f"Unknown function {config!r} in a Lambda "
                             "config; pass it in `custom_objects`.")
        return obj
    if config.get("class_name") == "function":
        name = config["config"]
        obj = get_registered_object(name, custom_objects)
        if obj is None:
            import importlib
            try:
                obj = getattr(importlib.import_module(config["module"]), name)
            except (ImportError, AttributeError, KeyError):
                raise ValueError(
                    f"Could not locate function {name!r} for a Lambda layer; "
                    "pass it in `custom_objects`.") from None
        return obj
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

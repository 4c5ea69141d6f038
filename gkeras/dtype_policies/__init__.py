"""`gkeras.dtype_policies`: dtype policies and their (de)serialization.

See `DTypePolicy`. Quantized policies (`QuantizedDTypePolicy`,
`"int8_from_float32"`, ...) are not implemented: asking for one raises
`NotImplementedError`.
"""

from gkeras import backend
from gkeras.dtype_policies.dtype_policy import (  # noqa: F401
    QUANTIZATION_MODES, DTypePolicy, FloatDTypePolicy, dtype_policy,
    set_dtype_policy)

ALL_OBJECTS_DICT = {"DTypePolicy": DTypePolicy,
                    "FloatDTypePolicy": FloatDTypePolicy,
                    # tf.keras 2.x mixed precision files name it `Policy`.
                    "Policy": DTypePolicy}
_NOT_IMPLEMENTED = ("QuantizedDTypePolicy", "QuantizedFloat8DTypePolicy",
                    "Int4DTypePolicy", "GPTQDTypePolicy", "AWQDTypePolicy",
                    "DTypePolicyMap")


def _stand_ins():
    # Keras's quantized policies (and the per-layer map that carries them)
    # are importable, and constructing one says why it is missing.
    from gkeras.utils.unsupported import unsupported_class
    return {n: unsupported_class(f"gkeras.dtype_policies.{n}", "quantizers")
            for n in _NOT_IMPLEMENTED}


globals().update(_stand_ins())


def serialize(dtype_policy):
    """Serializes a `DTypePolicy` as Keras 3.15 writes it in model files.

    Args:
        dtype_policy: a `DTypePolicy`.

    Returns:
        `{"module": "keras", "class_name": "DTypePolicy", "config":
        {"name": ...}, "registered_name": None}`.
    """
    if not isinstance(dtype_policy, DTypePolicy):
        raise TypeError(
            "`dtype_policies.serialize` expects a DTypePolicy. Received: "
            f"dtype_policy={dtype_policy!r} (of type {type(dtype_policy)})")
    return {"module": "keras", "class_name": "DTypePolicy",
            "config": dtype_policy.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """Creates a `DTypePolicy` from its serialized dict.

    Args:
        config: a dict as `serialize` writes (`module`/`registered_name`
            optional), or a bare `{"name": ...}`.
        custom_objects: optional dict of custom policy classes by name.

    Returns:
        A `DTypePolicy`.
    """
    if not isinstance(config, dict):
        raise TypeError(
            "`dtype_policies.deserialize` expects a dict. Received: "
            f"config={config!r}")
    if "class_name" not in config:
        return DTypePolicy.from_config(config)
    name = config["class_name"]
    inner = config.get("config") or {}
    cls = (custom_objects or {}).get(name) or ALL_OBJECTS_DICT.get(name)
    if cls is None:
        if name in _NOT_IMPLEMENTED:
            raise NotImplementedError(
                f"dtype policy class {name!r} (config {inner}): gkeras does "
                "not implement quantization policies.")
        raise ValueError(
            f"Unknown dtype policy class {name!r}. Expected one of "
            f"{sorted(ALL_OBJECTS_DICT)}.")
    return cls.from_config(dict(inner))


def get(identifier):
    """Retrieves a `DTypePolicy`.

    Args:
        identifier: None (the global policy), a policy name, a serialized
            dict, a `DTypePolicy`, or a dtype (NumPy dtype or its name).

    Returns:
        A `DTypePolicy`.

    Example:

    >>> gkeras.dtype_policies.get("mixed_bfloat16").compute_dtype
    'bfloat16'
    """
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    try:
        name = backend.standardize_dtype(identifier)
    except Exception:
        name = None
    if name is None:
        raise ValueError(
            "Cannot interpret `dtype` argument. Expected a string or an "
            f"instance of DTypePolicy. Received: dtype={identifier}")
    return DTypePolicy(name)


__all__ = ["DTypePolicy", "FloatDTypePolicy", "get", "serialize",
           "deserialize", "dtype_policy", "set_dtype_policy"]

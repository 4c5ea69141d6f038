"""The Keras-2 (TF-Keras) serialization format: `{"class_name": ...,
"config": ...}` without Keras 3's `module`/`registered_name` keys
(Keras's `keras.legacy.saving`, also `keras.utils.legacy`)."""

import inspect

from gkeras.saving.custom_objects import (CustomObjectScope,
                                          get_registered_name,
                                          get_registered_object)

__all__ = ["serialize_keras_object", "deserialize_keras_object"]


def serialize_keras_object(instance):
    """Serializes an object to the Keras-2 format.

    Objects with `get_config()` become `{"class_name": <registered name>,
    "config": {...}}` (config items that are objects serialized in turn,
    marked `"__passive_serialization__"`); functions become their
    registered name.

    Args:
        instance: the object to serialize.

    Returns:
        A JSON-compatible dict, a name, or None.

    Example:
    >>> gkeras.legacy.saving.serialize_keras_object(
    ...     gkeras.regularizers.L2(0.1))
    {'class_name': 'L2', 'config': {'l2': 0.1}}
    """
    instance = inspect.unwrap(instance) if callable(instance) else instance
    if instance is None:
        return None
    if hasattr(instance, "get_config") and not inspect.isclass(instance):
        config = instance.get_config()
        out = {}
        for key, item in config.items():
            if isinstance(item, str):
                out[key] = item
                continue
            try:
                serialized = serialize_keras_object(item)
                if isinstance(serialized, dict) and not isinstance(item,
                                                                   dict):
                    serialized["__passive_serialization__"] = True
                out[key] = serialized
            except ValueError:
                out[key] = item
        return {"class_name": get_registered_name(instance.__class__),
                "config": out}
    if hasattr(instance, "__name__"):
        return get_registered_name(instance)
    raise ValueError(f"Cannot serialize {instance!r} because it doesn't "
                     "implement `get_config()`.")


def _unknown(kind, name):
    return ValueError(
        f"Unknown {kind}: '{name}'. Please ensure you are using a "
        "`gkeras.utils.custom_object_scope` and that this object is "
        "included in the scope, or pass it in `custom_objects`.")


def deserialize_keras_object(identifier, module_objects=None,
                             custom_objects=None,
                             printable_module_name="object"):
    """Rebuilds an object from the Keras-2 format.

    As in Keras, the built-in classes are not looked up by themselves:
    pass them in `module_objects` (or use e.g.
    `gkeras.layers.deserialize`).

    Args:
        identifier: a `{"class_name", "config"}` dict, a name, or a
            function.
        module_objects: dict of the built-in objects to look names up in.
        custom_objects: dict of user objects to look names up in.
        printable_module_name: what the object is, for error messages.

    Returns:
        The object (a class named by a string is instantiated without
        arguments; functions are returned as they are).

    Example:
    >>> reg = gkeras.legacy.saving.deserialize_keras_object(
    ...     {"class_name": "L2", "config": {"l2": 0.1}},
    ...     module_objects={"L2": gkeras.regularizers.L2})
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        if "class_name" not in identifier or "config" not in identifier:
            raise ValueError(
                f"Improper config format for {identifier}. Expecting python "
                "dict contains `class_name` and `config` as keys")
        class_name = identifier["class_name"]
        cls = get_registered_object(class_name, custom_objects,
                                    module_objects)
        if cls is None:
            raise _unknown(printable_module_name, class_name)
        cls_config = identifier["config"]
        if isinstance(cls_config, dict):
            cls_config = dict(cls_config)
            for key, item in list(cls_config.items()):
                if key == "name":
                    continue  # a name, never a function to look up
                if isinstance(item, dict) and \
                        "__passive_serialization__" in item:
                    cls_config[key] = deserialize_keras_object(
                        item, module_objects, custom_objects, "config_item")
                elif isinstance(item, str) and inspect.isfunction(
                        get_registered_object(item, custom_objects,
                                              module_objects)):
                    cls_config[key] = get_registered_object(
                        item, custom_objects, module_objects)
        custom_objects = custom_objects or {}
        if hasattr(cls, "from_config"):
            params = inspect.signature(cls.from_config).parameters
            if "custom_objects" in params:
                return cls.from_config(cls_config,
                                       custom_objects=custom_objects)
            with CustomObjectScope(custom_objects):
                return cls.from_config(cls_config)
        with CustomObjectScope(custom_objects):
            return cls(**cls_config)
    if isinstance(identifier, str):
        obj = get_registered_object(identifier, custom_objects,
                                    module_objects)
        if obj is None:
            raise _unknown(printable_module_name, identifier)
        return obj() if inspect.isclass(obj) else obj
    if inspect.isfunction(identifier):
        return identifier
    raise ValueError(f"Could not interpret serialized "
                     f"{printable_module_name}: {identifier!r}")

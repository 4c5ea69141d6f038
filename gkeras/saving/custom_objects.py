"""Registration and scoping of user-defined classes and functions."""

_GLOBAL_CUSTOM_OBJECTS = {}
_GLOBAL_CUSTOM_NAMES = {}
_SCOPES = []


def register_keras_serializable(package="Custom", name=None):
    """Registers a class or function so saved models can find it by name.

    Args:
        package: the package part of the registered name.
        name: the short name (default the object's `__name__`).

    Returns:
        A decorator.

    Example:

    ```python
    @gkeras.saving.register_keras_serializable(package="MyLayers")
    class Scale(gkeras.layers.Layer):
        ...
    ```
    """

    def decorator(arg):
        class_name = name if name is not None else arg.__name__
        registered = f"{package}>{class_name}"
        if isinstance(arg, type) and not hasattr(arg, "get_config"):
            raise ValueError(
                "Cannot register a class that does not have a get_config() "
                "method.")
        _GLOBAL_CUSTOM_OBJECTS[registered] = arg
        _GLOBAL_CUSTOM_NAMES[arg] = registered
        return arg

    return decorator


def get_registered_name(obj):
    """The registered name of `obj`, or its `__name__`."""
    return _GLOBAL_CUSTOM_NAMES.get(obj, getattr(obj, "__name__", None))


def get_registered_object(name, custom_objects=None, module_objects=None):
    """Looks up `name` in the scopes, the given dicts and the registry."""
    for scope in reversed(_SCOPES):
        if name in scope:
            return scope[name]
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name in _GLOBAL_CUSTOM_OBJECTS:
        return _GLOBAL_CUSTOM_OBJECTS[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None


def lookup_custom(name, custom_objects=None):
    """A user-provided object named `name` (scopes, registry), or None."""
    obj = get_registered_object(name, custom_objects)
    if obj is None:
        for key, val in _GLOBAL_CUSTOM_OBJECTS.items():
            if key.split(">")[-1] == name:
                return val
    return obj


def get_custom_objects():
    """The global dict of registered custom objects (mutable)."""
    return _GLOBAL_CUSTOM_OBJECTS


class CustomObjectScope:
    """Makes custom objects resolvable by name inside a `with` block.

    Example:

    ```python
    with gkeras.saving.CustomObjectScope({"MyLayer": MyLayer}):
        model = gkeras.models.load_model("model.h5")
    ```
    """

    def __init__(self, custom_objects=None, *args):
        objs = dict(custom_objects or {})
        for a in args:
            objs.update(a)
        self.custom_objects = objs

    def __enter__(self):
        _SCOPES.append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _SCOPES.pop()
        return False


custom_object_scope = CustomObjectScope

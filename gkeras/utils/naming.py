"""Automatic unique names (`dense`, `dense_1`, ...) and name scopes."""

import collections
import re

_UIDS = collections.defaultdict(int)
_SCOPES = []


def to_snake_case(name):
    """`"BatchNormalization"` -> `"batch_normalization"` (Keras's rule)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
    return name


def get_uid(prefix):
    """Returns 1, 2, 3... per prefix; the first call for a prefix returns 1."""
    _UIDS[prefix] += 1
    return _UIDS[prefix]


def uniquify(prefix):
    """`"dense"`, then `"dense_1"`, `"dense_2"`... as Keras names layers."""
    uid = get_uid(prefix)
    return prefix if uid == 1 else f"{prefix}_{uid - 1}"


def auto_name(class_name):
    """A unique snake-case name for an instance of `class_name`."""
    return uniquify(to_snake_case(class_name))


def reset_uids():
    """Forgets every counter (used by `clear_session`)."""
    _UIDS.clear()


class name_scope:
    """A sub-namespace for variable paths (`"outer/inner/kernel"`), as
    Keras's `keras.name_scope`.

    Args:
        name: the scope's name (a string without `/`).
        caller: optional object opening the scope (e.g. a layer).
        deduplicate: when `caller` is given and the innermost open scope
            has the same caller and name, do not open another.
        override_parent: an absolute path replacing the scopes opened
            before this one.

    Example:

    ```python
    with gkeras.name_scope("block1"):
        v = gkeras.Variable(1.0, name="v")
    v.path  # "block1/v"
    ```
    """

    def __init__(self, name, caller=None, deduplicate=True,
                 override_parent=None):
        if not isinstance(name, str) or "/" in name:
            raise ValueError("Argument `name` must be a string and cannot "
                             f"contain character `/`. Received: name={name}")
        self.name = name
        self.caller = caller
        self.deduplicate = deduplicate
        self.override_parent = override_parent
        self._pop_on_exit = False

    def __enter__(self):
        if self.deduplicate and _SCOPES and self.caller is not None:
            top = _SCOPES[-1]
            if top.caller is self.caller and top.name == self.name:
                return self
        _SCOPES.append(self)
        self._pop_on_exit = True
        return self

    def __exit__(self, *exc):
        if self._pop_on_exit:
            _SCOPES.pop()
            self._pop_on_exit = False
        return False


def current_scope():
    """The current scope path, e.g. `"sequential/dense"` (or "")."""
    parts = []
    for scope in _SCOPES:
        if scope.override_parent is not None:
            parts = [p for p in scope.override_parent.split("/") if p]
        parts.append(scope.name)
    return "/".join(parts)

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
    """Pushes `name` on the scope stack used for variable paths."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        _SCOPES.append(self.name)
        return self

    def __exit__(self, *exc):
        _SCOPES.pop()
        return False


def current_scope():
    """The current scope path, e.g. `"sequential/dense"` (or "")."""
    return "/".join(_SCOPES)

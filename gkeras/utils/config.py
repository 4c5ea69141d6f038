"""`Config`: a dict-like container of named values (Keras's
`keras.utils.Config`)."""

import copy
import difflib
import json


class Config:
    """A dict-like container for named values, with attribute access,
    freezing and JSON serialization.

    Args:
        **kwargs: the initial values.

    Example:

    ```python
    config = gkeras.utils.Config(learning_rate=0.1, momentum=0.9)
    config.use_ema = True
    config["seed"] = 123
    config.freeze()
    config.foo = "bar"  # ValueError: the config is frozen
    ```
    """

    __attrs__ = None

    def __init__(self, **kwargs):
        self._config = kwargs
        self._frozen = False
        # Names set from here on are config values, not attributes.
        self.__attrs__ = set(dir(self))

    @property
    def frozen(self):
        """True if the config is frozen."""
        return self._frozen

    def freeze(self):
        """Forbids further changes."""
        self._frozen = True

    def unfreeze(self):
        """Allows changes again."""
        self._frozen = False

    def _raise_if_frozen(self):
        if self._frozen:
            raise ValueError(
                "Cannot mutate attribute(s) because the config is frozen.")

    def as_dict(self):
        """A (shallow) copy of the values as a dict."""
        return copy.copy(self._config)

    def to_json(self):
        """The values as a JSON string."""
        return json.dumps(self._config)

    def keys(self):
        return self._config.keys()

    def values(self):
        return self._config.values()

    def items(self):
        return self._config.items()

    def pop(self, *args):
        self._raise_if_frozen()
        return self._config.pop(*args)

    def update(self, *args, **kwargs):
        self._raise_if_frozen()
        return self._config.update(*args, **kwargs)

    def get(self, keyname, value=None):
        return self._config.get(keyname, value)

    def __setattr__(self, name, value):
        attrs = object.__getattribute__(self, "__attrs__")
        if attrs is None or name in attrs:
            return object.__setattr__(self, name, value)
        self._raise_if_frozen()
        self._config[name] = value

    def __getattr__(self, name):
        attrs = object.__getattribute__(self, "__attrs__")
        if attrs is None or name in attrs:
            return object.__getattribute__(self, name)
        if name in self._config:
            return self._config[name]
        msg = f"Unknown attribute: '{name}'."
        close = difflib.get_close_matches(name, list(self._config), n=1,
                                          cutoff=0.7)
        if close:
            msg += f" Did you mean '{close[0]}'?"
        raise AttributeError(msg)

    def __setitem__(self, key, item):
        self._raise_if_frozen()
        self._config[key] = item

    def __getitem__(self, key):
        return self._config[key]

    def __repr__(self):
        return f"<Config {self._config}>"

    def __iter__(self):
        yield from sorted(self._config)

    def __len__(self):
        return len(self._config)

    def __delitem__(self, key):
        self._raise_if_frozen()
        del self._config[key]

    def __contains__(self, item):
        return item in self._config


__all__ = ["Config"]

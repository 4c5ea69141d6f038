"""`StackedRNNCells`: several cells run as one (deep RNN in one layer)."""

from gkeras.layers.layer import Layer, _signature_flags


class StackedRNNCells(Layer):
    """Wrapper allowing a stack of RNN cells to behave as a single cell.

    At each step the output of cell `k` is the input of cell `k + 1`; the
    states are the cells' states, nested per cell.

    Args:
        cells: list of RNN cells.

    Example:
    >>> cells = [gkeras.layers.LSTMCell(8), gkeras.layers.LSTMCell(8)]
    >>> rnn = gkeras.layers.RNN(StackedRNNCells(cells))
    >>> rnn(np.ones((2, 5, 3))).shape
    (2, 8)
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        cells = list(cells)
        for cell in cells:
            if not hasattr(cell, "call"):
                raise ValueError(
                    "All cells must have a `call` method. "
                    f"Received cell without a `call` method: {cell!r}")
            if getattr(cell, "state_size", None) is None:
                raise ValueError(
                    "All cells must have a `state_size` attribute. "
                    f"Received cell without a `state_size`: {cell!r}")
        self.cells = cells

    @property
    def state_size(self):
        return [c.state_size for c in self.cells]

    @property
    def output_size(self):
        last = self.cells[-1]
        out = getattr(last, "output_size", None)
        if out is not None:
            return out
        s = last.state_size
        return s[0] if isinstance(s, (list, tuple)) else s

    def get_initial_state(self, batch_size=None):
        from gkeras import ops
        states = []
        for cell in self.cells:
            fn = getattr(cell, "get_initial_state", None)
            if fn is not None:
                s = fn(batch_size=batch_size)
            else:
                sizes = cell.state_size if isinstance(
                    cell.state_size, (list, tuple)) else [cell.state_size]
                s = [ops.zeros((batch_size, d), dtype=self.compute_dtype)
                     for d in sizes]
            states.append(list(s) if isinstance(s, (list, tuple)) else [s])
        return states

    def call(self, inputs, states, training=False):
        new_states = []
        for cell, s in zip(self.cells, states):
            s = list(s) if isinstance(s, (list, tuple)) else [s]
            kwargs = {}
            if isinstance(cell, Layer) and _signature_flags(type(cell))[0]:
                kwargs["training"] = training
            fn = cell if isinstance(cell, Layer) else cell.call
            inputs, s = fn(inputs, s, **kwargs)
            new_states.append(list(s) if isinstance(s, (list, tuple))
                              else [s])
        return inputs, new_states

    def build(self, input_shape):
        shape = tuple(input_shape)
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell._maybe_build(shape)
            out = getattr(cell, "output_size", None)
            if out is None:
                s = cell.state_size
                out = s[0] if isinstance(s, (list, tuple)) else s
            shape = shape[:-1] + (int(out),)
        self.built = True

    def get_config(self):
        from gkeras.saving.serialization import serialize_keras_object
        return {**super().get_config(),
                "cells": [serialize_keras_object(c) for c in self.cells]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from gkeras.saving.serialization import deserialize_keras_object
        config = dict(config)
        cells = [deserialize_keras_object(c, custom_objects=custom_objects)
                 for c in config.pop("cells")]
        if "dtype" in config and isinstance(config["dtype"], dict):
            from gkeras.layers.layer import _standardize_dtype_policy
            config["dtype"] = _standardize_dtype_policy(config["dtype"])
        return cls(cells, **config)

"""`Bidirectional`: runs a recurrent layer forwards and backwards."""

import copy

from gkeras import ops
from gkeras.layers.layer import Layer, _signature_flags


class Bidirectional(Layer):
    """Bidirectional wrapper for RNNs.

    Runs a copy of `layer` over the sequence and another copy (or
    `backward_layer`) over the reversed sequence, then merges the outputs.

    Args:
        layer: a recurrent layer (`LSTM`, `GRU`, `SimpleRNN`, `RNN`) whose
            config is copied for the forward and backward directions.
        merge_mode: how the two outputs are combined: `"concat"` (default),
            `"sum"`, `"mul"`, `"ave"`, or None (a list of both).
        weights: optional initial weights (forward half, then backward).
        backward_layer: optional recurrent layer for the backward
            direction (must have `go_backwards=True` opposite to `layer`).

    Call arguments:
        sequences: `(batch, timesteps, features)`.
        initial_state: optional list: forward states, then backward states.
        mask: optional `(batch, timesteps)` booleans.
        training: whether dropout is active.

    Input shape:
        `(batch, timesteps, features)`.

    Output shape:
        The wrapped layer's output with the last axis doubled for
        `"concat"`; with `return_state`, followed by the forward and then
        the backward states.

    Example:
    >>> bi = gkeras.layers.Bidirectional(gkeras.layers.LSTM(10))
    >>> bi(np.ones((2, 5, 3), "float32")).shape
    (2, 20)
    """

    def __init__(self, layer, merge_mode="concat", weights=None,
                 backward_layer=None, **kwargs):
        from gkeras.saving.serialization import (deserialize_keras_object,
                                                 serialize_keras_object)
        if not isinstance(layer, Layer):
            raise ValueError(
                "Please initialize `Bidirectional` layer with a "
                f"`gkeras.layers.Layer` instance. Received: {layer!r}")
        if backward_layer is not None and not isinstance(backward_layer,
                                                         Layer):
            raise ValueError("`backward_layer` needs to be a "
                             "`gkeras.layers.Layer` instance. Received: "
                             f"{backward_layer!r}")
        if merge_mode not in ("sum", "mul", "ave", "concat", None):
            raise ValueError(
                f"Invalid merge mode. Received: {merge_mode!r}. Merge mode "
                "should be one of {'sum', 'mul', 'ave', 'concat', None}")
        super().__init__(**kwargs)
        # Fresh copies from the config, so no state of `layer` carries over.
        config = serialize_keras_object(layer)
        config["config"]["name"] = "forward_" + _strip(layer.name,
                                                       "forward_")
        self.forward_layer = deserialize_keras_object(config)
        if backward_layer is None:
            config = serialize_keras_object(layer)
            config["config"]["go_backwards"] = not layer.go_backwards
            config["config"]["name"] = "backward_" + _strip(layer.name,
                                                            "backward_")
            self.backward_layer = deserialize_keras_object(config)
        else:
            self.backward_layer = backward_layer
        self._verify_layer_config()
        for lay in (self.forward_layer, self.backward_layer):
            if getattr(lay, "zero_output_for_mask", None) is not None:
                lay.zero_output_for_mask = lay.return_sequences
        self.merge_mode = merge_mode
        if weights:
            n = len(weights)
            self.forward_layer._initial_weights = list(weights[:n // 2])
            self.backward_layer._initial_weights = list(weights[n // 2:])
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self.input_spec = layer.input_spec

    def _verify_layer_config(self):
        f, b = self.forward_layer, self.backward_layer
        if f.go_backwards == b.go_backwards:
            raise ValueError(
                "Forward layer and backward layer should have different "
                "`go_backwards` value. Received: forward_layer.go_backwards="
                f"{f.go_backwards}, backward_layer.go_backwards="
                f"{b.go_backwards}")
        for a in ("stateful", "return_sequences", "return_state"):
            if getattr(f, a) != getattr(b, a):
                raise ValueError(
                    "Forward layer and backward layer are expected to have "
                    f"the same value for attribute {a!r}, got "
                    f"{getattr(f, a)!r} for the forward layer and "
                    f"{getattr(b, a)!r} for the backward layer.")

    def build(self, sequences_shape):
        for lay in (self.forward_layer, self.backward_layer):
            if not lay.built:
                lay._maybe_build(tuple(sequences_shape))
        self.built = True

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        out = self.forward_layer.compute_output_shape(sequences_shape)
        states = ()
        if self.return_state:
            out, states = out[0], tuple(out[1:])
        if self.merge_mode == "concat":
            out = tuple(out[:-1]) + (out[-1] * 2,)
        elif self.merge_mode is None:
            out = (tuple(out), tuple(out))
        if self.return_state:
            head = out if self.merge_mode is None else (out,)
            return tuple(head) + states + states
        return out

    def call(self, sequences, initial_state=None, mask=None, training=None):
        kwargs = {}
        has_training, has_mask = _signature_flags(
            type(self.forward_layer))[:2]
        if has_training:
            kwargs["training"] = training
        if has_mask and mask is not None:
            kwargs["mask"] = mask
        if initial_state is not None:
            half = len(initial_state) // 2
            fstate, bstate = initial_state[:half], initial_state[half:]
        else:
            fstate = bstate = None
        y = self.forward_layer(sequences, initial_state=fstate, **kwargs)
        y_rev = self.backward_layer(sequences, initial_state=bstate,
                                    **kwargs)
        states = ()
        if self.return_state:
            states = tuple(y[1:]) + tuple(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = ops.flip(y_rev, axis=1)
        if self.merge_mode == "concat":
            out = ops.concatenate([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            out = ops.add(y, y_rev)
        elif self.merge_mode == "ave":
            out = ops.multiply(ops.add(y, y_rev), 0.5)
        elif self.merge_mode == "mul":
            out = ops.multiply(y, y_rev)
        else:
            out = (y, y_rev)
        if self.return_state:
            return (tuple(out) if self.merge_mode is None else (out,)) + \
                states
        return list(out) if self.merge_mode is None else out

    def compute_mask(self, inputs, mask):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if self.return_sequences:
            out = [mask, mask] if not self.merge_mode else mask
        else:
            out = [None, None] if not self.merge_mode else None
        if self.return_state and self.states is not None:
            extra = [None] * len(self.states)
            return (list(out) if isinstance(out, list) else [out]) + extra
        return out

    @property
    def states(self):
        """Forward then backward state Variables of a stateful layer."""
        f = getattr(self.forward_layer, "states", None)
        b = getattr(self.backward_layer, "states", None)
        if f and b:
            return tuple(f) + tuple(b)
        return None

    def reset_state(self):
        """Zeroes both directions' states (stateful layers only)."""
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    def reset_states(self):
        """Keras-2 alias of `reset_state`."""
        self.reset_state()

    def get_config(self):
        from gkeras.saving.serialization import serialize_keras_object
        return {**super().get_config(), "merge_mode": self.merge_mode,
                "layer": serialize_keras_object(self.forward_layer),
                "backward_layer": serialize_keras_object(
                    self.backward_layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from gkeras.layers.layer import _standardize_dtype_policy
        from gkeras.saving.serialization import deserialize_keras_object
        config = copy.deepcopy(config)
        config["layer"] = deserialize_keras_object(
            config["layer"], custom_objects=custom_objects)
        back = config.pop("backward_layer", None)
        if back is not None:
            config["backward_layer"] = deserialize_keras_object(
                back, custom_objects=custom_objects)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = _standardize_dtype_policy(config["dtype"])
        return cls(**config)


def _strip(name, prefix):
    return name[len(prefix):] if name.startswith(prefix) else name

"""`RNN`: the generic recurrent layer that runs a cell over a sequence.

The built-in `SimpleRNN`, `LSTM` and `GRU` subclass it and override
`_fused_loop` with one whole-sequence primitive (`gkeras.ops.rnn`); any
other cell (or a built-in one with an activation the fused kernels lack)
runs through the generic per-step loop below, differentiable op by op.
"""

import numpy as np

from gkeras import constraints, initializers, ops, regularizers
from gkeras.backend import to_numpy
from gkeras.layers.layer import Layer, _signature_flags
from gkeras.layers.rnn.dropout_rnn_cell import DropoutRNNCell
from gkeras.layers.rnn.stacked_rnn_cells import StackedRNNCells
from gkeras.ops.affine import affine
from gkeras.ops._base import to_array, xp_of
from gkeras.ops.engine import Tensor
from gkeras.ops.variable import Variable
from gkeras.utils import naming


def _flat(s):
    if isinstance(s, (list, tuple)):
        out = []
        for v in s:
            out.extend(_flat(v))
        return out
    return [s]


def _pack(template, flat):
    it = iter(flat)

    def rec(t):
        if isinstance(t, (list, tuple)):
            return [rec(v) for v in t]
        return next(it)
    return rec(template)


def _batch_mask(m, like):
    """A `(batch,)` step mask reshaped to broadcast against `like`."""
    return m.reshape((m.shape[0],) + (1,) * (len(like.shape) - 1))


def _arr(x):
    return x.data if isinstance(x, Tensor) else x


def _as_list(s):
    return list(s) if isinstance(s, (list, tuple)) else [s]


class RNN(Layer):
    """Base class for recurrent layers: runs a cell over the time axis.

    Args:
        cell: an RNN cell: a layer (or object) with `call(inputs, states)`
            returning `(output, new_states)` and a `state_size` attribute
            (int or list of ints, one per state); optionally `output_size`
            and `get_initial_state(batch_size)`. A list of cells is wrapped
            in `StackedRNNCells`.
        return_sequences: return the whole output sequence (default: only
            the last output).
        return_state: also return the final states.
        go_backwards: process the sequence backwards (the returned sequence
            is then reversed).
        stateful: reuse the last states of batch `i` as the initial states
            of the next batch (needs a fixed batch size; `reset_states()`
            zeroes them).
        unroll: accepted for Keras compatibility (gkeras runs a Python
            loop either way, so unrolling changes nothing).
        zero_output_for_mask: output zeros at masked steps instead of the
            carried output.

    Call arguments:
        sequences: `(batch, timesteps, features)` tensor.
        initial_state: optional list of initial state tensors.
        mask: optional `(batch, timesteps)` booleans (True = use the step);
            masked steps carry the states through.
        training: whether dropout is active.

    Input shape:
        3-D tensor `(batch, timesteps, features)`.

    Output shape:
        `(batch, units)`, or `(batch, timesteps, units)` with
        `return_sequences`; with `return_state`, followed by the states,
        each `(batch, state_size)`.

    Example:
    >>> class MinimalCell(gkeras.layers.Layer):
    ...     def __init__(self, units, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.units = self.state_size = units
    ...     def build(self, input_shape):
    ...         self.kernel = self.add_weight(shape=(input_shape[-1], self.units))
    ...     def call(self, inputs, states):
    ...         h = ops.matmul(inputs, self.kernel) + states[0]
    ...         return h, [h]
    >>> RNN(MinimalCell(8))(np.ones((2, 5, 3))).shape
    (2, 8)
    """

    def __init__(self, cell, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False,
                 zero_output_for_mask=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not hasattr(cell, "call"):
            raise ValueError("Argument `cell` should have a `call` method. "
                             f"Received: cell={cell!r}")
        if getattr(cell, "state_size", None) is None:
            raise ValueError(
                "The RNN cell should have a `state_size` attribute (single "
                "integer or list of integers, one integer per RNN state). "
                f"Received: cell={cell!r}")
        super().__init__(**kwargs)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.supports_masking = True
        self.input_spec = None
        # Untracked state Variables (Keras keeps them out of `weights`).
        self._state_vars = None
        state_size = cell.state_size
        if not isinstance(state_size, (list, tuple, int, np.integer)):
            raise ValueError(
                "state_size must be an integer, or a list/tuple of integers "
                f"(one for each state tensor). Received: {state_size!r}")
        if isinstance(state_size, (int, np.integer)):
            self.state_size = [int(state_size)]
            self.single_state = True
        else:
            self.state_size = list(state_size)
            self.single_state = False

    # -- shapes ----------------------------------------------------------------

    def _check_rank(self, shape):
        if len(shape) != 3:
            hint = ""
            if len(shape) == 2:
                hint = (" If each sample is a sequence of scalars, add a "
                        "feature axis, e.g. `x[..., None]` or "
                        "`Reshape((timesteps, 1))`; token ids go through an "
                        "`Embedding` layer first.")
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r} expects inputs "
                "of shape (batch, timesteps, features), a 3-D tensor. "
                f"Received: input shape {tuple(shape)}.{hint}")

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, length = sequences_shape[0], sequences_shape[1]
        states = []
        for s in self.state_size:
            if isinstance(s, (list, tuple)):
                states.extend((batch, int(v)) for v in s)
            else:
                states.append((batch, int(s)))
        out = getattr(self.cell, "output_size", None)
        if out is None:
            out = _flat(self.state_size)[0]
        out_shape = (batch, length, int(out)) if self.return_sequences \
            else (batch, int(out))
        if self.return_state:
            return (out_shape,) + tuple(states)
        return out_shape

    def compute_mask(self, inputs, mask):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        if self.return_state:
            return [out] + [None] * len(_flat(self.state_size))
        return out

    def build(self, sequences_shape):
        self._check_rank(sequences_shape)
        step = (sequences_shape[0],) + tuple(sequences_shape[2:])
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell._maybe_build(step)
        elif not isinstance(self.cell, Layer) and hasattr(self.cell,
                                                          "build"):
            self.cell.build(step)
        if self.stateful:
            if sequences_shape[0] is None:
                raise ValueError(
                    f"{type(self).__name__} layer {self.name!r}: when using "
                    "`stateful=True` the batch size must be static. Found a "
                    f"dynamic batch size: input shape {tuple(sequences_shape)}."
                    " Pass `batch_size=` to `Input` (or `batch_input_shape=` "
                    "to the first layer).")
            self._create_state_variables(sequences_shape[0])
        self.built = True

    # -- states ----------------------------------------------------------------

    def _create_state_variables(self, batch_size):
        with naming.name_scope(self.name):
            self._state_vars = [
                Variable(_arr(v), trainable=False, name="rnn_state")
                for v in _flat(self.get_initial_state(batch_size))]

    @property
    def states(self):
        """The state Variables of a stateful layer (None otherwise)."""
        return self._state_vars

    def get_initial_state(self, batch_size):
        """Zero initial states (or the cell's `get_initial_state`)."""
        fn = getattr(self.cell, "get_initial_state", None)
        if fn is not None:
            init = fn(batch_size=batch_size)
            return list(init) if isinstance(init, (list, tuple)) else [init]
        dtype = getattr(self.cell, "compute_dtype", self.compute_dtype)
        return [ops.zeros((batch_size, d), dtype=dtype)
                for d in self.state_size]

    def reset_state(self):
        """Zeroes the states of a stateful layer."""
        if self._state_vars is not None:
            for v in self._state_vars:
                v.data = xp_of(v.data).zeros_like(v.data)

    def reset_states(self, states=None):
        """Keras-2 alias of `reset_state` (or sets the given states)."""
        if states is None:
            return self.reset_state()
        if self._state_vars is None:
            raise AttributeError(f"Layer {self.name!r} must be stateful.")
        for v, s in zip(self._state_vars, _as_list(states)):
            v.assign(to_array(s, v.dtype) if not isinstance(s, Tensor)
                     else s)

    # -- call ------------------------------------------------------------------

    def _mask_array(self, mask, batch, steps):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if mask is None:
            return None
        m = _arr(mask)
        if m.ndim == 3:
            m = m[..., 0]
        if tuple(m.shape) != (batch, steps):
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r}: the mask must "
                f"have shape (batch, timesteps) = {(batch, steps)}. "
                f"Received: mask shape {tuple(m.shape)}.")
        return m.astype(bool, copy=False)

    def _initial_states(self, sequences, initial_state):
        batch = sequences.shape[0]
        if initial_state is not None:
            states = _as_list(initial_state)
            n = len(_flat(self.state_size))
            if len(_flat(states)) != n:
                raise ValueError(
                    f"{type(self).__name__} layer {self.name!r} expects "
                    f"{n} initial state tensor(s). Received: "
                    f"{len(_flat(states))}.")
            # NumPy or CuPy states go to the backend's device as they are
            # (np.asarray would refuse a CuPy array).
            flat = [ops.cast(s, self.compute_dtype) if isinstance(s, Tensor)
                    else Tensor(to_array(s, self.compute_dtype))
                    for s in _flat(states)]
            return _pack(self.state_size, flat) if not self.single_state \
                else flat
        if self.stateful:
            if self._state_vars is None:
                self._create_state_variables(batch)
            want = self._state_vars[0].shape[0]
            if want != batch:
                raise ValueError(
                    f"{type(self).__name__} layer {self.name!r} is stateful "
                    f"and was built for batch size {want}, but received a "
                    f"batch of {batch} samples. A stateful RNN needs the "
                    "same batch size for every batch: drop the last partial "
                    "batch (or pad it), or rebuild the layer with the new "
                    "batch size.")
            flat = [Tensor(v.data) for v in self._state_vars]
            return _pack(self.state_size, flat) if not self.single_state \
                else flat
        return self.get_initial_state(batch)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        self._check_rank(sequences.shape)
        batch, steps = sequences.shape[0], sequences.shape[1]
        if steps == 0:
            raise ValueError(f"{type(self).__name__} layer {self.name!r} "
                             "received a sequence with 0 timesteps.")
        mask = self._mask_array(mask, batch, steps)
        states = self._initial_states(sequences, initial_state)
        result = self._fused_loop(sequences, states, mask, bool(training))
        if result is None:
            result = self._generic_loop(sequences, states, mask,
                                        bool(training))
        last, outputs, new_states = result
        self._reset_dropout_masks(self.cell)
        if self.stateful:
            for v, s in zip(self._state_vars, _flat(new_states)):
                # Rebind (not in place): the recorded graph may still hold
                # the old state array as an input of its first step.
                v.data = _arr(s)
        out = outputs if self.return_sequences else last
        if self.return_state:
            return (out,) + tuple(_flat(new_states))
        return out

    def _fused_loop(self, sequences, states, mask, training):
        """Whole-sequence fast path: `(last, outputs, states)` or None."""
        return None

    def _reset_dropout_masks(self, cell):
        if isinstance(cell, DropoutRNNCell):
            cell.reset_dropout_mask()
            cell.reset_recurrent_dropout_mask()
        if isinstance(cell, StackedRNNCells):
            for c in cell.cells:
                self._reset_dropout_masks(c)

    def _generic_loop(self, sequences, states, mask, training):
        cell = self.cell
        kwargs = {}
        if isinstance(cell, Layer):
            if _signature_flags(type(cell))[0]:
                kwargs["training"] = training
            call = cell
        else:
            call = cell.call
        template = states
        flat_states = _flat(states)
        steps = sequences.shape[1]
        order = range(steps - 1, -1, -1) if self.go_backwards else \
            range(steps)
        outputs = []
        for t in order:
            x_t = sequences[:, t]
            cur = _pack(template, flat_states) if not self.single_state \
                else list(flat_states)
            out, new = call(x_t, cur, **kwargs)
            new_flat = _flat(_as_list(new))
            if mask is not None:
                # (batch, 1, ...) so it broadcasts over states of any rank
                # (feature maps for ConvLSTM).
                m_t = mask[:, t]
                new_flat = [ops.where(_batch_mask(m_t, n), n, o)
                            for n, o in zip(new_flat, flat_states)]
                m = _batch_mask(m_t, out)
                if self.zero_output_for_mask:
                    out = ops.where(m, out, 0.0)
                else:
                    # Keras: the first state stands for the last output.
                    out = ops.where(m, out, flat_states[0])
            flat_states = new_flat
            outputs.append(out)
        seq = ops.stack(outputs, axis=1) if self.return_sequences else None
        new_states = _pack(template, flat_states) if not self.single_state \
            else flat_states
        return outputs[-1], seq, new_states

    # -- config ----------------------------------------------------------------

    def get_config(self):
        from gkeras.saving.serialization import serialize_keras_object
        config = {
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
            "cell": serialize_keras_object(self.cell),
        }
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from gkeras.saving.serialization import deserialize_keras_object
        config = dict(config)
        cell = deserialize_keras_object(config.pop("cell"),
                                        custom_objects=custom_objects)
        if "dtype" in config and isinstance(config["dtype"], dict):
            from gkeras.layers.layer import _standardize_dtype_policy
            config["dtype"] = _standardize_dtype_policy(config["dtype"])
        return cls(cell, **config)


def fused_activation_name(fn):
    """The fused-kernel name of a gkeras activation function, or None."""
    from gkeras import activations
    table = {activations.tanh: "tanh", activations.sigmoid: "sigmoid",
             activations.relu: "relu", activations.linear: "linear",
             activations.hard_sigmoid: "hard_sigmoid"}
    try:
        return table.get(fn)
    except TypeError:
        return None


def project_inputs(x, kernel, bias, dp_mask, gates):
    """`x @ kernel + bias` with the input dropout mask(s) applied to `x`:
    one GEMM over all timesteps, or one batched GEMM over the gates when
    each gate has its own mask (Keras's `implementation=1`).

    Args:
        x: `(batch, timesteps, features)` or `(batch, features)` tensor.
        kernel: `(features, gates * units)` tensor.
        bias: `(gates * units,)` tensor or None.
        dp_mask: None, a `(batch, features)` array, or a
            `(gates, batch, features)` array.
        gates: number of gate blocks in `kernel`.

    Returns:
        Tensor of shape `x.shape[:-1] + (gates * units,)`.
    """
    seq = x.ndim == 3
    if dp_mask is None or dp_mask.ndim == 2:
        if dp_mask is not None:
            x = ops.multiply(x, dp_mask[:, None, :] if seq else dp_mask)
        # One node: the bias added in place on the fresh product.
        return affine(x, kernel, bias)
    lead, f = tuple(x.shape[:-1]), x.shape[-1]
    u = kernel.shape[1] // gates
    rows = int(np.prod(lead))
    m = dp_mask[:, :, None, :] if seq else dp_mask
    xg = ops.multiply(ops.expand_dims(x, 0), m)       # (G, ..., F)
    kg = ops.transpose(ops.reshape(kernel, (f, gates, u)), (1, 0, 2))
    xw = ops.matmul(ops.reshape(xg, (gates, rows, f)), kg)
    xw = ops.reshape(ops.transpose(xw, (1, 0, 2)), lead + (gates * u,))
    if bias is not None:
        xw = ops.add(xw, bias)
    return xw


def check_units(units, cls):
    try:
        ok = int(units) == units and units > 0 and not isinstance(units,
                                                                  bool)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"{cls}: received an invalid value for argument `units`, "
            f"expected a positive integer. Received: units={units!r}")
    return int(units)


def check_rate(rate, name, cls):
    try:
        rate = float(rate)
    except (TypeError, ValueError):
        raise ValueError(f"{cls}: `{name}` must be a float in [0, 1]. "
                         f"Received: {name}={rate!r}") from None
    # Keras clips the rates into [0, 1].
    return min(1.0, max(0.0, rate))


def set_weight_args(obj, kernel_initializer, recurrent_initializer,
                    bias_initializer, kernel_regularizer,
                    recurrent_regularizer, bias_regularizer,
                    kernel_constraint, recurrent_constraint,
                    bias_constraint):
    """Resolves and sets the initializer/regularizer/constraint attributes
    of a recurrent cell (the inverse of `weight_config`)."""
    obj.kernel_initializer = initializers.get(kernel_initializer)
    obj.recurrent_initializer = initializers.get(recurrent_initializer)
    obj.bias_initializer = initializers.get(bias_initializer)
    obj.kernel_regularizer = regularizers.get(kernel_regularizer)
    obj.recurrent_regularizer = regularizers.get(recurrent_regularizer)
    obj.bias_regularizer = regularizers.get(bias_regularizer)
    obj.kernel_constraint = constraints.get(kernel_constraint)
    obj.recurrent_constraint = constraints.get(recurrent_constraint)
    obj.bias_constraint = constraints.get(bias_constraint)


def add_cell_weights(cell, kernel_shape, recurrent_shape, bias_shape,
                     bias_initializer=None):
    """Creates a recurrent cell's `kernel`, `recurrent_kernel` and (with
    `use_bias`) `bias` from its initializer/regularizer/constraint
    attributes, in Keras's order; `bias` is None without `use_bias`.

    Args:
        cell: the cell (see `set_weight_args`).
        kernel_shape, recurrent_shape, bias_shape: the weight shapes.
        bias_initializer: overrides `cell.bias_initializer` (LSTM's
            `unit_forget_bias`).
    """
    cell.kernel = cell.add_weight(
        shape=kernel_shape, name="kernel",
        initializer=cell.kernel_initializer,
        regularizer=cell.kernel_regularizer,
        constraint=cell.kernel_constraint)
    cell.recurrent_kernel = cell.add_weight(
        shape=recurrent_shape, name="recurrent_kernel",
        initializer=cell.recurrent_initializer,
        regularizer=cell.recurrent_regularizer,
        constraint=cell.recurrent_constraint)
    cell.bias = cell.add_weight(
        shape=bias_shape, name="bias",
        initializer=bias_initializer or cell.bias_initializer,
        regularizer=cell.bias_regularizer,
        constraint=cell.bias_constraint) if cell.use_bias else None


def unit_forget_bias_initializer(base, units):
    """The LSTM bias initializer with `unit_forget_bias`: `base` for the
    i, c, o gates and ones for the forget gate (Keras's gate order)."""
    def initializer(shape, dtype=None):
        return np.concatenate([
            to_numpy(base((units,), dtype=dtype)),
            np.ones((units,), dtype=dtype or "float32"),
            to_numpy(base((2 * units,), dtype=dtype))])
    return initializer


def check_use_cudnn(use_cudnn):
    """Validates the Keras `use_cudnn` argument of LSTM/GRU."""
    if use_cudnn not in ("auto", True, False):
        raise ValueError(
            "Invalid value received for argument `use_cudnn`. Expected "
            "one of {'auto', True, False}. Received: "
            f"use_cudnn={use_cudnn!r}")
    return use_cudnn


def weight_config(obj):
    """The initializer/regularizer/constraint entries of a recurrent
    cell or layer config (Keras key names)."""
    return {
        "kernel_initializer": initializers.serialize(obj.kernel_initializer),
        "recurrent_initializer": initializers.serialize(
            obj.recurrent_initializer),
        "bias_initializer": initializers.serialize(obj.bias_initializer),
        "kernel_regularizer": regularizers.serialize(obj.kernel_regularizer),
        "recurrent_regularizer": regularizers.serialize(
            obj.recurrent_regularizer),
        "bias_regularizer": regularizers.serialize(obj.bias_regularizer),
        "kernel_constraint": constraints.serialize(obj.kernel_constraint),
        "recurrent_constraint": constraints.serialize(
            obj.recurrent_constraint),
        "bias_constraint": constraints.serialize(obj.bias_constraint),
    }


class _CellProperties:
    """Read-only views of the cell's hyper-parameters on the layer, and the
    `from_config` of the built-in recurrent layers (their config holds the
    cell's arguments, not a `cell` entry)."""

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "dtype" in config and isinstance(config["dtype"], dict):
            from gkeras.layers.layer import _standardize_dtype_policy
            config["dtype"] = _standardize_dtype_policy(config["dtype"])
        return cls(**config)

    def __getattr__(self, name):
        if name in _CELL_ATTRS:
            cell = self.__dict__.get("cell")
            if cell is not None:
                return getattr(cell, name)
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute {name!r}")


_CELL_ATTRS = frozenset({
    "units", "activation", "recurrent_activation", "use_bias",
    "unit_forget_bias", "kernel_initializer", "recurrent_initializer",
    "bias_initializer", "kernel_regularizer", "recurrent_regularizer",
    "bias_regularizer", "kernel_constraint", "recurrent_constraint",
    "bias_constraint", "dropout", "recurrent_dropout", "reset_after",
    "seed"})


def lstm_step(cell, z_i, z_f, z_c, z_o, c_tm1):
    """One LSTM state update from the four gate pre-activations (Keras's
    order i, f, c, o): `c = f c_prev + i act(z_c)`, `h = o act(c)`.

    Returns:
        `(h, [h, c])`, a cell's `call` result.
    """
    i = cell.recurrent_activation(z_i)
    f = cell.recurrent_activation(z_f)
    c = ops.add(ops.multiply(f, c_tm1),
                ops.multiply(i, cell.activation(z_c)))
    o = cell.recurrent_activation(z_o)
    h = ops.multiply(o, cell.activation(c))
    return h, [h, c]


def lstm_cell_config(cell):
    """The config entries LSTM-style cells share (LSTMCell, ConvLSTMCell):
    activations, bias options, weight arguments, dropout and seed."""
    from gkeras import activations
    return {
        "activation": activations.serialize(cell.activation),
        "recurrent_activation": activations.serialize(
            cell.recurrent_activation),
        "use_bias": cell.use_bias,
        "unit_forget_bias": cell.unit_forget_bias,
        **weight_config(cell),
        "dropout": cell.dropout,
        "recurrent_dropout": cell.recurrent_dropout,
        "seed": cell.seed,
    }


def recurrent_layer_config(layer, extra):
    """Config of SimpleRNN/LSTM/GRU: the RNN base without `cell`, plus the
    cell's hyper-parameters."""
    base = RNN.get_config(layer)
    del base["cell"]
    config = {**extra, **weight_config(layer.cell),
              "activity_regularizer": regularizers.serialize(
                  layer.activity_regularizer),
              "dropout": layer.cell.dropout,
              "recurrent_dropout": layer.cell.recurrent_dropout,
              "seed": layer.cell.seed}
    return {**base, **config}


def zero_states(cell, batch_size):
    """Zero initial states `[(batch_size, size), ...]` for a cell whose
    `state_size` is an int or a list of ints."""
    sizes = cell.state_size if isinstance(cell.state_size, (list, tuple)) \
        else [cell.state_size]
    return [ops.zeros((batch_size, d), dtype=cell.compute_dtype)
            for d in sizes]

"""`SimpleRNNCell` and `SimpleRNN`: the fully connected recurrent layer."""

from gkeras import activations, ops
from gkeras.layers.layer import Layer
from gkeras.layers.rnn.dropout_rnn_cell import DropoutRNNCell
from gkeras.layers.rnn.rnn import (RNN, _arr, _CellProperties,
                                   add_cell_weights, check_rate,
                                   check_units, fused_activation_name,
                                   project_inputs, recurrent_layer_config,
                                   set_weight_args, weight_config,
                                   zero_states)
from gkeras.ops.rnn import simple_rnn_sequence
from gkeras.random import SeedGenerator


class SimpleRNNCell(Layer, DropoutRNNCell):
    """Cell class for SimpleRNN: `h = activation(x @ W + h_prev @ U + b)`.

    Args:
        units: positive integer, dimensionality of the output space.
        activation: default `"tanh"`; None = linear.
        use_bias: whether to use a bias vector.
        kernel_initializer: default `"glorot_uniform"`.
        recurrent_initializer: default `"orthogonal"`.
        bias_initializer: default `"zeros"`.
        kernel_regularizer, recurrent_regularizer, bias_regularizer:
            optional regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: optional
            constraints.
        dropout: fraction of the input units to drop.
        recurrent_dropout: fraction of the recurrent units to drop.
        seed: random seed for dropout.

    Call arguments:
        sequence: `(batch, features)` tensor (one timestep).
        states: `[h_prev]`, `(batch, units)`.
        training: whether dropout is active.

    Returns:
        `(h, [h])`.

    Example:
    >>> rnn = gkeras.layers.RNN(gkeras.layers.SimpleRNNCell(4))
    >>> rnn(np.ones((32, 10, 8))).shape
    (32, 4)
    """

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 seed=None, **kwargs):
        units = check_units(units, "SimpleRNNCell")
        super().__init__(**kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        set_weight_args(self, kernel_initializer, recurrent_initializer,
                        bias_initializer, kernel_regularizer,
                        recurrent_regularizer, bias_regularizer,
                        kernel_constraint, recurrent_constraint,
                        bias_constraint)
        self.seed = seed
        self.seed_generator = SeedGenerator(seed)
        self.dropout = check_rate(dropout, "dropout", "SimpleRNNCell")
        self.recurrent_dropout = check_rate(
            recurrent_dropout, "recurrent_dropout", "SimpleRNNCell")
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        u = self.units
        add_cell_weights(self, (input_shape[-1], u), (u, u), (u,))
        self.built = True

    def call(self, sequence, states, training=False):
        prev = states[0] if isinstance(states, (list, tuple)) else states
        dp = self.get_dropout_mask(sequence) if training else None
        rdp = self.get_recurrent_dropout_mask(prev) if training else None
        h = project_inputs(sequence, self.kernel, self.bias, dp, 1)
        if rdp is not None:
            prev = ops.multiply(prev, rdp)
        out = ops.add(h, ops.matmul(prev, self.recurrent_kernel))
        if self.activation is not None:
            out = self.activation(out)
        return out, [out] if isinstance(states, (list, tuple)) else out

    def get_initial_state(self, batch_size=None):
        """Zero state `[(batch_size, units)]`."""
        return zero_states(self, batch_size)

    def get_config(self):
        config = {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **weight_config(self),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }
        return {**super().get_config(), **config}


class SimpleRNN(_CellProperties, RNN):
    """Fully-connected RNN where the output is fed back as the next input.

    Runs as one fused whole-sequence primitive for the activations tanh,
    sigmoid, relu, linear and hard_sigmoid (the step loop otherwise).

    Args:
        units: positive integer, dimensionality of the output space.
        activation: default `"tanh"`; None = linear.
        use_bias: whether to use a bias vector.
        kernel_initializer: default `"glorot_uniform"`.
        recurrent_initializer: default `"orthogonal"`.
        bias_initializer: default `"zeros"`.
        kernel_regularizer, recurrent_regularizer, bias_regularizer,
        activity_regularizer: optional regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: optional
            constraints.
        dropout: fraction of the input units to drop.
        recurrent_dropout: fraction of the recurrent units to drop.
        seed: random seed for dropout.
        return_sequences, return_state, go_backwards, stateful, unroll: as
            in `RNN`.

    Call arguments:
        sequences: `(batch, timesteps, features)`.
        initial_state: optional `[h0]`.
        mask: optional `(batch, timesteps)` booleans.
        training: whether dropout is active.

    Input shape:
        `(batch, timesteps, features)`.

    Output shape:
        `(batch, units)` or `(batch, timesteps, units)`; with
        `return_state`, followed by the final state `(batch, units)`.

    Example:
    >>> rnn = gkeras.layers.SimpleRNN(4)
    >>> rnn(np.random.random((32, 10, 8)).astype("float32")).shape
    (32, 4)
    """

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None,
                 return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False,
                 **kwargs):
        cell = SimpleRNNCell(
            units, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed,
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            name="simple_rnn_cell")
        super().__init__(cell, return_sequences=return_sequences,
                         return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful,
                         unroll=unroll,
                         activity_regularizer=activity_regularizer,
                         **kwargs)

    def _fused_loop(self, sequences, states, mask, training):
        cell = self.cell
        act = fused_activation_name(cell.activation)
        if act is None:
            return None
        dp = cell.get_dropout_mask(_arr(sequences)[:, 0]) if training \
            else None
        rdp = cell.get_recurrent_dropout_mask(states[0]) if training \
            else None
        xw = project_inputs(sequences, cell.kernel, cell.bias, dp, 1)
        zero_last = mask is not None and self.zero_output_for_mask
        hs, h = simple_rnn_sequence(
            xw, states[0], cell.recurrent_kernel, mask=mask,
            recurrent_dropout_mask=None if rdp is None else _arr(rdp),
            go_backwards=self.go_backwards, activation=act,
            zero_output_for_mask=self.zero_output_for_mask,
            return_sequences=self.return_sequences or zero_last)
        return (hs[:, -1] if zero_last else h), hs, [h]

    def call(self, sequences, initial_state=None, mask=None, training=False):
        return super().call(sequences, initial_state=initial_state,
                            mask=mask, training=training)

    def get_config(self):
        return recurrent_layer_config(self, {
            "units": self.cell.units,
            "activation": activations.serialize(self.cell.activation),
            "use_bias": self.cell.use_bias,
        })

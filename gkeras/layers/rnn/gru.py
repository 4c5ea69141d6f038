"""`GRUCell` and `GRU` (Cho et al., 2014), Keras 3 layout (z, r, h)."""

from gkeras import activations, ops
from gkeras.layers.layer import Layer
from gkeras.layers.rnn.dropout_rnn_cell import DropoutRNNCell
from gkeras.layers.rnn.rnn import (RNN, _arr, _CellProperties,
                                   add_cell_weights, check_rate,
                                   check_units, check_use_cudnn,
                                   fused_activation_name, project_inputs,
                                   recurrent_layer_config, set_weight_args,
                                   weight_config, zero_states)
from gkeras.ops.rnn import gru_sequence
from gkeras.random import SeedGenerator


class GRUCell(Layer, DropoutRNNCell):
    """Cell class for the GRU layer: one timestep.

    Gate blocks in Keras's order z (update), r (reset), h (candidate).
    With `reset_after=True` (default) the bias has shape `(2, 3 * units)`:
    row 0 the input bias, row 1 the recurrent bias, and the reset gate
    multiplies the recurrent projection of the candidate.

    Args:
        units: positive integer, dimensionality of the output space.
        activation: candidate activation, default `"tanh"`.
        recurrent_activation: gate activation, default `"sigmoid"`.
        use_bias: whether to use a bias.
        kernel_initializer: default `"glorot_uniform"`.
        recurrent_initializer: default `"orthogonal"`.
        bias_initializer: default `"zeros"`.
        kernel_regularizer, recurrent_regularizer, bias_regularizer:
            optional regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: optional
            constraints.
        dropout: fraction of the input units to drop.
        recurrent_dropout: fraction of the recurrent units to drop.
        reset_after: apply the reset gate after the recurrent matmul
            (Keras 3 default True, the cuDNN convention).
        seed: random seed for dropout.

    Call arguments:
        inputs: `(batch, features)`.
        states: `[h_prev]` (or the tensor itself).
        training: whether dropout is active.

    Returns:
        `(h, [h])`.

    Example:
    >>> rnn = gkeras.layers.RNN(gkeras.layers.GRUCell(4))
    >>> rnn(np.ones((32, 10, 8))).shape
    (32, 4)
    """

    def __init__(self, units, activation="tanh",
                 recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 reset_after=True, seed=None, **kwargs):
        units = check_units(units, "GRUCell")
        implementation = kwargs.pop("implementation", 2)
        super().__init__(**kwargs)
        self.implementation = implementation
        self.units = units
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = use_bias
        set_weight_args(self, kernel_initializer, recurrent_initializer,
                        bias_initializer, kernel_regularizer,
                        recurrent_regularizer, bias_regularizer,
                        kernel_constraint, recurrent_constraint,
                        bias_constraint)
        self.dropout = check_rate(dropout, "dropout", "GRUCell")
        self.recurrent_dropout = check_rate(recurrent_dropout,
                                            "recurrent_dropout", "GRUCell")
        if self.recurrent_dropout != 0.0:
            self.implementation = 1
        if self.implementation == 1:
            self.dropout_mask_count = 3
        self.seed = seed
        self.seed_generator = SeedGenerator(seed)
        self.reset_after = bool(reset_after)
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        u = self.units
        add_cell_weights(self, (input_shape[-1], 3 * u), (u, 3 * u),
                         (2, 3 * u) if self.reset_after else (3 * u,))
        self.built = True

    def _biases(self):
        if self.bias is None:
            return None, None
        if self.reset_after:
            return self.bias[0], self.bias[1]
        return self.bias, None

    def call(self, inputs, states, training=False):
        h_tm1 = states[0] if isinstance(states, (list, tuple)) else states
        u = self.units
        dp, rdp = self._active_dropout_masks(inputs, h_tm1, training)
        in_bias, rec_bias = self._biases()
        x = project_inputs(inputs, self.kernel, in_bias, dp, 3)
        hz, hr, hh = [h_tm1 if m is None else ops.multiply(h_tm1, m)
                      for m in self._gate_masks(rdp, 3)]
        rk = self.recurrent_kernel

        def rec(h, k):
            r = ops.matmul(h, rk[:, k * u:(k + 1) * u])
            if rec_bias is not None:
                r = ops.add(r, rec_bias[k * u:(k + 1) * u])
            return r

        z = self.recurrent_activation(ops.add(x[:, :u], rec(hz, 0)))
        r = self.recurrent_activation(ops.add(x[:, u:2 * u], rec(hr, 1)))
        if self.reset_after:
            rh = ops.multiply(r, rec(hh, 2))
        else:
            rh = ops.matmul(ops.multiply(r, hh), rk[:, 2 * u:])
        cand = self.activation(ops.add(x[:, 2 * u:], rh))
        h = ops.add(ops.multiply(z, h_tm1),
                    ops.multiply(ops.subtract(1.0, z), cand))
        return h, [h] if isinstance(states, (list, tuple)) else h

    def get_initial_state(self, batch_size=None):
        """Zero state `[(batch_size, units)]`."""
        return zero_states(self, batch_size)

    def get_config(self):
        config = {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(
                self.recurrent_activation),
            "use_bias": self.use_bias,
            **weight_config(self),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "reset_after": self.reset_after,
            "seed": self.seed,
        }
        return {**super().get_config(), **config}


class GRU(_CellProperties, RNN):
    """Gated Recurrent Unit (Cho et al. 2014), Keras 3 semantics.

    The whole sequence runs as one fused primitive (one input GEMM, per
    step a recurrent GEMM plus a fused gate pass; CUDA kernels on the GPU)
    when the activations are among tanh, sigmoid, relu, linear and
    hard_sigmoid; otherwise the step-by-step cell loop.

    Args:
        units: positive integer, dimensionality of the output space.
        activation: default `"tanh"`.
        recurrent_activation: default `"sigmoid"`.
        use_bias: whether to use a bias.
        kernel_initializer: default `"glorot_uniform"`.
        recurrent_initializer: default `"orthogonal"`.
        bias_initializer: default `"zeros"`.
        kernel_regularizer, recurrent_regularizer, bias_regularizer,
        activity_regularizer: optional regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: optional
            constraints.
        dropout: fraction of the input units to drop.
        recurrent_dropout: fraction of the recurrent units to drop (one
            mask per gate, as Keras 3).
        seed: random seed for dropout.
        return_sequences, return_state, go_backwards, stateful, unroll: as
            in `RNN`.
        reset_after: default True (bias shape `(2, 3 * units)`).
        use_cudnn: accepted for Keras compatibility.

    Call arguments:
        sequences: `(batch, timesteps, features)`.
        initial_state: optional `[h0]`.
        mask: optional `(batch, timesteps)` booleans.
        training: whether dropout is active.

    Input shape:
        `(batch, timesteps, features)`.

    Output shape:
        `(batch, units)` or `(batch, timesteps, units)`; with
        `return_state`, followed by the final state.

    Example:
    >>> gru = gkeras.layers.GRU(4)
    >>> gru(np.random.random((32, 10, 8)).astype("float32")).shape
    (32, 4)
    """

    def __init__(self, units, activation="tanh",
                 recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None,
                 return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False,
                 reset_after=True, use_cudnn="auto", **kwargs):
        cell = GRUCell(
            units, activation=activation,
            recurrent_activation=recurrent_activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, reset_after=reset_after,
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True), name="gru_cell",
            seed=seed, implementation=kwargs.pop("implementation", 2))
        super().__init__(cell, return_sequences=return_sequences,
                         return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful,
                         unroll=unroll,
                         activity_regularizer=activity_regularizer,
                         **kwargs)
        self.use_cudnn = check_use_cudnn(use_cudnn)

    def _fused_loop(self, sequences, states, mask, training):
        cell = self.cell
        act = fused_activation_name(cell.activation)
        ract = fused_activation_name(cell.recurrent_activation)
        if act is None or ract is None:
            return None
        dp, rdp = cell._active_dropout_masks(_arr(sequences)[:, 0],
                                             states[0], training)
        in_bias, rec_bias = cell._biases()
        xw = project_inputs(sequences, cell.kernel, in_bias, dp, 3)
        zero_last = mask is not None and self.zero_output_for_mask
        hs, h = gru_sequence(
            xw, states[0], cell.recurrent_kernel, rec_bias, mask=mask,
            recurrent_dropout_mask=rdp, go_backwards=self.go_backwards,
            activation=act, recurrent_activation=ract,
            reset_after=cell.reset_after,
            zero_output_for_mask=self.zero_output_for_mask,
            return_sequences=self.return_sequences or zero_last)
        return (hs[:, -1] if zero_last else h), hs, [h]

    def call(self, sequences, initial_state=None, mask=None, training=False):
        return super().call(sequences, initial_state=initial_state,
                            mask=mask, training=training)

    def get_config(self):
        config = recurrent_layer_config(self, {
            "units": self.cell.units,
            "activation": activations.serialize(self.cell.activation),
            "recurrent_activation": activations.serialize(
                self.cell.recurrent_activation),
            "use_bias": self.cell.use_bias,
        })
        config["reset_after"] = self.cell.reset_after
        return config

"""`LSTMCell` and `LSTM` (Hochreiter & Schmidhuber, 1997), Keras 3 layout."""

from gkeras import activations, ops
from gkeras.layers.layer import Layer
from gkeras.layers.rnn.dropout_rnn_cell import DropoutRNNCell
from gkeras.layers.rnn.rnn import (RNN, add_cell_weights, _arr,
                                   _CellProperties, check_rate, check_units,
                                   check_use_cudnn, fused_activation_name,
                                   lstm_cell_config, lstm_step, project_inputs,
                                   recurrent_layer_config, set_weight_args,
                                   unit_forget_bias_initializer, zero_states)
from gkeras.ops.rnn import lstm_projected_sequence, lstm_sequence
from gkeras.random import SeedGenerator


class LSTMCell(Layer, DropoutRNNCell):
    """Cell class for the LSTM layer: one timestep.

    Args:
        units: positive integer, dimensionality of the output space.
        activation: activation of the candidate and the output (default
            `"tanh"`; None = linear).
        recurrent_activation: activation of the gates (default
            `"sigmoid"`).
        use_bias: whether the layer uses a bias vector.
        kernel_initializer: initializer of `kernel` (default
            `"glorot_uniform"`).
        recurrent_initializer: initializer of `recurrent_kernel` (default
            `"orthogonal"`).
        bias_initializer: initializer of the bias (default `"zeros"`).
        unit_forget_bias: add 1 to the forget-gate bias at initialization.
        kernel_regularizer, recurrent_regularizer, bias_regularizer:
            optional regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint:
            optional constraints.
        dropout: fraction of the input units to drop (same mask at every
            step).
        recurrent_dropout: fraction of the recurrent state units to drop.
        seed: random seed for dropout.

    Call arguments:
        inputs: `(batch, features)` tensor.
        states: list `[h, c]` of `(batch, units)` tensors.
        training: whether dropout is active.

    Returns:
        `(h, [h, c])`.

    Example:
    >>> rnn = gkeras.layers.RNN(gkeras.layers.LSTMCell(4))
    >>> rnn(np.ones((32, 10, 8))).shape
    (32, 4)
    """

    def __init__(self, units, activation="tanh",
                 recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True,
                 kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        units = check_units(units, "LSTMCell")
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
        self.dropout = check_rate(dropout, "dropout", "LSTMCell")
        self.recurrent_dropout = check_rate(recurrent_dropout,
                                            "recurrent_dropout", "LSTMCell")
        # Keras 3: recurrent dropout switches to implementation 1, which
        # draws one dropout mask per gate.
        if self.recurrent_dropout != 0.0:
            self.implementation = 1
        if self.implementation == 1:
            self.dropout_mask_count = 4
        self.seed = seed
        self.seed_generator = SeedGenerator(seed)
        self.unit_forget_bias = unit_forget_bias
        self.state_size = [self.units, self.units]
        self.output_size = self.units

    def build(self, input_shape):
        u = self.units
        add_cell_weights(
            self, (input_shape[-1], 4 * u), (u, 4 * u), (4 * u,),
            unit_forget_bias_initializer(self.bias_initializer, u)
            if self.unit_forget_bias else None)
        self.built = True

    def call(self, inputs, states, training=False):
        h_tm1, c_tm1 = states[0], states[1]
        u = self.units
        dp, rdp = self._active_dropout_masks(inputs, h_tm1, training)
        z = project_inputs(inputs, self.kernel, self.bias, dp, 4)
        if rdp is None:
            z = ops.add(z, ops.matmul(h_tm1, self.recurrent_kernel))
            zs = [z[:, k * u:(k + 1) * u] for k in range(4)]
        else:
            zs = []
            for k, m in enumerate(self._gate_masks(rdp, 4)):
                rec = ops.matmul(ops.multiply(h_tm1, m),
                                 self.recurrent_kernel[:, k * u:(k + 1) * u])
                zs.append(ops.add(z[:, k * u:(k + 1) * u], rec))
        return lstm_step(self, *zs, c_tm1)

    def get_initial_state(self, batch_size=None):
        """Zero `[h, c]` states of shape `(batch_size, units)`."""
        return zero_states(self, batch_size)

    def get_config(self):
        config = {
            "units": self.units,
            **lstm_cell_config(self),
        }
        return {**super().get_config(), **config}


class LSTM(_CellProperties, RNN):
    """Long Short-Term Memory layer (Hochreiter, 1997).

    The whole sequence runs as one fused primitive (one input GEMM, then per
    step a recurrent GEMM plus one fused gate pass; CUDA kernels on the
    GPU) when the activations are among tanh, sigmoid, relu, linear and
    hard_sigmoid; other activations use the step-by-step cell loop.

    Args:
        units: positive integer, dimensionality of the output space.
        activation: default `"tanh"`; None = linear.
        recurrent_activation: default `"sigmoid"`.
        use_bias: whether to use a bias vector.
        kernel_initializer: default `"glorot_uniform"`.
        recurrent_initializer: default `"orthogonal"`.
        bias_initializer: default `"zeros"`.
        unit_forget_bias: add 1 to the forget-gate bias at initialization.
        kernel_regularizer, recurrent_regularizer, bias_regularizer,
        activity_regularizer: optional regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: optional
            constraints.
        dropout: fraction of the input units to drop.
        recurrent_dropout: fraction of the recurrent units to drop (one
            mask per gate, as Keras 3).
        seed: random seed for dropout.
        return_sequences: return the full sequence (default the last
            output).
        return_state: also return the final `h` and `c`.
        go_backwards: process the sequence backwards.
        stateful: carry the last states into the next batch.
        unroll: accepted (no effect in gkeras).
        use_cudnn: accepted for Keras compatibility (`"auto"`, True,
            False); gkeras always uses its own fused kernels.

    Call arguments:
        sequences: `(batch, timesteps, features)`.
        initial_state: optional `[h0, c0]`.
        mask: optional `(batch, timesteps)` booleans.
        training: whether dropout is active.

    Input shape:
        `(batch, timesteps, features)`.

    Output shape:
        `(batch, units)`, or `(batch, timesteps, units)` with
        `return_sequences`; with `return_state`: `[output, h, c]`.

    Example:
    >>> lstm = gkeras.layers.LSTM(4, return_sequences=True, return_state=True)
    >>> seq, h, c = lstm(np.random.random((32, 10, 8)).astype("float32"))
    >>> seq.shape, h.shape, c.shape
    ((32, 10, 4), (32, 4), (32, 4))
    """

    def __init__(self, units, activation="tanh",
                 recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True,
                 kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False,
                 use_cudnn="auto", **kwargs):
        cell = LSTMCell(
            units, activation=activation,
            recurrent_activation=recurrent_activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            unit_forget_bias=unit_forget_bias,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            dtype=kwargs.get("dtype"), trainable=kwargs.get("trainable",
                                                            True),
            name="lstm_cell", seed=seed,
            implementation=kwargs.pop("implementation", 2))
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
        need_seq = self.return_sequences or (
            mask is not None and self.zero_output_for_mask)
        if dp is None and rdp is None and mask is None and \
                (act, ract) == ("tanh", "sigmoid"):
            # The common case: the input projection inside the kernel.
            hs, h, c = lstm_projected_sequence(
                sequences, cell.kernel, cell.bias, states[0], states[1],
                cell.recurrent_kernel, go_backwards=self.go_backwards,
                return_sequences=need_seq)
            return h, hs, [h, c]
        xw = project_inputs(sequences, cell.kernel, cell.bias, dp, 4)
        hs, h, c = lstm_sequence(
            xw, states[0], states[1], cell.recurrent_kernel, mask=mask,
            recurrent_dropout_mask=rdp, go_backwards=self.go_backwards,
            activation=act, recurrent_activation=ract,
            zero_output_for_mask=self.zero_output_for_mask,
            return_sequences=need_seq)
        # Keras's last output is outputs[-1]: zeros when the last
        # processed step is masked and zero_output_for_mask is set.
        last = hs[:, -1] if mask is not None and \
            self.zero_output_for_mask else h
        return last, hs, [h, c]

    def call(self, sequences, initial_state=None, mask=None, training=False):
        return super().call(sequences, initial_state=initial_state,
                            mask=mask, training=training)

    def get_config(self):
        return recurrent_layer_config(self, {
            "units": self.cell.units,
            "activation": activations.serialize(self.cell.activation),
            "recurrent_activation": activations.serialize(
                self.cell.recurrent_activation),
            "use_bias": self.cell.use_bias,
            "unit_forget_bias": self.cell.unit_forget_bias,
        })

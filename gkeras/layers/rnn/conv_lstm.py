"""Convolutional LSTM (Shi et al., 2015): `ConvLSTMCell` and the
`ConvLSTM1D`/`ConvLSTM2D`/`ConvLSTM3D` layers, Keras 3 layout.

The gates are convolutions instead of matrix products: per step
`z = conv(x_t, kernel) + bias + conv_same(h_{t-1}, recurrent_kernel)`, split
along the channels in Keras's gate order i, f, c, o. All four gates share
one convolution each way (Keras convolves per gate with the same dropout
mask, which is the same sum), on the conv primitive of `gkeras.ops`.
"""

import numpy as np

from gkeras import activations, ops
from gkeras.backend.config import standardize_data_format
from gkeras.layers.convolutional.base_conv import (standardize_padding,
                                                   standardize_tuple)
from gkeras.layers.layer import Layer
from gkeras.layers.rnn.dropout_rnn_cell import DropoutRNNCell
from gkeras.layers.rnn.rnn import (RNN, add_cell_weights, _CellProperties,
                                   check_rate, lstm_cell_config, lstm_step,
                                   recurrent_layer_config, set_weight_args,
                                   unit_forget_bias_initializer)
from gkeras.ops.conv import conv_output_length
from gkeras.random import SeedGenerator


class ConvLSTMCell(Layer, DropoutRNNCell):
    """Cell class for the ConvLSTM layers: one timestep.

    Args:
        rank: number of spatial dimensions (1, 2 or 3).
        filters: number of output channels of the convolutions.
        kernel_size: int or tuple of `rank` ints.
        strides: int or tuple; strides of the input convolution (the
            recurrent one always has stride 1 and `"same"` padding).
        padding: `"valid"` or `"same"` (input convolution).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        dilation_rate: int or tuple (input convolution).
        activation: activation of the candidate and the output (default
            `"tanh"`).
        recurrent_activation: activation of the gates (default
            `"sigmoid"`).
        use_bias: whether to add a bias.
        kernel_initializer, recurrent_initializer, bias_initializer:
            initializers (defaults `"glorot_uniform"`, `"orthogonal"`,
            `"zeros"`).
        unit_forget_bias: add 1 to the forget-gate bias at initialization.
        kernel_regularizer, recurrent_regularizer, bias_regularizer:
            optional regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: optional
            constraints.
        dropout: fraction of the input entries to drop (same mask at every
            step).
        recurrent_dropout: fraction of the state entries to drop.
        seed: random seed for dropout.

    Call arguments:
        inputs: one step, `(batch, *spatial, channels)` (channels_last).
        states: `[h, c]`, each `(batch, *out_spatial, filters)`.
        training: whether dropout is active.

    Returns:
        `(h, [h, c])`.
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, activation="tanh",
                 recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True,
                 kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        who = f"ConvLSTM{rank}D"
        if rank not in (1, 2, 3):
            raise ValueError(f"ConvLSTMCell: `rank` must be 1, 2 or 3. "
                             f"Received: rank={rank!r}")
        if not isinstance(filters, (int, np.integer)) or filters <= 0:
            raise ValueError(f"{who}: `filters` must be a positive integer. "
                             f"Received: filters={filters!r}")
        self.rank = rank
        self.filters = int(filters)
        self.kernel_size = standardize_tuple(kernel_size, rank,
                                             "kernel_size", who)
        self.strides = standardize_tuple(strides, rank, "strides", who)
        self.padding = standardize_padding(padding, who)
        self.data_format = standardize_data_format(data_format)
        self.dilation_rate = standardize_tuple(dilation_rate, rank,
                                               "dilation_rate", who)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{who}: `strides > 1` is not compatible with "
                f"`dilation_rate > 1`. Received: strides={self.strides}, "
                f"dilation_rate={self.dilation_rate}")
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = use_bias
        set_weight_args(self, kernel_initializer, recurrent_initializer,
                        bias_initializer, kernel_regularizer,
                        recurrent_regularizer, bias_regularizer,
                        kernel_constraint, recurrent_constraint,
                        bias_constraint)
        self.unit_forget_bias = unit_forget_bias
        self.dropout = check_rate(dropout, "dropout", who)
        self.recurrent_dropout = check_rate(recurrent_dropout,
                                            "recurrent_dropout", who)
        self.seed = seed
        self.seed_generator = SeedGenerator(seed)
        # Two feature-map states whose shapes depend on the input (Keras
        # writes -1 too); `get_initial_state` builds them.
        self.state_size = [-1, -1]
        self._who = who

    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def _spatial(self, shape):
        return tuple(shape[1:-1]) if self.data_format == "channels_last" \
            else tuple(shape[2:])

    def build(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"{self._who}: each step must be a {self.rank + 2}-D tensor "
                f"(batch, {'*spatial, ' if self.rank > 1 else 'steps, '}"
                f"channels). Received step shape {tuple(input_shape)}.")
        channels = input_shape[self._channel_axis()]
        if channels is None:
            raise ValueError(f"{self._who}: the channel dimension of the "
                             "inputs must be defined. Received input shape "
                             f"{tuple(input_shape)}.")
        self.input_filters = int(channels)
        self.spatial_dims = self._spatial(input_shape)
        f = self.filters
        add_cell_weights(
            self, self.kernel_size + (self.input_filters, 4 * f),
            self.kernel_size + (f, 4 * f), (4 * f,),
            unit_forget_bias_initializer(self.bias_initializer, f)
            if self.unit_forget_bias else None)
        self.built = True

    def _split(self, z):
        f = self.filters
        if self.data_format == "channels_last":
            return [z[..., k * f:(k + 1) * f] for k in range(4)]
        return [z[:, k * f:(k + 1) * f] for k in range(4)]

    def call(self, inputs, states, training=False):
        h_tm1, c_tm1 = states[0], states[1]
        dp, rdp = self._active_dropout_masks(inputs, h_tm1, training)
        x = inputs if dp is None else ops.multiply(inputs, dp)
        h_in = h_tm1 if rdp is None else ops.multiply(h_tm1, rdp)
        z = ops.conv(x, self.kernel, strides=self.strides,
                     padding=self.padding, data_format=self.data_format,
                     dilation_rate=self.dilation_rate)
        if self.bias is not None:
            shape = (1,) * (self.rank + 1) + (4 * self.filters,) \
                if self.data_format == "channels_last" else \
                (1, 4 * self.filters) + (1,) * self.rank
            z = ops.add(z, ops.reshape(self.bias, shape))
        z = ops.add(z, ops.conv(h_in, self.recurrent_kernel, strides=1,
                                padding="same",
                                data_format=self.data_format))
        zi, zf, zc, zo = self._split(z)
        return lstm_step(self, zi, zf, zc, zo, c_tm1)

    def compute_output_shape(self, inputs_shape):
        spatial = self._spatial(inputs_shape)
        out = tuple(conv_output_length(n, k, s, self.padding, d)
                    for n, k, s, d in zip(spatial, self.kernel_size,
                                          self.strides, self.dilation_rate))
        if any(o is not None and o <= 0 for o in out):
            raise ValueError(
                f"{self._who}: the kernel {self.kernel_size} (dilation "
                f"{self.dilation_rate}) is larger than the "
                f"{'padded ' if self.padding == 'same' else ''}input "
                f"{spatial}; the output would be {out}.")
        shape = (inputs_shape[0],) + out + (self.filters,) \
            if self.data_format == "channels_last" else \
            (inputs_shape[0], self.filters) + out
        return shape, [shape, shape]

    def get_initial_state(self, batch_size=None):
        """Zero `[h, c]` feature maps for a batch of `batch_size`."""
        step = (batch_size,) + self.spatial_dims + (self.input_filters,) \
            if self.data_format == "channels_last" else \
            (batch_size, self.input_filters) + self.spatial_dims
        shape = self.compute_output_shape(step)[0]
        return [ops.zeros(shape, dtype=self.compute_dtype),
                ops.zeros(shape, dtype=self.compute_dtype)]

    def get_config(self):
        config = {
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            **lstm_cell_config(self),
        }
        return {**super().get_config(), "rank": self.rank, **config}


class ConvLSTM(_CellProperties, RNN):
    """Shared body of `ConvLSTM1D/2D/3D` (see `ConvLSTM2D`)."""

    rank = None

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, activation="tanh",
                 recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True,
                 kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, **kwargs):
        cell = ConvLSTMCell(
            self.rank, filters, kernel_size, strides=strides,
            padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation,
            recurrent_activation=recurrent_activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed,
            name="conv_lstm_cell", dtype=kwargs.get("dtype"))
        super().__init__(cell, return_sequences=return_sequences,
                         return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful,
                         unroll=unroll,
                         activity_regularizer=activity_regularizer,
                         **kwargs)

    def _check_rank(self, shape):
        want = self.rank + 3
        if len(shape) != want:
            spatial = ("rows, cols" if self.rank == 2 else
                       "steps" if self.rank == 1 else "depth, rows, cols")
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r} expects inputs "
                f"of shape (batch, time, {spatial}, channels) "
                f"(channels_last), a {want}-D tensor. Received: input shape "
                f"{tuple(shape)}.")

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, steps = sequences_shape[0], sequences_shape[1]
        step = (batch,) + tuple(sequences_shape[2:])
        state = self.cell.compute_output_shape(step)[0][1:]
        out = (batch, steps) + state if self.return_sequences else \
            (batch,) + state
        if self.return_state:
            return out, (batch,) + state, (batch,) + state
        return out

    def compute_mask(self, inputs, mask):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        return [out, None, None] if self.return_state else out

    @property
    def filters(self):
        return self.cell.filters

    @property
    def kernel_size(self):
        return self.cell.kernel_size

    @property
    def strides(self):
        return self.cell.strides

    @property
    def padding(self):
        return self.cell.padding

    @property
    def data_format(self):
        return self.cell.data_format

    @property
    def dilation_rate(self):
        return self.cell.dilation_rate

    def get_config(self):
        return recurrent_layer_config(self, {
            "filters": self.cell.filters,
            "kernel_size": self.cell.kernel_size,
            "strides": self.cell.strides,
            "padding": self.cell.padding,
            "data_format": self.cell.data_format,
            "dilation_rate": self.cell.dilation_rate,
            "activation": activations.serialize(self.cell.activation),
            "recurrent_activation": activations.serialize(
                self.cell.recurrent_activation),
            "use_bias": self.cell.use_bias,
            "unit_forget_bias": self.cell.unit_forget_bias,
        })


_LAYER_DOC = """{dims}-D convolutional LSTM.

    Like `LSTM`, with convolutions in place of the input and recurrent
    matrix products, so the state keeps its spatial layout (Shi et al.,
    2015). Weights: `kernel` `(*kernel_size, channels, 4 * filters)`,
    `recurrent_kernel` `(*kernel_size, filters, 4 * filters)`, `bias`
    `(4 * filters,)`, gate order i, f, c, o (Keras's, so Keras weight files
    load).

    Args:
        filters: number of output channels.
        kernel_size: int or tuple of {rank} ints.
        strides: int or tuple (input convolution; the recurrent one has
            stride 1 and `"same"` padding).
        padding: `"valid"` (default) or `"same"`.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        dilation_rate: int or tuple.
        activation, recurrent_activation: defaults `"tanh"`, `"sigmoid"`.
        use_bias: whether to add a bias.
        kernel_initializer, recurrent_initializer, bias_initializer,
        unit_forget_bias: as for `LSTM`.
        kernel_regularizer, recurrent_regularizer, bias_regularizer,
        activity_regularizer, kernel_constraint, recurrent_constraint,
        bias_constraint: optional.
        dropout, recurrent_dropout, seed: dropout on the inputs and the
            state (one mask per sequence).
        return_sequences, return_state, go_backwards, stateful, unroll:
            as for `LSTM` (`unroll` has no effect).

    Call arguments:
        inputs: `(batch, time, {spatial}, channels)` (channels_last) or
            `(batch, time, channels, {spatial})`.
        initial_state: optional `[h0, c0]` feature maps.
        mask: optional `(batch, time)` booleans; masked steps carry the
            states through.
        training: whether dropout is active.

    Returns:
        `(batch, {spatial_out}, filters)`, with `return_sequences`
        `(batch, time, {spatial_out}, filters)`; with `return_state`
        also the final `h` and `c`.

    Example:
    >>> layer = gkeras.layers.ConvLSTM{rank}D(4, 3, padding="same")
    >>> layer(np.zeros({example_in}, "float32")).shape
    {example_out}
"""


class ConvLSTM1D(ConvLSTM):
    rank = 1
    __doc__ = _LAYER_DOC.format(dims=1, rank=1, spatial="steps",
                                spatial_out="new_steps",
                                example_in="(2, 5, 7, 3)",
                                example_out="(2, 7, 4)")


class ConvLSTM2D(ConvLSTM):
    rank = 2
    __doc__ = _LAYER_DOC.format(dims=2, rank=2, spatial="rows, cols",
                                spatial_out="new_rows, new_cols",
                                example_in="(2, 5, 8, 8, 3)",
                                example_out="(2, 8, 8, 4)")


class ConvLSTM3D(ConvLSTM):
    rank = 3
    __doc__ = _LAYER_DOC.format(dims=3, rank=3, spatial="depth, rows, cols",
                                spatial_out="new_depth, new_rows, new_cols",
                                example_in="(2, 3, 4, 4, 4, 1)",
                                example_out="(2, 4, 4, 4, 4)")

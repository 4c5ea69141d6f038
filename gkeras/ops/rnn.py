"""Whole-sequence recurrent primitives: LSTM, GRU and SimpleRNN.

Each is ONE differentiable `Function` over the whole sequence, wrapping the
array-level kernels of `gkeras.backend.kernels_for(x)` (`backend.cpu.rnn`
on NumPy arrays, `backend.gpu.rnn` on CuPy arrays). The caller projects the
inputs with one GEMM (`xw = x @ kernel + bias`, an ordinary differentiable
`ops.matmul`), so these functions take `xw`, the initial states, the
recurrent kernel (and the GRU recurrent bias) and return the outputs and
final states; gradients flow to all of those inputs.

The recurrent layers (`gkeras.layers.LSTM`, `GRU`, `SimpleRNN`) use them as
their fast path.
"""

import numpy as np

from gkeras.backend import kernels_for
from gkeras.ops._base import xp_of as _xp
from gkeras.ops.engine import Function, Tensor, is_recording

__all__ = ["lstm_sequence", "lstm_projected_sequence", "gru_sequence",
           "simple_rnn_sequence"]


def _data(x):
    return x.data if isinstance(x, Tensor) else x


class _SequenceFunction(Function):
    """Shared plumbing: the keyword options of the kernels and the choice of
    outputs (the full sequence is only materialised as an output when the
    caller needs it, so no zero gradient of shape (batch, time, units) is
    fed to the backward pass otherwise)."""

    def __init__(self, with_sequences, **options):
        self.with_sequences = with_sequences
        self.options = options
        self.training = True

    def __call__(self, *inputs):
        # Without a gradient to compute, the kernels may skip saving the
        # activations (the CPU LSTM's inference path).
        self.training = is_recording() and any(
            isinstance(x, Tensor) and x.requires_grad for x in inputs)
        return super().__call__(*inputs)

    def _finish(self, xw, hs, finals, cache):
        self.cache = cache
        self.xp = _xp(finals[0])
        self.output_dtype = finals[0].dtype
        shapes = [f.shape for f in finals]
        if self.with_sequences:
            # The CPU kernels may return a view of a time-major buffer.
            hs = self.xp.ascontiguousarray(hs)
            self.output_shapes = [hs.shape] + shapes
            return (hs,) + tuple(finals)
        self.output_shapes = shapes
        return tuple(finals)

    def _split(self, gys):
        if self.with_sequences:
            return gys[0], gys[1:]
        return None, gys


class LSTMSequence(_SequenceFunction):
    """LSTM over a sequence: inputs `(xw, h0, c0, recurrent_kernel)`,
    outputs `([hs,] h_T, c_T)`."""

    def forward(self, xw, h0, c0, recurrent_kernel):
        k = kernels_for(xw)
        hs, h_t, c_t, cache = k.lstm_forward(
            xw, h0, c0, recurrent_kernel, return_cache=self.training,
            **self.options)
        return self._finish(xw, hs, (h_t, c_t), cache)

    def backward(self, *gys):
        dhs, (dh_t, dc_t) = self._split(gys)
        k = kernels_for(dh_t if dhs is None else dhs)
        dxw, dh0, dc0, dr = k.lstm_backward(dhs, dh_t, dc_t, self.cache)
        self.cache = None
        return dxw, dh0, dc0, dr


class LSTMProjectedSequence(_SequenceFunction):
    """LSTM with its input projection (the CPU kernel's common case):
    inputs `(x, kernel, bias, h0, c0, recurrent_kernel)`, outputs
    `([hs,] h_T, c_T)`."""

    def forward(self, x, kernel, bias, h0, c0, recurrent_kernel):
        k = kernels_for(x)
        hs, h_t, c_t, cache = k.lstm_projected_forward(
            x, kernel, bias, h0, c0, recurrent_kernel,
            return_cache=self.training,
            return_sequences=self.with_sequences, **self.options)
        return self._finish(x, hs, (h_t, c_t), cache)

    def backward(self, *gys):
        dhs, (dh_t, dc_t) = self._split(gys)
        k = kernels_for(dh_t if dhs is None else dhs)
        grads = k.lstm_projected_backward(dhs, dh_t, dc_t, self.cache,
                                          need_dx=self.needs_grad(0))
        self.cache = None
        return grads


class GRUSequence(_SequenceFunction):
    """GRU over a sequence: inputs `(xw, h0, recurrent_kernel,
    recurrent_bias)`, outputs `([hs,] h_T)`."""

    def forward(self, xw, h0, recurrent_kernel, recurrent_bias):
        k = kernels_for(xw)
        hs, h_t, cache = k.gru_forward(xw, h0, recurrent_kernel,
                                       recurrent_bias,
                                       return_cache=self.training,
                                       **self.options)
        return self._finish(xw, hs, (h_t,), cache)

    def backward(self, *gys):
        dhs, (dh_t,) = self._split(gys)
        k = kernels_for(dh_t if dhs is None else dhs)
        dxw, dh0, dr, drb = k.gru_backward(dhs, dh_t, self.cache)
        self.cache = None
        return dxw, dh0, dr, drb


class SimpleRNNSequence(_SequenceFunction):
    """SimpleRNN over a sequence: inputs `(xw, h0, recurrent_kernel)`,
    outputs `([hs,] h_T)`."""

    def forward(self, xw, h0, recurrent_kernel):
        k = kernels_for(xw)
        hs, h_t, cache = k.simple_rnn_forward(xw, h0, recurrent_kernel,
                                              **self.options)
        return self._finish(xw, hs, (h_t,), cache)

    def backward(self, *gys):
        dhs, (dh_t,) = self._split(gys)
        k = kernels_for(dh_t if dhs is None else dhs)
        dxw, dh0, dr = k.simple_rnn_backward(dhs, dh_t, self.cache)
        self.cache = None
        return dxw, dh0, dr


def lstm_sequence(xw, h0, c0, recurrent_kernel, mask=None,
                  recurrent_dropout_mask=None, go_backwards=False,
                  activation="tanh", recurrent_activation="sigmoid",
                  zero_output_for_mask=False, return_sequences=True):
    """Runs an LSTM over a projected sequence, differentiably.

    Args:
        xw: `(batch, timesteps, 4 * units)` tensor, `x @ kernel + bias`
            (gate order i, f, c, o), in input time order.
        h0, c0: `(batch, units)` initial states, or None (zeros).
        recurrent_kernel: `(units, 4 * units)` tensor.
        mask: optional `(batch, timesteps)` boolean array (True = use the
            step); masked steps carry the states through.
        recurrent_dropout_mask: optional `(batch, units)` or
            `(4, batch, units)` array multiplied into `h_{t-1}` before the
            recurrent GEMM.
        go_backwards: process the sequence from the last step to the first.
        activation, recurrent_activation: names the fused kernels support
            (`"tanh"`, `"sigmoid"`, `"relu"`, `"linear"`, `"hard_sigmoid"`).
        zero_output_for_mask: zeros (not the carried state) as the output
            of masked steps.
        return_sequences: whether `hs` is returned (else None).

    Returns:
        `(hs, h_T, c_T)`: `hs` `(batch, timesteps, units)` in processing
        order (or None), and the final states.

    Example:
    >>> xw = ops.matmul(x, kernel) + bias
    >>> hs, h, c = lstm_sequence(xw, None, None, recurrent_kernel)
    """
    fn = LSTMSequence(
        return_sequences, mask=_data(mask),
        recurrent_dropout_mask=_data(recurrent_dropout_mask),
        go_backwards=go_backwards, activation=activation,
        recurrent_activation=recurrent_activation,
        zero_output_for_mask=zero_output_for_mask)
    outs = fn(xw, h0, c0, recurrent_kernel)
    return outs if return_sequences else (None,) + outs


def lstm_projected_sequence(x, kernel, bias, h0, c0, recurrent_kernel,
                            go_backwards=False, return_sequences=True):
    """`lstm_sequence(x @ kernel + bias, ...)` for the default activations
    (tanh, sigmoid), no mask and no recurrent dropout, differentiably.

    On NumPy arrays the projection runs inside the LSTM kernel (straight
    into its time-major gate buffer, `backend.cpu.lstm_time_major`); on
    the GPU this is `affine` followed by `lstm_sequence`, as before.

    Args:
        x: `(batch, timesteps, features)` tensor.
        kernel: `(features, 4 * units)` tensor (gate order i, f, c, o).
        bias: `(4 * units,)` tensor or None.
        h0, c0: `(batch, units)` initial states, or None (zeros).
        recurrent_kernel: `(units, 4 * units)` tensor.
        go_backwards: process the sequence from the last step to the first.
        return_sequences: whether `hs` is returned (else None).

    Returns:
        `(hs, h_T, c_T)`: `hs` `(batch, timesteps, units)` in processing
        order (or None), and the final states.

    Example:
    >>> _, h, c = lstm_projected_sequence(x, kernel, bias, None, None, rk,
    ...                                   return_sequences=False)
    """
    xd = _data(x)
    if type(xd) is not np.ndarray or xd.dtype.kind != "f":
        from gkeras.ops.affine import affine
        return lstm_sequence(affine(x, kernel, bias), h0, c0,
                             recurrent_kernel, go_backwards=go_backwards,
                             return_sequences=return_sequences)
    fn = LSTMProjectedSequence(return_sequences, go_backwards=go_backwards)
    outs = fn(x, kernel, bias, h0, c0, recurrent_kernel)
    return outs if return_sequences else (None,) + outs


def gru_sequence(xw, h0, recurrent_kernel, recurrent_bias=None, mask=None,
                 recurrent_dropout_mask=None, go_backwards=False,
                 activation="tanh", recurrent_activation="sigmoid",
                 reset_after=True, zero_output_for_mask=False,
                 return_sequences=True):
    """Runs a GRU over a projected sequence, differentiably.

    Args:
        xw: `(batch, timesteps, 3 * units)`: `x @ kernel + input_bias`
            (gate order z, r, h).
        h0: `(batch, units)` initial state, or None (zeros).
        recurrent_kernel: `(units, 3 * units)` tensor.
        recurrent_bias: `(3 * units,)` tensor (row 1 of the Keras bias) or
            None; only with `reset_after=True`.
        mask, recurrent_dropout_mask, go_backwards, activation,
        recurrent_activation, zero_output_for_mask, return_sequences: as in
            `lstm_sequence` (3 gates).
        reset_after: apply the reset gate after the recurrent GEMM (Keras 3
            default).

    Returns:
        `(hs, h_T)`; `hs` is None unless `return_sequences`.

    Example:
    >>> hs, h = gru_sequence(ops.matmul(x, kernel), None, recurrent_kernel)
    """
    fn = GRUSequence(
        return_sequences, mask=_data(mask),
        recurrent_dropout_mask=_data(recurrent_dropout_mask),
        go_backwards=go_backwards, activation=activation,
        recurrent_activation=recurrent_activation, reset_after=reset_after,
        zero_output_for_mask=zero_output_for_mask)
    outs = fn(xw, h0, recurrent_kernel, recurrent_bias)
    if not isinstance(outs, tuple):
        outs = (outs,)
    return outs if return_sequences else (None,) + outs


def simple_rnn_sequence(xw, h0, recurrent_kernel, mask=None,
                        recurrent_dropout_mask=None, go_backwards=False,
                        activation="tanh", zero_output_for_mask=False,
                        return_sequences=True):
    """Runs a SimpleRNN over a projected sequence, differentiably.

    `h_t = activation(xw_t + (h_{t-1} * dropout) @ recurrent_kernel)`.

    Args:
        xw: `(batch, timesteps, units)`: `x @ kernel + bias`.
        h0: `(batch, units)` initial state, or None (zeros).
        recurrent_kernel: `(units, units)` tensor.
        mask, recurrent_dropout_mask, go_backwards, activation,
        zero_output_for_mask, return_sequences: as in `lstm_sequence`.

    Returns:
        `(hs, h_T)`; `hs` is None unless `return_sequences`.

    Example:
    >>> hs, h = simple_rnn_sequence(ops.matmul(x, kernel), None, rk)
    """
    fn = SimpleRNNSequence(
        return_sequences, mask=_data(mask),
        recurrent_dropout_mask=_data(recurrent_dropout_mask),
        go_backwards=go_backwards, activation=activation,
        zero_output_for_mask=zero_output_for_mask)
    outs = fn(xw, h0, recurrent_kernel)
    if not isinstance(outs, tuple):
        outs = (outs,)
    return outs if return_sequences else (None,) + outs

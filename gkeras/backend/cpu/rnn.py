"""Recurrent primitives (cpu side): LSTM, GRU and SimpleRNN over a sequence.

The input projection of the whole sequence is one GEMM done by the caller,
`xw = x @ kernel + bias` with shape `(batch, timesteps, G * units)` (G = 4
for LSTM, 3 for GRU, 1 for SimpleRNN), in Keras's gate order (LSTM
`[i|f|c|o]`, GRU `[z|r|h]`). The functions here run the recurrence: per
step one recurrent GEMM (`h_{t-1} @ recurrent_kernel`) and one fused
element-wise pass (gate non-linearities + state update + masking); the
backward pass walks the sequence in reverse with one fused pass and one
GEMM per step and accumulates the recurrent-kernel gradient with ONE GEMM
over the whole sequence at the end.

Keras 3 semantics (`keras/src/backend/{numpy,jax}/rnn.py`, `rnn()` with
`unroll=False`):

- `mask` (batch, timesteps), True = use the step. At a masked step the
  states are carried through (`h_t = h_{t-1}`, `c_t = c_{t-1}`) and the
  output is `h_{t-1}` (the carried state; `h0` if nothing came before),
  or zeros with `zero_output_for_mask=True` (what `Bidirectional` with
  `return_sequences=True` asks for). The last output of the layer is
  `hs[:, -1]`, so it is zero when the last processed step is masked and
  `zero_output_for_mask=True`, exactly as Keras.
- `go_backwards=True` processes the sequence from the last step to the
  first; outputs are returned in processing order (as Keras).
- recurrent dropout: one mask `(batch, units)` multiplied into `h_{t-1}`
  before the recurrent GEMM (shared by all gates), or one mask per gate,
  shape `(G, batch, units)` (Keras >= 3.8 `implementation=1`, which Keras
  switches to whenever `recurrent_dropout > 0`). The dropped state feeds
  only the recurrent GEMM; the GRU carry term `z * h_{t-1}` uses the
  undropped state, as Keras.

The same sequence drivers run on the GPU (`backend.gpu.rnn`), where the
fused element-wise passes are the CUDA kernels of `kernels/lstm.cu` and
`kernels/gru.cu`; here they are NumPy code (`_NumpySteps`), the reference
those kernels are tested against.
"""

import numpy as np

from gkeras.backend.cpu import gru_time_major, lstm_time_major
# The drivers are also `backend.gpu.rnn`'s (with its CUDA step passes).
from gkeras.backend.cpu.rnn_drivers import (  # noqa: F401
    _check_grad, _check_inputs, _gru_backward, _gru_forward, _lstm_backward,
    _lstm_forward, _shape_str, _simple_rnn_backward, _simple_rnn_forward)
from gkeras.backend.cpu.rnn_steps import (  # noqa: F401
    ACT_SIGMOID, ACT_TANH, _NumpySteps, _act_code, _rows, _tanh_np,
    rnn_activation_supported)

__all__ = [
    "rnn_activation_supported",
    "lstm_forward",
    "lstm_backward",
    "lstm_projected_forward",
    "lstm_projected_backward",
    "gru_forward",
    "gru_backward",
    "simple_rnn_forward",
    "simple_rnn_backward",
]


# ---------------------------------------------------------------------------
# Public API.


class _TanhGateSteps(_NumpySteps):
    """LSTM forward steps for the default activations (tanh, sigmoid).

    The i, f and o columns of `xw` and the recurrent kernel arrive scaled
    by 1/2, so one `tanh` over all 4U columns followed by `* scale + shift`
    gives every gate: sigmoid(z) = 1/2 + tanh(z/2)/2 for i, f, o and
    tanh(z) for c. That is 3 element-wise passes instead of 6 per step.
    """

    def __init__(self, scale, shift):
        self.scale, self.shift = scale, shift

    def lstm_fwd(self, t, s, xw, rec, h0, c0, mask, dm, gates, hstate,
                 cstate, hd, act, ract):
        h_prev = h0 if t == 0 else hstate[:, t - 1]
        c_prev = c0 if t == 0 else cstate[:, t - 1]
        g_t, h, c = gates[:, t], hstate[:, t], cstate[:, t]
        U = h.shape[1]
        np.add(rec, xw[:, s], out=rec)
        _tanh_np(rec, rec)
        np.multiply(rec, self.scale, out=g_t)
        g_t += self.shift
        i, f = g_t[:, :U], g_t[:, U:2 * U]
        g, o = g_t[:, 2 * U:3 * U], g_t[:, 3 * U:]
        np.multiply(f, c_prev, out=c)
        c += i * g
        np.multiply(o, _tanh_np(c, np.empty_like(c)), out=h)
        if mask is not None:
            keep = ~_rows(mask[:, s])
            np.copyto(c, c_prev, where=keep)
            np.copyto(h, h_prev, where=keep)
        if hd is not None:
            np.multiply(h, dm, out=hd)


def _tanh_gate_fast_path(xw, recurrent_kernel, recurrent_dropout_mask,
                         activation, recurrent_activation):
    """(scale, shift) when the fused-tanh forward applies, else None (the
    general path then also produces the argument errors)."""
    try:
        act = _act_code(activation, "lstm_forward", "activation")
        ract = _act_code(recurrent_activation, "lstm_forward",
                         "recurrent_activation")
    except (NotImplementedError, ValueError, TypeError):
        return None
    if (act, ract) != (ACT_TANH, ACT_SIGMOID):
        return None
    if not isinstance(xw, np.ndarray) or xw.ndim != 3 or \
            xw.dtype.kind != "f":
        return None
    R = np.asarray(recurrent_kernel)
    if R.ndim != 2 or R.shape[1] != 4 * R.shape[0] or \
            xw.shape[-1] != R.shape[1]:
        return None
    if recurrent_dropout_mask is not None and \
            np.ndim(recurrent_dropout_mask) != 2:
        return None
    U = R.shape[0]
    scale = np.full(4 * U, 0.5, xw.dtype)
    scale[2 * U:3 * U] = 1.0
    shift = np.full(4 * U, 0.5, xw.dtype)
    shift[2 * U:3 * U] = 0.0
    return scale, shift


def _default_acts(activation, recurrent_activation):
    """Whether the activations are (tanh, sigmoid); False for unsupported
    ones too (the general path then raises its error)."""
    try:
        return (_act_code(activation, "", "") == ACT_TANH and
                _act_code(recurrent_activation, "", "") == ACT_SIGMOID)
    except (NotImplementedError, ValueError, TypeError):
        return False


def lstm_forward(xw, h0, c0, recurrent_kernel, mask=None,
                 recurrent_dropout_mask=None, go_backwards=False,
                 activation="tanh", recurrent_activation="sigmoid",
                 zero_output_for_mask=False, return_cache=True):
    """Runs an LSTM over a sequence whose input projection is given.

    Per step (Keras gate order i, f, c, o):
    `z = xw_t + (h_{t-1} * dropout) @ recurrent_kernel`,
    `i, f, o = recurrent_activation(z_i, z_f, z_o)`, `g = activation(z_c)`,
    `c_t = f * c_{t-1} + i * g`, `h_t = o * activation(c_t)`.

    Args:
        xw: `(batch, timesteps, 4 * units)`: `x @ kernel + bias`, in input
            time order (also when `go_backwards`).
        h0: `(batch, units)` initial hidden state, or `None` (zeros).
        c0: `(batch, units)` initial carry state, or `None` (zeros).
        recurrent_kernel: `(units, 4 * units)`, Keras layout.
        mask: optional `(batch, timesteps)` booleans, True = use the step;
            masked steps carry both states through.
        recurrent_dropout_mask: optional `(batch, units)` (shared by the
            gates) or `(4, batch, units)` (one per gate, Keras >= 3.8)
            multiplied into `h_{t-1}` before the recurrent GEMM.
        go_backwards: process the sequence from the last step to the first.
        activation: `"tanh"` (default), `"sigmoid"`, `"relu"`, `"linear"`
            or `"hard_sigmoid"`; others raise `NotImplementedError`.
        recurrent_activation: same choices, default `"sigmoid"`.
        zero_output_for_mask: output zeros (instead of the carried state) at
            masked steps.
        return_cache: False for inference: the common case (tanh/sigmoid,
            no mask, no recurrent dropout) then saves no activations and
            the returned cache is None.

    Returns:
        `(hs, h_T, c_T, cache)`: `hs` `(batch, timesteps, units)` the
        outputs in processing order (possibly a non-contiguous view),
        `h_T`, `c_T` `(batch, units)` the final states, and `cache` (a dict
        of arrays and flags) for `lstm_backward`.
    """
    fast = _tanh_gate_fast_path(xw, recurrent_kernel, recurrent_dropout_mask,
                                activation, recurrent_activation)
    if lstm_time_major.applies(xw, mask, recurrent_dropout_mask,
                               fast is not None):
        _, _, _, (h0, c0), R, _, _ = _check_inputs(
            "lstm_forward", np, xw, (h0, c0), recurrent_kernel, 4, None,
            None, ("h0", "c0"))
        return lstm_time_major.lstm_forward(xw, h0, c0, R, go_backwards,
                                            keep=return_cache)
    if fast is None:
        return _lstm_forward(_NumpySteps, xw, h0, c0, recurrent_kernel,
                             mask, recurrent_dropout_mask, go_backwards,
                             activation, recurrent_activation,
                             zero_output_for_mask)
    scale, shift = fast
    R = np.asarray(recurrent_kernel, dtype=xw.dtype)
    hs, h_T, c_T, cache = _lstm_forward(
        _TanhGateSteps(scale, shift), xw * scale, h0, c0, R * scale, mask,
        recurrent_dropout_mask, go_backwards, activation,
        recurrent_activation, zero_output_for_mask)
    # The cache holds the true gate activations; backward needs the
    # unscaled recurrent kernel.
    cache["recurrent_kernel"] = R
    return hs, h_T, c_T, cache


def lstm_backward(dhs, dh_T, dc_T, cache):
    """Backward of `lstm_forward`.

    Args:
        dhs: `(batch, timesteps, units)` gradient of `hs`, or `None`.
        dh_T: `(batch, units)` gradient of `h_T`, or `None`.
        dc_T: `(batch, units)` gradient of `c_T`, or `None`.
        cache: the cache returned by `lstm_forward`.

    Returns:
        `(dxw, dh0, dc0, drecurrent_kernel)`; `dxw` is in input time order,
        like `xw`.
    """
    if cache.get("time_major"):
        N, T, G = cache["shape"]
        U, dtype = G // 4, cache["recurrent_kernel"].dtype
        op = "lstm_backward"
        return lstm_time_major.lstm_backward(
            _check_grad(op, np, "dhs", dhs, (N, T, U), dtype),
            _check_grad(op, np, "dh_T", dh_T, (N, U), dtype),
            _check_grad(op, np, "dc_T", dc_T, (N, U), dtype), cache)
    return _lstm_backward(_NumpySteps, dhs, dh_T, dc_T, cache)


def lstm_projected_forward(x, kernel, bias, h0, c0, recurrent_kernel,
                           go_backwards=False, return_cache=True,
                           return_sequences=True):
    """The common LSTM (tanh/sigmoid, no mask, no dropout) with its input
    projection `x @ kernel + bias` done inside (`ops.rnn` calls it for
    NumPy arrays; the GPU twin composes a GEMM and `lstm_forward`).

    Computing the projection here writes it straight into the time-major
    gate buffer of `backend.cpu.lstm_time_major`, so no batch-major `xw`
    is made, transposed, or (backward) transposed back.

    Args:
        x: `(batch, timesteps, features)` float array.
        kernel: `(features, 4 * units)`; bias: `(4 * units,)` or None.
        h0, c0: `(batch, units)` initial states, or None (zeros).
        recurrent_kernel: `(units, 4 * units)`.
        go_backwards: process the sequence from the last step to the first.
        return_cache: False for inference (no activations saved, cache
            None).
        return_sequences: False: `hs` is None (inference keeps no outputs).

    Returns:
        `(hs, h_T, c_T, cache)`: `hs` `(batch, timesteps, units)` in
        processing order (a non-contiguous view) or None.
    """
    op = "lstm_projected_forward"
    if x is None or getattr(x, "ndim", None) != 3 or x.dtype.kind != "f":
        raise ValueError(f"{op}: expected a float `x` of rank 3 (batch, "
                         f"timesteps, features). Received: "
                         f"x.shape={_shape_str(x)}")
    N, T, F = x.shape
    kernel = np.ascontiguousarray(kernel, dtype=x.dtype)
    if kernel.ndim != 2 or kernel.shape[0] != F:
        raise ValueError(f"{op}: expected `kernel` of shape ({F}, 4 * "
                         f"units). Received: kernel.shape={kernel.shape}")
    if bias is not None:
        bias = np.ascontiguousarray(bias, dtype=x.dtype)
        if bias.shape != (kernel.shape[1],):
            raise ValueError(f"{op}: expected `bias` of shape "
                             f"({kernel.shape[1]},). Received: "
                             f"bias.shape={bias.shape}")
    # The recurrence's checks, on a stand-in of xw's shape.
    xw = np.lib.stride_tricks.as_strided(
        np.empty(1, x.dtype), (N, T, kernel.shape[1]), (0, 0, 0))
    _, _, _, (h0, c0), R, _, _ = _check_inputs(
        op, np, xw, (h0, c0), recurrent_kernel, 4, None, None, ("h0", "c0"))
    return lstm_time_major.projected_forward(
        x, kernel, bias, h0, c0, R, go_backwards, return_cache,
        return_sequences or return_cache)


def lstm_projected_backward(dhs, dh_T, dc_T, cache, need_dx=True):
    """Backward of `lstm_projected_forward` (consumes the cache).

    Args:
        dhs: `(batch, timesteps, units)` gradient of `hs`, or None.
        dh_T, dc_T: `(batch, units)` gradients of the final states, or None.
        cache: from `lstm_projected_forward`.
        need_dx: compute the gradient of `x` (False: returned as None).

    Returns:
        `(dx, dkernel, dbias, dh0, dc0, drecurrent_kernel)`; `dbias` is
        None without a bias.
    """
    op = "lstm_projected_backward"
    N, T, U = cache["dims"]
    dtype = cache["kernel"].dtype
    return lstm_time_major.projected_backward(
        _check_grad(op, np, "dhs", dhs, (N, T, U), dtype),
        _check_grad(op, np, "dh_T", dh_T, (N, U), dtype),
        _check_grad(op, np, "dc_T", dc_T, (N, U), dtype), cache, need_dx)


def gru_forward(xw, h0, recurrent_kernel, recurrent_bias=None, mask=None,
                recurrent_dropout_mask=None, go_backwards=False,
                activation="tanh", recurrent_activation="sigmoid",
                reset_after=True, zero_output_for_mask=False,
                return_cache=True):
    """Runs a GRU over a sequence whose input projection is given.

    Keras gate order z, r, h. With `reset_after=True` (Keras 3 default):
    `inner = (h_{t-1} * dropout) @ recurrent_kernel + recurrent_bias`,
    `z = ract(xz + inner_z)`, `r = ract(xr + inner_r)`,
    `hh = act(xh + r * inner_h)`. With `reset_after=False`:
    `z = ract(xz + h @ R_z)`, `r = ract(xr + h @ R_r)`,
    `hh = act(xh + (r * h) @ R_h)`. Then `h_t = z * h_{t-1} + (1 - z) * hh`.

    Args:
        xw: `(batch, timesteps, 3 * units)`: `x @ kernel + input_bias`.
        h0: `(batch, units)` initial state, or `None` (zeros).
        recurrent_kernel: `(units, 3 * units)`, Keras layout.
        recurrent_bias: `(3 * units,)` (row 1 of the Keras bias of shape
            `(2, 3 * units)`), or `None`; only with `reset_after=True`.
        mask: optional `(batch, timesteps)` booleans, True = use the step.
        recurrent_dropout_mask: optional `(batch, units)` or
            `(3, batch, units)` mask on `h_{t-1}` in the recurrent GEMMs.
        go_backwards: process the sequence from the last step to the first.
        activation: activation of the candidate, default `"tanh"`.
        recurrent_activation: activation of z and r, default `"sigmoid"`.
        reset_after: apply the reset gate after the recurrent GEMM.
        zero_output_for_mask: output zeros at masked steps.
        return_cache: False for inference: the common case (Keras's
            defaults, no mask, no recurrent dropout) then saves no
            activations and the returned cache is None.

    Returns:
        `(hs, h_T, cache)`: outputs `(batch, timesteps, units)` in
        processing order (possibly a non-contiguous view), the final
        state, and the cache for `gru_backward`.
    """
    if _default_acts(activation, recurrent_activation) and \
            gru_time_major.applies(xw, mask, recurrent_dropout_mask, True,
                                   reset_after):
        _, _, _, (h0,), R, _, _ = _check_inputs(
            "gru_forward", np, xw, (h0,), recurrent_kernel, 3, None, None,
            ("h0",))
        rb = recurrent_bias
        if rb is not None:
            if tuple(rb.shape) != (R.shape[1],):
                raise ValueError(
                    f"gru_forward: expected `recurrent_bias` of shape (3 * "
                    f"units,) = {(R.shape[1],)} (row 1 of the Keras GRU "
                    f"bias (2, 3 * units)). Received: "
                    f"recurrent_bias.shape={tuple(rb.shape)}")
            rb = np.ascontiguousarray(rb, dtype=xw.dtype)
        return gru_time_major.gru_forward(xw, h0, R, rb, go_backwards,
                                          keep=return_cache)
    return _gru_forward(_NumpySteps, xw, h0, recurrent_kernel,
                        recurrent_bias, mask, recurrent_dropout_mask,
                        go_backwards, activation, recurrent_activation,
                        reset_after, zero_output_for_mask)


def gru_backward(dhs, dh_T, cache):
    """Backward of `gru_forward`.

    Args:
        dhs: `(batch, timesteps, units)` gradient of `hs`, or `None`.
        dh_T: `(batch, units)` gradient of `h_T`, or `None`.
        cache: the cache returned by `gru_forward`.

    Returns:
        `(dxw, dh0, drecurrent_kernel, drecurrent_bias)`;
        `drecurrent_bias` is `None` when no recurrent bias was given.
    """
    if cache.get("time_major"):
        N, T, U = cache["dims"]
        dtype = cache["S"].dtype
        op = "gru_backward"
        return gru_time_major.gru_backward(
            _check_grad(op, np, "dhs", dhs, (N, T, U), dtype),
            _check_grad(op, np, "dh_T", dh_T, (N, U), dtype), cache)
    return _gru_backward(_NumpySteps, dhs, dh_T, cache)


def simple_rnn_forward(xw, h0, recurrent_kernel, mask=None,
                       recurrent_dropout_mask=None, go_backwards=False,
                       activation="tanh", zero_output_for_mask=False):
    """Runs a SimpleRNN over a sequence whose input projection is given.

    Per step: `h_t = activation(xw_t + (h_{t-1} * dropout) @ R)`.

    Args:
        xw: `(batch, timesteps, units)`: `x @ kernel + bias`.
        h0: `(batch, units)` initial state, or `None` (zeros).
        recurrent_kernel: `(units, units)`.
        mask: optional `(batch, timesteps)` booleans, True = use the step.
        recurrent_dropout_mask: optional `(batch, units)` mask.
        go_backwards: process the sequence from the last step to the first.
        activation: default `"tanh"`.
        zero_output_for_mask: output zeros at masked steps.

    Returns:
        `(hs, h_T, cache)`.
    """
    return _simple_rnn_forward(np, xw, h0, recurrent_kernel, mask,
                               recurrent_dropout_mask, go_backwards,
                               activation, zero_output_for_mask)


def simple_rnn_backward(dhs, dh_T, cache):
    """Backward of `simple_rnn_forward`.

    Args:
        dhs: `(batch, timesteps, units)` gradient of `hs`, or `None`.
        dh_T: `(batch, units)` gradient of `h_T`, or `None`.
        cache: the cache returned by `simple_rnn_forward`.

    Returns:
        `(dxw, dh0, drecurrent_kernel)`.
    """
    return _simple_rnn_backward(np, dhs, dh_T, cache)

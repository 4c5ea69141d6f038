"""Recurrent primitives (gpu side): LSTM, GRU and SimpleRNN on CuPy.

Same functions, signatures and semantics as `gkeras.backend.cpu.rnn`
(whose module docstring describes the math, the masking and dropout
rules). The sequence drivers are shared with the CPU side; here the fused
element-wise step passes are the CUDA kernels of `kernels/lstm.cu` and
`kernels/gru.cu`, and the recurrent GEMMs go to cuBLAS through
`cupy.matmul`. SimpleRNN has no kernel of its own: its step is one GEMM
plus one activation, written once against `xp` (a fused kernel was not
measured to be worth it).

Mixed precision: float16 / bfloat16 sequences run on the `*_f16` /
`*_bf16` step kernels (16-bit buffers, float32 arithmetic within a step,
one rounding per stored value; the recurrent GEMMs through cuBLAS with
float32 accumulation). bfloat16 before sm_80 (no cuBLAS bfloat16 GEMM)
falls back to the float32 kernels: inputs converted once, the results and
gradients rounded once to bfloat16.

CuPy is imported only inside functions, so `rnn_launch_config` and
`KernelSteps` can be used without CuPy: the tests run these very wrappers
on the CPU with the CUDA emulator (`tests/cuda_emu`, `EmuRuntime`).
"""

import numpy as np

from gkeras.backend.cpu import rnn as _cpu
from gkeras.backend.gpu import precision
from gkeras.backend.gpu.launch import cupy_runtime, i32

__all__ = list(_cpu.__all__)

BLOCK = 256


def rnn_launch_config(n, units, block=BLOCK):
    """Grid and block of the element-wise step kernels: one thread per
    (sample, unit), 1-D.

    Args:
        n: batch size.
        units: number of units.
        block: threads per block.

    Returns:
        `((grid_x,), (block,))`.
    """
    total = int(n) * int(units)
    if total >= 2 ** 31:
        raise ValueError(
            f"recurrent kernels: batch * units must be < 2**31. Received: "
            f"batch={n}, units={units}")
    return (max(1, -(-total // block)),), (block,)


def _i(v):
    return i32(v)


class KernelSteps:
    """The step interface of the shared drivers, on the CUDA kernels.

    Args:
        rt: a runtime with `.xp` (the array module) and
            `.launch(filename, name, grid, block, args, shared_mem)`:
            `gkeras.backend.gpu.launch.CupyRuntime` on a GPU, or
            `tests/cuda_emu`'s `EmuRuntime` on the CPU.
    """

    def __init__(self, rt, dtype=np.float32):
        self.rt = rt
        self.xp = rt.xp
        # Entry-point suffix for the element type: "" (float32), "_f16",
        # "_bf16".
        self.suffix = ("_" + precision.suffix(dtype)
                       if precision.is_half(dtype) else "")
        if self.suffix and rt.xp is not np:
            # The drivers' xp.matmul on 16-bit arrays: float32 accumulation.
            precision._set_fp16_gemm_fp32_accumulate()

    def _go(self, filename, name, N, U, args):
        grid, block = rnn_launch_config(N, U)
        self.rt.launch(filename, name + self.suffix, grid, block, args)

    def lstm_fwd(self, t, s, xw, rec, h0, c0, mask, dm, gates, hstate,
                 cstate, hd, act, ract):
        N, T, U = hstate.shape
        self._go("lstm.cu", "lstm_fwd_step", N, U, (
            xw, rec, h0, c0, mask, dm, gates, hstate, cstate, hd, _i(N),
            _i(T), _i(U), _i(t), _i(s), _i(act), _i(ract)))

    def lstm_bwd(self, t, s, gates, cstate, c0, dhs, dhrec, dm, mask,
                 zero_out, G, Dc, dxw, act, ract):
        N, T, U = cstate.shape
        self._go("lstm.cu", "lstm_bwd_step", N, U, (
            gates, cstate, c0, dhs, dhrec, dm, mask, G, Dc, dxw, _i(N),
            _i(T), _i(U), _i(t), _i(s), _i(zero_out), _i(act), _i(ract)))

    def gru_fwd(self, t, s, xw, inner, rb, h0, mask, dm, gates, hstate, hd,
                act, ract):
        N, T, U = hstate.shape
        self._go("gru.cu", "gru_fwd_step", N, U, (
            xw, inner, rb, h0, mask, dm, gates, hstate, hd, _i(N), _i(T),
            _i(U), _i(t), _i(s), _i(act), _i(ract)))

    def gru_bwd(self, t, s, gates, hstate, h0, dhs, dhrec, dm, mask,
                zero_out, G, dxw, dinner, act, ract):
        N, T, U = hstate.shape
        self._go("gru.cu", "gru_bwd_step", N, U, (
            gates, hstate, h0, dhs, dhrec, dm, mask, G, dxw, dinner, _i(N),
            _i(T), _i(U), _i(t), _i(s), _i(zero_out), _i(act), _i(ract)))

    def gru_fwd_a(self, t, s, xw, rec_zr, h0, hstate, dmh, gates, rh, ract):
        N, T, U = hstate.shape
        self._go("gru.cu", "gru_fwd_gates", N, U, (
            xw, rec_zr, h0, hstate, dmh, gates, rh, _i(N), _i(T), _i(U),
            _i(t), _i(s), _i(ract)))

    def gru_fwd_b(self, t, s, xw, rec_h, h0, mask, dm, gates, hstate, hd,
                  act):
        N, T, U = hstate.shape
        self._go("gru.cu", "gru_fwd_update", N, U, (
            xw, rec_h, h0, mask, dm, gates, hstate, hd, _i(N), _i(T), _i(U),
            _i(t), _i(s), _i(act)))

    def gru_bwd_b(self, t, s, gates, hstate, h0, dhs, dhrec, dm, mask,
                  zero_out, G, dxw, act, ract):
        N, T, U = hstate.shape
        self._go("gru.cu", "gru_bwd_update", N, U, (
            gates, hstate, h0, dhs, dhrec, dm, mask, G, dxw, _i(N), _i(T),
            _i(U), _i(t), _i(s), _i(zero_out), _i(act), _i(ract)))

    def gru_bwd_a(self, t, s, gates, hstate, h0, drh, dmh, mask, G, dxw,
                  ract):
        N, T, U = hstate.shape
        self._go("gru.cu", "gru_bwd_gates", N, U, (
            gates, hstate, h0, drh, dmh, mask, G, dxw, _i(N), _i(T), _i(U),
            _i(t), _i(s), _i(ract)))


def _steps(*arrays, rt=None):
    dtype = arrays[0].dtype
    for a in arrays:
        if (a is not None and a.dtype != dtype) or not (
                dtype == np.float32 or precision.is_half(dtype)):
            raise TypeError(
                "The GPU recurrent kernels take float32, float16 or bfloat16 "
                f"(one type per call). Received: dtype={a.dtype}. Cast the "
                "inputs (or use backend.cpu for float64).")
    return KernelSteps(cupy_runtime() if rt is None else rt, dtype)


def _native_16bit(rt, dtype):
    """True when 16-bit `dtype` runs on the 16-bit step kernels: always for
    float16, for bfloat16 from sm_80 (cuBLAS has no bfloat16 GEMM before)."""
    return precision.is_half(dtype) and (
        dtype.name == "float16"
        or getattr(rt, "compute_capability", 0) >= precision.BF16_GEMM_MIN_CC)


def _to(xp, dtype, *arrays):
    """Floating arrays (None kept, masks and integers unchanged) as
    C-contiguous `dtype`."""
    return [a if a is None or not (a.dtype.kind == "f" or precision.is_half(
        a.dtype)) else xp.ascontiguousarray(a, dtype=dtype) for a in arrays]


def _to_f32(xp, *arrays):
    """16-bit floating arrays as float32 (None and others unchanged)."""
    return [a.astype(xp.float32) if a is not None and precision.is_half(
        a.dtype) else a for a in arrays]


def _round_to(dtype, arrays):
    """Results rounded to the 16-bit input type `dtype` (None kept; no copy
    for those already of that type -- NumPy's bfloat16 GEMMs return
    float32, CuPy's bfloat16)."""
    return tuple(None if a is None else a.astype(dtype, copy=False)
                 for a in arrays)


def _lstm_forward(rt, xw, h0, c0, recurrent_kernel, mask=None,
                  recurrent_dropout_mask=None, go_backwards=False,
                  activation="tanh", recurrent_activation="sigmoid",
                  zero_output_for_mask=False):
    dt = xw.dtype
    if _native_16bit(rt, dt):
        xw, h0, c0, recurrent_kernel, recurrent_dropout_mask = _to(
            rt.xp, dt, xw, h0, c0, recurrent_kernel, recurrent_dropout_mask)
        *res, cache = _cpu._lstm_forward(
            _steps(xw, rt=rt), xw, h0, c0, recurrent_kernel, mask,
            recurrent_dropout_mask, go_backwards, activation,
            recurrent_activation, zero_output_for_mask)
        return (*_round_to(dt, res), cache)
    xw, h0, c0, recurrent_kernel, recurrent_dropout_mask = _to_f32(
        rt.xp, xw, h0, c0, recurrent_kernel, recurrent_dropout_mask)
    hs, h_T, c_T, cache = _cpu._lstm_forward(
        _steps(xw, rt=rt), xw, h0, c0, recurrent_kernel, mask,
        recurrent_dropout_mask, go_backwards, activation,
        recurrent_activation, zero_output_for_mask)
    if precision.is_half(dt):
        cache["result_dtype"] = dt
        hs, h_T, c_T = _round_to(dt, (hs, h_T, c_T))
    return hs, h_T, c_T, cache


def _lstm_backward(rt, dhs, dh_T, dc_T, cache):
    dt = cache["h"].dtype
    if precision.is_half(dt):
        dhs, dh_T, dc_T = _to(rt.xp, dt, dhs, dh_T, dc_T)
        return _round_to(dt, _cpu._lstm_backward(
            _steps(cache["h"], rt=rt), dhs, dh_T, dc_T, cache))
    dhs, dh_T, dc_T = _to_f32(rt.xp, dhs, dh_T, dc_T)
    out = _cpu._lstm_backward(_steps(cache["h"], rt=rt), dhs, dh_T, dc_T,
                              cache)
    dt = cache.get("result_dtype")
    return out if dt is None else _round_to(dt, out)


def _gru_forward(rt, xw, h0, recurrent_kernel, recurrent_bias=None,
                 mask=None, recurrent_dropout_mask=None, go_backwards=False,
                 activation="tanh", recurrent_activation="sigmoid",
                 reset_after=True, zero_output_for_mask=False):
    dt = xw.dtype
    if _native_16bit(rt, dt):
        xw, h0, recurrent_kernel, recurrent_bias, recurrent_dropout_mask = \
            _to(rt.xp, dt, xw, h0, recurrent_kernel, recurrent_bias,
                recurrent_dropout_mask)
        *res, cache = _cpu._gru_forward(
            _steps(xw, rt=rt), xw, h0, recurrent_kernel, recurrent_bias,
            mask, recurrent_dropout_mask, go_backwards, activation,
            recurrent_activation, reset_after, zero_output_for_mask)
        return (*_round_to(dt, res), cache)
    xw, h0, recurrent_kernel, recurrent_bias, recurrent_dropout_mask = \
        _to_f32(rt.xp, xw, h0, recurrent_kernel, recurrent_bias,
                recurrent_dropout_mask)
    hs, h_T, cache = _cpu._gru_forward(
        _steps(xw, rt=rt), xw, h0, recurrent_kernel, recurrent_bias, mask,
        recurrent_dropout_mask, go_backwards, activation,
        recurrent_activation, reset_after, zero_output_for_mask)
    if precision.is_half(dt):
        cache["result_dtype"] = dt
        hs, h_T = _round_to(dt, (hs, h_T))
    return hs, h_T, cache


def _gru_backward(rt, dhs, dh_T, cache):
    dt = cache["h"].dtype
    if precision.is_half(dt):
        dhs, dh_T = _to(rt.xp, dt, dhs, dh_T)
        return _round_to(dt, _cpu._gru_backward(
            _steps(cache["h"], rt=rt), dhs, dh_T, cache))
    dhs, dh_T = _to_f32(rt.xp, dhs, dh_T)
    out = _cpu._gru_backward(_steps(cache["h"], rt=rt), dhs, dh_T, cache)
    dt = cache.get("result_dtype")
    return out if dt is None else _round_to(dt, out)


def lstm_forward(xw, h0, c0, recurrent_kernel, mask=None,
                 recurrent_dropout_mask=None, go_backwards=False,
                 activation="tanh", recurrent_activation="sigmoid",
                 zero_output_for_mask=False, return_cache=True):
    """Runs an LSTM over a sequence whose input projection is given (GPU).

    See `gkeras.backend.cpu.rnn.lstm_forward`: same arguments (CuPy
    arrays: float32, or float16 / bfloat16 on the 16-bit step kernels)
    and results.

    Args:
        xw: `(batch, timesteps, 4 * units)`.
        h0: `(batch, units)` or `None`.
        c0: `(batch, units)` or `None`.
        recurrent_kernel: `(units, 4 * units)`.
        mask: optional `(batch, timesteps)` booleans.
        recurrent_dropout_mask: optional `(batch, units)` or
            `(4, batch, units)`.
        go_backwards: process the sequence reversed.
        activation: default `"tanh"`.
        recurrent_activation: default `"sigmoid"`.
        zero_output_for_mask: zeros at masked steps.
        return_cache: accepted for the CPU signature; the GPU always
            returns the cache.

    Returns:
        `(hs, h_T, c_T, cache)`.
    """
    return _lstm_forward(cupy_runtime(), xw, h0, c0, recurrent_kernel, mask,
                         recurrent_dropout_mask, go_backwards, activation,
                         recurrent_activation, zero_output_for_mask)


def lstm_backward(dhs, dh_T, dc_T, cache):
    """Backward of `lstm_forward` (GPU).

    Args:
        dhs: `(batch, timesteps, units)` or `None`.
        dh_T: `(batch, units)` or `None`.
        dc_T: `(batch, units)` or `None`.
        cache: from `lstm_forward`.

    Returns:
        `(dxw, dh0, dc0, drecurrent_kernel)`.
    """
    return _lstm_backward(cupy_runtime(), dhs, dh_T, dc_T, cache)


def lstm_projected_forward(x, kernel, bias, h0, c0, recurrent_kernel,
                           go_backwards=False, return_cache=True,
                           return_sequences=True):
    """`lstm_forward(x @ kernel + bias, ...)` with default activations
    (GPU: the GEMM through cuBLAS, then `lstm_forward`).

    See `gkeras.backend.cpu.rnn.lstm_projected_forward` (same arguments;
    `return_cache` and `return_sequences` are accepted, the GPU always
    returns both).

    Returns:
        `(hs, h_T, c_T, cache)`.
    """
    import cupy as cp
    xw = cp.matmul(x, kernel)
    if bias is not None:
        xw += bias
    hs, h_T, c_T, cache = lstm_forward(xw, h0, c0, recurrent_kernel,
                                       go_backwards=go_backwards)
    return hs, h_T, c_T, {"lstm": cache, "x": x, "kernel": kernel,
                          "has_bias": bias is not None}


def lstm_projected_backward(dhs, dh_T, dc_T, cache, need_dx=True):
    """Backward of `lstm_projected_forward` (GPU).

    Returns:
        `(dx, dkernel, dbias, dh0, dc0, drecurrent_kernel)`.
    """
    import cupy as cp
    dxw, dh0, dc0, dR = lstm_backward(dhs, dh_T, dc_T, cache["lstm"])
    x, W = cache["x"], cache["kernel"]
    N, T, F = x.shape
    d2 = dxw.reshape(N * T, -1)
    dW = cp.matmul(x.reshape(N * T, F).T, d2)
    db = d2.sum(axis=0) if cache["has_bias"] else None
    dx = cp.matmul(d2, W.T).reshape(N, T, F) if need_dx else None
    return dx, dW, db, dh0, dc0, dR


def gru_forward(xw, h0, recurrent_kernel, recurrent_bias=None, mask=None,
                recurrent_dropout_mask=None, go_backwards=False,
                activation="tanh", recurrent_activation="sigmoid",
                reset_after=True, zero_output_for_mask=False,
                return_cache=True):
    """Runs a GRU over a sequence whose input projection is given (GPU).

    See `gkeras.backend.cpu.rnn.gru_forward`.

    Args:
        xw: `(batch, timesteps, 3 * units)`.
        h0: `(batch, units)` or `None`.
        recurrent_kernel: `(units, 3 * units)`.
        recurrent_bias: `(3 * units,)` or `None` (reset_after only).
        mask: optional `(batch, timesteps)` booleans.
        recurrent_dropout_mask: optional `(batch, units)` or
            `(3, batch, units)`.
        go_backwards: process the sequence reversed.
        activation: default `"tanh"`.
        recurrent_activation: default `"sigmoid"`.
        reset_after: Keras's GRU convention, default `True`.
        zero_output_for_mask: zeros at masked steps.
        return_cache: accepted for the CPU signature; the GPU always
            returns the cache.

    Returns:
        `(hs, h_T, cache)`.
    """
    return _gru_forward(cupy_runtime(), xw, h0, recurrent_kernel,
                        recurrent_bias, mask, recurrent_dropout_mask,
                        go_backwards, activation, recurrent_activation,
                        reset_after, zero_output_for_mask)


def gru_backward(dhs, dh_T, cache):
    """Backward of `gru_forward` (GPU).

    Args:
        dhs: `(batch, timesteps, units)` or `None`.
        dh_T: `(batch, units)` or `None`.
        cache: from `gru_forward`.

    Returns:
        `(dxw, dh0, drecurrent_kernel, drecurrent_bias)`.
    """
    return _gru_backward(cupy_runtime(), dhs, dh_T, cache)


def simple_rnn_forward(xw, h0, recurrent_kernel, mask=None,
                       recurrent_dropout_mask=None, go_backwards=False,
                       activation="tanh", zero_output_for_mask=False):
    """Runs a SimpleRNN over a sequence (GPU; xp code, no custom kernel).

    See `gkeras.backend.cpu.rnn.simple_rnn_forward`.

    Args:
        xw: `(batch, timesteps, units)`.
        h0: `(batch, units)` or `None`.
        recurrent_kernel: `(units, units)`.
        mask: optional `(batch, timesteps)` booleans.
        recurrent_dropout_mask: optional `(batch, units)`.
        go_backwards: process the sequence reversed.
        activation: default `"tanh"`.
        zero_output_for_mask: zeros at masked steps.

    Returns:
        `(hs, h_T, cache)`.
    """
    import cupy
    return _cpu._simple_rnn_forward(cupy, xw, h0, recurrent_kernel, mask,
                                    recurrent_dropout_mask, go_backwards,
                                    activation, zero_output_for_mask)


def simple_rnn_backward(dhs, dh_T, cache):
    """Backward of `simple_rnn_forward` (GPU).

    Args:
        dhs: `(batch, timesteps, units)` or `None`.
        dh_T: `(batch, units)` or `None`.
        cache: from `simple_rnn_forward`.

    Returns:
        `(dxw, dh0, drecurrent_kernel)`.
    """
    import cupy
    return _cpu._simple_rnn_backward(cupy, dhs, dh_T, cache)


def rnn_activation_supported(activation):
    """Says whether the fused recurrent primitives support an activation.

    Args:
        activation: a name, `None` or an activation function.

    Returns:
        `True` when the GPU (and CPU) recurrent primitives accept it.
    """
    return _cpu.rnn_activation_supported(activation)

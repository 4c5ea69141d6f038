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

# Integer activation codes shared with the CUDA kernels (kernels/lstm.cu,
# kernels/gru.cu: GK_ACT_*). Keep in sync.
ACT_LINEAR, ACT_TANH, ACT_SIGMOID, ACT_RELU, ACT_HARD_SIGMOID = 0, 1, 2, 3, 4
_ACT_CODES = {
    None: ACT_LINEAR, "linear": ACT_LINEAR, "tanh": ACT_TANH,
    "sigmoid": ACT_SIGMOID, "relu": ACT_RELU,
    "hard_sigmoid": ACT_HARD_SIGMOID,
}


def _act_name(activation):
    if activation is None or isinstance(activation, str):
        return activation
    # A Keras activation function object: use its registered name.
    return getattr(activation, "__name__", activation)


def rnn_activation_supported(activation):
    """Says whether the fused recurrent primitives support an activation.

    Args:
        activation: an activation name (`"tanh"`, `"sigmoid"`, `"relu"`,
            `"linear"`, `"hard_sigmoid"`), `None` (linear) or a function
            whose `__name__` is one of those.

    Returns:
        `True` when `lstm_forward`/`gru_forward`/`simple_rnn_forward`
        accept it; otherwise the layer should fall back to a step-by-step
        cell loop.
    """
    return _act_name(activation) in _ACT_CODES


def _act_code(activation, op, arg):
    name = _act_name(activation)
    if name not in _ACT_CODES:
        raise NotImplementedError(
            f"{op}: the fused recurrent kernels do not support "
            f"{arg}={activation!r}. Supported: 'tanh', 'sigmoid', 'relu', "
            "'linear' (or None), 'hard_sigmoid'. Use the generic RNN cell "
            "loop for other activations.")
    return _ACT_CODES[name]


# ---------------------------------------------------------------------------
# Element-wise activations, written against `xp` (NumPy or CuPy).


# NumPy >= 2 has vectorised float32/float64 `tanh` (SVML/Highway): one
# pass ~3x faster than the exp-based formula below and more accurate
# (6e-8 vs 2e-7), and `sigmoid(x) = 1/2 + tanh(x/2)/2` is then ~25 %
# faster than `1 / (1 + exp(-x))`. Older NumPy's scalar `tanh` is not.
_VECTOR_TANH = int(np.__version__.split(".")[0]) >= 2


def _tanh_np(x, out):
    """tanh on NumPy float arrays; `out` may alias `x`.

    Without a vectorised `np.tanh` (NumPy 1.x) it is 2 / (1 + exp(-2x)) - 1
    (exp overflowing to inf for large negative x still gives -1).
    """
    if _VECTOR_TANH:
        return np.tanh(x, out=out)
    with np.errstate(over="ignore"):
        np.multiply(x, -2.0, out=out)
        np.exp(out, out=out)
    out += 1.0
    np.divide(2.0, out, out=out)
    out -= 1.0
    return out


def _sigmoid_np(x, out):
    """Sigmoid on NumPy float arrays, no overflow warning; `out` may alias
    `x`."""
    if _VECTOR_TANH:
        np.multiply(x, 0.5, out=out)
        np.tanh(out, out=out)
        out *= 0.5
        out += 0.5
        return out
    with np.errstate(over="ignore"):
        np.negative(x, out=out)
        np.exp(out, out=out)
    out += 1.0
    np.divide(1.0, out, out=out)
    return out


def _act(xp, code, x, out):
    """out = act(x); `out` may alias `x`."""
    if code == ACT_TANH:
        if xp is np and x.dtype.kind == "f":
            _tanh_np(x, out)
        else:
            xp.tanh(x, out=out)
    elif code == ACT_SIGMOID and xp is np and x.dtype.kind == "f":
        _sigmoid_np(x, out)
    elif code == ACT_SIGMOID:
        # 0.5 * (1 + tanh(x / 2)): no overflow warning for large |x|.
        xp.multiply(x, 0.5, out=out)
        xp.tanh(out, out=out)
        out *= 0.5
        out += 0.5
    elif code == ACT_RELU:
        xp.maximum(x, 0, out=out)
    elif code == ACT_HARD_SIGMOID:
        # Keras 3: relu6(x + 3) / 6 = clip(x / 6 + 0.5, 0, 1).
        xp.multiply(x, 1.0 / 6.0, out=out)
        out += 0.5
        xp.clip(out, 0, 1, out=out)
    elif out is not x:
        out[...] = x
    return out


def _dact(xp, code, y):
    """d act / d x, expressed through the activation's output y."""
    if code == ACT_TANH:
        return 1 - y * y
    if code == ACT_SIGMOID:
        return y * (1 - y)
    if code == ACT_RELU:
        return (y > 0).astype(y.dtype)
    if code == ACT_HARD_SIGMOID:
        return ((y > 0) & (y < 1)).astype(y.dtype) * (1.0 / 6.0)
    return xp.ones_like(y)


def _rows(m):
    """(N,) bool -> (N, 1) for broadcasting over units."""
    return m[:, None]


# ---------------------------------------------------------------------------
# The fused element-wise step passes, NumPy version. `backend.gpu.rnn`
# implements the same methods with the CUDA kernels; the drivers below call
# them through this interface. Arguments are 2-D (batch, columns) views
# (row-strided views of the (batch, time, ...) arrays are fine); `m` is a
# (batch,) bool view or None; `dm`/`dmh` are (batch, units) dropout masks or
# None.


class _NumpyViewSteps:
    """The step passes on 2-D views (the math)."""

    # -- LSTM ---------------------------------------------------------------
    @staticmethod
    def lstm_fwd(xw, rec, h_prev, c_prev, m, dm, gates, h, c, hd, act,
                 ract):
        """z = xw + rec; gates = acts(z); c, h updated (carried where m is
        False); hd = h * dm when hd is given. `rec` is clobbered."""
        U = h.shape[1]
        np.add(rec, xw, out=rec)
        # Activate in the contiguous buffer (one pass over all 4U columns
        # with the recurrent activation), then one strided copy to gates.
        if act == ract:
            _act(np, ract, rec, rec)
        else:
            g = _act(np, act, rec[:, 2 * U:3 * U], np.empty_like(c_prev))
            _act(np, ract, rec, rec)
            rec[:, 2 * U:3 * U] = g
        gates[...] = rec
        i, f = rec[:, :U], rec[:, U:2 * U]
        g, o = rec[:, 2 * U:3 * U], rec[:, 3 * U:]
        np.multiply(f, c_prev, out=c)
        c += i * g
        tc = _act(np, act, c, np.empty_like(c))
        np.multiply(o, tc, out=h)
        if m is not None:
            keep = ~_rows(m)
            np.copyto(c, c_prev, where=keep)
            np.copyto(h, h_prev, where=keep)
        if hd is not None:
            np.multiply(h, dm, out=hd)

    @staticmethod
    def lstm_bwd(gates, c_prev, c, dhs, dhrec, dm, m, zero_out, G, Dc, dz,
                 act, ract):
        """One reverse step. G (dL/dh_t, carried), Dc (dL/dc_t) updated in
        place to the carries for step t-1 (G excludes the recurrent-GEMM
        term, added by the next call through `dhrec`); dz = dL/dz_t (zero
        on masked rows)."""
        U = G.shape[1]
        if dhs is not None:
            if zero_out and m is not None:
                G += dhs * _rows(m)
            else:
                G += dhs
        if dhrec is not None:
            G += dhrec * dm if dm is not None else dhrec
        # Work on contiguous copies of the strided step views (faster
        # element-wise passes), one strided write of dz at the end.
        gates = np.ascontiguousarray(gates)
        i, f = gates[:, :U], gates[:, U:2 * U]
        g, o = gates[:, 2 * U:3 * U], gates[:, 3 * U:]
        tc = _act(np, act, c, np.empty_like(G))
        dct = Dc + G * o * _dact(np, act, tc)
        d = np.empty_like(gates)
        np.multiply(dct * g, _dact(np, ract, i), out=d[:, :U])
        np.multiply(dct * c_prev, _dact(np, ract, f), out=d[:, U:2 * U])
        np.multiply(dct * i, _dact(np, act, g), out=d[:, 2 * U:3 * U])
        np.multiply(G * tc, _dact(np, ract, o), out=d[:, 3 * U:])
        if m is None:
            dz[...] = d
            np.multiply(dct, f, out=Dc)
            G[...] = 0
        else:
            mm = _rows(m)
            np.multiply(d, mm, out=dz)
            np.copyto(Dc, dct * f, where=mm)
            np.copyto(G, 0, where=mm)

    # -- GRU, reset_after=True ---------------------------------------------
    @staticmethod
    def gru_fwd(xw, inner, rb, h_prev, m, dm, gates, h, hd, act, ract):
        """gates = [z|r|hh|inner_h + rb_h]; h = z*h_prev + (1-z)*hh."""
        U = h.shape[1]
        if rb is not None:
            inner += rb
        s = xw[:, :2 * U] + inner[:, :2 * U]
        _act(np, ract, s, gates[:, :2 * U])
        z, r = gates[:, :U], gates[:, U:2 * U]
        gates[:, 3 * U:] = inner[:, 2 * U:]
        _act(np, act, xw[:, 2 * U:] + r * inner[:, 2 * U:],
             gates[:, 2 * U:3 * U])
        hh = gates[:, 2 * U:3 * U]
        np.multiply(z, h_prev - hh, out=h)
        h += hh
        if m is not None:
            np.copyto(h, h_prev, where=~_rows(m))
        if hd is not None:
            np.multiply(h, dm, out=hd)

    @staticmethod
    def gru_bwd(gates, h_prev, dhs, dhrec, dm, m, zero_out, G, dxw, dinner,
                act, ract):
        U = G.shape[1]
        _accumulate(G, dhs, dhrec, dm, m, zero_out)
        z, r = gates[:, :U], gates[:, U:2 * U]
        hh, ih = gates[:, 2 * U:3 * U], gates[:, 3 * U:]
        dzp = G * (h_prev - hh) * _dact(np, ract, z)
        dah = G * (1 - z) * _dact(np, act, hh)
        drp = dah * ih * _dact(np, ract, r)
        if m is None:
            dxw[:, :U], dxw[:, U:2 * U], dxw[:, 2 * U:] = dzp, drp, dah
            dinner[:, :2 * U] = dxw[:, :2 * U]
            np.multiply(dah, r, out=dinner[:, 2 * U:])
            G *= z
        else:
            mm = _rows(m)
            dxw[:, :U], dxw[:, U:2 * U], dxw[:, 2 * U:] = (
                dzp * mm, drp * mm, dah * mm)
            dinner[:, :2 * U] = dxw[:, :2 * U]
            np.multiply(dxw[:, 2 * U:], r, out=dinner[:, 2 * U:])
            np.copyto(G, G * z, where=mm)

    # -- GRU, reset_after=False (two passes around the candidate GEMM) -----
    @staticmethod
    def gru_fwd_a(xw, rec_zr, h_prev, dmh, gates, rh, ract):
        """gates[z|r] = ract(xw_zr + rec_zr); rh = r * h_prev (* dmh)."""
        U = h_prev.shape[1]
        _act(np, ract, xw[:, :2 * U] + rec_zr, gates[:, :2 * U])
        np.multiply(gates[:, U:2 * U], h_prev, out=rh)
        if dmh is not None:
            rh *= dmh

    @staticmethod
    def gru_fwd_b(xw, rec_h, h_prev, m, dm, gates, h, hd, act):
        """gates[hh] = act(xw_h + rec_h); h = z*h_prev + (1-z)*hh."""
        U = h.shape[1]
        hh = gates[:, 2 * U:3 * U]
        _act(np, act, xw[:, 2 * U:] + rec_h, hh)
        np.multiply(gates[:, :U], h_prev - hh, out=h)
        h += hh
        if m is not None:
            np.copyto(h, h_prev, where=~_rows(m))
        if hd is not None:
            np.multiply(h, dm, out=hd)

    @staticmethod
    def gru_bwd_b(gates, h_prev, dhs, dhrec, dm, m, zero_out, G, dxw, act,
                  ract):
        """dxw[z], dxw[h] (= d pre-activation of hh); G = G*z (valid)."""
        U = G.shape[1]
        _accumulate(G, dhs, dhrec, dm, m, zero_out)
        z, hh = gates[:, :U], gates[:, 2 * U:3 * U]
        dzp = G * (h_prev - hh) * _dact(np, ract, z)
        dah = G * (1 - z) * _dact(np, act, hh)
        if m is None:
            dxw[:, :U], dxw[:, 2 * U:] = dzp, dah
            G *= z
        else:
            mm = _rows(m)
            dxw[:, :U], dxw[:, 2 * U:] = dzp * mm, dah * mm
            np.copyto(G, G * z, where=mm)

    @staticmethod
    def gru_bwd_a(gates, h_prev, drh, dmh, m, G, dxw, ract):
        """dxw[r] from d(rh) = drh; G += drh * r (* dmh) (valid rows)."""
        U = G.shape[1]
        r = gates[:, U:2 * U]
        dh = drh * h_prev
        gr = drh * r
        if dmh is not None:
            dh *= dmh
            gr *= dmh
        drp = dh * _dact(np, ract, r)
        if m is None:
            dxw[:, U:2 * U] = drp
            G += gr
        else:
            mm = _rows(m)
            dxw[:, U:2 * U] = drp * mm
            G += gr * mm


def _opt(a, s):
    return None if a is None else a[:, s]


class _NumpySteps:
    """The step interface the drivers call: whole arrays plus the
    processing index `t` and the source (input) time index `s`, the same
    arguments the CUDA kernels receive (they compute the offsets)."""

    xp = np
    _v = _NumpyViewSteps

    @classmethod
    def lstm_fwd(cls, t, s, xw, rec, h0, c0, mask, dm, gates, hstate,
                 cstate, hd, act, ract):
        hp = h0 if t == 0 else hstate[:, t - 1]
        cp = c0 if t == 0 else cstate[:, t - 1]
        cls._v.lstm_fwd(xw[:, s], rec, hp, cp, _opt(mask, s), dm,
                        gates[:, t], hstate[:, t], cstate[:, t], hd, act,
                        ract)

    @classmethod
    def lstm_bwd(cls, t, s, gates, cstate, c0, dhs, dhrec, dm, mask,
                 zero_out, G, Dc, dxw, act, ract):
        cp = c0 if t == 0 else cstate[:, t - 1]
        cls._v.lstm_bwd(gates[:, t], cp, cstate[:, t], _opt(dhs, t), dhrec,
                        dm, _opt(mask, s), zero_out, G, Dc, dxw[:, s], act,
                        ract)

    @classmethod
    def gru_fwd(cls, t, s, xw, inner, rb, h0, mask, dm, gates, hstate, hd,
                act, ract):
        hp = h0 if t == 0 else hstate[:, t - 1]
        cls._v.gru_fwd(xw[:, s], inner, rb, hp, _opt(mask, s), dm,
                       gates[:, t], hstate[:, t], hd, act, ract)

    @classmethod
    def gru_bwd(cls, t, s, gates, hstate, h0, dhs, dhrec, dm, mask,
                zero_out, G, dxw, dinner, act, ract):
        hp = h0 if t == 0 else hstate[:, t - 1]
        cls._v.gru_bwd(gates[:, t], hp, _opt(dhs, t), dhrec, dm,
                       _opt(mask, s), zero_out, G, dxw[:, s], dinner[:, s],
                       act, ract)

    @classmethod
    def gru_fwd_a(cls, t, s, xw, rec_zr, h0, hstate, dmh, gates, rh, ract):
        hp = h0 if t == 0 else hstate[:, t - 1]
        cls._v.gru_fwd_a(xw[:, s], rec_zr, hp, dmh, gates[:, t], rh[:, s],
                         ract)

    @classmethod
    def gru_fwd_b(cls, t, s, xw, rec_h, h0, mask, dm, gates, hstate, hd,
                  act):
        hp = h0 if t == 0 else hstate[:, t - 1]
        cls._v.gru_fwd_b(xw[:, s], rec_h, hp, _opt(mask, s), dm,
                         gates[:, t], hstate[:, t], hd, act)

    @classmethod
    def gru_bwd_b(cls, t, s, gates, hstate, h0, dhs, dhrec, dm, mask,
                  zero_out, G, dxw, act, ract):
        hp = h0 if t == 0 else hstate[:, t - 1]
        cls._v.gru_bwd_b(gates[:, t], hp, _opt(dhs, t), dhrec, dm,
                         _opt(mask, s), zero_out, G, dxw[:, s], act, ract)

    @classmethod
    def gru_bwd_a(cls, t, s, gates, hstate, h0, drh, dmh, mask, G, dxw,
                  ract):
        hp = h0 if t == 0 else hstate[:, t - 1]
        cls._v.gru_bwd_a(gates[:, t], hp, drh, dmh, _opt(mask, s), G,
                         dxw[:, s], ract)


def _accumulate(G, dhs, dhrec, dm, m, zero_out):
    if dhs is not None:
        if zero_out and m is not None:
            G += dhs * _rows(m)
        else:
            G += dhs
    if dhrec is not None:
        G += dhrec * dm if dm is not None else dhrec


# ---------------------------------------------------------------------------
# Argument checking.


def _shape_str(x):
    return "None" if x is None else str(tuple(x.shape))


def _check_inputs(op, xp, xw, states, recurrent_kernel, gates, mask,
                  recurrent_dropout_mask, state_names):
    if xw is None or getattr(xw, "ndim", None) != 3:
        raise ValueError(
            f"{op}: expected `xw` of rank 3, (batch, timesteps, {gates} * "
            f"units) (the projected input x @ kernel + bias). Received: "
            f"xw.shape={_shape_str(xw)}")
    N, T, GU = xw.shape
    if T < 1:
        raise ValueError(f"{op}: expected at least one timestep. Received: "
                         f"xw.shape={tuple(xw.shape)}")
    if xw.dtype.kind != "f" and xw.dtype.name != "bfloat16":
        raise TypeError(f"{op}: expected a floating `xw`. Received: "
                        f"xw.dtype={xw.dtype}")
    R = recurrent_kernel
    if R is None or R.ndim != 2 or R.shape[1] != gates * R.shape[0]:
        raise ValueError(
            f"{op}: expected `recurrent_kernel` of shape (units, {gates} * "
            f"units). Received: recurrent_kernel.shape={_shape_str(R)}")
    U = R.shape[0]
    if GU != gates * U:
        raise ValueError(
            f"{op}: expected `xw` of shape (batch, timesteps, {gates} * "
            f"units) = {(N, T, gates * U)} (units={U} from "
            f"recurrent_kernel.shape={tuple(R.shape)}). Received: "
            f"xw.shape={tuple(xw.shape)}")
    dtype = xw.dtype
    out_states = []
    for name, s in zip(state_names, states):
        if s is None:
            s = xp.zeros((N, U), dtype)
        elif tuple(s.shape) != (N, U):
            raise ValueError(
                f"{op}: expected `{name}` of shape (batch, units) = "
                f"{(N, U)}. Received: {name}.shape={tuple(s.shape)}")
        out_states.append(xp.ascontiguousarray(s, dtype=dtype))
    R = xp.ascontiguousarray(R, dtype=dtype)
    if mask is not None:
        if tuple(mask.shape) != (N, T):
            raise ValueError(
                f"{op}: expected `mask` of shape (batch, timesteps) = "
                f"{(N, T)}. Received: mask.shape={tuple(mask.shape)}")
        mask = xp.ascontiguousarray(mask, dtype=bool)
    dmask = recurrent_dropout_mask
    if dmask is not None:
        if tuple(dmask.shape) not in ((N, U), (gates, N, U)):
            raise ValueError(
                f"{op}: expected `recurrent_dropout_mask` of shape (batch, "
                f"units) = {(N, U)} (one mask for all gates) or (gates, "
                f"batch, units) = {(gates, N, U)} (one mask per gate). "
                f"Received: recurrent_dropout_mask.shape="
                f"{tuple(dmask.shape)}")
        dmask = xp.ascontiguousarray(dmask, dtype=dtype)
    return N, T, U, out_states, R, mask, dmask


def _check_grad(op, xp, name, g, shape, dtype):
    if g is None:
        return None
    if tuple(g.shape) != tuple(shape):
        raise ValueError(f"{op}: expected `{name}` of shape {tuple(shape)}. "
                         f"Received: {name}.shape={tuple(g.shape)}")
    # C-contiguous: the GPU step kernels index the gradient as flat
    # memory, and an upstream gradient can be a strided view (e.g. one
    # direction's half of a Bidirectional output's gradient).
    return xp.ascontiguousarray(g, dtype=dtype)


def _src(t, T, go_backwards):
    return T - 1 - t if go_backwards else t


def _per_gate_kernel(xp, R, gates):
    """(U, G*U) -> (G, U, U), gate-major, for batched per-gate GEMMs."""
    U = R.shape[0]
    return xp.ascontiguousarray(R.reshape(U, gates, U).transpose(1, 0, 2))


def _per_gate_rec(xp, h, M, Rg, out):
    """out (N, G*U) = [ (h*M_g) @ R_g ]_g."""
    N, U = h.shape
    r = xp.matmul(h[None] * M, Rg)                      # (G, N, U)
    out[...] = r.transpose(1, 0, 2).reshape(N, -1)
    return out


def _per_gate_dh(xp, dz, M, Rg):
    """sum_g (dz_g @ R_g^T) * M_g for dz (N, G*U)."""
    N = dz.shape[0]
    G, U = M.shape[0], M.shape[2]
    d = dz.reshape(N, G, U).transpose(1, 0, 2)          # (G, N, U)
    return (xp.matmul(d, Rg.transpose(0, 2, 1)) * M).sum(axis=0)


def _prev_states(xp, h0, hstate, go_backwards):
    """h_{t-1} for every step, (N, T, U), in source (input) time order."""
    hp = xp.concatenate([h0[:, None], hstate[:, :-1]], axis=1)
    if go_backwards:
        hp = hp[:, ::-1]
    return xp.ascontiguousarray(hp)


def _weight_grad(xp, hprev, dz, dmask, gates):
    """ONE GEMM over the whole sequence: sum_t hd_{t-1}^T @ dz_t."""
    N, T, U = hprev.shape
    if dmask is None or dmask.ndim == 2:
        if dmask is not None:
            hprev = hprev * dmask[:, None, :]
        return xp.matmul(hprev.reshape(N * T, U).T, dz.reshape(N * T, -1))
    H = (hprev[None] * dmask[:, :, None, :]).reshape(gates, N * T, U)
    D = dz.reshape(N * T, gates, U).transpose(1, 0, 2)
    dRg = xp.matmul(H.transpose(0, 2, 1), D)             # (G, U, U)
    return dRg.transpose(1, 0, 2).reshape(U, gates * U)


def _outputs(xp, hstate, mask, go_backwards, zero_out):
    if mask is None or not zero_out:
        return hstate
    mp = mask[:, ::-1] if go_backwards else mask
    return hstate * mp[:, :, None].astype(hstate.dtype)


# ---------------------------------------------------------------------------
# Sequence drivers, shared by backend.cpu and backend.gpu (`steps` supplies
# the array module and the fused element-wise passes).


def _lstm_forward(steps, xw, h0, c0, recurrent_kernel, mask,
                  recurrent_dropout_mask, go_backwards, activation,
                  recurrent_activation, zero_output_for_mask):
    op = "lstm_forward"
    xp = steps.xp
    act = _act_code(activation, op, "activation")
    ract = _act_code(recurrent_activation, op, "recurrent_activation")
    N, T, U, (h0, c0), R, mask, dmask = _check_inputs(
        op, xp, xw, (h0, c0), recurrent_kernel, 4, mask,
        recurrent_dropout_mask, ("h0", "c0"))
    dtype = xw.dtype
    gates = xp.empty((N, T, 4 * U), dtype)
    hstate = xp.empty((N, T, U), dtype)
    cstate = xp.empty((N, T, U), dtype)
    rec = xp.empty((N, 4 * U), dtype)
    shared = dmask is not None and dmask.ndim == 2
    per_gate = dmask is not None and dmask.ndim == 3
    Rg = _per_gate_kernel(xp, R, 4) if per_gate else None
    dm = dmask if shared else None
    hd = xp.empty((N, U), dtype) if shared else None
    h_prev, c_prev = h0, c0
    hd_prev = h0 * dm if shared else h0
    for t in range(T):
        s = _src(t, T, go_backwards)
        if per_gate:
            _per_gate_rec(xp, h_prev, dmask, Rg, rec)
        else:
            xp.matmul(hd_prev, R, out=rec)
        steps.lstm_fwd(t, s, xw, rec, h0, c0, mask, dm, gates, hstate,
                       cstate, hd, act, ract)
        h_prev, c_prev = hstate[:, t], cstate[:, t]
        hd_prev = hd if shared else h_prev
    hs = _outputs(xp, hstate, mask, go_backwards, zero_output_for_mask)
    cache = {
        "gates": gates, "h": hstate, "c": cstate, "h0": h0, "c0": c0,
        "recurrent_kernel": R, "mask": mask,
        "recurrent_dropout_mask": dmask, "go_backwards": bool(go_backwards),
        "activation": act, "recurrent_activation": ract,
        "zero_output_for_mask": bool(zero_output_for_mask),
    }
    return hs, hstate[:, -1].copy(), cstate[:, -1].copy(), cache


def _lstm_backward(steps, dhs, dh_T, dc_T, cache):
    op = "lstm_backward"
    xp = steps.xp
    gates, hstate, cstate = cache["gates"], cache["h"], cache["c"]
    h0, c0, R = cache["h0"], cache["c0"], cache["recurrent_kernel"]
    mask, dmask = cache["mask"], cache["recurrent_dropout_mask"]
    gb, act, ract = (cache["go_backwards"], cache["activation"],
                     cache["recurrent_activation"])
    zero_out = cache["zero_output_for_mask"]
    N, T, U = hstate.shape
    dtype = hstate.dtype
    dhs = _check_grad(op, xp, "dhs", dhs, (N, T, U), dtype)
    dh_T = _check_grad(op, xp, "dh_T", dh_T, (N, U), dtype)
    dc_T = _check_grad(op, xp, "dc_T", dc_T, (N, U), dtype)
    G = xp.zeros((N, U), dtype) if dh_T is None else dh_T.copy()
    Dc = xp.zeros((N, U), dtype) if dc_T is None else dc_T.copy()
    dxw = xp.empty((N, T, 4 * U), dtype)
    shared = dmask is not None and dmask.ndim == 2
    per_gate = dmask is not None and dmask.ndim == 3
    Rg = _per_gate_kernel(xp, R, 4) if per_gate else None
    dm = dmask if shared else None
    dhrec = None
    dhrec_buf = xp.empty((N, U), dtype)
    for t in range(T - 1, -1, -1):
        s = _src(t, T, gb)
        if t < T - 1:
            dz_next = dxw[:, _src(t + 1, T, gb)]
            if per_gate:
                dhrec = _per_gate_dh(xp, dz_next, dmask, Rg)
            else:
                dhrec = xp.matmul(dz_next, R.T, out=dhrec_buf)
        steps.lstm_bwd(t, s, gates, cstate, c0, dhs, dhrec, dm, mask,
                       zero_out, G, Dc, dxw, act, ract)
    dz0 = dxw[:, _src(0, T, gb)]
    if per_gate:
        dh0 = G + _per_gate_dh(xp, dz0, dmask, Rg)
    else:
        d = xp.matmul(dz0, R.T)
        dh0 = G + (d * dm if shared else d)
    hprev = _prev_states(xp, h0, hstate, gb)
    dR = _weight_grad(xp, hprev, dxw, dmask, 4)
    return dxw, dh0, Dc, dR


def _gru_forward(steps, xw, h0, recurrent_kernel, recurrent_bias, mask,
                 recurrent_dropout_mask, go_backwards, activation,
                 recurrent_activation, reset_after, zero_output_for_mask):
    op = "gru_forward"
    xp = steps.xp
    act = _act_code(activation, op, "activation")
    ract = _act_code(recurrent_activation, op, "recurrent_activation")
    N, T, U, (h0,), R, mask, dmask = _check_inputs(
        op, xp, xw, (h0,), recurrent_kernel, 3, mask,
        recurrent_dropout_mask, ("h0",))
    dtype = xw.dtype
    rb = recurrent_bias
    if rb is not None:
        if not reset_after:
            raise ValueError(
                f"{op}: `recurrent_bias` is only used with reset_after=True "
                "(Keras keeps a single bias in `xw` when reset_after=False). "
                f"Received: recurrent_bias.shape={tuple(rb.shape)}, "
                "reset_after=False")
        if tuple(rb.shape) != (3 * U,):
            raise ValueError(
                f"{op}: expected `recurrent_bias` of shape (3 * units,) = "
                f"{(3 * U,)} (row 1 of the Keras GRU bias (2, 3 * units))."
                f" Received: recurrent_bias.shape={tuple(rb.shape)}")
        rb = xp.ascontiguousarray(rb, dtype=dtype)
    shared = dmask is not None and dmask.ndim == 2
    per_gate = dmask is not None and dmask.ndim == 3
    dm = dmask if shared else None
    hstate = xp.empty((N, T, U), dtype)
    hd = xp.empty((N, U), dtype) if shared else None
    h_prev = h0
    hd_prev = h0 * dm if shared else h0
    rh = None
    if reset_after:
        Rg = _per_gate_kernel(xp, R, 3) if per_gate else None
        gates = xp.empty((N, T, 4 * U), dtype)
        inner = xp.empty((N, 3 * U), dtype)
        for t in range(T):
            s = _src(t, T, go_backwards)
            if per_gate:
                _per_gate_rec(xp, h_prev, dmask, Rg, inner)
            else:
                xp.matmul(hd_prev, R, out=inner)
            steps.gru_fwd(t, s, xw, inner, rb, h0, mask, dm, gates,
                          hstate, hd, act, ract)
            h_prev = hstate[:, t]
            hd_prev = hd if shared else h_prev
    else:
        Rzr = xp.ascontiguousarray(R[:, :2 * U])
        Rh = xp.ascontiguousarray(R[:, 2 * U:])
        Rg = _per_gate_kernel(xp, Rzr, 2) if per_gate else None
        dmh = dmask[2] if per_gate else dm
        gates = xp.empty((N, T, 3 * U), dtype)
        rh = xp.empty((N, T, U), dtype)      # source time order
        rec_zr = xp.empty((N, 2 * U), dtype)
        rec_h = xp.empty((N, U), dtype)
        for t in range(T):
            s = _src(t, T, go_backwards)
            if per_gate:
                _per_gate_rec(xp, h_prev, dmask[:2], Rg, rec_zr)
            else:
                xp.matmul(hd_prev, Rzr, out=rec_zr)
            steps.gru_fwd_a(t, s, xw, rec_zr, h0, hstate, dmh, gates, rh,
                            ract)
            xp.matmul(rh[:, s], Rh, out=rec_h)
            steps.gru_fwd_b(t, s, xw, rec_h, h0, mask, dm, gates, hstate,
                            hd, act)
            h_prev = hstate[:, t]
            hd_prev = hd if shared else h_prev
    hs = _outputs(xp, hstate, mask, go_backwards, zero_output_for_mask)
    cache = {
        "gates": gates, "h": hstate, "h0": h0, "rh": rh,
        "recurrent_kernel": R, "has_recurrent_bias": rb is not None,
        "reset_after": bool(reset_after), "mask": mask,
        "recurrent_dropout_mask": dmask, "go_backwards": bool(go_backwards),
        "activation": act, "recurrent_activation": ract,
        "zero_output_for_mask": bool(zero_output_for_mask),
    }
    return hs, hstate[:, -1].copy(), cache


def _gru_backward(steps, dhs, dh_T, cache):
    op = "gru_backward"
    xp = steps.xp
    gates, hstate, h0 = cache["gates"], cache["h"], cache["h0"]
    R, mask, dmask = (cache["recurrent_kernel"], cache["mask"],
                      cache["recurrent_dropout_mask"])
    gb, act, ract = (cache["go_backwards"], cache["activation"],
                     cache["recurrent_activation"])
    zero_out = cache["zero_output_for_mask"]
    N, T, U = hstate.shape
    dtype = hstate.dtype
    dhs = _check_grad(op, xp, "dhs", dhs, (N, T, U), dtype)
    dh_T = _check_grad(op, xp, "dh_T", dh_T, (N, U), dtype)
    G = xp.zeros((N, U), dtype) if dh_T is None else dh_T.copy()
    dxw = xp.empty((N, T, 3 * U), dtype)
    shared = dmask is not None and dmask.ndim == 2
    per_gate = dmask is not None and dmask.ndim == 3
    dm = dmask if shared else None
    dhrec = None
    dhrec_buf = xp.empty((N, U), dtype)
    hprev = _prev_states(xp, h0, hstate, gb)
    if cache["reset_after"]:
        Rg = _per_gate_kernel(xp, R, 3) if per_gate else None
        dinner = xp.empty((N, T, 3 * U), dtype)
        for t in range(T - 1, -1, -1):
            s = _src(t, T, gb)
            if t < T - 1:
                d_next = dinner[:, _src(t + 1, T, gb)]
                if per_gate:
                    dhrec = _per_gate_dh(xp, d_next, dmask, Rg)
                else:
                    dhrec = xp.matmul(d_next, R.T, out=dhrec_buf)
            steps.gru_bwd(t, s, gates, hstate, h0, dhs, dhrec, dm, mask,
                          zero_out, G, dxw, dinner, act, ract)
        d0 = dinner[:, _src(0, T, gb)]
        if per_gate:
            dh0 = G + _per_gate_dh(xp, d0, dmask, Rg)
        else:
            d = xp.matmul(d0, R.T)
            dh0 = G + (d * dm if shared else d)
        dR = _weight_grad(xp, hprev, dinner, dmask, 3)
        drb = dinner.sum(axis=(0, 1)) if cache["has_recurrent_bias"] \
            else None
        return dxw, dh0, dR, drb
    # reset_after=False
    rh = cache["rh"]
    Rzr = R[:, :2 * U]
    Rh = R[:, 2 * U:]
    Rg = _per_gate_kernel(xp, xp.ascontiguousarray(Rzr), 2) \
        if per_gate else None
    dmh = dmask[2] if per_gate else dm
    drh = xp.empty((N, U), dtype)
    for t in range(T - 1, -1, -1):
        s = _src(t, T, gb)
        if t < T - 1:
            d_next = dxw[:, _src(t + 1, T, gb), :2 * U]
            if per_gate:
                dhrec = _per_gate_dh(xp, d_next, dmask[:2], Rg)
            else:
                dhrec = xp.matmul(d_next, Rzr.T, out=dhrec_buf)
        steps.gru_bwd_b(t, s, gates, hstate, h0, dhs, dhrec, dm, mask,
                        zero_out, G, dxw, act, ract)
        xp.matmul(dxw[:, s, 2 * U:], Rh.T, out=drh)
        steps.gru_bwd_a(t, s, gates, hstate, h0, drh, dmh, mask, G, dxw,
                        ract)
    d0 = dxw[:, _src(0, T, gb), :2 * U]
    if per_gate:
        dh0 = G + _per_gate_dh(xp, d0, dmask[:2], Rg)
    else:
        d = xp.matmul(d0, Rzr.T)
        dh0 = G + (d * dm if shared else d)
    dR = xp.empty((U, 3 * U), dtype)
    dR[:, :2 * U] = _weight_grad(
        xp, hprev, xp.ascontiguousarray(dxw[..., :2 * U]),
        None if dmask is None else dmask[:2] if per_gate else dmask, 2)
    dR[:, 2 * U:] = xp.matmul(rh.reshape(N * T, U).T,
                              dxw[..., 2 * U:].reshape(N * T, U))
    return dxw, dh0, dR, None


def _simple_rnn_forward(xp, xw, h0, recurrent_kernel, mask,
                        recurrent_dropout_mask, go_backwards, activation,
                        zero_output_for_mask):
    op = "simple_rnn_forward"
    act = _act_code(activation, op, "activation")
    N, T, U, (h0,), R, mask, dm = _check_inputs(
        op, xp, xw, (h0,), recurrent_kernel, 1, mask,
        recurrent_dropout_mask, ("h0",))
    if dm is not None and dm.ndim == 3:
        dm = dm[0]
    dtype = xw.dtype
    hstate = xp.empty((N, T, U), dtype)
    a = xp.empty((N, U), dtype)
    h_prev = h0
    for t in range(T):
        s = _src(t, T, go_backwards)
        hin = h_prev * dm if dm is not None else h_prev
        xp.matmul(hin, R, out=a)
        a += xw[:, s]
        h = hstate[:, t]
        _act(xp, act, a, h)
        if mask is not None:
            xp.copyto(h, h_prev, where=~_rows(mask[:, s]))
        h_prev = h
    hs = _outputs(xp, hstate, mask, go_backwards, zero_output_for_mask)
    cache = {
        "h": hstate, "h0": h0, "recurrent_kernel": R, "mask": mask,
        "recurrent_dropout_mask": dm, "go_backwards": bool(go_backwards),
        "activation": act,
        "zero_output_for_mask": bool(zero_output_for_mask),
    }
    return hs, hstate[:, -1].copy(), cache


def _simple_rnn_backward(xp, dhs, dh_T, cache):
    op = "simple_rnn_backward"
    hstate, h0, R = cache["h"], cache["h0"], cache["recurrent_kernel"]
    mask, dm = cache["mask"], cache["recurrent_dropout_mask"]
    gb, act = cache["go_backwards"], cache["activation"]
    zero_out = cache["zero_output_for_mask"]
    N, T, U = hstate.shape
    dtype = hstate.dtype
    dhs = _check_grad(op, xp, "dhs", dhs, (N, T, U), dtype)
    dh_T = _check_grad(op, xp, "dh_T", dh_T, (N, U), dtype)
    G = xp.zeros((N, U), dtype) if dh_T is None else dh_T.copy()
    dxw = xp.empty((N, T, U), dtype)
    dhrec = None
    for t in range(T - 1, -1, -1):
        s = _src(t, T, gb)
        m = None if mask is None else mask[:, s]
        if t < T - 1:
            dhrec = xp.matmul(dxw[:, _src(t + 1, T, gb)], R.T)
        _accumulate(G, None if dhs is None else dhs[:, t], dhrec, dm, m,
                    zero_out)
        da = G * _dact(xp, act, hstate[:, t])
        if m is None:
            dxw[:, s] = da
            G[...] = 0
        else:
            mm = _rows(m)
            dxw[:, s] = da * mm
            G *= ~mm
    d = xp.matmul(dxw[:, _src(0, T, gb)], R.T)
    dh0 = G + (d * dm if dm is not None else d)
    hprev = _prev_states(xp, h0, hstate, gb)
    dR = _weight_grad(xp, hprev, dxw, dm, 1)
    return dxw, dh0, dR


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
    H = cache["saved"]["H"]
    T1, N, U = H.shape
    dtype = H.dtype
    return lstm_time_major.projected_backward(
        _check_grad(op, np, "dhs", dhs, (N, T1 - 1, U), dtype),
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
        T1, N, U = cache["H"].shape
        dtype = cache["S"].dtype
        op = "gru_backward"
        return gru_time_major.gru_backward(
            _check_grad(op, np, "dhs", dhs, (N, T1 - 1, U), dtype),
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

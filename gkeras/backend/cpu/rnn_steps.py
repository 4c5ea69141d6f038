"""The recurrent step passes in NumPy: activation codes and the fused
element-wise pass of one LSTM, GRU or SimpleRNN step (forward and
backward) on 2-D views.

`backend.cpu.rnn_drivers` walks the sequence and calls these through the
`_NumpySteps` interface; `backend.gpu.rnn` implements the same methods
with the CUDA kernels of `kernels/lstm.cu` and `kernels/gru.cu`, and
these NumPy versions are the reference they are tested against.
"""

import numpy as np

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

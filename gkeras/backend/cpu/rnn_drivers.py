"""The sequence drivers shared by the CPU and GPU recurrent primitives.

`_lstm_forward`, `_gru_forward`, `_simple_rnn_forward` and their
backwards walk the time axis (masking, `go_backwards`, recurrent dropout,
Keras 3's semantics as described in `backend.cpu.rnn`), doing one
recurrent GEMM and one fused element-wise pass per step through a
`steps` object: `backend.cpu.rnn_steps._NumpySteps` on the CPU, the CUDA
kernels' wrapper in `backend.gpu.rnn`. The recurrent-kernel gradient is
one GEMM over the whole sequence at the end.
"""

from gkeras.backend.cpu.rnn_steps import (_accumulate, _act, _act_code, _dact,
                                         _rows)

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
        h_prev = hstate[:, t]
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

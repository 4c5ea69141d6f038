"""Recurrent primitives: backend.cpu vs an obviously-right float64 reference,
finite-difference gradients through time, and the CUDA step kernels run on
the CPU through the tests/cuda_emu harness."""

import numpy as np
import pytest

from gkeras.backend.cpu import rnn as cpu_rnn

ACTS = ["tanh", "sigmoid", "relu", "linear", "hard_sigmoid"]


# ---------------------------------------------------------------------------
# The reference: one Keras-style cell step at a time, float64, written from
# the Keras 3 formulas and `rnn()` masking rules, no buffers, no cleverness.

def _f(name):
    return {
        "tanh": np.tanh,
        "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
        "relu": lambda x: np.maximum(x, 0.0),
        "linear": lambda x: x,
        "hard_sigmoid": lambda x: np.clip((x + 3.0) / 6.0, 0.0, 1.0),
    }[name]


def _gate_masks(dmask, G, N, U):
    if dmask is None:
        return [np.ones((N, U))] * G
    if dmask.ndim == 2:
        return [dmask] * G
    return list(dmask)


def ref_rnn(cell, xw, states, mask, go_backwards, zero_output):
    """Keras 3 `rnn()` (numpy/jax backends, unroll=False)."""
    N, T, _ = xw.shape
    order = range(T - 1, -1, -1) if go_backwards else range(T)
    outs = []
    for s in order:
        out, new = cell(xw[:, s], states)
        if mask is not None:
            m = mask[:, s][:, None]
            prev_out = states[0]
            out = np.where(m, out, 0.0 if zero_output else prev_out)
            new = [np.where(m, n, p) for n, p in zip(new, states)]
        outs.append(out)
        states = new
    return np.stack(outs, axis=1), states


def ref_lstm(xw, h0, c0, R, mask=None, dmask=None, go_backwards=False,
             act="tanh", ract="sigmoid", zero_output=False):
    N, T, G4 = xw.shape
    U = R.shape[0]
    a, ra = _f(act), _f(ract)
    ms = _gate_masks(dmask, 4, N, U)

    def cell(x, st):
        h, c = st
        zs = [x[:, k * U:(k + 1) * U] + (h * ms[k]) @ R[:, k * U:(k + 1) * U]
              for k in range(4)]
        i, f, g, o = ra(zs[0]), ra(zs[1]), a(zs[2]), ra(zs[3])
        c2 = f * c + i * g
        h2 = o * a(c2)
        return h2, [h2, c2]

    hs, (h, c) = ref_rnn(cell, xw, [h0, c0], mask, go_backwards,
                         zero_output)
    return hs, h, c


def ref_gru(xw, h0, R, rb=None, mask=None, dmask=None, go_backwards=False,
            act="tanh", ract="sigmoid", reset_after=True, zero_output=False):
    N, T, _ = xw.shape
    U = R.shape[0]
    a, ra = _f(act), _f(ract)
    ms = _gate_masks(dmask, 3, N, U)
    rbv = np.zeros(3 * U) if rb is None else rb

    def cell(x, st):
        (h,) = st
        xz, xr, xh = x[:, :U], x[:, U:2 * U], x[:, 2 * U:]
        Rz, Rr, Rh = R[:, :U], R[:, U:2 * U], R[:, 2 * U:]
        z = ra(xz + (h * ms[0]) @ Rz + rbv[:U])
        r = ra(xr + (h * ms[1]) @ Rr + rbv[U:2 * U])
        if reset_after:
            hh = a(xh + r * ((h * ms[2]) @ Rh + rbv[2 * U:]))
        else:
            hh = a(xh + (r * (h * ms[2])) @ Rh)
        h2 = z * h + (1 - z) * hh
        return h2, [h2]

    hs, (h,) = ref_rnn(cell, xw, [h0], mask, go_backwards, zero_output)
    return hs, h


def ref_simple(xw, h0, R, mask=None, dmask=None, go_backwards=False,
               act="tanh", zero_output=False):
    a = _f(act)
    dm = 1.0 if dmask is None else dmask

    def cell(x, st):
        h2 = a(x + (st[0] * dm) @ R)
        return h2, [h2]

    hs, (h,) = ref_rnn(cell, xw, [h0], mask, go_backwards, zero_output)
    return hs, h


# ---------------------------------------------------------------------------
# Random problems.

def _mask(rng, N, T):
    m = rng.random((N, T)) > 0.35
    m[0, :] = True            # one full row
    if N > 2:
        m[1, 0] = False       # masked first step (output = h0)
        m[2, -1] = False      # masked last step
    return m


def _problem(rng, N, T, U, G, dtype=np.float64, scale=0.5):
    xw = (rng.standard_normal((N, T, G * U)) * scale).astype(dtype)
    h0 = (rng.standard_normal((N, U)) * 0.5).astype(dtype)
    c0 = (rng.standard_normal((N, U)) * 0.5).astype(dtype)
    R = (rng.standard_normal((U, G * U)) / np.sqrt(U)).astype(dtype)
    return xw, h0, c0, R


def _dropout(rng, kind, G, N, U, dtype=np.float64):
    if kind is None:
        return None
    shape = (N, U) if kind == "shared" else (G, N, U)
    return ((rng.random(shape) > 0.3) / 0.7).astype(dtype)


CASES = [  # (mask, dropout, go_backwards, zero_output)
    (False, None, False, False),
    (False, None, True, False),   # the time-major fast path, backwards
    (True, None, False, False),
    (True, None, True, True),
    (True, "shared", True, False),
    (False, "per_gate", False, False),
    (True, "per_gate", True, True),
]


# ---------------------------------------------------------------------------
# Forward vs reference.

@pytest.mark.parametrize("use_mask,drop,gb,zo", CASES)
@pytest.mark.parametrize("act,ract", [("tanh", "sigmoid"),
                                      ("relu", "hard_sigmoid"),
                                      ("linear", "tanh")])
def test_lstm_forward_matches_reference(use_mask, drop, gb, zo, act, ract):
    rng = np.random.default_rng(1)
    N, T, U = 5, 6, 3
    xw, h0, c0, R = _problem(rng, N, T, U, 4)
    mask = _mask(rng, N, T) if use_mask else None
    dm = _dropout(rng, drop, 4, N, U)
    hs, h, c, _ = cpu_rnn.lstm_forward(
        xw, h0, c0, R, mask=mask, recurrent_dropout_mask=dm,
        go_backwards=gb, activation=act, recurrent_activation=ract,
        zero_output_for_mask=zo)
    rhs, rh, rc = ref_lstm(xw, h0, c0, R, mask, dm, gb, act, ract, zo)
    np.testing.assert_allclose(hs, rhs, atol=1e-12)
    np.testing.assert_allclose(h, rh, atol=1e-12)
    np.testing.assert_allclose(c, rc, atol=1e-12)


@pytest.mark.parametrize("use_mask,drop,gb,zo", CASES)
@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("act,ract", [("tanh", "sigmoid"),
                                      ("relu", "hard_sigmoid")])
def test_gru_forward_matches_reference(use_mask, drop, gb, zo, reset_after,
                                       act, ract):
    rng = np.random.default_rng(2)
    N, T, U = 5, 6, 3
    xw, h0, _, R = _problem(rng, N, T, U, 3)
    rb = rng.standard_normal(3 * U) * 0.3 if reset_after else None
    mask = _mask(rng, N, T) if use_mask else None
    dm = _dropout(rng, drop, 3, N, U)
    hs, h, _ = cpu_rnn.gru_forward(
        xw, h0, R, rb, mask=mask, recurrent_dropout_mask=dm,
        go_backwards=gb, activation=act, recurrent_activation=ract,
        reset_after=reset_after, zero_output_for_mask=zo)
    rhs, rh = ref_gru(xw, h0, R, rb, mask, dm, gb, act, ract, reset_after,
                      zo)
    np.testing.assert_allclose(hs, rhs, atol=1e-12)
    np.testing.assert_allclose(h, rh, atol=1e-12)


@pytest.mark.parametrize("use_mask,drop,gb,zo",
                         [c for c in CASES if c[1] != "per_gate"])
@pytest.mark.parametrize("act", ACTS)
def test_simple_rnn_forward_matches_reference(use_mask, drop, gb, zo, act):
    rng = np.random.default_rng(3)
    N, T, U = 5, 6, 3
    xw, h0, _, R = _problem(rng, N, T, U, 1)
    mask = _mask(rng, N, T) if use_mask else None
    dm = _dropout(rng, drop, 1, N, U)
    hs, h, _ = cpu_rnn.simple_rnn_forward(
        xw, h0, R, mask=mask, recurrent_dropout_mask=dm, go_backwards=gb,
        activation=act, zero_output_for_mask=zo)
    rhs, rh = ref_simple(xw, h0, R, mask, dm, gb, act, zo)
    np.testing.assert_allclose(hs, rhs, atol=1e-12)
    np.testing.assert_allclose(h, rh, atol=1e-12)


def test_masked_output_semantics():
    """Keras 3 (numpy/jax rnn): masked output = carried state (h0 first),
    or zeros with zero_output_for_mask; states carried."""
    rng = np.random.default_rng(4)
    N, T, U = 2, 4, 3
    xw, h0, c0, R = _problem(rng, N, T, U, 4)
    mask = np.array([[False, True, False, True], [True, True, True, False]])
    hs, h, c, _ = cpu_rnn.lstm_forward(xw, h0, c0, R, mask=mask)
    np.testing.assert_array_equal(hs[0, 0], h0[0])
    np.testing.assert_array_equal(hs[0, 2], hs[0, 1])
    np.testing.assert_array_equal(hs[1, 3], hs[1, 2])
    np.testing.assert_array_equal(h[1], hs[1, 2])
    hz, hz_T, _, _ = cpu_rnn.lstm_forward(xw, h0, c0, R, mask=mask,
                                          zero_output_for_mask=True)
    assert not hz[0, 0].any() and not hz[1, 3].any()
    np.testing.assert_array_equal(hz_T, h)   # states unaffected


def test_float32_close_to_float64():
    rng = np.random.default_rng(5)
    xw, h0, c0, R = _problem(rng, 4, 7, 5, 4)
    a = cpu_rnn.lstm_forward(xw, h0, c0, R)
    b = cpu_rnn.lstm_forward(*(v.astype(np.float32) for v in (xw, h0, c0, R)))
    assert b[0].dtype == np.float32
    np.testing.assert_allclose(b[0], a[0], atol=1e-5)


# ---------------------------------------------------------------------------
# Finite-difference gradients through time (float64).

def _fd_check(f, inputs, analytic, rng, n_probe=12, eps=1e-6, tol=1e-6):
    """Compares analytic gradients of the scalar f(*inputs) with central
    differences on `n_probe` random entries of each input."""
    for k, (x, g) in enumerate(zip(inputs, analytic)):
        if g is None:
            continue
        assert g.shape == x.shape, (k, g.shape, x.shape)
        flat = x.reshape(-1)
        idx = rng.choice(flat.size, size=min(n_probe, flat.size),
                         replace=False)
        for j in idx:
            old = flat[j]
            flat[j] = old + eps
            fp = f(*inputs)
            flat[j] = old - eps
            fm = f(*inputs)
            flat[j] = old
            num = (fp - fm) / (2 * eps)
            assert abs(num - g.reshape(-1)[j]) <= tol * (1 + abs(num)), (
                f"input {k} entry {j}: numeric {num} vs analytic "
                f"{g.reshape(-1)[j]}")


@pytest.mark.parametrize("use_mask,drop,gb,zo", CASES)
@pytest.mark.parametrize("act,ract", [("tanh", "sigmoid"),
                                      ("relu", "hard_sigmoid")])
def test_lstm_gradients(use_mask, drop, gb, zo, act, ract):
    rng = np.random.default_rng(10)
    N, T, U = 3, 4, 3
    xw, h0, c0, R = _problem(rng, N, T, U, 4, scale=1.0)
    mask = _mask(rng, N, T) if use_mask else None
    dm = _dropout(rng, drop, 4, N, U)
    W = rng.standard_normal((N, T, U))
    wh, wc = rng.standard_normal((N, U)), rng.standard_normal((N, U))
    kw = dict(mask=mask, recurrent_dropout_mask=dm, go_backwards=gb,
              activation=act, recurrent_activation=ract,
              zero_output_for_mask=zo)

    def loss(xw, h0, c0, R):
        hs, h, c, _ = cpu_rnn.lstm_forward(xw, h0, c0, R, **kw)
        return (hs * W).sum() + (h * wh).sum() + (c * wc).sum()

    _, _, _, cache = cpu_rnn.lstm_forward(xw, h0, c0, R, **kw)
    grads = cpu_rnn.lstm_backward(W, wh, wc, cache)
    _fd_check(loss, [xw, h0, c0, R], grads, rng)


@pytest.mark.parametrize("use_mask,drop,gb,zo", CASES)
@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_gradients(use_mask, drop, gb, zo, reset_after):
    rng = np.random.default_rng(11)
    N, T, U = 3, 4, 3
    xw, h0, _, R = _problem(rng, N, T, U, 3, scale=1.0)
    rb = rng.standard_normal(3 * U) * 0.3 if reset_after else None
    mask = _mask(rng, N, T) if use_mask else None
    dm = _dropout(rng, drop, 3, N, U)
    W = rng.standard_normal((N, T, U))
    wh = rng.standard_normal((N, U))
    kw = dict(mask=mask, recurrent_dropout_mask=dm, go_backwards=gb,
              reset_after=reset_after, zero_output_for_mask=zo)

    def loss(xw, h0, R, rb=None):
        hs, h, _ = cpu_rnn.gru_forward(xw, h0, R, rb, **kw)
        return (hs * W).sum() + (h * wh).sum()

    _, _, cache = cpu_rnn.gru_forward(xw, h0, R, rb, **kw)
    dxw, dh0, dR, drb = cpu_rnn.gru_backward(W, wh, cache)
    assert (drb is None) == (rb is None)
    inputs = [xw, h0, R] + ([rb] if rb is not None else [])
    _fd_check(loss, inputs, [dxw, dh0, dR, drb], rng)


@pytest.mark.parametrize("use_mask,drop,gb,zo",
                         [c for c in CASES if c[1] != "per_gate"])
@pytest.mark.parametrize("act", ["tanh", "sigmoid", "relu"])
def test_simple_rnn_gradients(use_mask, drop, gb, zo, act):
    rng = np.random.default_rng(12)
    N, T, U = 3, 5, 3
    xw, h0, _, R = _problem(rng, N, T, U, 1, scale=1.0)
    mask = _mask(rng, N, T) if use_mask else None
    dm = _dropout(rng, drop, 1, N, U)
    W = rng.standard_normal((N, T, U))
    wh = rng.standard_normal((N, U))
    kw = dict(mask=mask, recurrent_dropout_mask=dm, go_backwards=gb,
              activation=act, zero_output_for_mask=zo)

    def loss(xw, h0, R):
        hs, h, _ = cpu_rnn.simple_rnn_forward(xw, h0, R, **kw)
        return (hs * W).sum() + (h * wh).sum()

    _, _, cache = cpu_rnn.simple_rnn_forward(xw, h0, R, **kw)
    grads = cpu_rnn.simple_rnn_backward(W, wh, cache)
    _fd_check(loss, [xw, h0, R], grads, rng)


def test_backward_accepts_missing_gradients():
    rng = np.random.default_rng(13)
    xw, h0, c0, R = _problem(rng, 2, 3, 2, 4)
    _, _, _, cache = cpu_rnn.lstm_forward(xw, h0, c0, R)
    dxw, dh0, dc0, dR = cpu_rnn.lstm_backward(None, None, None, cache)
    assert not dxw.any() and not dh0.any() and not dc0.any()
    assert not dR.any()


# ---------------------------------------------------------------------------
# Errors.

def test_bad_shapes_name_the_argument():
    rng = np.random.default_rng(14)
    xw, h0, c0, R = _problem(rng, 2, 3, 4, 4)
    with pytest.raises(ValueError, match=r"xw.*\(2, 3, 16\).*\(2, 3, 12\)"):
        cpu_rnn.lstm_forward(xw[..., :12], h0, c0, R)
    with pytest.raises(ValueError, match="recurrent_kernel"):
        cpu_rnn.lstm_forward(xw, h0, c0, R[:, :12])
    with pytest.raises(ValueError, match=r"h0.*\(2, 4\).*\(3, 4\)"):
        cpu_rnn.lstm_forward(xw, np.zeros((3, 4)), c0, R)
    with pytest.raises(ValueError, match="mask"):
        cpu_rnn.lstm_forward(xw, h0, c0, R, mask=np.ones((2, 4), bool))
    with pytest.raises(ValueError, match="recurrent_dropout_mask"):
        cpu_rnn.lstm_forward(xw, h0, c0, R,
                             recurrent_dropout_mask=np.ones((3, 2, 4)))
    with pytest.raises(ValueError, match="recurrent_bias"):
        cpu_rnn.gru_forward(xw[..., :12], h0, R[:, :12], np.zeros(12),
                            reset_after=False)
    with pytest.raises(ValueError, match="recurrent_bias.*12"):
        cpu_rnn.gru_forward(xw[..., :12], h0, R[:, :12], np.zeros(8))
    _, _, _, cache = cpu_rnn.lstm_forward(xw, h0, c0, R)
    with pytest.raises(ValueError, match="dhs"):
        cpu_rnn.lstm_backward(np.zeros((2, 3, 5)), None, None, cache)


def test_unsupported_activation_raises_not_implemented():
    rng = np.random.default_rng(15)
    xw, h0, c0, R = _problem(rng, 2, 3, 4, 4)
    with pytest.raises(NotImplementedError, match="softplus"):
        cpu_rnn.lstm_forward(xw, h0, c0, R, activation="softplus")
    with pytest.raises(NotImplementedError, match="recurrent_activation"):
        cpu_rnn.gru_forward(xw[..., :12], h0, R[:, :12],
                            recurrent_activation="elu")
    assert cpu_rnn.rnn_activation_supported("hard_sigmoid")
    assert cpu_rnn.rnn_activation_supported(None)
    assert not cpu_rnn.rnn_activation_supported("gelu")


def test_cpu_gpu_export_the_same_functions():
    import inspect
    from gkeras.backend.gpu import rnn as gpu_rnn
    assert set(cpu_rnn.__all__) == set(gpu_rnn.__all__)
    for name in cpu_rnn.__all__:
        assert (inspect.signature(getattr(cpu_rnn, name))
                == inspect.signature(getattr(gpu_rnn, name))), name


# ---------------------------------------------------------------------------
# The CUDA step kernels, run on the CPU by the emulator through the very GPU
# wrapper code (gkeras.backend.gpu.rnn.KernelSteps + the shared drivers),
# compared with backend.cpu in float32.

def _emu():
    import os
    import sys
    sys.path.insert(0, os.path.dirname(__file__))
    from cuda_emu import emu
    return emu


_EMU_ENTRIES = {
    ("lstm.cu", "lstm_fwd_step"), ("lstm.cu", "lstm_bwd_step"),
    ("gru.cu", "gru_fwd_step"), ("gru.cu", "gru_bwd_step"),
    ("gru.cu", "gru_fwd_gates"), ("gru.cu", "gru_fwd_update"),
    ("gru.cu", "gru_bwd_update"), ("gru.cu", "gru_bwd_gates"),
}
_SEEN = set()

EMU_CASES = [  # (N, T, U, mask, dropout, go_backwards, zero_output)
    (5, 4, 3, False, None, False, False),
    (3, 3, 5, True, "shared", True, True),
    (4, 3, 3, True, "per_gate", False, False),
    (7, 2, 37, True, None, True, False),      # 259 threads: 2 blocks
]


def _emu_steps():
    from gkeras.backend.gpu import rnn as gpu_rnn
    rt = _emu().EmuRuntime()
    return gpu_rnn.KernelSteps(rt), rt


def _check_launches(rt):
    for filename, name, grid, block, _ in rt.launches:
        _SEEN.add((filename, name))
    assert rt.launches


def _close(a, b):
    np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("N,T,U,use_mask,drop,gb,zo", EMU_CASES)
@pytest.mark.parametrize("act,ract", [("tanh", "sigmoid"),
                                      ("relu", "hard_sigmoid")])
def test_emulated_lstm_kernels_match_cpu(N, T, U, use_mask, drop, gb, zo,
                                         act, ract):
    steps, rt = _emu_steps()
    rng = np.random.default_rng(20)
    f32 = np.float32
    xw, h0, c0, R = _problem(rng, N, T, U, 4, dtype=f32, scale=1.0)
    mask = _mask(rng, N, T) if use_mask else None
    dm = _dropout(rng, drop, 4, N, U, f32)
    kw = dict(mask=mask, recurrent_dropout_mask=dm, go_backwards=gb,
              activation=act, recurrent_activation=ract,
              zero_output_for_mask=zo)
    ref = cpu_rnn.lstm_forward(xw, h0, c0, R, **kw)
    got = cpu_rnn._lstm_forward(steps, xw, h0, c0, R, mask, dm, gb, act,
                                ract, zo)
    for a, b in zip(got[:3], ref[:3]):
        _close(a, b)
    W = rng.standard_normal((N, T, U)).astype(f32)
    wh, wc = (rng.standard_normal((N, U)).astype(f32) for _ in range(2))
    gref = cpu_rnn.lstm_backward(W, wh, wc, ref[3])
    ggot = cpu_rnn._lstm_backward(steps, W, wh, wc, got[3])
    for a, b in zip(ggot, gref):
        _close(a, b)
    _check_launches(rt)
    grid, block = rt.launches[0][2], rt.launches[0][3]
    from gkeras.backend.gpu.rnn import rnn_launch_config
    assert (grid, block) == tuple(map(tuple, rnn_launch_config(N, U)))


@pytest.mark.parametrize("N,T,U,use_mask,drop,gb,zo", EMU_CASES)
@pytest.mark.parametrize("reset_after,bias", [(True, True), (True, False),
                                              (False, False)])
def test_emulated_gru_kernels_match_cpu(N, T, U, use_mask, drop, gb, zo,
                                        reset_after, bias):
    steps, rt = _emu_steps()
    rng = np.random.default_rng(21)
    f32 = np.float32
    xw, h0, _, R = _problem(rng, N, T, U, 3, dtype=f32, scale=1.0)
    rb = (rng.standard_normal(3 * U) * 0.3).astype(f32) if bias else None
    mask = _mask(rng, N, T) if use_mask else None
    dm = _dropout(rng, drop, 3, N, U, f32)
    act, ract = ("tanh", "sigmoid") if reset_after else ("relu",
                                                          "hard_sigmoid")
    ref = cpu_rnn.gru_forward(xw, h0, R, rb, mask=mask,
                              recurrent_dropout_mask=dm, go_backwards=gb,
                              activation=act, recurrent_activation=ract,
                              reset_after=reset_after,
                              zero_output_for_mask=zo)
    got = cpu_rnn._gru_forward(steps, xw, h0, R, rb, mask, dm, gb, act,
                               ract, reset_after, zo)
    for a, b in zip(got[:2], ref[:2]):
        _close(a, b)
    W = rng.standard_normal((N, T, U)).astype(f32)
    wh = rng.standard_normal((N, U)).astype(f32)
    gref = cpu_rnn.gru_backward(W, wh, ref[2])
    ggot = cpu_rnn._gru_backward(steps, W, wh, got[2])
    for a, b in zip(ggot, gref):
        if b is None:
            assert a is None
        else:
            _close(a, b)
    _check_launches(rt)


def test_every_kernel_entry_point_was_emulated():
    """Runs last in this file: every extern "C" entry point of lstm.cu and
    gru.cu went through the emulator above."""
    import re
    from gkeras.backend.kernel_source import read_kernel
    declared = {(f, m) for f in ("lstm.cu", "gru.cu")
                for m in re.findall(r'extern "C" __global__ void (\w+)',
                                    read_kernel(f))
                # the _f16 / _bf16 twins: tests/test_half_kernels_emulated.py
                if not m.endswith(("_f16", "_bf16"))}
    assert declared == _EMU_ENTRIES
    if not _SEEN:
        pytest.skip("run with the emulator tests above")
    assert _SEEN == _EMU_ENTRIES


def test_launch_config():
    from gkeras.backend.gpu.rnn import rnn_launch_config
    assert rnn_launch_config(5, 3) == ((1,), (256,))
    assert rnn_launch_config(7, 37) == ((2,), (256,))
    assert rnn_launch_config(1, 256) == ((1,), (256,))
    with pytest.raises(ValueError, match="batch"):
        rnn_launch_config(2 ** 20, 2 ** 12)

"""float16 / bfloat16 kernels (`_f16` / `_bf16` entry points), run whole on
the CPU through the CUDA emulator against the float32 NumPy path.

Each GPU wrapper of `backend.gpu` is called with float16 or
`ml_dtypes.bfloat16` arrays and an `EmuRuntime` (same launches, grids and
argument tuples as on the GPU). The reference is `backend.cpu` in float32
on the same inputs rounded to the 16-bit type (so only the kernels' own
arithmetic is measured): float32 accumulation and one rounding of each
output keep the error within a few units in the last place of the format.

Tolerances (relative to the output's largest magnitude, and per element):
float16 1e-2, bfloat16 5e-2 (`gpu.precision.tolerance`). Max pooling is
exact in every type (a max of rounded values is one of them).

`test_backend_check_half_cases_pass_through_the_emulator` fails when a
`_f16` / `_bf16` entry point of any `kernels/*.cu` file is not launched
(it runs `python -m gkeras.backend.check`'s 16-bit cases, which must reach
every twin, with the GPU wrappers bound to the emulator).
"""

import numpy as np
import pytest

from cuda_emu import emu

import gkeras.backend.cpu as cpu
import gkeras.backend.cpu.attention as cpu_attn
import gkeras.backend.cpu.layernorm as cpu_ln
from gkeras.backend.gpu import attention as gattn
from gkeras.backend.gpu import batchnorm as gbn
from gkeras.backend.gpu import conv as gconv
from gkeras.backend.gpu import layernorm as gln
from gkeras.backend.gpu import pool as gpool
from gkeras.backend.gpu import precision
from test_conv_pool_bn_primitives import CONV_CASES, POOL_CASES

ml_dtypes = pytest.importorskip(
    "ml_dtypes", reason="ml_dtypes gives NumPy its bfloat16 (test extra)")

pytestmark = pytest.mark.skipif(not emu.have_compiler(),
                                reason="no C++ compiler for the emulator")

F16, BF16 = np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16)
DTYPES = [pytest.param(F16, id="f16"), pytest.param(BF16, id="bf16")]
# Kernel files whose every entry point has _f16 / _bf16 twins.
# Kernel files whose float32 entry points all have _f16 / _bf16 twins, and
# (file, float32 name) pairs that have none because they read only float32
# statistics.
HALF_FILES = ("conv.cu", "pool.cu", "batchnorm.cu", "layernorm.cu",
              "softmax.cu", "attention.cu", "optimizers.cu", "scatter.cu",
              "lstm.cu", "gru.cu")
NO_TWIN = {("batchnorm.cu", "bn_finalize_stats_f32"),
           ("batchnorm.cu", "bn_finalize_grads_f32"),
           ("optimizers.cu", "mt_clip_scale_f32"),
           ("optimizers.cu", "mt_clip_tensor_scale_f32"),
           ("scatter.cu", "scatter_add_rows_f64")}


def _rand(r, shape, dt, scale=1.0):
    """Random normals rounded to `dt`, and the same values in float32."""
    h = (r.standard_normal(shape) * scale).astype(np.float32).astype(dt)
    return h, h.astype(np.float32)


def _close(got, want, dt):
    assert got.dtype == dt, f"result dtype {got.dtype}, expected {dt}"
    tol = precision.tolerance(dt)
    want = np.asarray(want, np.float32)
    np.testing.assert_allclose(
        got.astype(np.float32), want, rtol=tol,
        atol=tol * max(1.0, float(np.abs(want).max(initial=0))))


# ------------------------------------------------------------------ families
def run_conv(rt, dt, case, seed=0):
    xs, ks, st, pad, dil, g, f = case
    r = np.random.default_rng(seed)
    x, x32 = _rand(r, xs, dt)
    w, w32 = _rand(r, (*ks, xs[-1] // g, f), dt)
    y = gconv._conv_forward(rt, x, w, st, pad, dil, g)
    _close(y, cpu.conv_forward(x32, w32, st, pad, dil, g), dt)
    dy, dy32 = _rand(r, y.shape, dt)
    _close(gconv._conv_backward_input(rt, dy, w, xs, st, pad, dil, g),
           cpu.conv_backward_input(dy32, w32, xs, st, pad, dil, g), dt)
    _close(gconv._conv_backward_kernel(rt, dy, x, w.shape, st, pad, dil, g),
           cpu.conv_backward_kernel(dy32, x32, w.shape, st, pad, dil, g), dt)


def run_pool(rt, dt, case, seed=1):
    xs, p, s, pad = case
    r = np.random.default_rng(seed)
    x, x32 = _rand(r, xs, dt)
    y, arg = gpool._max_pool_forward(rt, x, p, s, pad)
    cy, carg = cpu.max_pool_forward(x32, p, s, pad)
    assert y.dtype == dt
    np.testing.assert_array_equal(y.astype(np.float32), cy)
    np.testing.assert_array_equal(arg, carg)
    dy, dy32 = _rand(r, y.shape, dt)
    _close(gpool._max_pool_backward(rt, dy, x, arg, p, s, pad),
           cpu.max_pool_backward(dy32, x32, carg, p, s, pad), dt)
    _close(gpool._avg_pool_forward(rt, x, p, s, pad),
           cpu.avg_pool_forward(x32, p, s, pad), dt)
    _close(gpool._avg_pool_backward(rt, dy, xs, p, s, pad),
           cpu.avg_pool_backward(dy32, xs, p, s, pad), dt)


def run_batchnorm(rt, dt, m, c, affine, seed=2):
    r = np.random.default_rng(seed)
    x = (r.standard_normal((m, c)) * 2 + 3).astype(np.float32).astype(dt)
    x32 = x.astype(np.float32)
    gamma = r.standard_normal(c).astype(np.float32) if affine else None
    beta = r.standard_normal(c).astype(np.float32) if affine else None
    y, mean, var, inv_std = gbn._batchnorm_forward_train(rt, x, gamma, beta,
                                                         1e-3)
    want = cpu.batchnorm_forward_train(x32, gamma, beta, 1e-3)
    _close(y, want[0], dt)
    for a, b in zip((mean, var, inv_std), want[1:]):
        assert a.dtype == np.float32          # statistics stay float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    dy, dy32 = _rand(r, (m, c), dt)
    dx, dgamma, dbeta = gbn._batchnorm_backward(rt, dy, x, gamma, mean,
                                                inv_std)
    wdx, wdg, wdb = cpu.batchnorm_backward(dy32, x32, gamma, want[1],
                                           want[3])
    _close(dx, wdx, dt)
    assert dbeta.dtype == np.float32
    np.testing.assert_allclose(dbeta, wdb, rtol=1e-4, atol=1e-4)
    if affine:
        assert dgamma.dtype == np.float32
        np.testing.assert_allclose(dgamma, wdg, rtol=1e-4, atol=1e-4)


def run_layernorm(rt, dt, rms, affine, seed=3):
    r = np.random.default_rng(seed)
    m, c = 5, 133                       # C > LN_THREADS: strided rows
    x, x32 = _rand(r, (m, c), dt, 2.0)
    gamma = r.standard_normal(c).astype(np.float32) if affine else None
    beta = r.standard_normal(c).astype(np.float32) if affine else None
    y, mean, inv_std = gln._layernorm_forward(rt, x, gamma, beta, 1e-3, rms)
    wy, wmean, winv = cpu_ln.layernorm_forward(x32, gamma, beta, 1e-3, rms)
    _close(y, wy, dt)
    assert mean.dtype == inv_std.dtype == np.float32
    np.testing.assert_allclose(mean, wmean, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(inv_std, winv, rtol=1e-4, atol=1e-5)
    dy, dy32 = _rand(r, (m, c), dt)
    dx, dgamma, dbeta = gln._layernorm_backward(rt, dy, x, gamma, mean,
                                                inv_std, rms)
    wdx, wdg, wdb = cpu_ln.layernorm_backward(dy32, x32, gamma, wmean, winv,
                                              rms)
    _close(dx, wdx, dt)
    assert dbeta.dtype == np.float32
    np.testing.assert_allclose(dbeta, wdb, rtol=1e-4, atol=1e-4)
    if affine:
        np.testing.assert_allclose(dgamma, wdg, rtol=1e-4, atol=1e-4)


def run_softmax(rt, dt, seed=4):
    r = np.random.default_rng(seed)
    x0, x032 = _rand(r, (2, 3, 133), dt, 4.0)
    # Rows longer than the block (strided), and a middle axis moved last.
    for x, x32, axis in ((x0, x032, -1), (x0[..., :7], x032[..., :7], 1)):
        y = gattn._softmax_forward(rt, x, axis)
        wy = cpu_attn.softmax_forward(x32, axis)
        _close(y, wy, dt)
        dy, dy32 = _rand(r, x.shape, dt)
        _close(gattn._softmax_backward(rt, dy, y, axis),
               cpu_attn.softmax_backward(dy32, y.astype(np.float32), axis),
               dt)


OPT_CONFIGS = [
    ("SGD", dict(learning_rate=0.05, momentum=0.9, nesterov=True)),
    ("Adam", dict(learning_rate=0.01, amsgrad=True)),
    ("AdamW", dict(learning_rate=0.02, weight_decay=0.1,
                   global_clipnorm=0.5)),
    ("RMSprop", dict(learning_rate=0.01, centered=True, momentum=0.5,
                     clipnorm=0.3)),
    ("Adagrad", dict(learning_rate=0.1)),
    ("Adamax", dict(learning_rate=0.02)),
    ("Lion", dict(learning_rate=0.01)),
    ("Nadam", dict(learning_rate=0.01)),
]


def run_optimizer(rt, monkeypatch, dt, cls_name, kwargs, steps=2,
                  shapes=((7,), (13, 5), (4099,))):
    """The fused update with 16-bit gradients (float32 variables) against
    the NumPy optimizer given the same gradient values in float32: the
    kernels read a 16-bit gradient exactly, so the variables and slots must
    match bit for bit (up to float32 rounding with clipping, whose norm
    is summed in another order)."""
    import gkeras
    from gkeras import optimizers
    from gkeras.optimizers import _fused
    def run(fused):
        r = np.random.default_rng(7)
        variables = [gkeras.Variable(r.standard_normal(s).astype(
            np.float32), name=f"w{i}") for i, s in enumerate(shapes)]
        opt = getattr(optimizers, cls_name)(**kwargs)
        gr = np.random.default_rng(11)
        with monkeypatch.context() as mp:
            if fused:
                mp.setattr(_fused, "runtime_for", lambda a: rt)
            for _ in range(steps):
                g16 = [(gr.standard_normal(s) * 3).astype(np.float32).astype(
                    dt) for s in shapes]
                opt.apply(g16 if fused else [g.astype(np.float32)
                                             for g in g16], variables)
        return opt, variables

    ref_opt, ref_vars = run(False)
    opt, got_vars = run(True)
    clip = "clipnorm" in kwargs or "global_clipnorm" in kwargs
    tol = dict(rtol=2e-5, atol=1e-6) if clip else dict(rtol=0, atol=0)
    for r, g in zip(ref_vars + ref_opt.variables, got_vars + opt.variables):
        if g.numpy().dtype.kind == "f":
            assert g.numpy().dtype == np.float32        # master weights
        np.testing.assert_allclose(g.numpy(), r.numpy(), **tol)


def run_scatter(rt, dt, seed=6):
    """Row scatter-add (Embedding / `take` gradients) and a general index:
    the kernels sum each segment in float32 in numpy.add.at's order and
    round once, so a float32 numpy.add.at rounded at the end is the exact
    reference."""
    from gkeras.backend.gpu import scatter
    r = np.random.default_rng(seed)
    for shape, index, vshape in (
            ((37, 5), r.integers(-37, 37, (6, 11)), (6, 11, 5)),
            ((4, 6, 3), (r.integers(0, 4, 9), r.integers(0, 6, 9)), (9, 3))):
        dst, dst32 = _rand(r, shape, dt)
        vals, vals32 = _rand(r, vshape, dt)
        want = dst32.copy()
        np.add.at(want, index, vals32)
        scatter._scatter_add(rt, dst, index, vals)
        assert dst.dtype == dt
        np.testing.assert_array_equal(dst.view(np.uint16),
                                      want.astype(dt).view(np.uint16))


def run_rnn(rt, dt, kind, seed=8, reset_after=True, dropout=False):
    """LSTM / GRU on the 16-bit step kernels (bfloat16 on an emulated
    sm_75 takes the float32 kernels and rounds the results)."""
    from gkeras.backend.gpu import rnn as grnn
    r = np.random.default_rng(seed)
    N, T, U = 3, 5, 7
    g = 4 if kind == "lstm" else 3
    xw, xw32 = _rand(r, (N, T, g * U), dt)
    h0, h032 = _rand(r, (N, U), dt, 0.5)
    c0, c032 = _rand(r, (N, U), dt, 0.5)
    R, R32 = _rand(r, (U, g * U), dt, 1 / np.sqrt(U))
    mask = r.random((N, T)) > 0.3
    dhs, dhs32 = _rand(r, (N, T, U), dt)
    dh, dh32 = _rand(r, (N, U), dt)
    dm = dm32 = None
    if dropout:
        dm32 = (r.random((N, U)) > 0.3).astype(np.float32) / np.float32(0.7)
        dm32 = dm32.astype(dt).astype(np.float32)
        dm = dm32.astype(dt)
    if kind == "lstm":
        got = grnn._lstm_forward(rt, xw, h0, c0, R, mask=mask,
                                 recurrent_dropout_mask=dm,
                                 go_backwards=True)
        want = cpu.lstm_forward(xw32, h032, c032, R32, mask=mask,
                                recurrent_dropout_mask=dm32,
                                go_backwards=True)
        gb = grnn._lstm_backward(rt, dhs, dh, dh, got[3])
        wb = cpu.lstm_backward(dhs32, dh32, dh32, want[3])
        n_out = 3
    else:
        rb, rb32 = _rand(r, (3 * U,), dt)
        if not reset_after:
            rb = rb32 = None
        got = grnn._gru_forward(rt, xw, h0, R, rb, mask=mask,
                                recurrent_dropout_mask=dm,
                                reset_after=reset_after)
        want = cpu.gru_forward(xw32, h032, R32, rb32, mask=mask,
                               recurrent_dropout_mask=dm32,
                               reset_after=reset_after)
        gb = grnn._gru_backward(rt, dhs, dh, got[2])
        wb = cpu.gru_backward(dhs32, dh32, want[2])
        n_out = 2
    for a, b in zip(got[:n_out] + tuple(gb), want[:n_out] + tuple(wb)):
        if b is None:            # no recurrent bias with reset_after=False
            assert a is None
        else:
            _close(a, b, dt)


ATTN_CASES = [dict(is_causal=True),
              dict(mask=True, dropout_rate=0.3, seed=7),
              dict(mask=True, fully_masked="zero", is_causal=True)]


def run_attention(rt, dt, impl, case, seed=5):
    r = np.random.default_rng(seed)
    B, H, Tq, Tk, D, Dv = 1, 2, 19, 11, 5, 3
    case = dict(case)
    if case.get("is_causal") and not case.get("mask"):
        Tk = Tq
    q, q32 = _rand(r, (B, H, Tq, D), dt)
    k, k32 = _rand(r, (B, H, Tk, D), dt)
    v, v32 = _rand(r, (B, H, Tk, Dv), dt)
    if case.get("mask"):
        mask = r.random((B, 1, Tq, Tk)) > 0.3
        mask[0, 0, 2] = False                       # a fully masked row
        case["mask"] = mask
    out, cache = gattn._attention_forward(rt, q, k, v, implementation=impl,
                                          **case)
    ref, rcache = cpu_attn.attention_forward(q32, k32, v32, **case)
    _close(out, ref, dt)
    dout, dout32 = _rand(r, out.shape, dt)
    grads = gattn._attention_backward(rt, dout, cache)
    rgrads = cpu_attn.attention_backward(dout32, rcache)
    for g, w in zip(grads, rgrads):
        _close(g, w, dt)


# -------------------------------------------------------------------- tests
@pytest.fixture
def rt():
    return emu.EmuRuntime()


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("case", [CONV_CASES[i] for i in (1, 4, 7, 11)],
                         ids=["1d_group", "2d_dil_group", "depthwise", "3d"])
def test_conv(rt, dt, case):
    run_conv(rt, dt, case)
    names = {n for _, n, *_ in rt.launches}
    sfx = precision.suffix(dt)
    assert names == {f"im2col_{sfx}", f"col2im_{sfx}"}


@pytest.mark.parametrize("dt", DTYPES)
def test_conv_chunked_kernel_gradient_sums_in_float32(rt, dt, monkeypatch):
    """Batch chunks (one sample each) of the kernel gradient are added in
    float32 and rounded once."""
    monkeypatch.setattr(gconv, "MAX_COL_BYTES", 1)
    run_conv(rt, dt, ((3, 6, 5, 4), (3, 3), (1, 1), ((1, 1), (1, 1)),
                      (1, 1), 1, 5), seed=3)
    assert sum(1 for L in rt.launches if L[1].startswith("im2col")) == 6


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("case", POOL_CASES, ids=range(len(POOL_CASES)))
def test_pool(rt, dt, case):
    run_pool(rt, dt, case)
    assert all(n.endswith("_" + precision.suffix(dt))
               for _, n, *_ in rt.launches)


@pytest.mark.parametrize("dt", DTYPES)
def test_float64_and_float32_still_take_the_f32_kernels(rt, dt):
    x = np.random.default_rng(4).standard_normal((1, 5, 4, 2))
    y, _ = gpool._max_pool_forward(rt, x, (2, 2), (1, 1), ((0, 0), (0, 0)))
    assert y.dtype == np.float64
    assert rt.launches[-1][1] == "maxpool_fwd_f32"


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("m,c,affine", [(200, 37, True), (7, 3, False)])
def test_batchnorm(rt, dt, m, c, affine):
    run_batchnorm(rt, dt, m, c, affine)
    sfx = precision.suffix(dt)
    assert {n for _, n, *_ in rt.launches} == {
        f"bn_partial_stats_{sfx}", "bn_finalize_stats_f32",
        f"bn_forward_apply_{sfx}", f"bn_partial_grads_{sfx}",
        "bn_finalize_grads_f32", f"bn_backward_apply_{sfx}"}


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("rms,affine", [(False, True), (True, False)])
def test_layernorm(rt, dt, rms, affine):
    run_layernorm(rt, dt, rms, affine)
    sfx = precision.suffix(dt)
    assert {n for _, n, *_ in rt.launches} == {
        f"layernorm_fwd_{sfx}", f"layernorm_bwd_dx_{sfx}",
        f"layernorm_bwd_params_{sfx}"}


@pytest.mark.parametrize("dt", DTYPES)
def test_softmax(rt, dt):
    run_softmax(rt, dt)
    sfx = precision.suffix(dt)
    assert {n for _, n, *_ in rt.launches} == {f"softmax_fwd_{sfx}",
                                               f"softmax_bwd_{sfx}"}


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("case", ATTN_CASES,
                         ids=["causal", "mask_dropout", "zero_fm_causal"])
@pytest.mark.parametrize("impl", ["flash", "materialized"])
def test_attention(dt, impl, case):
    rt = emu.EmuRuntime(order="reverse")
    run_attention(rt, dt, impl, case)
    sfx = precision.suffix(dt)
    names = {n for _, n, *_ in rt.launches}
    if impl == "flash":
        assert names == {f"flash_attn_fwd_{sfx}",
                         f"flash_attn_bwd_preprocess_{sfx}",
                         f"flash_attn_bwd_dq_{sfx}",
                         f"flash_attn_bwd_dkdv_{sfx}"}
    else:
        assert names == {f"attn_softmax_fwd_{sfx}", f"attn_softmax_bwd_{sfx}"}


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("cls_name,kwargs", OPT_CONFIGS,
                         ids=[c for c, _ in OPT_CONFIGS])
def test_fused_optimizers_take_16bit_gradients(rt, monkeypatch, dt, cls_name,
                                               kwargs):
    run_optimizer(rt, monkeypatch, dt, cls_name, kwargs)
    sfx = precision.suffix(dt)
    names = {n for _, n, *_ in rt.launches}
    assert all(n.endswith("_" + sfx) for n in names
               if not n.startswith("mt_clip")), names
    if "clipnorm" in kwargs or "global_clipnorm" in kwargs:
        assert f"mt_sumsq_{sfx}" in names


def test_fused_optimizer_rejects_16bit_variables(rt):
    from gkeras.backend.gpu import optimizers as gopt
    w = np.zeros(5, F16)
    with pytest.raises(TypeError, match="float32 \\(master weights\\).*"
                                        "float16"):
        gopt.multi_tensor_update(rt, "sgd", gopt.MultiTensorPlan(),
                                 [np.zeros(5, F16)], [[w]], [False],
                                 (np.float32(0.1), np.float32(0.0),
                                  np.int32(0)))


@pytest.mark.parametrize("dt", DTYPES)
def test_scatter_add(rt, dt):
    run_scatter(rt, dt)
    assert {n for _, n, *_ in rt.launches} == {
        "scatter_add_rows_" + precision.suffix(dt)}


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("kind,reset_after,dropout", [
    ("lstm", True, False), ("lstm", True, True), ("gru", True, True),
    ("gru", False, False)])
def test_recurrent(rt, dt, kind, reset_after, dropout):
    run_rnn(rt, dt, kind, reset_after=reset_after, dropout=dropout)
    sfx = "_" + precision.suffix(dt)
    names = {n for _, n, *_ in rt.launches}
    assert names and all(n.endswith(sfx) for n in names), names


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_recurrent_bfloat16_before_sm80_runs_in_float32(kind):
    """No cuBLAS bfloat16 GEMM before sm_80: the float32 kernels run and
    the results are rounded to bfloat16."""
    rt = emu.EmuRuntime(compute_capability=75)
    run_rnn(rt, BF16, kind)
    names = {n for _, n, *_ in rt.launches}
    assert names and not any(n.endswith(("_f16", "_bf16")) for n in names)


def test_kernel_dtype_rules():
    assert precision.kernel_dtype(np, F16) == F16
    assert precision.kernel_dtype(np, BF16) == BF16
    assert precision.kernel_dtype(np, np.float64) == np.float32
    assert precision.entry("im2col", BF16) == "im2col_bf16"
    with pytest.raises(TypeError, match="float32, float16 or bfloat16.*"
                                        "int8"):
        precision.suffix(np.int8)


def test_half_gemm_accumulates_in_float32():
    """2048 products of 1.0 * (1 + 2**-10): a float16 accumulator stalls at
    2048 (its ulp there is 2), float32 accumulation gives 2050 exactly."""
    rt = emu.EmuRuntime()
    a = np.ones((1, 2048), F16)
    b = np.full((2048, 1), 1 + 2 ** -10, F16)
    assert float(precision.matmul(rt, a, b)[0, 0]) == 2050.0
    assert precision.matmul(rt, a, b).dtype == F16


def test_every_float32_entry_point_has_its_16bit_twins():
    """Structure: every float32 entry point (suffixed `_f32` or not) of the
    kernel files has `_f16` and `_bf16` twins, except those reading only
    float32 statistics (NO_TWIN). That each twin runs in the emulator is
    checked by `test_backend_check_half_cases_pass_through_the_emulator`
    (a twin it does not launch fails it) and family by family above."""
    from gkeras.backend.kernel_source import kernels_dir, read_kernel
    import os
    files = sorted(f for f in os.listdir(kernels_dir()) if f.endswith(".cu"))
    assert set(HALF_FILES) <= set(files)
    for f in files:
        names = [n for n, _ in emu.entry_points(read_kernel(f))]
        half = [n for n in names if n.endswith(("_f16", "_bf16"))]
        if f not in HALF_FILES:
            assert not half, f
            continue
        f32 = [n for n in names if n not in half and (f, n) not in NO_TWIN]
        base = [n[:-4] if n.endswith("_f32") else n for n in f32]
        assert f32 and sorted(half) == sorted(
            [b + s for b in base for s in ("_f16", "_bf16")]), f


@pytest.mark.parametrize("dt", DTYPES)
def test_backend_check_half_cases_pass_through_the_emulator(rt, monkeypatch,
                                                            dt):
    """`python -m gkeras.backend.check` runs its "float16 kernels" /
    "bfloat16 kernels" cases on the GPU; here the same case functions run
    with the GPU wrappers bound to the emulator and must pass the check's
    own comparison, so the GPU verdict does not hinge on untested code."""
    import functools
    import types

    from gkeras.backend import check
    from gkeras.backend.gpu import rnn as grnn
    from gkeras.backend.gpu import scatter
    from gkeras.optimizers import _fused

    name = {"float16": "float16 kernels",
            "bfloat16": "bfloat16 kernels"}[dt.name]
    fn, tol = next((f, t) for n, f, t in check.CASES if n == name)
    p = functools.partial
    gpu = types.SimpleNamespace(
        __name__="gkeras.backend.gpu",
        conv_forward=p(gconv._conv_forward, rt),
        conv_backward_input=p(gconv._conv_backward_input, rt),
        conv_backward_kernel=p(gconv._conv_backward_kernel, rt),
        max_pool_forward=p(gpool._max_pool_forward, rt),
        max_pool_backward=p(gpool._max_pool_backward, rt),
        avg_pool_forward=p(gpool._avg_pool_forward, rt),
        avg_pool_backward=p(gpool._avg_pool_backward, rt),
        batchnorm_forward_train=p(gbn._batchnorm_forward_train, rt),
        batchnorm_backward=p(gbn._batchnorm_backward, rt),
        layernorm_forward=p(gln._layernorm_forward, rt),
        layernorm_backward=p(gln._layernorm_backward, rt),
        attention_forward=p(gattn._attention_forward, rt),
        attention_backward=p(gattn._attention_backward, rt),
        softmax_forward=p(gattn._softmax_forward, rt),
        softmax_backward=p(gattn._softmax_backward, rt),
        scatter_add=p(scatter._scatter_add, rt),
        lstm_forward=p(grnn._lstm_forward, rt),
        lstm_backward=p(grnn._lstm_backward, rt),
        gru_forward=p(grnn._gru_forward, rt),
        gru_backward=p(grnn._gru_backward, rt))
    want = fn(cpu, lambda a: a, np.random.default_rng(0))
    monkeypatch.setattr(_fused, "runtime_for", lambda a: rt)
    got = fn(gpu, lambda a: a, np.random.default_rng(0))
    err, worst = check._compare(got, want, tol)
    assert err is None, err
    # The 16-bit roundings show (the comparison is not vacuous).
    assert 1e-5 < worst < tol
    launched = {n for _, n, *_ in rt.launches}
    sfx = "_" + precision.suffix(dt)
    assert all(n.endswith(sfx) for n in launched
               if not n.startswith(("bn_finalize", "mt_clip"))), launched
    # The check reports an entry point it never launched as NOT EXERCISED
    # (a failure): its 16-bit case must reach every twin of this type.
    for f, names in check.entry_points().items():
        for n in names:
            if n.endswith(sfx):
                assert n in launched, f"{f}:{n} not exercised by the check"


def test_gpu_benchmark_script_exits_cleanly_without_a_gpu():
    import os
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        import cupy  # noqa: F401
        pytest.skip("CuPy is installed: the script would time the GPU")
    except ImportError:
        pass
    r = subprocess.run([sys.executable, os.path.join(
        root, "benchmarks", "half_kernels_gpu.py"), "--reps", "1"],
        capture_output=True, text=True, cwd=root, timeout=120,
        env=dict(os.environ, PYTHONPATH=root))
    assert r.returncode == 0, r.stderr
    assert "needs CuPy and a CUDA GPU" in r.stdout

"""Attention, softmax and layer-normalization primitives.

Three layers of checks (DESIGN.md, "Verifying kernels without a GPU"):

1. `backend.cpu` against an independent float64 NumPy reference written
   here (materialised softmax attention with Keras's mask/causal rules;
   Keras 3 LayerNormalization formulas);
2. float64 finite-difference gradient checks of every backward;
3. every entry point of kernels/attention.cu, softmax.cu and layernorm.cu
   run by the CUDA emulator through the GPU wrappers themselves (same grids,
   same arguments), compared with `backend.cpu`.
"""

import inspect
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))

from gkeras.backend.cpu import attention as cpu_attn  # noqa: E402
from gkeras.backend.cpu import layernorm as cpu_ln  # noqa: E402
from gkeras.backend.gpu import attention as gpu_attn  # noqa: E402
from gkeras.backend.gpu import layernorm as gpu_ln  # noqa: E402

try:
    from cuda_emu import emu
    HAVE_EMU = emu.have_compiler()
except Exception:  # pragma: no cover - harness missing
    emu, HAVE_EMU = None, False

needs_emu = pytest.mark.skipif(not HAVE_EMU,
                               reason="CUDA emulator (g++) not available")

# Keras's masked-logit constant in ops.dot_product_attention (float32):
# _get_large_negative -> 3.38953e38 * -0.7.
KERAS_LARGE_NEGATIVE = -0.7 * 3.38953e38


# ---------------------------------------------------------------- references

def ref_attention(q, k, v, mask=None, scale=None, is_causal=False,
                  keep=None, rate=0.0, fully_masked="uniform"):
    """Float64 materialised attention, Keras semantics, written plainly."""
    q, k, v = (np.asarray(a, np.float64) for a in (q, k, v))
    B, H, Tq, D = q.shape
    Tk = k.shape[2]
    if scale is None:
        scale = 1.0 / np.sqrt(D)
    logits = np.einsum("bhid,bhjd->bhij", q, k) * scale
    combined = np.ones((B, H, Tq, Tk), bool)
    if mask is not None:
        combined &= np.broadcast_to(mask, combined.shape)
    if is_causal:
        combined &= np.tril(np.ones((Tq, Tk), bool))[None, None]
    logits = np.where(combined, logits, KERAS_LARGE_NEGATIVE)
    e = np.exp(logits - logits.max(-1, keepdims=True))
    p = e / e.sum(-1, keepdims=True)
    if fully_masked == "zero":
        p = p * combined
    pd = p
    if keep is not None:
        pd = p * keep / (1.0 - rate)
    return np.einsum("bhij,bhjd->bhid", pd, v), p


def ref_layernorm(x, gamma, beta, eps, rms):
    x = np.asarray(x, np.float64)
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    if rms:  # Keras 3: x * rsqrt(var(x) + eps) * gamma
        y = x / np.sqrt(var + eps)
    else:
        y = (x - mean) / np.sqrt(var + eps)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y


def _mix32_py(x):
    x &= 0xFFFFFFFF
    x ^= x >> 16
    x = (x * 0x7FEB352D) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x846CA68B) & 0xFFFFFFFF
    x ^= x >> 16
    return x


def keep_py(seed, H, b, h, i, j, rate):
    """The dropout hash, re-derived with Python ints."""
    k0 = _mix32_py((seed & 0xFFFFFFFF) ^ 0x9E3779B9)
    k1 = _mix32_py(k0 ^ (b * H + h))
    k2 = _mix32_py(k1 ^ i)
    r = _mix32_py(k2 ^ _mix32_py(j ^ 0x632BE5AB))
    return (r >> 8) >= min(1 << 24, int(round(rate * (1 << 24))))


def numgrad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        idx = it.multi_index
        old = x[idx]
        x[idx] = old + eps
        fp = f()
        x[idx] = old - eps
        fm = f()
        x[idx] = old
        g[idx] = (fp - fm) / (2 * eps)
    return g


def qkv(rng, B, H, Tq, Tk, D, Dv, dtype=np.float32):
    return (rng.standard_normal((B, H, Tq, D)).astype(dtype),
            rng.standard_normal((B, H, Tk, D)).astype(dtype),
            rng.standard_normal((B, H, Tk, Dv)).astype(dtype))


def random_mask(rng, shape, p=0.3, full_row=True):
    m = rng.random(shape) > p
    if full_row:
        m[(0,) * (len(shape) - 2) + (1,)] = False  # one fully masked row
    return m


# ------------------------------------------------------------- contract

def test_cpu_and_gpu_export_same_names_and_signatures():
    for c, g in ((cpu_attn, gpu_attn), (cpu_ln, gpu_ln)):
        assert sorted(c.__all__) == sorted(g.__all__)
        for name in c.__all__:
            assert (inspect.signature(getattr(c, name))
                    == inspect.signature(getattr(g, name))), name
            assert getattr(c, name).__doc__ and getattr(g, name).__doc__


# -------------------------------------------------- cpu vs the reference

CASES = [
    dict(),
    dict(is_causal=True),
    dict(mask="full"),
    dict(mask="keys"),
    dict(mask="full", is_causal=True),
    dict(mask="full", fully_masked="zero"),
    dict(scale=0.37),
]


def _make_mask(rng, kind, B, H, Tq, Tk):
    if kind == "full":
        return random_mask(rng, (B, H, Tq, Tk))
    if kind == "keys":  # a key-padding mask (B, 1, 1, Tk)
        m = np.ones((B, 1, 1, Tk), bool)
        m[0, ..., Tk - 3:] = False
        return m
    return None


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("sizes", [(2, 3, 7, 7, 4, 4), (1, 2, 5, 9, 3, 6),
                                   (2, 1, 9, 4, 8, 5)])
def test_cpu_attention_matches_reference(case, sizes):
    rng = np.random.default_rng(1)
    B, H, Tq, Tk, D, Dv = sizes
    q, k, v = qkv(rng, *sizes)
    case = dict(case)
    case["mask"] = _make_mask(rng, case.get("mask"), B, H, Tq, Tk)
    out, cache, probs = cpu_attn.attention_forward(q, k, v,
                                                   return_scores=True, **case)
    ref_out, ref_p = ref_attention(q, k, v, **case)
    assert out.dtype == np.float32 and out.shape == (B, H, Tq, Dv)
    np.testing.assert_allclose(out, ref_out, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(probs, ref_p, rtol=1e-5, atol=1e-6)


def test_causal_is_top_left_aligned_like_keras():
    # Keras: tril(ones((T, S))) -> row i attends keys 0..i, also for T != S.
    rng = np.random.default_rng(2)
    q, k, v = qkv(rng, 1, 1, 3, 5, 4, 4)
    _, _, p = cpu_attn.attention_forward(q, k, v, is_causal=True,
                                         return_scores=True)
    assert np.array_equal(p[0, 0] > 0, np.tri(3, 5, dtype=bool))
    q, k, v = qkv(rng, 1, 1, 5, 3, 4, 4)
    _, _, p = cpu_attn.attention_forward(q, k, v, is_causal=True,
                                         return_scores=True)
    assert np.array_equal(p[0, 0] > 0, np.tri(5, 3, dtype=bool))


def test_fully_masked_row_semantics():
    rng = np.random.default_rng(3)
    q, k, v = qkv(rng, 1, 1, 3, 4, 2, 2)
    mask = np.ones((1, 1, 3, 4), bool)
    mask[0, 0, 1] = False
    out, _, p = cpu_attn.attention_forward(q, k, v, mask=mask,
                                           return_scores=True)
    np.testing.assert_allclose(p[0, 0, 1], 0.25)          # uniform
    np.testing.assert_allclose(out[0, 0, 1], v[0, 0].mean(0), rtol=1e-6)
    out, _, p = cpu_attn.attention_forward(q, k, v, mask=mask,
                                           return_scores=True,
                                           fully_masked="zero")
    assert np.all(p[0, 0, 1] == 0) and np.all(out[0, 0, 1] == 0)


def test_dropout_hash_is_deterministic_and_matches_python_ints():
    shape = (2, 3, 5, 7)
    m = cpu_attn.dropout_keep_mask(12345, shape, 0.3)
    assert m.dtype == bool and m.shape == shape
    assert np.array_equal(m, cpu_attn.dropout_keep_mask(12345, shape, 0.3))
    assert not np.array_equal(m, cpu_attn.dropout_keep_mask(12346, shape, .3))
    for (b, h, i, j) in [(0, 0, 0, 0), (1, 2, 4, 6), (1, 0, 3, 2),
                         (0, 2, 1, 5)]:
        assert m[b, h, i, j] == keep_py(12345, 3, b, h, i, j, 0.3)
    big = cpu_attn.dropout_keep_mask(7, (4, 4, 64, 64), 0.25)
    assert abs(big.mean() - 0.75) < 0.01
    assert cpu_attn.dropout_keep_mask(7, shape, 0.0).all()


def test_cpu_attention_dropout_matches_reference():
    rng = np.random.default_rng(4)
    B, H, Tq, Tk, D, Dv = 2, 2, 6, 9, 4, 3
    q, k, v = qkv(rng, B, H, Tq, Tk, D, Dv)
    mask = random_mask(rng, (B, 1, Tq, Tk))
    keep = cpu_attn.dropout_keep_mask(99, (B, H, Tq, Tk), 0.4)
    out, _, p = cpu_attn.attention_forward(
        q, k, v, mask=mask, dropout_rate=0.4, seed=99, return_scores=True)
    ref_out, ref_p = ref_attention(q, k, v, mask=mask, keep=keep, rate=0.4)
    np.testing.assert_allclose(out, ref_out, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(p, ref_p, rtol=1e-5, atol=1e-6)


def test_softmax_matches_reference():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4, 5)) * 10
    for axis in (-1, 0, 1):
        e = np.exp(x - x.max(axis, keepdims=True))
        np.testing.assert_allclose(cpu_attn.softmax_forward(x, axis),
                                   e / e.sum(axis, keepdims=True), rtol=1e-12)


@pytest.mark.parametrize("rms", [False, True])
@pytest.mark.parametrize("affine", [True, False])
def test_cpu_layernorm_matches_reference(rms, affine):
    rng = np.random.default_rng(6)
    x = (rng.standard_normal((6, 13)) * 3 + 1).astype(np.float32)
    gamma = rng.standard_normal(13).astype(np.float32) if affine else None
    beta = rng.standard_normal(13).astype(np.float32) if affine else None
    y, mean, inv_std = cpu_ln.layernorm_forward(x, gamma, beta, 1e-3, rms)
    assert y.dtype == np.float32 and mean.shape == inv_std.shape == (6,)
    np.testing.assert_allclose(y, ref_layernorm(x, gamma, beta, 1e-3, rms),
                               rtol=1e-5, atol=1e-5)


# ------------------------------------------- float64 gradient checks

GRAD_CASES = [
    dict(),
    dict(is_causal=True),
    dict(mask="full"),
    dict(mask="full", is_causal=True, dropout_rate=0.3, seed=11),
    dict(mask="full", fully_masked="zero"),
    dict(dropout_rate=0.5, seed=3),
]


@pytest.mark.parametrize("case", GRAD_CASES)
def test_attention_gradients_float64(case):
    rng = np.random.default_rng(7)
    B, H, Tq, Tk, D, Dv = 1, 2, 5, 3, 3, 2
    q, k, v = qkv(rng, B, H, Tq, Tk, D, Dv, np.float64)
    case = dict(case)
    case["mask"] = _make_mask(rng, case.get("mask"), B, H, Tq, Tk)
    w = rng.standard_normal((B, H, Tq, Dv))

    def loss():
        return np.sum(cpu_attn.attention_forward(q, k, v, **case)[0] * w)

    out, cache = cpu_attn.attention_forward(q, k, v, **case)
    assert out.dtype == np.float64
    dq, dk, dv = cpu_attn.attention_backward(w, cache)
    for a, g in ((q, dq), (k, dk), (v, dv)):
        np.testing.assert_allclose(g, numgrad(loss, a), rtol=1e-5, atol=1e-7)


def test_masked_softmax_gradient_float64():
    rng = np.random.default_rng(8)
    s = rng.standard_normal((1, 2, 4, 5))
    mask = random_mask(rng, (1, 2, 4, 5))
    w = rng.standard_normal(s.shape)
    kw = dict(mask=mask, scale=0.7, is_causal=True, dropout_rate=0.25,
              seed=4)

    def loss():
        return np.sum(cpu_attn.masked_softmax_forward(s, **kw)[1] * w)

    p, _ = cpu_attn.masked_softmax_forward(s, **kw)
    ds = cpu_attn.masked_softmax_backward(w, p, **kw)
    np.testing.assert_allclose(ds, numgrad(loss, s), rtol=1e-5, atol=1e-7)


def test_softmax_gradient_float64():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((3, 5, 2))
    w = rng.standard_normal(x.shape)
    for axis in (-1, 1):
        y = cpu_attn.softmax_forward(x, axis)
        dx = cpu_attn.softmax_backward(w, y, axis)
        g = numgrad(lambda: np.sum(cpu_attn.softmax_forward(x, axis) * w), x)
        np.testing.assert_allclose(dx, g, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("rms", [False, True])
@pytest.mark.parametrize("affine", [True, False])
def test_layernorm_gradients_float64(rms, affine):
    rng = np.random.default_rng(10)
    x = rng.standard_normal((4, 7)) * 2 + 0.5
    gamma = rng.standard_normal(7) if affine else None
    beta = rng.standard_normal(7) if affine else None
    w = rng.standard_normal(x.shape)

    def loss():
        return np.sum(cpu_ln.layernorm_forward(x, gamma, beta, 1e-3, rms)[0]
                      * w)

    y, mean, inv_std = cpu_ln.layernorm_forward(x, gamma, beta, 1e-3, rms)
    dx, dgamma, dbeta = cpu_ln.layernorm_backward(w, x, gamma, mean, inv_std,
                                                  rms)
    np.testing.assert_allclose(dx, numgrad(loss, x), rtol=1e-5, atol=1e-7)
    if affine:
        np.testing.assert_allclose(dgamma, numgrad(loss, gamma), rtol=1e-5,
                                   atol=1e-7)
        np.testing.assert_allclose(dbeta, numgrad(loss, beta), rtol=1e-5,
                                   atol=1e-7)
    else:
        assert dgamma is None


# ------------------------------------------------------------- errors

def test_bad_shapes_name_the_argument():
    q = np.zeros((2, 3, 4, 5), np.float32)
    with pytest.raises(ValueError, match=r"`k`.*k.shape=\(2, 3, 4, 6\)"):
        cpu_attn.attention_forward(q, np.zeros((2, 3, 4, 6)), q)
    with pytest.raises(ValueError, match=r"`q` must be 4-D"):
        cpu_attn.attention_forward(q[0], q, q)
    with pytest.raises(ValueError, match=r"`v`"):
        cpu_attn.attention_forward(q, q, np.zeros((2, 3, 7, 5)))
    with pytest.raises(ValueError, match=r"`mask`.*mask.shape=\(2, 4, 4\)"):
        cpu_attn.attention_forward(q, q, q, mask=np.ones((2, 4, 4), bool))
    with pytest.raises(ValueError, match="dropout_rate"):
        cpu_attn.attention_forward(q, q, q, dropout_rate=1.0)
    with pytest.raises(ValueError, match="fully_masked"):
        cpu_attn.attention_forward(q, q, q, fully_masked="nan")
    with pytest.raises(ValueError, match="`x` must be 2-D"):
        cpu_ln.layernorm_forward(q)
    with pytest.raises(ValueError, match=r"`gamma` must have shape \(5,\)"):
        cpu_ln.layernorm_forward(q[0, 0], np.ones(4))
    with pytest.raises(ValueError, match="return_scores"):
        gpu_attn.use_flash(8, 8, True, "flash")
    with pytest.raises(ValueError, match="head sizes up to 128"):
        gpu_attn.use_flash(129, 8, False, "flash")
    assert gpu_attn.use_flash(64, 64, False, None)
    assert not gpu_attn.use_flash(160, 64, False, None)
    assert not gpu_attn.use_flash(64, 64, True, None)


def test_launch_configurations():
    assert gpu_attn.flash_fwd_launch(2, 3, 33) == ((6, 3, 1), (128, 1, 1))
    assert gpu_attn.flash_dkdv_launch(2, 3, 16) == ((6, 1, 1), (128, 1, 1))
    assert gpu_attn.flash_preprocess_launch(257) == ((3, 1, 1), (128, 1, 1))
    assert gpu_attn.attn_softmax_launch(10) == ((10, 1, 1), (128, 1, 1))
    assert gpu_ln.layernorm_params_launch(33) == ((2, 1, 1), (256, 1, 1))
    with pytest.raises(ValueError, match="query length"):
        gpu_attn.flash_fwd_launch(1, 1, 16 * 65536)


# ------------------------------------------- kernels under the emulator

EMU_CASES = [
    dict(),
    dict(is_causal=True),
    dict(mask="full"),
    dict(mask="keys", is_causal=True),
    dict(mask="full", dropout_rate=0.3, seed=77),
    dict(mask="full", fully_masked="zero", is_causal=True),
]


@needs_emu
@pytest.mark.parametrize("impl", ["flash", "materialized"])
@pytest.mark.parametrize("case", EMU_CASES)
def test_emulated_attention_matches_cpu(impl, case):
    # Tq = 37 spans three query tiles (the last partial) so causal tile
    # skipping runs; Tk = 19 gives a partial key tile; odd head sizes.
    rng = np.random.default_rng(12)
    B, H, Tq, Tk, D, Dv = 2, 2, 37, 19, 5, 3
    if case.get("is_causal") and not case.get("mask"):
        Tk = 37
    q, k, v = qkv(rng, B, H, Tq, Tk, D, Dv)
    case = dict(case)
    case["mask"] = _make_mask(rng, case.get("mask"), B, H, Tq, Tk)
    dout = rng.standard_normal((B, H, Tq, Dv)).astype(np.float32)
    rt = emu.EmuRuntime(order="reverse")
    out, cache = gpu_attn._attention_forward(rt, q, k, v,
                                             implementation=impl, **case)
    grads = gpu_attn._attention_backward(rt, dout, cache)
    ref, rcache = cpu_attn.attention_forward(q, k, v, **case)
    rgrads = cpu_attn.attention_backward(dout, rcache)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=2e-5)
    for g, r in zip(grads, rgrads):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=2e-5)
    names = {n for _, n, *_ in rt.launches}
    if impl == "flash":
        assert names == {"flash_attn_fwd", "flash_attn_bwd_preprocess",
                         "flash_attn_bwd_dq", "flash_attn_bwd_dkdv"}
    else:
        assert names == {"attn_softmax_fwd", "attn_softmax_bwd"}


@needs_emu
def test_emulated_flash_max_head_dim_random_order():
    rng = np.random.default_rng(13)
    B, H, Tq, Tk, D, Dv = 1, 1, 17, 18, 128, 128
    q, k, v = qkv(rng, B, H, Tq, Tk, D, Dv)
    dout = rng.standard_normal((B, H, Tq, Dv)).astype(np.float32)
    rt = emu.EmuRuntime(order="random")
    kw = dict(is_causal=True, dropout_rate=0.2, seed=5)
    out, cache = gpu_attn._attention_forward(rt, q, k, v,
                                             implementation="flash", **kw)
    grads = gpu_attn._attention_backward(rt, dout, cache)
    ref, rcache = cpu_attn.attention_forward(q, k, v, **kw)
    for g, r in zip((out,) + grads,
                    (ref,) + cpu_attn.attention_backward(dout, rcache)):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=5e-5)


@needs_emu
def test_emulated_scores_and_masked_softmax():
    rng = np.random.default_rng(14)
    q, k, v = qkv(rng, 1, 2, 6, 131, 4, 4)  # Tk > block: strided row loops
    mask = random_mask(rng, (1, 1, 6, 131))
    rt = emu.EmuRuntime(order="random")
    out, cache, p = gpu_attn._attention_forward(rt, q, k, v, mask=mask,
                                                return_scores=True)
    assert cache["path"] == "materialized"
    rout, _, rp = cpu_attn.attention_forward(q, k, v, mask=mask,
                                             return_scores=True)
    np.testing.assert_allclose(p, rp, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(out, rout, rtol=1e-4, atol=1e-5)
    s = rng.standard_normal((1, 2, 6, 131)).astype(np.float32)
    kw = dict(mask=mask, scale=0.5, is_causal=True, dropout_rate=0.1, seed=9)
    p, pd = gpu_attn._masked_softmax_forward(rt, s, **kw)
    rp, rpd = cpu_attn.masked_softmax_forward(s, **kw)
    np.testing.assert_allclose(p, rp, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(pd, rpd, rtol=1e-5, atol=1e-7)
    g = rng.standard_normal(s.shape).astype(np.float32)
    np.testing.assert_allclose(
        gpu_attn._masked_softmax_backward(rt, g, p, **kw),
        cpu_attn.masked_softmax_backward(g, rp, **kw), rtol=1e-4, atol=1e-6)


@needs_emu
def test_emulated_softmax():
    rng = np.random.default_rng(15)
    x = (rng.standard_normal((3, 5, 133)) * 4).astype(np.float32)
    rt = emu.EmuRuntime(order="reverse")
    for axis in (-1, 1):
        y = gpu_attn._softmax_forward(rt, x, axis)
        np.testing.assert_allclose(y, cpu_attn.softmax_forward(x, axis),
                                   rtol=1e-5, atol=1e-7)
        dy = rng.standard_normal(x.shape).astype(np.float32)
        np.testing.assert_allclose(gpu_attn._softmax_backward(rt, dy, y, axis),
                                   cpu_attn.softmax_backward(dy, y, axis),
                                   rtol=1e-4, atol=1e-6)
    assert {n for _, n, *_ in rt.launches} == {"softmax_fwd", "softmax_bwd"}


@needs_emu
@pytest.mark.parametrize("rms", [False, True])
@pytest.mark.parametrize("affine", [True, False])
def test_emulated_layernorm(rms, affine):
    rng = np.random.default_rng(16)
    M, C = 19, 301  # C > block (strided), C % 32 != 0 (edge column tile)
    x = (rng.standard_normal((M, C)) * 2 + 3).astype(np.float32)
    gamma = rng.standard_normal(C).astype(np.float32) if affine else None
    beta = rng.standard_normal(C).astype(np.float32) if affine else None
    dy = rng.standard_normal((M, C)).astype(np.float32)
    rt = emu.EmuRuntime(order="random")
    y, mean, inv_std = gpu_ln._layernorm_forward(rt, x, gamma, beta, 1e-3,
                                                 rms)
    ry, rmean, rinv = cpu_ln.layernorm_forward(x, gamma, beta, 1e-3, rms)
    np.testing.assert_allclose(y, ry, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(mean, rmean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(inv_std, rinv, rtol=1e-5)
    got = gpu_ln._layernorm_backward(rt, dy, x, gamma, mean, inv_std, rms)
    want = cpu_ln.layernorm_backward(dy, x, gamma, rmean, rinv, rms)
    for g, w in zip(got, want):
        if w is None:
            assert g is None
        else:
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4)
    assert {n for _, n, *_ in rt.launches} == {
        "layernorm_fwd", "layernorm_bwd_dx", "layernorm_bwd_params"}


@needs_emu
def test_every_entry_point_is_covered():
    # The entry points exercised above, per file; a new kernel must be added.
    covered = {
        "attention.cu": {"flash_attn_fwd", "flash_attn_bwd_preprocess",
                         "flash_attn_bwd_dq", "flash_attn_bwd_dkdv",
                         "attn_softmax_fwd", "attn_softmax_bwd"},
        "softmax.cu": {"softmax_fwd", "softmax_bwd"},
        "layernorm.cu": {"layernorm_fwd", "layernorm_bwd_dx",
                         "layernorm_bwd_params"},
    }
    for fname, names in covered.items():
        # The _f16 / _bf16 twins: tests/test_half_kernels_emulated.py.
        assert {n for n in emu.load(fname).names
                if not n.endswith(("_f16", "_bf16"))} == names, fname


@pytest.mark.parametrize("magnitude", [0.5, 40.0])
def test_attention_forward_small_and_huge_scores(magnitude):
    # Small scores skip the row-max shift (bounded by |q| |k|); huge ones
    # (logits in the thousands) must take it: both match float64 and stay
    # finite, over several sample blocks.
    r = np.random.default_rng(11)
    q, k, v = (r.standard_normal((9, 3, 37, 8)).astype(np.float32)
               for _ in range(3))
    q, k = q * magnitude, k * magnitude
    out, cache, p = cpu_attn.attention_forward(q, k, v, return_scores=True)
    want, want_p = ref_attention(q, k, v)
    assert np.isfinite(out).all()
    # float32 logits in the thousands carry ~1e-4 absolute rounding, which
    # the softmax turns into relative error of the same order
    tol = 2e-4 if magnitude < 1 else 2e-3
    np.testing.assert_allclose(p, want_p, rtol=tol, atol=tol * 1e-2)
    np.testing.assert_allclose(out, want, rtol=tol, atol=tol * 0.1)
    assert cpu_attn._scores_below(q / np.sqrt(8), k, 80.0) == (
        magnitude < 1)

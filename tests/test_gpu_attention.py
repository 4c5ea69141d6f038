"""GPU reruns of the attention / softmax / layernorm comparisons (CuPy).

Marked `gpu`; skipped cleanly where CuPy or a CUDA device is missing. The
CPU-side checks (reference, gradients, emulated kernels) live in
test_attention_layernorm_primitives.py.
"""

import numpy as np
import pytest

pytestmark = pytest.mark.gpu

cupy = pytest.importorskip("cupy")
try:
    _NDEV = cupy.cuda.runtime.getDeviceCount()
except Exception:  # no driver / no device
    _NDEV = 0
if _NDEV < 1:
    pytest.skip("no CUDA device visible", allow_module_level=True)

from gkeras.backend.cpu import attention as cpu_attn  # noqa: E402
from gkeras.backend.cpu import layernorm as cpu_ln  # noqa: E402
from gkeras.backend.gpu import attention as gpu_attn  # noqa: E402
from gkeras.backend.gpu import layernorm as gpu_ln  # noqa: E402


def _qkv(rng, B, H, Tq, Tk, D, Dv):
    f = np.float32
    return (rng.standard_normal((B, H, Tq, D)).astype(f),
            rng.standard_normal((B, H, Tk, D)).astype(f),
            rng.standard_normal((B, H, Tk, Dv)).astype(f))


def _close(g, c, rtol=2e-4, atol=5e-5):
    np.testing.assert_allclose(cupy.asnumpy(g), c, rtol=rtol, atol=atol)


CASES = [
    dict(),
    dict(is_causal=True),
    dict(mask="keys"),
    dict(mask="full", is_causal=True),
    dict(mask="full", dropout_rate=0.2, seed=3),
    dict(mask="full", fully_masked="zero"),
]


def _mask(rng, kind, B, Tq, Tk):
    if kind == "full":
        m = rng.random((B, 1, Tq, Tk)) > 0.3
        m[0, 0, 1] = False
        return m
    if kind == "keys":
        m = np.ones((B, 1, 1, Tk), bool)
        m[0, ..., Tk // 2:] = False
        return m
    return None


@pytest.mark.parametrize("impl", ["flash", "materialized"])
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("sizes", [(2, 3, 77, 77, 64, 64),
                                   (1, 2, 130, 45, 128, 32),
                                   (2, 2, 33, 200, 17, 9)])
def test_attention_gpu_matches_cpu(impl, case, sizes):
    rng = np.random.default_rng(0)
    B, H, Tq, Tk, D, Dv = sizes
    q, k, v = _qkv(rng, *sizes)
    case = dict(case)
    case["mask"] = _mask(rng, case.get("mask"), B, Tq, Tk)
    dout = rng.standard_normal((B, H, Tq, Dv)).astype(np.float32)
    gcase = dict(case)
    if gcase["mask"] is not None:
        gcase["mask"] = cupy.asarray(gcase["mask"])
    out, cache = gpu_attn.attention_forward(
        cupy.asarray(q), cupy.asarray(k), cupy.asarray(v),
        implementation=impl, **gcase)
    grads = gpu_attn.attention_backward(cupy.asarray(dout), cache)
    ref, rcache = cpu_attn.attention_forward(q, k, v, **case)
    rgrads = cpu_attn.attention_backward(dout, rcache)
    _close(out, ref)
    for g, r in zip(grads, rgrads):
        _close(g, r, rtol=1e-3, atol=2e-4)


def test_large_head_dim_uses_materialized_and_scores():
    rng = np.random.default_rng(1)
    q, k, v = _qkv(rng, 1, 2, 40, 50, 160, 160)
    out, cache = gpu_attn.attention_forward(*map(cupy.asarray, (q, k, v)))
    assert cache["path"] == "materialized"
    _close(out, cpu_attn.attention_forward(q, k, v)[0])
    out, cache, p = gpu_attn.attention_forward(
        *map(cupy.asarray, (q[..., :64], k[..., :64], v)), return_scores=True)
    _close(p, cpu_attn.attention_forward(q[..., :64], k[..., :64], v,
                                         return_scores=True)[2], atol=1e-6)


def test_flash_backward_is_deterministic():
    rng = np.random.default_rng(2)
    q, k, v = map(cupy.asarray, _qkv(rng, 2, 4, 300, 300, 64, 64))
    dout = cupy.asarray(rng.standard_normal((2, 4, 300, 64)), cupy.float32)
    runs = []
    for _ in range(2):
        out, cache = gpu_attn.attention_forward(q, k, v, is_causal=True,
                                                dropout_rate=0.1, seed=1)
        runs.append([out] + list(gpu_attn.attention_backward(dout, cache)))
    for a, b in zip(*runs):
        assert bool((a == b).all())


def test_softmax_gpu():
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((4, 7, 1000)) * 3).astype(np.float32)
    for axis in (-1, 1):
        y = gpu_attn.softmax_forward(cupy.asarray(x), axis)
        _close(y, cpu_attn.softmax_forward(x, axis), atol=1e-7)
        dy = rng.standard_normal(x.shape).astype(np.float32)
        _close(gpu_attn.softmax_backward(cupy.asarray(dy), y, axis),
               cpu_attn.softmax_backward(dy, cupy.asarray(y).get(), axis),
               atol=1e-6)


@pytest.mark.parametrize("rms", [False, True])
def test_layernorm_gpu(rms):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((513, 768)) * 2 + 1).astype(np.float32)
    gamma = rng.standard_normal(768).astype(np.float32)
    beta = rng.standard_normal(768).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    gx, gg, gb, gdy = map(cupy.asarray, (x, gamma, beta, dy))
    y, mean, inv = gpu_ln.layernorm_forward(gx, gg, gb, 1e-3, rms)
    ry, rmean, rinv = cpu_ln.layernorm_forward(x, gamma, beta, 1e-3, rms)
    _close(y, ry)
    got = gpu_ln.layernorm_backward(gdy, gx, gg, mean, inv, rms)
    want = cpu_ln.layernorm_backward(dy, x, gamma, rmean, rinv, rms)
    for g, w in zip(got, want):
        _close(g, w, rtol=1e-3, atol=1e-3)

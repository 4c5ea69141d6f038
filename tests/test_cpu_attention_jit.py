"""`backend.cpu.attention_jit`: unmasked float32 attention as one compiled
call a thread with BLAS called from the kernel, against a float64
reference and the NumPy block path (`jit.disabled()`), forward and
backward, saved and recomputed probabilities, query blocks, layouts,
threads, NaN, and the fallbacks."""

import numpy as np
import pytest

from gkeras.backend.cpu import attention as cpu_att
from gkeras.backend.cpu import attention_blocks as blk
from gkeras.backend.cpu import attention_jit, cblas, jit, parallel

pytest.importorskip("numba")


@pytest.fixture(autouse=True)
def _needs(jit_on):
    if not cblas.available():
        pytest.skip("NumPy's BLAS is not a kernel-callable OpenBLAS")


def ref(q, k, v, scale, dout):
    q, k, v, dout = (np.asarray(a, np.float64) for a in (q, k, v, dout))
    s = scale * q @ np.swapaxes(k, -1, -2)
    s -= s.max(-1, keepdims=True)
    p = np.exp(s)
    p /= p.sum(-1, keepdims=True)
    dp = dout @ np.swapaxes(v, -1, -2)
    ds = (dp - (dp * p).sum(-1, keepdims=True)) * p
    return {"out": p @ v, "dq": scale * ds @ k,
            "dk": scale * np.swapaxes(ds, -1, -2) @ q,
            "dv": np.swapaxes(p, -1, -2) @ dout, "probs": p}


def heads(rng, B, H, T, D, layout, sd=1.0):
    """`(B, H, T, D)` float32, as MultiHeadAttention's transposed view of
    `(B, T, H, D)` memory or contiguous."""
    if layout == "bthd":
        return (sd * rng.standard_normal((B, T, H, D))).astype(
            np.float32).transpose(0, 2, 1, 3)
    return (sd * rng.standard_normal((B, H, T, D))).astype(np.float32)


def run(q, k, v, dout, need_backward=True, return_scores=False, **kw):
    res = cpu_att.attention_forward(q, k, v, need_backward=need_backward,
                                    return_scores=return_scores, **kw)
    out, cache = res[0], res[1]
    got = {"out": out, "fast": bool(cache["blocks"].get("fast"))}
    if return_scores:
        got["probs"] = res[2]
    if need_backward:
        got["dq"], got["dk"], got["dv"] = cpu_att.attention_backward(
            dout, cache)
    return got


def close(got, want, names, tol=2e-5):
    for n in names:
        # Relative to the largest value, but at least 1: exact zeros (one
        # key: no gradient to q) come out as float32 rounding here.
        scale = max(np.abs(want[n]).max(), 1.0)
        err = np.abs(np.asarray(got[n], np.float64) - want[n]).max()
        assert err <= tol * scale, (n, err / scale)


SHAPES = [(2, 3, 5, 7, 4, 6), (32, 8, 100, 100, 16, 16), (1, 1, 1, 1, 1, 1),
          (3, 2, 17, 1, 5, 3), (1, 4, 9, 33, 8, 8)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("layout", ["bthd", "bhtd"])
@pytest.mark.parametrize("return_scores", [False, True])
def test_forward_backward_match_float64_and_numpy_path(shape, layout,
                                                       return_scores):
    B, H, Tq, Tk, D, Dv = shape
    rng = np.random.default_rng(sum(shape))
    q, k = heads(rng, B, H, Tq, D, layout), heads(rng, B, H, Tk, D, layout)
    v = heads(rng, B, H, Tk, Dv, layout)
    dout = rng.standard_normal((B, H, Tq, Dv)).astype(np.float32)
    want = ref(q, k, v, 1 / np.sqrt(D), dout)
    got = run(q, k, v, dout, return_scores=return_scores)
    assert got["fast"]
    names = ["out", "dq", "dk", "dv"] + (["probs"] if return_scores else [])
    close(got, want, names)
    with jit.disabled():
        base = run(q, k, v, dout, return_scores=return_scores)
    assert not base["fast"]
    close(got, {n: np.asarray(base[n], np.float64) for n in names}, names)
    assert got["dq"].shape == q.shape and got["dk"].shape == k.shape
    assert got["out"].dtype == np.float32


@pytest.mark.parametrize("save", [True, False])
def test_query_blocks_and_recomputed_probabilities(save, monkeypatch):
    # Small blocks: several query blocks a pair, dk/dv summed over them;
    # SAVE_ENTRIES 0: the backward recomputes the probabilities from the
    # kept row max and 1 / sum.
    monkeypatch.setattr(blk, "BLOCK_ENTRIES", 64)
    if not save:
        monkeypatch.setattr(blk, "SAVE_ENTRIES", 0)
    rng = np.random.default_rng(5)
    q, k = heads(rng, 2, 3, 37, 8, "bthd"), heads(rng, 2, 3, 29, 8, "bthd")
    v = heads(rng, 2, 3, 29, 4, "bthd")
    dout = rng.standard_normal((2, 3, 37, 4)).astype(np.float32)
    res = cpu_att.attention_forward(q, k, v)
    assert res[1]["blocks"]["fast"]
    assert (res[1]["blocks"]["probs"] is None) == (not save)
    got = {"out": res[0]}
    got["dq"], got["dk"], got["dv"] = cpu_att.attention_backward(dout,
                                                                 res[1])
    close(got, ref(q, k, v, 1 / np.sqrt(8), dout), ["out", "dq", "dk", "dv"])


def test_inference_keeps_nothing_and_matches():
    rng = np.random.default_rng(6)
    q, k, v = (heads(rng, 4, 2, 11, 6, "bthd") for _ in range(3))
    dout = np.zeros((4, 2, 11, 6), np.float32)
    got = run(q, k, v, dout, need_backward=False)
    assert got["fast"]
    close(got, ref(q, k, v, 1 / np.sqrt(6), dout), ["out"])
    _, cache = cpu_att.attention_forward(q, k, v, need_backward=False)
    assert cache["probs"] is None
    assert cache["blocks"]["row_max"].size == 1


@pytest.mark.parametrize("sd", [30.0, 1e-3])
def test_large_and_tiny_scores(sd):
    # Scores far beyond |q| |k| < 80 take the row-max shift (exp would
    # overflow without it); tiny ones skip it. Both match float64.
    rng = np.random.default_rng(7)
    q, k, v = (heads(rng, 2, 2, 13, 4, "bthd", sd) for _ in range(3))
    dout = rng.standard_normal((2, 2, 13, 4)).astype(np.float32)
    got = run(q, k, v, dout)
    assert np.isfinite(got["out"]).all()
    close(got, ref(q, k, v, 0.5, dout), ["out", "dv"], tol=1e-4)


def test_nan_propagates_as_in_numpy():
    rng = np.random.default_rng(8)
    q, k, v = (heads(rng, 2, 2, 6, 4, "bhtd") for _ in range(3))
    k[1, 0, 3, 2] = np.nan
    dout = np.ones((2, 2, 6, 4), np.float32)
    got = run(q, k, v, dout)
    with jit.disabled():
        base = run(q, k, v, dout)
    for n in ("out", "dq", "dk", "dv"):
        np.testing.assert_array_equal(np.isnan(got[n]), np.isnan(base[n]))
    assert np.isnan(got["out"][1, 0]).all() and \
        not np.isnan(got["out"][0]).any()


@pytest.mark.parametrize("threads", [2, 3])
def test_threads_give_the_same_bits(threads, monkeypatch):
    rng = np.random.default_rng(9)
    q, k, v = (heads(rng, 3, 5, 21, 8, "bthd") for _ in range(3))
    dout = rng.standard_normal((3, 5, 21, 8)).astype(np.float32)
    one = run(q, k, v, dout)
    monkeypatch.setitem(parallel._STATE, "n", threads)
    monkeypatch.setattr(attention_jit, "MIN_PARALLEL_FLOPS", 0)
    assert len(attention_jit._ranges(15, 1)) == threads
    many = run(q, k, v, dout)
    for n in ("out", "dq", "dk", "dv"):
        np.testing.assert_array_equal(one[n], many[n])


def test_non_contiguous_dout():
    rng = np.random.default_rng(10)
    q, k, v = (heads(rng, 2, 3, 7, 4, "bthd") for _ in range(3))
    dout = rng.standard_normal((2, 3, 4, 7)).astype(np.float32).swapaxes(
        -1, -2)                                       # last axis strided
    got = run(q, k, v, dout)
    close(got, ref(q, k, v, 0.5, dout), ["dq", "dk", "dv"])


@pytest.mark.parametrize("case", ["mask", "causal", "dropout", "float64",
                                  "float16", "jit_off"])
def test_fallbacks_take_the_block_path(case):
    rng = np.random.default_rng(11)
    dt = {"float64": np.float64, "float16": np.float16}.get(case,
                                                            np.float32)
    q, k, v = (rng.standard_normal((2, 2, 5, 4)).astype(dt)
               for _ in range(3))
    kw = {}
    if case == "mask":
        kw["mask"] = rng.random((2, 1, 5, 5)) > 0.3
    if case == "causal":
        kw["is_causal"] = True
    if case == "dropout":
        kw["dropout_rate"] = 0.5
    if case == "jit_off":
        with jit.disabled():
            _, cache = cpu_att.attention_forward(q, k, v, **kw)
    else:
        _, cache = cpu_att.attention_forward(q, k, v, **kw)
    assert not cache["blocks"].get("fast")
    assert not attention_jit.applies(q, k, v, kw.get("mask"),
                                     kw.get("is_causal", False),
                                     kw.get("dropout_rate", 0.0)) or \
        case == "jit_off"


def test_multi_head_attention_layer_matches_numpy_path():
    import gkeras
    from gkeras.ops.engine import GradientTape

    layer = gkeras.layers.MultiHeadAttention(num_heads=4, key_dim=8)
    rng = np.random.default_rng(12)
    x = rng.standard_normal((3, 10, 16)).astype(np.float32)
    layer(x, x)

    def step():
        with GradientTape() as tape:
            y = layer(x, x, training=True)
            loss = gkeras.ops.sum(y * y)
        grads = tape.gradient(loss, layer.trainable_variables)
        return np.asarray(y), [np.asarray(g) for g in grads]

    y, g = step()
    with jit.disabled():
        y0, g0 = step()
    np.testing.assert_allclose(y, y0, rtol=1e-5, atol=1e-5)
    for a, b in zip(g, g0):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)

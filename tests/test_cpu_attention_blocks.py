"""Blockwise CPU attention (`backend.cpu.attention_blocks`).

The forward and backward are checked block by block against the float64
reference of test_attention_layernorm_primitives.py and float64 finite
differences, with the probabilities saved and recomputed, blocks that do
not divide the sequence, masks, causal, both fully-masked-row modes,
dropout, and on two threads.
"""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))

from gkeras.backend.cpu import attention as cpu_attn  # noqa: E402
from gkeras.backend.cpu import attention_blocks as blk  # noqa: E402
from gkeras.backend.cpu import attention_jit  # noqa: E402
from gkeras.backend.cpu import parallel  # noqa: E402
from test_attention_layernorm_primitives import (  # noqa: E402
    numgrad, qkv, random_mask, ref_attention)


@pytest.fixture(autouse=True)
def _blocks_only(monkeypatch):
    """This file tests the block path; the unmasked float32 calls that
    `attention_jit` takes otherwise are tested in
    test_cpu_attention_jit.py."""
    monkeypatch.setattr(attention_jit, "applies", lambda *a: False)


@pytest.fixture(params=["saved", "recomputed"])
def mode(request, monkeypatch):
    """Small blocks (query blocks not dividing Tq), probabilities saved
    or recomputed in the backward."""
    monkeypatch.setattr(blk, "BLOCK_ENTRIES", 23)
    monkeypatch.setattr(blk, "SAVE_ENTRIES",
                        1 << 30 if request.param == "saved" else 0)
    return request.param


@pytest.fixture
def two_threads(monkeypatch):
    monkeypatch.setitem(parallel._STATE, "n", 2)


def _mask(rng, kind, B, H, Tq, Tk):
    if kind == "full":
        return random_mask(rng, (B, H, Tq, Tk))
    if kind == "heads":   # (B, 1, Tq, Tk) with one fully masked row
        return random_mask(rng, (B, 1, Tq, Tk))
    if kind == "keys":    # key padding (B, 1, 1, Tk)
        m = np.ones((B, 1, 1, Tk), bool)
        m[-1, ..., Tk - 2:] = False
        return m
    if kind == "float":   # Keras: float masks keep where > 0.5
        return (rng.random((Tq, Tk)) > 0.3).astype(np.float32)
    return None


CASES = [
    dict(),
    dict(is_causal=True),
    dict(mask="full"),
    dict(mask="heads", is_causal=True),
    dict(mask="keys"),
    dict(mask="float"),
    dict(mask="full", fully_masked="zero"),
    dict(mask="heads", dropout_rate=0.3, seed=5),
    dict(dropout_rate=0.5, seed=9, is_causal=True, fully_masked="zero"),
    dict(scale=0.37),
]
SIZES = [(2, 3, 7, 5, 4, 3), (1, 2, 9, 9, 3, 5), (3, 1, 4, 11, 2, 2)]


def _case(rng, case, B, H, Tq, Tk):
    case = dict(case)
    case["mask"] = _mask(rng, case.get("mask"), B, H, Tq, Tk)
    return case


def _ref(q, k, v, case):
    B, H, Tq, _ = q.shape
    Tk = k.shape[2]
    rate = case.get("dropout_rate", 0.0)
    keep = cpu_attn.dropout_keep_mask(case.get("seed", 0),
                                      (B, H, Tq, Tk), rate) if rate else None
    m = case.get("mask")
    if m is not None and m.dtype != bool:
        m = m > 0.5
    return ref_attention(q, k, v, mask=m, scale=case.get("scale"),
                         is_causal=case.get("is_causal", False), keep=keep,
                         rate=rate,
                         fully_masked=case.get("fully_masked", "uniform"))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("sizes", SIZES)
@pytest.mark.parametrize("need_backward", [True, False])
def test_blocked_forward_matches_reference(mode, case, sizes, need_backward):
    rng = np.random.default_rng(1)
    B, H, Tq, Tk, D, Dv = sizes
    q, k, v = qkv(rng, *sizes)
    case = _case(rng, case, B, H, Tq, Tk)
    out, cache = cpu_attn.attention_forward(q, k, v,
                                            need_backward=need_backward,
                                            **case)
    ref_out, _ = _ref(q, k, v, case)
    np.testing.assert_allclose(out, ref_out, rtol=1e-5, atol=1e-5)
    if mode == "recomputed" or not need_backward:
        # nothing quadratic kept (for a backward)
        assert cache["probs"] is None and cache["keep"] is None
        assert all(a.shape == (B, H, Tq) for a in (
            cache["blocks"]["row_max"], cache["blocks"]["row_inv"]))


@pytest.mark.parametrize("case", CASES)
def test_blocked_gradients_float64(mode, case):
    rng = np.random.default_rng(7)
    B, H, Tq, Tk, D, Dv = 2, 2, 5, 4, 3, 2
    q, k, v = qkv(rng, B, H, Tq, Tk, D, Dv, np.float64)
    case = _case(rng, case, B, H, Tq, Tk)
    w = rng.standard_normal((B, H, Tq, Dv))

    def loss():
        return np.sum(cpu_attn.attention_forward(q, k, v, **case)[0] * w)

    out, cache = cpu_attn.attention_forward(q, k, v, **case)
    dq, dk, dv = cpu_attn.attention_backward(w, cache)
    for a, g in ((q, dq), (k, dk), (v, dv)):
        np.testing.assert_allclose(g, numgrad(loss, a), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("case", CASES)
def test_recomputed_backward_equals_saved(monkeypatch, two_threads, case):
    # float32, the MultiHeadAttention layout ((B, T, H, D) memory), blocks
    # of query rows on two threads: the same gradients either way.
    rng = np.random.default_rng(3)
    B, H, Tq, Tk, D = 2, 3, 13, 10, 4
    q, k, v = (rng.standard_normal((B, T, H, D)).astype(np.float32)
               .transpose(0, 2, 1, 3) for T in (Tq, Tk, Tk))
    case = _case(rng, case, B, H, Tq, Tk)
    dout = rng.standard_normal((B, H, Tq, D)).astype(np.float32)
    res = {}
    for name, save in (("saved", 1 << 30), ("recomputed", 0)):
        monkeypatch.setattr(blk, "SAVE_ENTRIES", save)
        monkeypatch.setattr(blk, "BLOCK_ENTRIES", 3 * Tk)
        out, cache = cpu_attn.attention_forward(q, k, v, **case)
        res[name] = (out, *cpu_attn.attention_backward(dout, cache))
    for a, b in zip(res["saved"], res["recomputed"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert res["saved"][0].transpose(0, 2, 1, 3).flags.c_contiguous


def test_fully_masked_row_uniform_has_zero_query_gradient(mode):
    rng = np.random.default_rng(4)
    q, k, v = qkv(rng, 1, 1, 3, 4, 2, 2, np.float64)
    mask = np.ones((1, 1, 3, 4), bool)
    mask[0, 0, 1] = False
    out, cache = cpu_attn.attention_forward(q, k, v, mask=mask)
    np.testing.assert_allclose(out[0, 0, 1], v[0, 0].mean(0), rtol=1e-12)
    dq, dk, dv = cpu_attn.attention_backward(np.ones_like(out), cache)
    assert np.all(dq[0, 0, 1] == 0)
    np.testing.assert_allclose(dv[0, 0].sum(0), 3.0, rtol=1e-12)


def test_keep_blocks_tile_the_keep_mask():
    shape = (2, 3, 7, 5)
    full = cpu_attn.dropout_keep_mask(11, shape, 0.4)
    thr = cpu_attn.dropout_threshold(0.4)
    for bs, hs, qsl in blk.plan_blocks(*shape, entries=7):
        for qs in qsl:
            np.testing.assert_array_equal(
                blk.keep_block(11, 3, bs, hs, qs, 5, thr, cpu_attn._mix32),
                full[bs, hs, qs])


def test_plan_blocks_covers_everything_once():
    for shape, e in (((3, 4, 5, 6), 1 << 10), ((3, 4, 5, 6), 70),
                     ((2, 3, 7, 5), 12), ((1, 1, 9, 2), 5)):
        seen = np.zeros(shape[:3], int)
        for bs, hs, qsl in blk.plan_blocks(*shape, entries=e):
            for qs in qsl:
                seen[bs, hs, qs] += 1
        assert np.all(seen == 1)


def test_parallel_map_keeps_order_and_raises(two_threads):
    assert parallel.parallel_map(lambda i: i * i, range(5)) == \
        [0, 1, 4, 9, 16]

    def boom(i):
        raise ValueError(i)

    with pytest.raises(ValueError):
        parallel.parallel_map(boom, [1, 2])
    # nested calls run inline in the worker instead of waiting on the pool
    assert parallel.parallel_map(
        lambda i: parallel.parallel_map(lambda j: i + j, range(3)),
        range(4)) == [[i, i + 1, i + 2] for i in range(4)]


def test_op_keeps_nothing_outside_a_gradient_tape(monkeypatch):
    import gkeras.backend.cpu as cpu_kernels
    from gkeras.ops.attention import ScaledDotProductAttention
    from gkeras.ops.engine import GradientTape, Tensor
    seen = []
    real = cpu_attn.attention_forward

    def spy(*a, **kw):
        seen.append(kw["need_backward"])
        return real(*a, **kw)

    monkeypatch.setattr(cpu_kernels, "attention_forward", spy)
    rng = np.random.default_rng(5)
    q, k, v = (Tensor(a) for a in qkv(rng, 2, 2, 5, 5, 4, 4))
    want = ScaledDotProductAttention()(q, k, v).data
    with GradientTape() as tape:
        tape.watch(q)
        got = ScaledDotProductAttention()(q, k, v).data
    assert seen == [False, True]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_blas_runs_one_thread_in_workers_and_is_restored(two_threads):
    setter = parallel._blas_local_setter()
    if setter is None:
        pytest.skip("the loaded BLAS is not OpenBLAS with a thread setter")
    parallel.parallel_map(lambda i: i, range(2))  # create the pool
    old = setter(2)
    try:
        inside = parallel.parallel_map(lambda i: setter(1), range(2))
        assert inside == [1, 1]
        assert setter(2) == 2   # the count outside the workers is back
    finally:
        setter(old)

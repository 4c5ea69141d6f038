"""The CUDA emulator's `__half` / `__nv_bfloat16` (tests/cuda_emu/
cuda_emu_fp16.h) against NumPy float16 and `ml_dtypes.bfloat16`, bit for
bit: every float16 bit pattern to float32, float32 to both formats on
random bit patterns plus the rounding edge cases (ties to even, overflow
to inf, subnormals, signed zeros, inf, NaN), and the arithmetic (correctly
rounded: exact float64 result rounded once).
"""

import os

import numpy as np
import pytest

from cuda_emu import emu

ml_dtypes = pytest.importorskip(
    "ml_dtypes", reason="ml_dtypes gives NumPy its bfloat16 (test extra)")
BF16 = np.dtype(ml_dtypes.bfloat16)

pytestmark = pytest.mark.skipif(not emu.have_compiler(),
                                reason="no C++ compiler for the emulator")

SRC = os.path.join(os.path.dirname(__file__), "cuda_emu", "half_selftest.cu")


@pytest.fixture(scope="module")
def mod():
    return emu.load(SRC)


def _run(mod, name, *args):
    n = args[0].size
    mod.get_function(name)((min(64, -(-n // 256)),), (256,),
                           (*args, np.int32(n)))


def _edge_floats():
    """float32 values where rounding to 16 bits is delicate."""
    h = np.arange(0, 1 << 16, dtype=np.uint32)
    f16_vals = h.astype(np.uint16).view(np.float16).astype(np.float32)
    f16_vals = f16_vals[np.isfinite(f16_vals)]
    # Midpoints between neighbouring float16 values (ties), and one float32
    # ulp either side of them.
    srt = np.unique(f16_vals)
    mid = ((srt[:-1].astype(np.float64) + srt[1:]) / 2).astype(np.float32)
    bits = mid.view(np.uint32)
    near = np.concatenate([bits - 1, bits + 1]).view(np.float32)
    bf_bits = (np.arange(0, 1 << 16, dtype=np.uint32) << 16)
    bf_ties = np.concatenate([bf_bits | 0x8000, bf_bits | 0x7fff,
                              bf_bits | 0x8001]).view(np.float32)
    special = np.array([0.0, -0.0, np.inf, -np.inf, 65504, 65519.99, 65520,
                        -65520, 1e30, 2 ** -24, 2 ** -25, 3 * 2 ** -26,
                        2 ** -14, 2 ** -14 - 2 ** -25, 1e-30,
                        np.finfo(np.float32).max,
                        np.finfo(np.float32).tiny], np.float32)
    rnd = np.random.default_rng(0).integers(0, 1 << 32, 200000,
                                            dtype=np.uint64).astype(
        np.uint32).view(np.float32)
    return np.concatenate([f16_vals, mid, near, bf_ties, special, rnd])


def _same_bits(got, want):
    gn, wn = np.isnan(got.astype(np.float32)), np.isnan(
        want.astype(np.float32))
    np.testing.assert_array_equal(gn, wn)
    g, w = got.view(np.uint16)[~gn], want.view(np.uint16)[~wn]
    bad = np.flatnonzero(g != w)
    assert bad.size == 0, (f"{bad.size} values differ, e.g. bits "
                           f"{g[bad[:5]]} vs {w[bad[:5]]}")


def test_every_half_bit_pattern_to_float(mod):
    h = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(
        np.float16)
    y = np.empty(h.size, np.float32)
    _run(mod, "from_f16", h, y)
    want = h.astype(np.float32)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(want))
    ok = ~np.isnan(want)
    np.testing.assert_array_equal(y[ok].view(np.uint32),
                                  want[ok].view(np.uint32))


def test_every_bfloat16_bit_pattern_to_float(mod):
    b = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(BF16)
    y = np.empty(b.size, np.float32)
    _run(mod, "from_bf16", b, y)
    want = b.astype(np.float32)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(want))
    ok = ~np.isnan(want)
    np.testing.assert_array_equal(y[ok].view(np.uint32),
                                  want[ok].view(np.uint32))


def test_float_to_half_rounds_to_nearest_even(mod):
    x = _edge_floats()
    y = np.empty(x.size, np.float16)
    _run(mod, "to_f16", x, y)
    with np.errstate(all="ignore"):
        _same_bits(y, x.astype(np.float16))
    # CUDA writes the canonical NaN.
    assert set(y.view(np.uint16)[np.isnan(x)].tolist()) == {0x7fff}
    assert y.view(np.uint16)[x == np.float32(65520)][0] == 0x7c00


def test_float_to_bfloat16_rounds_to_nearest_even(mod):
    x = _edge_floats()
    y = np.empty(x.size, BF16)
    _run(mod, "to_bf16", x, y)
    with np.errstate(all="ignore"):
        _same_bits(y, x.astype(BF16))
    assert set(y.view(np.uint16)[np.isnan(x)].tolist()) == {0x7fff}


def test_half_arithmetic_is_correctly_rounded(mod):
    r = np.random.default_rng(1)
    n = 20000
    a, b, c = (r.integers(0, 1 << 16, n, dtype=np.uint32).astype(
        np.uint16).view(np.float16) for _ in range(3))
    out = np.empty(4 * n, np.float16)
    _run(mod, "arith_f16", a, b, c, out)
    a64, b64, c64 = (v.astype(np.float64) for v in (a, b, c))
    with np.errstate(all="ignore"):
        # Sums, differences and products of float16 are exact in float64,
        # so one float64 -> float16 rounding gives the correct result.
        want = [a64 + b64, a64 - b64, a64 * b64]
        # fma: a*b exact, + c exact too (the spans fit in 53 bits).
        want.append(a64 * b64 + c64)
        for k, w in enumerate(want):
            _same_bits(out[k::4], w.astype(np.float16))


def test_bfloat16_arithmetic_is_correctly_rounded(mod):
    r = np.random.default_rng(2)
    n = 20000

    def draw():
        # Exponents within 2**+-6 keep every exact result within float32's
        # 24 bits, so a float32 -> bfloat16 rounding is the reference.
        v = (r.uniform(1, 2, n) * 2.0 ** r.integers(-6, 7, n)
             * r.choice([-1, 1], n))
        return v.astype(BF16)

    a, b, c = draw(), draw(), draw()
    out = np.empty(4 * n, BF16)
    _run(mod, "arith_bf16", a, b, c, out)
    a32, b32 = a.astype(np.float64), b.astype(np.float64)
    c32 = c.astype(np.float64)
    want = [a32 + b32, a32 - b32, a32 * b32, a32 * b32 + c32]
    for k, w in enumerate(want):
        w32 = w.astype(np.float32)
        # Where the exact result fits float32, rounding that float32 to
        # bfloat16 is the correctly rounded answer (add/sub/mul always do;
        # most fma results do).
        exact = w32.astype(np.float64) == w
        assert exact.mean() > (0.999 if k < 3 else 0.5)
        _same_bits(out[k::4][exact], w32[exact].astype(BF16))


def test_half_cuh_helpers_shuffle_and_scalar(mod):
    n = 70
    x = np.linspace(-3, 3, n).astype(np.float16)
    y = np.zeros(n, np.float16)
    s = np.float16(1.5)
    mod.get_function("helpers_f16")((2,), (64,), (x, y, s, np.int32(n)))
    v = np.zeros(128, np.float16)
    v[:n] = (x.astype(np.float32) * np.float32(1.5)).astype(np.float16)
    lanes = np.arange(128)
    src = (lanes // 32) * 32 + (lanes + 1) % 32
    np.testing.assert_array_equal(y, v[src][:n])


def test_half_pointers_and_scalars_are_type_checked(mod):
    k = mod.get_function("to_f16")
    assert k.codes == ["Pc:f4", "Pm:H2", "i4"]
    x = np.zeros(4, np.float32)
    with pytest.raises(emu.EmuError, match="float16 array, got dtype "
                                           "float32"):
        k((1,), (32,), (x, np.zeros(4, np.float32), np.int32(4)))
    with pytest.raises(emu.EmuError, match="bfloat16 array"):
        mod.get_function("to_bf16")((1,), (32,), (
            x, np.zeros(4, np.float16), np.int32(4)))
    h = mod.get_function("helpers_f16")
    with pytest.raises(emu.EmuError, match="float16 scalar"):
        h((1,), (32,), (np.zeros(4, np.float16), np.zeros(4, np.float16),
                        1.5, np.int32(4)))

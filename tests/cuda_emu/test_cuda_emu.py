"""Self-test of the CUDA-on-CPU harness (tests/cuda_emu)."""

import os

import numpy as np
import pytest

from cuda_emu import emu

pytestmark = pytest.mark.skipif(not emu.have_compiler(),
                                reason="no C++ compiler for the emulator")

SELFTEST = os.path.join(os.path.dirname(__file__), "selftest.cu")


@pytest.fixture(scope="module")
def mod():
    return emu.load(SELFTEST)


@pytest.mark.parametrize("order", ["forward", "reverse", "random"])
@pytest.mark.parametrize("n,block", [(1000, 256), (77, 64), (32, 32),
                                     (300, 1024)])
def test_block_sum(mod, order, n, block):
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    nb = (n + block - 1) // block
    out = np.zeros(nb, np.float32)
    mod.get_function("block_sum")((nb,), (block,), (x, out, np.int32(n)),
                                  order=order)
    ref = np.add.reduceat(np.pad(x, (0, nb * block - n)),
                          np.arange(0, nb * block, block))
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)


def test_dynamic_shared_2d_block(mod):
    n, bx, by = 50, 4, 3
    x = np.arange(n, dtype=np.float32)
    y = np.zeros(n, np.float32)
    nt = bx * by
    grid = (n + nt - 1) // nt
    mod.get_function("reverse_blocks")(grid, (bx, by), (x, y, np.int32(n)),
                                       shared_mem=nt * 4, order="random")
    ref = np.zeros(n, np.float32)
    for b in range(grid):
        for t in range(nt):
            i, j = b * nt + t, b * nt + nt - 1 - t
            if j < n:
                ref[j] = x[i] if i < n else 0
    np.testing.assert_array_equal(y, ref)


def test_missing_barrier_is_caught(mod):
    x = np.arange(64, dtype=np.float32)
    y = np.zeros(64, np.float32)
    mod.get_function("reverse_racy")(1, 64, (x, y, np.int32(64)),
                                     shared_mem=256)
    assert not np.array_equal(y, x[::-1])  # thread 0 read before 63 wrote


def test_deadlock_is_reported(mod):
    out = np.zeros(64, np.int32)
    with pytest.raises(emu.EmuError, match="deadlock"):
        mod.get_function("bad_barrier")(1, 64, (out, np.int32(0)))
    mod.get_function("bad_barrier")(1, 64, (out, np.int32(1)))
    assert out.sum() == 64


@pytest.mark.parametrize("workers", [1, 2])
def test_votes_xor_atomics(mod, workers):
    nb, bs = 3, 96
    x = np.random.default_rng(0).standard_normal(nb * bs).astype(np.float32)
    ballots = np.zeros(nb * bs // 32, np.uint32)
    xs = np.zeros_like(x)
    count = np.zeros(1, np.int32)
    total = np.zeros(1, np.float32)
    mod.get_function("warp_misc")(nb, bs, (x, ballots, xs, count, total,
                                           2 ** 40), workers=workers,
                                  strict_scalars=True)
    w = x.reshape(-1, 32)
    ref_b = ((w > 0) * (1 << np.arange(32, dtype=np.uint64))).sum(1)
    np.testing.assert_array_equal(ballots, ref_b.astype(np.uint32))
    np.testing.assert_allclose(xs.reshape(-1, 32),
                               np.repeat(w.sum(1, keepdims=True), 32, 1),
                               rtol=1e-5, atol=1e-5)
    assert count[0] == (x > 0).sum()
    np.testing.assert_allclose(total[0], x.sum(), rtol=1e-4, atol=1e-4)


def test_argument_checks(mod):
    k = mod.get_function("block_sum")
    x = np.zeros(10, np.float32)
    out = np.zeros(1, np.float32)
    with pytest.raises(emu.EmuError, match="float"):
        k(1, 32, (x.astype(np.float64), out, np.int32(10)))
    with pytest.raises(emu.EmuError, match="int64"):
        k(1, 32, (x, out, 10), strict_scalars=True)
    with pytest.raises(emu.EmuError, match="takes 3 arguments"):
        k(1, 32, (x, out))
    with pytest.raises(emu.EmuError, match="contiguous"):
        k(1, 32, (np.zeros(20, np.float32)[::2], out, np.int32(10)))
    with pytest.raises(emu.EmuError, match="limits"):
        k(1, 2048, (x, out, np.int32(10)))
    k(1, 32, (x, out, 10))  # Python ints converted when not strict
    with pytest.raises(emu.EmuError, match="out of bounds"):
        mod.get_function("oob_write")(2, 32, (np.zeros(50, np.float32),
                                              np.int32(50)))


def test_entry_point_parsing():
    src = ('// extern "C" __global__ void commented(int a)\n'
           'extern "C" __global__ void __launch_bounds__(256) k1(\n'
           '    const float* __restrict__ x, int n) {}\n'
           'extern "C" __global__ void k2() {}\n')
    assert emu.entry_points(src) == [
        ("k1", ["const float* __restrict__ x", "int n"]), ("k2", [])]

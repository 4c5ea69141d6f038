"""Deterministic scatter-add (kernels/scatter.cu, backend/gpu/scatter.py).

The GPU wrapper runs whole through the CUDA emulator (`EmuRuntime`: same
sort, same grid, same argument tuple as on the GPU) against `numpy.add.at`
on odd shapes: repeated and negative row ids (the Embedding / `take`
gradient), a padding id repeated many times, multi-array and broadcast
indices (`take_along_axis`, advanced indexing, `ops.scatter`), a boolean
mask, non-contiguous destinations and float64. The sums run in the order
`numpy.add.at` uses, so the results are equal bit for bit.
"""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))

from gkeras.backend.gpu import scatter  # noqa: E402

try:
    from cuda_emu import emu
    HAVE_EMU = emu.have_compiler()
except Exception:  # pragma: no cover - harness missing
    emu, HAVE_EMU = None, False

needs_emu = pytest.mark.skipif(not HAVE_EMU,
                               reason="CUDA emulator (g++) not available")


def _check(dst, index, values, order="random"):
    want = dst.copy()
    np.add.at(want, index, values)
    rt = emu.EmuRuntime(order=order)
    got = dst.copy()
    scatter._scatter_add(rt, got, index, values)
    np.testing.assert_array_equal(got, want)
    return rt


@needs_emu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding_rows_with_repeats_and_negatives(dtype):
    rng = np.random.default_rng(0)
    table = rng.standard_normal((37, 5)).astype(dtype)
    ids = rng.integers(-37, 37, (6, 11))
    ids[0, :] = 3  # a padding-like id, repeated
    values = rng.standard_normal((6, 11, 5)).astype(dtype)
    rt = _check(table, ids, values)
    assert [n for _, n, *_ in rt.launches] == [
        "scatter_add_rows_f64" if dtype == np.float64
        else "scatter_add_rows_f32"]
    (grid,), (block,) = rt.launches[0][2], rt.launches[0][3]
    assert grid == 66 and block == scatter.SC_THREADS


@needs_emu
def test_row_path_three_dimensional_destination_and_wide_rows():
    rng = np.random.default_rng(1)
    dst = rng.standard_normal((9, 3, 70)).astype(np.float32)  # cols > block
    ids = np.array([8, 0, 8, 8, 4, -1, 0], np.int32)
    values = rng.standard_normal((7, 3, 70)).astype(np.float32)
    _check(dst, ids, values, order="reverse")


@needs_emu
def test_general_indices():
    rng = np.random.default_rng(2)
    dst = np.zeros((5, 7), np.float32)
    # take_along_axis-style full index (broadcast arrays), repeated cells.
    idx = rng.integers(0, 7, (5, 9))
    full = (np.arange(5)[:, None] + np.zeros_like(idx), idx)
    _check(dst, full, rng.standard_normal((5, 9)).astype(np.float32))
    # ops.scatter: a tuple of coordinate arrays, one value each.
    coords = (np.array([1, 1, 4, 1]), np.array([2, 2, 6, 0]))
    _check(dst, coords, np.float32([1.5, 2.25, -3.0, 4.0]))
    # mixed slice + array, a broadcast scalar value, a boolean mask.
    _check(dst, (slice(None), np.array([0, 3, 3])), np.float32(0.5))
    mask = rng.random((5, 7)) > 0.5
    _check(dst, mask, rng.standard_normal(int(mask.sum())).astype(
        np.float32))


@needs_emu
def test_non_contiguous_destination_is_updated_in_place():
    rng = np.random.default_rng(3)
    base = np.zeros((6, 8), np.float32)
    dst = base.T  # (8, 6), Fortran-ordered view
    ids = np.array([7, 2, 7])
    values = rng.standard_normal((3, 6)).astype(np.float32)
    want = base.copy().T
    np.add.at(want, ids, values)
    scatter._scatter_add(emu.EmuRuntime(), dst, ids, values)
    np.testing.assert_array_equal(base.T, want)


def test_integer_destination_uses_the_exact_add_at():
    class Rt:
        xp = np

        def launch(self, *a, **k):
            raise AssertionError("no kernel for integer dtypes")

    dst = np.zeros(4, np.int32)
    scatter._scatter_add(Rt(), dst, np.array([1, 1, 3]), np.int32(2))
    np.testing.assert_array_equal(dst, [0, 4, 0, 2])


@needs_emu
def test_empty_index_launches_nothing():
    rt = _check(np.ones((3, 2), np.float32), np.zeros((0,), np.int64),
                np.zeros((0, 2), np.float32))
    assert rt.launches == []


def test_gpu_array_ops_no_longer_calls_cupyx_scatter_add():
    import inspect
    from gkeras.backend.gpu import array_ops
    assert "cupyx.scatter_add" not in inspect.getsource(
        array_ops.scatter_add)


@needs_emu
def test_every_entry_point_is_covered():
    assert set(emu.load("scatter.cu").names) == set(scatter._ENTRY.values())

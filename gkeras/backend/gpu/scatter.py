"""Deterministic scatter-add on the GPU (`kernels/scatter.cu`).

`dst[index] += values` with repeated indices accumulated, as
`numpy.add.at`, without atomics: the row ids are stable-sorted and each
run of equal ids is summed in its original order by one block, so the
result is the same on every run and equal to the NumPy path bit for bit.
This replaces `cupyx.scatter_add` (deprecated, and atomic: the order of
float additions, hence the result, changed from run to run) for the
gradients of Embedding, `take`, `take_along_axis`, advanced indexing and
`ops.scatter`.

Written against a runtime object (see `launch.py`) so the emulator of
`tests/cuda_emu` runs the same code on the CPU.
"""

import numpy as np

__all__ = ["scatter_add_launch", "SC_THREADS", "SC_MAX_BLOCKS"]

# Mirrors of the #defines in kernels/scatter.cu.
SC_THREADS = 128
SC_MAX_BLOCKS = 65535

# dst dtype name -> entry point. float16 / bfloat16 accumulate each
# segment in float32 and round once (numpy.add.at rounds every addition,
# so those two agree with the CPU path within a rounding, not bit for bit).
_ENTRY = {"float32": "scatter_add_rows_f32",
          "float64": "scatter_add_rows_f64",
          "float16": "scatter_add_rows_f16",
          "bfloat16": "scatter_add_rows_bf16"}


def scatter_add_launch(n):
    """(grid, block) of `scatter_add_rows_*` for `n` row ids."""
    return (max(1, min(int(n), SC_MAX_BLOCKS)),), (SC_THREADS,)


def _is_row_index(dst, index, values):
    """True when `index` is one integer array selecting rows of `dst`, and
    `values` has the matching `index.shape + dst.shape[1:]`."""
    if isinstance(index, tuple):
        if len(index) != 1:
            return False
        index = index[0]
    if not hasattr(index, "dtype") or index.dtype.kind not in "iu":
        return False
    return (dst.ndim >= 1 and hasattr(values, "shape")
            and tuple(values.shape) == tuple(index.shape)
            + tuple(dst.shape[1:]))


def _scatter_add_rows(rt, dst, rows, values):
    """`dst[rows] += values` for a C-contiguous `dst` (n_rows, ...) of a
    kernel dtype; `rows` any integer array, `values` rows.shape + the rest."""
    xp = rt.xp
    n_rows = dst.shape[0]
    cols = int(np.prod(dst.shape[1:], dtype=np.int64))
    rows = xp.asarray(rows).reshape(-1).astype(np.int64, copy=False)
    n = int(rows.shape[0])
    if n == 0 or cols == 0 or n_rows == 0:
        return
    # NumPy's negative ids count from the end; wrapping keeps every id in
    # range without reading anything back (the kernel skips any other).
    rows = rows % n_rows
    order = xp.argsort(rows, kind="stable")
    sorted_rows = xp.ascontiguousarray(rows[order])
    vals = xp.ascontiguousarray(xp.asarray(values).reshape(n, cols),
                                dtype=dst.dtype)
    grid, block = scatter_add_launch(n)
    rt.launch("scatter.cu", _ENTRY[dst.dtype.name], grid, block, (
        sorted_rows, xp.ascontiguousarray(order, dtype=np.int64), vals,
        dst, np.int64(n), np.int64(n_rows), np.int64(cols)))


def _device_index(xp, index):
    """The index expression with host (NumPy) arrays moved to the device."""
    def conv(k):
        return xp.asarray(k) if isinstance(k, np.ndarray) else k
    if isinstance(index, tuple):
        return tuple(conv(k) for k in index)
    if isinstance(index, list):
        return xp.asarray(np.asarray(index))
    return conv(index)


def _scatter_add(rt, dst, index, values):
    """`dst[index] += values` (repeats accumulated), in place, any index
    expression NumPy accepts; see `array_ops.scatter_add`."""
    xp = rt.xp
    if dst.dtype.name not in _ENTRY:
        # Integer additions are exact in any order, so an atomic scatter
        # is deterministic here; complex and the rest are rare.
        at = getattr(getattr(xp, "add", None), "at", None)
        if at is not None:
            at(dst, _device_index(xp, index), values)
        else:  # CuPy before `ufunc.at`
            import cupyx
            cupyx.scatter_add(dst, _device_index(xp, index), values)
        return
    index = _device_index(xp, index)
    values = xp.asarray(values)
    work = dst if dst.flags.c_contiguous else xp.ascontiguousarray(dst)
    if _is_row_index(dst, index, values):
        rows = index[0] if isinstance(index, tuple) else index
        _scatter_add_rows(rt, work, rows, values)
    else:
        # Any other index: the flat positions it selects, from an iota of
        # dst's shape indexed the same way (NumPy's broadcasting rules for
        # free), then a row scatter over the flattened array.
        flat = xp.arange(dst.size, dtype=np.int64).reshape(dst.shape)[index]
        vals = xp.broadcast_to(values.astype(dst.dtype, copy=False),
                               flat.shape)
        _scatter_add_rows(rt, work.reshape(-1), flat.reshape(-1),
                          vals.reshape(-1))
    if work is not dst:
        dst[...] = work

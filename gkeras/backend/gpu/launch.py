"""Launch configurations and the kernel runtime, importable without CuPy.

The GPU wrappers of `backend.gpu` are written against a small *runtime*
object with two members:

- `xp`: the array module (CuPy on the GPU);
- `launch(filename, name, grid, block, args, shared_mem=0)`: runs entry
  point `name` of `kernels/<filename>`, like `cupy.RawKernel.__call__`.

`CupyRuntime` is the real one. The tests pass `tests/cuda_emu`'s
`EmuRuntime` (NumPy + the CUDA-on-CPU emulator) to the same wrapper code,
so the grids, blocks and argument tuples checked on the CPU are exactly the
ones the GPU receives. Scalars in argument tuples must be NumPy scalars of
the C type the kernel declares (`np.int32`, `np.float32`): CuPy passes a
Python int as int64 and a Python float as double.
"""

import functools

import numpy as np

__all__ = ["ceil_div", "grid_stride_1d", "CupyRuntime", "cupy_runtime",
           "i32", "f32", "MAX_GRID_X", "INT32_MAX"]

MAX_GRID_X = 2 ** 31 - 1
INT32_MAX = 2 ** 31 - 1


def ceil_div(a, b):
    """Returns ceil(a / b) for non-negative ints."""
    return -(-int(a) // int(b))


def i32(v):
    """`np.int32(v)`, with a clear error when `v` does not fit."""
    v = int(v)
    if not -2 ** 31 <= v <= INT32_MAX:
        raise ValueError(f"value {v} does not fit in a 32-bit kernel index; "
                         "split the batch into smaller pieces")
    return np.int32(v)


def f32(v):
    """`np.float32(v)`."""
    return np.float32(v)


def grid_stride_1d(total, block=256, max_blocks=65535):
    """Grid and block for an element-wise grid-stride loop over `total`.

    Args:
        total: number of elements (threads needed).
        block: threads per block.
        max_blocks: cap on the grid; the kernel loops over the rest.

    Returns:
        `((grid,), (block,))`, grid >= 1.
    """
    return (max(1, min(ceil_div(total, block), max_blocks)),), (block,)


class CupyRuntime:
    """The GPU runtime: CuPy arrays, kernels from `kernels/*.cu` through
    `cupy.RawModule` (compiled once per process, see `_module.py`)."""

    @property
    def xp(self):
        import cupy
        return cupy

    @property
    def compute_capability(self):
        """The current device's compute capability as an int (80 for
        sm_80); `precision.matmul` reads it for bfloat16 GEMMs."""
        import cupy
        return int(cupy.cuda.Device().compute_capability)

    def launch(self, filename, name, grid, block, args, shared_mem=0):
        """Launches entry point `name` of `kernels/<filename>` (the handle
        is cached per file and entry point, see `_module.get_kernel`)."""
        _get_kernel()(filename, name)(_dims(grid), _dims(block), tuple(args),
                                      shared_mem=shared_mem)


def _dims(v):
    """A grid or block as the tuple of Python ints CuPy requires."""
    if isinstance(v, tuple) and all(type(a) is int for a in v):
        return v
    return tuple(int(a) for a in np.atleast_1d(v).tolist())


@functools.lru_cache(maxsize=None)
def _get_kernel():
    from gkeras.backend.gpu._module import get_kernel
    return get_kernel


@functools.lru_cache(maxsize=None)
def cupy_runtime():
    """Returns the process-wide `CupyRuntime`."""
    return CupyRuntime()

"""Fused multi-tensor optimizer updates (CuPy side, `kernels/optimizers.cu`).

The NumPy optimizers in `gkeras/optimizers` update one variable at a time
with ten-odd in-place ufuncs; on the GPU each ufunc is a kernel launch, so
a model with 30 variables pays ~400 launches per step for Adam. Here one
launch updates every float32 variable of the step, through a pointer table
of (gradient, variable, slots) per tensor and a table of chunks.

The tables live on the device and are rebuilt only when an address
changes: the variable/slot part when a buffer is replaced (rare), the
gradient column when the memory pool hands out different gradient buffers
(then one small host-to-device copy, never a device-to-host read). Scalars
(learning rate, bias corrections) are kernel arguments computed on the
host from the optimizer's host-side step counter, so a step never waits
for the GPU.

Not part of the `backend.cpu`/`backend.gpu` kernel contract: the NumPy
reference is the optimizer classes themselves (tests compare the two
through the CUDA emulator).
"""

import numpy as np

__all__ = ["MultiTensorPlan", "multi_tensor_update", "MT_THREADS",
           "MT_CHUNK", "ENTRY_POINTS"]

# Mirrors of the #defines in kernels/optimizers.cu.
MT_THREADS = 256
MT_CHUNK = 4096

# kind -> (entry point, number of scalar arguments after n_ptr)
ENTRY_POINTS = {"sgd": ("sgd_mt_f32", 3), "adam": ("adam_mt_f32", 4),
                "rmsprop": ("rmsprop_mt_f32", 6)}


def address(a):
    """The device (CuPy) or host (NumPy, under the emulator) address of the
    first element of a C-contiguous array."""
    if isinstance(a, np.ndarray):
        return a.ctypes.data
    return a.data.ptr


class MultiTensorPlan:
    """The device-side tables of one optimizer's fused update, cached.

    Holds the chunk table and the pointer table and rebuilds each only when
    the addresses or sizes it was built from change. One plan per optimizer
    (and dtype).
    """

    def __init__(self):
        self.static_key = None
        self.grad_key = None
        self.host_meta = None
        self.meta = None
        self.chunks = None
        self.n_chunks = 0
        self.uploads = 0  # host-to-device table copies, for tests/benchmarks

    def prepare(self, xp, grads, columns, decay):
        """Updates the tables for this step.

        Args:
            xp: the array module of the arrays.
            grads: list of gradient arrays (float32, C-contiguous).
            columns: list, per tensor, of `[variable, slot_0, ...]` arrays.
            decay: list of bools, per tensor: apply weight decay.
        """
        static_key = tuple(
            (tuple(address(a) for a in col), int(col[0].size), bool(d))
            for col, d in zip(columns, decay))
        if static_key != self.static_key:
            n_ptr = 1 + len(columns[0])
            meta = np.zeros((len(columns), n_ptr), np.int64)
            rows = []
            for t, (col, d) in enumerate(zip(columns, decay)):
                meta[t, 1:] = [address(a) for a in col]
                n = int(col[0].size)
                for start in range(0, n, MT_CHUNK):
                    rows.append((t, start, min(MT_CHUNK, n - start), int(d)))
            self.host_meta = meta
            self.n_chunks = len(rows)
            self.chunks = xp.asarray(np.asarray(rows, np.int64).reshape(-1, 4))
            self.uploads += 1
            self.static_key, self.grad_key = static_key, None
        grad_key = tuple(address(g) for g in grads)
        if grad_key != self.grad_key:
            self.host_meta[:, 0] = grad_key
            self.meta = xp.asarray(self.host_meta)
            self.uploads += 1
            self.grad_key = grad_key


def multi_tensor_update(rt, kind, plan, grads, columns, decay, scalars,
                        wd_factor=1.0):
    """Runs one fused optimizer update over many float32 tensors, in place.

    Args:
        rt: the kernel runtime (`launch.cupy_runtime()`, or the emulator's).
        kind: `"sgd"`, `"adam"` or `"rmsprop"` (see `kernels/optimizers.cu`
            for the slot order and formulas of each).
        plan: the optimizer's `MultiTensorPlan`.
        grads: list of float32 C-contiguous gradients, one per tensor.
        columns: list, per tensor, of `[variable, slot_0, ...]` float32
            C-contiguous arrays of the gradient's size; the same number of
            slots for every tensor.
        decay: list of bools: apply `w *= wd_factor` first.
        scalars: the entry point's scalar arguments after `n_ptr` and before
            `wd_factor`, as NumPy scalars of the declared C types.
        wd_factor: `1 - lr * weight_decay`.

    Returns:
        None; the variables and slots are updated in place.
    """
    name, n_scalars = ENTRY_POINTS[kind]
    if len(scalars) != n_scalars:
        raise ValueError(f"multi_tensor_update({kind!r}): expected "
                         f"{n_scalars} scalars, received {len(scalars)}")
    if not grads:
        return
    n_ptr = 1 + len(columns[0])
    for g, col in zip(grads, columns):
        if len(col) + 1 != n_ptr or any(a.size != g.size for a in col):
            raise ValueError(
                f"multi_tensor_update({kind!r}): every tensor needs "
                f"{n_ptr - 1} arrays of its gradient's size; received sizes "
                f"{[a.size for a in col]} for a gradient of size {g.size}")
    plan.prepare(rt.xp, grads, columns, decay)
    if plan.n_chunks == 0:
        return
    rt.launch("optimizers.cu", name, (plan.n_chunks,), (MT_THREADS,),
              (plan.meta, plan.chunks, np.int32(n_ptr)) + tuple(scalars)
              + (np.float32(wd_factor),))

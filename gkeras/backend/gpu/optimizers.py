"""Fused multi-tensor optimizer updates (CuPy side, `kernels/optimizers.cu`).

The NumPy optimizers in `gkeras/optimizers` update one variable at a time
with ten-odd in-place ufuncs; on the GPU each ufunc is a kernel launch, so
a model with 30 variables pays ~400 launches per step for Adam. Here one
launch updates every float32 variable of the step, through a pointer table
of (gradient, variable, slots) per tensor and a table of chunks.

The tables live on the device and are rebuilt only when an address
changes: the variable/slot part when a buffer is replaced (rare), the
gradient column when the memory pool hands out different gradient buffers
(then one small asynchronous copy from pinned memory, queued in stream
order; never a device-to-host read, never a wait for the GPU). Scalars
(learning rate, bias corrections) are kernel arguments computed on the
host from the optimizer's host-side step counter, so a step never waits
for the GPU.

Mixed precision: variables and slots must be float32 (master weights);
gradients may be float32, float16 or bfloat16 (`*_mt_f16` / `*_mt_bf16`
entry points read them and do the float32 arithmetic of the float32
kernels, so a 16-bit gradient updates exactly as its float32 value). The
gradients of one launch share a dtype; a step with mixed gradient dtypes
casts them all to float32.

Not part of the `backend.cpu`/`backend.gpu` kernel contract: the NumPy
reference is the optimizer classes themselves (tests compare the two
through the CUDA emulator).
"""

import numpy as np

from gkeras.backend.gpu import precision

__all__ = ["MultiTensorPlan", "multi_tensor_update", "MT_THREADS",
           "MT_CHUNK", "ENTRY_POINTS"]

# Mirrors of the #defines in kernels/optimizers.cu.
MT_THREADS = 256
MT_CHUNK = 4096

# kind -> (entry point, number of scalar arguments after n_ptr)
ENTRY_POINTS = {"sgd": ("sgd_mt_f32", 3), "adam": ("adam_mt_f32", 4),
                "rmsprop": ("rmsprop_mt_f32", 6),
                "adagrad": ("adagrad_mt_f32", 2),
                "adamax": ("adamax_mt_f32", 4), "lion": ("lion_mt_f32", 5),
                "nadam": ("nadam_mt_f32", 7)}


def address(a):
    """The device (CuPy) or host (NumPy, under the emulator) address of the
    first element of a C-contiguous array."""
    if isinstance(a, np.ndarray):
        return a.ctypes.data
    return a.data.ptr


class _TableUploader:
    """Copies a small host table into one device array, asynchronously.

    `cupy.asarray(numpy_array)` copies from pageable memory, which CUDA
    performs only after the GPU has finished all the work queued before it
    (a stall of the whole step). Here the table goes through one of a few
    page-locked buffers with `ndarray.set(..., stream=current)`: the copy is
    queued behind the kernels that still read the old table (stream order)
    and the host does not wait. A pinned buffer is reused after its copy's
    event, recorded `_RING` uploads earlier, is done.
    """

    _RING = 4

    def __init__(self, xp):
        self.xp = xp
        self.device = None
        self.slots = []  # [pinned buffer, event or None]
        self.next = 0
        cuda = getattr(xp, "cuda", None)
        self.async_ok = xp is not np and all(
            hasattr(cuda, n) for n in ("alloc_pinned_memory",
                                       "get_current_stream"))

    def upload(self, host):
        """Returns the device copy of `host` (int64, C-contiguous)."""
        xp = self.xp
        if not self.async_ok:
            return xp.array(host)  # the emulator, or a CuPy without pinning
        if self.device is None or self.device.shape != host.shape:
            self.device = xp.empty(host.shape, host.dtype)
            self.slots = [[xp.cuda.alloc_pinned_memory(host.nbytes), None]
                          for _ in range(self._RING)]
        slot = self.slots[self.next]
        self.next = (self.next + 1) % self._RING
        if slot[1] is not None and not slot[1].done:
            slot[1].synchronize()  # a copy queued _RING uploads ago
        pinned = np.frombuffer(slot[0], host.dtype, host.size).reshape(
            host.shape)
        np.copyto(pinned, host)
        stream = xp.cuda.get_current_stream()
        self.device.set(pinned, stream=stream)
        slot[1] = stream.record()
        return self.device


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
        self._uploader = None
        self.partial = None  # per-chunk sums of squares (global clipnorm)
        self.scale = None    # the clipping scales, per tensor
        self.first = None    # (n_tensors + 1,) first chunk of each tensor

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
            rows, first = [], [0]
            for t, (col, d) in enumerate(zip(columns, decay)):
                meta[t, 1:] = [address(a) for a in col]
                n = int(col[0].size)
                for start in range(0, n, MT_CHUNK):
                    rows.append((t, start, min(MT_CHUNK, n - start), int(d)))
                first.append(len(rows))
            self.host_meta = meta
            self.n_chunks = len(rows)
            self.chunks = xp.asarray(np.asarray(rows, np.int64).reshape(-1, 4))
            # Each tensor's chunks, for per-tensor clipping norms.
            self.first = xp.asarray(np.asarray(first, np.int64))
            self.uploads += 1
            self.static_key, self.grad_key = static_key, None
        grad_key = tuple(address(g) for g in grads)
        if grad_key != self.grad_key:
            self.host_meta[:, 0] = grad_key
            if self._uploader is None or self._uploader.xp is not xp:
                self._uploader = _TableUploader(xp)
            self.meta = self._uploader.upload(self.host_meta)
            self.uploads += 1
            self.grad_key = grad_key


def multi_tensor_update(rt, kind, plan, grads, columns, decay, scalars,
                        wd_factor=1.0, clip_norm=None, clip_per_tensor=False):
    """Runs one fused optimizer update over many float32 tensors, in place
    (gradients float32, float16 or bfloat16).

    Args:
        rt: the kernel runtime (`launch.cupy_runtime()`, or the emulator's).
        kind: a key of `ENTRY_POINTS` (`"sgd"`, `"adam"`, `"rmsprop"`,
            `"adagrad"`, `"adamax"`, `"lion"`, `"nadam"`; see
            `kernels/optimizers.cu` for the slot order and formulas of each).
        plan: the optimizer's `MultiTensorPlan`.
        grads: list of C-contiguous gradients, one per tensor: float32,
            float16 or bfloat16 (mixed dtypes are cast to float32).
        columns: list, per tensor, of `[variable, slot_0, ...]` float32
            C-contiguous arrays of the gradient's size; the same number of
            slots for every tensor.
        decay: list of bools: apply `w *= wd_factor` first.
        scalars: the entry point's scalar arguments after `n_ptr` and before
            `wd_factor`, as NumPy scalars of the declared C types.
        wd_factor: `1 - lr * weight_decay`.
        clip_norm: when given, the gradients are first scaled so that their
            global norm (or, with `clip_per_tensor`, each one's own norm)
            is at most `clip_norm` (Keras's `global_clipnorm` /
            `clipnorm`), on the device: two more launches (per-chunk sums
            of squares, then the scales), no host read.
        clip_per_tensor: clip each tensor by its own norm.

    Returns:
        None; the variables and slots are updated in place.
    """
    name, n_scalars = ENTRY_POINTS[kind]
    if len(scalars) != n_scalars:
        raise ValueError(f"multi_tensor_update({kind!r}): expected "
                         f"{n_scalars} scalars, received {len(scalars)}")
    if not grads:
        return
    for col in columns:
        for a in col:
            if a.dtype != np.float32:
                raise TypeError(
                    f"multi_tensor_update({kind!r}): variables and slots must "
                    f"be float32 (master weights); received an array of "
                    f"dtype {a.dtype}")
    gdt = grads[0].dtype
    if any(g.dtype != gdt for g in grads) or not (
            gdt == np.float32 or precision.is_half(gdt)):
        # One launch reads one gradient type.
        grads = [rt.xp.ascontiguousarray(g, dtype=rt.xp.float32)
                 for g in grads]
        gdt = np.dtype(np.float32)
    sfx = "_" + precision.suffix(gdt)
    name = name[:-len("_f32")] + sfx
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
    gscale = None
    if clip_norm is not None:
        xp = rt.xp
        n_t = len(grads)
        if plan.partial is None or plan.partial.shape[0] != plan.n_chunks \
                or plan.scale.shape[0] != n_t:
            plan.partial = xp.empty((plan.n_chunks,), dtype=xp.float32)
            plan.scale = xp.empty((n_t,), dtype=xp.float32)
        rt.launch("optimizers.cu", "mt_sumsq" + sfx, (plan.n_chunks,),
                  (MT_THREADS,), (plan.meta, plan.chunks, np.int32(n_ptr),
                                  plan.partial))
        if clip_per_tensor:
            rt.launch("optimizers.cu", "mt_clip_tensor_scale_f32", (n_t,),
                      (MT_THREADS,), (plan.partial, plan.first,
                                      np.float32(clip_norm), plan.scale))
        else:
            rt.launch("optimizers.cu", "mt_clip_scale_f32", (1,),
                      (MT_THREADS,), (plan.partial, np.int32(plan.n_chunks),
                                      np.float32(clip_norm),
                                      np.float32(1.0 / clip_norm),
                                      plan.scale, np.int32(n_t)))
        gscale = plan.scale
    rt.launch("optimizers.cu", name, (plan.n_chunks,), (MT_THREADS,),
              (plan.meta, plan.chunks, np.int32(n_ptr)) + tuple(scalars)
              + (np.float32(wd_factor), gscale))

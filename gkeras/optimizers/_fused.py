"""The GPU dispatch of the optimizers: one fused launch per step.

`Optimizer._decay_and_update` calls `fused_update` when the optimizer
declares a fused kind (SGD, Adam/AdamW, RMSprop, Adagrad, Adamax, Lion,
Nadam; Adadelta and Ftrl keep the per-variable path). The float32 CuPy
variables of the step go to `backend.gpu.optimizers.multi_tensor_update`
(kernels/optimizers.cu, weight decay included); everything else (NumPy
arrays, other dtypes, non-contiguous buffers) is handed back for the
per-variable NumPy-style path, which is the reference the kernel matches
bit for bit.
"""

import numpy as np

from gkeras import backend


def runtime_for(array):
    """The kernel runtime for `array`, or None when it has no fused path.

    CuPy arrays get the CuPy runtime. Tests replace this function to send
    NumPy arrays through the CUDA emulator instead.
    """
    if type(array) is np.ndarray or not backend.is_cupy_array(array):
        return None
    # The kernel reaches the arrays through their device addresses.
    if not hasattr(getattr(array, "data", None), "ptr"):
        return None
    from gkeras.backend.gpu.launch import cupy_runtime
    return cupy_runtime()


_FUSABLE = {}


def fusable(cls):
    """Whether optimizer class `cls` may take the fused path: the class
    that declares `_fused_kind` must also be the one whose `update_step`,
    `_backend_update_step`, `_apply_weight_decay` and `_clip_gradients`
    run, so a subclass that overrides the math keeps its own math."""
    ok = _FUSABLE.get(cls)
    if ok is None:
        owner = next(k for k in cls.__mro__ if "_fused_kind" in k.__dict__)
        ok = owner.__dict__["_fused_kind"] is not None and all(
            getattr(cls, n) is getattr(owner, n)
            for n in ("update_step", "_backend_update_step",
                      "_apply_weight_decay", "_clip_gradients",
                      "_fused_slots", "_fused_scalars"))
        _FUSABLE[cls] = ok
    return ok


def _plan(optimizer):
    plan = optimizer.__dict__.get("_fused_plan")
    if plan is None:
        from gkeras.backend.gpu.optimizers import MultiTensorPlan
        plan = optimizer.__dict__["_fused_plan"] = MultiTensorPlan()
    return plan


def fused_update(optimizer, grads, variables, learning_rate):
    """Clips the gradients, then applies weight decay and the update of
    `optimizer` to the variables that have a fused path, in one launch.

    Clipping is the optimizer's (`clipnorm`, `clipvalue`,
    `global_clipnorm`): `clipnorm` runs on the device for the fused
    tensors, and `global_clipnorm` too when every gradient takes the fused
    path (two more launches, no host read); otherwise the gradients are
    clipped first by `Optimizer._clip_gradients`, as on the per-variable
    path.

    Args:
        optimizer: an optimizer with `_fused_kind`, `_fused_slots(index)`
            and `_fused_scalars(learning_rate)`.
        grads: the gradients (raw arrays, not yet clipped), one per
            variable.
        variables: the Variables.
        learning_rate: this step's learning rate (a Python float).

    Returns:
        `(grads, variables)` left for the per-variable path, the gradients
        clipped (empty lists when everything was fused).
    """
    if not fusable(type(optimizer)):
        return optimizer._clip_gradients(grads), variables
    rt = None
    fused, columns, decay, rest = [], [], [], []
    index = optimizer._trainable_variables_indices
    for i, (g, v) in enumerate(zip(grads, variables)):
        w = v.data
        this_rt = runtime_for(w)
        if (this_rt is None or (rt is not None and this_rt is not rt)
                or w.dtype != np.float32 or not w.flags.c_contiguous
                or g.size != w.size):
            rest.append(i)
            continue
        slots = optimizer._fused_slots(index[id(v)])
        if not all(s.flags.c_contiguous and s.dtype == np.float32
                   and runtime_for(s) is this_rt for s in slots):
            rest.append(i)
            continue
        rt = this_rt
        fused.append(i)
        columns.append([w] + list(slots))
        decay.append(optimizer.weight_decay is not None
                     and optimizer._use_weight_decay(v))
    # Clipping on the device: `clipnorm` per tensor (the others clip
    # their own gradients below), `global_clipnorm` only when every
    # gradient is fused (the norm spans them all).
    per_tensor = bool(optimizer.clipnorm and optimizer.clipnorm > 0)
    clip = optimizer.clipnorm if per_tensor else optimizer.global_clipnorm
    device_clip = bool(fused) and clip is not None and clip > 0 and (
        per_tensor or not rest)
    if not device_clip:
        grads = optimizer._clip_gradients(grads)
    elif rest:
        clipped = optimizer._clip_gradients([grads[i] for i in rest])
        grads = list(grads)
        for i, g in zip(rest, clipped):
            grads[i] = g
    if fused:
        from gkeras.backend.gpu.optimizers import multi_tensor_update
        xp = rt.xp
        fused_g = []
        for i, w in zip(fused, (c[0] for c in columns)):
            g = grads[i]
            # 16-bit gradients go in as they are (the kernels read them
            # exactly); anything else becomes float32.
            if (type(g) is not type(w) or not g.flags.c_contiguous
                    or not (g.dtype == np.float32
                            or g.dtype.name in ("float16", "bfloat16"))):
                g = xp.ascontiguousarray(xp.asarray(g), dtype=xp.float32)
            fused_g.append(g)
        wd = optimizer.weight_decay
        wd_factor = 1.0 - learning_rate * wd if wd is not None else 1.0
        kind, scalars = optimizer._fused_scalars(learning_rate)
        multi_tensor_update(rt, kind, _plan(optimizer), fused_g, columns,
                            decay, scalars, wd_factor,
                            clip_norm=float(clip) if device_clip else None,
                            clip_per_tensor=per_tensor)
    return [grads[i] for i in rest], [variables[i] for i in rest]


_CPU_OPT = []


def _cpu_optimizers():
    # Imported once: a function-level import costs ~1 us on every step.
    from gkeras.backend.cpu import optimizers
    _CPU_OPT.append(optimizers)
    return optimizers


def cpu_fused_update(optimizer, grads, variables, learning_rate):
    """Applies weight decay and the update of `optimizer` to the NumPy
    float32 variables in one compiled pass each (backend/cpu/optimizers.py,
    when the optional numba JIT is enabled).

    The gradients must already be clipped (`fused_update` hands back
    clipped gradients). The result is the same bits as the per-variable
    NumPy path, which stays the reference and takes everything else.
    The flat views of each variable's arrays are kept between steps (in
    `optimizer._cpu_fused_plan`, checked by identity every step), which
    keeps the per-variable Python work of a small model's step small.

    Args:
        optimizer: an optimizer with `_fused_kind`, `_fused_slots(index)`
            and `_fused_scalars(learning_rate)`.
        grads: the clipped gradients, one per variable.
        variables: the Variables.
        learning_rate: this step's learning rate (a Python float).

    Returns:
        `(grads, variables)` left for the per-variable path.
    """
    cpu_opt = _CPU_OPT[0] if _CPU_OPT else _cpu_optimizers()
    kind = optimizer._fused_kind
    if not cpu_opt.enabled(kind) or not fusable(type(optimizer)):
        return grads, variables
    kind, scalars = optimizer._fused_scalars(learning_rate)
    plan = optimizer.__dict__.get("_cpu_fused_plan")
    if plan is None:
        plan = optimizer.__dict__["_cpu_fused_plan"] = {}
    index = optimizer._trainable_variables_indices
    fused_g, arrays, decay, rest = [], [], [], []
    for i, (g, v) in enumerate(zip(grads, variables)):
        w = v.data
        slots = optimizer._fused_slots(index[id(v)])
        ids = tuple(map(id, slots))
        entry = plan.get(id(v))
        # The entry holds the arrays, so equal ids mean the same arrays.
        if entry is None or entry[0] is not w or entry[1] != ids:
            ok = cpu_opt.eligible(w, slots)
            entry = (w, ids, slots,
                     cpu_opt.kernel_arrays(kind, [w] + slots, scalars)
                     if ok else None,
                     optimizer._use_weight_decay(v))
            plan[id(v)] = entry
        if (entry[3] is None or type(g) is not np.ndarray
                or g.size != w.size):
            rest.append(i)
            continue
        fused_g.append(g)
        arrays.append(entry[3])
        decay.append(entry[4])
    if fused_g:
        wd = optimizer.weight_decay
        use_decay = wd is not None
        cpu_opt.multi_tensor_update(
            kind, fused_g, arrays, decay if use_decay else [False] *
            len(decay), scalars, 1.0 - learning_rate * wd if use_decay
            else 1.0)
    if not rest:
        return [], []
    return [grads[i] for i in rest], [variables[i] for i in rest]


def cpu_ema_update(pairs, momentum):
    """Updates the moving averages of `use_ema` for the NumPy float32
    variables in one compiled pass each (when the optional numba JIT is
    enabled), with the NumPy path's bits.

    Args:
        pairs: `(variable, average)` Variable pairs.
        momentum: this step's momentum (a float).

    Returns:
        The pairs left for the NumPy path.
    """
    cpu_opt = _CPU_OPT[0] if _CPU_OPT else _cpu_optimizers()
    if not cpu_opt.jit.enabled():
        return pairs
    rest, avgs, ws = [], [], []
    for var, avg in pairs:
        w, a = var.data, avg.data
        if cpu_opt.eligible(w, [a]):
            ws.append(w)
            avgs.append(a)
        else:
            rest.append((var, avg))
    cpu_opt.ema_update(avgs, ws, momentum)
    return rest

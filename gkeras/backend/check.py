"""`python -m gkeras.backend.check`: the first command to run on a new
machine, GPU or not.

It prints the device, the driver/CUDA/NVRTC/CuPy versions and the backend
`GKERAS_BACKEND` chooses; compiles every `kernels/*.cu`; runs the GPU
primitives (every kernel entry point) against the NumPy path on small odd
shapes; trains the tutorial models (MLP, BatchNorm CNN, Embedding+LSTM,
Embedding+GRU, Transformer block) a few steps on both backends from the
same weights and compares their losses and predictions. Each kernel and
each model gets a one-line verdict; the exit status is 0 when nothing
failed.

On a machine without a usable GPU the same checks run through the NumPy
path only (a kernel is then "not run"), and the report says that no GPU
was found and why.

    python -m gkeras.backend.check [--steps N] [--no-models]
"""

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

# ------------------------------------------------------------ primitives
# Each case takes the kernel module (`backend.cpu` or `backend.gpu`), a
# host->array converter and a fresh seeded RNG, and returns its outputs.
# Run once per backend with the same seed, so the inputs are identical.


def _f32(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def _case_conv(k, dev, rng):
    out = []
    for xs, ks, st, pad, dil, g, f in (
            ((1, 7, 5, 4), (3, 2), (2, 1), ((1, 1), (0, 1)), (1, 2), 2, 4),
            ((1, 8, 2), (3,), (1,), ((4, 0),), (2,), 1, 3)):
        x = _f32(rng, *xs)
        w = _f32(rng, *ks, xs[-1] // g, f)
        y = k.conv_forward(dev(x), dev(w), st, pad, dil, g)
        dy = _f32(rng, *y.shape)
        out += [y, k.conv_backward_input(dev(dy), dev(w), xs, st, pad, dil,
                                         g),
                k.conv_backward_kernel(dev(dy), dev(x), w.shape, st, pad,
                                       dil, g)]
    return out


def _case_pool(k, dev, rng):
    out = []
    for xs, p, s, pad in (((2, 7, 5, 3), (2, 2), (2, 2), ((0, 1), (0, 1))),
                          ((1, 4, 5, 3, 2), (2, 3, 2), (2, 1, 2),
                           ((0, 1), (1, 1), (0, 1)))):
        x = _f32(rng, *xs)
        y, arg = k.max_pool_forward(dev(x), p, s, pad)
        dy = _f32(rng, *y.shape)
        out += [y, arg, k.max_pool_backward(dev(dy), dev(x), arg, p, s, pad),
                k.avg_pool_forward(dev(x), p, s, pad),
                k.avg_pool_backward(dev(dy), xs, p, s, pad)]
    x = _f32(rng, 3, 5, 4, 6)
    out += [k.global_avg_pool(dev(x)), *k.global_max_pool(dev(x)),
            k.global_avg_pool_backward(dev(_f32(rng, 3, 6)), x.shape)]
    return out


def _case_batchnorm(k, dev, rng):
    x = _f32(rng, 37, 5, scale=2.0) + 3
    gamma, beta = _f32(rng, 5), _f32(rng, 5)
    y, mean, var, inv_std = k.batchnorm_forward_train(
        dev(x), dev(gamma), dev(beta), 1e-3)
    grads = k.batchnorm_backward(dev(_f32(rng, 37, 5)), dev(x), dev(gamma),
                                 mean, inv_std)
    return [y, mean, var, inv_std, *grads]


def _rnn_inputs(rng, n, t, u, gates):
    mask = rng.random((n, t)) > 0.3
    mask[0] = True
    return (_f32(rng, n, t, gates * u), _f32(rng, n, u, scale=0.5),
            _f32(rng, n, u, scale=0.5),
            _f32(rng, u, gates * u, scale=1 / np.sqrt(u)), mask)


def _case_lstm(k, dev, rng):
    xw, h0, c0, r, mask = _rnn_inputs(rng, 3, 6, 7, 4)
    fw = k.lstm_forward(dev(xw), dev(h0), dev(c0), dev(r), mask=dev(mask),
                        go_backwards=True)
    back = k.lstm_backward(dev(_f32(rng, 3, 6, 7)), dev(_f32(rng, 3, 7)),
                           dev(_f32(rng, 3, 7)), fw[3])
    return [*fw[:3], *back]


def _case_gru(k, dev, rng):
    out = []
    for reset_after in (True, False):
        xw, h0, _, r, mask = _rnn_inputs(rng, 3, 5, 9, 3)
        rb = _f32(rng, 27) if reset_after else None
        fw = k.gru_forward(dev(xw), dev(h0), dev(r),
                           None if rb is None else dev(rb), mask=dev(mask),
                           reset_after=reset_after)
        out += [*fw[:2], *k.gru_backward(dev(_f32(rng, 3, 5, 9)),
                                         dev(_f32(rng, 3, 9)), fw[2])]
    return out


def _case_simple_rnn(k, dev, rng):
    xw, h0, _, r, mask = _rnn_inputs(rng, 4, 5, 11, 1)
    fw = k.simple_rnn_forward(dev(xw), dev(h0), dev(r), mask=dev(mask))
    return [*fw[:2], *k.simple_rnn_backward(dev(_f32(rng, 4, 5, 11)), None,
                                            fw[2])]


def _case_attention(k, dev, rng):
    out = []
    for impl in ("flash", "materialized"):
        q, kk, v = (_f32(rng, 2, 2, 9, 16), _f32(rng, 2, 2, 13, 16),
                    _f32(rng, 2, 2, 13, 8))
        mask = rng.random((2, 1, 9, 13)) > 0.3
        kw = dict(mask=dev(mask), is_causal=True)
        if k.__name__.endswith("gpu"):
            kw["implementation"] = impl
        y, cache = k.attention_forward(dev(q), dev(kk), dev(v), **kw)
        out += [y, *k.attention_backward(dev(_f32(rng, 2, 2, 9, 8)), cache)]
    s = _f32(rng, 2, 3, 7, 11)
    m = rng.random((2, 1, 7, 11)) > 0.4
    p = k.masked_softmax_forward(dev(s), dev(m), scale=0.5)
    p = p[0] if isinstance(p, tuple) else p
    out += [p, k.masked_softmax_backward(dev(_f32(rng, *s.shape)), p,
                                         dev(m), scale=0.5)]
    y = k.softmax_forward(dev(_f32(rng, 5, 33)))
    out += [y, k.softmax_backward(dev(_f32(rng, 5, 33)), y)]
    return out


def _case_layernorm(k, dev, rng):
    out = []
    for rms in (False, True):
        x, gamma, beta = _f32(rng, 19, 301) + 1, _f32(rng, 301), \
            _f32(rng, 301)
        y, mean, inv_std = k.layernorm_forward(dev(x), dev(gamma), dev(beta),
                                               1e-3, rms)
        out += [y, mean, inv_std, *k.layernorm_backward(
            dev(_f32(rng, 19, 301)), dev(x), dev(gamma), mean, inv_std, rms)]
    return out


def _case_scatter(k, dev, rng):
    out = []
    for dtype in (np.float32, np.float64):
        dst = _f32(rng, 11, 6).astype(dtype)
        ids = rng.integers(-11, 11, (4, 9))
        ids[0] = 2  # one id many times (a padding token)
        d = dev(dst.copy())
        k.scatter_add(d, dev(ids), dev(_f32(rng, 4, 9, 6).astype(dtype)))
        # A general index (take_along_axis-style coordinates).
        e = dev(np.zeros((5, 7), dtype))
        rows = np.repeat(np.arange(5)[:, None], 4, axis=1)
        k.scatter_add(e, (dev(rows), dev(rng.integers(0, 7, (5, 4)))),
                      dev(_f32(rng, 5, 4).astype(dtype)))
        out += [d, e]
    return out


def _case_optimizers(k, dev, rng):
    # The fused multi-tensor update (`k` = backend.gpu) against the
    # per-variable update (`k` = backend.cpu: the optimizer class with its
    # fused path switched off), both on the backend's arrays: on a GPU the
    # reference is the per-variable elementwise math run by CuPy.
    from gkeras import Variable, optimizers

    fused = k.__name__.endswith("gpu")
    out = []
    for cls, kw in ((optimizers.Adam, dict(amsgrad=True)),
                    (optimizers.Adam, dict(global_clipnorm=0.5)),
                    (optimizers.SGD, dict(clipnorm=0.5)),
                    (optimizers.AdamW, dict(weight_decay=0.1)),
                    (optimizers.SGD, dict(momentum=0.9, nesterov=True)),
                    (optimizers.RMSprop, dict(centered=True, momentum=0.5)),
                    (optimizers.Adagrad, dict()), (optimizers.Adamax, dict()),
                    (optimizers.Lion, dict(weight_decay=0.1)),
                    (optimizers.Nadam, dict())):
        shapes = [(7,), (13, 5), (4099,)]
        w0 = [_f32(rng, *s) for s in shapes]
        g = [_f32(rng, *s) for s in shapes]
        variables = [Variable(w) for w in w0]
        if not fused:
            cls = type(cls.__name__, (cls,), {"_fused_kind": None})
        opt = cls(learning_rate=0.01, **kw)
        for _ in range(2):
            opt.apply([dev(a) for a in g], variables)
        out += [v.data for v in variables]
    if fused and not getattr(opt, "_fused_plan", None):
        raise AssertionError("the fused optimizer path was not taken")
    return out


def _case_dropout_mask(k, dev, rng):
    return [k.dropout_keep_mask(7, (2, 3, 5, 9), 0.3)]


def _case_probe(k, dev, rng):
    if not k.__name__.endswith("gpu"):
        return []
    from gkeras.backend.gpu.probe import probe_kernels
    why = probe_kernels()
    if why:
        raise RuntimeError(why)
    return []


def _bf16_round(a):
    """float32 values rounded to bfloat16 (nearest even), as float32: the
    CPU reference's inputs when ml_dtypes is not installed."""
    bits = np.ascontiguousarray(a, np.float32).view(np.uint32)
    bits = (bits + np.uint32(0x7FFF) + ((bits >> 16) & np.uint32(1))) \
        & np.uint32(0xFFFF0000)
    return bits.view(np.float32)


def _half_case(dtype_name):
    """The 16-bit kernels (`*_f16` / `*_bf16`): on the GPU with float16 /
    bfloat16 inputs, against the NumPy path in float32 on the same values
    (rounded to the 16-bit type), so only the kernels' float32-accumulated
    arithmetic and their output rounding are measured."""

    def case(k, dev, rng):
        from gkeras import Variable, optimizers

        gpu = k.__name__.endswith("gpu")
        if dtype_name == "float16":
            dt = np.dtype(np.float16)
        else:
            try:
                import ml_dtypes
                dt = np.dtype(ml_dtypes.bfloat16)
            except ImportError:
                if gpu:
                    raise RuntimeError("bfloat16 arrays need the ml_dtypes "
                                       "package (pip install ml_dtypes)")
                dt = None

        def h(a):
            a = np.asarray(a, np.float32)
            if dt is None:
                r = _bf16_round(a)
            else:
                r = a.astype(dt)
            return dev(r) if gpu else np.asarray(r).astype(np.float32)

        def f32(outs):
            from gkeras.backend import to_numpy
            res = []
            for o in outs:
                if o is not None:
                    o = to_numpy(o)
                    if o.dtype.name in ("float16", "bfloat16"):
                        o = o.astype(np.float32)
                res.append(o)
            return res

        out = []
        x, w = _f32(rng, 2, 7, 5, 4), _f32(rng, 3, 2, 2, 6)
        args = ((2, 1), ((1, 1), (0, 1)), (1, 2), 2)
        y = k.conv_forward(h(x), h(w), *args)
        dy = _f32(rng, *y.shape)
        out += [y, k.conv_backward_input(h(dy), h(w), x.shape, *args),
                k.conv_backward_kernel(h(dy), h(x), w.shape, *args)]
        xp_ = _f32(rng, 2, 7, 5, 3)
        pool = ((2, 2), (2, 2), ((0, 1), (0, 1)))
        yp, arg = k.max_pool_forward(h(xp_), *pool)
        dyp = _f32(rng, *yp.shape)
        out += [yp, arg, k.max_pool_backward(h(dyp), h(xp_), arg, *pool),
                k.avg_pool_forward(h(xp_), *pool),
                k.avg_pool_backward(h(dyp), xp_.shape, *pool)]
        xb, gamma = _f32(rng, 37, 5, scale=2.0) + 3, _f32(rng, 5)
        yb, mean, var, inv_std = k.batchnorm_forward_train(
            h(xb), dev(gamma), dev(gamma), 1e-3)
        out += [yb, mean, var, inv_std, *k.batchnorm_backward(
            h(_f32(rng, 37, 5)), h(xb), dev(gamma), mean, inv_std)]
        xl = _f32(rng, 5, 133)
        yl, lm, li = k.layernorm_forward(h(xl), dev(gamma[:1].repeat(133)),
                                         None, 1e-3, False)
        out += [yl, lm, li, *k.layernorm_backward(
            h(_f32(rng, 5, 133)), h(xl), dev(gamma[:1].repeat(133)), lm, li,
            False)]
        for impl in ("flash", "materialized"):
            q, kk, v = (_f32(rng, 1, 2, 9, 8), _f32(rng, 1, 2, 13, 8),
                        _f32(rng, 1, 2, 13, 4))
            kw = dict(mask=dev(rng.random((1, 1, 9, 13)) > 0.3),
                      is_causal=True)
            if gpu:
                kw["implementation"] = impl
            ya, cache = k.attention_forward(h(q), h(kk), h(v), **kw)
            out += [ya, *k.attention_backward(h(_f32(rng, 1, 2, 9, 4)),
                                               cache)]
        ys = k.softmax_forward(h(_f32(rng, 5, 33)))
        out += [ys, k.softmax_backward(h(_f32(rng, 5, 33)), ys)]
        d = h(_f32(rng, 11, 6))
        k.scatter_add(d, dev(rng.integers(-11, 11, (4, 9))),
                      h(_f32(rng, 4, 9, 6)))
        out.append(d)
        xw, h0, c0, r, mask = _rnn_inputs(rng, 3, 5, 7, 4)
        fw = k.lstm_forward(h(xw), h(h0), h(c0), h(r), mask=dev(mask),
                            go_backwards=True)
        out += [*fw[:3], *k.lstm_backward(
            h(_f32(rng, 3, 5, 7)), h(_f32(rng, 3, 7)), h(_f32(rng, 3, 7)),
            fw[3])]
        for reset_after in (True, False):
            xw, h0, _, r, mask = _rnn_inputs(rng, 3, 5, 7, 3)
            rb = h(_f32(rng, 21)) if reset_after else None
            fw = k.gru_forward(h(xw), h(h0), h(r), rb, mask=dev(mask),
                               reset_after=reset_after)
            out += [*fw[:2], *k.gru_backward(h(_f32(rng, 3, 5, 7)),
                                             h(_f32(rng, 3, 7)), fw[2])]
        # Fused optimizers: 16-bit gradients, float32 variables (master
        # weights); the CPU reference is the per-variable path.
        for cls, kw in ((optimizers.Adam, dict(global_clipnorm=0.5)),
                        (optimizers.SGD, dict(momentum=0.9)),
                        (optimizers.RMSprop, dict(centered=True)),
                        (optimizers.Adagrad, {}), (optimizers.Adamax, {}),
                        (optimizers.Lion, {}), (optimizers.Nadam, {})):
            shapes = [(7,), (4099,)]
            variables = [Variable(_f32(rng, *s)) for s in shapes]
            g = [h(_f32(rng, *s)) for s in shapes]
            if not gpu:
                cls = type(cls.__name__, (cls,), {"_fused_kind": None})
            opt = cls(learning_rate=0.01, **kw)
            opt.apply(g, variables)
            out += [v.data for v in variables]
        return f32(out)

    return case


CASES = [("conv", _case_conv, 3e-4), ("pool", _case_pool, 1e-4),
         ("batchnorm", _case_batchnorm, 2e-3), ("lstm", _case_lstm, 5e-4),
         ("gru", _case_gru, 5e-4), ("simple_rnn", _case_simple_rnn, 5e-4),
         ("attention/softmax", _case_attention, 5e-4),
         ("layernorm", _case_layernorm, 5e-4),
         ("scatter_add", _case_scatter, 1e-5),
         ("optimizers", _case_optimizers, 1e-5),
         ("dropout mask", _case_dropout_mask, 0.0),
         ("probe", _case_probe, 0.0),
         ("float16 kernels", _half_case("float16"), 1e-2),
         ("bfloat16 kernels", _half_case("bfloat16"), 5e-2)]


def entry_points():
    """`{file: [entry points]}` of `kernels/*.cu`."""
    from gkeras.backend.kernel_source import kernels_dir
    out = {}
    d = kernels_dir()
    for f in sorted(os.listdir(d)):
        if f.endswith(".cu"):
            with open(os.path.join(d, f), encoding="utf-8") as fh:
                src = re.sub(r"//[^\n]*|/\*.*?\*/", "", fh.read(), flags=re.S)
            out[f] = re.findall(
                r'extern\s+"C"\s+__global__\s+(?:__launch_bounds__\s*\([^)]*'
                r'\)\s*)?void\s+(\w+)\s*\(', src)
    return out


def _host(a):
    from gkeras.backend import to_numpy
    if a is None:
        return None
    return to_numpy(a)


def _compare(got, want, tol):
    """`(None, worst relative error)` when every output matches, else
    `(short description, worst)`."""
    if len(got) != len(want):
        return f"{len(got)} outputs vs {len(want)}", 0.0
    worst = 0.0
    for i, (g, w) in enumerate(zip(got, want)):
        g, w = _host(g), _host(w)
        if g is None or w is None:
            if g is not w:
                return f"output {i}: None on one side only", worst
            continue
        if g.shape != w.shape:
            return f"output {i}: shape {g.shape} vs {w.shape}", worst
        if w.dtype.kind not in "fc":
            if not np.array_equal(g, w):
                return (f"output {i}: {int((g != w).sum())} entries differ",
                        worst)
            continue
        scale = max(1.0, float(np.abs(w).max(initial=0.0)))
        err = float(np.abs(g.astype(np.float64) - w).max(initial=0.0))
        if not np.isfinite(g).all() and np.isfinite(w).all():
            return f"output {i}: non-finite values", worst
        worst = max(worst, err / scale)
        if err > tol * scale + tol:
            return (f"output {i}: max error {err:.3g} (tolerance {tol:g})",
                    worst)
    return None, worst


def _unused_here(filename, name):
    """Why entry point `name` is not used on this GPU, or None: the
    bfloat16 recurrent steps need cuBLAS bfloat16 GEMMs (sm_80+); before
    that bfloat16 sequences run on the float32 kernels."""
    if not (name.endswith("_bf16") and filename in ("lstm.cu", "gru.cu")):
        return None
    from gkeras.backend.gpu import precision
    from gkeras.backend.gpu.launch import cupy_runtime
    try:
        cc = cupy_runtime().compute_capability
    except Exception:  # no device: nothing runs anyway
        return None
    if cc < precision.BF16_GEMM_MIN_CC:
        return ("bfloat16 recurrences use the float32 kernels before "
                "sm_80")
    return None


def check_kernels(gpu, emit):
    """Runs every case; returns `(ok, {file: {entry: verdict}})`."""
    from gkeras import backend as B
    from gkeras.backend import cpu
    launched, current = {}, {}
    if gpu:
        import gkeras.backend.gpu as gk
        from gkeras.backend.gpu import launch as launch_mod
        rt = launch_mod.cupy_runtime()
        original = type(rt).launch

        def recording(self, filename, name, *a, **kw):
            launched.setdefault((filename, name), set()).add(current["case"])
            return original(self, filename, name, *a, **kw)

        type(rt).launch = recording
        xp = B.get_xp()

        def dev(a):
            return None if a is None else xp.asarray(a)
    all_ok, case_ok = True, {}
    try:
        for name, fn, tol in CASES:
            t0 = time.perf_counter()
            try:
                want = fn(cpu, lambda a: a, np.random.default_rng(0))
                if gpu:
                    current["case"] = name
                    got = fn(gk, dev, np.random.default_rng(0))
                    err, worst = _compare(got, want, tol)
                    if err:
                        raise AssertionError(err)
                    verdict = (f"ok (max relative error {worst:.1e}, "
                               f"{time.perf_counter() - t0:.2f} s)")
                else:
                    verdict = "numpy path ok (no GPU: kernels not run)"
                case_ok[name] = True
            except Exception as e:
                case_ok[name] = False
                all_ok = False
                first = str(e).strip().splitlines()
                verdict = (f"FAIL: {type(e).__name__}: "
                           f"{first[0] if first else ''}")
            emit(f"  {name:<20s} {verdict}")
    finally:
        if gpu:
            type(rt).launch = original
    table = {}
    for f, names in entry_points().items():
        table[f] = {}
        for n in names:
            cases = launched.get((f, n))
            if not gpu:
                v = "not run (no GPU)"
            elif not cases and _unused_here(f, n):
                v = "not used on this GPU (" + _unused_here(f, n) + ")"
            elif not cases:
                v = "NOT EXERCISED"
                all_ok = False
            elif all(case_ok.get(c) for c in cases):
                v = "ok (" + ", ".join(sorted(cases)) + ")"
            else:
                v = "FAIL (" + ", ".join(sorted(cases)) + ")"
            table[f][n] = v
    return all_ok, table


def compile_kernels(emit):
    """Compiles every `kernels/*.cu` with CuPy; returns True if all did."""
    from gkeras.backend.gpu._module import get_kernel
    ok = True
    for f, names in entry_points().items():
        t0 = time.perf_counter()
        try:
            for n in names:
                get_kernel(f, n)
            emit(f"  {f:<20s} compiled ({len(names)} entry points, "
                 f"{time.perf_counter() - t0:.2f} s)")
        except Exception as e:
            ok = False
            emit(f"  {f:<20s} FAIL: {type(e).__name__}: "
                 f"{str(e).strip().splitlines()[0] if str(e) else ''}")
    return ok


# ---------------------------------------------------------------- models

def _build_model(name):
    import gkeras as k
    L = k.layers
    rng = np.random.default_rng(1)
    if name == "mlp":
        model = k.Sequential([k.Input((20,)), L.Dense(16, activation="relu"),
                              L.Dense(3, activation="softmax")])
        x = rng.random((64, 20), dtype=np.float32)
        y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 64)]
        loss = "categorical_crossentropy"
    elif name == "cnn":
        model = k.Sequential([
            k.Input((12, 12, 3)), L.Conv2D(8, 3, padding="same"),
            L.BatchNormalization(), L.Activation("relu"), L.MaxPooling2D(),
            L.Conv2D(8, 3), L.Activation("relu"), L.Flatten(),
            L.Dense(4, activation="softmax")])
        x = rng.random((32, 12, 12, 3), dtype=np.float32)
        y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 32)]
        loss = "categorical_crossentropy"
    elif name in ("lstm", "gru"):
        rnn = L.LSTM(12) if name == "lstm" else L.GRU(12)
        model = k.Sequential([k.Input((9,), dtype="int32"),
                              L.Embedding(50, 8), rnn,
                              L.Dense(1, activation="sigmoid")])
        x = rng.integers(0, 50, (32, 9)).astype("int32")
        y = rng.integers(0, 2, (32, 1)).astype("float32")
        loss = "binary_crossentropy"
    elif name == "transformer":
        inputs = k.Input((10, 16))
        att = L.MultiHeadAttention(num_heads=2, key_dim=8)(inputs, inputs)
        h = L.LayerNormalization(epsilon=1e-6)(L.Add()([inputs, att]))
        ff = L.Dense(16)(L.Dense(32, activation="relu")(h))
        h = L.LayerNormalization(epsilon=1e-6)(L.Add()([h, ff]))
        outputs = L.Dense(2, activation="softmax")(
            L.GlobalAveragePooling1D()(h))
        model = k.Model(inputs, outputs)
        x = rng.standard_normal((32, 10, 16)).astype("float32")
        y = np.eye(2, dtype=np.float32)[rng.integers(0, 2, 32)]
        loss = "categorical_crossentropy"
    else:
        raise ValueError(f"unknown model {name!r}")
    return model, x, y, loss


MODELS = ("mlp", "cnn", "lstm", "gru", "transformer")


def _train_one(name, steps, weights, out):
    """Child process: build, load (or save) the shared initial weights,
    train `steps` batches and one epoch of `fit`, write the losses and the
    predictions to `out`."""
    import gkeras as k
    k.utils.set_random_seed(0)
    model, x, y, loss = _build_model(name)
    if os.path.exists(weights):
        model.load_weights(weights)
    else:
        model.save_weights(weights)
    model.compile(optimizer=k.optimizers.Adam(1e-2), loss=loss)
    losses = [float(model.train_on_batch(x, y)) for _ in range(steps)]
    # One epoch of fit and a predict go through the input pipeline (on
    # CuPy: pinned memory, side-stream copies, prefetch).
    hist = model.fit(x, y, batch_size=16, epochs=1, shuffle=False,
                     verbose=0)
    losses.append(float(hist.history["loss"][-1]))
    pred = model.predict(x, batch_size=16, verbose=0)
    np.savez(out, losses=np.asarray(losses), pred=_host(pred),
             backend=np.asarray(k.backend.backend()))


def _run_child(name, backend, steps, weights, out):
    env = dict(os.environ, GKERAS_BACKEND=backend)
    cmd = [sys.executable, "-m", "gkeras.backend.check", "--train-one", name,
           "--steps", str(steps), "--weights", weights, "--out", out]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env,
                       timeout=600)
    if r.returncode != 0:
        tail = (r.stderr or r.stdout).strip().splitlines()
        raise RuntimeError(tail[-1] if tail else f"exit {r.returncode}")
    return np.load(out)


def check_models(gpu, steps, emit):
    """Trains each tutorial model on NumPy (and CuPy); True if all pass."""
    ok = True
    with tempfile.TemporaryDirectory(prefix="gkeras_check_") as tmp:
        for name in MODELS:
            weights = os.path.join(tmp, f"{name}.weights.h5")
            t0 = time.perf_counter()
            try:
                ref = _run_child(name, "numpy", steps, weights,
                                 os.path.join(tmp, f"{name}_numpy.npz"))
                losses = ref["losses"]
                if not np.isfinite(losses).all():
                    raise AssertionError(f"non-finite loss {losses.tolist()}")
                if not gpu:
                    emit(f"  {name:<12s} numpy ok: loss {losses[0]:.4f} -> "
                         f"{losses[-1]:.4f} after {steps} steps and one "
                         "epoch (no GPU to compare)")
                    continue
                got = _run_child(name, "cupy", steps, weights,
                                 os.path.join(tmp, f"{name}_cupy.npz"))
                if str(got["backend"]) != "cupy":
                    raise AssertionError("the child did not run on CuPy")
                dl = float(np.abs(got["losses"] - losses).max())
                dp = float(np.abs(got["pred"] - ref["pred"]).max())
                verdict = "ok" if dl <= 2e-3 * (1 + abs(losses).max()) and \
                    dp <= 2e-3 else "FAIL"
                ok &= verdict == "ok"
                emit(f"  {name:<12s} {verdict}: loss numpy {losses[-1]:.5f} "
                     f"cupy {got['losses'][-1]:.5f} (max |diff| {dl:.1e}), "
                     f"predictions max |diff| {dp:.1e}, "
                     f"{time.perf_counter() - t0:.1f} s")
            except Exception as e:
                ok = False
                emit(f"  {name:<12s} FAIL: {type(e).__name__}: {e}")
    return ok


# ------------------------------------------------------------------ main

def main(argv=None):
    """Runs the check; returns the exit status (0: nothing failed)."""
    p = argparse.ArgumentParser(
        prog="python -m gkeras.backend.check",
        description="Checks gkeras's GPU (or CPU) setup.")
    p.add_argument("--steps", type=int, default=3,
                   help="training steps per model (default 3)")
    p.add_argument("--no-models", action="store_true",
                   help="skip the tutorial-model training")
    p.add_argument("--train-one", help=argparse.SUPPRESS)
    p.add_argument("--weights", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.train_one:
        _train_one(a.train_one, a.steps, a.weights, a.out)
        return 0

    def emit(line):
        print(line, flush=True)

    import gkeras
    from gkeras import backend as B
    t_start = time.perf_counter()
    emit(f"gkeras {getattr(gkeras, '__version__', '?')} | Python "
         f"{platform.python_version()} | NumPy {np.__version__} | "
         f"{platform.platform()}")
    try:
        chosen, error = B.backend(), None
    except Exception as e:  # GKERAS_BACKEND=cupy on a machine that can't
        chosen, error = None, f"{type(e).__name__}: {e}"
    gpu = chosen == "cupy"
    from gkeras.backend.gpu.probe import device_report
    report = device_report() if "cupy" in sys.modules or gpu else None
    if report is None:
        try:
            import importlib.util
            if importlib.util.find_spec("cupy") is not None:
                report = device_report()
        except Exception:
            report = None
    if report:
        emit("CuPy " + ", ".join(f"{k2} {v}" for k2, v in report.items()))
    else:
        emit("CuPy: not installed")
    emit(f"GKERAS_BACKEND={os.environ.get('GKERAS_BACKEND', 'auto')} -> "
         f"backend: {chosen or 'none'}")
    if error:
        emit(f"  the backend could not start: {error}")
    if not gpu:
        why = B.FALLBACK_REASON or error or (
            "CuPy is not installed" if not report else
            "CuPy is installed but no usable CUDA device is visible")
        emit(f"No GPU found ({why}): the checks below run through the NumPy "
             "path only.")
    ok = error is None
    emit("Kernels:")
    if gpu:
        ok &= compile_kernels(emit)
    else:
        emit("  not compiled (no GPU)")
    emit("Primitives (GPU vs NumPy, small odd shapes):" if gpu else
         "Primitives (NumPy path):")
    k_ok, table = check_kernels(gpu, emit)
    ok &= k_ok
    emit("Kernel entry points:")
    for f, names in table.items():
        for n, v in names.items():
            emit(f"  {f + ':' + n:<40s} {v}")
    if not a.no_models:
        emit(f"Tutorial models ({a.steps} training steps + one epoch of fit, "
             "same initial weights" + (", CuPy vs NumPy):" if gpu else
                                       ", NumPy):"))
        ok &= check_models(gpu, a.steps, emit)
    where = "GPU" if gpu else "CPU only, no GPU found"
    emit(f"Verdict: {'PASS' if ok else 'FAIL'} ({where}; "
         f"{time.perf_counter() - t_start:.1f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""The 16-bit kernels against the float32 ones, on a GPU.

Times `gkeras.backend.gpu` convolution (forward, input and kernel
gradients: im2col/col2im + cuBLAS), flash attention (forward + backward),
layer norm, batch norm and softmax (forward + backward each), LSTM
(forward + backward over a sequence) and a fused Adam step with float32,
float16 and bfloat16 inputs, checks each 16-bit result against the
float32 one on the same (rounded) inputs, and prints milliseconds and the
speed-up over float32 (> 1 is faster). bfloat16 is skipped without
`ml_dtypes` or without CuPy bfloat16 arrays.

    python benchmarks/half_kernels_gpu.py [--reps 20] [--batch 32]

Without CuPy and a CUDA device it prints why and exits 0.
"""

import argparse
import time

import numpy as np

# Relative tolerances of a 16-bit result against float32 on the same
# inputs (gkeras.backend.gpu.precision.tolerance).
TOL = {"float16": 1e-2, "bfloat16": 5e-2}


def _time(fn, sync, reps):
    fn()
    sync()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def _problems(gpu, cp, batch):
    """(name, make(dtype, via) -> callable returning the outputs); `via`:
    the inputs are first rounded to that type (the float32 reference of a
    16-bit run sees the same values)."""
    r = np.random.default_rng(0)

    def dev(t, dt, via):
        a = cp.asarray(t)
        if via is not None:
            a = a.astype(via)
        return a.astype(dt)

    def arr(shape, scale=1.0):
        return (r.standard_normal(shape) * scale).astype(np.float32)

    x = arr((batch, 32, 32, 64))
    w = arr((3, 3, 64, 64), 0.05)
    dy = arr((batch, 32, 32, 64))
    pad = ((1, 1), (1, 1))
    q, k, v = (arr((batch // 4 or 1, 8, 1024, 64)) for _ in range(3))
    do = arr(q.shape)
    xl, g = arr((batch * 128, 768)), arr((768,))
    xb = arr((batch * 1024, 64))
    xs = arr((batch * 128, 1000), 3.0)
    xw, rk = arr((batch, 64, 4 * 256)), arr((256, 4 * 256), 1 / 16)
    dhs = arr((batch, 64, 256))

    def conv(dt, via=None):
        a, b, d = (dev(t, dt, via) for t in (x, w, dy))
        return lambda: (gpu.conv_forward(a, b, (1, 1), pad, (1, 1), 1),
                        gpu.conv_backward_input(d, b, a.shape, (1, 1), pad,
                                                (1, 1), 1),
                        gpu.conv_backward_kernel(d, a, b.shape, (1, 1), pad,
                                                 (1, 1), 1))

    def attention(dt, via=None):
        a, b, c, d = (dev(t, dt, via) for t in (q, k, v, do))

        def run():
            out, cache = gpu.attention_forward(a, b, c, is_causal=True)
            return (out, *gpu.attention_backward(d, cache))
        return run

    def layernorm(dt, via=None):
        a, gg = dev(xl, dt, via), cp.asarray(g)

        def run():
            y, m, s = gpu.layernorm_forward(a, gg, gg, 1e-3)
            return (y, *gpu.layernorm_backward(a, a, gg, m, s))
        return run

    def batchnorm(dt, via=None):
        a, gg = dev(xb, dt, via), cp.asarray(g[:64])

        def run():
            y, m, _, s = gpu.batchnorm_forward_train(a, gg, gg, 1e-3)
            return (y, *gpu.batchnorm_backward(a, a, gg, m, s))
        return run

    def softmax(dt, via=None):
        a = dev(xs, dt, via)

        def run():
            y = gpu.softmax_forward(a)
            return y, gpu.softmax_backward(a, y)
        return run

    def lstm(dt, via=None):
        a, b, d = (dev(t, dt, via) for t in (xw, rk, dhs))

        def run():
            hs, _, _, cache = gpu.lstm_forward(a, None, None, b)
            return (hs, *gpu.lstm_backward(d, None, None, cache))
        return run

    shapes = [(4096, 1024), (1024,), (1024, 10)]
    w0, g0 = [arr(s) for s in shapes], [arr(s) for s in shapes]

    def adam(dt, via=None):
        from gkeras import Variable, optimizers
        variables = [Variable(cp.asarray(a)) for a in w0]
        grads = [dev(a, dt, via) for a in g0]
        opt = optimizers.Adam(learning_rate=1e-3)

        def run():
            opt.apply(grads, variables)
            return tuple(vv.data for vv in variables)
        return run

    return [("conv 3x3 64->64 (fwd+bwd)", conv),
            ("flash attention T=1024 (fwd+bwd)", attention),
            ("layer norm 768 (fwd+bwd)", layernorm),
            ("batch norm 64 (fwd+bwd)", batchnorm),
            ("softmax 1000 (fwd+bwd)", softmax),
            ("LSTM 256 x 64 steps (fwd+bwd)", lstm),
            ("Adam step, 4.2M params (16-bit grads)", adam)]


def _worst(got, want):
    worst = 0.0
    for a, b in zip(got, want):
        if a is None or b is None:
            continue
        a, b = a.astype("float32").get(), b.astype("float32").get()
        worst = max(worst, float(np.abs(a - b).max(initial=0)) / max(
            1.0, float(np.abs(b).max(initial=0))))
    return worst


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=20)
    p.add_argument("--batch", type=int, default=32)
    args = p.parse_args(argv)
    try:
        import cupy as cp
        cp.cuda.runtime.getDeviceCount()
    except Exception as e:
        print(f"half_kernels_gpu: needs CuPy and a CUDA GPU ({e}); nothing "
              "to time.")
        return 0
    import gkeras.backend.gpu as gpu
    dtypes = ["float32", "float16"]
    try:
        import ml_dtypes
        cp.zeros(1, ml_dtypes.bfloat16)
        dtypes.append(np.dtype(ml_dtypes.bfloat16))
    except Exception as e:
        print(f"bfloat16 skipped: {type(e).__name__}: {e}")
    sync = cp.cuda.Device().synchronize
    cc = cp.cuda.Device().compute_capability
    print(f"device compute capability {cc}; best of {args.reps} runs, ms")
    print(f"{'problem':40s} {'dtype':9s} {'ms':>9s} {'x f32':>6s} "
          f"{'max rel err':>11s}")
    failed = 0
    for name, make in _problems(gpu, cp, args.batch):
        t32 = None
        for dt in dtypes:
            dname = np.dtype(dt).name
            try:
                fn = make(dt)
                out = fn()
                t = _time(fn, sync, args.reps)
                # float32 on the same rounded inputs (a fresh optimizer
                # for Adam, whose variables the timing loop moved on).
                ref = make("float32", dt)() if t32 is not None else None
                if name[:4] == "Adam" and ref is not None:
                    out = make(dt)()
            except Exception as e:
                print(f"{name:40s} {dname:9s} FAILED: {type(e).__name__}: "
                      f"{e}")
                failed += 1
                continue
            if t32 is None:
                t32 = t
                print(f"{name:40s} {dname:9s} {t:9.3f} {1.0:6.2f} "
                      f"{'-':>11s}")
                continue
            err = _worst(out, ref)
            flag = "" if err <= TOL[dname] * 3 else "  (over tolerance)"
            failed += bool(flag)
            print(f"{name:40s} {dname:9s} {t:9.3f} {t32 / t:6.2f} "
                  f"{err:11.1e}{flag}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

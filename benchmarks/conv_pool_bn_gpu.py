"""Convolution, pooling and batch-norm primitives: gkeras vs cuDNN.

On a GPU machine times `gkeras.backend.gpu` conv (forward, input gradient,
kernel gradient: im2col/col2im kernels + cuBLAS), max/avg pooling forward
and backward, and batch norm (training forward + backward) against PyTorch
(cuDNN) on the same channels-last problem when torch with CUDA is
installed, and prints milliseconds and ratios (gkeras / torch; < 1 is
faster). With `--cpu`, times `gkeras.backend.cpu` conv instead and reports
GFLOP/s against the BLAS ceiling (`np.matmul` of the same m, n, k).

    python benchmarks/conv_pool_bn_gpu.py [--batch 64] [--reps 20]
    python benchmarks/conv_pool_bn_gpu.py --cpu
"""

import argparse
import time

import numpy as np

# (name, N, H, W, C, k, stride, F, groups)
CONVS = [
    ("3x3 same 32->64", 64, 32, 32, 32, 3, 1, 64, 1),
    ("3x3 same 64->128 s2", 64, 32, 32, 64, 3, 2, 128, 1),
    ("1x1 256->64", 64, 16, 16, 256, 1, 1, 64, 1),
    ("5x5 same 16->32", 64, 28, 28, 16, 5, 1, 32, 1),
    ("3x3 depthwise 64", 64, 32, 32, 64, 3, 1, 64, 64),
]


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


def _same(k, stride, size):
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return (total // 2, total - total // 2)


def cpu_report(reps):
    """Prints CPU conv timings and the share of the BLAS GEMM ceiling."""
    import gkeras.backend.cpu as cpu
    r = np.random.default_rng(0)
    print(f"{'conv (cpu)':24s} {'pass':10s} {'ms':>8s} {'GFLOP/s':>8s} "
          f"{'BLAS':>8s} {'share':>6s}")
    for name, n, h, w, c, k, s, f, g in CONVS:
        x = r.standard_normal((n, h, w, c), dtype=np.float32)
        wt = r.standard_normal((k, k, c // g, f), dtype=np.float32)
        pad = (_same(k, s, h), _same(k, s, w))
        y = cpu.conv_forward(x, wt, (s, s), pad, (1, 1), g)
        dy = r.standard_normal(y.shape, dtype=np.float32)
        m, kk, nn = y.size // f, k * k * c // g, f // g
        flops = 2.0 * m * kk * nn * g
        a = r.standard_normal((g, m, kk), dtype=np.float32)
        b = r.standard_normal((g, kk, nn), dtype=np.float32)
        t_blas = _time(lambda: np.matmul(a, b), lambda: None, reps)
        for pname, fn in [
                ("forward", lambda: cpu.conv_forward(x, wt, (s, s), pad,
                                                     (1, 1), g)),
                ("dinput", lambda: cpu.conv_backward_input(
                    dy, wt, x.shape, (s, s), pad, (1, 1), g)),
                ("dkernel", lambda: cpu.conv_backward_kernel(
                    dy, x, wt.shape, (s, s), pad, (1, 1), g))]:
            t = _time(fn, lambda: None, reps)
            print(f"{name:24s} {pname:10s} {t:8.2f} {flops / t / 1e6:8.1f} "
                  f"{flops / t_blas / 1e6:8.1f} {t_blas / t * 100:5.0f}%")
    return 0


def gpu_report(batch, reps):
    try:
        import cupy as cp
        cp.cuda.runtime.getDeviceCount()
    except Exception as e:
        print(f"conv_pool_bn_gpu: needs CuPy and a CUDA GPU ({e}); nothing "
              "to time. Use --cpu for the CPU figures.")
        return 0
    import gkeras.backend.gpu as gpu
    try:
        import torch
        import torch.nn.functional as F
        have_torch = torch.cuda.is_available()
        torch.backends.cudnn.benchmark = True
    except Exception:
        have_torch = False
    sync = cp.cuda.Device().synchronize
    tsync = (lambda: torch.cuda.synchronize()) if have_torch else None
    r = np.random.default_rng(0)

    def row(label, t_g, t_t):
        ratio = f"{t_g / t_t:6.2f}" if t_t else "     -"
        tt = f"{t_t:9.3f}" if t_t else "        -"
        print(f"{label:40s} {t_g:9.3f} {tt} {ratio}")

    print(f"{'problem':40s} {'gkeras ms':>9s} {'torch ms':>9s} {'ratio':>6s}")
    for name, n, h, w, c, k, s, f, g in CONVS:
        n = batch
        x = cp.asarray(r.standard_normal((n, h, w, c), dtype=np.float32))
        wt = cp.asarray(r.standard_normal((k, k, c // g, f),
                                          dtype=np.float32))
        pad = (_same(k, s, h), _same(k, s, w))
        y = gpu.conv_forward(x, wt, (s, s), pad, (1, 1), g)
        dy = cp.ones_like(y)
        tf = _time(lambda: gpu.conv_forward(x, wt, (s, s), pad, (1, 1), g),
                   sync, reps)
        tbi = _time(lambda: gpu.conv_backward_input(dy, wt, x.shape, (s, s),
                                                    pad, (1, 1), g), sync, reps)
        tbk = _time(lambda: gpu.conv_backward_kernel(dy, x, wt.shape, (s, s),
                                                     pad, (1, 1), g), sync,
                    reps)
        t_t = [None, None, None]
        if have_torch and pad[0][0] == pad[0][1] and pad[1][0] == pad[1][1]:
            tx = torch.randn(n, c, h, w, device="cuda").to(
                memory_format=torch.channels_last).requires_grad_()
            tw = torch.randn(f, c // g, k, k, device="cuda").to(
                memory_format=torch.channels_last).requires_grad_()
            ty = F.conv2d(tx, tw, stride=s, padding=pad[0][0], groups=g)
            tdy = torch.ones_like(ty)
            t_t[0] = _time(lambda: F.conv2d(tx, tw, stride=s,
                                            padding=pad[0][0], groups=g),
                           tsync, reps)
            gi = torch.nn.grad.conv2d_input
            gw = torch.nn.grad.conv2d_weight
            t_t[1] = _time(lambda: gi(tx.shape, tw, tdy, stride=s,
                                      padding=pad[0][0], groups=g), tsync,
                           reps)
            t_t[2] = _time(lambda: gw(tx, tw.shape, tdy, stride=s,
                                      padding=pad[0][0], groups=g), tsync,
                           reps)
        for pname, tg, tt in zip(("fwd", "dinput", "dkernel"),
                                 (tf, tbi, tbk), t_t):
            row(f"conv {name} {pname}", tg, tt)

    x = cp.asarray(r.standard_normal((batch, 64, 64, 64), dtype=np.float32))
    p = ((0, 1), (0, 1))
    y, arg = gpu.max_pool_forward(x, (3, 3), (2, 2), p)
    t1 = _time(lambda: gpu.max_pool_forward(x, (3, 3), (2, 2), p), sync, reps)
    t2 = _time(lambda: gpu.max_pool_backward(y, x, arg, (3, 3), (2, 2), p),
               sync, reps)
    t3 = _time(lambda: gpu.avg_pool_forward(x, (3, 3), (2, 2), p), sync, reps)
    t4 = _time(lambda: gpu.avg_pool_backward(y, x.shape, (3, 3), (2, 2), p),
               sync, reps)
    tt = [None] * 4
    if have_torch:
        tx = torch.randn(batch, 64, 64, 64, device="cuda").to(
            memory_format=torch.channels_last).requires_grad_()
        ty, tidx = F.max_pool2d(tx, 3, 2, 1, return_indices=True)
        tt[0] = _time(lambda: F.max_pool2d(tx, 3, 2, 1), tsync, reps)
        tt[1] = _time(lambda: torch.ops.aten.max_pool2d_with_indices_backward(
            ty, tx, [3, 3], [2, 2], [1, 1], [1, 1], False, tidx), tsync, reps)
        tt[2] = _time(lambda: F.avg_pool2d(tx, 3, 2, 1,
                                           count_include_pad=False), tsync,
                      reps)
        ya = F.avg_pool2d(tx, 3, 2, 1, count_include_pad=False)
        tt[3] = _time(lambda: torch.autograd.grad(ya, tx, ya, retain_graph=True),
                      tsync, reps)
    for label, tg, t in zip(("maxpool 3x3/2 fwd", "maxpool 3x3/2 bwd",
                             "avgpool 3x3/2 fwd", "avgpool 3x3/2 bwd"),
                            (t1, t2, t3, t4), tt):
        row(f"{label} ({batch}x64x64x64)", tg, t)

    m, c = batch * 32 * 32, 128
    xb = cp.asarray(r.standard_normal((m, c), dtype=np.float32))
    gmm, bt = cp.ones(c, cp.float32), cp.zeros(c, cp.float32)
    out = gpu.batchnorm_forward_train(xb, gmm, bt, 1e-3)
    t1 = _time(lambda: gpu.batchnorm_forward_train(xb, gmm, bt, 1e-3), sync,
               reps)
    t2 = _time(lambda: gpu.batchnorm_backward(xb, xb, gmm, out[1], out[3]),
               sync, reps)
    tt = [None, None]
    if have_torch:
        tx = torch.randn(m, c, device="cuda", requires_grad=True)
        bn = torch.nn.BatchNorm1d(c).cuda()
        tt[0] = _time(lambda: bn(tx), tsync, reps)
        ty = bn(tx)
        tt[1] = _time(lambda: torch.autograd.grad(ty, tx, ty,
                                                  retain_graph=True), tsync,
                      reps)
    row(f"batchnorm fwd ({m}x{c})", t1, tt[0])
    row(f"batchnorm bwd ({m}x{c})", t2, tt[1])
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--cpu", action="store_true",
                    help="time backend.cpu conv against the BLAS ceiling")
    args = ap.parse_args(argv)
    if args.cpu:
        return cpu_report(max(3, args.reps // 4))
    return gpu_report(args.batch, args.reps)


if __name__ == "__main__":
    raise SystemExit(main())

"""LSTM sequence forward+backward on the GPU: gkeras kernels vs cuDNN.

Times `gkeras.backend.gpu.lstm_forward` + `lstm_backward` (recurrent part:
per step one cuBLAS GEMM + one fused kernel; the input projection GEMM is
included on both sides) against PyTorch's cuDNN `nn.LSTM` when torch is
installed, and prints the ratios. Run on a GPU machine:

    python benchmarks/rnn_gpu.py [--sizes 32x100x128,64x200x256]
"""

import argparse
import sys
import time

import numpy as np


def _time(fn, sync, reps):
    fn()
    sync()
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    sync()
    return (time.perf_counter() - t0) / reps * 1e3


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="32x100x128,64x100x256,128x50x512",
                    help="comma-separated NxTxU (batch x steps x units)")
    ap.add_argument("--features", type=int, default=64)
    ap.add_argument("--reps", type=int, default=10)
    args = ap.parse_args(argv)
    try:
        import cupy as cp
        cp.cuda.runtime.getDeviceCount()
    except Exception as e:
        print(f"rnn_gpu: needs CuPy and a CUDA GPU ({e}); nothing to time.")
        return 0
    from gkeras.backend import gpu
    try:
        import torch
        have_torch = torch.cuda.is_available()
    except Exception:
        have_torch = False
    sync = cp.cuda.Stream.null.synchronize
    print(f"{'N x T x U':>16} {'gkeras ms':>10} {'cuDNN ms':>10} "
          f"{'ratio':>7}")
    for spec in args.sizes.split(","):
        N, T, U = (int(v) for v in spec.lower().split("x"))
        F = args.features
        rng = np.random.default_rng(0)
        x = cp.asarray(rng.standard_normal((N, T, F)), dtype=cp.float32)
        K = cp.asarray(rng.standard_normal((F, 4 * U)) / np.sqrt(F),
                       dtype=cp.float32)
        R = cp.asarray(rng.standard_normal((U, 4 * U)) / np.sqrt(U),
                       dtype=cp.float32)
        b = cp.zeros(4 * U, cp.float32)
        dhs = cp.ones((N, T, U), cp.float32)

        def ours():
            xw = cp.matmul(x.reshape(N * T, F), K).reshape(N, T, 4 * U) + b
            hs, h, c, cache = gpu.lstm_forward(xw, None, None, R)
            dxw, _, _, dR = gpu.lstm_backward(dhs, None, None, cache)
            cp.matmul(x.reshape(N * T, F).T, dxw.reshape(N * T, 4 * U))
            cp.matmul(dxw.reshape(N * T, 4 * U), K.T)

        t_ours = _time(ours, sync, args.reps)
        t_ref = float("nan")
        if have_torch:
            lstm = torch.nn.LSTM(F, U, batch_first=True).cuda()
            xt = torch.randn(N, T, F, device="cuda", requires_grad=True)

            def ref():
                out, _ = lstm(xt)
                out.sum().backward()

            t_ref = _time(ref, torch.cuda.synchronize, args.reps)
        ratio = t_ours / t_ref if have_torch else float("nan")
        print(f"{spec:>16} {t_ours:10.2f} {t_ref:10.2f} {ratio:7.2f}")
    if not have_torch:
        print("(PyTorch with CUDA not installed: no cuDNN comparison)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

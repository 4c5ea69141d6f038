"""Attention forward / forward+backward on the GPU: flash vs materialized
vs PyTorch's scaled_dot_product_attention.

Times `gkeras.backend.gpu.attention_forward` (+ `attention_backward`) with
`implementation="flash"` (kernels/attention.cu, fused online softmax) and
`implementation="materialized"` (cuBLAS GEMMs + fused masked-softmax
kernel), and `torch.nn.functional.scaled_dot_product_attention` when torch
with CUDA is installed; prints milliseconds and ratios. Run on a GPU
machine:

    python benchmarks/attention_gpu.py [--seqs 512,1024,2048,4096]
        [--batch 4] [--heads 8] [--head-dim 64] [--causal]
"""

import argparse
import time


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
    ap.add_argument("--seqs", default="512,1024,2048,4096")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--head-dim", type=int, default=64)
    ap.add_argument("--causal", action="store_true")
    ap.add_argument("--reps", type=int, default=10)
    args = ap.parse_args(argv)
    try:
        import cupy as cp
        cp.cuda.runtime.getDeviceCount()
    except Exception as e:
        print(f"attention_gpu: needs CuPy and a CUDA GPU ({e}); "
              "nothing to time.")
        return 0
    from gkeras.backend.gpu import attention as ga

    try:
        import torch
        import torch.nn.functional as F
        have_torch = torch.cuda.is_available()
    except Exception:
        have_torch = False

    B, H, D = args.batch, args.heads, args.head_dim
    print(f"B={B} H={H} D={D} causal={args.causal} "
          f"device={cp.cuda.runtime.getDeviceProperties(0)['name'].decode()}")
    hdr = (f"{'seq':>6} {'pass':>8} {'flash ms':>9} {'mat ms':>9} "
           f"{'torch ms':>9} {'mat/flash':>9} {'flash/torch':>11}")
    print(hdr)
    for T in [int(s) for s in args.seqs.split(",")]:
        rs = cp.random.RandomState(0)
        q, k, v = (rs.standard_normal((B, H, T, D), dtype=cp.float32)
                   for _ in range(3))
        dout = rs.standard_normal((B, H, T, D), dtype=cp.float32)
        res = {}
        for impl in ("flash", "materialized"):
            def fwd(impl=impl):
                return ga.attention_forward(q, k, v, is_causal=args.causal,
                                            implementation=impl)

            def fwdbwd(impl=impl):
                out, cache = fwd()
                return ga.attention_backward(dout, cache)

            try:
                res[impl] = (_time(fwd, cp.cuda.Device().synchronize,
                                   args.reps),
                             _time(fwdbwd, cp.cuda.Device().synchronize,
                                   args.reps))
            except cp.cuda.memory.OutOfMemoryError:
                res[impl] = (float("nan"), float("nan"))
            cp.get_default_memory_pool().free_all_blocks()
        if have_torch:
            tq, tk, tv = (torch.as_tensor(a, device="cuda").requires_grad_()
                          for a in (q, k, v))
            tdo = torch.as_tensor(dout, device="cuda")

            def tfwd():
                with torch.no_grad():
                    return F.scaled_dot_product_attention(
                        tq, tk, tv, is_causal=args.causal)

            def tfwdbwd():
                o = F.scaled_dot_product_attention(tq, tk, tv,
                                                   is_causal=args.causal)
                o.backward(tdo)

            res["torch"] = (_time(tfwd, torch.cuda.synchronize, args.reps),
                            _time(tfwdbwd, torch.cuda.synchronize,
                                  args.reps))
        else:
            res["torch"] = (float("nan"), float("nan"))
        for i, name in enumerate(("fwd", "fwd+bwd")):
            f, m, t = (res["flash"][i], res["materialized"][i],
                       res["torch"][i])
            print(f"{T:>6} {name:>8} {f:>9.3f} {m:>9.3f} {t:>9.3f} "
                  f"{m / f:>9.2f} {f / t:>11.2f}")
    if not have_torch:
        print("(torch with CUDA not installed: no torch column)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

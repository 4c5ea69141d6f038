"""NumPy fast paths of the CPU training step, against float64 references.

1. `conv_forward_keep_cols` / `conv_backward_kernel_from_cols`: the
   forward's im2col patches reused for the kernel gradient, on every
   stride/padding/dilation/group case of the primitive tests, checked
   against the float64 loop reference and float64 finite differences;
2. the `Conv` op keeps the patches only while a gradient will be taken,
   frees them in its backward, and gives the same gradients as the
   recomputing path;
3. max pooling without the winners' bookkeeping when no gradient will be
   taken, against the float64 reference;
4. the glibc allocator tuning (`backend.cpu.allocator`): its opt-outs,
   and that it does stop a step's large buffers from being page-faulted
   in afresh every time.
"""

import os
import platform
import subprocess
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from test_conv_pool_bn_primitives import (  # noqa: E402
    CONV_CASES, POOL_CASES, _conv_args, numgrad, ref_conv, ref_pool)

import gkeras.backend.cpu as cpu  # noqa: E402
from gkeras.backend.cpu import allocator  # noqa: E402
from gkeras.backend.cpu import conv as cpu_conv  # noqa: E402
from gkeras.backend.cpu import pool as cpu_pool  # noqa: E402
from gkeras import ops  # noqa: E402
from gkeras.ops.engine import GradientTape, Tensor  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ------------------------------------------------------- kept im2col patches
@pytest.mark.parametrize("case", CONV_CASES, ids=range(len(CONV_CASES)))
def test_keep_cols_forward_and_kernel_gradient(case):
    x, w, st, pad, dil, g = _conv_args(case, np.float64, seed=3)
    y, cols = cpu_conv.conv_forward_keep_cols(x, w, st, pad, dil, g)
    np.testing.assert_allclose(y, ref_conv(x, w, st, pad, dil, g),
                               rtol=1e-10, atol=1e-10)
    y2, none = cpu_conv.conv_forward_keep_cols(x, w, st, pad, dil, g,
                                               keep=False)
    assert none is None
    np.testing.assert_array_equal(y, y2)
    proj = np.random.default_rng(4).standard_normal(y.shape)
    if cols is None:               # depthwise: no patches are built
        assert w.shape[-2] == 1 and g > 1
        return
    # C-contiguous, or the transposed (K, M) layout of narrow inputs
    assert cols.shape[0] == g and (cols.flags.c_contiguous
                                   or cols[0].T.flags.c_contiguous)
    dw = cpu_conv.conv_backward_kernel_from_cols(proj, cols, w.shape, g)
    assert dw.shape == w.shape and dw.dtype == np.float64

    def loss():
        return float((ref_conv(x, w, st, pad, dil, g) * proj).sum())

    np.testing.assert_allclose(dw, numgrad(loss, w), rtol=1e-6, atol=1e-7)


def test_keep_cols_float32_matches_recomputing_kernel_gradient():
    case = ((3, 11, 9, 5), (3, 3), (2, 1), ((1, 1), (2, 0)), (1, 2), 1, 7)
    x, w, st, pad, dil, g = _conv_args(case, np.float32, seed=5)
    y, cols = cpu_conv.conv_forward_keep_cols(x, w, st, pad, dil, g)
    dy = np.random.default_rng(6).standard_normal(y.shape).astype(np.float32)
    dw = cpu_conv.conv_backward_kernel_from_cols(dy, cols, w.shape, g)
    assert dw.dtype == np.float32
    np.testing.assert_allclose(
        dw, cpu.conv_backward_kernel(dy, x, w.shape, st, pad, dil, g),
        rtol=1e-5, atol=1e-5)


def test_kernel_gradient_from_cols_rejects_mismatched_shapes():
    x, w, st, pad, dil, g = _conv_args(CONV_CASES[3])
    y, cols = cpu_conv.conv_forward_keep_cols(x, w, st, pad, dil, g)
    with pytest.raises(ValueError, match="conv_backward_kernel_from_cols.*"
                                         "kernel_shape"):
        cpu_conv.conv_backward_kernel_from_cols(y[:1], cols, w.shape, g)
    with pytest.raises(ValueError, match="expected cols shape"):
        cpu_conv.conv_backward_kernel_from_cols(y, cols, (2, 2, 3, 5), g)


def _conv_grads(x, w, strides, padding, dilation):
    xt, wt = Tensor(x), Tensor(w)
    with GradientTape() as tape:
        tape.watch(xt)
        tape.watch(wt)
        y = ops.conv(xt, wt, strides=strides, padding=padding,
                     dilation_rate=dilation)
        proj = np.random.default_rng(7).standard_normal(y.shape)
        loss = ops.sum(ops.multiply(y, proj))
    conv_node = y.creator
    assert conv_node.cols is not None      # kept for the kernel gradient
    gx, gw = tape.gradient(loss, [xt, wt])
    assert conv_node.cols is None          # and freed by the backward
    return np.asarray(gx), np.asarray(gw), proj


@pytest.mark.parametrize("strides,padding,dilation", [
    (1, "same", 1), (2, "valid", 1), ((1, 2), "same", (2, 1))])
def test_conv_op_gradients_with_kept_cols(strides, padding, dilation):
    r = np.random.default_rng(8)
    x = r.standard_normal((2, 9, 8, 3))
    w = r.standard_normal((3, 3, 3, 4))
    gx, gw, proj = _conv_grads(x, w, strides, padding, dilation)

    def loss():
        y = np.asarray(ops.conv(x, w, strides=strides, padding=padding,
                                dilation_rate=dilation))
        return float((y * proj).sum())

    np.testing.assert_allclose(gw, numgrad(loss, w), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(gx, numgrad(loss, x), rtol=1e-6, atol=1e-7)


def test_conv_op_keeps_no_cols_in_inference():
    r = np.random.default_rng(9)
    x = Tensor(r.standard_normal((2, 6, 6, 3)).astype(np.float32))
    w = Tensor(r.standard_normal((3, 3, 3, 4)).astype(np.float32), True)
    y = ops.conv(x, w, padding="same")      # no tape: inference
    assert y.creator is None
    from gkeras.ops.conv import Conv
    node = Conv((1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    node(x.data, w.data)
    assert node.cols is None


def test_model_training_uses_kept_cols(monkeypatch):
    import gkeras as gk
    calls = {"from_cols": 0, "recompute": 0}
    real_from, real_re = (cpu_conv.conv_backward_kernel_from_cols,
                          cpu.conv_backward_kernel)

    def from_cols(*a, **k):
        calls["from_cols"] += 1
        return real_from(*a, **k)

    def recompute(*a, **k):
        calls["recompute"] += 1
        return real_re(*a, **k)

    monkeypatch.setattr(cpu_conv, "conv_backward_kernel_from_cols",
                        from_cols)
    monkeypatch.setattr(cpu, "conv_backward_kernel", recompute)
    model = gk.Sequential([gk.Input((8, 8, 3)),
                           gk.layers.Conv2D(4, 3, padding="same"),
                           gk.layers.Conv2D(2, 3, strides=2),
                           gk.layers.Flatten(), gk.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    r = np.random.default_rng(10)
    model.train_on_batch(r.random((4, 8, 8, 3), dtype=np.float32),
                         r.random((4, 1), dtype=np.float32))
    assert calls == {"from_cols": 2, "recompute": 0}


# ------------------------------------------------- inference max pooling
@pytest.mark.parametrize("case", POOL_CASES, ids=range(len(POOL_CASES)))
def test_max_pool_values_matches_reference(case):
    xs, pool, st, pad = case[:4]
    x = np.random.default_rng(11).standard_normal(xs).astype(np.float32)
    x[(0,) * x.ndim] = -np.inf               # a -inf cell next to padding
    y = cpu_pool.max_pool_values(x, pool, st, pad)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, ref_pool(x, pool, st, pad, "max"))
    np.testing.assert_array_equal(
        y, cpu.max_pool_forward(x, pool, st, pad)[0])


def test_max_pool_op_inference_and_training_paths():
    from gkeras.ops.conv import MaxPool
    r = np.random.default_rng(12)
    x = r.standard_normal((2, 7, 6, 3))
    ref = ref_pool(x, (2, 2), (2, 2), ((0, 0), (0, 0)), "max")
    node = MaxPool((2, 2), (2, 2), ((0, 0), (0, 0)))
    y = node(Tensor(x))                      # inference: no winners kept
    assert node.argmax is None
    np.testing.assert_array_equal(np.asarray(y), ref)
    xt = Tensor(x)
    with GradientTape() as tape:
        tape.watch(xt)
        y = ops.max_pool(xt, 2)
        loss = ops.sum(ops.multiply(y, np.arange(y.size).reshape(y.shape)))
    assert y.creator.tap is not None       # windows side by side
    np.testing.assert_array_equal(np.asarray(y), ref)
    (gx,) = tape.gradient(loss, [xt])

    def f():
        y = ref_pool(x, (2, 2), (2, 2), ((0, 0), (0, 0)), "max")
        return float((y * np.arange(y.size).reshape(y.shape)).sum())

    np.testing.assert_allclose(np.asarray(gx), numgrad(f, x), atol=1e-6)


def test_relu_keeps_its_mask_only_for_a_gradient():
    x = np.array([[-1.5, 0.0, 2.0], [3.0, -0.0, -4.0]])
    y = ops.relu(Tensor(x))                  # inference: no mask kept
    np.testing.assert_array_equal(np.asarray(y), np.maximum(x, 0))
    assert not np.signbit(np.asarray(y)).any()
    xt = Tensor(x)
    with GradientTape() as tape:
        tape.watch(xt)
        y = ops.relu(xt)
        loss = ops.sum(ops.multiply(y, np.array([1.0, 2.0, 3.0])))
    assert y.creator.mask is not None
    (gx,) = tape.gradient(loss, [xt])
    # JAX's gradient of max(x, 0): 0 at x == 0.
    np.testing.assert_array_equal(np.asarray(gx),
                                  [[0, 0, 3], [1, 0, 0]])


# ------------------------------------------------------ allocator tuning
def test_allocator_opt_outs(monkeypatch):
    monkeypatch.setitem(allocator._STATE, "tuned", None)
    assert allocator.tune_allocator({"GKERAS_MALLOC_TUNING": "0"}) is False
    monkeypatch.setitem(allocator._STATE, "tuned", None)
    assert allocator.tune_allocator(
        {"MALLOC_TRIM_THRESHOLD_": "1"}) is False


_FAULTS = """
import resource, sys
import numpy as np
if sys.argv[1] == "1":
    import gkeras.backend.cpu
    from gkeras.backend.cpu import allocator
    assert allocator._STATE["tuned"] is True
def step():      # a training step's shape: several large live buffers
    bufs = [np.ones(n << 18, np.float32) for n in (8, 20, 4, 12, 8, 16)]
    del bufs


step()                                           # one warm-up step
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux")
                    or platform.libc_ver()[0] != "glibc",
                    reason="the tuning applies to glibc only")
def test_allocator_tuning_reuses_freed_pages():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MALLOC_") and k != "GKERAS_MALLOC_TUNING"}
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")

    def faults(tuned):
        out = subprocess.run([sys.executable, "-c", _FAULTS, tuned],
                             env=env, capture_output=True, text=True,
                             check=True)
        return int(out.stdout.strip())

    # 10 steps of 68 MiB of buffers fault in tens of thousands of pages
    # untuned; tuned, the freed heap is reused with its pages still mapped.
    untuned, tuned = faults("0"), faults("1")
    assert untuned > 10 * 1000, untuned
    assert tuned < 1000, tuned

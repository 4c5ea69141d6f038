"""On a real GPU (marked `gpu`, skipped without CuPy and a device): the
fused optimizer update, the deterministic scatter-add, the probe kernel,
the TF32 switch and the pinned-memory prefetcher, against the NumPy path.
"""

import numpy as np
import pytest

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def cp():
    try:
        import cupy
        if cupy.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no CUDA device visible")
    except Exception as e:  # ImportError, or a broken CUDA install
        pytest.skip(f"CuPy/GPU unavailable: {type(e).__name__}: {e}")
    return cupy


@pytest.mark.parametrize("cls,kw", [
    ("Adam", dict(amsgrad=True)), ("AdamW", dict(weight_decay=0.05)),
    ("SGD", dict(momentum=0.9, global_clipnorm=1.0)),
    ("Adam", dict(clipnorm=0.5)),
    ("SGD", dict(momentum=0.9, nesterov=True)),
    ("RMSprop", dict(centered=True, momentum=0.3)), ("Adagrad", dict()),
    ("Adamax", dict()), ("Lion", dict(weight_decay=0.1)), ("Nadam", dict())])
def test_fused_optimizer_matches_numpy(cp, cls, kw, monkeypatch):
    import gkeras
    import gkeras.backend as B
    from gkeras.backend.gpu.launch import cupy_runtime
    rng = np.random.default_rng(0)
    shapes = [(7,), (129, 65), (70001,), (3, 3, 16, 32)]
    w0 = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in shapes]
             for _ in range(3)]
    # The NumPy reference first, then the same on the CuPy backend (its
    # variables and slots on the device).
    monkeypatch.setattr(B, "_BACKEND", "numpy")
    ref_vars = [gkeras.Variable(w) for w in w0]
    ref = getattr(gkeras.optimizers, cls)(learning_rate=0.01, **kw)
    for g in grads:
        ref.apply(g, ref_vars)
    monkeypatch.setattr(B, "_BACKEND", "cupy")
    monkeypatch.setattr(B, "_CUPY", cp)
    dev_vars = [gkeras.Variable(w) for w in w0]
    assert all(B.is_cupy_array(v.data) for v in dev_vars)
    opt = getattr(gkeras.optimizers, cls)(learning_rate=0.01, **kw)
    rt = cupy_runtime()
    launches = []
    original = type(rt).launch

    def counting(self, *a, **k):
        launches.append(a[1])
        return original(self, *a, **k)

    type(rt).launch = counting
    try:
        for g in grads:
            opt.apply([cp.asarray(a) for a in g], dev_vars)
    finally:
        type(rt).launch = original
    clip = "global_clipnorm" in kw or "clipnorm" in kw
    assert len(launches) == (9 if clip else 3)
    assert launches[-1].endswith("_mt_f32")
    for r, d in zip(ref_vars, dev_vars):
        if clip:  # the norm is summed in another order
            np.testing.assert_allclose(cp.asnumpy(d.data), r.numpy(),
                                       rtol=2e-5, atol=1e-6)
        else:
            # The kernel repeats NumPy's float32 operation sequence
            # without FMA contraction: equal bits.
            np.testing.assert_array_equal(cp.asnumpy(d.data), r.numpy())


def test_scatter_add_matches_add_at_and_is_deterministic(cp):
    from gkeras.backend.gpu import array_ops
    rng = np.random.default_rng(1)
    table = rng.standard_normal((5003, 64)).astype(np.float32)
    ids = rng.integers(0, 5003, (64, 200))
    ids[:, :50] = 0  # a padding id, 3200 times
    vals = rng.standard_normal((64, 200, 64)).astype(np.float32)
    want = table.copy()
    np.add.at(want, ids, vals)
    runs = []
    for _ in range(2):
        d = cp.asarray(table)
        array_ops.scatter_add(d, cp.asarray(ids), cp.asarray(vals))
        runs.append(cp.asnumpy(d))
    np.testing.assert_array_equal(runs[0], runs[1])
    np.testing.assert_array_equal(runs[0], want)


def test_probe_passes(cp):
    from gkeras.backend.gpu.probe import device_report, probe_kernels
    assert probe_kernels() is None
    report = device_report()
    assert report["cupy"] == cp.__version__ and "device" in report


def test_tf32_switch_changes_float32_gemms_on_ampere(cp):
    import gkeras
    if int(cp.cuda.Device().compute_capability) < 80:
        pytest.skip("TF32 needs compute capability 8.0+")
    rng = np.random.default_rng(2)
    a = rng.standard_normal((512, 512)).astype(np.float32)
    b = rng.standard_normal((512, 512)).astype(np.float32)
    exact = a.astype(np.float64) @ b
    try:
        gkeras.config.enable_tensor_float_32_execution(False)
        full = cp.asnumpy(cp.asarray(a) @ cp.asarray(b))
        gkeras.config.enable_tensor_float_32_execution(True)
        tf32 = cp.asnumpy(cp.asarray(a) @ cp.asarray(b))
    finally:
        gkeras.config.enable_tensor_float_32_execution(False)
    err_full = np.abs(full - exact).max()
    err_tf32 = np.abs(tf32 - exact).max()
    assert err_full < 1e-3 < err_tf32


def test_prefetcher_round_trip(cp):
    from gkeras.backend.gpu.prefetch import HostGather, prefetch_to_device
    rng = np.random.default_rng(3)
    x = rng.standard_normal((100, 7)).astype(np.float32)
    idx = [rng.permutation(100)[:32] for _ in range(6)]
    got = list(prefetch_to_device(((HostGather(x, i), x[i] * 2)
                                   for i in idx), depth=2))
    for (gx, gy), i in zip(got, idx):
        np.testing.assert_array_equal(cp.asnumpy(gx), x[i])
        np.testing.assert_array_equal(cp.asnumpy(gy), x[i] * 2)

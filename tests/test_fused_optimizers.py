"""Fused multi-tensor optimizer updates (kernels/optimizers.cu).

The optimizers' own GPU dispatch (`optimizers/_fused.py` ->
`backend/gpu/optimizers.py`) is run whole through the CUDA emulator: the
runtime lookup is pointed at `tests/cuda_emu`'s `EmuRuntime`, so the same
tables, grid, block and argument tuple the GPU receives are launched on
the CPU. The reference is the NumPy path of the same optimizer classes
(their per-variable in-place math), which the kernel must match bit for
bit over several steps, on odd sizes and a tensor spanning two chunks.
"""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))

import gkeras  # noqa: E402
from gkeras import optimizers  # noqa: E402
from gkeras.backend.gpu import optimizers as gpu_opt  # noqa: E402
from gkeras.optimizers import _fused  # noqa: E402

try:
    from cuda_emu import emu
    HAVE_EMU = emu.have_compiler()
except Exception:  # pragma: no cover - harness missing
    emu, HAVE_EMU = None, False

needs_emu = pytest.mark.skipif(not HAVE_EMU,
                               reason="CUDA emulator (g++) not available")

# Odd sizes, a tensor over two chunks (MT_CHUNK = 4096), a scalar-like one.
SHAPES = [(7,), (13, 5), (gpu_opt.MT_CHUNK + 3,), (3, 3, 2, 5), (1,)]

CONFIGS = [
    ("SGD", dict(learning_rate=0.1)),
    ("SGD", dict(learning_rate=0.05, momentum=0.9)),
    ("SGD", dict(learning_rate=0.05, momentum=0.8, nesterov=True,
                 weight_decay=0.01)),
    ("Adam", dict(learning_rate=0.01)),
    ("Adam", dict(learning_rate=0.01, amsgrad=True, beta_1=0.8)),
    ("AdamW", dict(learning_rate=0.02, weight_decay=0.1)),
    ("RMSprop", dict(learning_rate=0.01)),
    ("RMSprop", dict(learning_rate=0.01, centered=True)),
    ("RMSprop", dict(learning_rate=0.01, momentum=0.5)),
    ("RMSprop", dict(learning_rate=0.01, centered=True, momentum=0.5,
                     rho=0.8, weight_decay=0.05)),
    ("Adam", dict(learning_rate=gkeras.optimizers.schedules.ExponentialDecay(
        0.05, decay_steps=1, decay_rate=0.5))),
    ("Adagrad", dict(learning_rate=0.1)),
    ("Adagrad", dict(learning_rate=0.1, initial_accumulator_value=0.5,
                     weight_decay=0.01)),
    ("Adamax", dict(learning_rate=0.02)),
    ("Adamax", dict(learning_rate=0.02, beta_2=0.9, weight_decay=0.1)),
    ("Lion", dict(learning_rate=0.01)),
    ("Lion", dict(learning_rate=0.01, beta_1=0.7, weight_decay=0.2)),
    ("Nadam", dict(learning_rate=0.01)),
    ("Nadam", dict(learning_rate=0.01, beta_1=0.8, weight_decay=0.05)),
]


def _variables(rng, extra_float64=False):
    vs = [gkeras.Variable(rng.standard_normal(s).astype(np.float32),
                          name=f"w{i}") for i, s in enumerate(SHAPES)]
    if extra_float64:
        vs.append(gkeras.Variable(rng.standard_normal((5,)), dtype="float64",
                                  name="w64"))
    return vs


def _run(cls_name, kwargs, steps=3, exclude=False, extra_float64=False):
    rng = np.random.default_rng(7)
    variables = _variables(rng, extra_float64)
    opt = getattr(optimizers, cls_name)(**kwargs)
    if exclude:
        opt.exclude_from_weight_decay(var_names=["w1"])
    grad_rng = np.random.default_rng(11)
    for _ in range(steps):
        grads = [grad_rng.standard_normal(v.shape).astype(v.dtype) * 3
                 for v in variables]
        opt.apply(grads, variables)
    return opt, variables


@pytest.fixture
def emulate(monkeypatch):
    """Call to send the fused path of NumPy float32 arrays through the
    emulator from then on; returns the `EmuRuntime` (its `launches`)."""
    def on():
        rt = emu.EmuRuntime(order="random")
        monkeypatch.setattr(
            _fused, "runtime_for",
            lambda a: rt if isinstance(a, np.ndarray) else None)
        return rt
    return on


@needs_emu
@pytest.mark.parametrize("cls_name,kwargs", CONFIGS,
                         ids=[f"{c}-{i}" for i, (c, _) in enumerate(CONFIGS)])
def test_emulated_fused_update_matches_numpy_bitwise(cls_name, kwargs,
                                                     emulate):
    ref_opt, ref_vars = _run(cls_name, kwargs,
                             exclude="weight_decay" in kwargs)
    emu_runtime = emulate()
    opt, got_vars = _run(cls_name, kwargs,
                         exclude="weight_decay" in kwargs)
    names = {n for _, n, *_ in emu_runtime.launches}
    assert names == {gpu_opt.ENTRY_POINTS[opt._fused_kind][0]}
    # One launch per step for every variable of the step.
    assert len(emu_runtime.launches) == 3
    for r, g in zip(ref_vars, got_vars):
        np.testing.assert_array_equal(g.numpy(), r.numpy())
    for r, g in zip(ref_opt.variables, opt.variables):
        np.testing.assert_array_equal(g.numpy(), r.numpy(), err_msg=r.path)
    # The tables were uploaded once, and again only when the (fresh)
    # gradient buffers moved: never more than once per step.
    assert opt._fused_plan.uploads <= 1 + 3


CLIP_CONFIGS = [
    ("Adam", dict(learning_rate=0.01, global_clipnorm=0.5)),
    ("SGD", dict(learning_rate=0.1, momentum=0.9, global_clipnorm=2.0)),
    ("RMSprop", dict(learning_rate=0.01, global_clipnorm=1e6)),  # inactive
    ("Lion", dict(learning_rate=0.01, global_clipnorm=0.5,
                  weight_decay=0.1)),
    ("Adam", dict(learning_rate=0.01, clipnorm=0.3)),  # per-variable clip
    ("SGD", dict(learning_rate=0.1, clipnorm=5.0)),     # some not clipped
    ("SGD", dict(learning_rate=0.1, clipvalue=0.2)),
]


@needs_emu
@pytest.mark.parametrize("cls_name,kwargs", CLIP_CONFIGS,
                         ids=[f"{c}-{i}" for i, (c, _) in
                              enumerate(CLIP_CONFIGS)])
def test_emulated_clipping(cls_name, kwargs, emulate):
    ref_opt, ref_vars = _run(cls_name, kwargs)
    emu_runtime = emulate()
    opt, got_vars = _run(cls_name, kwargs)
    names = [n for _, n, *_ in emu_runtime.launches]
    if "global_clipnorm" in kwargs or "clipnorm" in kwargs:
        # Norms, scales and update on the device: three launches a step.
        scale = ("mt_clip_scale_f32" if "global_clipnorm" in kwargs
                 else "mt_clip_tensor_scale_f32")
        assert names[:3] == ["mt_sumsq_f32", scale,
                             gpu_opt.ENTRY_POINTS[opt._fused_kind][0]]
        assert len(names) == 9
        # The norm is summed in another order than NumPy's: float32
        # rounding apart, the same numbers.
        tol = dict(rtol=2e-5, atol=1e-6)
    else:
        assert len(names) == 3
        tol = dict(rtol=0, atol=0)
    for r, g in zip(ref_vars, got_vars):
        np.testing.assert_allclose(g.numpy(), r.numpy(), **tol)
    for r, g in zip(ref_opt.variables, opt.variables):
        np.testing.assert_allclose(g.numpy(), r.numpy(), err_msg=r.path,
                                   **tol)


@needs_emu
def test_emulated_clip_scale_matches_keras_formula(emulate):
    # mt_sumsq_f32 + mt_clip_scale_f32 alone, against float64 NumPy.
    rt = emulate()
    rng = np.random.default_rng(5)
    gs = [rng.standard_normal(s).astype(np.float32) * 4 for s in SHAPES]
    norm = np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in gs))
    plan = gpu_opt.MultiTensorPlan()
    ws = [np.zeros_like(g) for g in gs]
    gpu_opt.multi_tensor_update(rt, "sgd", plan, gs, [[w] for w in ws],
                                [False] * len(gs),
                                (np.float32(1.0), np.float32(0.0),
                                 np.int32(0)), clip_norm=3.0)
    np.testing.assert_allclose(plan.scale[0], 3.0 / norm, rtol=1e-5)
    for g, w in zip(gs, ws):  # w = -lr * g * scale with lr = 1
        np.testing.assert_allclose(w, -g * (3.0 / norm), rtol=2e-5,
                                   atol=1e-7)


@needs_emu
def test_non_float32_variables_take_the_per_variable_path(emulate):
    kwargs = dict(learning_rate=0.01, weight_decay=0.02)
    ref_opt, ref_vars = _run("AdamW", kwargs, extra_float64=True)
    emu_runtime = emulate()
    opt, got_vars = _run("AdamW", kwargs, extra_float64=True)
    assert len(emu_runtime.launches) == 3
    for r, g in zip(ref_vars, got_vars):
        np.testing.assert_array_equal(g.numpy(), r.numpy())


@needs_emu
def test_subclass_overriding_update_step_keeps_its_math(emulate):
    emu_runtime = emulate()

    class MyAdam(optimizers.Adam):
        def update_step(self, gradient, variable, learning_rate):
            variable.data -= 1.0

    opt = MyAdam()
    v = gkeras.Variable(np.zeros(5, np.float32))
    opt.apply([np.ones(5, np.float32)], [v])
    assert not emu_runtime.launches
    np.testing.assert_array_equal(v.numpy(), -np.ones(5))


@needs_emu
def test_subclass_overriding_clipping_keeps_its_clipping(emulate):
    class HalfClip(optimizers.SGD):
        def _clip_gradients(self, grads):
            return [g * 0.5 for g in grads]

    emu_runtime = emulate()
    opt = HalfClip(learning_rate=1.0, global_clipnorm=1e-3)
    v = gkeras.Variable(np.zeros(5, np.float32))
    opt.apply([np.ones(5, np.float32)], [v])
    assert not emu_runtime.launches
    np.testing.assert_array_equal(v.numpy(), -0.5 * np.ones(5))


@needs_emu
def test_gradient_accumulation_uses_the_fused_path(emulate):
    kwargs = dict(learning_rate=0.1, momentum=0.9,
                  gradient_accumulation_steps=2)
    ref_opt, ref_vars = _run("SGD", kwargs, steps=4)
    emu_runtime = emulate()
    opt, got_vars = _run("SGD", kwargs, steps=4)
    assert len(emu_runtime.launches) == 2
    for r, g in zip(ref_vars, got_vars):
        np.testing.assert_array_equal(g.numpy(), r.numpy())


def test_numpy_path_never_reaches_the_gpu_module():
    # On NumPy arrays the runtime lookup answers None: no plan, no launch.
    opt, _ = _run("Adam", dict(learning_rate=0.01), steps=1)
    assert "_fused_plan" not in opt.__dict__


def test_plan_rebuilds_only_when_addresses_change():
    class Rt:
        xp = np
        launches = []

        def launch(self, *a):
            self.launches.append(a)

    rt, plan = Rt(), gpu_opt.MultiTensorPlan()
    w = [np.zeros(5000, np.float32), np.zeros(3, np.float32)]
    m = [np.zeros_like(a) for a in w]
    g = [np.ones_like(a) for a in w]
    scal = (np.float32(0.1), np.float32(0.0), np.int32(0))
    for _ in range(3):
        gpu_opt.multi_tensor_update(rt, "sgd", plan, g, [[a, b] for a, b in
                                                         zip(w, m)],
                                    [False, True], scal, 0.5)
    assert plan.uploads == 2 and len(rt.launches) == 3
    grid, block = rt.launches[0][2], rt.launches[0][3]
    assert grid == (3,) and block == (gpu_opt.MT_THREADS,)
    np.testing.assert_array_equal(
        plan.chunks, [[0, 0, 4096, 0], [0, 4096, 904, 0], [1, 0, 3, 1]])
    g2 = [np.ones_like(a) for a in w]
    gpu_opt.multi_tensor_update(rt, "sgd", plan, g2, [[a, b] for a, b in
                                                      zip(w, m)],
                                [False, True], scal, 0.5)
    assert plan.uploads == 3  # only the gradient column moved
    assert plan.host_meta[0, 0] == g2[0].ctypes.data
    with pytest.raises(ValueError, match="expected 3 scalars"):
        gpu_opt.multi_tensor_update(rt, "sgd", plan, g, [[a, b] for a, b in
                                                         zip(w, m)],
                                    [False, True], scal[:2])


@needs_emu
def test_every_entry_point_is_covered():
    # CONFIGS above exercise each entry point; a new one must be added.
    # (The _f16 / _bf16 twins: tests/test_half_kernels_emulated.py.)
    assert {n for n in emu.load("optimizers.cu").names
            if not n.endswith(("_f16", "_bf16"))} == {
        name for name, _ in gpu_opt.ENTRY_POINTS.values()} | {
        "mt_sumsq_f32", "mt_clip_scale_f32", "mt_clip_tensor_scale_f32"}
    assert {c for c, _ in CONFIGS} >= {"SGD", "Adam", "AdamW", "RMSprop",
                                       "Adagrad", "Adamax", "Lion", "Nadam"}


def test_table_upload_is_async_from_pinned_memory():
    # A fake CuPy recording the calls: the table is written into a pinned
    # buffer and copied with set(..., stream=current); a buffer is reused
    # only after its event, and the host waits only when that copy (queued
    # four uploads earlier) is still pending.
    import types
    log = []

    class Event:
        def __init__(self):
            self.done = False

        def synchronize(self):
            log.append("synchronize")
            self.done = True

    class Stream:
        def record(self):
            return Event()

    class Dev:
        def __init__(self, shape, dtype):
            self.shape, self.data = shape, np.zeros(shape, dtype)

        def set(self, arr, stream=None):
            assert isinstance(stream, Stream)
            log.append("set")
            self.data[...] = arr

    stream = Stream()
    xp = types.SimpleNamespace(
        empty=lambda shape, dtype: Dev(shape, dtype),
        cuda=types.SimpleNamespace(
            alloc_pinned_memory=lambda n: log.append("alloc") or np.empty(
                n, np.uint8),
            get_current_stream=lambda: stream))
    up = gpu_opt._TableUploader(xp)
    assert up.async_ok
    for k in range(6):
        host = np.full((3, 2), k, np.int64)
        dev = up.upload(host)
        np.testing.assert_array_equal(dev.data, host)
    assert log.count("alloc") == up._RING and log.count("set") == 6
    # Uploads 5 and 6 reuse the buffers of uploads 1 and 2, whose events
    # the fake never completes: the host waited for exactly those two.
    assert log.count("synchronize") == 2


@needs_emu
def test_global_clipnorm_with_a_per_variable_tensor_clips_on_the_host_path(
        emulate):
    # One float64 variable cannot be fused: the global norm must include
    # it, so every gradient is clipped the per-variable way first and the
    # fused launch gets no device clipping.
    kwargs = dict(learning_rate=0.05, global_clipnorm=0.5)
    ref_opt, ref_vars = _run("Adam", kwargs, extra_float64=True)
    emu_runtime = emulate()
    opt, got_vars = _run("Adam", kwargs, extra_float64=True)
    assert [n for _, n, *_ in emu_runtime.launches] == ["adam_mt_f32"] * 3
    for r, g in zip(ref_vars, got_vars):
        np.testing.assert_array_equal(g.numpy(), r.numpy())


@needs_emu
def test_clipnorm_with_a_per_variable_tensor(emulate):
    # clipnorm is per tensor: the fused tensors clip on the device, the
    # float64 one on the per-variable path, in the same step.
    kwargs = dict(learning_rate=0.05, clipnorm=0.5)
    ref_opt, ref_vars = _run("RMSprop", kwargs, extra_float64=True)
    emu_runtime = emulate()
    opt, got_vars = _run("RMSprop", kwargs, extra_float64=True)
    assert [n for _, n, *_ in emu_runtime.launches][:3] == [
        "mt_sumsq_f32", "mt_clip_tensor_scale_f32", "rmsprop_mt_f32"]
    for r, g in zip(ref_vars, got_vars):
        np.testing.assert_allclose(g.numpy(), r.numpy(), rtol=2e-5,
                                   atol=1e-6)

"""Fused one-pass CPU optimizer updates (backend/cpu/optimizers.py, numba).

Reference: the per-variable NumPy path of the same optimizer classes, run
under `jit.disabled()`, which the kernels must match bit for bit over
several steps (odd sizes, a tensor large enough to be split over threads,
weight decay with exclusions, amsgrad, nesterov, centered, clipping,
accumulation, EMA, loss scale, None / float16 / non-contiguous gradients,
NaN and inf). An independent float64 implementation of Keras 3's update
rules checks the math itself; `GKERAS_CPU_JIT=0` and the fallbacks
(float64 variables, subclasses with their own math) take the NumPy path.
"""

import numpy as np
import pytest

import gkeras
from gkeras import layers, optimizers
from gkeras.backend.cpu import jit, parallel
from gkeras.backend.cpu import optimizers as cpu_opt

pytest.importorskip("numba")

SHAPES = [(7,), (13, 5), (1,), (3, 3, 2, 5), ()]
BIG = ((1 << 18) + 37,)

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
    ("Adam", dict(learning_rate=optimizers.schedules.ExponentialDecay(
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


@pytest.fixture
def calls(monkeypatch):
    """Counts the fused CPU updates (variables per call)."""
    seen = []
    real = cpu_opt.multi_tensor_update

    def counting(kind, grads, *args):
        seen.append((kind, len(grads)))
        return real(kind, grads, *args)

    monkeypatch.setattr(cpu_opt, "multi_tensor_update", counting)
    monkeypatch.delenv("GKERAS_CPU_JIT", raising=False)
    return seen


def _run(cls_name, kwargs, steps=3, shapes=SHAPES, exclude=False,
         grad_fn=None, dtypes=None):
    rng = np.random.default_rng(7)
    dtypes = dtypes or ["float32"] * len(shapes)
    variables = [gkeras.Variable(rng.standard_normal(s).astype(d),
                                 dtype=d, name=f"w{i}")
                 for i, (s, d) in enumerate(zip(shapes, dtypes))]
    opt = getattr(optimizers, cls_name)(**kwargs)
    if exclude:
        opt.exclude_from_weight_decay(var_names=["w1"])
    grad_rng = np.random.default_rng(11)
    for step in range(steps):
        grads = [np.asarray(grad_rng.standard_normal(v.shape).astype(
            v.dtype) * 3) for v in variables]
        if grad_fn is not None:
            grads = grad_fn(step, grads)
        opt.apply(grads, variables)
    return opt, variables


def _both(cls_name, kwargs, **kw):
    got = _run(cls_name, kwargs, **kw)
    with jit.disabled():
        ref = _run(cls_name, kwargs, **kw)
    return got, ref


def _assert_same(got, ref, **tol):
    (opt, got_vars), (ref_opt, ref_vars) = got, ref
    for g, r in zip(got_vars, ref_vars):
        np.testing.assert_array_equal(g.numpy(), r.numpy()) if not tol else \
            np.testing.assert_allclose(g.numpy(), r.numpy(), **tol)
    for g, r in zip(opt.variables, ref_opt.variables):
        np.testing.assert_array_equal(g.numpy(), r.numpy(), err_msg=r.path)


@pytest.mark.parametrize("cls_name,kwargs", CONFIGS,
                         ids=[f"{c}-{i}" for i, (c, _) in enumerate(CONFIGS)])
def test_fused_update_matches_numpy_bitwise(cls_name, kwargs, calls):
    got, ref = _both(cls_name, kwargs, exclude="weight_decay" in kwargs)
    _assert_same(got, ref)
    kind = got[0]._fused_kind
    assert calls == [(kind, len(SHAPES))] * 3


@pytest.mark.parametrize("cls_name,kwargs", [CONFIGS[2], CONFIGS[4],
                                             CONFIGS[9], CONFIGS[16]])
def test_large_variable_split_over_threads(cls_name, kwargs, calls,
                                           monkeypatch):
    monkeypatch.setitem(parallel._STATE, "n", 2)
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1 << 18)
    got, ref = _both(cls_name, kwargs, shapes=[BIG, (5,)], steps=2)
    _assert_same(got, ref)
    assert len(calls) == 2


CLIPS = [dict(clipnorm=0.3), dict(clipnorm=50.0), dict(global_clipnorm=0.5),
         dict(clipvalue=0.2), dict(loss_scale_factor=128.0),
         dict(gradient_accumulation_steps=2), dict(use_ema=True),
         dict(use_ema=True, ema_overwrite_frequency=2)]


@pytest.mark.parametrize("cls_name", ["Adam", "SGD", "RMSprop"])
@pytest.mark.parametrize("extra", CLIPS, ids=[",".join(c) for c in CLIPS])
def test_clipping_accumulation_ema_loss_scale(cls_name, extra, calls):
    kwargs = dict(learning_rate=0.05, **extra)
    if cls_name == "SGD":
        kwargs["momentum"] = 0.9
    got, ref = _both(cls_name, kwargs, steps=4)
    _assert_same(got, ref)
    assert calls


def test_none_float16_and_non_contiguous_gradients(calls):
    def grads(step, gs):
        gs = list(gs)
        gs[0] = None if step == 1 else gs[0]
        gs[1] = np.asfortranarray(gs[1])  # not C-contiguous
        gs[3] = gs[3].astype("float16")
        if step == 2:
            gs[4] = gs[4][()]  # a NumPy scalar, not an array: NumPy path
        return gs

    with pytest.warns(UserWarning, match="Gradients do not exist"):
        got = _run("AdamW", dict(learning_rate=0.02), grad_fn=grads)
    with jit.disabled(), pytest.warns(UserWarning):
        ref = _run("AdamW", dict(learning_rate=0.02), grad_fn=grads)
    _assert_same(got, ref)
    assert [n for _, n in calls] == [5, 4, 4]


def test_nan_and_inf_gradients_propagate_as_numpy(calls):
    def grads(step, gs):
        g = gs[1].copy()
        g[0, 0], g[1, 1], g[2, 2] = np.nan, np.inf, -np.inf
        gs[1] = g
        gs[0] = np.zeros_like(gs[0])  # 0 / (0 + eps), sign(0)
        return gs

    for cls_name, kwargs in CONFIGS:
        with np.errstate(all="ignore"):
            got, ref = _both(cls_name, kwargs, steps=2, grad_fn=grads)
        _assert_same(got, ref)
    assert np.isnan(got[1][1].numpy()[0, 0])


def test_zero_epsilon_division_by_zero_does_not_raise(calls):
    # numba's default error model would raise ZeroDivisionError here.
    def zeros(step, gs):
        return [np.zeros_like(g) for g in gs]

    with np.errstate(all="ignore"):
        got, ref = _both("Adam", dict(learning_rate=0.1, epsilon=0.0),
                         steps=1, grad_fn=zeros)
    _assert_same(got, ref)
    assert np.isnan(got[1][0].numpy()).all()


def test_float64_variables_take_the_numpy_path(calls):
    dtypes = ["float32", "float64", "float32", "float64"]
    got, ref = _both("Adam", dict(learning_rate=0.01), dtypes=dtypes)
    _assert_same(got, ref)
    assert calls == [("adam", 2)] * 3


def test_env_off_and_subclass_math_keep_the_numpy_path(calls, monkeypatch):
    monkeypatch.setenv("GKERAS_CPU_JIT", "0")
    _run("Adam", dict(learning_rate=0.01), steps=1)
    assert calls == []
    monkeypatch.delenv("GKERAS_CPU_JIT")

    class MyAdam(optimizers.Adam):
        def update_step(self, gradient, variable, learning_rate):
            variable.data -= 1.0

    optimizers.MyAdam = MyAdam
    try:
        _, vs = _run("MyAdam", dict(learning_rate=0.01), steps=1)
    finally:
        del optimizers.MyAdam
    assert calls == []
    rng = np.random.default_rng(7)
    np.testing.assert_array_equal(
        vs[0].numpy(), rng.standard_normal(SHAPES[0]).astype("float32") - 1)


# ---------------------------------------------------- float64 reference

def _reference(cls_name, kwargs, w, grads):
    """Keras 3's update rules in float64 (keras/src/optimizers/*.py)."""
    w = w.astype(np.float64)
    lr, wd = kwargs["learning_rate"], kwargs.get("weight_decay")
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    vh = np.zeros_like(w)
    ag = np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        g = g.astype(np.float64)
        if wd is not None:
            w = w - w * wd * lr
        if cls_name in ("Adam", "AdamW"):
            b1, b2 = kwargs.get("beta_1", 0.9), 0.999
            alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            m += (g - m) * (1 - b1)
            v += (g * g - v) * (1 - b2)
            vv = v
            if kwargs.get("amsgrad"):
                vh = np.maximum(vh, v)
                vv = vh
            w = w - alpha * m / (np.sqrt(vv) + 1e-7)
        elif cls_name == "SGD":
            mom = kwargs.get("momentum", 0.0)
            m = mom * m - lr * g
            w = w + (mom * m - lr * g if kwargs.get("nesterov") else m)
        elif cls_name == "RMSprop":
            rho, mom = kwargs.get("rho", 0.9), kwargs.get("momentum", 0.0)
            v = rho * v + (1 - rho) * g * g
            d = v
            if kwargs.get("centered"):
                ag = rho * ag + (1 - rho) * g
                d = v - ag * ag
            inc = lr * g / np.sqrt(d + 1e-7)
            if mom > 0:
                m = mom * m + inc
                inc = m
            w = w - inc
    return w


@pytest.mark.parametrize("cls_name,kwargs",
                         [c for c in CONFIGS
                          if c[0] in ("SGD", "Adam", "AdamW", "RMSprop")
                          and not callable(c[1]["learning_rate"])],
                         ids=lambda c: str(c))
def test_fused_update_matches_float64_keras_rules(cls_name, kwargs, calls):
    all_grads = []

    def keep(step, gs):
        all_grads.append(gs)
        return gs

    (_, got_vars) = _run(cls_name, kwargs, steps=4, grad_fn=keep)
    rng = np.random.default_rng(7)
    for i, s in enumerate(SHAPES):
        w0 = rng.standard_normal(s).astype("float32")
        ref = _reference(cls_name, kwargs, w0, [g[i] for g in all_grads])
        np.testing.assert_allclose(got_vars[i].numpy(), ref, rtol=2e-5,
                                   atol=2e-6)
    assert calls


# ---------------------------------------------------------- whole models

def _mlp_weights(policy=None, steps=3):
    if policy:
        gkeras.config.set_dtype_policy(policy)
    try:
        gkeras.utils.set_random_seed(3)
        # No softmax: its compiled forward (backend/cpu/softmax.py) rounds
        # differently from NumPy's, and only the updates are under test.
        model = gkeras.Sequential([
            gkeras.Input((9,)), layers.Dense(6, activation="relu"),
            layers.Dense(3)])
        model.compile(optimizer=optimizers.Adam(0.01), loss="mse")
        rng = np.random.default_rng(0)
        x = rng.standard_normal((5, 9)).astype("float32")
        y = np.eye(3, dtype="float32")[rng.integers(0, 3, 5)]
        for _ in range(steps):
            model.train_on_batch(x, y)
        return [w.numpy() for w in model.weights] + [
            v.numpy() for v in model.optimizer.variables]
    finally:
        gkeras.config.set_dtype_policy("float32")


@pytest.mark.parametrize("policy", [None, "mixed_float16", "mixed_bfloat16"])
def test_model_training_same_with_and_without_jit(policy, calls):
    got = _mlp_weights(policy)
    with jit.disabled():
        ref = _mlp_weights(policy)
    assert calls
    for g, r in zip(got, ref):
        np.testing.assert_array_equal(g, r)


def test_kept_views_follow_replaced_arrays(calls):
    # The plan keeps flat views between steps; a variable whose array was
    # replaced (RNN states are, `Variable.data = ...`) or an optimizer
    # whose slots were overwritten must update the new arrays.
    def run():
        rng = np.random.default_rng(3)
        vs = [gkeras.Variable(rng.standard_normal(s).astype("float32"),
                              name=f"w{i}") for i, s in enumerate(SHAPES)]
        opt = optimizers.Adam(0.05, amsgrad=True)
        for step in range(4):
            gs = [rng.standard_normal(v.shape).astype("float32")
                  for v in vs]
            opt.apply(gs, vs)
            if step == 1:
                vs[1].data = vs[1].data.copy() + 1.0
                opt.set_weights([w.numpy() * 0.5 for w in opt.variables])
            if step == 2:
                opt._momentums[0].data = np.ones_like(opt._momentums[0].data)
        return [v.numpy() for v in vs] + [v.numpy() for v in opt.variables]

    got = run()
    with jit.disabled():
        ref = run()
    assert calls
    for g, r in zip(got, ref):
        np.testing.assert_array_equal(g, r)


def test_ema_fused_pass_matches_numpy(calls, monkeypatch):
    seen = []
    real = cpu_opt.ema_update

    def counting(avgs, ws, momentum):
        seen.append(len(avgs))
        return real(avgs, ws, momentum)

    monkeypatch.setattr(cpu_opt, "ema_update", counting)
    dtypes = ["float32", "float64", "float32", "float32"]
    kwargs = dict(learning_rate=0.05, use_ema=True, ema_momentum=0.9,
                  ema_overwrite_frequency=3)
    got, ref = _both("SGD", kwargs, steps=4, dtypes=dtypes)
    _assert_same(got, ref)
    assert seen == [3] * 4  # the float64 variable's average stays NumPy

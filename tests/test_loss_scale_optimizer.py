"""LossScaleOptimizer: Keras 3's dynamic loss scaling, checked step by
step against a NumPy reference written here from Keras's rules (halve and
skip on inf/NaN, double after `dynamic_growth_steps` finite steps), on the
host-decided path and on the device-selected (`xp.where`) path the GPU
takes."""

import numpy as np
import pytest

import gkeras
from gkeras import layers, optimizers
from gkeras.optimizers import LossScaleOptimizer


@pytest.fixture(autouse=True)
def _float32_policy_after():
    yield
    gkeras.config.set_dtype_policy("float32")


def test_defaults_config_and_delegation():
    inner = optimizers.SGD(0.25)
    opt = LossScaleOptimizer(inner)
    assert opt.initial_scale == 2.0 ** 15
    assert opt.dynamic_growth_steps == 2000
    cfg = opt.get_config()
    assert set(cfg) == {"name", "inner_optimizer", "initial_scale",
                        "dynamic_growth_steps"}
    assert cfg["inner_optimizer"]["class_name"] == "SGD"
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert isinstance(again, LossScaleOptimizer)
    assert again.inner_optimizer.get_config() == inner.get_config()
    assert float(opt.learning_rate.numpy()) == 0.25
    opt.learning_rate = 0.5
    assert float(inner.learning_rate.numpy()) == 0.5
    assert opt.iterations is inner.iterations
    assert opt.scale_loss(2.0) == 65536.0


@pytest.mark.parametrize("kwargs,match", [
    ({"dynamic": False}, "dynamic=False"),
    ({"clipnorm": 1.0}, "clipnorm"),
    ({"use_ema": True}, "use_ema"),
    ({"foo": 1}, "foo"),
    ({"dynamic_growth_steps": 0}, "dynamic_growth_steps"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LossScaleOptimizer(optimizers.SGD(0.1), **kwargs)
    with pytest.raises(TypeError, match="inner_optimizer"):
        LossScaleOptimizer("sgd")


def _adam_reference(w, grads, lr, initial_scale, growth):
    """Keras's rules in NumPy float64: Adam on the unscaled gradients of
    the applied steps only."""
    b1, b2, eps = 0.9, 0.999, 1e-7
    w = w.astype(np.float64)
    m, v = np.zeros_like(w), np.zeros_like(w)
    scale, counter, t = initial_scale, 0, 0
    trace = []
    for g in grads:
        if np.all(np.isfinite(g)):
            g = g.astype(np.float64) / scale
            t += 1
            m = m + (g - m) * (1 - b1)
            v = v + (g * g - v) * (1 - b2)
            alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            w = w - alpha * m / (np.sqrt(v) + eps)
            if counter == growth - 1:
                scale, counter = scale * 2, 0
            else:
                counter += 1
        else:
            scale, counter = scale / 2, 0
        trace.append((w.copy(), m.copy(), v.copy(), scale, counter, t))
    return trace


@pytest.mark.parametrize("device_select", [False, True])
def test_skip_halve_grow_against_numpy(device_select):
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(3, 2)).astype("float32")
    var = gkeras.Variable(w0)
    opt = LossScaleOptimizer(optimizers.Adam(0.01), initial_scale=64.0,
                             dynamic_growth_steps=3)
    opt._force_device_select = device_select
    grads = []
    for i in range(12):
        g = rng.normal(size=(3, 2)).astype("float32") * 64
        if i in (2, 3, 9):
            g[1, 0] = [np.inf, np.nan, -np.inf][i % 3]
        grads.append(g)
    trace = _adam_reference(w0, grads, 0.01, 64.0, 3)
    for i, (g, (w, m, v, scale, counter, t)) in enumerate(zip(grads, trace)):
        before = var.numpy()
        opt.apply([g], [var])
        m_var, v_var = opt.inner_optimizer.variables[2:4]
        np.testing.assert_allclose(var.numpy(), w, rtol=1e-5, atol=1e-6,
                                   err_msg=f"step {i}")
        np.testing.assert_allclose(m_var.numpy(), m, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(v_var.numpy(), v, rtol=1e-5, atol=1e-9)
        assert float(opt.dynamic_scale.numpy()) == scale, i
        assert int(opt.step_counter.numpy()) == counter, i
        assert int(opt.iterations.numpy()) == t, i
        if not np.all(np.isfinite(g)):
            np.testing.assert_array_equal(var.numpy(), before)
    # 64 -> 32 -> 16 (two bad steps) -> 32 after 3 good ones -> ...
    assert [s for *_, s, _, _ in trace][:6] == [64, 64, 32, 16, 16, 16]
    assert trace[6][3] == 32


def test_variables_order_and_paths():
    var = gkeras.Variable(np.ones(2, "float32"))
    opt = LossScaleOptimizer(optimizers.SGD(0.1, name="sgd"))
    names = [v.path for v in opt.variables]
    assert names == ["loss_scale_optimizer/iteration",
                     "loss_scale_optimizer/learning_rate", "sgd/iteration",
                     "sgd/learning_rate"]
    opt.build([var])
    assert [v.path for v in opt.variables] == [
        "loss_scale_optimizer/iteration",
        "loss_scale_optimizer/learning_rate",
        "loss_scale_optimizer/step_counter",
        "loss_scale_optimizer/dynamic_scale", "sgd/iteration",
        "sgd/learning_rate"]
    assert opt.step_counter.dtype == np.int32
    assert opt.dynamic_scale.dtype == np.float32
    # Keras's pre-step layout (4 values) fills the right slots.
    opt.set_weights([0, 0.0, 5, 0.25])
    assert int(opt.iterations.numpy()) == 5
    assert float(opt.learning_rate.numpy()) == 0.25
    assert float(opt.dynamic_scale.numpy()) == 32768.0


def _overflowing_model(policy):
    gkeras.mixed_precision.set_global_policy(policy)
    model = gkeras.Sequential([gkeras.Input((4,)), layers.Dense(3),
                               layers.Dense(1, dtype="float32")])
    gkeras.mixed_precision.set_global_policy("float32")
    return model


def test_compile_wraps_only_under_mixed_float16():
    model = _overflowing_model("mixed_float16")
    model.compile(optimizer=optimizers.SGD(0.1), loss="mse")
    assert isinstance(model.optimizer, LossScaleOptimizer)
    assert model.optimizer.name == "loss_scale_optimizer"
    assert model.get_compile_config()["optimizer"]["class_name"] == "SGD"
    model.compile(optimizer="sgd", loss="mse", auto_scale_loss=False)
    assert type(model.optimizer).__name__ == "SGD"
    model = _overflowing_model("mixed_bfloat16")
    model.compile(optimizer="sgd", loss="mse")
    assert type(model.optimizer).__name__ == "SGD"
    given = LossScaleOptimizer(optimizers.SGD(0.1), initial_scale=8.0)
    mixed = _overflowing_model("mixed_float16")
    mixed.compile(optimizer=given, loss="mse")
    assert mixed.optimizer is given


def test_training_drives_the_scale_down_until_float16_gradients_fit():
    """Targets of 1e3 make float16 gradients of the scaled loss overflow:
    the first steps are skipped (weights, slots, iterations unchanged) and
    each halves the scale, until the scaled gradients fit in float16."""
    model = _overflowing_model("mixed_float16")
    model.compile(optimizer=optimizers.SGD(1e-4), loss="mse")
    x = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")
    y = np.full((8, 1), 1e3, "float32")
    opt = model.optimizer
    scales, skipped = [], []
    for _ in range(12):
        before = [w.numpy() for w in model.weights]
        scale = opt.scale_loss(1.0) if not opt.built else \
            float(opt.dynamic_scale.numpy())
        model.train_on_batch(x, y)
        after = [w.numpy() for w in model.weights]
        same = all(np.array_equal(a, b) for a, b in zip(before, after))
        new_scale = float(opt.dynamic_scale.numpy())
        if same:
            assert new_scale == scale / 2
            assert int(opt.step_counter.numpy()) == 0
        else:
            assert new_scale == scale
        scales.append(new_scale)
        skipped.append(same)
    assert skipped[0] and not skipped[-1]
    n_skipped = sum(skipped)
    assert skipped == [True] * n_skipped + [False] * (12 - n_skipped)
    assert int(opt.iterations.numpy()) == 12 - n_skipped
    assert scales[-1] == 2.0 ** (15 - n_skipped)
    assert all(np.isfinite(w.numpy()).all() for w in model.weights)

"""Optimizers and schedules vs independent float64 NumPy re-implementations
of Keras 3's update rules."""

import math
import warnings

import numpy as np
import pytest

from gkeras import optimizers
from gkeras.ops.variable import Variable
from gkeras.optimizers import schedules

RNG = np.random.default_rng(0)
W0 = [RNG.standard_normal((4, 3)).astype(np.float32),
      RNG.standard_normal((3,)).astype(np.float32)]
GRADS = [[RNG.standard_normal(w.shape).astype(np.float32) for w in W0]
         for _ in range(5)]


def _vars():
    return [Variable(W0[0].copy(), name="kernel"),
            Variable(W0[1].copy(), name="bias")]


def _run(opt, steps=5):
    vs = _vars()
    for g in GRADS[:steps]:
        opt.apply([x.copy() for x in g], vs)
    return [v.numpy() for v in vs]


# Reference update rules, float64, per variable: fn(w, g, state, t, lr)
def ref_sgd(mom=0.0, nesterov=False):
    def f(w, g, s, t, lr):
        if mom == 0:
            return w - lr * g
        m = s.get("m", 0.0) * mom - lr * g
        s["m"] = m
        return w + mom * m - lr * g if nesterov else w + m
    return f


def ref_adam(b1=0.9, b2=0.999, eps=1e-7, amsgrad=False):
    def f(w, g, s, t, lr):
        m = s.get("m", 0.0) + (g - s.get("m", 0.0)) * (1 - b1)
        v = s.get("v", 0.0) + (g * g - s.get("v", 0.0)) * (1 - b2)
        s["m"], s["v"] = m, v
        if amsgrad:
            v = np.maximum(s.get("vh", 0.0), v)
            s["vh"] = v
        alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        return w - alpha * m / (np.sqrt(v) + eps)
    return f


def ref_rmsprop(rho=0.9, mom=0.0, eps=1e-7, centered=False):
    def f(w, g, s, t, lr):
        v = rho * s.get("v", 0.0) + (1 - rho) * g * g
        s["v"] = v
        if centered:
            a = rho * s.get("a", 0.0) + (1 - rho) * g
            s["a"] = a
            den = v - a * a + eps
        else:
            den = v + eps
        inc = lr * g / np.sqrt(den)
        if mom > 0:
            s["m"] = mom * s.get("m", 0.0) + inc
            return w - s["m"]
        return w - inc
    return f


def ref_adagrad(init=0.1, eps=1e-7):
    def f(w, g, s, t, lr):
        a = s.get("a", init) + g * g
        s["a"] = a
        return w - lr * g / np.sqrt(a + eps)
    return f


def ref_adadelta(rho=0.95, eps=1e-7):
    def f(w, g, s, t, lr):
        ag = rho * s.get("ag", 0.0) + (1 - rho) * g * g
        d = -np.sqrt(s.get("ad", 0.0) + eps) / np.sqrt(ag + eps) * g
        s["ag"], s["ad"] = ag, rho * s.get("ad", 0.0) + (1 - rho) * d * d
        return w + lr * d
    return f


def ref_adamax(b1=0.9, b2=0.999, eps=1e-7):
    def f(w, g, s, t, lr):
        m = s.get("m", 0.0) + (g - s.get("m", 0.0)) * (1 - b1)
        u = np.maximum(b2 * s.get("u", 0.0), np.abs(g))
        s["m"], s["u"] = m, u
        return w - lr * m / ((1 - b1 ** t) * (u + eps))
    return f


def ref_nadam(b1=0.9, b2=0.999, eps=1e-7):
    def f(w, g, s, t, lr):
        # u_product is shared across variables: keep it per step in s
        up = s.get("up", 1.0) * b1 * (1 - 0.5 * 0.96 ** t)
        s["up"] = up
        u_t = b1 * (1 - 0.5 * 0.96 ** t)
        u_t1 = b1 * (1 - 0.5 * 0.96 ** (t + 1))
        m = s.get("m", 0.0) + (g - s.get("m", 0.0)) * (1 - b1)
        v = s.get("v", 0.0) + (g * g - s.get("v", 0.0)) * (1 - b2)
        s["m"], s["v"] = m, v
        m_hat = u_t1 * m / (1 - up * u_t1) + (1 - u_t) * g / (1 - up)
        v_hat = v / (1 - b2 ** t)
        return w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return f


def ref_lion(b1=0.9, b2=0.99):
    def f(w, g, s, t, lr):
        m = s.get("m", 0.0)
        w = w - lr * np.sign(m * b1 + g * (1 - b1))
        s["m"] = m * b2 + g * (1 - b2)
        return w
    return f


def _reference(fn, lr=0.01, steps=5, wd=None):
    ws = [w.astype(np.float64) for w in W0]
    states = [{} for _ in ws]
    for t in range(1, steps + 1):
        for i in range(len(ws)):
            if wd is not None:
                ws[i] = ws[i] - ws[i] * wd * lr
            ws[i] = fn(ws[i], GRADS[t - 1][i].astype(np.float64), states[i],
                       t, lr)
    return ws


CASES = [
    (lambda: optimizers.SGD(0.1), ref_sgd(), 0.1),
    (lambda: optimizers.SGD(0.1, momentum=0.9), ref_sgd(0.9), 0.1),
    (lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True),
     ref_sgd(0.9, True), 0.1),
    (lambda: optimizers.Adam(0.01), ref_adam(), 0.01),
    (lambda: optimizers.Adam(0.01, amsgrad=True), ref_adam(amsgrad=True),
     0.01),
    (lambda: optimizers.RMSprop(0.01), ref_rmsprop(), 0.01),
    (lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
     ref_rmsprop(mom=0.5, centered=True), 0.01),
    (lambda: optimizers.Adagrad(0.1), ref_adagrad(), 0.1),
    (lambda: optimizers.Adadelta(1.0), ref_adadelta(), 1.0),
    (lambda: optimizers.Adamax(0.01), ref_adamax(), 0.01),
    (lambda: optimizers.Lion(0.01), ref_lion(), 0.01),
]


@pytest.mark.parametrize("make,ref,lr", CASES)
def test_update_rules_match_reference(make, ref, lr):
    got = _run(make())
    want = _reference(ref, lr=lr)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("make,ref,lr", CASES + [
    (lambda: optimizers.Nadam(0.01), ref_nadam(), 0.01)])
def test_large_variables_update_in_blocks_like_small_ones(make, ref, lr,
                                                         monkeypatch):
    # 333 x 211 = 70,263 entries: blocked once the threshold is lowered
    # (the real one is ~1M entries), over two full blocks and a partial
    # last one; the gradient arrives transposed (non-contiguous) as a
    # matmul's gradient can.
    from gkeras.optimizers import base_optimizer
    monkeypatch.setattr(base_optimizer, "_BLOCKED_ABOVE",
                        2 * base_optimizer._UPDATE_BLOCK)
    r = np.random.default_rng(3)
    w0 = r.standard_normal((333, 211)).astype(np.float32)
    grads = [r.standard_normal((211, 333)).astype(np.float32).T
             for _ in range(3)]
    v = Variable(w0.copy())
    opt = make()
    for g in grads:
        opt.apply([g], [v])
    w, state = w0.astype(np.float64), {}
    for t, g in enumerate(grads, 1):
        w = ref(w, g.astype(np.float64), state, t, lr)
    np.testing.assert_allclose(v.numpy(), w, rtol=2e-5, atol=2e-6)


def test_nadam_matches_reference():
    got = _run(optimizers.Nadam(0.01))
    # the u_product schedule is global: replay it per variable separately
    ws = [w.astype(np.float64) for w in W0]
    st = [{} for _ in ws]
    f = ref_nadam()
    for t in range(1, 6):
        for i in range(2):
            ws[i] = f(ws[i], GRADS[t - 1][i].astype(np.float64), st[i], t,
                      0.01)
    for g, w in zip(got, ws):
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-6)


def test_adamw_weight_decay():
    got = _run(optimizers.AdamW(0.01, weight_decay=0.1))
    want = _reference(ref_adam(), lr=0.01, wd=0.1)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-6)
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.AdamW(weight_decay=None)


def test_exclude_from_weight_decay():
    opt = optimizers.SGD(0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    vs = _vars()
    z = [np.zeros_like(w) for w in W0]
    opt.apply(z, vs)
    np.testing.assert_allclose(vs[0].numpy(), W0[0] * (1 - 0.05), rtol=1e-6)
    np.testing.assert_array_equal(vs[1].numpy(), W0[1])


def test_ftrl_runs_and_config():
    opt = optimizers.Ftrl(0.1, l1_regularization_strength=0.01)
    got = _run(opt, 2)
    assert all(np.isfinite(g).all() for g in got)
    assert optimizers.Ftrl.from_config(opt.get_config()).get_config() == \
        opt.get_config()


def test_clipping():
    g = np.array([3.0, 4.0], np.float32)  # norm 5
    v = Variable(np.zeros(2), name="v")
    optimizers.SGD(1.0, clipnorm=1.0).apply([g], [v])
    np.testing.assert_allclose(v.numpy(), -g / 5, rtol=1e-6)
    v = Variable(np.zeros(2), name="v")
    optimizers.SGD(1.0, clipvalue=3.5).apply([g], [v])
    np.testing.assert_allclose(v.numpy(), [-3.0, -3.5])
    a, b = Variable(np.zeros(2), name="a"), Variable(np.zeros(1), name="b")
    optimizers.SGD(1.0, global_clipnorm=1.0).apply(
        [g, np.array([12.0], np.float32)], [a, b])
    np.testing.assert_allclose(a.numpy(), -g / 13, rtol=1e-6)
    np.testing.assert_allclose(b.numpy(), [-12 / 13], rtol=1e-6)
    with pytest.raises(ValueError, match="Only one of"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)


def test_iterations_lr_and_variables():
    opt = optimizers.Adam(learning_rate=0.01)
    vs = _vars()
    opt.apply(GRADS[0], vs)
    opt.apply(GRADS[1])  # built: variables optional
    assert int(opt.iterations.numpy()) == 2
    assert opt.iterations.dtype == np.int64
    # Keras 3.15's order: slots interleaved per variable.
    assert [v.path for v in opt.variables] == [
        "adam/iteration", "adam/learning_rate", "adam/kernel_momentum",
        "adam/kernel_velocity", "adam/bias_momentum", "adam/bias_velocity"]
    assert opt.learning_rate.dtype == np.float32
    opt.learning_rate = 1e-4
    assert opt._current_learning_rate() == pytest.approx(1e-4)
    opt.learning_rate.assign(2e-4)
    assert opt._current_learning_rate() == pytest.approx(2e-4)
    opt.iterations.assign(0)
    assert opt._step == 0


def test_lr_alias_and_decay():
    opt = optimizers.SGD(lr=0.5)
    assert float(opt.learning_rate.numpy()) == 0.5
    assert opt.lr is opt.learning_rate
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        opt = optimizers.SGD(0.1, decay=0.5)
    assert any("decay" in str(x.message) for x in w)
    v = Variable(np.zeros(1), name="v")
    for _ in range(3):
        opt.apply([np.ones(1, np.float32)], [v])
    # Keras 2: lr_t = lr / (1 + decay * t), t = 0, 1, 2
    np.testing.assert_allclose(v.numpy(), [-(0.1 + 0.1 / 1.5 + 0.1 / 2)],
                               rtol=1e-5)
    with pytest.raises(ValueError, match="not recognized"):
        optimizers.Adam(foo=1)
    with pytest.raises(ValueError, match="learning_rate"):
        optimizers.Adam(learning_rate="fast")


def test_none_gradients_skipped_and_unknown_variable():
    opt = optimizers.SGD(0.1)
    vs = _vars()
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        opt.apply([GRADS[0][0], None], vs)
    np.testing.assert_array_equal(vs[1].numpy(), W0[1])
    with pytest.raises(ValueError, match="Unknown variable"):
        opt.apply([GRADS[0][0]], [Variable(np.zeros((4, 3)), name="x")])


def test_constraint_applied_after_update():
    from gkeras.constraints import NonNeg
    v = Variable(np.array([0.05, 1.0]), name="v", constraint=NonNeg())
    optimizers.SGD(1.0).apply([np.array([1.0, 0.5], np.float32)], [v])
    np.testing.assert_allclose(v.numpy(), [0.0, 0.5])


def test_inplace_updates():
    vs = _vars()
    ids = [id(v.data) for v in vs]
    opt = optimizers.Adam()
    opt.apply(GRADS[0], vs)
    opt.apply(GRADS[1], vs)
    assert [id(v.data) for v in vs] == ids


def test_ema_and_gradient_accumulation():
    opt = optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5)
    v = Variable(np.zeros(1), name="v")
    g = np.ones(1, np.float32)
    opt.apply([g], [v])  # w=-0.1, avg=w (first step)
    opt.apply([g], [v])  # w=-0.2, avg=0.5*-0.1+0.5*-0.2
    opt.finalize_variable_values([v])
    np.testing.assert_allclose(v.numpy(), [-0.15], rtol=1e-6)
    opt = optimizers.SGD(0.1, gradient_accumulation_steps=2)
    v = Variable(np.zeros(1), name="v")
    opt.apply([np.array([1.0], np.float32)], [v])
    np.testing.assert_allclose(v.numpy(), [0.0])
    opt.apply([np.array([3.0], np.float32)], [v])
    np.testing.assert_allclose(v.numpy(), [-0.2], rtol=1e-6)
    assert int(opt.iterations.numpy()) == 1


def test_loss_scale_factor():
    opt = optimizers.SGD(0.1, loss_scale_factor=4.0)
    v = Variable(np.zeros(1), name="v")
    opt.apply([np.array([4.0], np.float32)], [v])
    np.testing.assert_allclose(v.numpy(), [-0.1], rtol=1e-6)
    assert opt.scale_loss(2.0) == 8.0


@pytest.mark.parametrize("name,cls", [
    ("adam", optimizers.Adam), ("Adam", optimizers.Adam),
    ("sgd", optimizers.SGD), ("SGD", optimizers.SGD),
    ("rmsprop", optimizers.RMSprop), ("adamw", optimizers.AdamW),
    ("adagrad", optimizers.Adagrad), ("adadelta", optimizers.Adadelta),
    ("adamax", optimizers.Adamax), ("nadam", optimizers.Nadam),
    ("lion", optimizers.Lion), ("ftrl", optimizers.Ftrl)])
def test_get_string(name, cls):
    assert type(optimizers.get(name)) is cls


def test_get_errors_and_config_roundtrip():
    with pytest.raises(ValueError, match="adam"):
        optimizers.get("adamm")
    opt = optimizers.Adam(0.003, beta_1=0.8, amsgrad=True, clipnorm=1.0)
    cfg = opt.get_config()
    assert cfg["learning_rate"] == pytest.approx(0.003)
    assert cfg["name"] == "adam" and cfg["amsgrad"] is True
    opt2 = optimizers.deserialize(optimizers.serialize(opt))
    assert opt2.get_config() == cfg
    sched = schedules.ExponentialDecay(0.1, 10, 0.5)
    opt = optimizers.SGD(sched)
    cfg = opt.get_config()
    assert cfg["learning_rate"]["class_name"] == "ExponentialDecay"
    opt2 = optimizers.SGD.from_config(cfg)
    assert isinstance(opt2._learning_rate, schedules.ExponentialDecay)
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.1
    v = Variable(np.zeros(1), name="v")
    for _ in range(3):
        opt.apply([np.ones(1, np.float32)], [v])
    # steps 0, 1, 2 -> 0.1 * 0.5 ** (t / 10)
    want = -sum(0.1 * 0.5 ** (t / 10) for t in range(3))
    np.testing.assert_allclose(v.numpy(), [want], rtol=1e-6)


def test_schedules_values():
    e = schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True)
    assert e(15) == pytest.approx(0.05)
    assert schedules.ExponentialDecay(0.1, 10, 0.5)(15) == \
        pytest.approx(0.1 * 0.5 ** 1.5)
    p = schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [p(s) for s in (0, 10, 11, 20, 21)] == [1.0, 1.0, 0.5, 0.5, 0.1]
    pd = schedules.PolynomialDecay(0.1, 10, end_learning_rate=0.01,
                                   power=2.0)
    assert pd(5) == pytest.approx(0.09 * 0.25 + 0.01)
    assert pd(50) == pytest.approx(0.01)
    pc = schedules.PolynomialDecay(0.1, 10, end_learning_rate=0.0,
                                   cycle=True)
    assert pc(15) == pytest.approx(0.1 * (1 - 15 / 20))
    it = schedules.InverseTimeDecay(0.1, 10, 0.5)
    assert it(20) == pytest.approx(0.1 / 2.0)
    c = schedules.CosineDecay(0.1, 100, alpha=0.1)
    assert c(50) == pytest.approx(0.1 * (0.9 * 0.5 + 0.1))
    assert c(500) == pytest.approx(0.01)
    cw = schedules.CosineDecay(0.0, 100, warmup_target=0.2, warmup_steps=10)
    assert cw(5) == pytest.approx(0.1)
    assert cw(10) == pytest.approx(0.2)
    assert cw(60) == pytest.approx(0.2 * 0.5)
    r = schedules.CosineDecayRestarts(0.1, 10, t_mul=2.0, m_mul=0.5)
    assert r(0) == pytest.approx(0.1)
    assert r(5) == pytest.approx(0.05)
    assert r(10) == pytest.approx(0.05)  # restart: m_mul ** 1
    assert r(20) == pytest.approx(0.05 * 0.5 * (1 + math.cos(math.pi / 2)))
    r1 = schedules.CosineDecayRestarts(0.1, 10, t_mul=1.0)
    assert r1(13) == pytest.approx(0.1 * 0.5 * (1 + math.cos(0.3 * math.pi)))
    for s in (e, p, pd, it, c, cw, r):
        s2 = schedules.deserialize(schedules.serialize(s))
        assert s2.get_config() == s.get_config()
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.CosineDecay(0.1, 0)

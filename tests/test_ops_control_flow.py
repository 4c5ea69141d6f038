"""keras.ops control flow and autodiff helpers (map, scan,
associative_scan, switch, vectorized_map, vectorize, custom_gradient,
rearrange): values against plain NumPy loops, gradients through the
loops against finite differences."""

import numpy as np
import pytest

import gkeras
from gkeras import ops
from gkeras.ops.engine import GradientTape, Tensor
from harness import check_grad

rng = np.random.default_rng(3)


def r(*shape):
    return rng.uniform(-1, 1, size=shape)


def npv(t):
    return np.asarray(t)


def test_map_and_vectorized_map():
    x = r(4, 3)
    np.testing.assert_allclose(npv(ops.map(lambda t: ops.sum(t * t), x)),
                               (x * x).sum(1), rtol=1e-12)
    out = ops.map(lambda d: {"s": d["a"] + d["b"], "p": d["a"] * 2},
                  {"a": x, "b": x[:, :1]})
    np.testing.assert_allclose(npv(out["s"]), x + x[:, :1], rtol=1e-12)
    np.testing.assert_allclose(npv(out["p"]), 2 * x, rtol=1e-12)
    m = r(2, 3, 4)
    np.testing.assert_allclose(
        npv(ops.vectorized_map(lambda t: ops.matmul(t, ops.transpose(t)),
                               m)), m @ m.transpose(0, 2, 1), rtol=1e-12)
    check_grad(lambda t: ops.map(lambda s: ops.sin(s) * s[0], t), x)
    with pytest.raises(ValueError, match="same size along axis 0"):
        ops.map(lambda d: d, [x, x[:2]])


@pytest.mark.parametrize("reverse", [False, True])
def test_scan(reverse):
    xs = r(5, 2)
    init = r(2)

    def f(c, x):
        c = ops.tanh(c * 0.5 + x)
        return c, ops.sum(c) * 2.0

    carry, ys = ops.scan(f, init, xs, reverse=reverse)
    c = init.copy()
    want = np.zeros(5)
    order = range(4, -1, -1) if reverse else range(5)
    for i in order:
        c = np.tanh(c * 0.5 + xs[i])
        want[i] = 2 * c.sum()
    np.testing.assert_allclose(npv(carry), c, rtol=1e-12)
    np.testing.assert_allclose(npv(ys), want, rtol=1e-12)
    check_grad(lambda i, x: ops.scan(f, i, x, reverse=reverse), init, xs)


def test_scan_length_structures_and_errors():
    carry, ys = ops.scan(lambda c, x: (c + 1, None), 0, length=4)
    assert int(carry) == 4 and ys is None
    (a, b), ys = ops.scan(lambda c, x: ((c[0] + x["u"], c[1] * 2),
                                        {"v": c[0]}),
                          (np.zeros(2), 1.0), {"u": np.ones((3, 2))})
    np.testing.assert_allclose(npv(a), [3.0, 3.0])
    assert float(b) == 8.0
    np.testing.assert_allclose(npv(ys["v"]), [[0, 0], [1, 1], [2, 2]])
    with pytest.raises(ValueError, match="give `xs` or `length`"):
        ops.scan(lambda c, x: (c, x), 0.0)
    with pytest.raises(ValueError, match="length=3 does not match"):
        ops.scan(lambda c, x: (c, x), 0.0, np.ones(4), length=3)
    with pytest.raises(ValueError, match="`unroll` must be a positive"):
        ops.scan(lambda c, x: (c, x), 0.0, np.ones(4), unroll=0)


@pytest.mark.parametrize("n", [1, 2, 5, 8, 11])
@pytest.mark.parametrize("reverse", [False, True])
def test_associative_scan(n, reverse):
    x = r(3, n)
    got = ops.associative_scan(ops.add, x, reverse=reverse, axis=1)
    want = np.flip(np.cumsum(np.flip(x, 1), 1), 1) if reverse else \
        np.cumsum(x, 1)
    np.testing.assert_allclose(npv(got), want, rtol=1e-12)
    check_grad(lambda t: ops.associative_scan(ops.multiply, t,
                                              reverse=reverse, axis=1), x)


def test_associative_scan_structures():
    # A linear recurrence h_t = a_t h_{t-1} + b_t as an associative scan of
    # (a, b) pairs: the classic parallel-scan use.
    a, b = r(9), r(9)

    def combine(p, q):
        return (p[0] * q[0], q[0] * p[1] + q[1])

    _, h = ops.associative_scan(combine, (a, b))
    want, prev = [], 0.0
    for t in range(9):
        prev = a[t] * prev + b[t]
        want.append(prev)
    np.testing.assert_allclose(npv(h), want, rtol=1e-12)
    np.testing.assert_allclose(
        npv(ops.associative_scan(lambda x, y: x + y, np.arange(5))),
        [0, 1, 3, 6, 10])


def test_switch_cond_loops():
    branches = [lambda x: x + 1, lambda x: x * 10, lambda x: -x]
    assert float(ops.switch(1, branches, 2.0)) == 20.0
    assert float(ops.switch(7, branches, 2.0)) == -2.0  # clamped
    assert float(ops.switch(-3, branches, 2.0)) == 3.0
    assert float(ops.cond(True, lambda: 1.0, lambda: 2.0)) == 1.0
    assert int(ops.fori_loop(0, 5, lambda i, v: v + i, 0)) == 10
    assert ops.while_loop(lambda a, b: a < 5, lambda a, b: (a + 1, b * 2),
                          (0, 1)) == (5, 32)


def test_vectorize():
    f = ops.vectorize(lambda a, b: a * a + b)
    x, y = r(2, 1), r(3)
    np.testing.assert_allclose(npv(f(x, y)), x * x + y, rtol=1e-12)
    g = ops.vectorize(lambda a, b: ops.sum(a * b), signature="(n),(n)->()")
    np.testing.assert_allclose(npv(g(r(4, 3) * 0 + x[0], y)),
                               (np.broadcast_to(x[0], (4, 3)) * y).sum(1),
                               rtol=1e-12)
    h = ops.vectorize(lambda a, scale: a * scale, excluded={1})
    np.testing.assert_allclose(npv(h(y, 3.0)), 3 * y)
    check_grad(lambda s, t: f(s, t), x, y)
    with pytest.raises(ValueError, match="has 2 inputs"):
        g(y)


def test_custom_gradient():
    @ops.custom_gradient
    def log1pexp(x):
        e = ops.exp(x)

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return ops.multiply(upstream, 1.0 - 1.0 / ops.add(1, e))

        return ops.log(1 + e), grad

    x = Tensor(np.array([0.0, 1.0, 100.0]))
    with GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(log1pexp(x))
    g = tape.gradient(y, x)
    np.testing.assert_allclose(g, 1 / (1 + np.exp(-np.array([0, 1, 100.0]))),
                               rtol=1e-12)
    assert np.all(np.isfinite(g))

    # A deliberately "wrong" gradient proves the user's function is used.
    @ops.custom_gradient
    def clip_grad(x, w):
        def grad(up):
            return ops.clip(up * w, -0.1, 0.1), ops.zeros_like(w)
        return x * w, grad

    a, w = Tensor(np.ones(3)), Tensor(np.array([5.0, 0.01, -3.0]))
    with GradientTape() as tape:
        tape.watch(a)
        tape.watch(w)
        y = ops.sum(clip_grad(a, w))
    ga, gw = tape.gradient(y, [a, w])
    np.testing.assert_allclose(ga, [0.1, 0.01, -0.1])
    np.testing.assert_allclose(gw, [0, 0, 0])

    @ops.custom_gradient
    def bad(x):
        return x
    with pytest.raises(TypeError, match="must return a pair"):
        bad(np.ones(2))


def test_custom_gradient_inside_a_layer_trains():
    @ops.custom_gradient
    def scale_grad(x):
        def grad(up):
            return up * 0.0
        return x, grad

    class Frozen(gkeras.layers.Layer):
        def call(self, x):
            return scale_grad(x)

    inp = gkeras.Input((3,))
    dense = gkeras.layers.Dense(2)
    model = gkeras.Model(inp, Frozen()(dense(inp)))
    model.compile(optimizer="sgd", loss="mse")
    before = [w.copy() for w in dense.get_weights()]
    model.train_on_batch(np.ones((4, 3), "float32"),
                         np.zeros((4, 2), "float32"))
    # The custom zero gradient blocks every update of the Dense below.
    for b, w in zip(before, dense.get_weights()):
        np.testing.assert_array_equal(b, w)


REARR = [
    ("b h w c -> b c h w", {}, lambda x: x.transpose(0, 3, 1, 2)),
    ("b h w c -> (b h) w c", {}, lambda x: x.reshape(6, 4, 5)),
    ("b h w c -> h (b w) c", {},
     lambda x: x.transpose(1, 0, 2, 3).reshape(3, 8, 5)),
    ("b h w c -> b (c h w)", {},
     lambda x: x.transpose(0, 3, 1, 2).reshape(2, 60)),
    ("b (h1 h) w c -> (b h1) h w c", {"h1": 3},
     lambda x: x.reshape(2, 3, 1, 4, 5).reshape(6, 1, 4, 5)),
    ("b h (w w1) c -> b h w (c w1)", {"w1": 2},
     lambda x: x.reshape(2, 3, 2, 2, 5).transpose(0, 1, 2, 4, 3)
     .reshape(2, 3, 2, 10)),
]


@pytest.mark.parametrize("pattern,lengths,ref", REARR,
                         ids=[p[0] for p in REARR])
def test_rearrange(pattern, lengths, ref):
    x = r(2, 3, 4, 5)
    np.testing.assert_array_equal(npv(ops.rearrange(x, pattern, **lengths)),
                                  ref(x))


def test_rearrange_errors_and_grad():
    x = r(2, 3, 4)
    check_grad(lambda t: ops.rearrange(t, "a b c -> c (a b)"), x)
    with pytest.raises(ValueError, match="names 2 input axes"):
        ops.rearrange(x, "a b -> b a")
    with pytest.raises(ValueError, match="must be a permutation"):
        ops.rearrange(x, "a b c -> a b")
    with pytest.raises(ValueError, match="cannot infer the sizes"):
        ops.rearrange(x, "a (b1 b2) c -> a b1 b2 c")
    with pytest.raises(ValueError, match="cannot be split"):
        ops.rearrange(x, "a (b1 b2) c -> a b1 b2 c", b1=2)


def test_custom_gradient_with_two_outputs_and_vectorize_tuples():
    @ops.custom_gradient
    def split_scale(x):
        def grad(g1, g2):
            return g1 * 2.0 + g2 * 3.0
        return (x * 2.0, x * 3.0), grad

    x = Tensor(r(4))
    with GradientTape() as tape:
        tape.watch(x)
        a, b = split_scale(x)
        loss = ops.sum(a) + ops.sum(b * b)
    np.testing.assert_allclose(tape.gradient(loss, x),
                               2.0 + 3.0 * 2 * 3 * npv(x), rtol=1e-12)
    f = ops.vectorize(lambda v: (ops.sum(v), ops.max(v)),
                      signature="(n)->(),()")
    m = r(2, 3, 4)
    s, mx = f(m)
    np.testing.assert_allclose(npv(s), m.sum(-1), rtol=1e-12)
    np.testing.assert_allclose(npv(mx), m.max(-1), rtol=1e-12)

"""The keras.ops.nn functions and activations added for issue 17: values
against NumPy float64 definitions, gradients against finite differences."""

import numpy as np
import pytest

import gkeras
from gkeras import activations, ops
from harness import check_grad

rng = np.random.default_rng(11)


def r(*shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, size=shape)


def npv(t):
    return np.asarray(t)


def _away(x, points, eps=0.05):
    """Moves values off the kinks where finite differences are undefined."""
    for p in points:
        x = np.where(np.abs(x - p) < eps, p + 3 * eps, x)
    return x


ACT = [
    ("hard_tanh", ops.hard_tanh, lambda x: np.clip(x, -1, 1), (-1, 1)),
    ("hard_shrink", lambda x: ops.hard_shrink(x, 0.3),
     lambda x: np.where(np.abs(x) > 0.3, x, 0), (-0.3, 0.3)),
    ("soft_shrink", lambda x: ops.soft_shrink(x, 0.3),
     lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.3, 0), (-0.3, 0.3)),
    ("tanh_shrink", ops.tanh_shrink, lambda x: x - np.tanh(x), ()),
    ("squareplus", lambda x: ops.squareplus(x, b=2),
     lambda x: (x + np.sqrt(x * x + 2)) / 2, ()),
    ("sparse_sigmoid", ops.sparse_sigmoid,
     lambda x: np.clip((x + 1) / 2, 0, 1), (-1, 1)),
    ("threshold", lambda x: ops.threshold(x, 0.2, -3.0),
     lambda x: np.where(x > 0.2, x, -3.0), (0.2,)),
]


@pytest.mark.parametrize("name,op,ref,kinks", ACT, ids=[a[0] for a in ACT])
def test_activation_ops(name, op, ref, kinks):
    x = _away(r(4, 5, lo=-2.5, hi=2.5), kinks)
    np.testing.assert_allclose(npv(op(x)), ref(x), rtol=1e-12)
    check_grad(op, x)
    # The activations module exposes the same functions by name.
    fn = activations.get(name)
    assert fn is getattr(activations, name)
    assert activations.serialize(fn) == name


def test_glu():
    x = r(3, 6)
    a, b = x[:, :3], x[:, 3:]
    np.testing.assert_allclose(npv(ops.glu(x)), a / (1 + np.exp(-b)),
                               rtol=1e-12)
    y = r(4, 2, 3)
    np.testing.assert_allclose(npv(ops.glu(y, axis=0)),
                               y[:2] / (1 + np.exp(-y[2:])), rtol=1e-12)
    check_grad(lambda t: ops.glu(t, axis=0), y)
    with pytest.raises(ValueError, match="divisible by 2"):
        ops.glu(r(3, 5))


def _sparsemax_ref(z):
    """The simplex projection by bisection on the threshold (float64)."""
    out = np.empty_like(z)
    for i, row in enumerate(z.reshape(-1, z.shape[-1])):
        lo, hi = row.min() - 1, row.max()
        for _ in range(200):
            tau = (lo + hi) / 2
            if np.maximum(row - tau, 0).sum() > 1:
                lo = tau
            else:
                hi = tau
        out.reshape(-1, z.shape[-1])[i] = np.maximum(row - (lo + hi) / 2, 0)
    return out


def test_sparsemax():
    x = r(5, 6, lo=-2, hi=2)
    got = npv(ops.sparsemax(x))
    np.testing.assert_allclose(got, _sparsemax_ref(x), atol=1e-12)
    np.testing.assert_allclose(got.sum(-1), 1.0, rtol=1e-12)
    # Keras's docstring example.
    np.testing.assert_allclose(
        npv(ops.sparsemax(np.array([-0.5, 0.0, 1.0, 2.0, 3.0]))),
        [0.0, 0.0, 0.0, 0.0, 1.0])
    xt = np.moveaxis(x, 1, 0)
    np.testing.assert_allclose(npv(ops.sparsemax(xt, axis=0)),
                               np.moveaxis(_sparsemax_ref(x), 1, 0),
                               atol=1e-12)
    check_grad(ops.sparsemax, x)
    check_grad(lambda t: activations.sparsemax(t, axis=0), xt)


def test_log_sigmoid_and_sparse_plus_activations():
    x = r(6, lo=-3, hi=3)
    np.testing.assert_allclose(npv(activations.log_sigmoid(x)),
                               -np.log1p(np.exp(-x)), rtol=1e-12)
    x = _away(x, (-1, 1))
    np.testing.assert_allclose(
        npv(activations.get("sparse_plus")(x)),
        np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4)),
        rtol=1e-12)


def test_activation_in_a_dense_layer_round_trips():
    layer = gkeras.layers.Dense(3, activation="squareplus")
    layer(np.zeros((1, 2), "float32"))
    assert layer.get_config()["activation"] == "squareplus"
    clone = gkeras.layers.Dense.from_config(layer.get_config())
    assert clone.activation is activations.squareplus


def test_psnr():
    a, b = r(4, 5, lo=0, hi=1), r(4, 5, lo=0, hi=1)
    mse = np.mean((a - b) ** 2)
    np.testing.assert_allclose(float(ops.psnr(a, b, 1.0)),
                               20 * np.log10(1.0) - 10 * np.log10(mse),
                               rtol=1e-12)
    np.testing.assert_allclose(float(ops.psnr(a * 255, b * 255, 255.0)),
                               -10 * np.log10(mse), rtol=1e-12)
    check_grad(lambda s, t: ops.psnr(s, t, 2.0), a, b)
    with pytest.raises(ValueError, match="must match for PSNR"):
        ops.psnr(a, b[:2], 1.0)


def test_multi_hot():
    got = ops.multi_hot(np.array([[0, 2, 2], [3, 1, 0]]), num_classes=5)
    np.testing.assert_array_equal(npv(got), [[1, 0, 1, 0, 0],
                                             [1, 1, 0, 1, 0]])
    assert got.dtype == np.float32
    np.testing.assert_array_equal(
        npv(ops.multi_hot(np.array([1, 3]), num_tokens=4, dtype="int32")),
        [0, 1, 0, 1])
    with pytest.raises(ValueError, match="num_classes` must be specified"):
        ops.multi_hot(np.array([1]))


def _d2s_ref(x, b):
    n, h, w, c = x.shape
    out = np.zeros((n, h * b, w * b, c // (b * b)))
    for i in range(h):
        for j in range(w):
            for bi in range(b):
                for bj in range(b):
                    k = (bi * b + bj) * (c // (b * b))
                    out[:, i * b + bi, j * b + bj] = x[:, i, j,
                                                       k:k + c // (b * b)]
    return out


def test_depth_to_space_and_back():
    x = r(2, 2, 3, 8)
    got = npv(ops.depth_to_space(x, 2))
    np.testing.assert_array_equal(got, _d2s_ref(x, 2))
    np.testing.assert_array_equal(npv(ops.space_to_depth(got, 2)), x)
    # Channels-first follows PyTorch's pixel_shuffle, as Keras's does:
    # channel c * b * b + bi * b + bj goes to (h * b + bi, w * b + bj).
    xc = np.transpose(x, (0, 3, 1, 2))
    gotc = npv(ops.depth_to_space(xc, 2, data_format="channels_first"))
    want = np.zeros((2, 2, 4, 6))
    for c in range(2):
        for bi in range(2):
            for bj in range(2):
                want[:, c, bi::2, bj::2] = xc[:, c * 4 + bi * 2 + bj]
    np.testing.assert_array_equal(gotc, want)
    np.testing.assert_array_equal(
        npv(ops.space_to_depth(gotc, 2, data_format="channels_first")), xc)
    check_grad(lambda t: ops.depth_to_space(t, 2), x)
    with pytest.raises(ValueError, match=r"channels \(6\) must be divisible"):
        ops.depth_to_space(r(1, 2, 2, 6), 2)
    with pytest.raises(ValueError, match="must be divisible by block_size"):
        ops.space_to_depth(r(1, 3, 2, 1), 2)


@pytest.mark.parametrize("kind", ["sum", "max", "min", "prod"])
def test_segment_reductions(kind):
    data = r(7, 3, lo=0.5, hi=2.0)
    ids = np.array([0, 2, 2, 0, 4, 2, -1])
    f = getattr(ops, f"segment_{kind}")
    got = npv(f(data, ids, num_segments=5))
    red = {"sum": np.sum, "max": np.max, "min": np.min, "prod": np.prod}[kind]
    empty = {"sum": 0.0, "max": -np.inf, "min": np.inf, "prod": 1.0}[kind]
    for s in range(5):
        rows = data[ids == s]
        want = red(rows, axis=0) if len(rows) else np.full(3, empty)
        np.testing.assert_allclose(got[s], want, rtol=1e-12)
    # num_segments defaults to max(id) + 1.
    assert f(data, ids).shape == (5, 3)
    check_grad(lambda t: f(t, ids, num_segments=5)[np.array([0, 2, 4])],
               data)
    with pytest.raises(ValueError, match="one id per row"):
        f(data, ids[:3])


def test_segment_max_ties_share_gradient():
    from gkeras.ops.engine import GradientTape, Tensor
    x = Tensor(np.array([1.0, 3.0, 3.0, 2.0]))
    with GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(ops.segment_max(x, np.array([0, 0, 0, 1])))
    np.testing.assert_allclose(tape.gradient(y, x), [0, 0.5, 0.5, 1])


def test_extract_sequences():
    x = r(2, 10)
    got = npv(ops.extract_sequences(x, 4, 3))
    want = np.stack([x[:, i:i + 4] for i in range(0, 7, 3)], axis=1)
    np.testing.assert_array_equal(got, want)
    check_grad(lambda t: ops.extract_sequences(t, 4, 3), x)


def _unfold_ref(x, k, d, p, s):
    n, c, h, w = x.shape
    xp_ = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    oh = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    out = np.zeros((n, c, k[0], k[1], oh, ow))
    for i in range(k[0]):
        for j in range(k[1]):
            for a in range(oh):
                for b in range(ow):
                    out[:, :, i, j, a, b] = xp_[:, :, a * s[0] + i * d[0],
                                                b * s[1] + j * d[1]]
    return out.reshape(n, c * k[0] * k[1], oh * ow)


def test_unfold_and_fold():
    x = r(2, 3, 5, 6)
    kw = dict(kernel_size=(2, 3), dilation=(2, 1), padding=1, stride=(1, 2))
    u = ops.unfold(x, **kw)
    want = _unfold_ref(x, (2, 3), (2, 1), (1, 1), (1, 2))
    np.testing.assert_allclose(npv(u), want, rtol=1e-12)
    check_grad(lambda t: ops.unfold(t, **kw), x)
    # fold is the adjoint of unfold: <unfold(x), y> == <x, fold(y)>.
    y = r(*want.shape)
    folded = npv(ops.fold(y, (5, 6), **kw))
    assert folded.shape == x.shape
    np.testing.assert_allclose(np.sum(want * y), np.sum(x * folded),
                               rtol=1e-10)
    check_grad(lambda t: ops.fold(t, (5, 6), **kw), y)
    # Non-overlapping blocks: fold undoes unfold.
    x2 = r(1, 2, 4, 6)
    np.testing.assert_allclose(
        npv(ops.fold(ops.unfold(x2, 2, stride=2), (4, 6), 2, stride=2)), x2)
    with pytest.raises(ValueError, match="fold: expected 6 blocks"):
        ops.fold(r(1, 8, 5), (4, 6), 2, stride=2)


def test_custom_layer_with_new_ops_trains():
    # A custom layer as a real program writes one: GLU gating, a
    # sparsemax attention over positions and a segment pooling.
    class GatedPool(gkeras.layers.Layer):
        def build(self, input_shape):
            self.proj = self.add_weight(shape=(input_shape[-1], 8),
                                        initializer="glorot_uniform")

        def call(self, x):
            h = ops.glu(ops.matmul(x, self.proj))          # (b, t, 4)
            att = ops.sparsemax(ops.sum(h, axis=-1))       # (b, t)
            pooled = ops.sum(h * ops.expand_dims(att, -1), axis=1)
            seg = ops.segment_sum(ops.transpose(pooled),
                                  np.array([0, 0, 1, 1]), num_segments=2)
            return ops.transpose(seg)                      # (b, 2)

    rng_ = np.random.default_rng(0)
    x = rng_.standard_normal((64, 5, 3)).astype("float32")
    y = np.stack([x[:, :, 0].mean(1), x[:, :, 1].max(1)], 1)
    inp = gkeras.Input((5, 3))
    model = gkeras.Model(inp, GatedPool()(inp))
    model.compile(optimizer=gkeras.optimizers.Adam(0.05), loss="mse")
    hist = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.7 * hist.history["loss"][0]

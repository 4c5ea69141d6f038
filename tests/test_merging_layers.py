"""Merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum,
Concatenate, Dot) and their functional forms, against NumPy."""

import numpy as np
import pytest

import gkeras
from gkeras import layers

RNG = np.random.default_rng(2)


def _r(*s):
    return RNG.standard_normal(s).astype("float32")


@pytest.mark.parametrize("cls,fn,ref", [
    (layers.Add, layers.add, lambda xs: xs[0] + xs[1] + xs[2]),
    (layers.Multiply, layers.multiply, lambda xs: xs[0] * xs[1] * xs[2]),
    (layers.Average, layers.average, lambda xs: (xs[0] + xs[1] + xs[2]) / 3),
    (layers.Maximum, layers.maximum, lambda xs: np.maximum.reduce(xs)),
    (layers.Minimum, layers.minimum, lambda xs: np.minimum.reduce(xs)),
])
def test_elementwise_merges(cls, fn, ref):
    xs = [_r(4, 3, 5) for _ in range(3)]
    np.testing.assert_allclose(np.asarray(cls()(xs)), ref(xs), atol=1e-6)
    np.testing.assert_allclose(np.asarray(fn(xs)), ref(xs), atol=1e-6)
    ins = [gkeras.Input((3, 5)) for _ in range(3)]
    model = gkeras.Model(ins, fn(ins))
    assert model.output_shape == (None, 3, 5)
    np.testing.assert_allclose(model.predict(xs, verbose=0), ref(xs),
                               atol=1e-6)
    assert cls.from_config(cls().get_config()) is not None


def test_broadcast_and_rank_expansion():
    a, b = _r(2, 3, 4), _r(2, 4)
    # Lower-rank inputs get axes inserted after the batch axis (Keras).
    np.testing.assert_allclose(np.asarray(layers.Add()([a, b])),
                               a + b[:, None, :], atol=1e-6)
    c = _r(2, 1, 4)
    np.testing.assert_allclose(np.asarray(layers.Multiply()([a, c])), a * c,
                               atol=1e-6)
    out = layers.Add()([gkeras.Input((3, 4)), gkeras.Input((1, 4))])
    assert out.shape == (None, 3, 4)


def test_subtract_and_errors():
    a, b = _r(3, 4), _r(3, 4)
    np.testing.assert_allclose(np.asarray(layers.subtract([a, b])), a - b)
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        layers.Subtract()([a, b, a])
    with pytest.raises(ValueError, match="incompatible shapes"):
        layers.Add()([gkeras.Input((3,)), gkeras.Input((4,))])
    with pytest.raises(ValueError, match="list of inputs"):
        layers.Add()(a)


def test_merge_gradients_flow():
    x = gkeras.Input((4,))
    h = layers.Dense(4)(x)
    y = layers.Dense(1)(layers.concatenate([layers.add([x, h]),
                                            layers.multiply([x, h])]))
    model = gkeras.Model(x, y)
    model.compile(optimizer=gkeras.optimizers.SGD(0.05), loss="mse")
    xv = _r(32, 4)
    yv = xv.sum(1, keepdims=True)
    before = model.evaluate(xv, yv, verbose=0)
    model.fit(xv, yv, epochs=20, verbose=0)
    assert model.evaluate(xv, yv, verbose=0) < before


def test_concatenate():
    a, b = _r(2, 3, 4), _r(2, 3, 2)
    np.testing.assert_allclose(np.asarray(layers.Concatenate()([a, b])),
                               np.concatenate([a, b], -1))
    c = _r(2, 5, 4)
    np.testing.assert_allclose(np.asarray(layers.concatenate([a, c], axis=1)),
                               np.concatenate([a, c], 1))
    out = layers.Concatenate(axis=1)([gkeras.Input((3, 4)),
                                      gkeras.Input((None, 4))])
    assert out.shape == (None, None, 4)
    with pytest.raises(ValueError, match="matching shapes except"):
        layers.Concatenate()([gkeras.Input((3, 4)), gkeras.Input((2, 4))])
    assert layers.Concatenate(axis=1).get_config()["axis"] == 1


def test_masks_merge_like_keras():
    a, b = gkeras.ops.convert_to_tensor(_r(2, 3, 4)), \
        gkeras.ops.convert_to_tensor(_r(2, 3, 4))
    ma = np.array([[1, 1, 0], [1, 0, 0]], bool)
    mb = np.array([[1, 0, 0], [1, 1, 1]], bool)
    a._keras_mask, b._keras_mask = ma, mb
    np.testing.assert_array_equal(np.asarray(layers.Add()([a, b])._keras_mask),
                                  ma & mb)
    np.testing.assert_array_equal(
        np.asarray(layers.Concatenate(axis=1)([a, b])._keras_mask),
        np.concatenate([ma, mb], 1))
    # Multiply: masked entries count as 1; zero where both are masked.
    out = layers.Multiply()([a, b])
    an, bn = np.asarray(a), np.asarray(b)
    want = np.where(ma[..., None], an, 1) * np.where(mb[..., None], bn, 1)
    want = np.where((ma | mb)[..., None], want, 0)
    np.testing.assert_allclose(np.asarray(out), want, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(out._keras_mask), ma | mb)


@pytest.mark.parametrize("axes,s1,s2", [(1, (3, 5), (3, 5)),
                                        ((2, 2), (3, 4, 5), (3, 6, 5)),
                                        ((1, 2), (3, 4, 5), (3, 6, 4)),
                                        (-1, (3, 4, 5), (3, 5))])
def test_dot_matches_numpy(axes, s1, s2):
    a, b = _r(*s1), _r(*s2)
    ax = (axes, axes) if isinstance(axes, int) else axes
    ax = (ax[0] % len(s1), ax[1] % len(s2))
    want = np.stack([np.tensordot(a[i], b[i], (ax[0] - 1, ax[1] - 1))
                     for i in range(3)])
    if want.ndim == 1:
        want = want[:, None]
    got = layers.Dot(axes=axes)([a, b])
    np.testing.assert_allclose(np.asarray(got), want, atol=1e-5)
    sym = layers.Dot(axes=axes)([gkeras.Input(s1[1:]), gkeras.Input(s2[1:])])
    assert sym.shape == (None,) + want.shape[1:]


def test_dot_normalize_is_cosine_and_errors():
    a, b = _r(4, 6), _r(4, 6)
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(
        np.asarray(layers.dot([a, b], axes=1, normalize=True))[:, 0], cos,
        atol=1e-5)
    with pytest.raises(ValueError, match="axis values 5 .* != 4"):
        layers.Dot(axes=1)([gkeras.Input((5,)), gkeras.Input((4,))])
    cfg = layers.Dot(axes=(1, 2), normalize=True).get_config()
    assert cfg["axes"] == [1, 2] and cfg["normalize"] is True

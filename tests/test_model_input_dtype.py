"""A Functional or Sequential model converts each input to its `Input`'s
dtype, not to the model's compute dtype (Keras 3's
`_convert_input_args = False` for Functional models): under the default
float32 policy a float64 `Input` feeding float64 layers keeps float64
end to end in `model(x)` and `predict_on_batch` (checked against Keras 3
on the PyTorch backend: an identity model 0.0 apart; through a float32
`Input`, 1.8e-8). `predict`'s data pipeline converts float64 arrays to
float32 first, in both (2.8e-8 apart). Subclassed models keep casting
their inputs to the compute dtype, as Keras does."""

import numpy as np

import gkeras
from gkeras import layers

X = np.random.default_rng(0).random((4, 3))     # float64


def _identity(dtype):
    return layers.Lambda(lambda t: t * 1.0, dtype=dtype)


def _outputs(model):
    return [np.asarray(model(X)), model.predict_on_batch(X)]


def _predict_converts_to_float32(model):
    y = model.predict(X, verbose=0)
    np.testing.assert_array_equal(y, X.astype("float32").astype(y.dtype))


def test_functional_float64_input_keeps_float64():
    inp = gkeras.Input((3,), dtype="float64")
    model = gkeras.Model(inp, _identity("float64")(inp))
    for y in _outputs(model):
        assert y.dtype == np.float64
        np.testing.assert_array_equal(y, X)
    _predict_converts_to_float32(model)


def test_sequential_float64_input_keeps_float64():
    model = gkeras.Sequential([gkeras.Input((3,), dtype="float64"),
                               _identity("float64")])
    for y in _outputs(model):
        assert y.dtype == np.float64
        np.testing.assert_array_equal(y, X)
    _predict_converts_to_float32(model)


def test_float32_input_converts_to_float32():
    inp = gkeras.Input((3,))
    model = gkeras.Model(inp, _identity("float64")(inp))
    want = X.astype("float32").astype("float64")
    for y in _outputs(model):
        assert y.dtype == np.float64
        np.testing.assert_array_equal(y, want)
        assert not np.array_equal(y, X)


def test_float64_dense_model_matches_float64_numpy():
    inp = gkeras.Input((3,), dtype="float64")
    dense = layers.Dense(2, dtype="float64")
    model = gkeras.Model(inp, dense(inp))
    want = X @ dense.kernel.numpy() + dense.bias.numpy()
    for y in _outputs(model):
        np.testing.assert_allclose(y, want, rtol=1e-14, atol=1e-14)


def test_subclassed_model_still_casts_its_inputs():
    seen = []

    class Probe(gkeras.Model):
        def call(self, x):
            seen.append(np.asarray(x).dtype)
            return x

    Probe()(X)
    assert seen == [np.float32]

"""Regressions found by the keras.io programs in tests/programs, each
modelled on the program's code path (the custom-step ones live in
test_custom_step_data.py)."""
import numpy as np

import gkeras as keras


def test_normalization_mean_and_variance_after_adapt():
    # ViT example / TF tutorials: `normalizer.adapt(x)` then read
    # `normalizer.mean`. Keras 3 sets them (broadcast to the input rank)
    # in finalize_state.
    x = np.random.default_rng(0).random((20, 4, 4, 3)).astype("float32")
    layer = keras.layers.Normalization()
    assert layer.mean is None and layer.variance is None
    layer.adapt(x)
    mean = np.asarray(layer.mean)
    var = np.asarray(layer.variance)
    assert mean.shape == var.shape == (1, 1, 1, 3)
    np.testing.assert_allclose(mean.reshape(-1),
                               x.astype("float64").reshape(-1, 3).mean(0),
                               rtol=1e-5)
    np.testing.assert_allclose(var.reshape(-1),
                               x.astype("float64").reshape(-1, 3).var(0),
                               rtol=1e-4)
    # They follow the state variables (loading weights, a second adapt).
    other = keras.layers.Normalization()
    other.build((None, 4, 4, 3))
    other.set_weights(layer.get_weights())
    np.testing.assert_array_equal(np.asarray(other.mean), mean)
    layer.adapt(x + 1.0)
    np.testing.assert_allclose(np.asarray(layer.mean), mean + 1.0, rtol=1e-5)
    # Given statistics, as Keras: broadcast to the input rank once built.
    given = keras.layers.Normalization(mean=[1.0, 2.0], variance=[1.0, 4.0])
    assert given.mean is None           # until built, as in Keras
    given.build((None, 2))
    np.testing.assert_array_equal(np.asarray(given.mean), [[1.0, 2.0]])
    np.testing.assert_allclose(np.asarray(given(np.array([[2.0, 4.0]]))),
                               [[1.0, 1.0]])

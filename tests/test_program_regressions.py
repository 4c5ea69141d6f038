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


class _TemporalSoftmax(keras.layers.Layer):
    """The masking guide's mask-consuming layer."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        assert mask is not None
        m = keras.ops.expand_dims(keras.ops.cast(mask, "float32"), -1)
        e = keras.ops.exp(inputs) * m
        return e / keras.ops.sum(e, axis=1, keepdims=True)


class _Split(keras.layers.Layer):
    def call(self, inputs):
        return keras.ops.split(inputs, 2, axis=1)

    def compute_mask(self, inputs, mask=None):
        return None if mask is None else keras.ops.split(mask, 2, axis=1)


def test_masks_reach_call_while_a_functional_graph_is_built():
    # Masking guide: Embedding(mask_zero) -> Dense -> a layer whose call
    # needs the mask. Keras passes symbolic masks in symbolic calls.
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = keras.layers.Embedding(10, 4, mask_zero=True)(inputs)
    assert x._keras_mask.shape == (None, None)
    x = keras.layers.Dense(1)(x)           # propagates (supports_masking)
    assert x._keras_mask.shape == (None, None)
    outputs = _TemporalSoftmax()(x)
    model = keras.Model(inputs, outputs)
    data = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    y = np.asarray(model(data))[..., 0]
    # Softmax over time of the unmasked steps only, in NumPy.
    d = np.asarray(model.layers[2](model.layers[1](data)))[..., 0]
    e = np.exp(d.astype("float64")) * (data != 0)
    np.testing.assert_allclose(y, e / e.sum(1, keepdims=True), rtol=1e-5)
    # compute_mask overrides give their outputs symbolic masks too.
    a, b = _Split()(keras.layers.Embedding(10, 4, mask_zero=True)(
        keras.Input(shape=(6,), dtype="int32")))
    assert a._keras_mask.shape == b._keras_mask.shape == (None, 3)
    # No mask, no symbolic mask.
    plain = keras.layers.Dense(2)(keras.Input((3,)))
    assert getattr(plain, "_keras_mask", None) is None


class _NamelessConfigDense(keras.layers.Layer):
    """The Functional API guide's CustomDense: get_config without the
    base config, so no `name`."""

    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units))

    def call(self, inputs):
        return keras.ops.matmul(inputs, self.w)

    def get_config(self):
        return {"units": self.units}


def test_functional_from_config_with_a_layer_config_lacking_its_name():
    inputs = keras.Input((4,))
    x = _NamelessConfigDense(3)(inputs)
    outputs = keras.layers.Dense(2)(_NamelessConfigDense(5)(x))
    model = keras.Model(inputs, outputs)
    new = keras.Model.from_config(
        model.get_config(),
        custom_objects={"_NamelessConfigDense": _NamelessConfigDense})
    assert [type(l).__name__ for l in new.layers] == [
        "InputLayer", "_NamelessConfigDense", "_NamelessConfigDense", "Dense"]
    assert [l.units for l in new.layers[1:3]] == [3, 5]
    new.set_weights(model.get_weights())
    x = np.random.default_rng(0).random((2, 4)).astype("float32")
    np.testing.assert_allclose(np.asarray(new(x)), np.asarray(model(x)),
                               rtol=1e-6)


def test_nested_tape_gradient_is_refused_not_silently_dropped():
    # WGAN-GP's gradient penalty: the inner gradient, taken while the outer
    # tape records, must be differentiable by the outer tape. gkeras has
    # no higher-order gradients, so it says so instead of returning a
    # constant (the outer gradient of the penalty was silently None).
    import pytest
    from gkeras import ops
    x = keras.Variable(np.array([1.0, 2.0], "float32"))
    w = keras.Variable(np.array([3.0, 4.0], "float32"))
    with keras.GradientTape():
        with keras.GradientTape() as inner:
            y = ops.sum(w * x * x)
        with pytest.raises(NotImplementedError, match="gradients of grad"):
            inner.gradient(y, x)
    # Outside any outer tape (and inside its own block) it still works.
    with keras.GradientTape() as tape:
        y = ops.sum(w * x * x)
        g = tape.gradient(y, [x, w])
    np.testing.assert_allclose(np.asarray(g[0]), [6.0, 16.0])
    np.testing.assert_allclose(np.asarray(g[1]), [1.0, 4.0])


def test_metric_add_weight_defaults_to_a_scalar():
    # The TF-era custom metric: `self.add_weight(name=..., initializer=...)`
    # without a shape (Keras 3's Metric.add_weight has shape=()).
    from gkeras import ops

    class TruePositives(keras.metrics.Metric):
        def __init__(self, name="tp", **kwargs):
            super().__init__(name=name, **kwargs)
            self.tp = self.add_weight(name="tp", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            hit = ops.logical_and(ops.cast(y_true, "bool"), y_pred > 0.5)
            self.tp.assign_add(ops.sum(ops.cast(hit, "float32")))

        def result(self):
            return self.tp

    m = TruePositives()
    assert tuple(m.tp.shape) == () and m.variables == [m.tp]
    m.update_state(np.array([1, 0, 1, 1]), np.array([0.9, 0.8, 0.2, 0.7]))
    assert float(np.asarray(m.result())) == 2.0
    m.reset_state()
    assert float(np.asarray(m.result())) == 0.0

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


class _CountingModel(keras.Model):
    """A subclassed model updating a metric it holds as an attribute, and
    a nested compiled model whose own trackers must stay out."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.batches_seen = keras.metrics.Sum(name="batches_seen")

    def call(self, x):
        self.batches_seen.update_state(1.0)
        return self.inner(x)


def test_metrics_held_as_attributes_are_model_metrics():
    # Keras 3's Model.metrics: loss tracker, compiled metrics, then the
    # metrics tracked as attributes of the model and its layers (the
    # endpoint-layer pattern's accuracy); reset every epoch and logged.
    inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    inner.compile("sgd", "mse")              # its own loss tracker
    model = _CountingModel(inner)
    model.compile(optimizer="sgd", loss="mse")
    names = [m.name for m in model.metrics]
    assert names == ["loss", "batches_seen"], names
    x, y = np.ones((8, 3), "float32"), np.ones((8, 1), "float32")
    h = model.fit(x, y, batch_size=2, epochs=2, verbose=0).history
    # Four forward passes per epoch; the sum restarts each epoch.
    assert h["batches_seen"] == [4.0, 4.0]
    assert sorted(h) == ["batches_seen", "loss"]
    layer = keras.layers.Dense(2)
    layer.acc = keras.metrics.Mean()
    assert layer.metrics == [layer.acc]


def test_compute_metrics_api_and_override():
    # Keras 3's Trainer.compute_metrics: custom train_steps return it, and
    # an override adds its own metric (the docstring's example).
    class M(keras.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.custom_metric = keras.metrics.Sum(name="custom_metric")

        def compute_metrics(self, x, y, y_pred, sample_weight):
            metric_results = super().compute_metrics(x, y, y_pred,
                                                     sample_weight)
            self.custom_metric.update_state(2.0)
            metric_results["custom_metric"] = self.custom_metric.result()
            return metric_results

    inputs = keras.Input((3,))
    model = M(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x, y = np.ones((8, 3), "float32"), np.zeros((8, 1), "float32")
    h = model.fit(x, y, batch_size=4, epochs=1, verbose=0).history
    assert sorted(h) == ["custom_metric", "loss", "mae"]
    assert h["custom_metric"] == [4.0]                 # 2 per batch
    res = model.compute_metrics(x, y, model(x), None)
    assert {"loss", "mae", "custom_metric"} <= set(res)


def test_functional_adjusts_input_rank_like_keras():
    # Siamese example: (n, 28, 28) MNIST arrays into Input((28, 28, 1)).
    # Keras's Functional._adjust_input_rank adds (or drops) a last axis
    # of size 1; other rank mismatches still fail clearly.
    import pytest
    inputs = keras.Input((4, 4, 1))
    model = keras.Model(inputs, keras.layers.Flatten()(inputs))
    x = np.arange(32, dtype="float32").reshape(2, 4, 4)
    np.testing.assert_array_equal(np.asarray(model(x)), x.reshape(2, 16))
    np.testing.assert_array_equal(model.predict(x, verbose=0),
                                  x.reshape(2, 16))
    flat_in = keras.Input((3,))
    m2 = keras.Model(flat_in, keras.layers.Dense(1)(flat_in))
    with pytest.raises(ValueError, match="expected shape"):
        m2(np.ones((2, 3, 2), "float32"))
    col = keras.Input((3,))
    m3 = keras.Model(col, keras.layers.Identity()(col))
    np.testing.assert_array_equal(
        np.asarray(m3(np.ones((2, 3, 1), "float32"))), np.ones((2, 3)))


def test_lora_and_quantize_say_they_are_not_supported():
    # KerasHub fine-tuning guides call `layer.enable_lora(4)` and
    # `model.quantize("int8")`: a clear NotImplementedError, not an
    # AttributeError.
    import pytest
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(NotImplementedError, match="enable_lora"):
        model.layers[0].enable_lora(4)
    with pytest.raises(NotImplementedError, match="quantize"):
        model.quantize("int8")


class _AutoConfigLayer(keras.layers.Layer):
    """No get_config: Keras 3 records plain constructor arguments."""

    def __init__(self, units=3, scale=2.0, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.scale = scale

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units))

    def call(self, x):
        return keras.ops.matmul(x, self.w) * self.scale


class _AutoConfigModel(keras.Model):
    def __init__(self, hidden=4, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden
        self.d = keras.layers.Dense(hidden)
        self.o = keras.layers.Dense(1)

    def call(self, x):
        return self.o(self.d(x))


class _ObjectArgLayer(keras.layers.Layer):
    def __init__(self, fn, **kwargs):
        super().__init__(**kwargs)
        self.fn = fn

    def call(self, x):
        return self.fn(x)


def test_automatic_config_of_plain_constructor_arguments(tmp_path):
    # Serialization guide (Keras 3): custom objects whose __init__ takes
    # plain values need no get_config; positional and default arguments
    # are recorded, `name` comes from the layer.
    layer = _AutoConfigLayer(5, scale=1.5, name="auto")
    cfg = layer.get_config()
    assert (cfg["name"], cfg["units"], cfg["scale"]) == ("auto", 5, 1.5)
    assert _AutoConfigLayer.from_config(cfg).units == 5
    objs = {"_AutoConfigLayer": _AutoConfigLayer,
            "_AutoConfigModel": _AutoConfigModel}
    inputs = keras.Input((2,))
    model = keras.Model(inputs, _AutoConfigLayer(4, 0.5)(inputs))
    model.save(tmp_path / "f.keras")
    loaded = keras.models.load_model(tmp_path / "f.keras", custom_objects=objs)
    x = np.ones((1, 2), "float32")
    assert (loaded.layers[1].units, loaded.layers[1].scale) == (4, 0.5)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)))
    sub = _AutoConfigModel(6)
    sub(np.ones((1, 3), "float32"))
    assert sub.get_config()["hidden"] == 6
    sub.save(tmp_path / "s.keras")
    loaded = keras.models.load_model(tmp_path / "s.keras", custom_objects=objs)
    assert loaded.hidden == 6
    np.testing.assert_allclose(np.asarray(loaded(np.ones((1, 3)))),
                               np.asarray(sub(np.ones((1, 3)))), rtol=1e-6)
    # A non-plain argument (a function) still needs get_config.
    import pytest
    with pytest.raises(NotImplementedError, match="get_config"):
        _ObjectArgLayer(np.square).get_config()


def test_subclassed_model_build_calling_super_build():
    # A model that builds its sub-layers in build() and ends with
    # super().build(input_shape), as Keras 3 code does: no recursion, the
    # weights exist, and the model runs.
    class Tower(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.d = keras.layers.Dense(4)

        def build(self, input_shape):
            self.d.build(input_shape)
            super().build(input_shape)

        def call(self, x):
            return self.d(x)

    model = Tower()
    model.build((None, 3))
    assert model.built and len(model.weights) == 2
    x = np.ones((2, 3), "float32")
    w, b = model.get_weights()
    np.testing.assert_allclose(np.asarray(model(x)), x @ w + b, rtol=1e-6)
    lazy = Tower()
    assert tuple(lazy(x).shape) == (2, 4)       # built on first call


class _LayerWithCustomVariable(keras.layers.Dense):
    """Customizing-saving guide: extra state through save/load_own_variables
    that call the base implementation."""

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.my_variable = keras.Variable(
            np.arange(units, dtype="float32"), name="my_variable")

    def save_own_variables(self, store):
        super().save_own_variables(store)
        store["variables"] = self.my_variable.numpy()

    def load_own_variables(self, store):
        self.my_variable.assign(store["variables"])
        for i, v in enumerate(self.weights):
            v.assign(store[f"{i}"])

    def get_config(self):
        return {"units": self.units, "name": self.name}

    def call(self, inputs):
        return super().call(inputs) + self.my_variable


class _LayerWithCustomBuild(keras.layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def call(self, inputs):
        return keras.ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        return dict(units=self.units, **super().get_config())

    def build(self, input_shape, layer_init):
        self.layer_init = layer_init
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer=layer_init)
        self.b = self.add_weight(shape=(self.units,), initializer=layer_init)
        self.input_shape_ = input_shape

    def get_build_config(self):
        return {"layer_init": self.layer_init,
                "input_shape": self.input_shape_}

    def build_from_config(self, config):
        self.build(config["input_shape"], config["layer_init"])


class _ModelWithCustomCompile(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(2)

    def call(self, inputs):
        return self.dense(inputs)

    def compile(self, optimizer, loss_fn):
        super().compile(optimizer)
        self.model_optimizer = optimizer
        self.loss_fn = loss_fn

    def get_compile_config(self):
        return {"model_optimizer": self.model_optimizer,
                "loss_fn": self.loss_fn}

    def compile_from_config(self, config):
        self.compile(
            optimizer=keras.utils.deserialize_keras_object(
                config["model_optimizer"]),
            loss_fn=keras.utils.deserialize_keras_object(config["loss_fn"]))


def test_customizing_saving_hooks(tmp_path):
    objs = {"_LayerWithCustomVariable": _LayerWithCustomVariable,
            "_LayerWithCustomBuild": _LayerWithCustomBuild,
            "_ModelWithCustomCompile": _ModelWithCustomCompile}
    x = np.random.default_rng(0).random((4, 3)).astype("float32")
    # save_own_variables / load_own_variables calling super().
    model = keras.Sequential([keras.Input((3,)), _LayerWithCustomVariable(2)])
    model.layers[0].my_variable.assign(np.array([5.0, 7.0], "float32"))
    model.save(tmp_path / "v.keras")
    restored = keras.models.load_model(tmp_path / "v.keras",
                                       custom_objects=objs)
    np.testing.assert_array_equal(restored.layers[0].my_variable.numpy(),
                                  [5.0, 7.0])
    np.testing.assert_allclose(restored.predict(x, verbose=0),
                               model.predict(x, verbose=0), rtol=1e-6)
    # get_build_config / build_from_config on a layer built by hand.
    layer = _LayerWithCustomBuild(units=4)
    layer.build(input_shape=(3,), layer_init="random_normal")
    model = keras.Sequential([layer])
    model.save(tmp_path / "b.keras")
    restored = keras.models.load_model(tmp_path / "b.keras",
                                       custom_objects=objs)
    np.testing.assert_array_equal(restored.layers[0].w.numpy(),
                                  layer.w.numpy())
    # get_compile_config / compile_from_config.
    model = _ModelWithCustomCompile()
    model(x)
    model.compile(optimizer=keras.optimizers.SGD(0.3),
                  loss_fn=keras.losses.MeanSquaredError())
    model.save(tmp_path / "c.keras")
    restored = keras.models.load_model(tmp_path / "c.keras",
                                       custom_objects=objs)
    assert type(restored.model_optimizer).__name__ == "SGD"
    np.testing.assert_allclose(
        float(np.asarray(restored.model_optimizer.learning_rate)), 0.3)
    assert float(np.asarray(restored.loss_fn(np.ones((1, 2)),
                                             np.zeros((1, 2))))) == 1.0

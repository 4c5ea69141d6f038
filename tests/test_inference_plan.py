"""The cached call plan of Functional/Sequential models
(gkeras/models/inference_plan.py): the same results as the full per-layer
calls (the plan switched off), float64 references, and the cases that
must drop the plan or fall back to the full call."""

import contextlib

import numpy as np
import pytest

import gkeras
from gkeras import layers
from gkeras.layers import layer as layer_mod
from gkeras.models import functional, inference_plan, model as model_mod, \
    trainer


@contextlib.contextmanager
def _no_plan(monkeypatch):
    """The full per-layer calls (the path before the plan)."""
    with monkeypatch.context() as m:
        m.setattr(functional, "plan_for", lambda graph, training: None)
        for mod in (trainer, model_mod):
            m.setattr(mod, "call_model", lambda model, x, training:
                      inference_plan.NOT_APPLICABLE)
        yield


def _both(monkeypatch, fn):
    """fn() with the plan, then without it."""
    fast = fn()
    with _no_plan(monkeypatch):
        slow = fn()
    return fast, slow


def _assert_same(a, b):
    for x, y in zip(gkeras.tree.flatten(a), gkeras.tree.flatten(b)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def _mlp(out_activation="softmax", n_in=13):
    return gkeras.Sequential([
        gkeras.Input((n_in,)), layers.Dense(7, activation="relu"),
        layers.Dense(5, activation="tanh"), layers.Dense(4),
        layers.Dense(3, activation=out_activation)])


def _ref_mlp(model, x):
    h = x.astype(np.float64)
    for layer in model.layers:
        k, b = (w.astype(np.float64) for w in layer.get_weights())
        h = h @ k + b
        name = layer.get_config()["activation"]
        if name == "relu":
            h = np.maximum(h, 0)
        elif name == "tanh":
            h = np.tanh(h)
        elif name == "softmax":
            h = np.exp(h - h.max(-1, keepdims=True))
            h /= h.sum(-1, keepdims=True)
        elif name == "sigmoid":
            h = 1 / (1 + np.exp(-h))
    return h


def _uses_plan(model, x, monkeypatch):
    """Whether predict_on_batch ran through the fast entry."""
    seen = []
    real = inference_plan.call_model

    def spy(m, a, t):
        out = real(m, a, t)
        seen.append(out is not inference_plan.NOT_APPLICABLE)
        return out
    with monkeypatch.context() as m:
        m.setattr(trainer, "call_model", spy)
        model.predict_on_batch(x)
    return seen == [True]


@pytest.mark.parametrize("batch", [1, 2, 7, 32, 300])
@pytest.mark.parametrize("act", ["softmax", "sigmoid", "linear", "relu"])
def test_sequential_mlp_matches_full_call_and_float64(monkeypatch, batch,
                                                      act):
    model = _mlp(act)
    x = np.random.default_rng(batch).standard_normal(
        (batch, 13)).astype("float32")
    for fn in (lambda: model.predict_on_batch(x),
               lambda: model(x, training=False),
               lambda: model(x),
               lambda: model.predict(x, batch_size=4, verbose=0)):
        fast, slow = _both(monkeypatch, fn)
        _assert_same(fast, slow)
        np.testing.assert_allclose(np.asarray(fast), _ref_mlp(model, x),
                                   rtol=2e-5, atol=2e-6)
    assert _uses_plan(model, x, monkeypatch)


def test_inputs_of_other_dtypes_and_ranks(monkeypatch):
    model = _mlp()
    rng = np.random.default_rng(0)
    for x in (rng.standard_normal((3, 13)),                 # float64
              rng.integers(0, 3, (3, 13)),                  # int
              gkeras.ops.convert_to_tensor(
                  rng.standard_normal((3, 13)).astype("float32"))):
        fast, slow = _both(monkeypatch, lambda: model.predict_on_batch(x))
        _assert_same(fast, slow)
        assert fast.dtype == np.float32
    # A nested list is not one input (the same error either way).
    msgs = []
    for ctx in (contextlib.nullcontext(), _no_plan(monkeypatch)):
        with ctx, pytest.raises(ValueError) as e:
            model.predict_on_batch(np.ones((3, 13)).tolist())
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]
    # A float64 Input in a float32 model keeps the model-level cast first.
    inp = gkeras.Input((4,), dtype="float64")
    m = gkeras.Model(inp, layers.Dense(2, dtype="float64")(inp))
    x = np.random.default_rng(1).standard_normal((2, 4)) * 1e-9 + 1
    _assert_same(*_both(monkeypatch, lambda: m.predict_on_batch(x)))
    # MNIST-style rank adjustment.
    inp = gkeras.Input((5, 1))
    m = gkeras.Model(inp, layers.Flatten()(inp))
    x = np.ones((2, 5), "float32")
    fast, slow = _both(monkeypatch, lambda: m.predict_on_batch(x))
    _assert_same(fast, slow)


def test_wrong_input_shape_gives_the_same_error(monkeypatch):
    model = _mlp()
    model.predict_on_batch(np.zeros((2, 13), "float32"))
    msgs = []
    for ctx in (contextlib.nullcontext(), _no_plan(monkeypatch)):
        with ctx, pytest.raises(ValueError) as e:
            model.predict_on_batch(np.zeros((2, 12), "float32"))
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1] and "expected shape" in msgs[0]
    # A layer's own input spec, reached through the graph: the same error.
    class Six(layers.Layer):
        def build(self, input_shape):
            self.input_spec = layers.InputSpec(axes={-1: 6})

        def call(self, x):
            return x * 2.0

        def compute_output_shape(self, input_shape):
            return input_shape

    inp = gkeras.Input((None,))
    m = gkeras.Model(inp, Six()(inp))
    m.predict_on_batch(np.zeros((2, 6), "float32"))
    msgs = []
    for ctx in (contextlib.nullcontext(), _no_plan(monkeypatch)):
        with ctx, pytest.raises(ValueError) as e:
            m.predict_on_batch(np.zeros((2, 5), "float32"))
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


def test_functional_multi_input_output_shared_layers_dicts(monkeypatch):
    a = gkeras.Input((6,), name="a")
    b = gkeras.Input((6,), name="b")
    shared = layers.Dense(5, activation="relu")
    ha, hb = shared(a), shared(b)
    merged = layers.Concatenate()([ha, hb])
    out1 = layers.Dense(2, activation="softmax", name="o1")(merged)
    out2 = layers.Dense(1, name="o2")(layers.Add()([ha, hb]))
    model = gkeras.Model({"a": a, "b": b}, {"o1": out1, "o2": out2})
    rng = np.random.default_rng(2)
    xa = rng.standard_normal((4, 6)).astype("float32")
    xb = rng.standard_normal((4, 6)).astype("float32")
    x = {"a": xa, "b": xb}
    for fn in (lambda: model.predict_on_batch(x), lambda: model(x),
               lambda: model.predict(x, verbose=0)):
        fast, slow = _both(monkeypatch, fn)
        assert set(fast) == {"o1", "o2"}
        _assert_same(fast, slow)
    k, bias = (w.astype(np.float64) for w in shared.get_weights())
    ref_a = np.maximum(xa @ k + bias, 0)
    ref_b = np.maximum(xb @ k + bias, 0)
    k2, b2 = (w.astype(np.float64) for w in
              model.get_layer("o2").get_weights())
    np.testing.assert_allclose(model.predict_on_batch(x)["o2"],
                               (ref_a + ref_b) @ k2 + b2, rtol=1e-5,
                               atol=1e-6)
    # Lists in input order, a nested model as a layer.
    two = gkeras.Model([a, b], [out1, out2])
    outer_in = gkeras.Input((6,))
    nested = gkeras.Model(outer_in, two([outer_in, outer_in]))
    _assert_same(*_both(monkeypatch, lambda: two.predict_on_batch(
        [xa, xb])))
    _assert_same(*_both(monkeypatch, lambda: nested.predict_on_batch(xa)))


def test_masks_are_propagated_as_before(monkeypatch):
    model = gkeras.Sequential([
        gkeras.Input((5,), dtype="int32"),
        layers.Embedding(10, 4, mask_zero=True), layers.LSTM(3),
        layers.Dense(2)])
    x = np.array([[1, 2, 0, 0, 0], [3, 4, 5, 6, 0], [0, 0, 0, 0, 0]],
                 "int32")
    _assert_same(*_both(monkeypatch, lambda: model.predict_on_batch(x)))
    _assert_same(*_both(monkeypatch, lambda: model(x)))
    # A masking layer in front of plain layers: the mask travels past them
    # as in the full call.
    inp = gkeras.Input((4, 3))
    h = layers.Masking(0.0)(inp)
    h = layers.Dense(3)(h)
    out = layers.GRU(2)(h)
    m = gkeras.Model(inp, out)
    xf = np.random.default_rng(3).standard_normal((2, 4, 3)).astype(
        "float32")
    xf[0, 2:] = 0
    _assert_same(*_both(monkeypatch, lambda: m.predict_on_batch(xf)))
    # A mask on the input tensor itself: the full call.
    t = gkeras.ops.convert_to_tensor(xf)
    t._keras_mask = np.array([[True] * 4, [True, True, False, False]])
    _assert_same(*_both(monkeypatch, lambda: m(t)))


def test_dropout_and_batchnorm_follow_the_training_flag(monkeypatch):
    model = gkeras.Sequential([
        gkeras.Input((6,)), layers.Dense(8), layers.BatchNormalization(),
        layers.Dropout(0.5), layers.Dense(2)])
    rng = np.random.default_rng(4)
    x = rng.standard_normal((16, 6)).astype("float32")
    bn = model.layers[1]
    bn.moving_mean.assign(rng.standard_normal(8).astype("float32"))
    bn.moving_variance.assign(rng.random(8).astype("float32") + 0.5)
    for fn in (lambda: model.predict_on_batch(x),
               lambda: model(x, training=False), lambda: model(x)):
        _assert_same(*_both(monkeypatch, fn))
    h = x.astype(np.float64) @ model.layers[0].get_weights()[0] + \
        model.layers[0].get_weights()[1]
    g, b, mm, mv = (w.astype(np.float64) for w in bn.get_weights())
    h = (h - mm) / np.sqrt(mv + bn.epsilon) * g + b
    k, bias = (w.astype(np.float64) for w in model.layers[3].get_weights())
    np.testing.assert_allclose(model.predict_on_batch(x), h @ k + bias,
                               rtol=1e-4, atol=1e-5)
    # training=True: Dropout drops and BN uses the batch's statistics (and
    # updates its moving ones), as the full call does.
    before = [w.copy() for w in bn.get_weights()]
    y = np.asarray(model(x, training=True))
    assert not np.allclose(y, model.predict_on_batch(x))
    assert not np.allclose(bn.get_weights()[2], before[2])


def test_mixed_float16_matches_the_full_call(monkeypatch):
    model = gkeras.Sequential([
        gkeras.Input((9,)), layers.Dense(6, activation="relu",
                                         dtype="mixed_float16"),
        layers.Dense(3, activation="softmax", dtype="float32")])
    x = np.random.default_rng(5).standard_normal((5, 9)).astype("float32")
    fast, slow = _both(monkeypatch, lambda: model.predict_on_batch(x))
    _assert_same(fast, slow)
    assert fast.dtype == np.float32
    model2 = gkeras.Sequential([gkeras.Input((9,)), layers.Dense(
        4, dtype="mixed_float16")], dtype="mixed_float16")
    fast, slow = _both(monkeypatch, lambda: model2.predict_on_batch(x))
    _assert_same(fast, slow)
    assert fast.dtype == np.float16


def test_weight_changes_take_effect_on_the_next_call():
    model = _mlp()
    x = np.random.default_rng(6).standard_normal((3, 13)).astype("float32")
    y0 = model.predict_on_batch(x)
    weights = model.get_weights()
    model.set_weights([w * 0.5 for w in weights])
    y1 = model.predict_on_batch(x)
    np.testing.assert_allclose(y1, _ref_mlp(model, x), rtol=2e-5,
                               atol=2e-6)
    assert not np.allclose(y0, y1)
    model.layers[-1].bias.assign(np.array([5.0, 0, 0], "float32"))
    y2 = model.predict_on_batch(x)
    np.testing.assert_allclose(y2, _ref_mlp(model, x), rtol=2e-5,
                               atol=2e-6)
    # An optimizer step between calls.
    model.compile("sgd", "categorical_crossentropy")
    model.train_on_batch(x, np.eye(3, dtype="float32"))
    np.testing.assert_allclose(model.predict_on_batch(x),
                               _ref_mlp(model, x), rtol=2e-5, atol=2e-6)


def test_trainable_toggle_and_policy_change(monkeypatch):
    model = gkeras.Sequential([gkeras.Input((4,)), layers.Dense(3),
                               layers.BatchNormalization()])
    x = np.random.default_rng(7).standard_normal((8, 4)).astype("float32")
    model.predict_on_batch(x)
    bn = model.layers[1]
    bn.trainable = False
    # Keras 3: a frozen BatchNormalization runs in inference mode.
    _assert_same(*_both(monkeypatch, lambda: model(x, training=True)))
    _assert_same(model(x, training=True), model.predict_on_batch(x))
    bn.trainable = True
    model.layers[0].dtype_policy = "mixed_float16"
    fast, slow = _both(monkeypatch, lambda: model.predict_on_batch(x))
    _assert_same(fast, slow)
    model.layers[0].dtype_policy = "float32"
    _assert_same(*_both(monkeypatch, lambda: model.predict_on_batch(x)))


def test_sequential_add_and_pop(monkeypatch):
    model = _mlp()
    x = np.random.default_rng(8).standard_normal((2, 13)).astype("float32")
    assert model.predict_on_batch(x).shape == (2, 3)
    model.add(layers.Dense(6))
    assert model.predict_on_batch(x).shape == (2, 6)
    _assert_same(*_both(monkeypatch, lambda: model.predict_on_batch(x)))
    model.pop()
    model.pop()
    y = model.predict_on_batch(x)
    assert y.shape == (2, 4)
    _assert_same(*_both(monkeypatch, lambda: model.predict_on_batch(x)))
    # A Sequential built on its first call.
    lazy = gkeras.Sequential([layers.Dense(3), layers.Dense(2)])
    _assert_same(*_both(monkeypatch, lambda: lazy.predict_on_batch(x)))


def test_overrides_and_regularizers_after_the_first_call():
    model = _mlp()
    x = np.ones((2, 13), "float32")
    model.predict_on_batch(x)
    dense = model.layers[0]
    # An instance `call` set after the plan was made.
    dense.call = lambda inputs, training=None: gkeras.ops.zeros(
        (inputs.shape[0], 7))
    y = model.predict_on_batch(x)
    np.testing.assert_allclose(y, np.full((2, 3), 1 / 3), rtol=1e-5)
    del dense.call
    layer_mod.CALL_VERSION[0] += 1
    # An activity regularizer set later adds its loss, as the full call.
    dense.activity_regularizer = gkeras.regularizers.L2(1.0)
    model(x)
    assert len(model.losses) == 1
    dense.activity_regularizer = None
    model(x)
    assert not model.losses


def test_subclass_with_own_call_and_custom_layers(monkeypatch):
    class Doubled(layers.Dense):
        def call(self, inputs, training=None):
            return super().call(inputs) * 2.0

    class AddsLoss(layers.Layer):
        def call(self, x):
            self.add_loss(gkeras.ops.sum(x))
            return x + 1.0

    seen = []

    class SeesTraining(layers.Layer):
        def call(self, x, training=None):
            seen.append(training)
            return x

    inp = gkeras.Input((3,))
    h = Doubled(2, kernel_initializer="ones")(inp)
    h = AddsLoss()(h)
    out = SeesTraining()(h)
    model = gkeras.Model(inp, out)
    x = np.ones((1, 3), "float32")
    fast, slow = _both(monkeypatch, lambda: model.predict_on_batch(x))
    _assert_same(fast, slow)
    np.testing.assert_allclose(fast, [[7.0, 7.0]])
    model(x)
    assert len(model.losses) == 1
    model(x, training=True)
    model(x)
    assert seen[-3:] == [None, True, None] and seen[:2] == [False, False]


def test_symbolic_calls_and_tapes_take_the_full_call():
    model = _mlp()
    kt = gkeras.Input((13,))
    out = model(kt)
    assert isinstance(out, gkeras.KerasTensor) and out.shape == (None, 3)
    x = np.random.default_rng(9).standard_normal((4, 13)).astype("float32")
    with gkeras.ops.GradientTape() as tape:
        y = model(x, training=False)
        loss = gkeras.ops.sum(y * y)
    grads = tape.gradient(loss, model.trainable_variables)
    assert all(g is not None for g in grads)


def test_predict_calls_do_not_rebuild_plans(monkeypatch):
    model = gkeras.Sequential([
        gkeras.Input((8, 8, 3)), layers.Conv2D(4, 3, padding="same"),
        layers.BatchNormalization(), layers.Activation("relu"),
        layers.MaxPooling2D(), layers.Flatten(), layers.Dropout(0.2),
        layers.Dense(2, activation="softmax")])
    x = np.random.default_rng(10).random((3, 8, 8, 3)).astype("float32")
    model.predict_on_batch(x)
    version = layer_mod.CALL_VERSION[0]
    for _ in range(3):
        model.predict_on_batch(x)
        model(x)
        model.predict(x, verbose=0)
    assert layer_mod.CALL_VERSION[0] == version
    assert _uses_plan(model, x, monkeypatch)
    _assert_same(*_both(monkeypatch, lambda: model.predict_on_batch(x)))


def test_conv_chains_run_fused_through_the_plan(monkeypatch):
    from gkeras.models import inference_fusion
    model = gkeras.Sequential([
        gkeras.Input((8, 8, 3)), layers.Conv2D(16, 3, padding="same"),
        layers.BatchNormalization(), layers.Activation("relu"),
        layers.MaxPooling2D(), layers.Flatten(),
        layers.Dense(2, activation="softmax")])
    x = np.random.default_rng(12).random((3, 8, 8, 3)).astype("float32")
    calls = []
    real = inference_fusion.FusedChain.__call__

    def spy(self, *a, **k):
        calls.append(1)
        return real(self, *a, **k)
    monkeypatch.setattr(inference_fusion.FusedChain, "__call__", spy)
    fast, slow = _both(monkeypatch, lambda: model.predict_on_batch(x))
    assert len(calls) == 2   # the plan and the full call both fuse
    np.testing.assert_array_equal(fast, slow)
    with inference_fusion.disabled():
        unfused = model.predict_on_batch(x)
    np.testing.assert_allclose(fast, unfused, rtol=1e-5, atol=1e-6)
    # training=None (model(x)) runs the fused chains through the plan too.
    calls.clear()
    np.testing.assert_allclose(np.asarray(model(x)), unfused, rtol=1e-5,
                               atol=1e-6)
    assert len(calls) == 1


def test_model_call_inherits_the_enclosing_training_flag(monkeypatch):
    seen = []

    class SeesTraining(layers.Layer):
        def call(self, x, training=None):
            seen.append(training)
            return x * 1.0

    inp = gkeras.Input((3,))
    inner = gkeras.Model(inp, SeesTraining()(layers.Dense(3)(inp)))

    class Outer(layers.Layer):
        def __init__(self, model, **kw):
            super().__init__(**kw)
            self.model = model

        def call(self, x, training=None):
            return self.model(x)

    outer = Outer(inner)
    x = np.ones((2, 3), "float32")
    seen.clear()
    for ctx in (contextlib.nullcontext(), _no_plan(monkeypatch)):
        with ctx:
            outer(x, training=True)
            outer(x)
            inner(x)
            inner(x, training=False)
    assert seen == [True, None, None, False] * 2
    # Inputs by keyword take the full call (same result).
    _assert_same(inner(inputs=x), inner(x))


def test_models_with_plans_are_collected_and_pickled():
    import gc
    import pickle
    import weakref
    inp = gkeras.Input((4,))
    inner = gkeras.Model(inp, layers.Dense(2)(layers.Dense(3)(inp)))
    # The inner model called on its own input: its layers reach it back.
    outer = gkeras.Model(inp, layers.Dense(1)(inner(inp)))
    x = np.ones((2, 4), "float32")
    inner.predict_on_batch(x)
    outer.predict_on_batch(x)
    outer(x)
    pickle.dumps(outer)
    refs = [weakref.ref(inner), weakref.ref(outer)]
    del inner, outer, inp
    gc.collect()
    assert all(r() is None for r in refs)

"""Issue 17, "the rest of the API surface": top-level names, `saving`,
`utils`, `config` switches, `random`, `distribution`, `preprocessing`, and
the exempt names' NotImplementedError stand-ins."""

import logging
import traceback
import warnings

import numpy as np
import pytest

import gkeras
from gkeras import layers, ops


@pytest.fixture(autouse=True)
def _restore_switches():
    yield
    gkeras.config.set_max_epochs(None)
    gkeras.config.set_max_steps_per_epoch(None)
    gkeras.config.enable_interactive_logging()
    gkeras.config.enable_traceback_filtering()
    gkeras.config.enable_flash_attention()


def _np_dense(x, layer):
    w, b = (v.astype(np.float64) for v in layer.get_weights())
    return x.astype(np.float64) @ w + b


# -- top level -------------------------------------------------------------

def test_top_level_base_classes_are_the_namespaces_own():
    assert gkeras.Loss is gkeras.losses.Loss
    assert gkeras.Metric is gkeras.metrics.Metric
    assert gkeras.Optimizer is gkeras.optimizers.Optimizer
    assert gkeras.Initializer is gkeras.initializers.Initializer
    assert gkeras.Regularizer is gkeras.regularizers.Regularizer
    assert issubclass(gkeras.losses.MeanSquaredError, gkeras.Loss)


def test_custom_operation_in_a_functional_model():
    class Cube(gkeras.Operation):
        def call(self, x):
            return ops.power(x, 3)

    x = gkeras.Input((4,))
    dense = layers.Dense(2)
    model = gkeras.Model(x, dense(Cube(name="cube")(x)))
    # Recorded from Keras 3.15.1: `operations` lists the custom op (and
    # `layers` leaves it out, being only the Layer instances).
    assert [op.name for op in model.operations] == [
        "input_layer", "cube", "dense"]
    v = np.linspace(-1, 1, 8).reshape(2, 4).astype("float32")
    np.testing.assert_allclose(model.predict(v, verbose=0),
                               _np_dense(v ** 3, dense), rtol=1e-5)
    with pytest.raises(NotImplementedError, match="does not implement"):
        gkeras.Operation()(v)
    # Layers and graph ops are Operations too, as in Keras.
    assert isinstance(dense, gkeras.Operation)
    assert all(isinstance(op, gkeras.Operation) for op in model.operations)
    assert not isinstance(np.ones(2), gkeras.Operation)


def test_function_runs_the_graph():
    a = gkeras.Input((2,), name="a")
    b = gkeras.Input((2,), name="b")
    dense = layers.Dense(3)
    fn = gkeras.Function({"b": b, "a": a}, [dense(a) * b[:, :1], a + b])
    va = np.array([[1.0, 2.0]], "float32")
    vb = np.array([[3.0, 4.0]], "float32")
    out1, out2 = fn({"a": va, "b": vb})
    np.testing.assert_allclose(out1.numpy(), _np_dense(va, dense) * 3.0,
                               rtol=1e-6)
    np.testing.assert_allclose(out2.numpy(), va + vb)
    spec = fn.compute_output_spec({"a": a, "b": b})
    assert [tuple(s.shape) for s in spec] == [(None, 3), (None, 2)]
    assert dense in fn.operations and fn.inputs == [a, b]
    with pytest.raises(ValueError, match="expects 2 input"):
        fn([va])
    # A Functional model is a Function, as in Keras.
    assert isinstance(gkeras.Model(a, layers.Dense(1)(a)),
                      gkeras.Function)


def test_name_scope_and_device():
    with gkeras.name_scope("block1"):
        v = gkeras.Variable(1.0, name="v")
        d = layers.Dense(2)
        d.build((None, 3))
        with gkeras.name_scope("inner", override_parent="top"):
            w = gkeras.Variable(2.0, name="w")
    # Keras 3.15.1 gives the same paths (recorded).
    assert v.path == "block1/v"
    assert [x.path for x in d.weights] == ["block1/dense/kernel",
                                           "block1/dense/bias"]
    assert w.path == "top/inner/w"
    with pytest.raises(ValueError, match="cannot contain"):
        gkeras.name_scope("a/b")
    with gkeras.device("cpu"):
        y = ops.add(np.ones(2), 1.0)
    np.testing.assert_array_equal(y.numpy(), [2.0, 2.0])
    with pytest.raises(NotImplementedError, match="NumPy .CPU. backend"):
        with gkeras.device("gpu:0"):
            pass
    with pytest.raises(ValueError, match="Invalid device name"):
        gkeras.device("tpu:0")


# -- saving / models ----------------------------------------------------------

def test_saving_functions_round_trip(tmp_path):
    model = gkeras.Sequential([gkeras.Input((3,)), layers.Dense(2)])
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    path = str(tmp_path / "m.keras")
    gkeras.saving.save_model(model, path)
    loaded = gkeras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0),
                               model.predict(x, verbose=0), rtol=1e-6)
    gkeras.models.save_model(model, str(tmp_path / "m2.keras"))
    wpath = str(tmp_path / "w.weights.h5")
    gkeras.saving.save_weights(model, wpath)
    other = gkeras.Sequential([gkeras.Input((3,)), layers.Dense(2)])
    gkeras.saving.load_weights(other, wpath)
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(NotImplementedError, match="KerasFileEditor"):
        gkeras.saving.KerasFileEditor(path)


# -- utils --------------------------------------------------------------------

def test_utils_names():
    u = gkeras.utils
    x = gkeras.Input((3,))
    y = layers.Dense(2)(layers.Dense(4)(x))
    assert u.get_source_inputs(y) == [x]
    assert u.is_keras_tensor(y) and not u.is_keras_tensor(np.ones(2))
    assert u.pack_x_y_sample_weight([1, 2]) == ([1, 2],)
    assert u.pack_x_y_sample_weight(1, 2) == (1, 2)
    assert u.pack_x_y_sample_weight(1, 2, 3) == (1, 2, 3)
    assert u.unpack_x_y_sample_weight((1, 2)) == (1, 2, None)
    assert u.standardize_dtype(np.float32) == "float32"
    assert u.clear_session is gkeras.backend.clear_session
    assert u.serialize_keras_object is \
        gkeras.saving.serialize_keras_object
    assert u.get_registered_object("Foo") is None
    cfg = u.Config(learning_rate=0.1)
    cfg.momentum = 0.9
    cfg["seed"] = 3
    assert list(cfg) == ["learning_rate", "momentum", "seed"]
    assert cfg.to_json() == \
        '{"learning_rate": 0.1, "momentum": 0.9, "seed": 3}'
    cfg.freeze()
    with pytest.raises(ValueError, match="frozen"):
        cfg.seed = 4
    with pytest.raises(AttributeError, match="Did you mean 'momentum'"):
        cfg.momentun


def test_interactive_logging_switch(capsys, caplog):
    assert gkeras.utils.is_interactive_logging_enabled()
    model = gkeras.Sequential([gkeras.Input((2,)), layers.Dense(1)])
    gkeras.config.disable_interactive_logging()
    assert not gkeras.config.is_interactive_logging_enabled()
    with caplog.at_level(logging.INFO, logger="gkeras"):
        model.summary()
    assert capsys.readouterr().out == ""
    assert any("Total params: 3" in r.getMessage() for r in caplog.records)
    gkeras.utils.enable_interactive_logging()
    model.summary()
    assert "Total params: 3" in capsys.readouterr().out


# -- config: fit caps, traceback filtering, flash attention -------------------

def test_max_epochs_and_steps_cap_fit_evaluate_predict():
    model = gkeras.Sequential([gkeras.Input((2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    steps = []
    cb = gkeras.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: steps.append(b))
    gkeras.config.set_max_epochs(2)
    gkeras.config.set_max_steps_per_epoch(3)
    assert gkeras.config.max_epochs() == 2
    x, y = np.zeros((40, 2), "float32"), np.zeros((40, 1), "float32")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        history = model.fit(x, y, batch_size=4, epochs=5, callbacks=[cb],
                            verbose=0)
        assert model.predict(x, batch_size=4, verbose=0).shape == (12, 1)
    assert len(history.history["loss"]) == 2
    assert steps == [0, 1, 2, 0, 1, 2]
    messages = {str(m.message) for m in w}
    assert {"Limiting epochs to 2", "Limiting steps_per_epoch to 3"} <= \
        messages
    with pytest.raises(ValueError, match="positive integer"):
        gkeras.config.set_max_epochs(0)


class _Failing(gkeras.Model):
    def call(self, x):
        raise RuntimeError("user bug")


def _frames(exc):
    return [f.filename for f in traceback.extract_tb(exc.__traceback__)]


def test_traceback_filtering_hides_internal_frames():
    model = _Failing()
    with pytest.raises(RuntimeError, match="user bug") as info:
        model.predict(np.zeros((2, 2)), verbose=0)
    internal = [f for f in _frames(info.value) if "/gkeras/" in f]
    # Only the filter's own re-raise frame remains of gkeras's.
    assert all(f.endswith("traceback_filter.py") for f in internal)
    assert any(f.endswith(__file__.split("/")[-1])
               for f in _frames(info.value))
    gkeras.config.disable_traceback_filtering()
    assert not gkeras.config.is_traceback_filtering_enabled()
    with pytest.raises(RuntimeError) as info:
        model.predict(np.zeros((2, 2)), verbose=0)
    assert any(f.endswith("trainer.py") for f in _frames(info.value))


def test_flash_attention_switch_selects_the_path(monkeypatch):
    from gkeras.ops import attention as attention_ops
    calls = []
    real = attention_ops.ScaledDotProductAttention

    class Counting(real):
        def __init__(self, *a, **k):
            calls.append(1)
            super().__init__(*a, **k)
    monkeypatch.setattr(attention_ops, "ScaledDotProductAttention", Counting)
    rng = np.random.default_rng(1)
    q = rng.normal(size=(2, 5, 3, 4)).astype("float32")
    k = rng.normal(size=(2, 6, 3, 4)).astype("float32")
    mask = rng.random((2, 3, 5, 6)) > 0.3
    mask[0, 0, 0] = False  # a fully masked row: uniform, as Keras
    assert gkeras.config.is_flash_attention_enabled() is None
    fused = ops.dot_product_attention(q, k, k, mask=mask).numpy()
    assert len(calls) == 1
    gkeras.config.disable_flash_attention()
    assert gkeras.config.is_flash_attention_enabled() is False
    explicit = ops.dot_product_attention(q, k, k, mask=mask).numpy()
    assert len(calls) == 1  # the explicit-scores path ran
    # NumPy float64 reference.
    s = np.einsum("btnh,bsnh->bnts", q, k).astype(np.float64) / 2.0
    s = np.where(mask, s, -np.inf)
    s = np.where(mask.any(-1, keepdims=True), s, 0.0)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    ref = np.einsum("bnts,bsnh->btnh", p, k)
    np.testing.assert_allclose(fused, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(explicit, ref, rtol=1e-5, atol=1e-6)
    mha = layers.MultiHeadAttention(2, 4)
    assert mha._flash_attention is False  # the global switch, as Keras
    gkeras.config.enable_flash_attention()
    assert layers.MultiHeadAttention(2, 4)._flash_attention is None


def test_multi_head_attention_same_output_with_flash_off():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 5, 8)).astype("float32")
    am = rng.random((2, 5, 5)) > 0.3
    fused = layers.MultiHeadAttention(2, 4)
    out_fused = fused(x, x, attention_mask=am).numpy()
    gkeras.config.disable_flash_attention()
    explicit = layers.MultiHeadAttention(2, 4)
    explicit(x, x)
    explicit.set_weights(fused.get_weights())
    np.testing.assert_allclose(explicit(x, x, attention_mask=am).numpy(),
                               out_fused, rtol=1e-5, atol=1e-6)


# -- random / distribution / preprocessing ------------------------------------

def test_random_gamma_binomial_beta_moments_and_seeds():
    r = gkeras.random
    g = r.gamma((20000,), alpha=3.0, seed=1).numpy()
    assert g.dtype == np.float32
    assert abs(g.mean() - 3.0) < 0.08 and abs(g.var() - 3.0) < 0.25
    n = r.binomial((20000,), counts=10, probabilities=0.3, seed=2).numpy()
    assert abs(n.mean() - 3.0) < 0.05 and abs(n.var() - 2.1) < 0.15
    assert set(np.unique(n)) <= set(range(11))
    b = r.beta((20000,), alpha=2.0, beta=5.0, seed=3).numpy()
    assert abs(b.mean() - 2 / 7) < 0.01
    assert abs(b.var() - 10 / (49 * 8)) < 0.004
    np.testing.assert_array_equal(r.beta((5,), 2.0, 5.0, seed=7).numpy(),
                                  r.beta((5,), 2.0, 5.0, seed=7).numpy())
    # Per-element parameters broadcast against the shape.
    per = r.gamma((4000, 2), alpha=np.array([1.0, 50.0]), seed=4).numpy()
    assert per[:, 1].mean() > 10 * per[:, 0].mean()
    with pytest.raises(ValueError, match="alpha"):
        r.gamma((2,), alpha=0.0)
    with pytest.raises(ValueError, match="probabilities"):
        r.binomial((2,), counts=3, probabilities=1.5)


def test_distribution_device_count_and_distribute_tensor():
    d = gkeras.distribution
    assert d.get_device_count("cpu") == 1 == len(d.list_devices("cpu"))
    mesh = d.DeviceMesh((1,), ["batch"], devices=["cpu:0"])
    t = ops.ones((4, 2))
    assert d.distribute_tensor(t, d.TensorLayout([None, None], mesh)) is t
    assert d.distribute_tensor(t, d.TensorLayout(["batch", None], mesh)) \
        is t  # a mesh axis of size 1 replicates
    kt = gkeras.Input((2,))
    assert d.distribute_tensor(kt, d.TensorLayout(["model", None])) is kt
    with pytest.raises(NotImplementedError, match="data parallel"):
        d.distribute_tensor(t, d.TensorLayout(["model", None]))


def test_preprocessing_keras3_names():
    p = gkeras.preprocessing
    assert p.image_dataset_from_directory is \
        gkeras.utils.image_dataset_from_directory
    assert p.text_dataset_from_directory is \
        gkeras.utils.text_dataset_from_directory
    for name in ("array_to_img", "img_to_array", "load_img", "save_img",
                 "smart_resize"):
        assert getattr(p.image, name) is getattr(gkeras.utils, name)


# -- exempt names -------------------------------------------------------------

@pytest.mark.parametrize("get", [
    lambda: gkeras.layers.TFSMLayer("path"),
    lambda: gkeras.layers.JaxLayer(lambda x: x),
    lambda: gkeras.layers.FlaxLayer(None),
    lambda: gkeras.layers.TorchModuleWrapper(None),
    lambda: gkeras.RematScope(mode="full"),
    lambda: gkeras.remat(lambda x: x),
    lambda: gkeras.StatelessScope(),
    lambda: gkeras.SymbolicScope(),
    lambda: gkeras.Quantizer(),
    lambda: gkeras.export.ExportArchive(),
    lambda: gkeras.quantizers.AbsMaxQuantizer(),
    lambda: gkeras.distillation.Distiller(teacher=None, student=None),
    lambda: gkeras.utils.audio_dataset_from_directory("d"),
    lambda: gkeras.utils.bounding_boxes.convert_format(
        [[0, 0, 1, 1]], "xyxy", "xywh"),
    lambda: gkeras.config.set_backend("jax"),
])
def test_exempt_names_raise_clear_not_implemented(get):
    with pytest.raises(NotImplementedError, match="not supported by gkeras|"
                       "not multi-backend"):
        get()


def test_exempt_modules_hold_keras_names_only():
    assert "ExportArchive" in dir(gkeras.export)
    assert not hasattr(gkeras.quantizers, "NoSuchName")
    assert hasattr(gkeras.utils.bounding_boxes, "compute_iou")


def test_nnx_is_reported_off():
    assert gkeras.config.is_nnx_enabled() is False


# -- layering: the Keras-2 `K` helpers live above models ----------------------

def test_backend_package_imports_nothing_above_it():
    import ast
    import pathlib
    root = pathlib.Path(gkeras.__file__).parent / "backend"
    above = ("gkeras.ops", "gkeras.layers", "gkeras.models",
             "gkeras.legacy", "gkeras.callbacks", "gkeras.losses",
             "gkeras.metrics", "gkeras.optimizers", "gkeras.saving")
    bad = []
    for path in root.rglob("*.py"):
        if path.name == "check.py":
            continue  # `python -m gkeras.backend.check`: a whole-stack probe
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}"
                                         for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            if node.__class__ is ast.ImportFrom and node.module == "gkeras":
                names = [f"gkeras.{a.name}" for a in node.names]
            bad += [f"{path.name}: {n}" for n in names
                    if n.startswith(above)]
    assert bad == []


def test_keras2_helpers_reached_lazily_from_backend():
    import subprocess
    import sys
    code = ("import sys, gkeras.backend as K; "
            "assert 'gkeras.legacy.backend' not in sys.modules; "
            "assert K.int_shape(K.ones((2, 3))) == (2, 3); "
            "assert K.function is sys.modules['gkeras.legacy.backend']"
            ".function; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr

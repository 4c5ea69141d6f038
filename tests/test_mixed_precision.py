"""Mixed precision (issue 18): dtype policies, autocasting, float32
islands, and Keras 3.15.1's mixed precision files.

The `mixed_*` fixtures were written by the real Keras (JAX backend, see
tests/fixtures/keras/README.md, "Mixed precision cases"); every expected
number here comes from them or from NumPy float64 math, with the README's
tolerances (relative to the largest value of a tensor).
"""

import json
import os
import warnings
import zipfile

import numpy as np
import pytest

import gkeras
from gkeras import backend, dtype_policies, layers, ops
from gkeras.ops.autocast import get_autocast_scope

from keras_fixtures import FIXTURES, case_names

h5py = pytest.importorskip("h5py")
ml_dtypes = pytest.importorskip("ml_dtypes")

CASES = case_names(mixed=True)
POLICY_DICT = {"module": "keras", "class_name": "DTypePolicy",
               "config": {"name": "mixed_float16"}, "registered_name": None}


@pytest.fixture(autouse=True)
def _float32_policy_after():
    yield
    gkeras.config.set_dtype_policy("float32")


# -- the policy API ----------------------------------------------------------


@pytest.mark.parametrize("name,compute,variable", [
    ("mixed_float16", "float16", "float32"),
    ("mixed_bfloat16", "bfloat16", "float32"),
    ("float16", "float16", "float16"),
    ("bfloat16", "bfloat16", "bfloat16"),
    ("float32", "float32", "float32"),
    ("float64", "float64", "float64"),
])
def test_policy_dtypes(name, compute, variable):
    p = gkeras.DTypePolicy(name)
    assert (p.name, p.compute_dtype, p.variable_dtype) == \
        (name, compute, variable)
    assert p.quantization_mode is None
    assert repr(p) == f'<DTypePolicy "{name}">'
    assert p == gkeras.FloatDTypePolicy(name)
    assert p != gkeras.DTypePolicy("float32" if name != "float32"
                                   else "float16")


def test_policy_serialization_is_keras():
    p = dtype_policies.get("mixed_float16")
    assert dtype_policies.serialize(p) == POLICY_DICT
    assert dtype_policies.deserialize(POLICY_DICT) == p
    assert dtype_policies.get(POLICY_DICT) == p
    assert dtype_policies.get({"class_name": "FloatDTypePolicy",
                               "config": {"name": "bfloat16"}}).name == \
        "bfloat16"
    assert dtype_policies.get(np.dtype("float64")).name == "float64"
    # tf.keras 2.x wrote mixed precision layers with `Policy`.
    assert dtype_policies.get({"class_name": "Policy", "config": {
        "name": "mixed_float16"}}) == p
    assert dtype_policies.get(p) is p


def test_policy_errors_name_what_was_given():
    with pytest.raises(ValueError, match="mixed_float61"):
        gkeras.DTypePolicy("mixed_float61")
    with pytest.raises(NotImplementedError, match="quantiz"):
        dtype_policies.get("int8_from_float32")
    with pytest.raises(NotImplementedError, match="QuantizedDTypePolicy"):
        dtype_policies.deserialize({"class_name": "QuantizedDTypePolicy",
                                    "config": {"mode": "int8"}})
    with pytest.raises(ValueError, match="policy"):
        gkeras.config.set_dtype_policy(3)


def test_global_policy_names_and_reset():
    mp = gkeras.mixed_precision
    assert gkeras.config.dtype_policy().name == "float32"
    mp.set_global_policy("mixed_bfloat16")
    assert mp.global_policy() is gkeras.config.dtype_policy()
    assert mp.dtype_policy().name == "mixed_bfloat16"
    assert layers.Dense(2).dtype_policy.name == "mixed_bfloat16"
    assert layers.Dense(2, dtype="float32").dtype_policy.name == "float32"
    mp.set_dtype_policy(mp.Policy("mixed_float16"))
    assert gkeras.DTypePolicy() == mp.DTypePolicy("mixed_float16")
    assert mp.LossScaleOptimizer is gkeras.optimizers.LossScaleOptimizer
    backend.clear_session()  # resets the policy too, as Keras's
    assert gkeras.config.dtype_policy().name == "float32"


# -- layers: attributes, autocasting, float32 islands ------------------------


def _bf16(a):
    return np.asarray(a, np.float32).astype(ml_dtypes.bfloat16).astype(
        np.float64)


def test_layer_attributes_and_bfloat16_dense():
    layer = layers.Dense(3, dtype="mixed_bfloat16")
    x = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    y = layer(x)
    assert layer.dtype == layer.variable_dtype == "float32"
    assert layer.compute_dtype == "bfloat16"
    assert layer.kernel.dtype == np.float32
    assert y.dtype == backend.bfloat16()
    # float32 accumulation of bfloat16-rounded inputs and weights, rounded.
    k, b = layer.kernel.numpy(), layer.bias.numpy()
    want = _bf16(_bf16(x) @ _bf16(k) + _bf16(b))
    got = np.asarray(y.numpy()).astype(np.float64)
    assert np.abs(got - want).max() <= 2 ** -7 * np.abs(want).max()
    assert layer.get_config()["dtype"]["config"] == {"name": "mixed_bfloat16"}
    again = layers.Dense.from_config(layer.get_config())
    assert again.dtype_policy == layer.dtype_policy


def test_autocast_reads_variables_in_compute_dtype_with_float32_grads():
    seen = {}

    class Probe(layers.Layer):
        def build(self, shape):
            self.w = self.add_weight(shape=(shape[-1],), initializer="ones")
            self.u = self.add_weight(shape=(shape[-1],), initializer="ones",
                                     autocast=False)

        def call(self, x):
            seen["w"], seen["u"] = self.w.dtype, self.u.dtype
            seen["scope"] = get_autocast_scope().dtype
            return x * self.w + ops.cast(self.u, x.dtype)

    layer = Probe(dtype="mixed_float16")
    x = np.array([[1.0, 2.0, 3.0]], "float32")
    with gkeras.GradientTape() as tape:
        y = layer(x)
        loss = ops.sum(ops.cast(y, "float32") ** 2)
    assert seen == {"w": np.float16, "u": np.float32, "scope": "float16"}
    assert y.dtype == np.float16
    assert layer.w.dtype == np.float32 and get_autocast_scope() is None
    gw, gu = tape.gradient(loss, [layer.w, layer.u])
    assert gw.dtype == np.float32 and gu.dtype == np.float32
    # d/dw sum((x w + u)^2) = 2 (x w + u) x at w = u = 1
    np.testing.assert_allclose(gw, (2 * (x + 1) * x)[0], rtol=1e-3)
    np.testing.assert_allclose(gu, (2 * (x + 1))[0], rtol=1e-3)


def test_integer_inputs_are_not_cast_and_float32_layers_open_their_scope():
    gkeras.mixed_precision.set_global_policy("mixed_float16")
    emb = layers.Embedding(10, 4)
    act = layers.Activation("softmax", dtype="float32")
    ids = np.array([[1, 2, 3]], "int32")
    e = emb(ids)
    assert e.dtype == np.float16
    np.testing.assert_array_equal(
        e.numpy(), emb.embeddings.numpy()[[1, 2, 3]][None].astype(np.float16))
    out = act(e)
    assert out.dtype == np.float32
    z = e.numpy().astype(np.float64)
    want = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("policy,eps", [("mixed_float16", 2 ** -10),
                                        ("mixed_bfloat16", 2 ** -7)])
def test_normalization_runs_in_float32(policy, eps):
    rng = np.random.default_rng(1)
    # A large offset: in half precision the batch statistics would cancel.
    x = (rng.normal(size=(6, 5)) * 3 + 200).astype("float32")
    bn = layers.BatchNormalization(dtype=policy)
    ln = layers.LayerNormalization(dtype=policy)
    xh = ops.cast(x, policy[6:])
    yb = bn(xh, training=True)
    yl = ln(xh)
    half = backend.to_dtype(policy[6:])
    assert yb.dtype == half and yl.dtype == half
    assert all(w.dtype == np.float32 for w in bn.weights + ln.weights)
    xr = np.asarray(xh.numpy()).astype(np.float64)
    mean, var = xr.mean(0), xr.var(0)
    want_b = (xr - mean) / np.sqrt(var + 1e-3)
    got_b = np.asarray(yb.numpy()).astype(np.float64)
    assert np.abs(got_b - want_b).max() <= 2 * eps * np.abs(want_b).max()
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.01 * mean,
                               rtol=1e-5)
    m, v = xr.mean(-1, keepdims=True), xr.var(-1, keepdims=True)
    want_l = (xr - m) / np.sqrt(v + 1e-3)
    got_l = np.asarray(yl.numpy()).astype(np.float64)
    assert np.abs(got_l - want_l).max() <= 2 * eps * np.abs(want_l).max()


def test_loss_is_computed_in_float32():
    y_pred = ops.cast(np.array([[0.2, 0.8], [0.6, 0.4]], "float32"),
                      "float16")
    loss = gkeras.losses.CategoricalCrossentropy()(
        np.array([[0.0, 1.0], [1.0, 0.0]], "float32"), y_pred)
    assert loss.dtype == np.float32
    p = np.asarray(y_pred.numpy()).astype(np.float64)
    p = p / p.sum(-1, keepdims=True)  # Keras renormalizes probabilities
    want = -(np.log(p[0, 1]) + np.log(p[1, 0])) / 2
    assert abs(float(loss) - want) < 1e-6


# -- Keras's mixed precision fixtures ----------------------------------------


def _fixture(case):
    z = np.load(os.path.join(FIXTURES, case + ".npz"))
    meta = json.loads(str(z["meta"]))
    with h5py.File(os.path.join(FIXTURES, case + ".h5"), "r") as f:
        config = json.loads(f.attrs["model_config"])
        training = json.loads(f.attrs["training_config"])
    return z, meta, config, training


def _indexed(z, prefix):
    out, i = [], 0
    while f"{prefix}_{i:03d}" in z:
        out.append(z[f"{prefix}_{i:03d}"])
        i += 1
    return out


def _model(case):
    z, meta, config, _ = _fixture(case)
    model = gkeras.models.model_from_json(json.dumps(config))
    model.set_weights(_indexed(z, "weight"))
    return model, z, meta


def _within(got, want, tol, what):
    got = np.asarray(got).astype(np.float64)
    want = np.asarray(want).astype(np.float64)
    err = np.abs(got - want).max()
    bound = tol["atol"] + tol["rtol"] * np.abs(want).max()
    assert err <= bound, f"{what}: max error {err:.3g} > {bound:.3g}"


def _step_within(got, want, before, tol, what):
    got, want, before = (np.asarray(a, np.float64) for a in
                         (got, want, before))
    bound = tol["atol"] + tol["rtol"] * np.abs(want) + \
        tol["update"] * np.abs(want - before).max()
    assert np.all(np.abs(got - want) <= bound), \
        f"{what}: max error {np.abs(got - want).max():.3g}"


@pytest.mark.parametrize("case", CASES)
def test_fixture_policies_dtypes_and_predictions(case):
    model, z, meta = _model(case)
    assert model.dtype_policy.name == meta["model_dtype_policy"]
    got = [{"name": l.name, "policy": l.dtype_policy.name,
            "compute_dtype": l.compute_dtype,
            "variable_dtype": l.variable_dtype} for l in model.layers]
    assert got == meta["layer_policies"]
    assert {str(w.dtype) for w in model.weights} == {"float32"}
    pred = model.predict(z["x"], verbose=0)
    assert [str(pred.dtype)] == meta["output_dtypes"]
    _within(pred, z["y_pred"], meta["tolerance"]["output"], "y_pred")


@pytest.mark.parametrize("case", CASES)
def test_fixture_layer_outputs_and_dtypes(case):
    model, z, meta = _model(case)
    tol = meta["tolerance"]["output"]
    for training in (False, True):
        key = "layer_out_training" if training else "layer_out"
        wants = _indexed(z, key)
        if not wants:
            continue
        x = z["x"]
        for layer, want, dt in zip(model.layers, wants,
                                   meta["layer_out_dtypes"]):
            moving = [w.numpy() for w in layer.non_trainable_weights]
            x = layer(x, training=training)
            assert str(x.dtype) == dt, (layer.name, x.dtype, dt)
            _within(x.numpy(), want, tol, f"{key} of {layer.name}")
            # Keras's training-mode outputs were taken statelessly.
            for w, m in zip(layer.non_trainable_weights, moving):
                w.assign(m)


@pytest.mark.parametrize("case", CASES)
def test_fixture_sgd_step_loss_scaled(case):
    model, z, meta = _model(case)
    model.compile(optimizer=gkeras.optimizers.SGD(float(z["lr"])),
                  loss=meta["loss_names"][0])
    assert type(model.optimizer).__name__ == meta["compiled_optimizer"]
    loss = model.train_on_batch(z["x"], z["y"])
    _within(loss, z["loss"], meta["tolerance"]["loss"], "loss")
    tol = meta["tolerance"]["step"]
    before = [w for w in _indexed(z, "weight")]
    paths = json.loads(str(z["weight_paths"]))
    by_path = dict(zip(paths, before))
    for w, want in zip(model.trainable_weights,
                       _indexed(z, "trainable_after")):
        assert w.dtype == np.float32
        _step_within(w.numpy(), want, by_path[w.path], tol, w.path)
    for w, want in zip(model.non_trainable_weights,
                       _indexed(z, "non_trainable_after")):
        assert w.dtype == np.float32
        _step_within(w.numpy(), want, by_path[w.path], tol, w.path)
    ls = meta["loss_scale"]
    if ls is not None:
        opt = model.optimizer
        assert float(opt.dynamic_scale.numpy()) == ls["scale_after"]
        assert int(opt.step_counter.numpy()) == ls["step_counter_after"]
        assert opt.dynamic_growth_steps == ls["dynamic_growth_steps"]
        assert int(opt.iterations.numpy()) == 1


@pytest.mark.parametrize("case", [c for c in CASES if "float16" in c])
def test_fixture_sgd_step_without_loss_scaling(case):
    model, z, meta = _model(case)
    model.compile(optimizer=gkeras.optimizers.SGD(float(z["lr"])),
                  loss=meta["loss_names"][0], auto_scale_loss=False)
    assert type(model.optimizer).__name__ == "SGD"
    model.train_on_batch(z["x"], z["y"])
    tol = meta["tolerance"]["step"]
    for w, want, before in zip(model.trainable_weights,
                               _indexed(z, "trainable_after_no_loss_scale"),
                               _indexed(z, "weight")):
        _step_within(w.numpy(), want, before, tol, w.path)


def _strip_ids(obj):
    if isinstance(obj, dict):
        return {k: _strip_ids(v) for k, v in obj.items()
                if k != "shared_object_id"}
    if isinstance(obj, list):
        return [_strip_ids(v) for v in obj]
    return obj


@pytest.mark.parametrize("case", CASES)
def test_fixture_config_dtypes_are_keras(case):
    model, z, meta = _model(case)
    saved = meta["saved"]
    config = model.get_config()
    assert config["dtype"] == saved["model_dtype"]
    got = [{"name": l["config"]["name"], "class_name": l["class_name"],
            "dtype": l["config"]["dtype"]} for l in config["layers"]]
    assert got == saved["layer_dtypes"]
    assert _strip_ids(saved["keras_layer_dtypes"]) == saved["layer_dtypes"]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("ext", [".keras", ".h5", ".weights.h5"])
def test_fixture_files_load(case, ext):
    """Keras's three files: same policies (the model's own included, which
    Keras 3.15 drops), same predictions, and a model that trains at once
    with loss scaling under mixed_float16 (Keras's .h5 load fills the
    scaler's variables in the wrong order and cannot train until
    recompiled)."""
    ref, z, meta = _model(case)
    path = os.path.join(FIXTURES, case + ext)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "skipping optimizer" warning
        if ext == ".weights.h5":
            model = gkeras.models.model_from_json(ref.to_json())
            model.load_weights(path)
            model.compile(optimizer=gkeras.optimizers.SGD(float(z["lr"])),
                          loss=meta["loss_names"][0])
        else:
            model = gkeras.models.load_model(path)
    assert model.dtype_policy.name == meta["model_dtype_policy"]
    assert [l.dtype_policy.name for l in model.layers] == \
        [p["policy"] for p in meta["layer_policies"]]
    pred = model.predict(z["x"], verbose=0)
    np.testing.assert_array_equal(np.asarray(pred),
                                  np.asarray(ref.predict(z["x"], verbose=0)))
    opt = model.optimizer
    assert type(opt).__name__ == meta["compiled_optimizer"]
    if meta["loss_scale"] is not None:
        assert type(opt.inner_optimizer).__name__ == "SGD"
        if opt.built:  # restored from the file, in the right slots
            assert float(opt.dynamic_scale.numpy()) == 32768.0
            assert int(opt.step_counter.numpy()) == 0
        assert opt.initial_scale == 32768.0
        assert float(opt.learning_rate.numpy()) == np.float32(z["lr"])
    model.train_on_batch(z["x"], z["y"])
    tol = meta["tolerance"]["step"]
    by_path = dict(zip(json.loads(str(z["weight_paths"])),
                       _indexed(z, "weight")))
    for w, want in zip(model.trainable_weights,
                       _indexed(z, "trainable_after")):
        _step_within(w.numpy(), want, by_path[w.path], tol, w.path)


def _read_zip_json(path, name):
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read(name))


def test_own_mixed_files_round_trip_policies_and_loss_scale_state(tmp_path):
    model, z, meta = _model("mixed_float16_mlp")
    model.compile(optimizer=gkeras.optimizers.SGD(0.1),
                  loss="categorical_crossentropy")
    model.train_on_batch(z["x"], z["y"])
    opt = model.optimizer
    opt.dynamic_scale.assign(np.float32(1024.0))
    opt.step_counter.assign(np.int32(7))
    saved = meta["saved"]
    for ext in (".keras", ".h5"):
        path = str(tmp_path / ("m" + ext))
        model.save(path)
        if ext == ".keras":
            import io
            with zipfile.ZipFile(path) as zf:
                inner = io.BytesIO(zf.read("model.weights.h5"))
            with h5py.File(inner, "r") as f:
                dtypes = set()
                f["layers"].visititems(lambda k, v: dtypes.add(
                    str(v.dtype)) if isinstance(v, h5py.Dataset) else None)
            assert dtypes == {"float32"}  # variables stay float32
            config = _read_zip_json(path, "config.json")
            assert _strip_ids(config["config"]["dtype"]) == \
                saved["model_dtype"]
            assert config["compile_config"]["optimizer"]["class_name"] == \
                "SGD"
        else:
            with h5py.File(path, "r") as f:
                training = json.loads(f.attrs["training_config"])
                names = [n.decode() if isinstance(n, bytes) else n for n in
                         f["optimizer_weights"].attrs["weight_names"]]
            want = saved["h5_training_config_optimizer"]
            got = training["optimizer_config"]
            assert got["class_name"] == want["class_name"]
            assert set(got["config"]) == set(want["config"])
            assert got["config"]["inner_optimizer"]["class_name"] == "SGD"
            assert names == ["loss_scale_optimizer/iteration",
                             "loss_scale_optimizer/learning_rate",
                             "loss_scale_optimizer/step_counter",
                             "loss_scale_optimizer/dynamic_scale",
                             "sgd/iteration", "sgd/learning_rate"]
        back = gkeras.models.load_model(path)
        assert back.dtype_policy.name == "mixed_float16"
        lso = back.optimizer
        assert type(lso).__name__ == "LossScaleOptimizer"
        assert float(lso.dynamic_scale.numpy()) == 1024.0
        assert int(lso.step_counter.numpy()) == 7
        assert int(lso.iterations.numpy()) == 1
        assert float(lso.learning_rate.numpy()) == np.float32(0.1)
        np.testing.assert_array_equal(back.predict(z["x"], verbose=0),
                                      model.predict(z["x"], verbose=0))


def test_weights_file_optimizer_layout_is_keras(tmp_path):
    model, z, meta = _model("mixed_float16_mlp")
    model.compile(optimizer=gkeras.optimizers.SGD(0.1),
                  loss="categorical_crossentropy")
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    with h5py.File(path, "r") as f:
        got = {f"optimizer/{g}/{k}": float(np.asarray(v))
               for g in ("vars", "inner_optimizer/vars")
               if f"optimizer/{g}" in f
               for k, v in f[f"optimizer/{g}"].items()}
    want = {k: v[1] for k, v in meta["saved"]["weights_h5_optimizer"].items()}
    # Before the first step Keras has no step_counter/dynamic_scale yet;
    # gkeras's optimizer is built at compile, so it writes them too.
    assert {k: got[k] for k in want} == pytest.approx(want)


def test_bfloat16_variables_save_as_keras_does(tmp_path):
    """A pure bfloat16 policy keeps bfloat16 variables; HDF5 has no
    bfloat16, so (as Keras) the raw values are stored with a `dtype`
    attribute saying so, and read back exactly."""
    model = gkeras.Sequential([gkeras.Input((3,)),
                               layers.Dense(2, dtype="bfloat16")])
    kernel = model.layers[0].kernel
    assert kernel.dtype == backend.bfloat16()
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    with h5py.File(path, "r") as f:
        ds = f["layers/dense/vars/0"]
        assert ds.attrs["dtype"] == "bfloat16" and ds.dtype.itemsize == 2
    again = gkeras.Sequential([gkeras.Input((3,)),
                               layers.Dense(2, dtype="bfloat16")])
    again.load_weights(path)
    np.testing.assert_array_equal(
        again.layers[0].kernel.numpy().astype(np.float32),
        kernel.numpy().astype(np.float32))


def _layer_stacks():
    L = layers

    def mha():
        inp = gkeras.Input((5, 8))
        a = L.MultiHeadAttention(2, 4)(inp, inp)
        o = L.LayerNormalization()(L.Add()([inp, a]))
        return gkeras.Model(inp, L.Dense(2)(L.GlobalAveragePooling1D()(o)))

    return {
        "conv1d": lambda: gkeras.Sequential([
            gkeras.Input((10, 3)), L.Conv1D(4, 3, padding="same"),
            L.GlobalAveragePooling1D(), L.Dense(2)]),
        "conv2d_pool": lambda: gkeras.Sequential([
            gkeras.Input((8, 8, 2)), L.Conv2D(3, 3), L.AveragePooling2D(2),
            L.Flatten(), L.Dense(2)]),
        "separable_depthwise_transpose": lambda: gkeras.Sequential([
            gkeras.Input((8, 8, 2)), L.SeparableConv2D(3, 3),
            L.DepthwiseConv2D(3), L.Conv2DTranspose(2, 3, strides=2),
            L.GlobalMaxPooling2D(), L.Dense(2)]),
        "gru_simple_rnn": lambda: gkeras.Sequential([
            gkeras.Input((5, 3)), L.GRU(4, return_sequences=True),
            L.SimpleRNN(3), L.Dense(2)]),
        "bidirectional_lstm": lambda: gkeras.Sequential([
            gkeras.Input((5, 3)), L.Bidirectional(L.LSTM(3)), L.Dense(2)]),
        "embedding_mask_lstm": lambda: gkeras.Sequential([
            gkeras.Input((6,), dtype="int32"),
            L.Embedding(10, 4, mask_zero=True), L.LSTM(3), L.Dense(2)]),
        "batchnorm_dropout": lambda: gkeras.Sequential([
            gkeras.Input((6,)), L.Dense(5), L.BatchNormalization(),
            L.Dropout(0.2), L.Dense(2)]),
        "activations": lambda: gkeras.Sequential([
            gkeras.Input((6,)), L.Dense(5), L.PReLU(), L.LeakyReLU(),
            L.ELU(), L.Dense(2)]),
        "group_rms_norm": lambda: gkeras.Sequential([
            gkeras.Input((6, 4)), L.GroupNormalization(2),
            L.RMSNormalization(), L.Flatten(), L.Dense(2)]),
        "attention_layernorm": mha,
    }


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("name", sorted(_layer_stacks()))
def test_layers_run_under_mixed_policies(policy, name):
    """Each layer family predicts within the policy's tolerance of the same
    weights in float32 (itself checked against Keras in
    test_keras_fixtures.py), in the compute dtype, with float32 variables,
    and trains a finite step."""
    build = _layer_stacks()[name]
    gkeras.mixed_precision.set_global_policy(policy)
    model = build()
    gkeras.mixed_precision.set_global_policy("float32")
    ref = build()
    ref.set_weights(model.get_weights())
    rng = np.random.default_rng(0)
    spec = model.inputs[0]
    x = (rng.integers(0, 10, (4,) + tuple(spec.shape[1:])).astype("int32")
         if spec.dtype == "int32" else
         rng.random((4,) + tuple(spec.shape[1:])).astype("float32"))
    got = model.predict(x, verbose=0)
    assert str(got.dtype) == policy[6:]
    want = ref.predict(x, verbose=0)
    tol = {"mixed_float16": {"rtol": 1e-2, "atol": 1e-3},
           "mixed_bfloat16": {"rtol": 3e-2, "atol": 1e-2}}[policy]
    _within(got, want, tol, name)
    model.compile("adam", "mse")
    loss = model.train_on_batch(x, rng.random((4, 2)).astype("float32"))
    assert np.isfinite(loss)
    assert {str(w.dtype) for w in model.weights} == {"float32"}


def test_h5_training_config_optimizer_is_keras():
    """The legacy file stores the LossScaleOptimizer compile wrapped around
    the given SGD, exactly as Keras writes it (the .keras file stores the
    SGD)."""
    from gkeras.saving.legacy_h5 import training_config_json
    backend.clear_session()  # optimizer names start from `sgd` again
    model, z, meta = _model("mixed_float16_mlp")
    model.compile(optimizer=gkeras.optimizers.SGD(float(z["lr"])),
                  loss="categorical_crossentropy")
    got = json.loads(training_config_json(model))["optimizer_config"]
    assert got == meta["saved"]["h5_training_config_optimizer"]
    assert model.get_compile_config()["optimizer"] == \
        meta["saved"]["keras_compile_config_optimizer"]


def test_every_float_argument_takes_the_compute_dtype():
    rng = np.random.default_rng(2)
    q = rng.random((2, 3, 4)).astype("float32")
    v = rng.random((2, 5, 4)).astype("float32")
    mha = layers.MultiHeadAttention(2, 2, dtype="mixed_float16")
    assert mha(q, v).dtype == np.float16
    lstm = layers.LSTM(3, dtype="mixed_bfloat16")
    h0 = gkeras.ops.convert_to_tensor(rng.random((2, 3)).astype("float32"))
    out = lstm(q, initial_state=[h0, h0])
    assert out.dtype == backend.bfloat16()


@pytest.mark.parametrize("half", ["float16", "bfloat16"])
def test_cpu_half_primitives_accumulate_in_float32_and_round(half):
    """On NumPy a half-precision primitive computes in float32 and rounds
    its result (and its input gradients) once: exactly float32 math on the
    half inputs, rounded."""
    rng = np.random.default_rng(3)
    a = ops.cast(rng.normal(size=(5, 64)).astype("float32"), half)
    b = ops.cast(rng.normal(size=(64, 3)).astype("float32"), half)
    dt = backend.to_dtype(half)
    a32 = np.asarray(a.numpy()).astype(np.float32)
    b32 = np.asarray(b.numpy()).astype(np.float32)
    with gkeras.GradientTape() as tape:
        tape.watch(a)
        y = ops.matmul(a, b)
        loss = ops.sum(ops.cast(y, "float32"))
    assert y.dtype == dt
    np.testing.assert_array_equal(np.asarray(y.numpy()),
                                  (a32 @ b32).astype(dt))
    (ga,) = tape.gradient(loss, [a])
    assert ga.dtype == dt
    want = (np.ones((5, 3), np.float32) @ b32.T).astype(dt)
    np.testing.assert_array_equal(np.asarray(ga), want)


def test_bfloat16_on_cupy_is_a_clear_not_implemented_error():
    from gkeras.ops.autocast import AutocastScope
    from gkeras.ops.core import check_half_supported

    class FakeCupyArray:  # what backend.is_cupy_array recognizes
        dtype = np.dtype("float32")
    FakeCupyArray.__module__ = "cupy._core.core"
    with pytest.raises(NotImplementedError, match="CuPy has no bfloat16"):
        check_half_supported("bfloat16", FakeCupyArray())
    with pytest.raises(NotImplementedError, match="mixed_float16"):
        AutocastScope("bfloat16").maybe_cast(FakeCupyArray())
    check_half_supported("float16", FakeCupyArray())  # float16 is fine


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_float_valued_ops_keep_half_dtypes(dtype):
    # bfloat16 has NumPy kind "V": the integer-to-floatx promotion of the
    # float-valued ops once turned it into float32, so a mixed_bfloat16
    # Dense(activation="softmax") returned float32 where Keras returns
    # bfloat16.
    from gkeras import ops
    x = ops.cast(np.linspace(-2.0, 2.0, 6).reshape(2, 3), dtype)
    for name in ("softmax", "log_softmax", "sigmoid", "elu", "leaky_relu",
                 "gelu", "silu", "softplus", "sparse_plus", "log_sigmoid"):
        y = getattr(ops, name)(x)
        assert str(y.dtype) == dtype, (name, y.dtype)
    ref = np.exp(np.linspace(-2.0, 2.0, 6).reshape(2, 3))
    ref = ref / ref.sum(-1, keepdims=True)
    got = np.asarray(ops.softmax(x), dtype=np.float64)
    np.testing.assert_allclose(got, ref, atol=2e-2 if dtype == "bfloat16"
                               else 2e-3)


@pytest.mark.parametrize("name", ["QuantizedDTypePolicy", "AWQDTypePolicy",
                                  "GPTQDTypePolicy", "Int4DTypePolicy",
                                  "QuantizedFloat8DTypePolicy",
                                  "DTypePolicyMap"])
def test_quantized_policy_names_exist_and_say_why(name):
    cls = getattr(dtype_policies, name)
    with pytest.raises(NotImplementedError, match="quantized"):
        cls("int8_from_float32")

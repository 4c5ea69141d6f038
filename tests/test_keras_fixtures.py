"""gkeras against files written by the real Keras (../shared/fixtures/keras).

For each case: rebuild the architecture from the legacy .h5's
`model_config` (exercising `from_config`), load the saved weights from
the .npz (in `model.weights` order), and compare predictions, per-layer
outputs, the training-mode loss of one `train_on_batch` with plain SGD,
the post-step trainable weights and BatchNormalization's moving
statistics with what Keras computed.
"""

import json
import os

import numpy as np
import pytest

import gkeras

from keras_fixtures import FIXTURES, case_names

CASES = case_names(mixed=False)


def _load(case):
    h5py = pytest.importorskip("h5py")
    path = os.path.join(FIXTURES, case + ".npz")
    if not os.path.exists(path):
        pytest.fail(f"fixture {path} is missing: copy the case from "
                    "../shared/fixtures/keras into tests/fixtures/keras")
    data = np.load(path)
    meta = json.loads(str(data["meta"]))
    with h5py.File(os.path.join(FIXTURES, case + ".h5"), "r") as f:
        config = json.loads(f.attrs["model_config"])
    return data, meta, config


def _indexed(data, prefix):
    out, i = [], 0
    while f"{prefix}_{i:03d}" in data:
        out.append(data[f"{prefix}_{i:03d}"])
        i += 1
    return out


def _inputs(data, meta):
    xs = [data[k] for k in meta["input_keys"]]
    return xs[0] if len(xs) == 1 else xs


def _targets(data, meta):
    ys = [data[k] for k in meta["target_keys"]]
    return ys[0] if len(ys) == 1 else ys


def build_model(case):
    data, meta, config = _load(case)
    missing = sorted({l["class_name"] for l in meta["layers"]
                      if not hasattr(gkeras.layers, l["class_name"])})
    if missing:
        pytest.skip(f"gkeras does not implement {missing} yet")
    model = gkeras.models.model_from_json(json.dumps(config))
    model.set_weights(_indexed(data, "weight"))
    return model, data, meta


@pytest.mark.parametrize("case", CASES)
def test_predict_matches_keras(case):
    model, data, meta = build_model(case)
    pred = model.predict(_inputs(data, meta), verbose=0)
    preds = pred if isinstance(pred, list) else [pred]
    for p, key in zip(preds, meta["output_keys"]):
        np.testing.assert_allclose(p, data[key], atol=2e-6, rtol=1e-5)


@pytest.mark.parametrize("case", CASES)
def test_weight_order_and_names_match_keras(case):
    model, data, meta = build_model(case)
    # The owning layer is the model's top-level layer (a sub-layer's
    # weight, e.g. multi_head_attention/query/kernel, belongs to it).
    owner = {id(w): l.name for l in model.layers for w in l.weights}
    got = [(owner.get(id(w)), w.name, tuple(w.shape))
           for w in model.weights]
    want = [(w["layer"], w["name"], tuple(w["shape"]))
            for w in meta["weights"]]
    assert got == want
    for w, m in zip(model.weights, meta["weights"]):
        tail = m["path"].split("/", 1)[-1]
        assert w.path.endswith(tail), (w.path, m["path"])
    assert [l.name for l in model.layers
            if type(l).__name__ != "InputLayer"] == \
        [l["name"] for l in meta["layers"]]


@pytest.mark.parametrize("case", CASES)
def test_layer_outputs_match_keras(case):
    model, data, meta = build_model(case)
    names = json.loads(str(data["layer_names"]))
    outs = dict(zip(names, _indexed(data, "layer_out")))
    x = _inputs(data, meta)
    for layer in model.layers:
        if layer.name not in outs:
            continue
        probe = gkeras.Model(model.inputs, layer.output)
        got = probe.predict(x, verbose=0)
        np.testing.assert_allclose(got, outs[layer.name], atol=2e-6,
                                   rtol=1e-5, err_msg=layer.name)


@pytest.mark.parametrize("case", CASES)
def test_one_sgd_step_matches_keras(case):
    model, data, meta = build_model(case)
    if not meta["train_check"]:
        assert "dropout" in case
        return
    lr = float(data["lr"])
    loss = data["loss_name"]
    loss = [str(l) for l in loss] if loss.ndim else str(loss)
    model.compile(optimizer=gkeras.optimizers.SGD(learning_rate=lr),
                  loss=loss, loss_weights=meta["loss_weights"])
    got_loss = model.train_on_batch(_inputs(data, meta),
                                    _targets(data, meta))
    got_loss = got_loss[0] if isinstance(got_loss, list) else got_loss
    np.testing.assert_allclose(got_loss, float(data["loss"]), rtol=1e-5,
                               atol=1e-6)
    paths = json.loads(str(data["trainable_paths"]))
    after = _indexed(data, "trainable_after")
    tw = model.trainable_weights
    assert len(tw) == len(after) == len(paths)
    for w, want, p in zip(tw, after, paths):
        np.testing.assert_allclose(w.numpy(), want, atol=2e-6, rtol=1e-5,
                                   err_msg=p)
    nt_after = _indexed(data, "non_trainable_after")
    for w, want in zip(model.non_trainable_weights, nt_after):
        np.testing.assert_allclose(w.numpy(), want, atol=2e-6, rtol=1e-5)


@pytest.mark.parametrize("case", CASES)
def test_gradients_match_keras(case):
    """d loss / d weights and d loss / d x against Keras's stored values."""
    model, data, meta = build_model(case)
    if not meta["train_check"]:
        return
    from gkeras.ops.engine import GradientTape, Tensor
    names = data["loss_name"]
    names = [str(n) for n in names] if names.ndim else [str(names)]
    weights = meta["loss_weights"] or [1.0] * len(names)
    xs = [Tensor(np.array(data[k])) for k in meta["input_keys"]]
    ys = [data[k] for k in meta["target_keys"]]
    float_xs = [x for x in xs if x.data.dtype.kind == "f"]
    with GradientTape() as tape:
        for x in float_xs:
            tape.watch(x)
        pred = model(xs[0] if len(xs) == 1 else xs, training=True)
        preds = pred if isinstance(pred, (list, tuple)) else [pred]
        loss = None
        for name, wt, y, p in zip(names, weights, ys, preds):
            term = gkeras.ops.multiply(
                gkeras.ops.mean(gkeras.losses.get(name)(y, p)), float(wt))
            loss = term if loss is None else gkeras.ops.add(loss, term)
    srcs = list(model.trainable_weights) + float_xs
    grads = tape.gradient(loss, srcs)
    for g, want in zip(grads, _indexed(data, "grad")):
        np.testing.assert_allclose(g, want, atol=2e-6, rtol=1e-4)
    gx_keys = ["grad_x"] if "grad_x" in data else \
        [f"grad_x_{i}" for i in range(len(xs))]
    for g, key in zip(grads[len(model.trainable_weights):], gx_keys):
        if key in data:
            np.testing.assert_allclose(g, data[key], atol=2e-6, rtol=1e-4)


def test_fixture_copy_matches_shared():
    """The in-repository copy equals ../shared/fixtures/keras, case by case.

    Only runs its comparison where the shared folder sits beside the
    checkout (a bare clone has just the copy); cases present in shared but
    not yet copied are allowed, so new cases can land in shared first.
    """
    from keras_fixtures import SHARED_FIXTURES, manifest_cases
    if not os.path.isdir(SHARED_FIXTURES):
        pytest.skip("no ../shared/fixtures/keras beside this checkout")
    shared = {c["case"]: c for c in manifest_cases(SHARED_FIXTURES)}
    for case in manifest_cases():
        name = case["case"]
        assert name in shared, f"case {name!r} is not in {SHARED_FIXTURES}"
        assert case == shared[name], f"manifest entry of {name!r} drifted"
        for fname in case["files"].values():
            with open(os.path.join(FIXTURES, fname), "rb") as a, \
                    open(os.path.join(SHARED_FIXTURES, fname), "rb") as b:
                assert a.read() == b.read(), f"{fname} differs from shared"

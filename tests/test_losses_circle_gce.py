"""Circle and CategoricalGeneralizedCrossEntropy (keras.losses): values
against a NumPy float64 reimplementation and against numbers recorded from
Keras 3.15.1 (JAX backend), reductions, sample weights, gradients,
configs, and training."""

import numpy as np
import pytest

import gkeras
from gkeras import losses, ops
from harness import check_grad

# Recorded with Keras 3.15.1 (KERAS_BACKEND=jax).
EMB = np.array([
    [0.186517, -0.195973, 0.950047, 0.155616],
    [-0.308495, 0.208245, 0.750981, 0.545429],
    [-0.446269, -0.802458, -0.395245, 0.026207],
    [-0.846606, -0.079668, -0.453669, -0.266638],
    [-0.42338, -0.24605, 0.320208, 0.810972],
    [-0.082121, 0.873039, -0.424996, 0.224581]], dtype="float32")
LAB = np.array([0, 0, 1, 1, 2, 0])
KERAS_CIRCLE = [181.38262939453125, 99.20588684082031, 0.3490169644355774,
                0.34576839208602905, 0.0, 180.69851684570312]
KERAS_CIRCLE_G10 = [25.097902297973633, 14.36185359954834, 2.577016830444336,
                    2.3143789768218994, 4.596806526184082, 24.386137008666992]
KERAS_CIRCLE_REF = [13.599407196044922, 61.60023498535156,
                    192.09983825683594, 127.8811264038086, 62.22007751464844,
                    180.69850158691406]
PROBS = np.array([
    [0.668451, 0.159131, 0.172418], [0.474802, 0.442276, 0.082922],
    [0.106856, 0.620212, 0.272931], [0.272577, 0.334459, 0.392964],
    [0.643884, 0.033795, 0.32232]], dtype="float32")
GCE_Y = np.array([0, 2, 1, 1, 0])
KERAS_GCE_Q03 = [0.37940719723701477, 1.7539787292480469, 0.4450432360172272,
                 0.9334971308708191, 0.4124041199684143]


def np_circle(labels, emb, ref_labels=None, ref=None, gamma=80.0,
              margin=0.4, remove_diagonal=True):
    """Circle loss per sample in float64, straight from the paper's form."""
    emb = np.asarray(emb, np.float64)
    ref = emb if ref is None else np.asarray(ref, np.float64)
    ref_labels = labels if ref_labels is None else ref_labels
    dist = np.maximum(1.0 - emb @ ref.T, 0.0)
    pos = labels[:, None] == ref_labels[None, :]
    neg = ~pos
    if remove_diagonal:
        pos &= ~np.eye(len(labels), len(ref_labels), dtype=bool)
    out = []
    for i in range(len(labels)):
        ap = np.maximum(margin + dist[i], 0.0)
        an = np.maximum(1 + margin - dist[i], 0.0)
        sp = -gamma * ap * (margin - dist[i])
        sn = gamma * an * (1 - margin - dist[i])
        lp = (np.logaddexp.reduce(sp[pos[i]]) if pos[i].any() else -np.inf)
        ln = (np.logaddexp.reduce(sn[neg[i]]) if neg[i].any() else -np.inf)
        out.append(np.logaddexp(0.0, lp + ln))
    return np.array(out)


def np_gce(labels, probs, q):
    p = np.asarray(probs, np.float64)[np.arange(len(labels)), labels]
    return (1 - p ** q) / q


def test_circle_function_matches_numpy_and_keras():
    got = ops.convert_to_numpy(losses.circle(LAB, EMB))
    np.testing.assert_allclose(got, np_circle(LAB, EMB), rtol=1e-4,
                               atol=1e-4)
    np.testing.assert_allclose(got, KERAS_CIRCLE, rtol=1e-4, atol=1e-4)
    got = ops.convert_to_numpy(losses.circle(
        LAB, EMB, gamma=10, margin=0.25, remove_diagonal=False))
    np.testing.assert_allclose(got, np_circle(LAB, EMB, gamma=10,
                                              margin=0.25,
                                              remove_diagonal=False),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got, KERAS_CIRCLE_G10, rtol=1e-5)


def test_circle_reference_embeddings():
    rl = np.array([0, 1, 2])
    got = ops.convert_to_numpy(losses.circle(
        LAB, EMB, ref_labels=rl, ref_embeddings=EMB[:3],
        remove_diagonal=False))
    np.testing.assert_allclose(got, KERAS_CIRCLE_REF, rtol=1e-4)
    np.testing.assert_allclose(
        got, np_circle(LAB, EMB, rl, EMB[:3], remove_diagonal=False),
        rtol=1e-4)


def test_circle_class_reductions_and_mask():
    per = np_circle(LAB, EMB)
    # The zero-loss sample (no positive pair) is masked out of the mean.
    assert float(losses.Circle()(LAB, EMB)) == pytest.approx(
        per.sum() / np.count_nonzero(per), rel=1e-5)
    assert float(losses.Circle()(LAB, EMB)) == pytest.approx(
        92.3963623046875, rel=1e-5)  # Keras 3.15.1
    assert float(losses.Circle(reduction="sum")(LAB, EMB)) == pytest.approx(
        461.9818115234375, rel=1e-5)
    sw = np.array([1, 2, 0, 1, 1, 3.0])
    per4 = np_circle(LAB, EMB, gamma=4.0)
    mask = per4 > 0
    ref = (per4 * sw * mask).sum() * len(per4) / mask.sum() / len(per4)
    got = float(losses.Circle(gamma=4.0)(LAB, EMB, sample_weight=sw))
    assert got == pytest.approx(ref, rel=1e-5)
    assert got == pytest.approx(10.237536430358887, rel=1e-5)  # Keras
    none = losses.Circle(reduction=None)(LAB, EMB)
    assert tuple(none.shape) == (6,)


def test_circle_gradient_finite_differences():
    rng = np.random.default_rng(3)
    emb = rng.normal(size=(5, 3))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    labels = np.array([0, 0, 1, 1, 2])  # sample 4 has no positive pair
    check_grad(lambda e: losses.circle(labels, e, gamma=2.0), emb,
               atol=1e-5, rtol=1e-4)
    # No NaN for the row without positives (Keras's form gives 0 * inf).
    x = gkeras.Variable(emb.astype("float32"))
    from gkeras.ops.engine import GradientTape
    with GradientTape() as tape:
        loss = losses.Circle()(labels, x)
    (g,) = tape.gradient(loss, [x])
    assert np.all(np.isfinite(ops.convert_to_numpy(g)))


def test_circle_config_roundtrip():
    loss = losses.Circle(gamma=32.0, margin=0.3, remove_diagonal=False,
                         reduction="sum", name="c")
    cfg = loss.get_config()
    assert cfg == {"name": "c", "reduction": "sum", "gamma": 32.0,
                   "margin": 0.3, "remove_diagonal": False}
    # Keras 3.15.1's default config, key for key.
    assert losses.Circle().get_config() == {
        "name": "circle", "reduction": "sum_over_batch_size", "gamma": 80.0,
        "margin": 0.4, "remove_diagonal": True}
    again = losses.deserialize(losses.serialize(loss))
    assert isinstance(again, losses.Circle)
    assert again.get_config() == cfg
    assert losses.get("circle") is losses.circle


def test_gce_function_matches_numpy_and_keras():
    got = ops.convert_to_numpy(losses.categorical_generalized_cross_entropy(
        GCE_Y, PROBS, q=0.3))
    np.testing.assert_allclose(got, np_gce(GCE_Y, PROBS, 0.3), rtol=1e-5)
    np.testing.assert_allclose(got, KERAS_GCE_Q03, rtol=1e-5)
    # (batch, 1) labels, as Keras's docstring allows.
    got1 = losses.categorical_generalized_cross_entropy(GCE_Y[:, None],
                                                        PROBS, q=0.3)
    np.testing.assert_allclose(ops.convert_to_numpy(got1), got, rtol=1e-6)


def test_gce_class_reductions_weights_config():
    sw = np.array([1, 0, 2, 1, 1.0])
    got = float(losses.CategoricalGeneralizedCrossEntropy(q=0.7)(
        GCE_Y, PROBS, sample_weight=sw))
    assert got == pytest.approx((np_gce(GCE_Y, PROBS, 0.7) * sw).sum() / 5,
                                rel=1e-5)
    assert got == pytest.approx(0.4613671898841858, rel=1e-5)  # Keras
    got = float(losses.CategoricalGeneralizedCrossEntropy(
        reduction="mean_with_sample_weight")(GCE_Y, PROBS, sample_weight=sw))
    assert got == pytest.approx(
        (np_gce(GCE_Y, PROBS, 0.5) * sw).sum() / sw.sum(), rel=1e-5)
    loss = losses.CategoricalGeneralizedCrossEntropy(q=0.25, name="g")
    assert loss.get_config() == {"name": "g",
                                 "reduction": "sum_over_batch_size",
                                 "q": 0.25}
    assert losses.deserialize(losses.serialize(loss)).q == 0.25
    with pytest.raises(ValueError, match="q=1.5"):
        losses.CategoricalGeneralizedCrossEntropy(q=1.5)


def test_gce_gradient_finite_differences():
    check_grad(lambda p: losses.categorical_generalized_cross_entropy(
        GCE_Y, p, q=0.4), PROBS.astype(np.float64))


@pytest.mark.parametrize("loss", ["circle", "gce"])
def test_model_trains_with_new_losses(loss):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("int32") + (x[:, 1] > 0).astype("int32")
    gkeras.utils.set_random_seed(1)
    if loss == "circle":
        model = gkeras.Sequential([gkeras.Input((6,)),
                                   gkeras.layers.Dense(8),
                                   gkeras.layers.UnitNormalization()])
        model.compile(optimizer=gkeras.optimizers.Adam(0.01),
                      loss=losses.Circle(gamma=16.0))
    else:
        model = gkeras.Sequential([gkeras.Input((6,)),
                                   gkeras.layers.Dense(3,
                                                       activation="softmax")])
        model.compile(optimizer=gkeras.optimizers.Adam(0.05),
                      loss=losses.CategoricalGeneralizedCrossEntropy())
    hist = model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    h = hist.history["loss"]
    assert np.all(np.isfinite(h)) and h[-1] < h[0]

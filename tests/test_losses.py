"""Losses vs float64 NumPy formulas; reductions, weights, masks, grads."""

import numpy as np
import pytest

from gkeras import losses
from gkeras.ops import GradientTape
from gkeras.ops.variable import Variable

EPS = 1e-7
RNG = np.random.default_rng(0)
YT = RNG.random((6, 4)).astype(np.float32)
YP = RNG.random((6, 4)).astype(np.float32) + 0.05
ONEHOT = np.eye(4, dtype=np.float32)[RNG.integers(0, 4, 6)]
LOGITS = RNG.standard_normal((6, 4)).astype(np.float32)
PROBS = np.exp(LOGITS) / np.exp(LOGITS).sum(-1, keepdims=True)
BIN = (RNG.random((6, 4)) < 0.5).astype(np.float32)


def f(x):
    return np.asarray(x, dtype=np.float64)


def np_cce(y, p):
    p = p / p.sum(-1, keepdims=True)
    p = np.clip(p, EPS, 1 - EPS)
    return -(y * np.log(p)).sum(-1)


def np_bce(y, p):
    p = np.clip(p, EPS, 1 - EPS)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(-1)


def test_regression_losses():
    t, p = YT.astype(np.float64), YP.astype(np.float64)
    e = t - p
    cases = [
        (losses.MeanSquaredError(), (e ** 2).mean(-1)),
        (losses.MeanAbsoluteError(), np.abs(e).mean(-1)),
        (losses.MeanAbsolutePercentageError(),
         100 * np.abs(e / np.maximum(np.abs(t), EPS)).mean(-1)),
        (losses.MeanSquaredLogarithmicError(),
         ((np.log(p + 1) - np.log(t + 1)) ** 2).mean(-1)),
        (losses.LogCosh(), np.log(np.cosh(-e)).mean(-1)),
        (losses.Huber(delta=0.3), np.where(
            np.abs(e) <= 0.3, 0.5 * e ** 2,
            0.3 * np.abs(e) - 0.5 * 0.09).mean(-1)),
        (losses.CosineSimilarity(), -(t * p).sum(-1) / np.linalg.norm(
            t, axis=-1) / np.linalg.norm(p, axis=-1)),
        (losses.Poisson(), (p - t * np.log(p + EPS)).mean(-1)),
        (losses.KLDivergence(), (np.clip(t, EPS, 1) * np.log(
            np.clip(t, EPS, 1) / np.clip(p, EPS, 1))).sum(-1)),
    ]
    for loss, want in cases:
        np.testing.assert_allclose(f(loss(YT, YP)), want.mean(), rtol=1e-5,
                                   err_msg=loss.name)
        loss_none = type(loss).from_config({**loss.get_config(),
                                            "reduction": "none"})
        np.testing.assert_allclose(f(loss_none(YT, YP)), want, rtol=1e-5,
                                   atol=1e-7, err_msg=loss.name)


def test_hinge_losses():
    y = BIN.astype(np.float64) * 2 - 1
    p = LOGITS.astype(np.float64)
    np.testing.assert_allclose(f(losses.hinge(BIN, LOGITS)),
                               np.maximum(1 - y * p, 0).mean(-1), rtol=1e-5)
    np.testing.assert_allclose(f(losses.squared_hinge(BIN, LOGITS)),
                               (np.maximum(1 - y * p, 0) ** 2).mean(-1),
                               rtol=1e-5)
    pos = (ONEHOT * p).sum(-1)
    neg = ((1 - ONEHOT) * p).max(-1)
    np.testing.assert_allclose(f(losses.categorical_hinge(ONEHOT, LOGITS)),
                               np.maximum(neg - pos + 1, 0), rtol=1e-5)


def test_crossentropies():
    np.testing.assert_allclose(
        f(losses.categorical_crossentropy(ONEHOT, PROBS)),
        np_cce(ONEHOT, PROBS.astype(np.float64)), rtol=1e-5)
    np.testing.assert_allclose(
        f(losses.categorical_crossentropy(ONEHOT, LOGITS, from_logits=True)),
        np_cce(ONEHOT, PROBS.astype(np.float64)), rtol=1e-4)
    labels = ONEHOT.argmax(-1)
    np.testing.assert_allclose(
        f(losses.SparseCategoricalCrossentropy(from_logits=True)(labels,
                                                                 LOGITS)),
        np_cce(ONEHOT, PROBS.astype(np.float64)).mean(), rtol=1e-4)
    np.testing.assert_allclose(
        f(losses.sparse_categorical_crossentropy(labels[:, None], PROBS)),
        np_cce(ONEHOT, PROBS.astype(np.float64)), rtol=1e-5)
    sig = 1 / (1 + np.exp(-LOGITS.astype(np.float64)))
    np.testing.assert_allclose(f(losses.BinaryCrossentropy()(BIN, sig)),
                               np_bce(BIN, sig).mean(), rtol=1e-5)
    np.testing.assert_allclose(
        f(losses.BinaryCrossentropy(from_logits=True)(BIN, LOGITS)),
        np_bce(BIN, sig).mean(), rtol=1e-4)
    # unnormalised probabilities are renormalised before clipping
    np.testing.assert_allclose(
        f(losses.categorical_crossentropy(ONEHOT, PROBS * 3)),
        np_cce(ONEHOT, PROBS.astype(np.float64)), rtol=1e-5)


def test_label_smoothing():
    ls = 0.2
    y = ONEHOT * (1 - ls) + ls / 4
    np.testing.assert_allclose(
        f(losses.CategoricalCrossentropy(label_smoothing=ls)(ONEHOT, PROBS)),
        np_cce(y, PROBS.astype(np.float64)).mean(), rtol=1e-5)
    yb = BIN * (1 - ls) + 0.5 * ls
    np.testing.assert_allclose(
        f(losses.BinaryCrossentropy(label_smoothing=ls)(BIN, PROBS)),
        np_bce(yb, PROBS.astype(np.float64)).mean(), rtol=1e-5)


def test_focal():
    p = np.clip(PROBS.astype(np.float64), EPS, 1 - EPS)
    y = BIN.astype(np.float64)
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    pt = y * p + (1 - y) * (1 - p)
    w = y * 0.25 + (1 - y) * 0.75
    want = (w * (1 - pt) ** 2 * bce).mean(-1).mean()
    got = losses.BinaryFocalCrossentropy(apply_class_balancing=True)(BIN,
                                                                      PROBS)
    np.testing.assert_allclose(f(got), want, rtol=1e-5)


def test_reductions_and_sample_weight():
    per = ((YT - YP).astype(np.float64) ** 2).mean(-1)
    sw = np.array([1, 0, 2, 0.5, 1, 0], np.float32)
    for red, want in [("sum", (per * sw).sum()),
                      ("sum_over_batch_size", (per * sw).sum() / 6),
                      ("mean", (per * sw).sum() / 6),
                      ("mean_with_sample_weight",
                       (per * sw).sum() / sw.sum())]:
        got = losses.MeanSquaredError(reduction=red)(YT, YP, sample_weight=sw)
        np.testing.assert_allclose(f(got), want, rtol=1e-5, err_msg=red)
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="avg")
    # (B, T) per-step losses are averaged over B*T
    y3 = YT.reshape(2, 3, 4)
    p3 = YP.reshape(2, 3, 4)
    np.testing.assert_allclose(f(losses.MeanSquaredError()(y3, p3)),
                               per.mean(), rtol=1e-5)


def test_mask_on_predictions():
    per = ((YT - YP).astype(np.float64) ** 2).mean(-1)
    mask = np.array([1, 1, 0, 1, 0, 1], bool)
    p = Variable(YP, name="p") * 1.0
    p._keras_mask = mask
    np.testing.assert_allclose(f(losses.MeanSquaredError()(YT, p)),
                               per[mask].mean(), rtol=1e-5)


def test_ignore_class():
    labels = np.array([0, 1, 2, 3, 2, 1])
    got = losses.SparseCategoricalCrossentropy(ignore_class=2)(labels, PROBS)
    per = -np.log(np.clip(PROBS[np.arange(6), labels], EPS, 1 - EPS))
    keep = labels != 2
    np.testing.assert_allclose(f(got), per[keep].mean(), rtol=1e-5)


def test_sparse_labels_out_of_range():
    with pytest.raises(ValueError, match="out of range"):
        losses.sparse_categorical_crossentropy(np.array([0, 4]), PROBS[:2])


def _fd_check(loss_fn, y_true, y_pred, eps=1e-6):
    v = Variable(y_pred.astype(np.float64), dtype="float64", name="p")
    with GradientTape() as tape:
        out = loss_fn(y_true.astype(np.float64), v)
    g = np.asarray(tape.gradient(out, [v])[0])
    num = np.zeros_like(g)
    base = y_pred.astype(np.float64)
    for i in np.ndindex(base.shape):
        for s in (1, -1):
            x = base.copy()
            x[i] += s * eps
            num[i] += s * float(np.asarray(loss_fn(
                y_true.astype(np.float64), x)))
    num /= 2 * eps
    np.testing.assert_allclose(g, num, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("loss", [
    losses.MeanSquaredError(dtype="float64"),
    losses.MeanAbsoluteError(dtype="float64"),
    losses.Huber(dtype="float64"), losses.LogCosh(dtype="float64"),
    losses.CategoricalCrossentropy(dtype="float64"),
    losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1,
                                   dtype="float64"),
    losses.BinaryCrossentropy(dtype="float64"),
    losses.BinaryCrossentropy(from_logits=True, dtype="float64"),
    losses.KLDivergence(dtype="float64"),
    losses.CosineSimilarity(dtype="float64"),
    losses.Poisson(dtype="float64"),
])
def test_gradients_finite_differences(loss):
    y = ONEHOT[:3] if "Categorical" in type(loss).__name__ else \
        BIN[:3] if "Binary" in type(loss).__name__ else YT[:3]
    p = LOGITS[:3] if getattr(loss, "from_logits", False) else \
        PROBS[:3] * 0.9 + 0.02
    _fd_check(loss, y, p)


def test_sparse_gradient():
    labels = np.array([1, 0, 3])
    _fd_check(losses.SparseCategoricalCrossentropy(from_logits=True,
                                                   dtype="float64"),
              labels, LOGITS[:3])


def test_get_and_config():
    assert losses.get("mse") is losses.mean_squared_error
    assert losses.get("categorical_crossentropy") is \
        losses.categorical_crossentropy
    assert isinstance(losses.get("CategoricalCrossentropy"),
                      losses.CategoricalCrossentropy)
    assert losses.get("mae") is losses.mean_absolute_error
    with pytest.raises(ValueError, match="mean_squared_error"):
        losses.get("mean_squared_eror")
    l1 = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    cfg = l1.get_config()
    assert cfg == {"name": "categorical_crossentropy",
                   "reduction": "sum_over_batch_size", "from_logits": True,
                   "label_smoothing": 0.1, "axis": -1}
    l2 = losses.deserialize(losses.serialize(l1))
    assert l2.get_config() == cfg
    w = losses.LossFunctionWrapper(losses.huber, name="h", delta=2.0)
    w2 = losses.LossFunctionWrapper.from_config(w.get_config())
    assert w2.fn is losses.huber and w2._fn_kwargs == {"delta": 2.0}


def _cat_focal_ref(y, p, alpha=0.25, gamma=2.0, smoothing=0.0,
                   logits=False):
    y = np.asarray(y, np.float64)
    p = np.asarray(p, np.float64)
    if smoothing:
        y = y * (1 - smoothing) + smoothing / y.shape[-1]
    if logits:
        e = np.exp(p - p.max(-1, keepdims=True))
        p = e / e.sum(-1, keepdims=True)
    p = np.clip(p / p.sum(-1, keepdims=True), 1e-7, 1 - 1e-7)
    return (alpha * (1 - p) ** gamma * -y * np.log(p)).sum(-1)


@pytest.mark.parametrize("kw", [{}, {"gamma": 0.5, "alpha": 0.5},
                                {"label_smoothing": 0.1},
                                {"from_logits": True, "gamma": 1.0}])
def test_categorical_focal_crossentropy_matches_numpy(kw):
    rng = np.random.default_rng(8)
    y = np.eye(4)[rng.integers(0, 4, 6)]
    x = rng.standard_normal((6, 4)) if kw.get("from_logits") else \
        rng.random((6, 4)) + 0.05
    want = _cat_focal_ref(y, x, kw.get("alpha", 0.25), kw.get("gamma", 2.0),
                          kw.get("label_smoothing", 0.0),
                          kw.get("from_logits", False))
    got = losses.categorical_focal_crossentropy(y, x, **kw)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6)
    loss = losses.CategoricalFocalCrossentropy(**kw)
    np.testing.assert_allclose(float(loss(y, x)), want.mean(), rtol=1e-6)
    clone = losses.get({"class_name": "CategoricalFocalCrossentropy",
                        "config": loss.get_config()})
    np.testing.assert_allclose(float(clone(y, x)), want.mean(), rtol=1e-6)
    # The gradient flows: finite differences on the logits/probabilities.
    v = Variable(x)
    with GradientTape() as tape:
        out = loss(y, v)
    g = np.asarray(tape.gradient(out, v))
    eps = 1e-6
    for i, j in [(0, 1), (3, 2), (5, 0)]:
        xp, xm = x.copy(), x.copy()
        xp[i, j] += eps
        xm[i, j] -= eps
        num = (_cat_focal_ref(y, xp, kw.get("alpha", 0.25),
                              kw.get("gamma", 2.0),
                              kw.get("label_smoothing", 0.0),
                              kw.get("from_logits", False)).mean()
               - _cat_focal_ref(y, xm, kw.get("alpha", 0.25),
                                kw.get("gamma", 2.0),
                                kw.get("label_smoothing", 0.0),
                                kw.get("from_logits", False)).mean())
        np.testing.assert_allclose(g[i, j], num / (2 * eps), rtol=1e-4,
                                   atol=1e-8)


def test_dice_and_tversky_match_numpy_and_differentiate():
    rng = np.random.default_rng(9)
    y = (rng.random((3, 4, 4, 1)) > 0.5).astype(np.float64)
    p = rng.random((3, 4, 4, 1))
    ax = (1, 2, 3)
    inter = (y * p).sum(ax)
    want_dice = 1 - 2 * inter / (y.sum(ax) + p.sum(ax) + 1e-7)
    np.testing.assert_allclose(np.asarray(losses.dice(y, p, axis=ax)),
                               want_dice, rtol=1e-6)
    whole = 1 - 2 * (y * p).sum() / (y.sum() + p.sum() + 1e-7)
    np.testing.assert_allclose(float(losses.Dice()(y, p)), whole, rtol=1e-6)
    missed = ((1 - p) * y).sum(ax)
    spurious = (p * (1 - y)).sum(ax)
    want_tv = 1 - inter / (inter + 0.7 * missed + 0.3 * spurious + 1e-7)
    loss = losses.Tversky(alpha=0.7, beta=0.3, axis=ax)
    np.testing.assert_allclose(float(loss(y, p)), want_tv.mean(), rtol=1e-6)
    # alpha = beta = 1/2 is the Dice loss.
    np.testing.assert_allclose(float(losses.Tversky()(y, p)), whole,
                               rtol=1e-6)
    clone = losses.get({"class_name": "Tversky", "config": loss.get_config()})
    assert (clone.alpha, clone.beta, tuple(clone.axis)) == (0.7, 0.3, ax)
    v = Variable(p)
    with GradientTape() as tape:
        out = losses.Dice()(y, v)
    g = np.asarray(tape.gradient(out, v))
    s = y.sum() + p.sum() + 1e-7
    want_g = -(2 * y * s - 2 * (y * p).sum()) / s ** 2
    np.testing.assert_allclose(g, want_g, rtol=1e-5, atol=1e-9)

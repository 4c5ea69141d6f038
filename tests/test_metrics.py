"""Metrics vs hand computations / NumPy references."""

import numpy as np
import pytest

from gkeras import metrics
from gkeras.ops import Tensor


def f(x):
    return float(np.asarray(x))


def test_mean_sum_weights_and_reset():
    m = metrics.Mean()
    m.update_state([1, 3, 5, 7])
    assert f(m.result()) == 4.0
    m.reset_state()
    m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert f(m.result()) == 2.0
    m.reset_state()
    assert f(m.result()) == 0.0
    s = metrics.Sum()
    s.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert f(s.result()) == 4.0
    assert [v.name for v in metrics.Mean().variables] == ["total", "count"]


def test_accuracy_family():
    assert f(metrics.Accuracy()([[1], [2], [3], [4]],
                                [[0], [2], [3], [4]])) == 0.75
    b = metrics.BinaryAccuracy()
    assert f(b([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])) == 0.75
    b = metrics.BinaryAccuracy(threshold=0.7)
    assert f(b([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])) == 1.0
    c = metrics.CategoricalAccuracy()
    c.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]],
                   sample_weight=[0.7, 0.3])
    assert f(c.result()) == pytest.approx(0.3)
    s = metrics.SparseCategoricalAccuracy()
    assert f(s([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])) == 0.5
    assert f(metrics.SparseCategoricalAccuracy()(
        np.array([2, 1]), np.array([[0.1, 0.6, 0.3], [0.05, 0.95, 0]]))) == 0.5
    t = metrics.TopKCategoricalAccuracy(k=1)
    assert f(t([[0, 0, 1], [0, 1, 0]],
               [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])) == 0.5
    st = metrics.SparseTopKCategoricalAccuracy(k=1)
    assert f(st([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])) == 0.5
    st2 = metrics.SparseTopKCategoricalAccuracy(k=2)
    assert f(st2([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])) == 1.0


def test_tensor_inputs_and_no_graph():
    from gkeras.ops import GradientTape
    from gkeras.ops.variable import Variable
    w = Variable(np.array([[0.2, 0.8]]), name="w")
    m = metrics.CategoricalAccuracy()
    with GradientTape():
        y_pred = w * 1.0
        m.update_state(np.array([[0.0, 1.0]]), y_pred)
    assert f(m.result()) == 1.0
    assert isinstance(y_pred, Tensor)


def test_regression_metrics():
    rng = np.random.default_rng(0)
    yt = rng.random((8, 3)).astype(np.float32)
    yp = rng.random((8, 3)).astype(np.float32)
    sw = rng.random(8).astype(np.float32)
    err = (yt - yp).astype(np.float64)
    mse = (err ** 2).mean(-1)
    assert f(metrics.MeanSquaredError()(yt, yp)) == pytest.approx(mse.mean(),
                                                                  rel=1e-5)
    m = metrics.MeanSquaredError()
    m.update_state(yt, yp, sample_weight=sw)
    assert f(m.result()) == pytest.approx((mse * sw).sum() / sw.sum(),
                                          rel=1e-5)
    assert f(metrics.MeanAbsoluteError()(yt, yp)) == pytest.approx(
        np.abs(err).mean(), rel=1e-5)
    assert f(metrics.RootMeanSquaredError()(yt, yp)) == pytest.approx(
        np.sqrt((err ** 2).mean()), rel=1e-5)
    mape = 100 * np.abs(err / np.maximum(np.abs(yt), 1e-7)).mean()
    assert f(metrics.MeanAbsolutePercentageError()(yt, yp)) == \
        pytest.approx(mape, rel=1e-4)
    msle = ((np.log1p(yp) - np.log1p(yt)) ** 2).mean()
    assert f(metrics.MeanSquaredLogarithmicError()(yt, yp)) == \
        pytest.approx(msle, rel=1e-4)
    cos = (yt * yp).sum(-1) / np.linalg.norm(yt, axis=-1) / \
        np.linalg.norm(yp, axis=-1)
    assert f(metrics.CosineSimilarity()(yt, yp)) == pytest.approx(
        cos.mean(), rel=1e-5)
    assert f(metrics.LogCoshError()(yt, yp)) == pytest.approx(
        np.log(np.cosh(err)).mean(), rel=1e-4)


def test_probabilistic_metrics():
    yt = np.array([[0, 1, 0], [0, 0, 1]], np.float32)
    yp = np.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]], np.float32)
    cce = np.mean([-np.log(0.95), -np.log(0.1)])
    assert f(metrics.CategoricalCrossentropy()(yt, yp)) == \
        pytest.approx(cce, rel=1e-5)
    assert f(metrics.SparseCategoricalCrossentropy()([1, 2], yp)) == \
        pytest.approx(cce, rel=1e-5)
    bt = np.array([[0, 1], [0, 0]], np.float32)
    bp = np.array([[0.6, 0.4], [0.4, 0.6]], np.float32)
    bce = -(bt * np.log(bp) + (1 - bt) * np.log(1 - bp)).mean(-1).mean()
    assert f(metrics.BinaryCrossentropy()(bt, bp)) == pytest.approx(bce,
                                                                    rel=1e-5)
    kl = (np.clip(yt, 1e-7, 1) * np.log(np.clip(yt, 1e-7, 1) /
                                         np.clip(yp, 1e-7, 1))).sum(-1).mean()
    assert f(metrics.KLDivergence()(yt, yp)) == pytest.approx(kl, rel=1e-4)
    po = (yp - yt * np.log(yp + 1e-7)).mean(-1).mean()
    assert f(metrics.Poisson()(yt, yp)) == pytest.approx(po, rel=1e-5)


def test_precision_recall():
    m = metrics.Precision()
    m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert f(m.result()) == pytest.approx(2 / 3)
    m.reset_state()
    m.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
    assert f(m.result()) == 1.0
    r = metrics.Recall()
    r.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert f(r.result()) == pytest.approx(2 / 3)
    p = metrics.Precision(top_k=2)
    p.update_state([0, 0, 1, 1], [1, 1, 1, 1])
    assert f(p.result()) == 0.0
    p = metrics.Precision(class_id=2)
    p.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.2, 0.7], [0.2, 0.1, 0.7]])
    assert f(p.result()) == 0.5
    multi = metrics.Recall(thresholds=[0.3, 0.7])
    multi.update_state([1, 1], [0.5, 0.9])
    np.testing.assert_allclose(np.asarray(multi.result()), [1.0, 0.5])
    tp = metrics.TruePositives()
    tp.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert f(tp.result()) == 2.0


def _exact_auc(y, p, thresholds):
    """Trapezoid over the ROC points at the given thresholds (y_pred >
    threshold is positive)."""
    pts = []
    for t in thresholds:
        pred = p > t
        tp = np.sum(pred & (y == 1))
        fp = np.sum(pred & (y == 0))
        fn = np.sum(~pred & (y == 1))
        tn = np.sum(~pred & (y == 0))
        pts.append((fp / (fp + tn), tp / (tp + fn)))
    pts = np.array(pts)
    return float(np.sum((pts[:-1, 0] - pts[1:, 0]) *
                        (pts[:-1, 1] + pts[1:, 1]) / 2))


def test_auc_roc_and_pr():
    a = metrics.AUC()
    a.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    assert f(a.result()) == pytest.approx(0.75)
    rng = np.random.default_rng(1)
    y = (rng.random(300) < 0.4).astype(np.int64)
    p = np.clip(0.3 * y + 0.7 * rng.random(300), 0, 1).astype(np.float32)
    a = metrics.AUC(num_thresholds=50)
    a.update_state(y[:150], p[:150])
    a.update_state(y[150:], p[150:])
    ths = [-1e-7] + [(i + 1) / 49 for i in range(48)] + [1 + 1e-7]
    assert f(a.result()) == pytest.approx(_exact_auc(y, p, ths), rel=1e-5)
    # with many thresholds the ROC AUC approaches the rank statistic
    a = metrics.AUC(num_thresholds=2000)
    a.update_state(y, p)
    pos, neg = p[y == 1], p[y == 0]
    rank = np.mean(pos[:, None] > neg[None, :]) + 0.5 * np.mean(
        pos[:, None] == neg[None, :])
    assert f(a.result()) == pytest.approx(rank, abs=2e-3)
    pr = metrics.AUC(curve="PR")
    pr.update_state(y, p)
    assert 0.4 < f(pr.result()) <= 1.0
    mn = metrics.AUC(summation_method="minoring")
    mn.update_state(y, p)
    mj = metrics.AUC(summation_method="majoring")
    mj.update_state(y, p)
    assert f(mn.result()) <= f(metrics.AUC()(y, p)) <= f(mj.result())
    cfg = metrics.AUC(curve="PR", thresholds=[0.2, 0.5]).get_config()
    assert cfg["thresholds"] == pytest.approx([0.2, 0.5])
    ml = metrics.AUC(multi_label=True)
    ml.update_state(np.stack([y, 1 - y], 1), np.stack([p, 1 - p], 1))
    assert f(ml.result()) == pytest.approx(f(metrics.AUC()(y, p)), rel=1e-5)


def test_f1_score():
    yt = np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]], np.float32)
    yp = np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]],
                  np.float32)
    m = metrics.F1Score(threshold=0.5)
    np.testing.assert_allclose(np.asarray(m(yt, yp)), [0.5, 0.8, 0.6666667],
                               rtol=1e-5)
    m = metrics.F1Score(average="macro", threshold=0.5)
    assert f(m(yt, yp)) == pytest.approx(np.mean([0.5, 0.8, 2 / 3]),
                                         rel=1e-5)


def test_get_and_resolve():
    for name, cls in [("AUC", metrics.AUC), ("auc", metrics.AUC),
                      ("precision", metrics.Precision),
                      ("recall", metrics.Recall),
                      ("mse", metrics.MeanSquaredError),
                      ("mae", metrics.MeanAbsoluteError),
                      ("binary_accuracy", metrics.BinaryAccuracy),
                      ("categorical_accuracy", metrics.CategoricalAccuracy),
                      ("sparse_categorical_accuracy",
                       metrics.SparseCategoricalAccuracy),
                      ("top_k_categorical_accuracy",
                       metrics.TopKCategoricalAccuracy)]:
        assert type(metrics.get(name)) is cls
    with pytest.raises(ValueError, match="accuracy"):
        metrics.get("acuracy")
    r = metrics.resolve_metric
    yb, pb = np.zeros((4, 1)), np.zeros((4, 1))
    assert type(r("accuracy", yb, pb)) is metrics.BinaryAccuracy
    m = r("acc", np.zeros((4,)), np.zeros((4, 3)))
    assert type(m) is metrics.SparseCategoricalAccuracy and m.name == "acc"
    m = r("accuracy", np.zeros((4, 1)), np.zeros((4, 3)))
    assert type(m) is metrics.SparseCategoricalAccuracy
    m = r("accuracy", np.zeros((4, 3)), np.zeros((4, 3)))
    assert type(m) is metrics.CategoricalAccuracy
    m = r("mse", yb, pb)
    assert type(m) is metrics.MeanSquaredError and m.name == "mse"

    def my_metric(y_true, y_pred):
        return np.abs(np.asarray(y_true) - np.asarray(y_pred))
    m = r(my_metric, yb, pb)
    assert isinstance(m, metrics.MeanMetricWrapper)
    assert m.name == "my_metric"
    assert f(m(np.ones((2, 1)), np.zeros((2, 1)))) == 1.0


def test_config_roundtrip():
    for m in (metrics.BinaryAccuracy(threshold=0.3), metrics.AUC(curve="PR"),
              metrics.Precision(thresholds=0.4), metrics.MeanSquaredError(),
              metrics.TopKCategoricalAccuracy(k=3),
              metrics.CategoricalCrossentropy(from_logits=True)):
        m2 = metrics.deserialize(metrics.serialize(m))
        assert type(m2) is type(m) and m2.get_config() == m.get_config()


def test_sparse_categorical_crossentropy_metric_ignore_class():
    y = np.array([0, 1, 2, 1])
    p = np.array([[.2, .3, .5], [.1, .8, .1], [.3, .3, .4], [.6, .2, .2]],
                 "float32")
    w = np.array([1.0, 2.0, 0.5, 1.0])
    nll = -np.log(p[np.arange(4), y].astype(np.float64))
    valid = y != 0
    m = metrics.SparseCategoricalCrossentropy(ignore_class=0)
    m.update_state(y, p)
    # Keras 3: ignored entries contribute 0 but still count in the mean...
    np.testing.assert_allclose(float(m.result()), (nll * valid).sum() / 4,
                               rtol=1e-6)
    m = metrics.SparseCategoricalCrossentropy(ignore_class=0)
    m.update_state(y, p, sample_weight=w)
    # ...and with sample weights, their weight is zeroed.
    np.testing.assert_allclose(float(m.result()),
                               (nll * w * valid).sum() / (w * valid).sum(),
                               rtol=1e-6)
    cfg = m.get_config()
    assert cfg["ignore_class"] == 0
    assert metrics.SparseCategoricalCrossentropy.from_config(
        cfg).ignore_class == 0


@pytest.mark.parametrize("agg,multioutput", [
    ("uniform_average", "uniform_average"), (None, "raw_values"),
    ("variance_weighted_average", "variance_weighted")])
def test_r2_score_matches_sklearn_over_batches(agg, multioutput):
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(4)
    y = rng.standard_normal((12, 3))
    p = y + 0.5 * rng.standard_normal((12, 3))
    w = rng.random(12)
    m = metrics.R2Score(class_aggregation=agg)
    m.update_state(y[:5], p[:5], sample_weight=w[:5])
    m.update_state(y[5:], p[5:], sample_weight=w[5:])
    want = sk.r2_score(y, p, sample_weight=w, multioutput=multioutput)
    np.testing.assert_allclose(np.asarray(m.result()), want, rtol=1e-5)
    # Adjusted R2 from the plain score, n = 36 entries (Keras counts them).
    adj = metrics.R2Score(class_aggregation=agg, num_regressors=2)
    adj.update_state(y, p, sample_weight=w)
    np.testing.assert_allclose(np.asarray(adj.result()),
                               1 - (1 - want) * 35 / 33, rtol=1e-5)


def test_r2_score_errors_config_and_compile():
    with pytest.raises(ValueError, match="class_aggregation"):
        metrics.R2Score(class_aggregation="mean")
    with pytest.raises(ValueError, match="2D inputs"):
        metrics.R2Score().update_state(np.ones((2, 2, 2)), np.ones((2, 2, 2)))
    cfg = metrics.R2Score(num_regressors=1).get_config()
    assert metrics.R2Score.from_config(cfg).num_regressors == 1
    assert isinstance(metrics.get("r2_score"), metrics.R2Score)
    with pytest.warns(UserWarning, match="More independent predictors"):
        m = metrics.R2Score(num_regressors=5)
        m.update_state(np.array([[1.0], [2.0]]), np.array([[1.0], [3.0]]))
        m.result()


def _iou_ref(y_true, y_pred, n, targets, weights=None, ignore=None):
    """Per-class TP / (TP + FP + FN) by counting, float64."""
    t, p = np.ravel(y_true), np.ravel(y_pred)
    w = np.ones(t.shape) if weights is None else np.ravel(weights) * 1.0
    if ignore is not None:
        w = np.where(t == ignore, 0.0, w)
    ious = []
    for c in targets:
        tp = w[(t == c) & (p == c)].sum()
        union = w[(t == c) | (p == c)].sum()
        if union > 0:
            ious.append(tp / union)
    return np.mean(ious) if ious else 0.0


def test_iou_metrics_match_counting_over_batches():
    rng = np.random.default_rng(12)
    yt = rng.integers(0, 4, (3, 5, 5))
    yp = rng.integers(0, 4, (3, 5, 5))
    w = rng.integers(0, 3, (3, 5, 5))
    m = metrics.MeanIoU(num_classes=4)
    m.update_state(yt[:2], yp[:2])
    m.update_state(yt[2:], yp[2:], sample_weight=w[2:])
    ww = np.concatenate([np.ones_like(w[:2]), w[2:]])
    np.testing.assert_allclose(float(m.result()),
                               _iou_ref(yt, yp, 4, range(4), ww), rtol=1e-5)
    m = metrics.IoU(4, target_class_ids=[1, 3], ignore_class=0)
    m.update_state(yt, yp)
    np.testing.assert_allclose(float(m.result()),
                               _iou_ref(yt, yp, 4, [1, 3], ignore=0),
                               rtol=1e-5)
    scores = rng.random((3, 5, 5, 4))
    onehot = np.eye(4)[yt]
    m = metrics.OneHotMeanIoU(num_classes=4)
    m.update_state(onehot, scores)
    np.testing.assert_allclose(
        float(m.result()), _iou_ref(yt, scores.argmax(-1), 4, range(4)),
        rtol=1e-5)
    m = metrics.OneHotIoU(4, target_class_ids=[2])
    m.update_state(onehot, scores)
    np.testing.assert_allclose(
        float(m.result()), _iou_ref(yt, scores.argmax(-1), 4, [2]),
        rtol=1e-5)
    bt, bp = rng.integers(0, 2, 30), rng.random(30)
    m = metrics.BinaryIoU(threshold=0.3)
    m.update_state(bt, bp)
    np.testing.assert_allclose(float(m.result()),
                               _iou_ref(bt, bp >= 0.3, 2, [0, 1]), rtol=1e-5)
    m.reset_state()
    assert float(np.asarray(m.total_cm.data).sum()) == 0


def test_iou_metrics_config_errors_and_compile():
    cfg = metrics.MeanIoU(3, ignore_class=0).get_config()
    assert cfg["num_classes"] == 3 and cfg["dtype"] == "int32"
    assert metrics.MeanIoU.from_config(cfg).ignore_class == 0
    assert metrics.BinaryIoU.from_config(
        metrics.BinaryIoU(threshold=0.7).get_config()).threshold == 0.7
    with pytest.raises(ValueError, match="Target class id 3 is out of range"):
        metrics.IoU(3, target_class_ids=[3])
    m = metrics.get({"class_name": "MeanIoU", "config": {"num_classes": 2}})
    assert isinstance(m, metrics.MeanIoU)

"""Correlation and operating-point metrics (keras.metrics): values
against NumPy float64 and against numbers recorded from Keras 3.15.1 (JAX)
by the scenario in `_scenario` (the same calls on both libraries),
configs, and use in compile()."""

import numpy as np
import pytest

import gkeras
from gkeras import metrics

# Recorded with Keras 3.15.1 (KERAS_BACKEND=jax), running `_scenario(keras)`.
KERAS = {
    'pearson': 0.9048766493797302,
    'ccc': 0.7202063202857971,
    'pearson_ax0': 0.6702079772949219,
    'ccc_fn': [0.819425106048584, 0.9405516386032104, 0.8980827331542969, 0.6301192045211792],
    'pcc_fn': [0.861175537109375, 0.9723104238510132, 0.9047204852104187, 0.891284167766571],
    'SensitivityAtSpecificity_200': 0.9389825463294983,
    'SensitivityAtSpecificity_7': 0.8303481340408325,
    'SensitivityAtSpecificity_1': 0.8303481340408325,
    'SpecificityAtSensitivity_200': 0.7705957889556885,
    'SpecificityAtSensitivity_7': 0.7705957889556885,
    'SpecificityAtSensitivity_1': 0.7705957889556885,
    'PrecisionAtRecall_200': 0.9501941800117493,
    'PrecisionAtRecall_7': 0.8138725757598877,
    'PrecisionAtRecall_1': 0.8138725757598877,
    'RecallAtPrecision_200': 0.9991945624351501,
    'RecallAtPrecision_7': 0.8303481340408325,
    'RecallAtPrecision_1': 0.8303481340408325,
    'par_cid2': 0.75,
    'sas_cid1': 0.5,
}


def _scenario(K):
    """The calls recorded on Keras; `K` is `keras` or `gkeras`."""
    rng = np.random.default_rng(5)
    yt = rng.normal(size=(4, 6)).astype("float32")
    yp = (yt + rng.normal(size=(4, 6)) * 0.5).astype("float32")
    sw = np.array([1., 0.5, 0., 2.], "float32")
    out = {}
    m = K.metrics.PearsonCorrelation()
    m.update_state(yt, yp)
    m.update_state(yt[:2], yp[:2] * 2 - 1, sample_weight=sw[:2])
    out["pearson"] = float(m.result())
    m = K.metrics.ConcordanceCorrelation()
    m.update_state(yt, yp)
    m.update_state(yt[:2], yp[:2] * 2 - 1, sample_weight=sw[:2])
    out["ccc"] = float(m.result())
    m = K.metrics.PearsonCorrelation(axis=0)
    m.update_state(yt, yp)
    out["pearson_ax0"] = float(m.result())
    out["ccc_fn"] = np.asarray(K.metrics.concordance_correlation(yt, yp))
    out["pcc_fn"] = np.asarray(K.metrics.pearson_correlation(yt, yp))
    lab = (rng.random(50) > 0.6).astype("float32")
    pr = np.clip(lab * 0.3 + rng.random(50) * 0.7, 0, 1).astype("float32")
    w = rng.random(50).astype("float32")
    for cls, arg in [("SensitivityAtSpecificity", 0.7),
                     ("SpecificityAtSensitivity", 0.8),
                     ("PrecisionAtRecall", 0.6), ("RecallAtPrecision", 0.75)]:
        for nt in (200, 7, 1):
            m = getattr(K.metrics, cls)(arg, num_thresholds=nt)
            m.update_state(lab[:30], pr[:30])
            m.update_state(lab[30:], pr[30:], sample_weight=w[30:])
            out[f"{cls}_{nt}"] = float(m.result())
    lab2 = (rng.random((20, 3)) > 0.5).astype("float32")
    pr2 = rng.random((20, 3)).astype("float32")
    m = K.metrics.PrecisionAtRecall(0.5, class_id=2, num_thresholds=11)
    m.update_state(lab2, pr2)
    out["par_cid2"] = float(m.result())
    m = K.metrics.SensitivityAtSpecificity(0.4, class_id=1)
    m.update_state(lab2, pr2)
    out["sas_cid1"] = float(m.result())
    return out


def _data():
    rng = np.random.default_rng(5)
    yt = rng.normal(size=(4, 6)).astype("float32")
    yp = (yt + rng.normal(size=(4, 6)) * 0.5).astype("float32")
    return yt, yp


def test_matches_recorded_keras():
    got = _scenario(gkeras)
    for key, want in KERAS.items():
        np.testing.assert_allclose(got[key], want, rtol=2e-6, atol=1e-6,
                                   err_msg=key)


def test_correlations_vs_numpy_float64():
    yt, yp = _data()
    t, p = yt.astype(np.float64), yp.astype(np.float64)
    pcc = [np.corrcoef(a, b)[0, 1] for a, b in zip(t, p)]
    np.testing.assert_allclose(
        gkeras.ops.convert_to_numpy(metrics.pearson_correlation(yt, yp)),
        pcc, rtol=1e-5)
    # Keras 3.15's concordance formula (y_true centred on mean(y_pred)).
    mt, mp = t.mean(1, keepdims=True), p.mean(1, keepdims=True)
    ccc = (2 * (t - mp) * (p - mp) / (t.var(1, keepdims=True)
           + p.var(1, keepdims=True) + (mt - mp) ** 2 + 1e-7)).mean(1)
    np.testing.assert_allclose(
        gkeras.ops.convert_to_numpy(metrics.concordance_correlation(yt, yp)),
        ccc, rtol=1e-5)
    m = metrics.PearsonCorrelation()
    m.update_state(yt, yp, sample_weight=[1, 0, 2, 1])
    assert float(m.result()) == pytest.approx(
        (pcc[0] + 2 * pcc[2] + pcc[3]) / 4, rel=1e-5)


def _np_operating_point(lab, pr, w, nt, kind, value):
    """The four confusion counts at evenly spaced thresholds, float64."""
    thr = [0.5] if nt == 1 else [0.0] + [(i + 1) / (nt - 1)
                                        for i in range(nt - 2)] + [1.0]
    best = 0.0
    for t in thr:
        pos, lab_b = pr > t, lab > 0
        tp = w[pos & lab_b].sum()
        fp = w[pos & ~lab_b].sum()
        tn = w[~pos & ~lab_b].sum()
        fn = w[~pos & lab_b].sum()
        rate = lambda a, b: a / (a + b) if a + b else 0.0  # noqa: E731
        sens, spec, prec = rate(tp, fn), rate(tn, fp), rate(tp, fp)
        constrained, dependent = {
            "SensitivityAtSpecificity": (spec, sens),
            "SpecificityAtSensitivity": (sens, spec),
            "PrecisionAtRecall": (sens, prec),
            "RecallAtPrecision": (prec, sens)}[kind]
        if constrained >= value:
            best = max(best, dependent)
    return best


@pytest.mark.parametrize("kind,value", [
    ("SensitivityAtSpecificity", 0.7), ("SpecificityAtSensitivity", 0.8),
    ("PrecisionAtRecall", 0.6), ("RecallAtPrecision", 0.75)])
@pytest.mark.parametrize("nt", [200, 7, 1])
def test_operating_point_vs_numpy(kind, value, nt):
    rng = np.random.default_rng(11)
    lab = (rng.random(40) > 0.5).astype("float32")
    pr = np.clip(lab * 0.3 + rng.random(40) * 0.7, 0, 1).astype("float32")
    w = rng.random(40).astype("float32")
    m = getattr(metrics, kind)(value, num_thresholds=nt)
    m.update_state(lab[:25], pr[:25], sample_weight=w[:25])
    m.update_state(lab[25:], pr[25:], sample_weight=w[25:])
    want = _np_operating_point(lab, pr.astype(np.float64),
                               w.astype(np.float64), nt, kind, value)
    assert float(m.result()) == pytest.approx(want, rel=1e-5, abs=1e-6)
    m.reset_state()
    assert float(m.result()) == 0.0


def test_configs_and_errors():
    m = metrics.PrecisionAtRecall(0.4, num_thresholds=50, class_id=1,
                                  name="par")
    assert m.get_config() == {"name": "par", "dtype": "float32",
                              "class_id": 1, "num_thresholds": 50,
                              "recall": 0.4}
    again = metrics.deserialize(metrics.serialize(m))
    assert type(again) is metrics.PrecisionAtRecall
    assert again.get_config() == m.get_config()
    assert [v.name for v in m.variables] == [
        "true_positives", "false_positives", "true_negatives",
        "false_negatives"]
    for cls, key in [(metrics.SensitivityAtSpecificity, "specificity"),
                     (metrics.SpecificityAtSensitivity, "sensitivity"),
                     (metrics.RecallAtPrecision, "precision")]:
        cfg = cls(0.3).get_config()
        assert cfg[key] == 0.3 and cfg["num_thresholds"] == 200
        with pytest.raises(ValueError, match=key):
            cls(1.5)
    with pytest.raises(ValueError, match="num_thresholds"):
        metrics.RecallAtPrecision(0.5, num_thresholds=0)
    p = metrics.PearsonCorrelation(axis=0, name="p")
    assert p.get_config() == {"name": "p", "dtype": "float32", "axis": 0}
    assert metrics.deserialize(metrics.serialize(p)).axis == 0
    assert metrics.ConcordanceCorrelation().get_config() == {
        "name": "concordance_correlation", "dtype": "float32", "axis": -1}
    assert metrics.categorical_focal_crossentropy is \
        gkeras.losses.categorical_focal_crossentropy


def test_compile_with_new_metrics():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = gkeras.Sequential([gkeras.Input((4,)),
                               gkeras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=[
        metrics.PrecisionAtRecall(0.5), metrics.RecallAtPrecision(0.5),
        metrics.SensitivityAtSpecificity(0.5),
        metrics.SpecificityAtSensitivity(0.5),
        metrics.PearsonCorrelation(axis=0),
        metrics.ConcordanceCorrelation(axis=0)])
    hist = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    for key in ("precision_at_recall", "recall_at_precision",
                "sensitivity_at_specificity", "specificity_at_sensitivity",
                "pearson_correlation", "concordance_correlation"):
        assert len(hist.history[key]) == 2, key
        assert np.isfinite(hist.history[key]).all()

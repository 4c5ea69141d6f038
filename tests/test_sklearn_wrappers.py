"""scikit-learn wrappers (Keras 2 KerasClassifier/KerasRegressor and Keras 3
SKLearnClassifier/Regressor/Transformer)."""

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa

import gkeras  # noqa: E402
from gkeras import layers  # noqa: E402
from gkeras.wrappers import (  # noqa: E402
    SKLearnClassifier, SKLearnRegressor, SKLearnTransformer,
)
from gkeras.wrappers.scikit_learn import (  # noqa: E402
    KerasClassifier, KerasRegressor,
)

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 4)).astype("float32")
Y_CLS = np.where(X[:, 0] > 0, "yes", "no")
Y_REG = X @ np.array([1.0, -1.0, 0.5, 0.0], "float32")
FIT = {"epochs": 2, "batch_size": 16, "verbose": 0}


def create_model(units=4, n_out=2, loss="sparse_categorical_crossentropy"):
    m = gkeras.Sequential([gkeras.Input((4,)),
                           layers.Dense(units, activation="relu"),
                           layers.Dense(n_out, activation="softmax")])
    m.compile("adam", loss, metrics=["accuracy"])
    return m


def create_regressor(units=4):
    m = gkeras.Sequential([gkeras.Input((4,)), layers.Dense(units),
                           layers.Dense(1)])
    m.compile("adam", "mse")
    return m


def test_keras2_classifier_params_and_clone():
    clf = KerasClassifier(build_fn=create_model, units=3, **FIT)
    params = clf.get_params()
    assert params["units"] == 3 and params["build_fn"] is create_model
    c2 = clone(clf)
    assert c2.get_params() == params and c2 is not clf
    clf.set_params(units=5)
    assert clf.sk_params["units"] == 5
    with pytest.raises(ValueError, match="not a legal parameter"):
        KerasClassifier(build_fn=create_model, unitz=3)


def test_keras2_classifier_fit_predict_score():
    clf = KerasClassifier(build_fn=create_model, **FIT)
    clf.fit(X, Y_CLS)
    assert list(clf.classes_) == ["no", "yes"]
    pred = clf.predict(X)
    proba = clf.predict_proba(X)
    assert set(pred) <= {"no", "yes"} and proba.shape == (60, 2)
    np.testing.assert_array_equal(pred, clf.classes_[proba.argmax(1)])
    acc = clf.score(X, Y_CLS)
    np.testing.assert_allclose(acc, np.mean(pred == Y_CLS), atol=1e-6)
    # categorical_crossentropy: integer labels become one-hot for fit.
    cc = KerasClassifier(build_fn=create_model,
                         loss="categorical_crossentropy", **FIT)
    cc.fit(X, Y_CLS)
    assert 0.0 <= cc.score(X, Y_CLS) <= 1.0


def test_keras2_grid_search_and_cross_val():
    clf = KerasClassifier(build_fn=create_model, **FIT)
    gs = GridSearchCV(clf, {"units": [2, 4], "epochs": [1, 2]}, cv=2,
                      scoring="accuracy").fit(X, Y_CLS)
    assert set(gs.best_params_) == {"units", "epochs"}
    scores = cross_val_score(KerasRegressor(build_fn=create_regressor,
                                            **FIT), X, Y_REG, cv=3)
    assert scores.shape == (3,) and np.all(scores <= 0)  # negated MSE


def test_keras2_regressor_predict_and_score():
    reg = KerasRegressor(build_fn=create_regressor, **FIT)
    reg.fit(X, Y_REG)
    pred = reg.predict(X)
    assert pred.shape == (60,)
    mse = float(np.mean((pred - Y_REG) ** 2))
    np.testing.assert_allclose(reg.score(X, Y_REG), -mse, rtol=1e-4)


def test_uncompiled_build_fn_is_a_clear_error():
    def uncompiled():
        return gkeras.Sequential([gkeras.Input((4,)), layers.Dense(2)])

    with pytest.raises(ValueError, match="not compiled"):
        KerasClassifier(build_fn=uncompiled, **FIT).fit(X, Y_CLS)
    with pytest.raises(ValueError, match="not compiled"):
        SKLearnRegressor(lambda X, y: uncompiled()).fit(X, Y_REG)


def build3(X, y, units=4):
    m = gkeras.Sequential([gkeras.Input(X.shape[1:]),
                           layers.Dense(units, activation="relu"),
                           layers.Dense(y.shape[1], activation="softmax")])
    m.compile("adam", "categorical_crossentropy")
    return m


def test_keras3_classifier():
    clf = SKLearnClassifier(build3, model_kwargs={"units": 3},
                            fit_kwargs=FIT)
    assert clone(clf).get_params()["model_kwargs"] == {"units": 3}
    clf.fit(X, Y_CLS)
    pred = clf.predict(X)
    assert set(pred) <= {"no", "yes"}
    np.testing.assert_allclose(clf.score(X, Y_CLS), np.mean(pred == Y_CLS))
    scores = cross_val_score(clf, X, Y_CLS, cv=3)
    assert scores.shape == (3,)
    gs = GridSearchCV(clf, {"model_kwargs": [{"units": 2}, {"units": 4}]},
                      cv=2).fit(X, Y_CLS)
    assert gs.best_params_["model_kwargs"]["units"] in (2, 4)
    with pytest.raises(sklearn.exceptions.NotFittedError):
        SKLearnClassifier(build3).predict(X)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :3])


def test_keras3_regressor_and_transformer_with_model_instance():
    from sklearn.metrics import r2_score
    base = create_regressor()
    reg = SKLearnRegressor(base, fit_kwargs=FIT).fit(X, Y_REG)
    assert reg.model_ is not base  # cloned, fresh weights
    pred = reg.predict(X)
    assert pred.shape == (60,)
    np.testing.assert_allclose(reg.score(X, Y_REG), r2_score(Y_REG, pred),
                               rtol=1e-5)

    def enc(X, y):
        m = gkeras.Sequential([gkeras.Input((4,)), layers.Dense(4)])
        m.compile("sgd", "mse")
        return m

    tr = SKLearnTransformer(enc, fit_kwargs=FIT).fit(X)
    out = tr.transform(X)
    w, b = tr.model_.get_weights()
    np.testing.assert_allclose(out, X @ w + b, rtol=1e-5, atol=1e-6)

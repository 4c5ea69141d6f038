"""Keras-2 scikit-learn wrappers: `KerasClassifier`, `KerasRegressor`.

`build_fn` builds and compiles a model; the remaining keyword arguments
(`sk_params`) are routed by name: those `build_fn` accepts go to it, those
of `fit` / `predict` / `evaluate` (epochs, batch_size, verbose, ...) go
there. They are scikit-learn estimators: `clone`, `get_params`,
`set_params`, `GridSearchCV` and `cross_val_score` work.

Example:

```python
def create_model(units=8, optimizer="adam"):
    model = gkeras.Sequential([gkeras.Input((4,)),
                               layers.Dense(units, activation="relu"),
                               layers.Dense(3, activation="softmax")])
    model.compile(optimizer, "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model

clf = KerasClassifier(build_fn=create_model, epochs=10, verbose=0)
GridSearchCV(clf, {"units": [4, 8]}, cv=3).fit(X, y)
```
"""

import copy
import types

import numpy as np

from gkeras.wrappers._sklearn_common import (
    as_float_array, check_compiled, has_arg, loss_is_categorical_ce,
    require_sklearn, sklearn_bases,
)

__all__ = ["KerasClassifier", "KerasRegressor"]


def _model_methods():
    from gkeras.models import Sequential
    return (Sequential.fit, Sequential.predict, Sequential.evaluate)


class BaseWrapper:
    """Base class of the Keras-2 scikit-learn wrappers.

    Args:
        build_fn: a function (or callable object) returning a compiled
            model; None to use the subclass's `__call__`.
        **sk_params: model parameters (arguments of `build_fn`) and
            training parameters (arguments of `fit`, `predict`,
            `evaluate`, e.g. `epochs`, `batch_size`, `verbose`).
    """

    def __init__(self, build_fn=None, **sk_params):
        require_sklearn()
        self.build_fn = build_fn
        self.sk_params = sk_params
        self.check_params(sk_params)

    def _build_target(self):
        if self.build_fn is None:
            return self.__call__
        if not isinstance(self.build_fn, (types.FunctionType,
                                          types.MethodType)):
            return self.build_fn.__call__
        return self.build_fn

    def check_params(self, params):
        """Raises a ValueError naming any parameter that neither `build_fn`
        nor `fit`/`predict`/`evaluate` accepts."""
        targets = list(_model_methods())
        if self.build_fn is None:
            targets.append(self.__call__)
        elif not isinstance(self.build_fn, (types.FunctionType,
                                            types.MethodType)):
            targets.append(self.build_fn.__call__)
        else:
            targets.append(self.build_fn)
        for name in params:
            if not any(has_arg(fn, name) for fn in targets):
                raise ValueError(
                    f"{name!r} is not a legal parameter of {type(self).__name__}"
                    ": it is neither an argument of `build_fn` nor of the "
                    "model's fit/predict/evaluate.")

    def get_params(self, deep=True):
        """Returns the parameters (`build_fn` and the sk_params)."""
        res = dict(self.sk_params)
        res["build_fn"] = self.build_fn
        return res

    def set_params(self, **params):
        """Sets parameters (validated like the constructor's)."""
        build_fn = params.pop("build_fn", self.build_fn)
        self.build_fn = build_fn
        self.check_params(params)
        self.sk_params.update(params)
        return self

    def filter_sk_params(self, fn, override=None):
        """The sk_params `fn` accepts, updated with `override`."""
        res = {k: v for k, v in self.sk_params.items() if has_arg(fn, k)}
        for k, v in (override or {}).items():
            if has_arg(fn, k):
                res[k] = v
        return res

    def _make_model(self):
        fn = self._build_target()
        where = "build_fn" if self.build_fn is not None else \
            f"{type(self).__name__}.__call__"
        return check_compiled(fn(**self.filter_sk_params(fn)), where)

    def fit(self, x, y, **kwargs):
        """Builds a fresh model and trains it.

        Args:
            x: training inputs.
            y: training targets.
            **kwargs: overrides of the fit parameters.

        Returns:
            The `History` of training.
        """
        self.model = self._make_model()
        fit, _, _ = _model_methods()
        y = np.asarray(y)
        if loss_is_categorical_ce(self.model) and y.ndim != 2:
            from gkeras.utils import to_categorical
            y = to_categorical(y)
        fit_args = copy.copy(self.filter_sk_params(fit))
        fit_args.update(kwargs)
        history = self.model.fit(as_float_array(x), y, **fit_args)
        return history

    def _check_fitted(self):
        if not hasattr(self, "model"):
            from sklearn.exceptions import NotFittedError
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call "
                "'fit' with appropriate arguments before using this "
                "estimator.")


class KerasClassifier(*sklearn_bases("classifier"), BaseWrapper):
    """Scikit-learn classifier API for a gkeras model (Keras 2).

    Args:
        build_fn: callable returning a compiled model whose output is
            class probabilities (softmax over the classes, or one sigmoid
            unit for two classes).
        **sk_params: parameters of `build_fn` and of fit/predict/evaluate.

    Attributes:
        classes_: the class labels seen by `fit`.
        n_classes_: their number.
        model: the trained gkeras model.
    """

    __init__ = BaseWrapper.__init__
    get_params = BaseWrapper.get_params
    set_params = BaseWrapper.set_params

    def fit(self, x, y, sample_weight=None, **kwargs):
        """Trains a fresh model on `x`, `y` (labels of any sortable type,
        or one-hot targets)."""
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1:
            self.classes_ = np.arange(y.shape[1])
        elif (y.ndim == 2 and y.shape[1] == 1) or y.ndim == 1:
            self.classes_ = np.unique(y)
            y = np.searchsorted(self.classes_, y)
        else:
            raise ValueError(f"Invalid shape for y: {y.shape}")
        self.n_classes_ = len(self.classes_)
        if sample_weight is not None:
            kwargs["sample_weight"] = np.asarray(sample_weight)
        return BaseWrapper.fit(self, x, y, **kwargs)

    def predict_proba(self, x, **kwargs):
        """Class probabilities, `(n_samples, n_classes)` (two columns for a
        single sigmoid output)."""
        self._check_fitted()
        _, predict, _ = _model_methods()
        kwargs = self.filter_sk_params(predict, kwargs)
        probs = np.asarray(self.model.predict(as_float_array(x), **kwargs))
        if probs.ndim == 1 or probs.shape[1] == 1:
            probs = probs.reshape(-1, 1)
            probs = np.hstack([1 - probs, probs])
        return probs

    def predict(self, x, **kwargs):
        """Predicted class labels (from `classes_`)."""
        probs = self.predict_proba(x, **kwargs)
        return self.classes_[probs.argmax(axis=-1)]

    def score(self, x, y, **kwargs):
        """The model's accuracy on `x`, `y` (the model must be compiled
        with `metrics=["accuracy"]`)."""
        self._check_fitted()
        y = np.asarray(y)
        if not (y.ndim == 2 and y.shape[1] > 1):
            y = np.searchsorted(self.classes_, y)
        _, _, evaluate = _model_methods()
        kwargs = self.filter_sk_params(evaluate, kwargs)
        if loss_is_categorical_ce(self.model) and y.ndim != 2:
            from gkeras.utils import to_categorical
            y = to_categorical(y, num_classes=self.n_classes_)
        kwargs.setdefault("verbose", 0)
        kwargs["return_dict"] = True
        outputs = self.model.evaluate(as_float_array(x), y, **kwargs)
        for name in ("accuracy", "acc", "categorical_accuracy",
                     "sparse_categorical_accuracy", "binary_accuracy"):
            if name in outputs:
                return float(outputs[name])
        raise ValueError(
            "The model is not configured to compute accuracy. You should "
            "pass `metrics=['accuracy']` to the `model.compile()` method.")


class KerasRegressor(*sklearn_bases("regressor"), BaseWrapper):
    """Scikit-learn regressor API for a gkeras model (Keras 2).

    Args:
        build_fn: callable returning a compiled regression model.
        **sk_params: parameters of `build_fn` and of fit/predict/evaluate.

    Note: `score` returns the negated loss (higher is better), as Keras 2.
    """

    __init__ = BaseWrapper.__init__
    get_params = BaseWrapper.get_params
    set_params = BaseWrapper.set_params

    def fit(self, x, y, sample_weight=None, **kwargs):
        """Trains a fresh model on `x`, `y`."""
        if sample_weight is not None:
            kwargs["sample_weight"] = np.asarray(sample_weight)
        return BaseWrapper.fit(self, x, np.asarray(y, dtype="float32"),
                               **kwargs)

    def predict(self, x, **kwargs):
        """Predictions, squeezed (`(n_samples,)` for one output)."""
        self._check_fitted()
        _, predict, _ = _model_methods()
        kwargs = self.filter_sk_params(predict, kwargs)
        preds = np.asarray(self.model.predict(as_float_array(x), **kwargs))
        if preds.ndim == 2 and preds.shape[1] == 1:
            preds = preds[:, 0]
        return preds

    def score(self, x, y, **kwargs):
        """The negated loss of the model on `x`, `y`."""
        self._check_fitted()
        _, _, evaluate = _model_methods()
        kwargs = self.filter_sk_params(evaluate, kwargs)
        kwargs.setdefault("verbose", 0)
        loss = self.model.evaluate(as_float_array(x),
                                   np.asarray(y, dtype="float32"), **kwargs)
        if isinstance(loss, (list, tuple)):
            loss = loss[0]
        return -float(loss)

"""`gkeras.wrappers`: scikit-learn estimators around gkeras models.

Keras 3 API: `SKLearnClassifier`, `SKLearnRegressor`, `SKLearnTransformer`
(`model=` a callable returning a compiled model, or a compiled Model that
is cloned for every fit). Keras 2 API: `gkeras.wrappers.scikit_learn`
(`KerasClassifier(build_fn=...)`, `KerasRegressor`).

scikit-learn is the optional `sklearn` extra: `pip install gkeras[sklearn]`.
"""

import numpy as np

from gkeras.wrappers._sklearn_common import (
    as_float_array, check_compiled, clone_compiled, require_sklearn,
    sklearn_bases,
)

__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]


class _SKLBase:
    """Shared logic of the Keras 3 wrappers.

    Args:
        model: a callable `model(X=..., y=..., **model_kwargs)` returning a
            compiled gkeras Model, or a compiled Model (cloned, with fresh
            weights and optimizer, at every `fit` unless `warm_start`).
        warm_start: keep training the fitted model on later `fit` calls.
        model_kwargs: keyword arguments for the `model` callable.
        fit_kwargs: keyword arguments for `Model.fit` (epochs,
            batch_size, verbose, callbacks...).
    """

    def __init__(self, model, warm_start=False, model_kwargs=None,
                 fit_kwargs=None):
        require_sklearn()
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs

    def _get_model(self, X, y):
        from gkeras.models import Model
        if isinstance(self.model, Model):
            return clone_compiled(self.model)
        if not callable(self.model):
            raise TypeError(
                f"{type(self).__name__}: `model` must be a compiled gkeras "
                "Model or a callable returning one. Received: "
                f"{type(self.model).__name__}.")
        built = self.model(X=X, y=y, **(self.model_kwargs or {}))
        return check_compiled(built, f"{type(self).__name__}'s `model` "
                                     "callable")

    def _validate_X(self, X, reset):
        from sklearn.utils import check_array
        X = check_array(X, dtype=np.float32, ensure_2d=True,
                        allow_nd=True)
        if reset:
            self.n_features_in_ = X.shape[1]
        elif X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is "
                f"expecting {self.n_features_in_} features as input.")
        return X

    def fit(self, X, y, sample_weight=None):
        """Fits the model.

        Args:
            X: array-like `(n_samples, n_features)`.
            y: targets.
            sample_weight: optional per-sample weights.

        Returns:
            self.
        """
        X = self._validate_X(X, reset=True)
        y = self._process_target(y, reset=True)
        if not (self.warm_start and hasattr(self, "model_")):
            self.model_ = self._get_model(X, y)
        kwargs = dict(self.fit_kwargs or {})
        if sample_weight is not None:
            kwargs["sample_weight"] = np.asarray(sample_weight, "float32")
        self.history_ = self.model_.fit(X, y, **kwargs)
        return self

    def _raw_predict(self, X):
        from sklearn.utils.validation import check_is_fitted
        check_is_fitted(self, "model_")
        X = self._validate_X(X, reset=False)
        return np.asarray(self.model_.predict(X, verbose=0))

    def _process_target(self, y, reset=False):
        return y


class SKLearnClassifier(*sklearn_bases("classifier"), _SKLBase):
    """A scikit-learn classifier around a gkeras model (Keras 3 API).

    Targets are one-hot encoded for the model (whose output must have one
    unit per class); `predict` returns the original labels.

    Args:
        model: callable returning a compiled Model, or a compiled Model.
        warm_start: keep training on later `fit` calls.
        model_kwargs: keyword arguments for the `model` callable.
        fit_kwargs: keyword arguments for `Model.fit`.

    Attributes:
        model_: the fitted gkeras model.
        classes_: the class labels.
        history_: the History of the last fit.

    Example:
    >>> def build(X, y, units=16):
    ...     m = gkeras.Sequential([gkeras.Input(X.shape[1:]),
    ...         layers.Dense(units, activation="relu"),
    ...         layers.Dense(y.shape[1], activation="softmax")])
    ...     m.compile("adam", "categorical_crossentropy")
    ...     return m
    >>> clf = SKLearnClassifier(build, fit_kwargs={"epochs": 5, "verbose": 0})
    >>> clf.fit(X, y).predict(X)
    """

    __init__ = _SKLBase.__init__
    fit = _SKLBase.fit

    def _process_target(self, y, reset=False):
        from sklearn.utils.multiclass import type_of_target
        y = np.asarray(y)
        target_type = type_of_target(y)
        if target_type not in ("binary", "multiclass"):
            raise ValueError(
                "Only binary and multiclass target types are supported. "
                f"Target type: {target_type}")
        y = y.reshape(-1)
        if reset:
            self.classes_ = np.unique(y)
            if len(self.classes_) == 1:
                raise ValueError("Classifier can't train when only one class "
                                 "is present.")
        idx = np.searchsorted(self.classes_, y)
        return np.eye(len(self.classes_), dtype="float32")[idx]

    def predict_proba(self, X):
        """Class probabilities `(n_samples, n_classes)` (the model's
        output)."""
        return self._raw_predict(X)

    def predict(self, X):
        """Predicted class labels."""
        probs = self._raw_predict(X)  # checks fitted before classes_
        return self.classes_[probs.argmax(axis=-1)]


class SKLearnRegressor(*sklearn_bases("regressor"), _SKLBase):
    """A scikit-learn regressor around a gkeras model (Keras 3 API).

    A 1-D `y` is fed to the model as a column and predictions come back
    1-D. `score` is the R^2 of scikit-learn's RegressorMixin.

    Args:
        model: callable returning a compiled Model, or a compiled Model.
        warm_start: keep training on later `fit` calls.
        model_kwargs: keyword arguments for the `model` callable.
        fit_kwargs: keyword arguments for `Model.fit`.
    """

    __init__ = _SKLBase.__init__
    fit = _SKLBase.fit

    def _process_target(self, y, reset=False):
        y = np.asarray(y, dtype="float32")
        if reset:
            self._y_1d = y.ndim == 1
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def predict(self, X):
        """Predictions (1-D when the training targets were)."""
        preds = self._raw_predict(X)
        if self._y_1d:
            preds = preds.reshape(-1)
        return preds


class SKLearnTransformer(*sklearn_bases("transformer"), _SKLBase):
    """A scikit-learn transformer around a gkeras model (Keras 3 API):
    `fit` trains the model on `(X, y)`, `transform` returns
    `model.predict(X)` (e.g. an encoder's embedding).

    Args:
        model: callable returning a compiled Model, or a compiled Model.
        warm_start: keep training on later `fit` calls.
        model_kwargs: keyword arguments for the `model` callable.
        fit_kwargs: keyword arguments for `Model.fit`.
    """

    __init__ = _SKLBase.__init__

    def fit(self, X, y=None, sample_weight=None):
        """Trains the model (`y` defaults to `X`, an autoencoder)."""
        return _SKLBase.fit(self, X, X if y is None else y, sample_weight)

    def _process_target(self, y, reset=False):
        return as_float_array(y)

    def transform(self, X):
        """Returns `model.predict(X)`."""
        return self._raw_predict(X)

"""Shared helpers of the scikit-learn wrappers (scikit-learn is the
optional `sklearn` extra)."""

import inspect

import numpy as np


def require_sklearn():
    """Returns the `sklearn` module or raises an ImportError naming the
    extra."""
    try:
        import sklearn  # noqa: F401
        import sklearn.base  # noqa: F401
    except ImportError as e:
        raise ImportError(
            "The gkeras scikit-learn wrappers need scikit-learn, which is not "
            f"installed ({e}). Install the sklearn extra: `pip install "
            "gkeras[sklearn]` (or `pip install scikit-learn`).") from None
    return sklearn


def sklearn_bases(kind):
    """The scikit-learn base classes for a wrapper of `kind` ("classifier",
    "regressor", "transformer"), or `(object,)` when scikit-learn is
    missing (the wrappers then raise on construction)."""
    try:
        from sklearn import base
    except ImportError:
        return (object,)
    mixin = {"classifier": base.ClassifierMixin,
             "regressor": base.RegressorMixin,
             "transformer": base.TransformerMixin}[kind]
    return (mixin, base.BaseEstimator)


def has_arg(fn, name):
    """True when callable `fn` accepts a keyword argument `name`."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    p = params.get(name)
    return p is not None and p.kind in (p.POSITIONAL_OR_KEYWORD,
                                        p.KEYWORD_ONLY)


def check_compiled(model, where):
    """Raises a clear error unless `model` is a compiled gkeras Model."""
    from gkeras.models import Model
    if not isinstance(model, Model):
        raise TypeError(
            f"{where} must return a gkeras Model. Received: "
            f"{type(model).__name__}.")
    if not getattr(model, "compiled", False):
        raise ValueError(
            f"The model returned by {where} is not compiled. Call "
            "`model.compile(optimizer=..., loss=..., metrics=[...])` before "
            "returning it.")
    return model


def loss_is_categorical_ce(model):
    """True when the model was compiled with categorical cross-entropy."""
    cfg = getattr(model, "_compile_config", None) or {}
    loss = cfg.get("loss")
    if isinstance(loss, str):
        return loss in ("categorical_crossentropy", "CategoricalCrossentropy")
    name = getattr(loss, "__name__", None) or type(loss).__name__
    return name in ("categorical_crossentropy", "CategoricalCrossentropy")


def clone_compiled(model):
    """A copy of a compiled Model with fresh weights and a fresh optimizer
    (so every `fit` of a wrapper starts from scratch, as Keras does)."""
    from gkeras.models import clone_model
    check_compiled(model, "the `model` argument")
    new = clone_model(model)
    cfg = model._compile_config
    opt = model.optimizer
    new.compile(optimizer=type(opt).from_config(opt.get_config()),
                loss=cfg["loss"], loss_weights=cfg["loss_weights"],
                metrics=cfg["metrics"],
                weighted_metrics=cfg["weighted_metrics"])
    return new


def as_float_array(x):
    a = np.asarray(x)
    if a.dtype.kind in "fiub":
        return a.astype("float32", copy=False)
    return a

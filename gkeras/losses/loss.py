"""The `Loss` base class and the reduction helpers of Keras 3.

Everything here is written with differentiable `gkeras.ops`, so the
trainer can differentiate a loss with the autograd engine.
"""

import math

from gkeras import backend
from gkeras import ops
from gkeras.utils.naming import auto_name

_REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean",
               "mean_with_sample_weight")


def standardize_reduction(reduction):
    """Validates a `reduction` argument (Keras 3 values)."""
    if reduction not in _REDUCTIONS:
        raise ValueError(
            "Invalid value for argument `reduction`. Expected one of "
            f"{list(_REDUCTIONS)}. Received: reduction={reduction!r}")
    return reduction


def get_keras_mask(x):
    """The `_keras_mask` of `x` (a Tensor), or None."""
    return getattr(x, "_keras_mask", None)


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Squeezes/expands the last axis when the ranks differ by exactly 1
    and that axis has size 1 (as Keras)."""
    r1, r2 = len(x1.shape), len(x2.shape)
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = ops.expand_dims(x2, axis=-1)
        else:
            x1 = ops.squeeze(x1, axis=-1)
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = ops.expand_dims(x1, axis=-1)
        else:
            x2 = ops.squeeze(x2, axis=-1)
    return x1, x2


def _num_elements(x):
    return math.prod(tuple(x.shape))


def reduce_values(values, sample_weight=None,
                  reduction="sum_over_batch_size"):
    """Reduces per-sample (weighted) losses to a scalar (or not, for
    `"none"`)."""
    if (reduction is None or reduction == "none"
            or tuple(values.shape) == () or tuple(values.shape) == (0,)):
        return values
    loss = ops.sum(values)
    if reduction in ("sum_over_batch_size", "mean",
                     "mean_with_sample_weight"):
        if reduction == "mean_with_sample_weight" and \
                sample_weight is not None:
            loss = ops.divide_no_nan(
                loss, ops.cast(ops.sum(sample_weight), loss.dtype))
        else:
            n = _num_elements(values)
            if n > 0:
                loss = ops.divide(loss, n)
    return loss


def apply_mask(sample_weight, mask, dtype, reduction):
    """Folds a mask into the sample weights. With `"sum_over_batch_size"`
    / `"mean"`, valid entries are re-weighted by `total / valid` so that
    the reduction averages over the valid entries only."""
    if mask is not None:
        mask = ops.cast(mask, dtype)
        if reduction in ("mean", "sum_over_batch_size"):
            total = float(_num_elements(mask))
            valid = ops.sum(mask)
            mask = ops.multiply(mask, ops.divide_no_nan(
                ops.cast(total, dtype), valid))
        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, dtype)
            mask, sample_weight = squeeze_or_expand_to_same_rank(
                mask, sample_weight)
            sample_weight = ops.multiply(sample_weight, mask)
        else:
            sample_weight = mask
    return sample_weight


def reduce_weighted_values(values, sample_weight=None, mask=None,
                           reduction="sum_over_batch_size", dtype=None):
    """Applies `sample_weight` and `mask` to per-sample losses, then the
    reduction (Keras 3's `reduce_weighted_values`)."""
    reduction = standardize_reduction(reduction)
    values = ops.convert_to_tensor(values, dtype=dtype)
    if sample_weight is not None:
        sample_weight = ops.convert_to_tensor(sample_weight, dtype=dtype)
    if mask is not None:
        mask = ops.convert_to_tensor(mask, dtype=dtype)
    sample_weight = apply_mask(sample_weight, mask, dtype=values.dtype,
                               reduction=reduction)
    if sample_weight is not None:
        sample_weight = ops.cast(sample_weight, values.dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(
            values, sample_weight)
        values = ops.multiply(values, sample_weight)
    return reduce_values(values, sample_weight, reduction)


class Loss:
    """Loss base class.

    Subclass it and implement `call(y_true, y_pred)` (per-sample losses,
    written with `gkeras.ops`) to create a custom loss.

    Args:
        reduction: Type of reduction to apply to the loss: `"sum"`,
            `"sum_over_batch_size"` (default: sum divided by the number of
            elements), `"mean"` (same), `"mean_with_sample_weight"` (sum
            divided by the sum of the sample weights), or `"none"` / None
            (no reduction).
        name: Optional name for the loss instance.
        dtype: The dtype of the loss's computations (default floatx).

    Example:

    ```python
    class MeanSquaredError(Loss):
        def call(self, y_true, y_pred):
            return ops.mean(ops.square(y_pred - y_true), axis=-1)
    ```
    """

    def __init__(self, name=None, reduction="sum_over_batch_size",
                 dtype=None):
        self.name = name or auto_name(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self._dtype = backend.standardize_dtype(
            getattr(dtype, "compute_dtype", dtype) or backend.floatx())

    @property
    def dtype(self):
        """The dtype of the loss's computations."""
        return self._dtype

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Computes the (reduced) loss.

        Args:
            y_true: targets (array or tensor).
            y_pred: predictions (a tensor, possibly with `_keras_mask`).
            sample_weight: optional per-sample (or per-timestep) weights.

        Returns:
            A scalar tensor (or per-sample losses with reduction `"none"`).
        """
        in_mask = get_keras_mask(y_pred)
        y_pred = ops.convert_to_tensor(y_pred, dtype=self._dtype)
        y_true = ops.convert_to_tensor(y_true, dtype=self._dtype)
        losses = self.call(y_true, y_pred)
        out_mask = get_keras_mask(losses)
        if in_mask is not None and out_mask is not None:
            mask = ops.logical_and(in_mask, out_mask)
        else:
            mask = in_mask if in_mask is not None else out_mask
        if sample_weight is None and mask is None:
            values = ops.convert_to_tensor(losses, dtype=self._dtype)
            return reduce_values(values, None, self.reduction)
        return reduce_weighted_values(losses, sample_weight=sample_weight,
                                      mask=mask, reduction=self.reduction,
                                      dtype=self._dtype)

    def call(self, y_true, y_pred):
        """Returns the per-sample losses (to be implemented)."""
        raise NotImplementedError(
            f"Loss {type(self).__name__} must implement `call(y_true, "
            "y_pred)`.")

    def get_config(self):
        """Returns the loss's configuration (`name`, `reduction`)."""
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        """Instantiates a loss from its `get_config()` dict."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"

"""The Generalized Cross Entropy loss
(`keras.losses.CategoricalGeneralizedCrossEntropy`), robust to noisy
labels (Zhang & Sabuncu, 2018)."""

from gkeras import ops
from gkeras.losses.loss import Loss
from gkeras.losses.losses import LossFunctionWrapper


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """Computes the Generalized Cross Entropy loss: `(1 - p**q) / q`, with
    `p` the predicted probability of the true class.

    As `q` approaches 0 it behaves like the crossentropy, as `q`
    approaches 1 like the mean absolute error.

    Args:
        y_true: integer class indices, shape `(batch,)` or `(batch, 1)`.
        y_pred: predicted class probabilities, shape
            `(batch, num_classes)`.
        q: float in `(0, 1)`, the noise parameter.

    Returns:
        Per-sample losses, shape `(batch,)`.

    Example:

    >>> y_true = np.array([0, 1, 0, 1])
    >>> y_pred = np.array([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4], [0.4, 0.6]])
    >>> gkeras.losses.categorical_generalized_cross_entropy(y_true, y_pred,
    ...                                                     q=0.5)
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true)
    # Keras 3.15 broadcasts `(batch, 1)` labels against `(batch, classes)`
    # into a `(batch, batch)` result; its docstring promises `(batch, 1)`
    # works, so the trailing axis is dropped here.
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, axis=-1)
    one_hot = ops.cast(ops.one_hot(ops.cast(y_true, "int32"),
                                   num_classes=y_pred.shape[-1]),
                       y_pred.dtype)
    p = ops.sum(ops.multiply(y_pred, one_hot), axis=-1)
    return ops.divide(ops.subtract(1.0, ops.power(p, q)), q)


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """Computes the Generalized Cross Entropy loss between integer labels
    and predicted probabilities (see
    `categorical_generalized_cross_entropy`).

    Args:
        q: float in `(0, 1)`, the noise parameter: towards 0 the loss
            behaves like the crossentropy, towards 1 like the mean absolute
            error. Defaults to `0.5`.
        reduction: `"sum_over_batch_size"` (default), `"sum"`, `"mean"`,
            `"mean_with_sample_weight"`, or `"none"`/None.
        name: Optional name for the loss instance. Defaults to
            `"categorical_generalized_cross_entropy"`.
        dtype: The dtype of the loss's computations (default floatx).

    Example:

    >>> y_true = np.array([0, 1, 0, 1])
    >>> y_pred = np.array([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4], [0.4, 0.6]])
    >>> gkeras.losses.CategoricalGeneralizedCrossEntropy()(y_true, y_pred)
    """

    def __init__(self, q=0.5, reduction="sum_over_batch_size",
                 name="categorical_generalized_cross_entropy", dtype=None):
        if not 0 < q < 1:
            raise ValueError("Argument `q` of "
                             "CategoricalGeneralizedCrossEntropy must be in "
                             f"the interval (0, 1). Received: q={q}")
        super().__init__(categorical_generalized_cross_entropy, name=name,
                         reduction=reduction, dtype=dtype, q=q)
        self.q = q

    def get_config(self):
        return {**Loss.get_config(self), "q": self.q}

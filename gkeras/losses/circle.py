"""The Circle loss (`keras.losses.Circle`, `keras.losses.circle`) for
metric learning on L2-normalised embeddings (Sun et al., 2020)."""

import numpy as np

from gkeras import ops
from gkeras.losses.loss import Loss
from gkeras.losses.losses import LossFunctionWrapper


def build_pos_neg_masks(query_labels, key_labels, remove_diagonal=True):
    """Pairwise same-label / different-label masks (Keras's
    `numerical_utils.build_pos_neg_masks`).

    Args:
        query_labels: integer labels, shape `(n,)` or `(n, 1)`.
        key_labels: integer labels, shape `(m,)` or `(m, 1)`.
        remove_diagonal: whether to drop the `i == j` pairs from the
            positive mask.

    Returns:
        `(positive_mask, negative_mask)`, boolean tensors of shape `(n, m)`.
    """
    if len(query_labels.shape) == 1:
        query_labels = ops.reshape(query_labels, (-1, 1))
    if len(key_labels.shape) == 1:
        key_labels = ops.reshape(key_labels, (-1, 1))
    positive = ops.equal(query_labels, ops.transpose(key_labels))
    negative = ops.logical_not(positive)
    if remove_diagonal:
        n = int(np.prod(query_labels.shape))
        m = int(np.prod(key_labels.shape))
        positive = ops.logical_and(
            positive, ops.logical_not(ops.eye(n, m, k=0, dtype="bool")))
    return positive, negative


def _masked_logsumexp(x, mask):
    """`logsumexp(where(mask, x, -inf), axis=1)` (Keras's value), with
    finite gradients: a row without any entry gives `-inf` and zero
    gradients, where the plain form gives `0 * inf = NaN`."""
    neg_inf = float("-inf")
    peak = ops.stop_gradient(ops.max(ops.where(mask, x, neg_inf), axis=1,
                                     keepdims=True))
    peak = ops.where(ops.isfinite(peak), peak, 0.0)
    # Masked-out entries are replaced before exp, so they cannot overflow.
    shifted = ops.subtract(ops.where(mask, x, peak), peak)
    total = ops.sum(ops.where(mask, ops.exp(shifted), 0.0), axis=1)
    present = ops.greater(total, 0.0)
    safe = ops.where(present, total, 1.0)
    return ops.where(present,
                     ops.add(ops.log(safe), ops.squeeze(peak, axis=1)),
                     neg_inf)


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None,
           remove_diagonal=True, gamma=80, margin=0.4):
    """Computes the Circle loss of each embedding against the references.

    It pulls same-label embeddings together and pushes different-label
    ones apart in the L2-normalised embedding space, weighting each pair
    by how far it is from its optimum.

    Args:
        y_true: integer labels, shape `(batch,)` or `(batch, 1)`.
        y_pred: L2-normalised embeddings, shape `(batch, dim)`.
        ref_labels: optional integer labels of the reference embeddings
            (default `y_true`).
        ref_embeddings: optional L2-normalised reference embeddings
            (default `y_pred`).
        remove_diagonal: whether to remove self-similarities from the
            positive mask. Defaults to `True`.
        gamma: scaling factor. Defaults to `80`.
        margin: relaxation factor. Defaults to `0.4`.

    Returns:
        Per-sample losses, shape `(batch,)`, with a Keras mask of the
        positive entries (so a `"sum_over_batch_size"` reduction averages
        over the samples with a non-zero loss, as Keras).

    Example:

    >>> emb = gkeras.ops.normalize(np.random.rand(4, 8), axis=-1)
    >>> gkeras.losses.circle(np.array([0, 0, 1, 1]), emb)
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, "int32")
    ref_embeddings = (y_pred if ref_embeddings is None
                      else ops.convert_to_tensor(ref_embeddings))
    ref_labels = (y_true if ref_labels is None
                  else ops.cast(ref_labels, "int32"))
    optim_pos = margin
    optim_neg = 1 + margin
    delta_pos = margin
    delta_neg = 1 - margin

    distances = ops.subtract(
        1.0, ops.matmul(y_pred, ops.transpose(ref_embeddings)))
    distances = ops.maximum(distances, 0.0)
    positive_mask, negative_mask = build_pos_neg_masks(
        y_true, ref_labels, remove_diagonal=remove_diagonal)
    pos_f = ops.cast(positive_mask, distances.dtype)
    neg_f = ops.cast(negative_mask, distances.dtype)

    pos_weights = ops.maximum(
        ops.multiply(ops.add(optim_pos, distances), pos_f), 0.0)
    neg_weights = ops.maximum(
        ops.multiply(ops.subtract(optim_neg, distances), neg_f), 0.0)
    pos_dists = ops.subtract(delta_pos, distances)
    neg_dists = ops.subtract(delta_neg, distances)
    pos_wdists = ops.multiply(-gamma, ops.multiply(pos_weights, pos_dists))
    neg_wdists = ops.multiply(gamma, ops.multiply(neg_weights, neg_dists))

    p_loss = _masked_logsumexp(pos_wdists, positive_mask)
    n_loss = _masked_logsumexp(neg_wdists, negative_mask)
    loss = ops.softplus(ops.add(p_loss, n_loss))
    mask = ops.greater(loss, 0.0)
    loss._keras_mask = mask
    return loss


class Circle(LossFunctionWrapper):
    """Computes the Circle loss between integer labels and L2-normalised
    embeddings (see `circle`).

    The model should output embeddings without an activation, followed by
    a `UnitNormalization` layer.

    Args:
        gamma: scaling factor that determines the largest scale of each
            similarity score. Defaults to `80`.
        margin: the relaxation factor: below this distance negatives are
            up-weighted and positives down-weighted. Defaults to `0.4`.
        remove_diagonal: whether to remove self-similarities from the
            positive mask. Defaults to `True`.
        reduction: `"sum_over_batch_size"` (default), `"sum"`, `"mean"`,
            `"mean_with_sample_weight"`, or `"none"`/None.
        name: Optional name for the loss instance. Defaults to `"circle"`.
        dtype: The dtype of the loss's computations (default floatx).

    Example:

    ```python
    model = gkeras.Sequential([
        gkeras.Input((16,)),
        gkeras.layers.Dense(8),
        gkeras.layers.UnitNormalization(),
    ])
    model.compile(optimizer="adam", loss=gkeras.losses.Circle())
    ```
    """

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True,
                 reduction="sum_over_batch_size", name="circle", dtype=None):
        super().__init__(circle, name=name, reduction=reduction, dtype=dtype,
                         gamma=gamma, margin=margin,
                         remove_diagonal=remove_diagonal)
        self.gamma = gamma
        self.margin = margin
        self.remove_diagonal = remove_diagonal

    def get_config(self):
        return {**Loss.get_config(self), "gamma": self.gamma,
                "margin": self.margin,
                "remove_diagonal": self.remove_diagonal}

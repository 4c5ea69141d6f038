"""The `CTC` loss (Keras 3): `y_true` padded with the blank (0), logits
`y_pred` over every frame."""

import numpy as np

from gkeras import backend, ops
from gkeras.losses.loss import Loss
from gkeras.losses.losses import LossFunctionWrapper


def ctc(y_true, y_pred):
    """CTC loss per sequence, Keras 3's `keras.losses.ctc`.

    Every frame of `y_pred` counts, the blank is class 0, and a label's
    length is its number of nonzero entries (so pad `y_true` with 0).

    Args:
        y_true: `(batch, max_length)` integer labels, 0-padded.
        y_pred: `(batch, frames, num_classes)` logits.

    Returns:
        `(batch,)` losses.
    """
    labels = np.asarray(backend.to_numpy(ops.convert_to_tensor(y_true)))
    pred = ops.convert_to_tensor(y_pred)
    if labels.ndim != 2:
        raise ValueError(
            "Targets `y_true` are expected to be a tensor of shape "
            "`(batch_size, max_length)` in integer format. Received: "
            f"y_true.shape={labels.shape}")
    if len(pred.shape) != 3:
        raise ValueError(
            "Logits `y_pred` are expected to be a tensor of shape "
            "`(batch_size, max_length, num_classes)`. Received: "
            f"y_pred.shape={tuple(pred.shape)}")
    labels = labels.astype("int64")
    batch, frames = pred.shape[0], pred.shape[1]
    return ops.ctc_loss(labels, pred, (labels != 0).sum(-1),
                        np.full((batch,), frames), mask_index=0)


class CTC(LossFunctionWrapper):
    """CTC (Connectionist Temporal Classification) loss (see `ctc`).

    Args:
        reduction, name, dtype: see `Loss`.

    Example:
    >>> model.compile(optimizer="adam", loss=gkeras.losses.CTC())
    """

    def __init__(self, reduction="sum_over_batch_size", name="ctc",
                 dtype=None):
        super().__init__(ctc, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)

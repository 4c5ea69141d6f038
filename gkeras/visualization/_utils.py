"""Shared helpers of `gkeras.visualization`."""

import numpy as np


def to_host(x):
    """A NumPy array from a tensor, CuPy array, list or array."""
    from gkeras.backend import to_numpy
    from gkeras.ops.engine import Tensor
    if isinstance(x, Tensor):
        x = x.data
    return np.asarray(to_numpy(x))


def check_batched(images, what="images"):
    shape = np.shape(images)
    if len(shape) != 4:
        raise ValueError(f"`{what}` must be batched 4D tensor. "
                         f"Received: {what}.shape={tuple(shape)}")


def transform_value_range(images, original_range, target_range):
    """Rescales `images` linearly from one value range to another (Keras's
    `_transform_value_range`)."""
    if tuple(original_range) == tuple(target_range):
        return images
    images = np.asarray(images, dtype="float32")
    lo, hi = (np.float32(v) for v in original_range)
    t_lo, t_hi = (np.float32(v) for v in target_range)
    return (images - lo) / (hi - lo) * (t_hi - t_lo) + t_lo


_FORMATS = ("xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw")


def boxes_to_xyxy(boxes, bounding_box_format, height, width):
    """Converts boxes of a Keras bounding-box format to absolute `xyxy`.

    Args:
        boxes: `(..., 4)` array.
        bounding_box_format: `"xyxy"`, `"yxyx"`, `"xywh"`, `"center_xywh"`,
            `"center_yxhw"`, or one of them prefixed `"rel_"` (coordinates
            relative to the image size).
        height, width: the image size (for the `rel_` formats).

    Returns:
        A float32 `(..., 4)` array of `x1, y1, x2, y2`.
    """
    fmt = bounding_box_format.lower()
    rel = fmt.startswith("rel_")
    base = fmt[4:] if rel else fmt
    if base not in _FORMATS:
        raise ValueError(
            f"Invalid bounding_box_format {bounding_box_format!r}: expected "
            f"one of {list(_FORMATS)} or their 'rel_' variants.")
    b = np.asarray(boxes, dtype="float32")
    a0, a1, a2, a3 = (b[..., i] for i in range(4))
    if base == "xyxy":
        x1, y1, x2, y2 = a0, a1, a2, a3
    elif base == "yxyx":
        y1, x1, y2, x2 = a0, a1, a2, a3
    elif base == "xywh":
        x1, y1, x2, y2 = a0, a1, a0 + a2, a1 + a3
    elif base == "center_xywh":
        x1, y1, x2, y2 = a0 - a2 / 2, a1 - a3 / 2, a0 + a2 / 2, a1 + a3 / 2
    else:  # center_yxhw
        y1, x1, y2, x2 = a0 - a2 / 2, a1 - a3 / 2, a0 + a2 / 2, a1 + a3 / 2
    if rel:
        x1, x2 = x1 * width, x2 * width
        y1, y2 = y1 * height, y2 * height
    return np.stack([x1, y1, x2, y2], axis=-1)

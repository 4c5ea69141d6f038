"""Adaptive pooling ops (Keras 3's `ops.adaptive_average_pool`,
`ops.adaptive_max_pool`): pool any input size to a fixed output size.

Output cell `i` of an axis of length `L` pooled to `n` covers inputs
`floor(i L / n)` to `ceil((i + 1) L / n)` (exclusive), as Keras (and
PyTorch). Both pools are separable over the spatial axes: the average is
one `(L, n)` matrix per axis (one differentiable node, GEMMs on either
device), the max a gather of each window and a reduction per axis.
"""

import numpy as np

from gkeras.backend.config import standardize_data_format
from gkeras.ops import reduction as R
from gkeras.ops._base import arr, keras_op, t_or_a, xp_of

__all__ = ["adaptive_average_pool", "adaptive_max_pool", "adaptive_bins"]


def adaptive_bins(length, out):
    """`(starts, ends)` int arrays of the `out` windows over `length`."""
    i = np.arange(out)
    starts = (i * length) // out
    ends = -((-(i + 1) * length) // out)
    return starts, ends


def _spatial(x, output_size, data_format, who):
    nd = len(x.shape) - 2
    if nd not in (1, 2, 3):
        raise ValueError(
            f"{who} supports only 1D/2D/3D inputs (rank 3, 4 or 5 with "
            f"batch and channels). Received input of shape "
            f"{tuple(x.shape)}")
    if isinstance(output_size, (int, np.integer)):
        output_size = (int(output_size),) * nd
    output_size = tuple(int(s) for s in output_size)
    if len(output_size) != nd or min(output_size) < 1:
        raise ValueError(
            f"{who}: `output_size` must be a positive int or a tuple of "
            f"{nd} positive ints for a {nd}D input. Received: "
            f"output_size={output_size}")
    first = standardize_data_format(data_format) == "channels_first"
    axes = tuple(range(2, 2 + nd)) if first else tuple(range(1, 1 + nd))
    return list(zip(axes, output_size))


@keras_op
def adaptive_average_pool(inputs, output_size, data_format=None):
    """Adaptive average pooling to a fixed output size.

    Args:
        inputs: rank-3, 4 or 5 tensor (1D, 2D or 3D with batch and
            channels).
        output_size: int or tuple, the spatial output size.
        data_format: `"channels_last"` or `"channels_first"`.

    Returns:
        The pooled tensor, spatial axes of `output_size`.

    Example:
    >>> x = np.random.rand(2, 100, 80, 3)
    >>> gkeras.ops.adaptive_average_pool(x, output_size=7).shape
    (2, 7, 7, 3)
    """
    from gkeras.ops.image.resize import _apply_matrices
    x = t_or_a(inputs)
    mats = []
    for axis, n in _spatial(x, output_size, data_format,
                            "adaptive_average_pool"):
        length = x.shape[axis]
        starts, ends = adaptive_bins(length, n)
        w = np.zeros((length, n))
        for j, (s, e) in enumerate(zip(starts, ends)):
            w[s:e, j] = 1.0 / (e - s)
        mats.append((axis, w))
    return _apply_matrices(x, mats, restore=False)


@keras_op
def adaptive_max_pool(inputs, output_size, data_format=None):
    """Adaptive max pooling to a fixed output size.

    Args:
        inputs: rank-3, 4 or 5 tensor (1D, 2D or 3D with batch and
            channels).
        output_size: int or tuple, the spatial output size.
        data_format: `"channels_last"` or `"channels_first"`.

    Returns:
        The pooled tensor, spatial axes of `output_size`.

    Example:
    >>> x = np.random.rand(2, 64, 64, 3)
    >>> gkeras.ops.adaptive_max_pool(x, output_size=(32, 32)).shape
    (2, 32, 32, 3)
    """
    from gkeras import backend
    from gkeras.ops.shape import getitem
    x = t_or_a(inputs)
    for axis, n in _spatial(x, output_size, data_format,
                            "adaptive_max_pool"):
        length = x.shape[axis]
        starts, ends = adaptive_bins(length, n)
        big = int((ends - starts).max())
        # Shorter windows repeat their last index: the max is unchanged.
        idx = np.minimum(starts[:, None] + np.arange(big)[None, :],
                         (ends - 1)[:, None])
        if xp_of(arr(x)) is not np:
            idx = backend.to_device(idx)
        key = (slice(None),) * axis + (idx,)
        x = R.max(getitem(x, key), axis=axis + 1)
    return x

"""Image resampling on NumPy (scipy.ndimage), for image augmentation.

SciPy is an optional dependency (the `image` extra), imported on first use.
"""

import numpy as np

__all__ = ["affine_transform_channels"]


def _ndimage():
    try:
        from scipy import ndimage
    except ImportError as e:
        raise ImportError(
            "Image augmentation (rotation, shift, shear, zoom) needs SciPy, "
            f"which is not installed ({e}). Install the image extra: `pip "
            "install gkeras[image]` (or `pip install scipy`).") from None
    return ndimage


def affine_transform_channels(x, matrix, offset, order=1, mode="nearest",
                              cval=0.0):
    """Resamples each channel of an image with one affine map.

    `out[c, i, j] = x[c][matrix @ (i, j) + offset]`, interpolated with a
    spline of `order`, points outside filled per `mode` (as
    `scipy.ndimage.affine_transform`).

    Args:
        x: array `(channels, rows, cols)`.
        matrix: `(2, 2)` float array (output -> input coordinates).
        offset: `(2,)` float array.
        order: spline order, 0 to 5.
        mode: `"constant"`, `"nearest"`, `"reflect"` or `"wrap"`.
        cval: fill value for `mode="constant"`.

    Returns:
        Array of the shape and dtype of `x`.
    """
    ndimage = _ndimage()
    matrix = np.asarray(matrix, dtype=np.float64)
    offset = np.asarray(offset, dtype=np.float64)
    out = np.empty_like(x)
    for c in range(x.shape[0]):
        ndimage.affine_transform(x[c], matrix, offset, output=out[c],
                                 order=order, mode=mode, cval=cval)
    return out

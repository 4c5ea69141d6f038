"""Image resampling on CuPy (cupyx.scipy.ndimage), for image augmentation.

The same entry points and signatures as `backend.cpu.image`.
"""

__all__ = ["affine_transform_channels"]


def affine_transform_channels(x, matrix, offset, order=1, mode="nearest",
                              cval=0.0):
    """Resamples each channel of an image with one affine map, on the GPU.

    See `gkeras.backend.cpu.image.affine_transform_channels`.

    Args:
        x: CuPy array `(channels, rows, cols)`.
        matrix: `(2, 2)` float array (output -> input coordinates).
        offset: `(2,)` float array.
        order: spline order, 0 to 5.
        mode: `"constant"`, `"nearest"`, `"reflect"` or `"wrap"`.
        cval: fill value for `mode="constant"`.

    Returns:
        CuPy array of the shape and dtype of `x`.
    """
    import cupy
    from cupyx.scipy import ndimage

    matrix = cupy.asarray(matrix, dtype=cupy.float64)
    offset = [float(v) for v in offset]
    out = cupy.empty_like(x)
    for c in range(x.shape[0]):
        ndimage.affine_transform(x[c], matrix, offset, output=out[c],
                                 order=order, mode=mode, cval=cval)
    return out

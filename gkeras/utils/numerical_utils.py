"""`to_categorical` and `normalize` (`keras.utils`), on NumPy arrays."""

import numpy as np


def _as_numpy(a):
    if type(a).__module__.split(".")[0] == "cupy":
        return a.get()  # device -> host
    return np.asarray(a)


def to_categorical(x, num_classes=None, dtype="float32"):
    """Converts a class vector (integers) to a binary class matrix.

    E.g. for use with `categorical_crossentropy`. A trailing axis of size 1
    is dropped first, as in Keras 3, so labels of shape `(n, 1)` give
    `(n, num_classes)`; labels of shape `(n, k)` with `k > 1` give
    `(n, k, num_classes)`.

    Args:
        x: Array-like of integer class values, from 0 to `num_classes - 1`.
        num_classes: Total number of classes. If `None`, it is inferred as
            `max(x) + 1`.
        dtype: The output dtype. Defaults to `"float32"` (Keras 3 returns
            float64 for NumPy input; the values are the same). Accepted for
            Keras 2 code, which passes it.

    Returns:
        A one-hot NumPy array of shape `x.shape + (num_classes,)` (after
        dropping a trailing axis of size 1); the class axis is last.

    Raises:
        ValueError: if a label is negative, not an integer, or not smaller
            than `num_classes`.

    Example:

    >>> to_categorical([0, 1, 2, 3], num_classes=4)
    array([[1., 0., 0., 0.],
           [0., 1., 0., 0.],
           [0., 0., 1., 0.],
           [0., 0., 0., 1.]], dtype=float32)
    """
    x = _as_numpy(x)
    if x.dtype == object or not (
            np.issubdtype(x.dtype, np.integer)
            or np.issubdtype(x.dtype, np.floating)
            or np.issubdtype(x.dtype, np.bool_)):
        raise ValueError(
            "`to_categorical` expects integer class labels. Received: "
            f"x with dtype {x.dtype}.")
    if np.issubdtype(x.dtype, np.floating):
        if not np.all(np.isfinite(x)) or np.any(x != np.round(x)):
            bad = x[~np.isfinite(x) | (x != np.round(x))].ravel()[0]
            raise ValueError(
                "`to_categorical` expects integer class labels. Received: "
                f"a non-integer label {bad!r}.")
    x = x.astype(np.int64)
    input_shape = x.shape
    if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
        input_shape = tuple(input_shape[:-1])
    x = x.reshape(-1)
    if num_classes is not None:
        if isinstance(num_classes, bool) or not isinstance(
                num_classes, (int, np.integer)) or num_classes < 1:
            raise ValueError(
                "`num_classes` must be a positive integer or None. "
                f"Received: num_classes={num_classes!r}")
        num_classes = int(num_classes)
    if x.size:
        smallest, largest = int(x.min()), int(x.max())
        if smallest < 0:
            raise ValueError(
                "`to_categorical` expects labels from 0 to num_classes - 1. "
                f"Received: a negative label {smallest}.")
        if num_classes is None:
            num_classes = largest + 1
        elif largest >= num_classes:
            raise ValueError(
                f"`to_categorical` received the label {largest}, which is "
                f"not smaller than num_classes={num_classes}. Labels must "
                "be in [0, num_classes); pass num_classes="
                f"{largest + 1} or more, or fix the labels.")
    elif num_classes is None:
        raise ValueError(
            "`to_categorical` cannot infer `num_classes` from an empty `x`. "
            "Pass `num_classes`.")
    categorical = np.zeros((x.shape[0], num_classes), dtype=dtype)
    categorical[np.arange(x.shape[0]), x] = 1
    return categorical.reshape(input_shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """Normalizes an array to unit norm along an axis.

    Slices whose norm is 0 are left unchanged (divided by 1).

    Args:
        x: Array to normalize.
        axis: Axis along which to normalize. Defaults to `-1`.
        order: Normalization order, as `np.linalg.norm` takes it (e.g.
            `order=2` for the L2 norm, `1` for L1). Defaults to `2`.

    Returns:
        A normalized copy of the array, of the same shape (a float array).

    Example:

    >>> normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
    array([[0.6, 0.8],
           [0. , 0. ]])
    """
    x = _as_numpy(x)
    if x.ndim == 0:
        raise ValueError(
            "`normalize` expects an array with at least one axis. "
            f"Received: x with shape {x.shape}.")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(
            f"`axis` {axis} is out of range for an input of shape {x.shape}.")
    norm = np.linalg.norm(x, order, axis, keepdims=True)
    norm = np.where(norm == 0, 1, norm)
    return x / norm

"""`ZeroPadding1D/2D/3D`: pad the spatial axes with zeros."""

from gkeras import ops
from gkeras.backend.config import standardize_data_format
from gkeras.layers.input_spec import InputSpec
from gkeras.layers.layer import Layer


def standardize_pairs(value, rank, name, who):
    """int | (a, b, ...) | ((a0, a1), ...) -> one (before, after) pair per
    spatial axis, checked (>= 0)."""
    def bad():
        return ValueError(
            f"{who}: `{name}` should be an int, a tuple of {rank} ints or a "
            f"tuple of {rank} tuples of 2 ints. Received {name}={value!r}")
    if isinstance(value, int) and not isinstance(value, bool):
        pairs = ((value, value),) * rank
    else:
        try:
            value_t = tuple(value)
        except TypeError:
            raise bad() from None
        if rank == 1 and len(value_t) == 2 and all(
                isinstance(v, int) for v in value_t):
            pairs = (value_t,)
        elif len(value_t) != rank:
            raise bad()
        else:
            pairs = []
            for v in value_t:
                if isinstance(v, int) and not isinstance(v, bool):
                    pairs.append((v, v))
                else:
                    try:
                        a, b = v
                    except (TypeError, ValueError):
                        raise bad() from None
                    pairs.append((a, b))
            pairs = tuple(pairs)
    for a, b in pairs:
        if not (isinstance(a, int) and isinstance(b, int)) or a < 0 or b < 0:
            raise ValueError(f"{who}: `{name}` entries must be non-negative "
                             f"ints. Received {name}={value!r}")
    return tuple((int(a), int(b)) for a, b in pairs)


def _spatial_axes(rank, data_format):
    return tuple(range(1, rank + 1)) if data_format == "channels_last" \
        else tuple(range(2, rank + 2))


class _BaseZeroPadding(Layer):
    rank = None

    def __init__(self, padding, data_format=None, **kwargs):
        super().__init__(**kwargs)
        who = f"{type(self).__name__} layer {self.name!r}"
        self.padding = standardize_pairs(padding, self.rank, "padding", who)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for ax, (a, b) in zip(_spatial_axes(self.rank, self.data_format),
                              self.padding):
            if out[ax] is not None:
                out[ax] += a + b
        return tuple(out)

    def call(self, inputs):
        widths = [(0, 0)] * (self.rank + 2)
        for ax, p in zip(_spatial_axes(self.rank, self.data_format),
                         self.padding):
            widths[ax] = p
        return ops.pad(inputs, widths)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding,
                "data_format": self.data_format}


class ZeroPadding1D(_BaseZeroPadding):
    """Zero-padding layer for 1D input (e.g. a temporal sequence).

    Args:
        padding: int (both sides), or `(before, after)`.
        data_format: `"channels_last"` (default: the steps are axis 1) or
            `"channels_first"` (`(batch, features, steps)`).

    Input shape:
        3D tensor `(batch_size, axis_to_pad, features)` (channels_last).

    Output shape:
        3D tensor `(batch_size, padded_axis, features)`.

    Example:
    >>> gkeras.layers.ZeroPadding1D(2)(np.ones((1, 3, 2))).shape
    (1, 7, 2)
    """

    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)

    def get_config(self):
        cfg = super().get_config()
        cfg["padding"] = self.padding[0]
        return cfg


class ZeroPadding2D(_BaseZeroPadding):
    """Zero-padding layer for 2D input (e.g. images).

    Args:
        padding: int (all sides), `(pad_h, pad_w)` (symmetric per axis),
            or `((top, bottom), (left, right))`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:
        4D tensor `(batch_size, rows, cols, channels)` (channels_last).

    Output shape:
        4D tensor `(batch_size, padded_rows, padded_cols, channels)`.

    Example:
    >>> gkeras.layers.ZeroPadding2D(padding=(1, 1))(np.ones((1, 4, 4, 3))).shape
    (1, 6, 6, 3)
    """

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_BaseZeroPadding):
    """Zero-padding layer for 3D data (spatial or spatio-temporal).

    Args:
        padding: int, a tuple of 3 ints, or 3 `(before, after)` pairs.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:
        5D tensor `(batch_size, dim1, dim2, dim3, channels)`
        (channels_last).

    Output shape:
        5D tensor with the three spatial axes padded.

    Example:
    >>> gkeras.layers.ZeroPadding3D(1)(np.ones((1, 2, 2, 2, 1))).shape
    (1, 4, 4, 4, 1)
    """

    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None,
                 **kwargs):
        super().__init__(padding, data_format, **kwargs)

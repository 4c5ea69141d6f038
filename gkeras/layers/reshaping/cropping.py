"""`Cropping1D/2D/3D`: remove cells at the borders of the spatial axes."""

from gkeras import ops
from gkeras.backend.config import standardize_data_format
from gkeras.layers.input_spec import InputSpec
from gkeras.layers.layer import Layer
from gkeras.layers.reshaping.zero_padding import (_spatial_axes,
                                                  standardize_pairs)


class _BaseCropping(Layer):
    rank = None

    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = standardize_pairs(cropping, self.rank, "cropping",
                                          self._who)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    @property
    def _who(self):
        return f"{type(self).__name__} layer {self.name!r}"

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for ax, (a, b) in zip(_spatial_axes(self.rank, self.data_format),
                              self.cropping):
            if out[ax] is not None:
                if a + b >= out[ax]:
                    raise ValueError(
                        f"{self._who}: cropping {self.cropping} leaves nothing "
                        f"of axis {ax} (size {out[ax]}; input shape "
                        f"{tuple(input_shape)}). Crop less than the size of "
                        "each axis.")
                out[ax] -= a + b
        return tuple(out)

    def call(self, inputs):
        self.compute_output_shape(inputs.shape)
        key = [slice(None)] * (self.rank + 2)
        for ax, (a, b) in zip(_spatial_axes(self.rank, self.data_format),
                              self.cropping):
            key[ax] = slice(a, inputs.shape[ax] - b)
        return ops.getitem(inputs, tuple(key))

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping,
                "data_format": self.data_format}


class Cropping1D(_BaseCropping):
    """Cropping layer for 1D input (e.g. a temporal sequence).

    Args:
        cropping: int (both ends) or `(start, end)`: cells removed at the
            start and end of the cropped axis.

    Input shape:
        3D tensor `(batch_size, axis_to_crop, features)`.

    Output shape:
        3D tensor `(batch_size, cropped_axis, features)`.

    Example:
    >>> gkeras.layers.Cropping1D((1, 2))(np.ones((2, 6, 3))).shape
    (2, 3, 3)
    """

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, "channels_last", **kwargs)

    def get_config(self):
        cfg = super().get_config()
        cfg.pop("data_format")
        cfg["cropping"] = self.cropping[0]
        return cfg


class Cropping2D(_BaseCropping):
    """Cropping layer for 2D input (e.g. images).

    Args:
        cropping: int (all sides), `(crop_h, crop_w)` (symmetric), or
            `((top, bottom), (left, right))`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:
        4D tensor `(batch_size, rows, cols, channels)` (channels_last).

    Output shape:
        4D tensor `(batch_size, cropped_rows, cropped_cols, channels)`.

    Example:
    >>> gkeras.layers.Cropping2D(((2, 2), (4, 4)))(np.ones((2, 28, 28, 3))).shape
    (2, 24, 20, 3)
    """

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None,
                 **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_BaseCropping):
    """Cropping layer for 3D data (spatial or spatio-temporal).

    Args:
        cropping: int, a tuple of 3 ints, or 3 `(start, end)` pairs.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:
        5D tensor `(batch_size, dim1, dim2, dim3, channels)`
        (channels_last).

    Output shape:
        5D tensor with the three spatial axes cropped.

    Example:
    >>> gkeras.layers.Cropping3D(1)(np.ones((1, 4, 4, 4, 2))).shape
    (1, 2, 2, 2, 2)
    """

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None,
                 **kwargs):
        super().__init__(cropping, data_format, **kwargs)

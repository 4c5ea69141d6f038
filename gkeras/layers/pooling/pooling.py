"""Pooling layers: Max/AveragePooling1D/2D/3D and the global poolings."""

from gkeras import ops
from gkeras.layers.pooling.base_pooling import (BaseGlobalPooling,
                                                BasePooling, masked_mean)


class MaxPooling1D(BasePooling):
    """1D max pooling: the maximum of each window over the steps axes.

    Args:
        pool_size: int or tuple of 1 ints, the window size.
        strides: int or tuple of 1 ints; None means `pool_size`.
        padding: `"valid"` or `"same"` (output size ceil(input / stride)).
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:
        (batch_size, steps, channels) (channels_last) or the channels-first equivalent.

    Output shape:
        The pooled spatial sizes: `(input - pool_size) // strides + 1`
        ("valid") or `ceil(input / strides)` ("same").

    Example:
    >>> x = np.random.rand(*(4, 10, 3)).astype("float32")
    >>> gkeras.layers.MaxPooling1D(2)(x).shape
    (4, 5, 3)
    """

    def __init__(self, pool_size=2, strides=None, padding="valid",
                 data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, 1, "max", padding=padding,
                         data_format=data_format, name=name, **kwargs)


class MaxPooling2D(BasePooling):
    """2D max pooling: the maximum of each window over the height, width axes.

    Args:
        pool_size: int or tuple of 2 ints, the window size.
        strides: int or tuple of 2 ints; None means `pool_size`.
        padding: `"valid"` or `"same"` (output size ceil(input / stride)).
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:
        (batch_size, height, width, channels) (channels_last) or the channels-first equivalent.

    Output shape:
        The pooled spatial sizes: `(input - pool_size) // strides + 1`
        ("valid") or `ceil(input / strides)` ("same").

    Example:
    >>> x = np.random.rand(*(4, 10, 10, 3)).astype("float32")
    >>> gkeras.layers.MaxPooling2D(2)(x).shape
    (4, 5, 5, 3)
    """

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid",
                 data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, 2, "max", padding=padding,
                         data_format=data_format, name=name, **kwargs)


class MaxPooling3D(BasePooling):
    """3D max pooling: the maximum of each window over the depth, height, width axes.

    Args:
        pool_size: int or tuple of 3 ints, the window size.
        strides: int or tuple of 3 ints; None means `pool_size`.
        padding: `"valid"` or `"same"` (output size ceil(input / stride)).
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:
        (batch_size, depth, height, width, channels) (channels_last) or the channels-first equivalent.

    Output shape:
        The pooled spatial sizes: `(input - pool_size) // strides + 1`
        ("valid") or `ceil(input / strides)` ("same").

    Example:
    >>> x = np.random.rand(*(4, 6, 6, 6, 3)).astype("float32")
    >>> gkeras.layers.MaxPooling3D(2)(x).shape
    (4, 3, 3, 3, 3)
    """

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid",
                 data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, 3, "max", padding=padding,
                         data_format=data_format, name=name, **kwargs)


class AveragePooling1D(BasePooling):
    """1D average pooling: the average of each window over the steps axes.

    Args:
        pool_size: int or tuple of 1 ints, the window size.
        strides: int or tuple of 1 ints; None means `pool_size`.
        padding: `"valid"` or `"same"` (output size ceil(input / stride)).
            With "same", padded cells are not counted in the average.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:
        (batch_size, steps, channels) (channels_last) or the channels-first equivalent.

    Output shape:
        The pooled spatial sizes: `(input - pool_size) // strides + 1`
        ("valid") or `ceil(input / strides)` ("same").

    Example:
    >>> x = np.random.rand(*(4, 10, 3)).astype("float32")
    >>> gkeras.layers.AveragePooling1D(2)(x).shape
    (4, 5, 3)
    """

    def __init__(self, pool_size=2, strides=None, padding="valid",
                 data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, 1, "average", padding=padding,
                         data_format=data_format, name=name, **kwargs)


class AveragePooling2D(BasePooling):
    """2D average pooling: the average of each window over the height, width axes.

    Args:
        pool_size: int or tuple of 2 ints, the window size.
        strides: int or tuple of 2 ints; None means `pool_size`.
        padding: `"valid"` or `"same"` (output size ceil(input / stride)).
            With "same", padded cells are not counted in the average.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:
        (batch_size, height, width, channels) (channels_last) or the channels-first equivalent.

    Output shape:
        The pooled spatial sizes: `(input - pool_size) // strides + 1`
        ("valid") or `ceil(input / strides)` ("same").

    Example:
    >>> x = np.random.rand(*(4, 10, 10, 3)).astype("float32")
    >>> gkeras.layers.AveragePooling2D(2)(x).shape
    (4, 5, 5, 3)
    """

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid",
                 data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, 2, "average", padding=padding,
                         data_format=data_format, name=name, **kwargs)


class AveragePooling3D(BasePooling):
    """3D average pooling: the average of each window over the depth, height, width axes.

    Args:
        pool_size: int or tuple of 3 ints, the window size.
        strides: int or tuple of 3 ints; None means `pool_size`.
        padding: `"valid"` or `"same"` (output size ceil(input / stride)).
            With "same", padded cells are not counted in the average.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:
        (batch_size, depth, height, width, channels) (channels_last) or the channels-first equivalent.

    Output shape:
        The pooled spatial sizes: `(input - pool_size) // strides + 1`
        ("valid") or `ceil(input / strides)` ("same").

    Example:
    >>> x = np.random.rand(*(4, 6, 6, 6, 3)).astype("float32")
    >>> gkeras.layers.AveragePooling3D(2)(x).shape
    (4, 3, 3, 3, 3)
    """

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid",
                 data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, 3, "average", padding=padding,
                         data_format=data_format, name=name, **kwargs)


class GlobalAveragePooling1D(BaseGlobalPooling):
    """Global average pooling over the steps axes.

    Args:
        data_format: `"channels_last"` (default) or `"channels_first"`.
        keepdims: keep the spatial axes (with size 1), as Keras's
            `keepdims=True`.

    Call arguments:
        inputs: the input tensor.
        mask: optional `(batch_size, steps)` boolean mask; masked steps
            are left out of the average.

    Input shape:
        (batch_size, steps, channels) (channels_last) or the channels-first equivalent.

    Output shape:
        `(batch_size, channels)`, or with `keepdims` the input's rank with
        size-1 spatial axes.

    Example:
    >>> x = np.random.rand(*(4, 10, 3)).astype("float32")
    >>> gkeras.layers.GlobalAveragePooling1D()(x).shape
    (4, 3)
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(1, data_format=data_format, keepdims=keepdims,
                         **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is not None:
            return masked_mean(inputs, mask, self._axes()[0],
                               self.data_format == "channels_last",
                               self.keepdims)
        return ops.mean(inputs, axis=self._axes(), keepdims=self.keepdims)

    def compute_mask(self, inputs, previous_mask):
        return None


class GlobalAveragePooling2D(BaseGlobalPooling):
    """Global average pooling over the height, width axes.

    Args:
        data_format: `"channels_last"` (default) or `"channels_first"`.
        keepdims: keep the spatial axes (with size 1), as Keras's
            `keepdims=True`.

    Input shape:
        (batch_size, height, width, channels) (channels_last) or the channels-first equivalent.

    Output shape:
        `(batch_size, channels)`, or with `keepdims` the input's rank with
        size-1 spatial axes.

    Example:
    >>> x = np.random.rand(*(4, 10, 10, 3)).astype("float32")
    >>> gkeras.layers.GlobalAveragePooling2D()(x).shape
    (4, 3)
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(2, data_format=data_format, keepdims=keepdims,
                         **kwargs)

    def call(self, inputs):
        return ops.mean(inputs, axis=self._axes(), keepdims=self.keepdims)


class GlobalAveragePooling3D(BaseGlobalPooling):
    """Global average pooling over the depth, height, width axes.

    Args:
        data_format: `"channels_last"` (default) or `"channels_first"`.
        keepdims: keep the spatial axes (with size 1), as Keras's
            `keepdims=True`.

    Input shape:
        (batch_size, depth, height, width, channels) (channels_last) or the channels-first equivalent.

    Output shape:
        `(batch_size, channels)`, or with `keepdims` the input's rank with
        size-1 spatial axes.

    Example:
    >>> x = np.random.rand(*(4, 6, 6, 6, 3)).astype("float32")
    >>> gkeras.layers.GlobalAveragePooling3D()(x).shape
    (4, 3)
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(3, data_format=data_format, keepdims=keepdims,
                         **kwargs)

    def call(self, inputs):
        return ops.mean(inputs, axis=self._axes(), keepdims=self.keepdims)


class GlobalMaxPooling1D(BaseGlobalPooling):
    """Global max pooling over the steps axes.

    Args:
        data_format: `"channels_last"` (default) or `"channels_first"`.
        keepdims: keep the spatial axes (with size 1), as Keras's
            `keepdims=True`.

    Input shape:
        (batch_size, steps, channels) (channels_last) or the channels-first equivalent.

    Output shape:
        `(batch_size, channels)`, or with `keepdims` the input's rank with
        size-1 spatial axes.

    Example:
    >>> x = np.random.rand(*(4, 10, 3)).astype("float32")
    >>> gkeras.layers.GlobalMaxPooling1D()(x).shape
    (4, 3)
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(1, data_format=data_format, keepdims=keepdims,
                         **kwargs)

    def call(self, inputs):
        return ops.max(inputs, axis=self._axes(), keepdims=self.keepdims)


class GlobalMaxPooling2D(BaseGlobalPooling):
    """Global max pooling over the height, width axes.

    Args:
        data_format: `"channels_last"` (default) or `"channels_first"`.
        keepdims: keep the spatial axes (with size 1), as Keras's
            `keepdims=True`.

    Input shape:
        (batch_size, height, width, channels) (channels_last) or the channels-first equivalent.

    Output shape:
        `(batch_size, channels)`, or with `keepdims` the input's rank with
        size-1 spatial axes.

    Example:
    >>> x = np.random.rand(*(4, 10, 10, 3)).astype("float32")
    >>> gkeras.layers.GlobalMaxPooling2D()(x).shape
    (4, 3)
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(2, data_format=data_format, keepdims=keepdims,
                         **kwargs)

    def call(self, inputs):
        return ops.max(inputs, axis=self._axes(), keepdims=self.keepdims)


class GlobalMaxPooling3D(BaseGlobalPooling):
    """Global max pooling over the depth, height, width axes.

    Args:
        data_format: `"channels_last"` (default) or `"channels_first"`.
        keepdims: keep the spatial axes (with size 1), as Keras's
            `keepdims=True`.

    Input shape:
        (batch_size, depth, height, width, channels) (channels_last) or the channels-first equivalent.

    Output shape:
        `(batch_size, channels)`, or with `keepdims` the input's rank with
        size-1 spatial axes.

    Example:
    >>> x = np.random.rand(*(4, 6, 6, 6, 3)).astype("float32")
    >>> gkeras.layers.GlobalMaxPooling3D()(x).shape
    (4, 3)
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(3, data_format=data_format, keepdims=keepdims,
                         **kwargs)

    def call(self, inputs):
        return ops.max(inputs, axis=self._axes(), keepdims=self.keepdims)


# Keras-2 spellings that Keras 3 still exports.
MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
MaxPool3D = MaxPooling3D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
AvgPool3D = AveragePooling3D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalAvgPool3D = GlobalAveragePooling3D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
GlobalMaxPool3D = GlobalMaxPooling3D

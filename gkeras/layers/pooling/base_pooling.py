"""Shared machinery of the pooling layers."""

from gkeras import ops
from gkeras.backend.config import standardize_data_format
from gkeras.layers.convolutional.base_conv import (rank_hint,
                                                   standardize_padding,
                                                   standardize_tuple)
from gkeras.layers.input_spec import InputSpec
from gkeras.layers.layer import Layer
from gkeras.ops.conv import (_to_first, _to_last, conv_output_length,
                             pool_channels_last)


class BasePooling(Layer):
    """Abstract max/average pooling over 1 to 3 spatial dims.

    Args:
        pool_size: int or tuple of `rank` ints.
        strides: int or tuple; None means `pool_size`.
        rank: number of spatial dims.
        mode: `"max"` or `"average"`.
        padding: `"valid"` or `"same"` (average pooling then divides by the
            number of real cells in each window, as Keras does).
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    def __init__(self, pool_size, strides, rank, mode, padding="valid",
                 data_format=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        who = self._who
        self.rank = rank
        self.pool_size = standardize_tuple(pool_size, rank, "pool_size", who)
        strides = pool_size if strides is None else strides
        self.strides = standardize_tuple(strides, rank, "strides", who)
        self.pool_mode = mode
        self.padding = standardize_padding(padding, who)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=rank + 2)

    @property
    def _who(self):
        return f"{type(self).__name__} layer {self.name!r}"

    def _rank_hint(self, shape):
        return rank_hint(self, shape, self.rank)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        last = self.data_format == "channels_last"
        spatial = input_shape[1:-1] if last else input_shape[2:]
        out = tuple(conv_output_length(n, k, s, self.padding)
                    for n, k, s in zip(spatial, self.pool_size,
                                       self.strides))
        for i, o in enumerate(out):
            if o is not None and o <= 0:
                raise ValueError(
                    f"{self._who}: pool_size={self.pool_size} is larger than "
                    f"the input (spatial axis {i}; input shape {input_shape}) "
                    f"with padding={self.padding!r}, so the output would be "
                    "empty. Use a smaller pool_size or padding='same'.")
        if last:
            return (input_shape[0], *out, input_shape[-1])
        return (input_shape[0], input_shape[1], *out)

    def call(self, inputs):
        first = self.data_format == "channels_first"
        x = _to_last(inputs, self.rank) if first else inputs
        y = pool_channels_last(x, "max" if self.pool_mode == "max" else
                               "avg", self.pool_size, self.strides,
                               self.padding, self._who)
        return _to_first(y, self.rank) if first else y

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size,
                "padding": self.padding, "strides": self.strides,
                "data_format": self.data_format}


class BaseGlobalPooling(Layer):
    """Abstract global (whole spatial extent) pooling.

    Args:
        rank: number of spatial dims.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        keepdims: keep the spatial axes with size 1.
    """

    def __init__(self, rank, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.data_format = standardize_data_format(data_format)
        self.keepdims = keepdims
        self.input_spec = InputSpec(ndim=rank + 2)

    def _rank_hint(self, shape):
        return rank_hint(self, shape, self.rank)

    def _axes(self):
        if self.data_format == "channels_last":
            return tuple(range(1, self.rank + 1))
        return tuple(range(2, self.rank + 2))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        axes = self._axes()
        if self.keepdims:
            return tuple(1 if i in axes else s
                         for i, s in enumerate(input_shape))
        return tuple(s for i, s in enumerate(input_shape) if i not in axes)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


def masked_mean(inputs, mask, axis, channels_last, keepdims):
    """Mean over `axis` (the steps axis) counting only unmasked steps."""
    m = ops.cast(mask, inputs.dtype)
    m = ops.expand_dims(m, 2 if channels_last else 1)
    total = ops.sum(ops.multiply(inputs, m), axis=axis, keepdims=keepdims)
    return ops.divide(total, ops.sum(m, axis=axis, keepdims=keepdims))

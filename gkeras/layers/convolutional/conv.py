"""Convolution layers: Conv1D/2D/3D, their transposes, depthwise and
separable convolutions (Keras 3 arguments, weights and configs)."""
from gkeras.layers.convolutional.base_conv import (BaseConv,
                                                   BaseConvTranspose,
                                                   BaseDepthwiseConv,
                                                   BaseSeparableConv)


class Conv1D(BaseConv):
    """1D convolution layer.

    Convolves a kernel over the steps axes of the input, adds a bias and
    applies the activation.

    Args:
        filters: number of output channels.
        kernel_size: int or tuple of 1 ints.
        strides: int or tuple of 1 ints; > 1 is incompatible with
            `dilation_rate` > 1.
        padding: `"valid"`, `"same"` or `"causal"` (output[t] sees
            only input[:t + 1]).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        dilation_rate: int or tuple of 1 ints.
        groups: number of channel groups; the input channels and `filters`
            must both be divisible by it.
        activation: activation function; None means linear.
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: initializers (defaults
            `"glorot_uniform"`, `"zeros"`).
        kernel_regularizer, bias_regularizer, activity_regularizer:
            optional regularizers.
        kernel_constraint, bias_constraint: optional constraints.

    Input shape:
        (batch_size, steps, channels) (channels_last) or the channels-first equivalent.

    Output shape:
        (batch_size, new_steps, filters).

    Example:
    >>> x = np.random.rand(*(4, 10, 8)).astype("float32")
    >>> gkeras.layers.Conv1D(16, 3, activation="relu")(x).shape
    (4, 8, 16)
    """

    _allow_causal = True

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, groups=1,
                 activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(
            1, filters, kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate,
            groups=groups, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint, **kwargs)

class Conv2D(BaseConv):
    """2D convolution layer.

    Convolves a kernel over the height, width axes of the input, adds a bias and
    applies the activation.

    Args:
        filters: number of output channels.
        kernel_size: int or tuple of 2 ints.
        strides: int or tuple of 2 ints; > 1 is incompatible with
            `dilation_rate` > 1.
        padding: `"valid"` or `"same"` (the odd padding cell goes after).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        dilation_rate: int or tuple of 2 ints.
        groups: number of channel groups; the input channels and `filters`
            must both be divisible by it.
        activation: activation function; None means linear.
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: initializers (defaults
            `"glorot_uniform"`, `"zeros"`).
        kernel_regularizer, bias_regularizer, activity_regularizer:
            optional regularizers.
        kernel_constraint, bias_constraint: optional constraints.

    Input shape:
        (batch_size, height, width, channels) (channels_last) or the channels-first equivalent.

    Output shape:
        (batch_size, new_height, new_width, filters).

    Example:
    >>> x = np.random.rand(*(4, 10, 10, 8)).astype("float32")
    >>> gkeras.layers.Conv2D(16, 3, activation="relu")(x).shape
    (4, 8, 8, 16)
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, groups=1,
                 activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(
            2, filters, kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate,
            groups=groups, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint, **kwargs)

class Conv3D(BaseConv):
    """3D convolution layer.

    Convolves a kernel over the depth, height, width axes of the input, adds a bias and
    applies the activation.

    Args:
        filters: number of output channels.
        kernel_size: int or tuple of 3 ints.
        strides: int or tuple of 3 ints; > 1 is incompatible with
            `dilation_rate` > 1.
        padding: `"valid"` or `"same"` (the odd padding cell goes after).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        dilation_rate: int or tuple of 3 ints.
        groups: number of channel groups; the input channels and `filters`
            must both be divisible by it.
        activation: activation function; None means linear.
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: initializers (defaults
            `"glorot_uniform"`, `"zeros"`).
        kernel_regularizer, bias_regularizer, activity_regularizer:
            optional regularizers.
        kernel_constraint, bias_constraint: optional constraints.

    Input shape:
        (batch_size, depth, height, width, channels) (channels_last) or the channels-first equivalent.

    Output shape:
        (batch_size, new_depth, new_height, new_width, filters).

    Example:
    >>> x = np.random.rand(*(4, 6, 6, 6, 8)).astype("float32")
    >>> gkeras.layers.Conv3D(16, 3, activation="relu")(x).shape
    (4, 4, 4, 4, 16)
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, groups=1,
                 activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(
            3, filters, kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate,
            groups=groups, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint, **kwargs)


class Conv1DTranspose(BaseConvTranspose):
    """1D transposed convolution layer (sometimes called deconvolution).

    The gradient of a `Conv1D` with respect to its input, used to upsample
    (steps grow by about `strides`).

    Args:
        filters: number of output channels.
        kernel_size: int or tuple of 1 ints.
        strides: int or tuple of 1 ints.
        padding: `"valid"` or `"same"`.
        output_padding: int or tuple of 1 ints, each smaller than its
            stride, the extra cells added after on each axis; None infers
            the output size.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        dilation_rate: int or tuple of 1 ints.
        activation: activation function; None means linear.
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: initializers (defaults
            `"glorot_uniform"`, `"zeros"`).
        kernel_regularizer, bias_regularizer, activity_regularizer:
            optional regularizers.
        kernel_constraint, bias_constraint: optional constraints.

    Input shape:
        (batch_size, steps, channels) (channels_last) or the channels-first equivalent.

    Output shape:
        (batch_size, new_steps, filters); with padding="same" each spatial size is the input's
        times the stride.

    Example:
    >>> x = np.random.rand(*(4, 5, 8)).astype("float32")
    >>> gkeras.layers.Conv1DTranspose(16, 3, strides=2,
    ...                                  padding="same")(x).shape
    (4, 10, 16)
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 output_padding=None, data_format=None, dilation_rate=1,
                 activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(
            1, filters, kernel_size, strides=strides, padding=padding,
            output_padding=output_padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint, **kwargs)


class Conv2DTranspose(BaseConvTranspose):
    """2D transposed convolution layer (sometimes called deconvolution).

    The gradient of a `Conv2D` with respect to its input, used to upsample
    (height, width grow by about `strides`).

    Args:
        filters: number of output channels.
        kernel_size: int or tuple of 2 ints.
        strides: int or tuple of 2 ints.
        padding: `"valid"` or `"same"`.
        output_padding: int or tuple of 2 ints, each smaller than its
            stride, the extra cells added after on each axis; None infers
            the output size.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        dilation_rate: int or tuple of 2 ints.
        activation: activation function; None means linear.
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: initializers (defaults
            `"glorot_uniform"`, `"zeros"`).
        kernel_regularizer, bias_regularizer, activity_regularizer:
            optional regularizers.
        kernel_constraint, bias_constraint: optional constraints.

    Input shape:
        (batch_size, height, width, channels) (channels_last) or the channels-first equivalent.

    Output shape:
        (batch_size, new_height, new_width, filters); with padding="same" each spatial size is the input's
        times the stride.

    Example:
    >>> x = np.random.rand(*(4, 5, 5, 8)).astype("float32")
    >>> gkeras.layers.Conv2DTranspose(16, 3, strides=2,
    ...                                  padding="same")(x).shape
    (4, 10, 10, 16)
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 output_padding=None, data_format=None, dilation_rate=1,
                 activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(
            2, filters, kernel_size, strides=strides, padding=padding,
            output_padding=output_padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint, **kwargs)


class Conv3DTranspose(BaseConvTranspose):
    """3D transposed convolution layer (sometimes called deconvolution).

    The gradient of a `Conv3D` with respect to its input, used to upsample
    (depth, height, width grow by about `strides`).

    Args:
        filters: number of output channels.
        kernel_size: int or tuple of 3 ints.
        strides: int or tuple of 3 ints.
        padding: `"valid"` or `"same"`.
        output_padding: int or tuple of 3 ints, each smaller than its
            stride, the extra cells added after on each axis; None infers
            the output size.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        dilation_rate: int or tuple of 3 ints.
        activation: activation function; None means linear.
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: initializers (defaults
            `"glorot_uniform"`, `"zeros"`).
        kernel_regularizer, bias_regularizer, activity_regularizer:
            optional regularizers.
        kernel_constraint, bias_constraint: optional constraints.

    Input shape:
        (batch_size, depth, height, width, channels) (channels_last) or the channels-first equivalent.

    Output shape:
        (batch_size, new_depth, new_height, new_width, filters); with padding="same" each spatial size is the input's
        times the stride.

    Example:
    >>> x = np.random.rand(*(4, 3, 3, 3, 8)).astype("float32")
    >>> gkeras.layers.Conv3DTranspose(16, 3, strides=2,
    ...                                  padding="same")(x).shape
    (4, 6, 6, 6, 16)
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 output_padding=None, data_format=None, dilation_rate=1,
                 activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(
            3, filters, kernel_size, strides=strides, padding=padding,
            output_padding=output_padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint, **kwargs)


class DepthwiseConv1D(BaseDepthwiseConv):
    """1D depthwise convolution layer.

    Each input channel is convolved with its own `depth_multiplier`
    kernels; output channel `c * depth_multiplier + m` comes from input
    channel `c`.

    Args:
        kernel_size: int or tuple of 1 ints.
        strides: int or tuple of 1 ints.
        padding: `"valid"` or `"same"`.
        depth_multiplier: output channels per input channel.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        dilation_rate: int or tuple of 1 ints.
        activation: activation function; None means linear.
        use_bias: whether to add a bias vector.
        depthwise_initializer, bias_initializer: initializers.
        depthwise_regularizer, bias_regularizer, activity_regularizer:
            optional regularizers.
        depthwise_constraint, bias_constraint: optional constraints.

    Input shape:
        (batch_size, steps, channels) (channels_last) or the channels-first equivalent.

    Output shape:
        The convolved spatial sizes, `channels * depth_multiplier`
        channels.

    Example:
    >>> x = np.random.rand(*(4, 10, 3)).astype("float32")
    >>> gkeras.layers.DepthwiseConv1D(3, depth_multiplier=2)(x).shape
    (4, 8, 6)
    """

    def __init__(self, kernel_size, strides=1, padding="valid",
                 depth_multiplier=1, data_format=None, dilation_rate=1,
                 activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(
            1, depth_multiplier, kernel_size, strides=strides,
            padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation,
            use_bias=use_bias, depthwise_initializer=depthwise_initializer,
            bias_initializer=bias_initializer,
            depthwise_regularizer=depthwise_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            depthwise_constraint=depthwise_constraint,
            bias_constraint=bias_constraint, **kwargs)


class DepthwiseConv2D(BaseDepthwiseConv):
    """2D depthwise convolution layer.

    Each input channel is convolved with its own `depth_multiplier`
    kernels; output channel `c * depth_multiplier + m` comes from input
    channel `c`.

    Args:
        kernel_size: int or tuple of 2 ints.
        strides: int or tuple of 2 ints.
        padding: `"valid"` or `"same"`.
        depth_multiplier: output channels per input channel.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        dilation_rate: int or tuple of 2 ints.
        activation: activation function; None means linear.
        use_bias: whether to add a bias vector.
        depthwise_initializer, bias_initializer: initializers.
        depthwise_regularizer, bias_regularizer, activity_regularizer:
            optional regularizers.
        depthwise_constraint, bias_constraint: optional constraints.

    Input shape:
        (batch_size, height, width, channels) (channels_last) or the channels-first equivalent.

    Output shape:
        The convolved spatial sizes, `channels * depth_multiplier`
        channels.

    Example:
    >>> x = np.random.rand(*(4, 10, 10, 3)).astype("float32")
    >>> gkeras.layers.DepthwiseConv2D(3, depth_multiplier=2)(x).shape
    (4, 8, 8, 6)
    """

    def __init__(self, kernel_size, strides=1, padding="valid",
                 depth_multiplier=1, data_format=None, dilation_rate=1,
                 activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(
            2, depth_multiplier, kernel_size, strides=strides,
            padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation,
            use_bias=use_bias, depthwise_initializer=depthwise_initializer,
            bias_initializer=bias_initializer,
            depthwise_regularizer=depthwise_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            depthwise_constraint=depthwise_constraint,
            bias_constraint=bias_constraint, **kwargs)


class SeparableConv1D(BaseSeparableConv):
    """1D separable convolution: a depthwise convolution, then a
    pointwise (1x1) convolution mixing the channels.

    Args:
        filters: output channels.
        kernel_size: int or tuple of 1 ints (of the depthwise step).
        strides: int or tuple of 1 ints (of the depthwise step).
        padding: `"valid"` or `"same"`.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        dilation_rate: int or tuple of 1 ints.
        depth_multiplier: depthwise output channels per input channel.
        activation: activation function; None means linear.
        use_bias: whether to add a bias vector.
        depthwise_initializer, pointwise_initializer, bias_initializer:
            initializers.
        depthwise_regularizer, pointwise_regularizer, bias_regularizer,
        activity_regularizer: optional regularizers.
        depthwise_constraint, pointwise_constraint, bias_constraint:
            optional constraints.

    Input shape:
        (batch_size, steps, channels) (channels_last) or the channels-first equivalent.

    Output shape:
        The convolved spatial sizes, `filters` channels.

    Example:
    >>> x = np.random.rand(*(4, 10, 3)).astype("float32")
    >>> gkeras.layers.SeparableConv1D(16, 3)(x).shape
    (4, 8, 16)
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, depth_multiplier=1,
                 activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(
            1, depth_multiplier, filters, kernel_size, strides=strides,
            padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation,
            use_bias=use_bias, depthwise_initializer=depthwise_initializer,
            pointwise_initializer=pointwise_initializer,
            bias_initializer=bias_initializer,
            depthwise_regularizer=depthwise_regularizer,
            pointwise_regularizer=pointwise_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            depthwise_constraint=depthwise_constraint,
            pointwise_constraint=pointwise_constraint,
            bias_constraint=bias_constraint, **kwargs)


class SeparableConv2D(BaseSeparableConv):
    """2D separable convolution: a depthwise convolution, then a
    pointwise (1x1) convolution mixing the channels.

    Args:
        filters: output channels.
        kernel_size: int or tuple of 2 ints (of the depthwise step).
        strides: int or tuple of 2 ints (of the depthwise step).
        padding: `"valid"` or `"same"`.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        dilation_rate: int or tuple of 2 ints.
        depth_multiplier: depthwise output channels per input channel.
        activation: activation function; None means linear.
        use_bias: whether to add a bias vector.
        depthwise_initializer, pointwise_initializer, bias_initializer:
            initializers.
        depthwise_regularizer, pointwise_regularizer, bias_regularizer,
        activity_regularizer: optional regularizers.
        depthwise_constraint, pointwise_constraint, bias_constraint:
            optional constraints.

    Input shape:
        (batch_size, height, width, channels) (channels_last) or the channels-first equivalent.

    Output shape:
        The convolved spatial sizes, `filters` channels.

    Example:
    >>> x = np.random.rand(*(4, 10, 10, 3)).astype("float32")
    >>> gkeras.layers.SeparableConv2D(16, 3)(x).shape
    (4, 8, 8, 16)
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, depth_multiplier=1,
                 activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(
            2, depth_multiplier, filters, kernel_size, strides=strides,
            padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation,
            use_bias=use_bias, depthwise_initializer=depthwise_initializer,
            pointwise_initializer=pointwise_initializer,
            bias_initializer=bias_initializer,
            depthwise_regularizer=depthwise_regularizer,
            pointwise_regularizer=pointwise_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            depthwise_constraint=depthwise_constraint,
            pointwise_constraint=pointwise_constraint,
            bias_constraint=bias_constraint, **kwargs)


# Keras-2 spellings that Keras 3 still exports.
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D

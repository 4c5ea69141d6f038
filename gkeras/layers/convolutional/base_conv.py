"""Shared machinery of the convolution layers: argument checks, weights,
shape inference, the rank error with its fix, bias and activation."""

import numpy as np

from gkeras import activations, constraints, initializers, ops, regularizers
from gkeras.backend.config import standardize_data_format
from gkeras.layers.input_spec import InputSpec
from gkeras.layers.layer import Layer
from gkeras.ops.conv import (conv_output_length, conv_transpose_output_length,
                             _to_first, _to_last)

_SPATIAL = {1: "steps", 2: "height, width", 3: "depth, height, width"}


def standardize_tuple(value, n, name, who, allow_zero=False):
    """`value` (int or iterable) as a tuple of `n` ints, checked."""
    if isinstance(value, int) and not isinstance(value, bool):
        out = (value,) * n
    else:
        try:
            out = tuple(value)
        except TypeError:
            raise ValueError(f"{who}: the `{name}` argument must be a tuple "
                             f"of {n} integers. Received {name}={value!r}"
                             ) from None
        if len(out) != n:
            raise ValueError(f"{who}: the `{name}` argument must be a tuple "
                             f"of {n} integers. Received {name}={value!r}")
    for v in out:
        ok = isinstance(v, int) and not isinstance(v, bool) and (
            v >= 0 if allow_zero else v > 0)
        if not ok:
            want = ">= 0" if allow_zero else "> 0"
            raise ValueError(f"{who}: the `{name}` argument must be a tuple "
                             f"of {n} integers {want}. Received {name}="
                             f"{value!r}")
    return out


def standardize_padding(padding, who, allow_causal=False):
    p = str(padding).lower()
    allowed = ("valid", "same", "causal") if allow_causal else ("valid",
                                                                "same")
    if p not in allowed:
        raise ValueError(f"{who}: `padding` must be one of {allowed}. "
                         f"Received: padding={padding!r}")
    return p


def rank_hint(layer, shape, rank):
    """The fix to suggest when a conv/pool layer gets the wrong rank."""
    cls = type(layer).__name__
    sp = _SPATIAL[rank]
    if layer.data_format == "channels_first":
        want = f"(batch_size, channels, {sp})"
    else:
        want = f"(batch_size, {sp}, channels)"
    msg = f"{cls} expects inputs of shape {want}."
    if len(shape) == rank + 1:
        chan = "x[:, None]" if layer.data_format == "channels_first" \
            else "x[..., None]"
        msg += (f" Your input looks like single-channel data without a "
                f"channel axis: add one, e.g. `{chan}` (NumPy) or a "
                f"Reshape(({', '.join(str(s) for s in shape[1:])}, 1)) "
                f"layer before it.")
    return msg


def _check_depth_multiplier(depth_multiplier, who):
    """Validates the `depth_multiplier` of depthwise/separable layers."""
    if not isinstance(depth_multiplier, int) or depth_multiplier <= 0:
        raise ValueError(
            f"{who}: invalid value for argument `depth_multiplier`."
            f" Expected a strictly positive integer. Received "
            f"depth_multiplier={depth_multiplier!r}")
    return depth_multiplier


def _add_depthwise_kernel(layer, name, channels):
    """Creates the `kernel_size + (channels, depth_multiplier)` depthwise
    kernel (held as `kernel_*` attributes on the layer)."""
    return layer.add_weight(
        name=name,
        shape=layer.kernel_size + (channels, layer.depth_multiplier),
        initializer=layer.kernel_initializer,
        regularizer=layer.kernel_regularizer,
        constraint=layer.kernel_constraint)


def _depthwise_conv(layer, x, kernel):
    """Depthwise convolution of channels-last `x` as a grouped conv."""
    from gkeras.ops.conv import _depthwise_as_grouped, conv_channels_last
    kg, c = _depthwise_as_grouped(kernel)
    return conv_channels_last(x, kg, layer.strides, layer.padding,
                              layer.dilation_rate, c, layer._who)


def _depthwise_weight_config(layer, pointwise):
    """The Keras initializer/regularizer/constraint config entries of a
    depthwise (`pointwise=False`) or separable (`pointwise=True`) layer,
    in Keras's key order."""
    config = {}
    for kind, module in (("initializer", initializers),
                         ("regularizer", regularizers),
                         ("constraint", constraints)):
        config[f"depthwise_{kind}"] = module.serialize(
            getattr(layer, f"kernel_{kind}"))
        if pointwise:
            config[f"pointwise_{kind}"] = module.serialize(
                getattr(layer, f"pointwise_{kind}"))
        config[f"bias_{kind}"] = module.serialize(
            getattr(layer, f"bias_{kind}"))
        if kind == "regularizer":
            config["activity_regularizer"] = regularizers.serialize(
                layer.activity_regularizer)
    return config


class BaseConv(Layer):
    """Abstract N-D convolution layer (Conv1D/2D/3D share it).

    Args:
        rank: number of spatial dims.
        filters: number of output channels.
        kernel_size: int or tuple of `rank` ints.
        strides: int or tuple; > 1 cannot be combined with dilation > 1.
        padding: `"valid"`, `"same"` (or `"causal"` for `rank=1`).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        dilation_rate: int or tuple.
        groups: number of channel groups (must divide the input channels
            and `filters`).
        activation: activation function (name or callable); None = linear.
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: initializers.
        kernel_regularizer, bias_regularizer, activity_regularizer:
            optional regularizers.
        kernel_constraint, bias_constraint: optional constraints.
        lora_rank, lora_alpha: not supported (must be None).
    """

    _allow_causal = False

    def __init__(self, rank, filters, kernel_size, strides=1,
                 padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None,
                 lora_rank=None, lora_alpha=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        who = f"{type(self).__name__} layer {self.name!r}"
        if lora_rank is not None or lora_alpha is not None:
            raise NotImplementedError(
                f"{who}: LoRA (`lora_rank`/`lora_alpha`) is not supported by "
                "gkeras.")
        self.rank = rank
        if filters is not None:
            if not isinstance(filters, int) or isinstance(filters, bool) \
                    or filters <= 0:
                raise ValueError(
                    f"{who}: invalid value for argument `filters`. Expected a "
                    f"strictly positive integer. Received filters={filters!r}")
        self.filters = filters
        self.groups = groups if groups is not None else 1
        if not isinstance(self.groups, int) or self.groups < 1:
            raise ValueError(f"{who}: `groups` must be a positive integer. "
                             f"Received groups={groups!r}")
        self.kernel_size = standardize_tuple(kernel_size, rank,
                                             "kernel_size", who)
        self.strides = standardize_tuple(strides, rank, "strides", who)
        self.dilation_rate = standardize_tuple(dilation_rate, rank,
                                               "dilation_rate", who)
        self.padding = standardize_padding(
            padding, who, allow_causal=self._allow_causal and rank == 1)
        self.data_format = standardize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(ndim=rank + 2)
        if filters is not None and filters % self.groups:
            raise ValueError(
                f"{who}: the number of filters must be evenly divisible by "
                f"the number of groups. Received: groups={self.groups}, "
                f"filters={filters}.")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{who}: `strides > 1` is not compatible with "
                f"`dilation_rate > 1`. Received: strides={self.strides}, "
                f"dilation_rate={self.dilation_rate}.")

    # -- helpers ---------------------------------------------------------
    @property
    def _who(self):
        return f"{type(self).__name__} layer {self.name!r}"

    def _rank_hint(self, shape):
        return rank_hint(self, shape, self.rank)

    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def _input_channels(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"Input 0 of {self._who} is incompatible with the layer: "
                f"expected ndim={self.rank + 2}, found ndim="
                f"{len(input_shape)}. Full shape received: {input_shape}. "
                + self._rank_hint(input_shape))
        c = input_shape[self._channel_axis()]
        if c is None:
            raise ValueError(
                f"{self._who}: the channel dimension of the inputs should be "
                f"defined. Found None (input shape {input_shape}).")
        return c

    def _spatial(self, shape):
        shape = tuple(shape)
        return shape[1:-1] if self.data_format == "channels_last" \
            else shape[2:]

    def _with_spatial(self, shape, spatial, channels):
        if self.data_format == "channels_last":
            return (shape[0], *spatial, channels)
        return (shape[0], channels, *spatial)

    def _check_out(self, input_shape, out):
        for i, o in enumerate(out):
            if o is not None and o <= 0:
                raise ValueError(
                    f"{self._who}: the output would have size {o} on spatial "
                    f"axis {i}: the kernel (kernel_size={self.kernel_size}, "
                    f"dilation_rate={self.dilation_rate}) is larger than the "
                    f"padded input (input shape {tuple(input_shape)}, padding="
                    f"{self.padding!r}). Use a smaller kernel_size, "
                    "padding='same', or a larger input.")

    def _add_bias_and_activate(self, x, bias_added=False):
        if self.use_bias and not bias_added:
            if self.data_format == "channels_last":
                x = ops.add(x, self.bias)
            else:
                x = ops.add(x, ops.reshape(
                    self.bias, (1, -1) + (1,) * self.rank))
        if self.activation is not activations.linear:
            x = self.activation(x)
        return x

    def _to_last(self, x):
        return _to_last(x, self.rank) if \
            self.data_format == "channels_first" else x

    def _from_last(self, x):
        return _to_first(x, self.rank) if \
            self.data_format == "channels_first" else x

    def _add_bias_weight(self, size):
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(size,), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint)
        else:
            self.bias = None

    # -- Layer API -------------------------------------------------------
    def build(self, input_shape):
        c = self._input_channels(input_shape)
        if c % self.groups:
            raise ValueError(
                f"{self._who}: the number of input channels must be evenly "
                f"divisible by the number of groups. Received groups="
                f"{self.groups}, but the input has {c} channels (full input "
                f"shape is {tuple(input_shape)}).")
        self.kernel = self.add_weight(
            name="kernel",
            shape=self.kernel_size + (c // self.groups, self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        self._add_bias_weight(self.filters)
        self.input_spec = InputSpec(ndim=self.rank + 2,
                                    axes={self._channel_axis(): c})
        self.built = True

    def _out_spatial(self, input_shape):
        out = tuple(conv_output_length(n, k, s, self.padding, d) for n, k, s, d
                    in zip(self._spatial(input_shape), self.kernel_size,
                           self.strides, self.dilation_rate))
        self._check_out(input_shape, out)
        return out

    def compute_output_shape(self, input_shape):
        self._input_channels(input_shape)
        return self._with_spatial(input_shape, self._out_spatial(input_shape),
                                  self.filters)

    def call(self, inputs):
        from gkeras.ops.conv import conv_channels_last
        self._out_spatial(inputs.shape)
        x = self._to_last(inputs)
        bias = self._fusable_bias(x)
        y = conv_channels_last(x, self.kernel, self.strides, self.padding,
                               self.dilation_rate, self.groups, self._who,
                               bias=bias)
        return self._add_bias_and_activate(self._from_last(y),
                                           bias_added=bias is not None)

    def _fusable_bias(self, x):
        """The bias when the convolution node can add it itself: NumPy
        float32/float64 data with a bias of the same dtype (so mixed
        precision keeps its separate, rounded add), else None."""
        if not self.use_bias:
            return None
        a = getattr(x, "data", x)
        b = getattr(self.bias, "data", None)
        if (type(a) is np.ndarray and type(b) is np.ndarray
                and a.dtype == b.dtype and a.dtype in (np.float32,
                                                       np.float64)):
            return self.bias
        return None

    def _base_config(self):
        return {
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
        }

    def _tail_config(self):
        return {
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
        }

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            **self._base_config(),
            "groups": self.groups,
            **self._tail_config(),
            "kernel_initializer": initializers.serialize(
                self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(
                self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(
                self.activity_regularizer),
            "kernel_constraint": constraints.serialize(
                self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


class BaseConvTranspose(BaseConv):
    """Abstract N-D transposed convolution layer.

    Args:
        rank: number of spatial dims.
        filters: number of output channels.
        kernel_size, strides, padding ('valid'/'same'), data_format,
        dilation_rate, activation, use_bias, initializers, regularizers,
        constraints: as in `BaseConv`.
        output_padding: int or tuple (each smaller than its stride), or
            None to infer the output size.
    """

    def __init__(self, rank, filters, kernel_size, strides=1,
                 padding="valid", output_padding=None, data_format=None,
                 dilation_rate=1, **kwargs):
        super().__init__(rank, filters, kernel_size, strides=strides,
                         padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, **kwargs)
        if output_padding is None:
            self.output_padding = None
        else:
            self.output_padding = standardize_tuple(
                output_padding, rank, "output_padding", self._who,
                allow_zero=True)
            for op, s in zip(self.output_padding, self.strides):
                if op >= s:
                    raise ValueError(
                        f"{self._who}: `output_padding` must be smaller than "
                        f"`strides` on every axis. Received output_padding="
                        f"{self.output_padding}, strides={self.strides}.")

    def build(self, input_shape):
        c = self._input_channels(input_shape)
        self.kernel = self.add_weight(
            name="kernel", shape=self.kernel_size + (self.filters, c),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        self._add_bias_weight(self.filters)
        self.input_spec = InputSpec(ndim=self.rank + 2,
                                    axes={self._channel_axis(): c})
        self.built = True

    def _out_spatial(self, input_shape):
        ops_ = self.output_padding or (None,) * self.rank
        out = tuple(conv_transpose_output_length(n, k, s, self.padding, op, d)
                    for n, k, s, op, d in zip(
                        self._spatial(input_shape), self.kernel_size,
                        self.strides, ops_, self.dilation_rate))
        self._check_out(input_shape, out)
        return out

    def call(self, inputs):
        from gkeras.ops.conv import conv_transpose_channels_last
        x = self._to_last(inputs)
        y = conv_transpose_channels_last(
            x, self.kernel, self.strides, self.padding, self.output_padding,
            self.dilation_rate, self._who)
        return self._add_bias_and_activate(self._from_last(y))

    def get_config(self):
        cfg = super().get_config()
        cfg.pop("groups")
        out = {}
        for k, v in cfg.items():
            out[k] = v
            if k == "padding":
                out["output_padding"] = self.output_padding
        return out


class BaseDepthwiseConv(BaseConv):
    """Abstract depthwise convolution layer.

    Args:
        rank: number of spatial dims.
        depth_multiplier: output channels per input channel.
        kernel_size, strides, padding, data_format, dilation_rate,
        activation, use_bias: as in `BaseConv`.
        depthwise_initializer, bias_initializer: initializers.
        depthwise_regularizer, bias_regularizer, activity_regularizer:
            optional regularizers.
        depthwise_constraint, bias_constraint: optional constraints.
    """

    def __init__(self, rank, depth_multiplier, kernel_size, strides=1,
                 padding="valid", data_format=None, dilation_rate=1,
                 activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(
            rank, None, kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate,
            activation=activation, use_bias=use_bias,
            kernel_initializer=depthwise_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=depthwise_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=depthwise_constraint,
            bias_constraint=bias_constraint, **kwargs)
        self.depth_multiplier = _check_depth_multiplier(depth_multiplier,
                                                        self._who)

    def build(self, input_shape):
        c = self._input_channels(input_shape)
        self.kernel = _add_depthwise_kernel(self, "kernel", c)
        self._add_bias_weight(c * self.depth_multiplier)
        self.input_spec = InputSpec(ndim=self.rank + 2,
                                    axes={self._channel_axis(): c})
        self.built = True

    # Keras names the variable `kernel` (path .../kernel) but exposes it as
    # `depthwise_kernel` too.
    @property
    def depthwise_kernel(self):
        return self.kernel

    def compute_output_shape(self, input_shape):
        c = self._input_channels(input_shape)
        return self._with_spatial(input_shape, self._out_spatial(input_shape),
                                  c * self.depth_multiplier)

    def call(self, inputs):
        self._out_spatial(inputs.shape)
        y = _depthwise_conv(self, self._to_last(inputs), self.kernel)
        return self._add_bias_and_activate(self._from_last(y))

    def get_config(self):
        return {
            **Layer.get_config(self),
            "depth_multiplier": self.depth_multiplier,
            **self._base_config(),
            **self._tail_config(),
            **_depthwise_weight_config(self, pointwise=False),
        }


class BaseSeparableConv(BaseConv):
    """Abstract separable convolution: depthwise then pointwise (1x1).

    Args:
        rank: number of spatial dims.
        depth_multiplier: depthwise output channels per input channel.
        filters: output channels of the pointwise step.
        kernel_size, strides, padding, data_format, dilation_rate,
        activation, use_bias: as in `BaseConv` (strides, padding and
            dilation apply to the depthwise step).
        depthwise_initializer, pointwise_initializer, bias_initializer.
        depthwise_regularizer, pointwise_regularizer, bias_regularizer,
        activity_regularizer: optional regularizers.
        depthwise_constraint, pointwise_constraint, bias_constraint.
    """

    def __init__(self, rank, depth_multiplier, filters, kernel_size,
                 strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(
            rank, filters, kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate,
            activation=activation, use_bias=use_bias,
            kernel_initializer=depthwise_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=depthwise_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=depthwise_constraint,
            bias_constraint=bias_constraint, **kwargs)
        self.depth_multiplier = _check_depth_multiplier(depth_multiplier,
                                                        self._who)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape):
        c = self._input_channels(input_shape)
        self.depthwise_kernel = _add_depthwise_kernel(
            self, "depthwise_kernel", c)
        self.pointwise_kernel = self.add_weight(
            name="pointwise_kernel",
            shape=(1,) * self.rank + (c * self.depth_multiplier,
                                      self.filters),
            initializer=self.pointwise_initializer,
            regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint)
        self._add_bias_weight(self.filters)
        self.input_spec = InputSpec(ndim=self.rank + 2,
                                    axes={self._channel_axis(): c})
        self.built = True

    def call(self, inputs):
        from gkeras.ops.conv import conv_channels_last
        self._out_spatial(inputs.shape)
        y = _depthwise_conv(self, self._to_last(inputs),
                            self.depthwise_kernel)
        y = conv_channels_last(y, self.pointwise_kernel, (1,) * self.rank,
                               "valid", (1,) * self.rank, 1, self._who)
        return self._add_bias_and_activate(self._from_last(y))

    def get_config(self):
        return {
            **Layer.get_config(self),
            "depth_multiplier": self.depth_multiplier,
            "filters": self.filters,
            **self._base_config(),
            **self._tail_config(),
            **_depthwise_weight_config(self, pointwise=True),
        }

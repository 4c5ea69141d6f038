"""`GroupNormalization`: normalization over groups of channels."""

from gkeras import backend, constraints, initializers, ops, regularizers
from gkeras.layers.input_spec import InputSpec
from gkeras.layers.layer import Layer


class GroupNormalization(Layer):
    """Group normalization (Wu & He, 2018).

    The channels (`axis`) are split into `groups`; each sample is
    normalized over every non-batch axis within its group (biased
    variance), then scaled by `gamma` and shifted by `beta` per channel.
    `groups=-1` gives instance normalization, `groups=1` layer
    normalization over all axes.

    Args:
        groups: number of groups (must divide the channels; -1 = one per
            channel). Default 32.
        axis: the channel axis (default -1).
        epsilon: added to the variance (default 1e-3).
        center: add the learned offset `beta`.
        scale: multiply by the learned scale `gamma`.
        beta_initializer, gamma_initializer: initializers.
        beta_regularizer, gamma_regularizer: optional regularizers.
        beta_constraint, gamma_constraint: optional constraints.

    Input shape:
        Any rank >= 2 with known channels.

    Output shape:
        Same as the input.

    Example:
    >>> layer = gkeras.layers.GroupNormalization(groups=2)
    >>> layer(np.random.rand(2, 5, 8)).shape
    (2, 5, 8)
    """

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True,
                 scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        # As Keras: no input autocast; statistics in float32 (see `call`).
        self.autocast = False
        self.groups = int(groups)
        self.axis = int(axis)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.gamma = None
        self.beta = None

    def build(self, input_shape):
        ndim = len(input_shape)
        if not -ndim <= self.axis < ndim:
            raise ValueError(
                f"GroupNormalization {self.name!r}: axis={self.axis} is out "
                f"of range for an input of shape {tuple(input_shape)}.")
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(
                f"GroupNormalization {self.name!r}: axis {self.axis} of the "
                "input tensor should have a defined dimension but the layer "
                f"received an input with shape {tuple(input_shape)}.")
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups:
            raise ValueError(
                f"GroupNormalization {self.name!r}: number of groups "
                f"({self.groups}) cannot be more than the number of channels "
                f"({dim}).")
        if dim % self.groups != 0:
            raise ValueError(
                f"GroupNormalization {self.name!r}: number of groups "
                f"({self.groups}) must be a multiple of the number of "
                f"channels ({dim}); use a divisor of {dim}.")
        self.input_spec = InputSpec(ndim=ndim, axes={self.axis: dim})
        if self.scale:
            self.gamma = self.add_weight(
                name="gamma", shape=(dim,), initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint, autocast=False)
        if self.center:
            self.beta = self.add_weight(
                name="beta", shape=(dim,), initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint, autocast=False)
        self.built = True

    def call(self, inputs):
        in_dtype = inputs.dtype
        if backend.is_half_dtype(in_dtype):
            # Half-precision group statistics overflow and cancel: as
            # Keras, normalize in float32, then cast back.
            out = self._normalize(ops.cast(inputs, "float32"))
            out = ops.cast(out, in_dtype)
        else:
            out = self._normalize(inputs)
        return ops.cast(out, self.compute_dtype)

    def _normalize(self, inputs):
        shape = tuple(inputs.shape)
        ndim = len(shape)
        ax = self.axis % ndim
        dim = shape[ax]
        g = self.groups
        grouped = shape[:ax] + (g, dim // g) + shape[ax + 1:]
        x = ops.reshape(inputs, grouped)
        red = tuple(i for i in range(1, ndim + 1) if i != ax)
        mean, var = ops.moments(x, axes=red, keepdims=True)
        inv = ops.rsqrt(ops.add(var, self.epsilon))
        wshape = [1] * (ndim + 1)
        wshape[ax], wshape[ax + 1] = g, dim // g
        if self.gamma is not None:
            inv = ops.multiply(inv, ops.reshape(self.gamma, wshape))
        res = ops.negative(ops.multiply(mean, inv))
        if self.beta is not None:
            res = ops.add(res, ops.reshape(self.beta, wshape))
        out = ops.add(ops.multiply(x, inv), res)
        return ops.reshape(out, shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "groups": self.groups,
                "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(
                    self.beta_initializer),
                "gamma_initializer": initializers.serialize(
                    self.gamma_initializer),
                "beta_regularizer": regularizers.serialize(
                    self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(
                    self.gamma_regularizer),
                "beta_constraint": constraints.serialize(
                    self.beta_constraint),
                "gamma_constraint": constraints.serialize(
                    self.gamma_constraint)}

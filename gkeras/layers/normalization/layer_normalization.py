"""`LayerNormalization`: per-sample normalization over feature axes."""

import warnings

import numpy as np

from gkeras import backend, constraints, initializers, ops, regularizers
from gkeras.layers.layer import Layer
from gkeras.ops.layer_norm import layer_normalization


class LayerNormalization(Layer):
    """Layer normalization (Ba et al., 2016).

    Normalizes each sample over `axis`:
    `(x - mean) / sqrt(var + epsilon) * gamma + beta` with the biased
    variance; with `rms_scaling=True`, `x / sqrt(var + epsilon) * gamma`
    (Keras's formula; no beta). One fused primitive forward and backward.

    Args:
        axis: int or list of ints, the normalized axes (default -1).
        epsilon: small float added to the variance (default 1e-3).
        center: add the learned offset `beta`.
        scale: multiply by the learned scale `gamma`.
        rms_scaling: deprecated (as in Keras, which warns): if True, only
            `gamma` is created, and the (uncentred) inputs are scaled by it
            and the inverse standard deviation. `RMSNormalization` is the
            real RMS norm.
        beta_initializer, gamma_initializer: initializers.
        beta_regularizer, gamma_regularizer: optional regularizers.
        beta_constraint, gamma_constraint: optional constraints.

    Input shape:
        Any; `axis` must name existing axes.

    Output shape:
        Same as the input.

    Example:
    >>> layer = gkeras.layers.LayerNormalization(epsilon=1e-6)
    >>> layer(np.random.rand(2, 5, 8)).shape
    (2, 5, 8)
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True,
                 rms_scaling=False, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = [int(a) for a in axis]
        elif isinstance(axis, (int, np.integer)):
            self.axis = int(axis)
        else:
            raise TypeError(
                "Expected an int or a list/tuple of ints for the argument "
                f"'axis', but received: {axis!r}")
        if not float(epsilon) > 0:
            raise ValueError(f"LayerNormalization {self.name!r}: `epsilon` "
                             f"must be positive. Received: epsilon={epsilon}")
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.rms_scaling = bool(rms_scaling)
        if self.rms_scaling:
            warnings.warn(
                "You passed `rms_scaling=True`, which is deprecated. This "
                "argument incorrectly scales the input by the variance, not "
                "the root mean square. To correctly use RMS Normalization, "
                "please use `gkeras.layers.RMSNormalization` instead.",
                UserWarning, stacklevel=2)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True
        # As Keras: inputs are not cast to the compute dtype; the statistics
        # are computed in float32 with float32 gamma/beta (see `call`).
        self.autocast = False
        self.gamma = None
        self.beta = None

    def _axes(self, ndim):
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        out = []
        for a in axes:
            if not -ndim <= a < ndim:
                raise ValueError(
                    f"LayerNormalization {self.name!r}: invalid axis {a} "
                    f"for an input of rank {ndim}. Received: "
                    f"axis={self.axis}")
            out.append(a % ndim)
        if len(set(out)) != len(out):
            raise ValueError(f"LayerNormalization {self.name!r}: duplicate "
                             f"axes in axis={self.axis}")
        return sorted(out)

    def build(self, input_shape):
        axes = self._axes(len(input_shape))
        shape = tuple(input_shape[a] for a in axes)
        if any(s is None for s in shape):
            raise ValueError(
                f"LayerNormalization {self.name!r}: the normalized axes "
                f"{axes} must have known sizes; received input shape "
                f"{tuple(input_shape)}.")
        # As Keras 3: `rms_scaling` always has gamma and never beta.
        if self.scale or self.rms_scaling:
            self.gamma = self.add_weight(
                name="gamma", shape=shape, initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint, autocast=False)
        if self.center and not self.rms_scaling:
            self.beta = self.add_weight(
                name="beta", shape=shape, initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint, autocast=False)
        # Keras keeps the axes as given until built, then a sorted list.
        self.axis = sorted(self.axis) if isinstance(self.axis, list) \
            else [self.axis]
        self._norm_axes = axes
        self.built = True

    def call(self, inputs):
        axes = self._axes(inputs.ndim)
        in_dtype = inputs.dtype
        half = backend.is_half_dtype(in_dtype)
        if half:
            # Half-precision sums of squares overflow and cancel: the
            # statistics and the affine step run in float32, as Keras's
            # `ops.layer_normalization` does.
            inputs = ops.cast(inputs, "float32")
        y = layer_normalization(inputs, self.gamma, self.beta, axis=axes,
                                epsilon=self.epsilon,
                                rms_scaling=self.rms_scaling)
        if half:
            y = ops.cast(y, in_dtype)
        return ops.cast(y, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        self._axes(len(input_shape))
        return tuple(input_shape)

    def get_config(self):
        config = {
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "rms_scaling": self.rms_scaling,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(
                self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(
                self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }
        return {**super().get_config(), **config}

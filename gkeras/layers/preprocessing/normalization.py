"""The `Normalization` preprocessing layer: `(x - mean) / sqrt(var)`, with
statistics learned by `adapt()` on the host.
"""

import itertools

import numpy as np

from gkeras import backend
from gkeras.layers.layer import Layer
from gkeras.layers.preprocessing.preprocessing_utils import (
    first_of_pair, is_batch_iterable, list_of_arrays, take_batches, to_host)

__all__ = ["Normalization"]


class Normalization(Layer):
    """Normalizes continuous features: `(x - mean) / sqrt(variance)`.

    The mean and variance are either given at construction or learned with
    `adapt()` (then kept as non-trainable weights `mean`, `variance` and
    `count`, so a saved model keeps them).

    Args:
        axis: the axis (int, tuple of ints, or None) that keeps separate
            statistics; the others are reduced over. `-1` (default) gives a
            mean and variance per feature; `None` a single scalar pair.
        mean: optional mean to use instead of adapting; broadcast against
            the kept axes.
        variance: optional variance, given together with `mean`.
        invert: if True, undo the normalization: `x * sqrt(var) + mean`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Returns:
        A tensor of the input's shape, in the layer's dtype.

    Example:

    >>> layer = gkeras.layers.Normalization()
    >>> layer.adapt(np.array([[0., 7.], [2., 9.]]))
    >>> layer(np.array([[1., 8.]]))   # [[0., 0.]]
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False,
                 **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, (int, np.integer)):
            axis = (int(axis),)
        else:
            axis = tuple(int(a) for a in axis)
        self.axis = axis
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)
        self.supports_masking = True
        self._build_input_shape = None
        self.mean = None
        self.variance = None
        if (mean is not None) != (variance is not None):
            raise ValueError(
                "Normalization: when setting values directly, both `mean` "
                f"and `variance` must be set. Received: mean={mean} and "
                f"variance={variance}")
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(
                    "Normalization: `mean` and `variance` must have the same "
                    f"shape. Received: mean shape {np.shape(mean)} and "
                    f"variance shape {np.shape(variance)}")
            if len(np.shape(mean)) > len(self.axis):
                raise ValueError(
                    "Normalization: the rank of `mean` must be less than or "
                    f"equal to the number of axes ({len(self.axis)}). "
                    f"Received: mean shape {np.shape(mean)} for axis "
                    f"{self.axis}")

    def build(self, input_shape):
        if input_shape is None:
            return
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        self._build_input_shape = input_shape
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(
                "Normalization: all `axis` values must be in the range "
                f"[-ndim, ndim). Received inputs with ndim={ndim}, while "
                f"axis={self.axis}")
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        for d in self._keep_axis:
            if input_shape[d] is None:
                raise ValueError(
                    "Normalization: all `axis` values to be kept must have a "
                    f"known shape. Received axis={self.axis}, inputs.shape="
                    f"{input_shape}, with unknown axis at index {d}")
        self._reduce_axis = tuple(d for d in range(ndim)
                                  if d not in self._keep_axis)
        self._broadcast_shape = tuple(
            input_shape[d] if d in self._keep_axis else 1
            for d in range(ndim))
        self._mean_and_var_shape = tuple(input_shape[d]
                                         for d in self._keep_axis)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(
                name="mean", shape=self._mean_and_var_shape,
                initializer="zeros", trainable=False)
            self.adapt_variance = self.add_weight(
                name="variance", shape=self._mean_and_var_shape,
                initializer="ones", trainable=False)
            self.count = self.add_weight(
                name="count", shape=(), dtype="int64", initializer="zeros",
                trainable=False)
        else:
            mean = np.asarray(self.input_mean, dtype=np.float64)
            variance = np.asarray(self.input_variance, dtype=np.float64)
            if mean.ndim:
                expanded = [1] * ndim
                for i in range(1, mean.ndim + 1):
                    expanded[self._keep_axis[-i]] = mean.shape[-i]
                mean = mean.reshape(expanded)
                variance = variance.reshape(expanded)
            try:
                mean = np.broadcast_to(mean, self._broadcast_shape)
                variance = np.broadcast_to(variance, self._broadcast_shape)
            except ValueError:
                raise ValueError(
                    "Normalization: `mean`/`variance` of shape "
                    f"{np.shape(self.input_mean)} cannot be broadcast to the "
                    f"kept axes {self._mean_and_var_shape} of inputs of "
                    f"shape {input_shape}.") from None
            self.mean = backend.to_device(mean, self.compute_dtype)
            self.variance = backend.to_device(variance, self.compute_dtype)
        self.built = True

    def adapt(self, data, batch_size=None, steps=None):
        """Computes the mean and variance of `data` along the kept axes.

        Args:
            data: a NumPy array, tensor or nested list of numbers; or a list
                of arrays / an iterable or generator yielding batches (or
                `(x, y)` pairs, whose `x` is used).
            batch_size: accepted for Keras-2 compatibility; arrays are
                reduced in one pass.
            steps: the number of batches to draw from an iterable (all by
                default).
        """
        if self.input_mean is not None:
            raise ValueError(
                "Normalization: cannot `adapt()` a layer constructed with "
                "`mean` and `variance`; create it without them to adapt.")
        if list_of_arrays(data) or is_batch_iterable(data):
            it = take_batches(data, steps)
            first = next(it, None)
            if first is None:
                raise ValueError(
                    "Normalization.adapt() received an empty iterable (no "
                    "batches). Expected at least one batch.")
            batches = (np.asarray(to_host(first_of_pair(b)), dtype=np.float64)
                       for b in itertools.chain([first], it))
            first_shape = np.shape(to_host(first_of_pair(first)))
        else:
            arr = np.asarray(to_host(data), dtype=np.float64)
            batches = iter([arr])
            first_shape = arr.shape
        self._adapt_build(first_shape)
        total_mean = np.zeros(self._mean_and_var_shape)
        total_var = np.zeros(self._mean_and_var_shape)
        total_count = 0
        for batch in batches:
            self._check_adapt_shape(batch.shape)
            batch_mean = batch.mean(axis=self._reduce_axis)
            batch_var = batch.var(axis=self._reduce_axis)
            batch_count = int(np.prod([batch.shape[d]
                                       for d in self._reduce_axis]))
            if batch_count == 0:
                continue
            # Chan et al.'s pairwise merge of (mean, var, count) summaries.
            total_count += batch_count
            w = batch_count / total_count
            new_mean = total_mean * (1 - w) + batch_mean * w
            total_var = (total_var + (total_mean - new_mean) ** 2) * (1 - w) \
                + (batch_var + (batch_mean - new_mean) ** 2) * w
            total_mean = new_mean
        self.adapt_mean.assign(total_mean.astype(self.adapt_mean.dtype))
        self.adapt_variance.assign(
            total_var.astype(self.adapt_variance.dtype))

    def _adapt_build(self, shape):
        if not self.built:
            self.build(shape)
        self._check_adapt_shape(shape)

    def _check_adapt_shape(self, shape):
        if len(shape) != len(self._build_input_shape) or any(
                shape[d] != self._build_input_shape[d]
                for d in self._keep_axis):
            raise ValueError(
                "Normalization: the layer was built with input_shape="
                f"{self._build_input_shape}, but adapt() received data with "
                f"an incompatible shape {tuple(shape)}.")

    # As Keras, `mean`/`variance` hold the statistics in use, broadcast to
    # the input's rank: the given ones, or after `adapt` (or loading) the
    # adapted ones (Keras sets them in `finalize_state`; read here from the
    # state variables, so they cannot go stale after `load_weights`).
    @property
    def mean(self):
        if self.input_mean is None and self.built:
            return _snapshot(self._stats()[0])
        return self.__dict__.get("_given_mean")

    @mean.setter
    def mean(self, value):
        self.__dict__["_given_mean"] = value

    @property
    def variance(self):
        if self.input_mean is None and self.built:
            return _snapshot(self._stats()[1])
        return self.__dict__.get("_given_variance")

    @variance.setter
    def variance(self, value):
        self.__dict__["_given_variance"] = value

    def finalize_state(self):
        """Nothing to do: `mean`/`variance` follow the adapted state
        (kept for Keras's API)."""

    def _stats(self):
        from gkeras import ops
        if self.input_mean is not None:
            return self.__dict__["_given_mean"], \
                self.__dict__["_given_variance"]
        mean = ops.cast(ops.reshape(self.adapt_mean, self._broadcast_shape),
                        self.compute_dtype)
        var = ops.cast(ops.reshape(self.adapt_variance,
                                   self._broadcast_shape), self.compute_dtype)
        return mean, var

    def call(self, inputs):
        from gkeras import ops
        inputs = ops.cast(inputs, self.compute_dtype)
        mean, variance = self._stats()
        scale = ops.maximum(ops.sqrt(variance), backend.epsilon())
        if self.invert:
            return ops.add(mean, ops.multiply(inputs, scale))
        return ops.divide(ops.subtract(inputs, mean), scale)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis,
            "invert": self.invert,
            "mean": np.array(self.input_mean).tolist(),
            "variance": np.array(self.input_variance).tolist(),
        })
        return config


def _snapshot(t):
    # A copy: the statistics a user read must not change under them when
    # the layer is adapted again (Keras's arrays are immutable).
    from gkeras import ops
    return ops.convert_to_tensor(t.data.copy())

"""`BatchNormalization`, with Keras 3 semantics (training flag, frozen
layers run in inference mode, masks, moving statistics)."""

from gkeras import backend, constraints, initializers, ops, regularizers
from gkeras.layers.input_spec import InputSpec
from gkeras.layers.layer import Layer
from gkeras.ops.normalization import batch_norm_train


class BatchNormalization(Layer):
    """Normalizes its inputs with batch statistics (training) or moving
    statistics (inference), then scales by `gamma` and shifts by `beta`.

    In training (`fit`, or `training=True`) the output is
    `gamma * (x - mean(x)) / sqrt(var(x) + epsilon) + beta` with the batch's
    mean and biased variance over every axis but `axis`, and the moving
    statistics are updated as
    `moving = moving * momentum + batch * (1 - momentum)`. In inference it
    uses `moving_mean`/`moving_variance`. As in Keras 3, a layer with
    `trainable=False` always runs in inference mode and never updates its
    statistics.

    Args:
        axis: the feature axis (e.g. `1` after a channels-first Conv2D).
        momentum: momentum of the moving averages.
        epsilon: small float added to the variance.
        center: whether to add the offset `beta`.
        scale: whether to multiply by `gamma`.
        beta_initializer, gamma_initializer: initializers of the weights.
        moving_mean_initializer, moving_variance_initializer: initializers
            of the moving statistics.
        beta_regularizer, gamma_regularizer: optional regularizers.
        beta_constraint, gamma_constraint: optional constraints.
        synchronized: under `gkeras.distribution.DataParallel`, compute
            the training statistics over the global batch of all
            replicas (not each process's shard); without a distribution
            the same as False.
        renorm, renorm_clipping, renorm_momentum: batch renormalization
            (in configs Keras writes); only `renorm=False` is supported.

    Call arguments:
        inputs: input tensor of any rank.
        training: batch statistics (True) or moving statistics (False).
        mask: optional boolean tensor of the input's shape without `axis`
            (e.g. `(batch, steps)`); masked positions are left out of the
            batch statistics.

    Input shape:
        Any; the output has the same shape.

    Example:
    >>> bn = gkeras.layers.BatchNormalization()
    >>> x = np.random.rand(8, 4).astype("float32")
    >>> y = bn(x, training=True)   # mean ~0, variance ~1 per feature
    >>> [w.name for w in bn.weights]
    ['gamma', 'beta', 'moving_mean', 'moving_variance']
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True,
                 scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, renorm=False,
                 renorm_clipping=None, renorm_momentum=0.99, **kwargs):
        super().__init__(**kwargs)
        if renorm:
            raise NotImplementedError(
                f"BatchNormalization layer {self.name!r}: `renorm=True` "
                "(batch renormalization) is not supported by gkeras.")
        if isinstance(axis, (list, tuple)):
            if len(axis) != 1:
                raise ValueError(
                    f"BatchNormalization layer {self.name!r}: `axis` must be "
                    f"a single int. Received axis={axis!r}")
            axis = axis[0]
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = center
        self.scale = scale
        self.synchronized = synchronized
        self.renorm = False
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = float(renorm_momentum)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(
            moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(
            moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True
        self.gamma = self.beta = None

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        nd = len(input_shape)
        if not -nd <= self.axis < nd:
            raise ValueError(
                f"BatchNormalization layer {self.name!r}: `axis`={self.axis} "
                f"is out of range for inputs of rank {nd} (shape "
                f"{input_shape}).")
        size = input_shape[self.axis]
        if size is None:
            raise ValueError(
                f"BatchNormalization layer {self.name!r}: the normalized "
                f"axis {self.axis} of the input must be known. Received "
                f"input shape {input_shape}.")
        shape = (size,)
        if self.scale:
            self.gamma = self.add_weight(
                name="gamma", shape=shape, initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint, autocast=False)
        if self.center:
            self.beta = self.add_weight(
                name="beta", shape=shape, initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint, autocast=False)
        self.moving_mean = self.add_weight(
            name="moving_mean", shape=shape,
            initializer=self.moving_mean_initializer, trainable=False,
            autocast=False)
        self.moving_variance = self.add_weight(
            name="moving_variance", shape=shape,
            initializer=self.moving_variance_initializer, trainable=False,
            autocast=False)
        self.input_spec = InputSpec(ndim=nd, axes={self.axis: size})
        axes = list(range(nd))
        del axes[self.axis]
        self._reduction_axes = axes
        self.built = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def _update_moving(self, mean, variance):
        # Outside autograd, in place, with Keras's float32 arithmetic.
        dt = self.moving_mean.data.dtype.type
        m, one_m = dt(self.momentum), dt(1.0 - self.momentum)
        mm, mv = self.moving_mean, self.moving_variance
        mm.assign(mm.data * m + mean.astype(mm.data.dtype, copy=False)
                  * one_m)
        mv.assign(mv.data * m + variance.astype(mv.data.dtype, copy=False)
                  * one_m)

    def call(self, inputs, training=None, mask=None):
        if backend.is_half_dtype(inputs.dtype):
            # As Keras: half-precision inputs are normalized in float32
            # with the float32 parameters and statistics (the moving
            # statistics update in float32 too); the output is cast back.
            y = self.call(ops.cast(inputs, "float32"), training=training,
                          mask=mask)
            return ops.cast(y, self.compute_dtype)
        if mask is not None and len(mask.shape) != len(inputs.shape) - 1:
            raise ValueError(
                f"BatchNormalization layer {self.name!r}: the mask should "
                "have one dimension less than the inputs. Received: "
                f"mask.shape={tuple(mask.shape)}, inputs.shape="
                f"{tuple(inputs.shape)}")
        if training and self.trainable:
            if mask is None:
                train = batch_norm_train
                if self.synchronized:
                    from gkeras.distribution.sync_batch_norm import \
                        sync_batch_norm_train as train
                y, mean, var = train(
                    inputs, self.gamma, self.beta, self.axis, self.epsilon)
                self._update_moving(mean, var)
                return y if y.dtype == self.compute_dtype else \
                    ops.cast(y, self.compute_dtype)
            if self.synchronized and _distributed():
                raise NotImplementedError(
                    f"BatchNormalization layer {self.name!r}: "
                    "synchronized=True with a mask is not supported under a "
                    "distribution; drop the mask or use synchronized=False.")
            mean, var = self._masked_moments(inputs, mask)
            self._update_moving(mean.data, var.data)
        else:
            mean, var = self.moving_mean, self.moving_variance
        y = ops.batch_normalization(
            inputs, mean, var, axis=self.axis, offset=self.beta,
            scale=self.gamma, epsilon=self.epsilon)
        return y if y.dtype == self.compute_dtype else \
            ops.cast(y, self.compute_dtype)

    def _masked_moments(self, inputs, mask):
        w = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        axes = self._reduction_axes
        wx = ops.multiply(w, inputs)
        count = ops.add(ops.sum(w, axis=axes, keepdims=True),
                        _epsilon())
        mean = ops.divide(ops.sum(wx, axis=axes, keepdims=True), count)
        sq = ops.square(ops.subtract(wx, mean))
        var = ops.divide(ops.sum(ops.multiply(w, sq), axis=axes,
                                 keepdims=True), count)
        return (ops.reshape(mean, (-1,)), ops.reshape(var, (-1,)))

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(
                self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(
                self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(
                self.moving_variance_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(
                self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
            "synchronized": self.synchronized,
            "renorm": self.renorm,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        }


def _epsilon():
    from gkeras.backend.config import epsilon
    return epsilon()


def _distributed():
    import sys
    lib = sys.modules.get("gkeras.distribution.distribution_lib")
    return lib is not None and lib.distribution() is not None

"""Synchronized (cross-replica) batch normalization.

Under `DataParallel`, plain `BatchNormalization` normalizes each shard
with its own batch statistics (as Keras does). The synchronized version
normalizes with the statistics of the whole global batch: the forward
pass all-reduces per-channel sums, and the backward pass all-reduces the
two per-channel gradient sums the normalization couples across samples,
so a step equals the single-process step on the global batch.
"""

from gkeras import backend
from gkeras.layers.normalization.batch_normalization import \
    BatchNormalization
from gkeras.ops.engine import Function
from gkeras.ops.normalization import _to_2d, batch_norm_train

__all__ = ["SyncBatchNormTrain", "SyncBatchNormalization",
           "sync_batch_norm_train"]


class SyncBatchNormTrain(Function):
    """Training-mode batch normalization with global-batch statistics.

    Inputs are `x`, then `gamma` if `has_gamma`, then `beta` if `has_beta`
    (as `BatchNormTrain`). Each rank sees its shard; `weight` is the
    shard's share of the global loss (`n_local / n_global`), used so that
    the local input gradient, once the trainer scales it by `weight`,
    is exactly this rank's part of the global gradient.

    Args:
        comm: the backend `Communicator` (sum-all-reduce in place).
        weight: this rank's loss weight for the step.
        axis, epsilon, has_gamma, has_beta: as `BatchNormTrain`.
    """

    def __init__(self, comm, weight, axis, epsilon, has_gamma=True,
                 has_beta=True):
        self.comm = comm
        self.weight = weight
        self.axis = axis
        self.epsilon = epsilon
        self.has_gamma = has_gamma
        self.has_beta = has_beta

    def forward(self, x, *params):
        gamma = params[0] if self.has_gamma else None
        beta = params[-1] if self.has_beta else None
        x2, self._undo = _to_2d(x, self.axis)
        xp = backend.get_array_module(x2)
        m, c = x2.shape
        # Two passes (sum, then centred squares) as the local kernel does:
        # E[x^2] - E[x]^2 would cancel catastrophically in float32.
        buf = xp.empty(c + 1, dtype=x2.dtype)
        buf[:c] = x2.sum(axis=0)
        buf[c] = m
        self.comm.allreduce_sum_(buf)
        n_total = buf[c]
        mean = buf[:c] / n_total
        xc = x2 - mean
        sq = xp.einsum("mc,mc->c", xc, xc)
        self.comm.allreduce_sum_(sq)
        var = sq / n_total
        inv_std = (1.0 / xp.sqrt(var + x2.dtype.type(self.epsilon))).astype(
            x2.dtype, copy=False)
        scale = inv_std if gamma is None else inv_std * gamma
        y = xc * scale
        if beta is not None:
            y += beta
        self.xhat_parts = (xc, inv_std)
        self.gamma = gamma
        self.n_total = n_total
        self.mean, self.variance = mean, var.astype(x2.dtype, copy=False)
        return self._undo(y)

    def backward(self, gy):
        g2, _ = _to_2d(gy, self.axis)
        xp = backend.get_array_module(g2)
        xc, inv_std = self.xhat_parts
        xhat = xc * inv_std
        c = g2.shape[1]
        dbeta = g2.sum(axis=0)
        dgamma = xp.einsum("mc,mc->c", g2, xhat)
        # Global sums of the true (loss-weighted) output gradient.
        w = g2.dtype.type(self.weight)
        buf = xp.empty(2 * c, dtype=g2.dtype)
        buf[:c] = dbeta * w
        buf[c:] = dgamma * w
        self.comm.allreduce_sum_(buf)
        # n_total stays a device scalar: no host sync in the step.
        k = 1.0 / (w * self.n_total)
        scale = inv_std if self.gamma is None else self.gamma * inv_std
        dx = scale * (g2 - k * (buf[:c] + xhat * buf[c:]))
        out = [self._undo(dx.astype(g2.dtype, copy=False))]
        if self.has_gamma:
            out.append(dgamma)
        if self.has_beta:
            out.append(dbeta)
        return tuple(out)


def sync_batch_norm_train(x, gamma, beta, axis, epsilon):
    """Batch normalization in training mode with statistics over the global
    batch of the active `DataParallel` (the local batch when none is set).

    Args:
        x: input tensor (this rank's shard).
        gamma, beta: scale and offset variables, or None.
        axis: the channel axis.
        epsilon: added to the variance.

    Returns:
        `(y, mean, variance)`: the normalized tensor, and the global batch
        statistics as raw arrays (for the moving averages).

    Example:

    ```python
    y, mean, var = sync_batch_norm_train(x, bn.gamma, bn.beta, -1, 1e-3)
    ```
    """
    from gkeras.distribution.distribution_lib import distribution
    dist = distribution()
    if dist is None:
        return batch_norm_train(x, gamma, beta, axis, epsilon)
    params = [p for p in (gamma, beta) if p is not None]
    fn = SyncBatchNormTrain(dist.comm, dist.weight, axis, epsilon,
                            gamma is not None, beta is not None)
    y = fn(x, *params)
    return y, fn.mean, fn.variance


class SyncBatchNormalization(BatchNormalization):
    """Batch normalization whose training statistics span every replica.

    The same layer as `BatchNormalization(synchronized=True)` (the Keras 3
    spelling; TF-Keras called it `SyncBatchNormalization`): under
    `gkeras.distribution.DataParallel` the batch mean and variance are
    those of the global batch, not of this process's shard; without a
    distribution it is plain `BatchNormalization`.

    Args:
        axis, momentum, epsilon, center, scale, initializers,
        regularizers, constraints: as `BatchNormalization`.

    Input shape:
        Any; the output has the same shape.

    Example:

    ```python
    keras.distribution.set_distribution(keras.distribution.DataParallel())
    bn = keras.distribution.SyncBatchNormalization()
    ```
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, **kwargs):
        kwargs.pop("synchronized", None)
        super().__init__(axis=axis, momentum=momentum, epsilon=epsilon,
                         synchronized=True, **kwargs)

"""The SGD optimizer (`keras.optimizers.SGD`)."""

import numpy as np

from gkeras.optimizers._common import xp_of
from gkeras.optimizers.base_optimizer import Optimizer


class SGD(Optimizer):
    """Gradient descent (with momentum) optimizer.

    Update rule for parameter `w` with gradient `g` when `momentum` is 0:
    `w = w - learning_rate * g`. With momentum:
    `velocity = momentum * velocity - learning_rate * g; w = w + velocity`.
    With `nesterov=True`:
    `w = w + momentum * velocity - learning_rate * g`.

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable.
            Defaults to `0.01`.
        momentum: float in [0, 1] that accelerates gradient descent in the
            relevant direction and dampens oscillations. Defaults to `0.0`.
        nesterov: boolean. Whether to apply Nesterov momentum.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema,
        ema_momentum, ema_overwrite_frequency, loss_scale_factor,
        gradient_accumulation_steps: see `Optimizer`.
        name: Defaults to `"sgd"` (as Keras 3.15).

    Example:

    >>> opt = gkeras.optimizers.SGD(learning_rate=0.1, momentum=0.9)
    >>> opt.apply(grads, model.trainable_variables)
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False,
                 weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="sgd", **kwargs):
        super().__init__(
            learning_rate=learning_rate, name=name,
            weight_decay=weight_decay, clipnorm=clipnorm,
            clipvalue=clipvalue, global_clipnorm=global_clipnorm,
            use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            **kwargs)
        if (isinstance(momentum, bool)
                or not isinstance(momentum, (int, float))
                or momentum < 0 or momentum > 1):
            raise ValueError("`momentum` must be a float between [0, 1]. "
                             f"Received: momentum={momentum!r}")
        self.momentum = float(momentum)
        self.nesterov = nesterov

    def build(self, variables):
        """Creates the `momentum` slots (only when `momentum != 0`)."""
        if self.built:
            return
        super().build(variables)
        self.momentums = []
        if self.momentum != 0:
            self.momentums = self.add_optimizer_variables(variables,
                                                          "momentum")

    def update_step(self, gradient, variable, learning_rate):
        i = self._trainable_variables_indices[id(variable)]
        w = variable.data
        xp = xp_of(w)
        slots = [self.momentums[i].data] if self.momentum != 0 else []
        mom = self.momentum
        for g, w, *m, tmp in self._blocks(i, gradient, w, *slots):
            xp.multiply(g, learning_rate, out=tmp)
            if m:
                m = m[0]
                m *= mom
                m -= tmp
                if self.nesterov:
                    w -= tmp
                    xp.multiply(m, mom, out=tmp)
                    w += tmp
                else:
                    w += m
            else:
                w -= tmp

    _fused_kind = "sgd"

    def _fused_slots(self, i):
        return [self.momentums[i].data] if self.momentum != 0 else []

    def _fused_scalars(self, learning_rate):
        return "sgd", (np.float32(learning_rate), np.float32(self.momentum),
                       np.int32(bool(self.nesterov)))

    def get_config(self):
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config

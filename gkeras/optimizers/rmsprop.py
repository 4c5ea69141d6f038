"""The RMSprop optimizer (`keras.optimizers.RMSprop`)."""

import numpy as np

from gkeras.optimizers._common import xp_of
from gkeras.optimizers.base_optimizer import Optimizer


class RMSprop(Optimizer):
    """Optimizer that implements the RMSprop algorithm.

    Keeps a moving (discounted) average of the square of gradients and
    divides the gradient by its root:

    ```
    v = rho * v + (1 - rho) * g**2
    w = w - lr * g / sqrt(v + epsilon)
    ```

    With `centered=True` the variance `v - mg**2` (mg: moving average of
    the gradients) replaces `v`; with `momentum > 0` the increments go
    through a momentum accumulator (`mom = momentum * mom + increment;
    w -= mom`).

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable.
            Defaults to `0.001`.
        rho: Discounting factor for the old gradients. Defaults to `0.9`.
        momentum: Defaults to `0.0`.
        epsilon: Small constant for numerical stability. Defaults to 1e-7.
        centered: Whether to normalize by the estimated variance.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema,
        ema_momentum, ema_overwrite_frequency, loss_scale_factor,
        gradient_accumulation_steps: see `Optimizer`.
        name: Defaults to `"rmsprop"`.
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0,
                 epsilon=1e-7, centered=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="rmsprop", **kwargs):
        super().__init__(
            learning_rate=learning_rate, name=name,
            weight_decay=weight_decay, clipnorm=clipnorm,
            clipvalue=clipvalue, global_clipnorm=global_clipnorm,
            use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            **kwargs)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def build(self, var_list):
        """Creates `velocity` (and `momentum`, `average_gradient`) slots."""
        if self.built:
            return
        super().build(var_list)
        self._velocities = self.add_optimizer_variables(var_list, "velocity")
        self._momentums = []
        if self.momentum > 0:
            self._momentums = self.add_optimizer_variables(var_list,
                                                           "momentum")
        self._average_gradients = []
        if self.centered:
            self._average_gradients = self.add_optimizer_variables(
                var_list, "average_gradient")

    def update_step(self, gradient, variable, learning_rate):
        i = self._trainable_variables_indices[id(variable)]
        w = variable.data
        xp = xp_of(w)
        rho = self.rho
        slots = [self._velocities[i].data]
        if self.centered:
            slots.append(self._average_gradients[i].data)
        if self.momentum > 0:
            slots.append(self._momentums[i].data)
        for g, w, vel, *rest, tmp in self._blocks(i, gradient, w, *slots):
            ag = rest.pop(0) if self.centered else None
            mom = rest.pop(0) if self.momentum > 0 else None
            vel *= rho
            xp.multiply(g, g, out=tmp)
            tmp *= 1.0 - rho
            vel += tmp
            if ag is not None:
                ag *= rho
                xp.multiply(g, 1.0 - rho, out=tmp)
                ag += tmp
                xp.multiply(ag, ag, out=tmp)
                xp.subtract(vel, tmp, out=tmp)
                tmp += self.epsilon
            else:
                xp.add(vel, self.epsilon, out=tmp)
            xp.sqrt(tmp, out=tmp)
            xp.divide(g, tmp, out=tmp)
            tmp *= learning_rate
            if mom is not None:
                mom *= self.momentum
                mom += tmp
                w -= mom
            else:
                w -= tmp

    _fused_kind = "rmsprop"

    def _fused_slots(self, i):
        slots = [self._velocities[i].data]
        if self.centered:
            slots.append(self._average_gradients[i].data)
        if self.momentum > 0:
            slots.append(self._momentums[i].data)
        return slots

    def _fused_scalars(self, learning_rate):
        return "rmsprop", (np.float32(learning_rate), np.float32(self.rho),
                           np.float32(1.0 - self.rho),
                           np.float32(self.momentum),
                           np.float32(self.epsilon),
                           np.int32(bool(self.centered)))

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "momentum": self.momentum,
                       "epsilon": self.epsilon, "centered": self.centered})
        return config

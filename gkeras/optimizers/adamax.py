"""The Adamax optimizer (`keras.optimizers.Adamax`)."""

import numpy as np

from gkeras.optimizers._common import xp_of
from gkeras.optimizers.base_optimizer import Optimizer


class Adamax(Optimizer):
    """Optimizer that implements the Adamax algorithm.

    A variant of Adam based on the infinity norm:

    ```
    m = m + (g - m) * (1 - beta_1)
    u = max(beta_2 * u, abs(g))
    w = w - lr * m / ((1 - beta_1**t) * (u + epsilon))
    ```

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable.
            Defaults to `0.001`.
        beta_1: Decay rate of the 1st moment estimates. Defaults to `0.9`.
        beta_2: Decay rate of the exponentially weighted infinity norm.
            Defaults to `0.999`.
        epsilon: Small constant for numerical stability. Defaults to 1e-7.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema,
        ema_momentum, ema_overwrite_frequency, loss_scale_factor,
        gradient_accumulation_steps: see `Optimizer`.
        name: Defaults to `"adamax"`.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None,
                 name="adamax", **kwargs):
        super().__init__(
            learning_rate=learning_rate, name=name,
            weight_decay=weight_decay, clipnorm=clipnorm,
            clipvalue=clipvalue, global_clipnorm=global_clipnorm,
            use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list):
        """Creates `momentum` and `norm` slots (interleaved, as Keras)."""
        if self.built:
            return
        super().build(var_list)
        self._m, self._u = self.add_optimizer_variables(
            var_list, ["momentum", "norm"])

    def update_step(self, gradient, variable, learning_rate):
        i = self._trainable_variables_indices[id(variable)]
        t = self._local_step + 1
        w = variable.data
        xp = xp_of(w)
        for g, w, m, u, tmp in self._blocks(i, gradient, w, self._m[i].data,
                                            self._u[i].data):
            xp.subtract(g, m, out=tmp)
            tmp *= 1.0 - self.beta_1
            m += tmp
            u *= self.beta_2
            xp.abs(g, out=tmp)
            xp.maximum(u, tmp, out=u)
            xp.add(u, self.epsilon, out=tmp)
            xp.divide(m, tmp, out=tmp)
            tmp *= learning_rate / (1.0 - self.beta_1 ** t)
            w -= tmp

    _fused_kind = "adamax"

    def _fused_slots(self, i):
        return [self._m[i].data, self._u[i].data]

    def _fused_scalars(self, learning_rate):
        t = self._local_step + 1
        return "adamax", (
            np.float32(learning_rate / (1.0 - self.beta_1 ** t)),
            np.float32(1.0 - self.beta_1), np.float32(self.beta_2),
            np.float32(self.epsilon))

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2,
                       "epsilon": self.epsilon})
        return config

"""The Lion optimizer (`keras.optimizers.Lion`)."""

import numpy as np

from gkeras.optimizers._common import xp_of
from gkeras.optimizers.base_optimizer import Optimizer


class Lion(Optimizer):
    """Optimizer that implements the Lion algorithm (Chen et al., 2023).

    `w -= lr * sign(beta_1 * m + (1 - beta_1) * g)`, then
    `m = beta_2 * m + (1 - beta_2) * g`.

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable.
            Defaults to `0.001`.
        beta_1: Rate to combine the current gradient and the 1st moment
            estimate, in (0, 1]. Defaults to `0.9`.
        beta_2: Decay rate of the 1st moment estimate. Defaults to `0.99`.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema,
        ema_momentum, ema_overwrite_frequency, loss_scale_factor,
        gradient_accumulation_steps: see `Optimizer`.
        name: Defaults to `"lion"`.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99,
                 weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="lion", **kwargs):
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
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(
                "Argument `beta_1` must be in the [0, 1] range. Otherwise, "
                f"the optimizer degenerates to SignSGD. Received: "
                f"beta_1={beta_1}.")

    def build(self, var_list):
        """Creates the `momentum` slots."""
        if self.built:
            return
        super().build(var_list)
        self._momentums = self.add_optimizer_variables(var_list, "momentum")

    def update_step(self, gradient, variable, learning_rate):
        i = self._trainable_variables_indices[id(variable)]
        w = variable.data
        xp = xp_of(w)
        for g, w, m, tmp in self._blocks(i, gradient, w,
                                         self._momentums[i].data):
            xp.multiply(m, self.beta_1, out=tmp)
            tmp += (1.0 - self.beta_1) * g
            xp.sign(tmp, out=tmp)
            tmp *= learning_rate
            w -= tmp
            m *= self.beta_2
            xp.multiply(g, 1.0 - self.beta_2, out=tmp)
            m += tmp

    _fused_kind = "lion"

    def _fused_slots(self, i):
        return [self._momentums[i].data]

    def _fused_scalars(self, learning_rate):
        return "lion", (np.float32(learning_rate), np.float32(self.beta_1),
                        np.float32(1.0 - self.beta_1),
                        np.float32(self.beta_2),
                        np.float32(1.0 - self.beta_2))

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2})
        return config

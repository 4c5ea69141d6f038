"""The Adagrad optimizer (`keras.optimizers.Adagrad`)."""

import numpy as np

from gkeras.optimizers._common import xp_of
from gkeras.optimizers.base_optimizer import Optimizer


class Adagrad(Optimizer):
    """Optimizer that implements the Adagrad algorithm.

    Parameter-specific learning rates, adapted to how frequently a
    parameter gets updated: `acc += g**2; w -= lr * g / sqrt(acc + eps)`.

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable.
            Defaults to `0.001`.
        initial_accumulator_value: Starting value of the accumulators
            (non-negative). Defaults to `0.1`.
        epsilon: Small constant for numerical stability. Defaults to 1e-7.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema,
        ema_momentum, ema_overwrite_frequency, loss_scale_factor,
        gradient_accumulation_steps: see `Optimizer`.
        name: Defaults to `"adagrad"`.
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1,
                 epsilon=1e-7, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None,
                 name="adagrad", **kwargs):
        super().__init__(
            learning_rate=learning_rate, name=name,
            weight_decay=weight_decay, clipnorm=clipnorm,
            clipvalue=clipvalue, global_clipnorm=global_clipnorm,
            use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            **kwargs)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def build(self, var_list):
        """Creates the `accumulator` slots."""
        if self.built:
            return
        super().build(var_list)
        from gkeras.initializers import Constant
        self._accumulators = self.add_optimizer_variables(
            var_list, "accumulator",
            initializer=Constant(self.initial_accumulator_value))

    def update_step(self, gradient, variable, learning_rate):
        i = self._trainable_variables_indices[id(variable)]
        w = variable.data
        xp = xp_of(w)
        for g, w, acc, tmp in self._blocks(i, gradient, w,
                                           self._accumulators[i].data):
            xp.multiply(g, g, out=tmp)
            acc += tmp
            xp.add(acc, self.epsilon, out=tmp)
            xp.sqrt(tmp, out=tmp)
            xp.divide(g, tmp, out=tmp)
            tmp *= learning_rate
            w -= tmp

    _fused_kind = "adagrad"

    def _fused_slots(self, i):
        return [self._accumulators[i].data]

    def _fused_scalars(self, learning_rate):
        return "adagrad", (np.float32(learning_rate),
                           np.float32(self.epsilon))

    def get_config(self):
        config = super().get_config()
        config.update({
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon})
        return config

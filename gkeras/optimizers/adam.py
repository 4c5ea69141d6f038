"""The Adam optimizer (`keras.optimizers.Adam`)."""

import math

import numpy as np

from gkeras.optimizers._common import update_moments, xp_of
from gkeras.optimizers.base_optimizer import Optimizer


class Adam(Optimizer):
    """Optimizer that implements the Adam algorithm.

    Adam is a stochastic gradient descent method based on adaptive
    estimation of first-order and second-order moments (Kingma & Ba, 2014).
    With `t = iterations + 1`:

    ```
    m = m + (g - m) * (1 - beta_1)
    v = v + (g**2 - v) * (1 - beta_2)
    w = w - lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (sqrt(v) + epsilon)
    ```

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable.
            Defaults to `0.001`.
        beta_1: The exponential decay rate for the 1st moment estimates.
            Defaults to `0.9`.
        beta_2: The exponential decay rate for the 2nd moment estimates.
            Defaults to `0.999`.
        epsilon: A small constant for numerical stability ("epsilon hat").
            Defaults to `1e-7`.
        amsgrad: Whether to apply the AMSGrad variant (keeps the running
            maximum of `v`, slot `velocity_hat`). Defaults to `False`.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema,
        ema_momentum, ema_overwrite_frequency, loss_scale_factor,
        gradient_accumulation_steps: see `Optimizer`.
        name: Defaults to `"adam"`.

    Example:

    >>> opt = gkeras.optimizers.Adam(learning_rate=1e-3)
    >>> model.compile(optimizer=opt, loss="mse")
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="adam", **kwargs):
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
        self.amsgrad = amsgrad

    def build(self, var_list):
        """Creates the `momentum`, `velocity` (and `velocity_hat`) slots."""
        if self.built:
            return
        super().build(var_list)
        # Interleaved per variable, as Keras 3.15 (the saved state's order).
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(
                var_list, "velocity_hat")

    def update_step(self, gradient, variable, learning_rate):
        i = self._trainable_variables_indices[id(variable)]
        t = self._local_step + 1
        b1, b2 = self.beta_1, self.beta_2
        alpha = learning_rate * math.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t)
        w = variable.data
        xp = xp_of(w)
        slots = [self._momentums[i].data, self._velocities[i].data]
        if self.amsgrad:
            slots.append(self._velocity_hats[i].data)
        for g, w, m, v, *v_hat, tmp in self._blocks(i, gradient, w, *slots):
            update_moments(xp, g, m, v, tmp, b1, b2)
            if v_hat:
                xp.maximum(v_hat[0], v, out=v_hat[0])
                v = v_hat[0]
            xp.sqrt(v, out=tmp)
            tmp += self.epsilon
            xp.divide(m, tmp, out=tmp)
            tmp *= alpha
            w -= tmp

    _fused_kind = "adam"

    def _fused_slots(self, i):
        slots = [self._momentums[i].data, self._velocities[i].data]
        if self.amsgrad:
            slots.append(self._velocity_hats[i].data)
        return slots

    def _fused_scalars(self, learning_rate):
        # The same Python-float coefficients as `update_step`, rounded to
        # float32 as NumPy rounds them when they meet a float32 array.
        t = self._local_step + 1
        b1, b2 = self.beta_1, self.beta_2
        alpha = learning_rate * math.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t)
        return "adam", (np.float32(alpha), np.float32(1.0 - b1),
                        np.float32(1.0 - b2), np.float32(self.epsilon))

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2,
                       "epsilon": self.epsilon, "amsgrad": self.amsgrad})
        return config

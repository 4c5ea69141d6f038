"""The Nadam optimizer (`keras.optimizers.Nadam`)."""

import numpy as np

from gkeras.ops.variable import Variable
from gkeras.optimizers._common import update_moments, xp_of
from gkeras.optimizers.base_optimizer import Optimizer


class Nadam(Optimizer):
    """Optimizer that implements the Nadam algorithm.

    Adam with Nesterov momentum (Dozat, 2015), with Keras's momentum
    schedule `u_t = beta_1 * (1 - 0.5 * 0.96**t)`.

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable.
            Defaults to `0.001`.
        beta_1: Decay rate of the 1st moment estimates. Defaults to `0.9`.
        beta_2: Decay rate of the 2nd moment estimates. Defaults to `0.999`.
        epsilon: Small constant for numerical stability. Defaults to 1e-7.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema,
        ema_momentum, ema_overwrite_frequency, loss_scale_factor,
        gradient_accumulation_steps: see `Optimizer`.
        name: Defaults to `"nadam"`.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None,
                 name="nadam", **kwargs):
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
        """Creates `momentum`, `velocity` slots and the `u_product` scalar."""
        if self.built:
            return
        dtype = var_list[0].dtype if var_list else None
        super().build(var_list)
        # Interleaved per variable, as Keras 3.15 (the saved state's order).
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])
        self._u_product = Variable(1.0, dtype=dtype, trainable=False)
        self._u_product.path = f"{self.name}/variable"
        self._track_variable(self._u_product)
        self._u_product_value = 1.0

    def _sync_host_state(self):
        super()._sync_host_state()
        if self.built:
            self._u_product_value = float(self._u_product.numpy())

    def _decay_and_update(self, grads, trainable_variables):
        # The momentum-schedule product advances once per update, before
        # the variables (fused or not) read it.
        t = self._local_step + 1
        self._u_product_value *= self.beta_1 * (1.0 - 0.5 * 0.96 ** t)
        self._u_product.data[...] = self._u_product_value
        super()._decay_and_update(grads, trainable_variables)

    _fused_kind = "nadam"

    def _fused_slots(self, i):
        return [self._momentums[i].data, self._velocities[i].data]

    def _fused_scalars(self, learning_rate):
        # The coefficients of `update_step`, rounded to float32 as NumPy
        # rounds them against float32 arrays.
        t = self._local_step + 1
        b1, b2 = self.beta_1, self.beta_2
        u_t = b1 * (1.0 - 0.5 * 0.96 ** t)
        u_t_1 = b1 * (1.0 - 0.5 * 0.96 ** (t + 1))
        u_product_t = self._u_product_value
        u_product_t_1 = u_product_t * u_t_1
        return "nadam", (
            np.float32(learning_rate), np.float32(1.0 - b1),
            np.float32(1.0 - b2), np.float32(u_t_1 / (1.0 - u_product_t_1)),
            np.float32((1.0 - u_t) / (1.0 - u_product_t)),
            np.float32(1.0 / (1.0 - b2 ** t)), np.float32(self.epsilon))

    def update_step(self, gradient, variable, learning_rate):
        i = self._trainable_variables_indices[id(variable)]
        t = self._local_step + 1
        b1, b2 = self.beta_1, self.beta_2
        u_t = b1 * (1.0 - 0.5 * 0.96 ** t)
        u_t_1 = b1 * (1.0 - 0.5 * 0.96 ** (t + 1))
        u_product_t = self._u_product_value
        u_product_t_1 = u_product_t * u_t_1
        beta_2_power = b2 ** t
        w = variable.data
        xp = xp_of(w)
        for g, w, m, v, tmp in self._blocks(i, gradient, w,
                                            self._momentums[i].data,
                                            self._velocities[i].data):
            update_moments(xp, g, m, v, tmp, b1, b2)
            # m_hat = u_t_1 * m / (1 - u_product_t_1)
            #         + (1 - u_t) * g / (1 - u_product_t)
            m_hat = xp.multiply(m, u_t_1 / (1.0 - u_product_t_1))
            xp.multiply(g, (1.0 - u_t) / (1.0 - u_product_t), out=tmp)
            m_hat += tmp
            # v_hat = v / (1 - beta_2_power)
            xp.multiply(v, 1.0 / (1.0 - beta_2_power), out=tmp)
            xp.sqrt(tmp, out=tmp)
            tmp += self.epsilon
            m_hat /= tmp
            m_hat *= learning_rate
            w -= m_hat

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2,
                       "epsilon": self.epsilon})
        return config


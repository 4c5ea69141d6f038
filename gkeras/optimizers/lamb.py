"""The LAMB optimizer (`keras.optimizers.Lamb`)."""

from gkeras.optimizers._common import update_moments, xp_of
from gkeras.optimizers.base_optimizer import Optimizer


class Lamb(Optimizer):
    """Optimizer that implements the LAMB algorithm (You et al., 2019):
    Adam's update rescaled per variable by the trust ratio
    `||w|| / ||update||` (1 when either norm is 0).

    With `t = iterations + 1`:

    ```
    m = m + (g - m) * (1 - beta_1)
    v = v + (g**2 - v) * (1 - beta_2)
    update = (m / (1 - beta_1**t)) / (sqrt(v / (1 - beta_2**t)) + epsilon)
    w = w - lr * ratio * update
    ```

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable.
            Defaults to `0.001`.
        beta_1: The exponential decay rate for the 1st moment estimates.
            Defaults to `0.9`.
        beta_2: The exponential decay rate for the 2nd moment estimates.
            Defaults to `0.999`.
        epsilon: A small constant for numerical stability. Defaults to
            `1e-7`.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema,
        ema_momentum, ema_overwrite_frequency, loss_scale_factor,
        gradient_accumulation_steps: see `Optimizer`.
        name: Defaults to `"lamb"`.

    Example:

    >>> model.compile(optimizer=gkeras.optimizers.Lamb(1e-3), loss="mse")
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None,
                 name=None, **kwargs):
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
        """Creates the `momentum` and `velocity` slots."""
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])

    def update_step(self, gradient, variable, learning_rate):
        i = self._trainable_variables_indices[id(variable)]
        t = self._local_step + 1
        w = variable.data
        xp = xp_of(w)
        m = self._momentums[i].data
        v = self._velocities[i].data
        tmp = self._tmp(i, w)
        update_moments(xp, gradient, m, v, tmp, self.beta_1, self.beta_2)
        xp.divide(v, 1.0 - self.beta_2 ** t, out=tmp)
        xp.sqrt(tmp, out=tmp)
        tmp += self.epsilon
        xp.divide(m, tmp, out=tmp)
        tmp /= 1.0 - self.beta_1 ** t
        w_norm = xp.sqrt(xp.sum(w * w))
        g_norm = xp.sqrt(xp.sum(tmp * tmp))
        # The trust ratio stays on the device: no read-back per step.
        ratio = xp.where(w_norm > 0,
                         xp.where(g_norm > 0, w_norm / (g_norm + (g_norm == 0)),
                                  1.0), 1.0).astype(w.dtype)
        tmp *= ratio * w.dtype.type(learning_rate)
        w -= tmp

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2,
                       "epsilon": self.epsilon})
        return config

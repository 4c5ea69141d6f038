"""The Schedule-Free AdamW optimizer (`keras.optimizers.ScheduleFreeAdamW`).
"""

from gkeras.optimizers._common import xp_of
from gkeras.optimizers.base_optimizer import Optimizer


class ScheduleFreeAdamW(Optimizer):
    """Optimizer that implements Schedule-Free AdamW (Defazio et al., 2024),
    with Keras 3's update rule.

    It needs no learning-rate schedule: the model's variables hold the
    interpolation `y` between the base iterate `z` (the `momentum` slot,
    initialised to the variables) and the running average `x` of the
    iterates. With `t = iterations + 1` and `lr` warmed up linearly over
    `warmup_steps`:

    ```
    v = v + (g**2 - v) * (1 - beta_2)
    z_new = z - lr * g / (sqrt(v / (1 - beta_2**t)) + epsilon)
    x = (y - (1 - beta_1) * z) / beta_1
    x_new = (1 - 1/t) * x + (1/t) * z_new
    y = (1 - beta_1) * z_new + beta_1 * x_new
    ```

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable.
            Defaults to `0.0025`.
        beta_1: interpolation between the average and the base iterate.
            Defaults to `0.9`.
        beta_2: decay rate of the second-moment estimate. Defaults to
            `0.999`.
        epsilon: A small constant for numerical stability. Defaults to
            `1e-8`.
        warmup_steps: number of steps of linear learning-rate warmup.
            Defaults to `0`.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema,
        ema_momentum, ema_overwrite_frequency, loss_scale_factor,
        gradient_accumulation_steps: see `Optimizer`.
        name: Defaults to `"schedule_free_adam_w"`.

    Example:

    >>> opt = gkeras.optimizers.ScheduleFreeAdamW(warmup_steps=100)
    >>> model.compile(optimizer=opt, loss="mse")
    """

    def __init__(self, learning_rate=0.0025, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, warmup_steps=0, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
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
        self.warmup_steps = warmup_steps

    def build(self, var_list):
        """Creates the `momentum` (base iterate `z`, initialised to the
        variables) and `velocity` slots."""
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])
        for momentum, var in zip(self._momentums, var_list):
            momentum.data[...] = var.data

    def update_step(self, gradient, variable, learning_rate):
        i = self._trainable_variables_indices[id(variable)]
        t = self._local_step + 1
        lr = learning_rate
        if self.warmup_steps > 0:
            lr = lr * min(t / self.warmup_steps, 1.0)
        b1, b2 = self.beta_1, self.beta_2
        w = variable.data
        xp = xp_of(w)
        z = self._momentums[i].data
        v = self._velocities[i].data
        tmp = self._tmp(i, w)
        # x_old = (y - (1 - b1) z_old) / b1, taken before z moves.
        x_old = (w - (1.0 - b1) * z) / b1
        xp.multiply(gradient, gradient, out=tmp)
        tmp -= v
        tmp *= 1.0 - b2
        v += tmp
        xp.divide(v, 1.0 - b2 ** t, out=tmp)
        xp.sqrt(tmp, out=tmp)
        tmp += self.epsilon
        xp.divide(gradient, tmp, out=tmp)
        tmp *= lr
        z -= tmp
        weight = 1.0 / t
        x_old *= 1.0 - weight
        x_old += weight * z
        xp.multiply(z, 1.0 - b1, out=w)
        x_old *= b1
        w += x_old

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2,
                       "epsilon": self.epsilon,
                       "warmup_steps": self.warmup_steps})
        return config

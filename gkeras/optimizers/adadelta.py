"""The Adadelta optimizer (`keras.optimizers.Adadelta`)."""

from gkeras.optimizers._common import xp_of
from gkeras.optimizers.base_optimizer import Optimizer


class Adadelta(Optimizer):
    """Optimizer that implements the Adadelta algorithm.

    A per-dimension adaptive learning rate based on a moving window of
    gradient updates:

    ```
    acc_g = rho * acc_g + (1 - rho) * g**2
    delta = -sqrt(acc_d + eps) / sqrt(acc_g + eps) * g
    acc_d = rho * acc_d + (1 - rho) * delta**2
    w = w + lr * delta
    ```

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable.
            Defaults to `0.001` (use 1.0 to match the original paper).
        rho: The decay rate. Defaults to `0.95`.
        epsilon: Small constant for numerical stability. Defaults to 1e-7.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema,
        ema_momentum, ema_overwrite_frequency, loss_scale_factor,
        gradient_accumulation_steps: see `Optimizer`.
        name: Defaults to `"adadelta"`.
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="adadelta",
                 **kwargs):
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
        self.epsilon = epsilon

    def build(self, var_list):
        """Creates `accumulated_grad` and `accumulated_delta_var` slots."""
        if self.built:
            return
        super().build(var_list)
        # Interleaved per variable, as Keras 3.15 (the saved state's order).
        self._accumulated_grads, self._accumulated_delta_vars = \
            self.add_optimizer_variables(
                var_list, ["accumulated_grad", "accumulated_delta_var"])

    def update_step(self, gradient, variable, learning_rate):
        i = self._trainable_variables_indices[id(variable)]
        w = variable.data
        xp = xp_of(w)
        rho, eps = self.rho, self.epsilon
        for g, w, acc_g, acc_d, tmp in self._blocks(
                i, gradient, w, self._accumulated_grads[i].data,
                self._accumulated_delta_vars[i].data):
            acc_g *= rho
            xp.multiply(g, g, out=tmp)
            tmp *= 1.0 - rho
            acc_g += tmp
            # delta = -sqrt(acc_d + eps) * g / sqrt(acc_g + eps)
            delta = xp.sqrt(acc_d + eps)
            delta *= g
            xp.add(acc_g, eps, out=tmp)
            xp.sqrt(tmp, out=tmp)
            delta /= tmp
            xp.negative(delta, out=delta)
            acc_d *= rho
            xp.multiply(delta, delta, out=tmp)
            tmp *= 1.0 - rho
            acc_d += tmp
            delta *= learning_rate
            w += delta

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config

"""The Adafactor optimizer (`keras.optimizers.Adafactor`)."""

import math

from gkeras.ops.variable import Variable
from gkeras.optimizers._common import xp_of
from gkeras.optimizers.base_optimizer import Optimizer


class Adafactor(Optimizer):
    """Optimizer that implements the Adafactor algorithm (Shazeer & Stern,
    2018), with Keras 3's update rule.

    The second-moment estimate of a variable of rank >= 2 is factored over
    its last two axes (a row statistic `r` and a column statistic `c`), so
    it costs memory proportional to the sum, not the product, of those
    axes. With `t = iterations + 1`:

    ```
    rho = min(lr, 1 / sqrt(t))
    alpha = max(epsilon_2, rms(w)) * rho
    beta_2_t = 1 - t ** beta_2_decay
    r = beta_2_t * r + (1 - beta_2_t) * mean(g**2 + epsilon_1, axis=-1)
    c = beta_2_t * c + (1 - beta_2_t) * mean(g**2 + epsilon_1, axis=-2)
    v = (r / mean(r, axis=-1))[..., None] * c[..., None, :]
    u = g / sqrt(v);  u = u / max(1, rms(u) / clip_threshold)
    w = w - alpha * u
    ```

    (variables of rank < 2 keep a full `v`, updated like `r`).

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable.
            Defaults to `0.001`.
        beta_2_decay: float, the decay rate of `beta_2`. Defaults to `-0.8`.
        epsilon_1: float, added to the squared gradients. Defaults to
            `1e-30`.
        epsilon_2: float, the smallest scale of the step (relative to the
            variable's RMS). Defaults to `1e-3`.
        clip_threshold: float, the largest RMS of the update. Defaults to
            `1.0`.
        relative_step: bool; with a float learning rate, the rate is capped
            at `1 / sqrt(t)`. Defaults to `True`.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema,
        ema_momentum, ema_overwrite_frequency, loss_scale_factor,
        gradient_accumulation_steps: see `Optimizer`.
        name: Defaults to `"adafactor"`.

    Example:

    >>> model.compile(optimizer=gkeras.optimizers.Adafactor(), loss="mse")
    """

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8,
                 epsilon_1=1e-30, epsilon_2=1e-3, clip_threshold=1.0,
                 relative_step=True, weight_decay=None, clipnorm=None,
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
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def build(self, var_list):
        """Creates, per variable, the factored statistics `r` and `c`
        (named like the variable; int32 scalar placeholders for variables
        of rank < 2, as Keras) and the `velocity` slot."""
        if self.built:
            return
        super().build(var_list)
        self._r, self._c, self._v = [], [], []
        for var in var_list:
            if len(var.shape) < 2:
                # Keras tracks two int32 placeholders here; they are part of
                # the saved optimizer state, so they are kept.
                for store in (self._r, self._c):
                    placeholder = Variable(0, dtype="int32", trainable=False,
                                           name=var.name)
                    placeholder.path = var.name
                    self._track_variable(placeholder)
                    store.append(placeholder)
            else:
                shape = tuple(var.shape)
                self._r.append(self.add_variable(
                    shape=shape[:-1], dtype=var.dtype, name=var.name))
                self._c.append(self.add_variable(
                    shape=shape[:-2] + shape[-1:], dtype=var.dtype,
                    name=var.name))
            self._v.append(self.add_variable_from_reference(
                var, name="velocity"))

    def update_step(self, gradient, variable, learning_rate):
        i = self._trainable_variables_indices[id(variable)]
        w = variable.data
        xp = xp_of(w)
        t = self._local_step + 1
        inv_sqrt_t = 1.0 / math.sqrt(t)
        lr = learning_rate
        if isinstance(self._learning_rate, Variable) and self.relative_step:
            lr = min(lr, inv_sqrt_t)
        rho = min(lr, inv_sqrt_t)
        alpha = xp.maximum(self.epsilon_2, xp.sqrt(xp.mean(w * w))) * rho
        reg = gradient * gradient + self.epsilon_1
        beta_2_t = 1.0 - t ** self.beta_2_decay
        v = self._v[i].data
        if w.ndim >= 2:
            r = self._r[i].data
            c = self._c[i].data
            r *= beta_2_t
            r += (1.0 - beta_2_t) * xp.mean(reg, axis=-1)
            c *= beta_2_t
            c += (1.0 - beta_2_t) * xp.mean(reg, axis=-2)
            xp.multiply((r / xp.mean(r, axis=-1, keepdims=True))[..., None],
                        c[..., None, :], out=v)
        else:
            v *= beta_2_t
            v += (1.0 - beta_2_t) * reg
        u = gradient / xp.sqrt(v)
        u /= xp.maximum(1.0, xp.sqrt(xp.mean(u * u)) / self.clip_threshold)
        u *= alpha
        w -= u

    def get_config(self):
        config = super().get_config()
        config.update({"beta_2_decay": self.beta_2_decay,
                       "epsilon_1": self.epsilon_1,
                       "epsilon_2": self.epsilon_2,
                       "clip_threshold": self.clip_threshold,
                       "relative_step": self.relative_step})
        return config

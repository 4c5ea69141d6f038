"""The Muon optimizer (`keras.optimizers.Muon`)."""

import math
import re

from gkeras.optimizers._common import update_moments, xp_of
from gkeras.optimizers.base_optimizer import Optimizer


class Muon(Optimizer):
    """Optimizer that implements the Muon algorithm (Jordan et al., 2024),
    with Keras 3's rules.

    2D weights (except embeddings and the layers matched by
    `exclude_layers`) are updated with momentum orthogonalised by
    `ns_steps` Newton-Schulz iterations; every other variable (biases,
    convolution kernels, embeddings, ...) with AdamW at
    `learning_rate * adam_lr_ratio`.

    Muon step, for a 2D weight of shape `(a, b)`:

    ```
    m = momentum * m + g
    u = newton_schulz5(g + momentum * m if nesterov else m)
    w = w - lr * u * sqrt(max(a, b)) * rms_rate
    ```

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable.
            Defaults to `0.001`.
        adam_beta_1: `beta_1` of the AdamW updates. Defaults to `0.9`.
        adam_beta_2: `beta_2` of the AdamW updates. Defaults to `0.999`.
        adam_weight_decay: weight decay of the AdamW-updated variables.
            Defaults to `0.004`.
        epsilon: AdamW's epsilon. Defaults to `1e-7`.
        weight_decay: weight decay of the Muon-updated variables. Defaults
            to `0.004`.
        exclude_layers: list of regular expressions; variables whose path
            matches one are updated with AdamW.
        exclude_embeddings: whether variables whose path contains
            "embedding" are updated with AdamW. Defaults to `True`.
        muon_a, muon_b, muon_c: the Newton-Schulz coefficients. Default to
            `3.4445`, `-4.7750`, `2.0315`.
        adam_lr_ratio: ratio of the AdamW learning rate to the Muon one.
            Defaults to `1`.
        momentum: Muon's momentum. Defaults to `0.95`.
        ns_steps: number of Newton-Schulz iterations. Defaults to `5`.
        nesterov: whether to use Nesterov momentum. Defaults to `True`.
        rms_rate: scales the update so that its RMS matches AdamW's
            (Moonlight's rule); None disables it. Defaults to `0.2`.
        clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor,
        gradient_accumulation_steps: see `Optimizer`.
        name: Defaults to `"muon"`.

    Example:

    >>> model.compile(optimizer=gkeras.optimizers.Muon(0.02), loss="mse")
    """

    def __init__(self, learning_rate=0.001, adam_beta_1=0.9,
                 adam_beta_2=0.999, adam_weight_decay=0.004, epsilon=1e-7,
                 weight_decay=0.004, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None,
                 exclude_layers=None, exclude_embeddings=True,
                 muon_a=3.4445, muon_b=-4.7750, muon_c=2.0315,
                 adam_lr_ratio=1, momentum=0.95, ns_steps=5, nesterov=True,
                 rms_rate=0.2, **kwargs):
        super().__init__(
            learning_rate=learning_rate, name=name,
            weight_decay=weight_decay, clipnorm=clipnorm,
            clipvalue=clipvalue, global_clipnorm=global_clipnorm,
            use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            **kwargs)
        self.adam_beta_1 = adam_beta_1
        self.adam_beta_2 = adam_beta_2
        self.epsilon = epsilon
        self.muon_a = muon_a
        self.muon_b = muon_b
        self.muon_c = muon_c
        self.adam_lr_ratio = adam_lr_ratio
        self.momentum = momentum
        self.ns_steps = ns_steps
        self.nesterov = nesterov
        self.exclude_embeddings = exclude_embeddings
        self.exclude_layers = exclude_layers or []
        self.adam_weight_decay = adam_weight_decay
        self.rms_rate = rms_rate

    def _should_use_adamw(self, variable):
        if len(variable.shape) != 2:
            return True
        path = getattr(variable, "path", variable.name)
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(k, path) for k in self.exclude_layers)

    def build(self, var_list):
        """Creates a `momentum` slot per variable and a `velocity` slot per
        AdamW-updated variable (in Keras's order)."""
        if self.built:
            return
        super().build(var_list)
        self.momentums = [None] * len(var_list)
        self.adam_velocities = [None] * len(var_list)
        for i, var in enumerate(var_list):
            self.momentums[i] = self.add_variable_from_reference(
                var, name="momentum")
            if self._should_use_adamw(var):
                self.adam_velocities[i] = self.add_variable_from_reference(
                    var, name="velocity")

    def update_step(self, gradient, variable, learning_rate):
        i = self._trainable_variables_indices[id(variable)]
        m = self.momentums[i].data
        v = self.adam_velocities[i]
        if v is not None:
            self._adamw_update_step(i, gradient, variable.data,
                                    learning_rate * self.adam_lr_ratio, m,
                                    v.data)
        else:
            self._muon_update_step(gradient, variable.data, learning_rate, m)

    def _muon_update_step(self, gradient, w, lr, m):
        m *= self.momentum
        m += gradient
        g = gradient + self.momentum * m if self.nesterov else m
        update = self.zeropower_via_newtonschulz5(g, self.ns_steps)
        w -= self.lr_adjust(lr * update)

    def _adamw_update_step(self, i, gradient, w, lr, m, v):
        xp = xp_of(w)
        t = self._local_step + 1
        b1, b2 = self.adam_beta_1, self.adam_beta_2
        alpha = lr * math.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t)
        tmp = self._tmp(i, w)
        update_moments(xp, gradient, m, v, tmp, b1, b2)
        xp.sqrt(v, out=tmp)
        tmp += self.epsilon
        xp.divide(m, tmp, out=tmp)
        tmp *= alpha
        w -= tmp

    @staticmethod
    def transpose_last_axis(x):
        """Swaps the last two axes of `x`."""
        return x.swapaxes(-1, -2)

    def lr_adjust(self, x):
        """Scales the update `x` by `sqrt(max(rows, cols)) * rms_rate`
        (no change when `rms_rate` is None)."""
        if self.rms_rate is None:
            return x
        return x * (math.sqrt(max(x.shape[0], x.shape[1])) * self.rms_rate)

    def zeropower_via_newtonschulz5(self, x, steps):
        """Approximately orthogonalises `x` (its `U V^T`) with `steps`
        quintic Newton-Schulz iterations.

        Args:
            x: an array of rank >= 2.
            steps: the number of iterations.

        Returns:
            An array shaped like `x`.
        """
        if x.ndim < 2:
            raise ValueError(
                "Muon expected the gradient or momentum to have at least 2 "
                f"dimensions. Received: shape={tuple(x.shape)}")
        xp = xp_of(x)
        a, b, c = self.muon_a, self.muon_b, self.muon_c
        tall = x.shape[-2] > x.shape[-1]
        if tall:
            x = self.transpose_last_axis(x)
        x = x / (xp.sqrt(xp.sum(x * x, axis=(-2, -1), keepdims=True)) + 1e-7)
        for _ in range(steps):
            gram = x @ self.transpose_last_axis(x)
            poly = b * gram + c * (gram @ gram)
            x = a * x + poly @ x
        if tall:
            x = self.transpose_last_axis(x)
        return x

    def _apply_weight_decay(self, variables):
        lr = None
        for variable in variables:
            if not self._use_weight_decay(variable):
                continue
            decay = (self.adam_weight_decay
                     if self._should_use_adamw(variable)
                     else self.weight_decay)
            if decay is None:
                continue
            if lr is None:
                lr = self._current_learning_rate()
            variable.data *= 1.0 - decay * lr

    def get_config(self):
        config = super().get_config()
        config.update({
            "adam_beta_1": self.adam_beta_1,
            "adam_beta_2": self.adam_beta_2,
            "epsilon": self.epsilon,
            "exclude_layers": self.exclude_layers,
            "muon_a": self.muon_a,
            "muon_b": self.muon_b,
            "muon_c": self.muon_c,
            "adam_lr_ratio": self.adam_lr_ratio,
            "momentum": self.momentum,
            "ns_steps": self.ns_steps,
            "nesterov": self.nesterov,
            "exclude_embeddings": self.exclude_embeddings,
            "adam_weight_decay": self.adam_weight_decay,
            "rms_rate": self.rms_rate,
        })
        return config

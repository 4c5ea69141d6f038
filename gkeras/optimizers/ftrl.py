"""The FTRL optimizer (`keras.optimizers.Ftrl`)."""

from gkeras.optimizers._common import xp_of
from gkeras.optimizers.base_optimizer import Optimizer


class Ftrl(Optimizer):
    """Optimizer that implements the FTRL-proximal algorithm.

    "Follow The Regularized Leader" (McMahan et al., 2013), with online L2
    (`l2_regularization_strength`) and shrinkage-type L2
    (`l2_shrinkage_regularization_strength`) as Keras implements it.

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable.
            Defaults to `0.001`.
        learning_rate_power: A float <= 0. Defaults to `-0.5`.
        initial_accumulator_value: Starting value of the accumulators
            (>= 0). Defaults to `0.1`.
        l1_regularization_strength: A float >= 0. Defaults to `0.0`.
        l2_regularization_strength: A float >= 0. Defaults to `0.0`.
        l2_shrinkage_regularization_strength: A float >= 0. Defaults to
            `0.0`.
        beta: A float. Defaults to `0.0`.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema,
        ema_momentum, ema_overwrite_frequency, loss_scale_factor,
        gradient_accumulation_steps: see `Optimizer`.
        name: Defaults to `"ftrl"`.
    """

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0,
                 l2_shrinkage_regularization_strength=0.0, beta=0.0,
                 weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="ftrl", **kwargs):
        super().__init__(
            learning_rate=learning_rate, name=name,
            weight_decay=weight_decay, clipnorm=clipnorm,
            clipvalue=clipvalue, global_clipnorm=global_clipnorm,
            use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            **kwargs)
        for arg, value, sign in (
                ("initial_accumulator_value", initial_accumulator_value, 1),
                ("learning_rate_power", learning_rate_power, -1),
                ("l1_regularization_strength", l1_regularization_strength, 1),
                ("l2_regularization_strength", l2_regularization_strength, 1),
                ("l2_shrinkage_regularization_strength",
                 l2_shrinkage_regularization_strength, 1)):
            if value * sign < 0.0:
                which = "positive or zero" if sign > 0 else "negative or zero"
                raise ValueError(f"`{arg}` needs to be {which}. Received: "
                                 f"{arg}={value}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = (
            l2_shrinkage_regularization_strength)
        self.beta = beta

    def build(self, var_list):
        """Creates `accumulator` and `linear` slots (interleaved)."""
        if self.built:
            return
        super().build(var_list)
        from gkeras.initializers import Constant
        self._accumulators, self._linears = [], []
        for var in var_list:
            self._accumulators.append(self.add_variable_from_reference(
                var, name="accumulator",
                initializer=Constant(self.initial_accumulator_value)))
            self._linears.append(self.add_variable_from_reference(
                var, name="linear"))

    def update_step(self, gradient, variable, learning_rate):
        i = self._trainable_variables_indices[id(variable)]
        w = variable.data
        xp = xp_of(w)
        lr = learning_rate
        p = -self.learning_rate_power
        l2_reg = self.l2_regularization_strength + self.beta / (2.0 * lr)
        l1 = self.l1_regularization_strength
        for g, w, accum, linear, _ in self._blocks(
                i, gradient, w, self._accumulators[i].data,
                self._linears[i].data):
            grad_to_use = g + (
                2 * self.l2_shrinkage_regularization_strength) * w
            new_accum = accum + g * g
            new_pow = new_accum ** p
            linear += grad_to_use - (new_pow - accum ** p) / lr * w
            quadratic = new_pow / lr + 2 * l2_reg
            w[...] = (xp.clip(linear, -l1, l1) - linear) / quadratic
            accum[...] = new_accum

    def get_config(self):
        config = super().get_config()
        config.update({
            "learning_rate_power": self.learning_rate_power,
            "initial_accumulator_value": self.initial_accumulator_value,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
            "l2_shrinkage_regularization_strength":
                self.l2_shrinkage_regularization_strength,
            "beta": self.beta,
        })
        return config

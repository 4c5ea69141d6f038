"""`LossScaleOptimizer`: dynamic loss scaling for float16 training.

Float16 gradients underflow (below ~6e-8 they are 0). The trainer
multiplies the loss by a large scale (`scale_loss`), so every gradient in
the backward pass is scaled too, and this optimizer divides the float32
gradients by the scale before the wrapped optimizer applies them. The
scale adapts (Keras 3's rules and defaults):

- a step with any inf/NaN gradient is skipped (weights, slots and the
  wrapped optimizer's `iterations` unchanged) and the scale halves;
- after `dynamic_growth_steps` finite steps in a row the scale doubles.

Skip or apply is decided on the device: the new values are selected with
`xp.where(finite, updated, old)`, and the host learns whether a step was
skipped only at the next `apply` (the wrapped optimizer's host step mirror,
which drives learning-rate schedules and bias corrections, is corrected
then). On the GPU the flag is copied to pinned memory asynchronously, so
no step waits for the device to decide. On NumPy arrays the host decides
at once (there is no device to wait for).
"""

import numpy as np

from gkeras import backend
from gkeras.ops.engine import Tensor
from gkeras.optimizers.base_optimizer import Optimizer, _raw

_BASE_DEFAULTS = {
    "weight_decay": None, "clipnorm": None, "global_clipnorm": None,
    "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
    "ema_overwrite_frequency": None, "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


class LossScaleOptimizer(Optimizer):
    """An optimizer that dynamically scales the loss to prevent underflow.

    `Model.compile` wraps the optimizer in one automatically when the
    model's dtype policy is `"mixed_float16"` (pass
    `auto_scale_loss=False` to opt out), as Keras does.

    Args:
        inner_optimizer: the `Optimizer` to wrap.
        initial_scale: float, the initial loss scale (default 2**15).
        dynamic_growth_steps: int, after this many consecutive steps with
            finite gradients the scale doubles (default 2000).
        name: the optimizer's name (its variables' path prefix).

    Variables (`variables`, the saved order): its own `iteration` and
    `learning_rate` (0, unused, as Keras), then, once built,
    `step_counter` (int32) and `dynamic_scale` (float32), then the wrapped
    optimizer's.

    Example:

    >>> opt = gkeras.mixed_precision.LossScaleOptimizer(
    ...     gkeras.optimizers.SGD(0.1))
    >>> opt.learning_rate  # the wrapped optimizer's
    """

    def __init__(self, inner_optimizer, initial_scale=2.0 ** 15,
                 dynamic_growth_steps=2000, name=None, **kwargs):
        if not kwargs.pop("dynamic", True):
            raise ValueError(
                "LossScaleOptimizer no longer supports `dynamic=False`. "
                "Instead, simply set `loss_scale_factor` directly on the "
                "`inner_optimizer`.")
        for arg_name, default_value in _BASE_DEFAULTS.items():
            if arg_name not in kwargs:
                continue
            arg_value = kwargs.pop(arg_name)
            if (default_value is None and arg_value is not None) or \
                    arg_value != default_value:
                raise ValueError(
                    f"LossScaleOptimizer does not support `{arg_name}`. "
                    f"Instead, set `{arg_name}` on the `inner_optimizer`.")
        if kwargs:
            raise ValueError(
                "LossScaleOptimizer does not support arguments: "
                f"`{'`, `'.join(kwargs.keys())}`.")
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(
                "LossScaleOptimizer: `inner_optimizer` must be a gkeras "
                "Optimizer instance. Received: inner_optimizer="
                f"{inner_optimizer!r}")
        if not isinstance(dynamic_growth_steps, (int, np.integer)) or \
                dynamic_growth_steps < 1:
            raise ValueError(
                "LossScaleOptimizer: `dynamic_growth_steps` must be an "
                "integer >= 1. Received: dynamic_growth_steps="
                f"{dynamic_growth_steps!r}")
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = initial_scale
        self.dynamic_growth_steps = dynamic_growth_steps
        self.inner_optimizer.loss_scale_factor = None
        # The previous step's finiteness, not read back yet (see module
        # docstring), and whether the wrapped optimizer counted it.
        self._pending = None
        self._force_device_select = False

    def build(self, var_list):
        """Creates `step_counter`, `dynamic_scale` and the wrapped
        optimizer's variables."""
        self.step_counter = self.add_variable(
            shape=(), dtype="int32", initializer="zeros",
            aggregation="none", name="step_counter")
        from gkeras import initializers
        self.dynamic_scale = self.add_variable(
            shape=(), dtype="float32",
            initializer=initializers.Constant(self.initial_scale),
            aggregation="none", name="dynamic_scale")
        self.inner_optimizer.build(var_list)
        super().build(var_list)

    @property
    def variables(self):
        """Its own variables, then the wrapped optimizer's (Keras order)."""
        self._resolve_pending()
        return self._variables[:] + self.inner_optimizer.variables

    @property
    def learning_rate(self):
        """The wrapped optimizer's learning rate (settable)."""
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        if "inner_optimizer" not in self.__dict__:
            # Optimizer.__init__ sets the (unused) own rate before the
            # wrapped optimizer is attached.
            Optimizer.learning_rate.fset(self, learning_rate)
            return
        self.inner_optimizer.learning_rate = learning_rate

    @property
    def iterations(self):
        """The wrapped optimizer's `iterations` (skipped steps excluded)."""
        self._resolve_pending()
        return self.inner_optimizer.iterations

    def scale_loss(self, loss):
        """Multiplies `loss` by the current scale (a constant, no
        gradient flows into the scale)."""
        if self.built:
            scale = self.dynamic_scale._raw
            if isinstance(loss, Tensor):
                from gkeras import ops
                return ops.multiply(loss, Tensor(scale.astype(
                    loss.data.dtype) if loss.data.dtype != scale.dtype
                    else scale))
            return loss * scale
        return loss * self.initial_scale

    def check_finite(self, grads):
        """A 0-d boolean array (on the grads' device): all grads finite."""
        grads = [_raw(g) for g in grads if g is not None]
        if not grads:
            return np.asarray(True)
        xp = backend.get_array_module(grads[0])
        flags = [xp.isfinite(g).all() for g in grads]
        return xp.stack(flags).all() if len(flags) > 1 else flags[0]

    # ------------------------------------------------------------- apply
    def _resolve_pending(self):
        """Reads the previous step's flag back and, when that step was
        skipped, takes it off the wrapped optimizer's host step mirror."""
        pending = self.__dict__.get("_pending")
        if pending is None:
            return
        self._pending = None
        if not pending.get():
            inner = self.inner_optimizer
            inner._sync_host_state()

    def apply(self, grads, trainable_variables=None):
        """Unscales `grads` and applies them with the wrapped optimizer
        when all are finite; otherwise skips the step. Updates the scale.

        Args:
            grads: gradients of the *scaled* loss, one per variable.
            trainable_variables: the variables (optional once built).
        """
        self._resolve_pending()
        if trainable_variables is not None:
            trainable_variables = list(trainable_variables)
        if not self.built:
            if trainable_variables is None:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer "
                    "must already be built on a list of variables. Call "
                    "`optimizer.build(trainable_variables)` first.")
            self.build(trainable_variables)
        tvs = trainable_variables or self._trainable_variables
        grads = [_raw(g) for g in grads]
        finite = self.check_finite(grads)
        scale = self.dynamic_scale._raw
        on_device = self._force_device_select or any(
            backend.is_cupy_array(g) for g in grads if g is not None)
        if on_device:
            self._apply_selected(grads, tvs, finite, scale)
        elif bool(finite):
            unscaled = [None if g is None else g / scale
                        for g in grads]
            self.inner_optimizer.apply(unscaled, trainable_variables)
        self._update_scale(finite)

    def _apply_selected(self, grads, tvs, finite, scale):
        """The inner update on every step, kept or undone by `where`."""
        inner = self.inner_optimizer
        if not inner.built:
            inner.build(tvs)
        watched = [v for v in tvs] + [v for v in inner.variables
                                      if v is not inner._iterations]
        old = [v._raw.copy() for v in watched]
        it_old = inner._iterations._raw.copy()
        unscaled = []
        for g in grads:
            if g is None:
                unscaled.append(None)
                continue
            xp = backend.get_array_module(g)
            # Zeros on a skipped step keep NaNs out of the slots' math;
            # the result is thrown away below anyway.
            unscaled.append(xp.where(finite, g / scale,
                                     xp.zeros((), g.dtype)))
        inner.apply(unscaled, tvs)
        for v, before in zip(watched, old):
            raw = v._raw
            xp = backend.get_array_module(raw)
            raw[...] = xp.where(finite, raw, before)
        it = inner._iterations._raw
        it[...] = backend.get_array_module(it).where(finite, it, it_old)
        self._pending = _deferred_flag(finite)

    def _update_scale(self, finite):
        """Halve and reset on a bad step; double after
        `dynamic_growth_steps` good ones (device arithmetic only)."""
        counter = self.step_counter._raw
        scale = self.dynamic_scale._raw
        xp = backend.get_array_module(counter)
        finite = xp.asarray(finite)
        grow = xp.logical_and(finite,
                              counter == self.dynamic_growth_steps - 1)
        new_scale = xp.where(grow, scale * 2.0,
                             xp.where(finite, scale, scale * 0.5))
        new_counter = xp.where(xp.logical_and(finite, ~grow), counter + 1,
                               xp.zeros((), counter.dtype))
        scale[...] = new_scale.astype(scale.dtype)
        counter[...] = new_counter.astype(counter.dtype)

    def apply_gradients(self, grads_and_vars):
        """Applies `(gradient, variable)` pairs (TF-Keras style)."""
        grads, tvs = zip(*grads_and_vars)
        self.apply(list(grads), list(tvs))
        return self.iterations

    def finalize_variable_values(self, var_list):
        """Lets the wrapped optimizer finalize (EMA weights)."""
        self.inner_optimizer.finalize_variable_values(var_list)

    def _sync_host_state(self):
        super()._sync_host_state()
        self.inner_optimizer._sync_host_state()

    def _variables_for_saved(self, n):
        """The variables `n` saved values belong to, in order: all of
        `variables`, or, for the layout Keras writes before the first step
        (own `iteration` and `learning_rate`, then the wrapped optimizer's:
        no `step_counter`/`dynamic_scale` yet), those without the two
        scale variables, which keep their initial values. None if neither.
        """
        self._pending = None
        full = self.variables
        if n == len(full):
            return full
        unbuilt = self._variables[:2] + self.inner_optimizer.variables
        if self.built and n == len(unbuilt):
            return unbuilt
        return None

    def load_own_variables(self, store):
        """Reads its variables and the wrapped optimizer's, in `variables`
        order, or from the layout Keras writes before the first step
        (Keras 3.15 itself then skips loading with a warning)."""
        import warnings
        variables = self._variables_for_saved(len(store.keys()))
        if variables is None:
            warnings.warn(
                f"Skipping variable loading for optimizer '{self.name}', "
                f"because it has {len(self.variables)} variables whereas "
                f"the saved optimizer has {len(store.keys())} variables. ",
                stacklevel=2)
            return
        for i, variable in enumerate(variables):
            variable.assign(np.asarray(store[str(i)]))
        self._sync_host_state()

    def set_weights(self, weights):
        """Sets the variables (own, then the wrapped optimizer's; or the
        layout Keras saves before the first step)."""
        weights = list(weights)
        variables = self._variables_for_saved(len(weights)) \
            if self.built else None
        if variables is None:
            return super().set_weights(weights)
        for variable, weight in zip(variables, weights):
            if tuple(variable.shape) != tuple(np.shape(weight)):
                raise ValueError(
                    f"Optimizer variable {variable.path} has shape "
                    f"{tuple(variable.shape)} not compatible with provided "
                    f"weight shape {tuple(np.shape(weight))}. No variable "
                    "was changed.")
        for variable, weight in zip(variables, weights):
            variable.assign(weight)
        self._sync_host_state()

    def get_config(self):
        """`{"name", "inner_optimizer", "initial_scale",
        "dynamic_growth_steps"}`, as Keras writes it."""
        from gkeras.saving.serialization import serialize_keras_object
        return {"name": self.name,
                "inner_optimizer": serialize_keras_object(
                    self.inner_optimizer),
                "initial_scale": self.initial_scale,
                "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Creates the optimizer (and the wrapped one) from its config."""
        from gkeras import optimizers
        config = dict(config)
        inner = optimizers.deserialize(config.pop("inner_optimizer"),
                                       custom_objects=custom_objects)
        return cls(inner, **config)


class _HostFlag:
    """A boolean already on the host."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = bool(value)

    def get(self):
        return self.value


def _deferred_flag(flag):
    """A handle whose `get()` returns the flag's value later: on CuPy an
    asynchronous copy to pinned memory behind an event, so reading it a
    step later does not wait for the work queued since."""
    if backend.is_cupy_array(flag):
        from gkeras.backend.gpu.deferred import DeferredHostValue
        return DeferredHostValue(flag)
    return _HostFlag(flag)

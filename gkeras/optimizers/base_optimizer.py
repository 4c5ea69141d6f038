"""The optimizer base class (`keras.optimizers.Optimizer`).

Hot path of every training step, so:

- gradients arrive as raw backend arrays (NumPy or CuPy; a Tensor is
  unwrapped); variables are updated IN PLACE on `variable.data` with
  `out=` ufuncs into one scratch buffer per variable, so a step allocates
  (almost) nothing;
- the step counter, the learning rate and every scalar coefficient (Adam's
  bias corrections, Nadam's momentum schedule, ...) are Python floats
  computed from a host-side mirror of `iterations`, so a step never reads
  from the GPU. The mirrors follow `iterations.assign(...)`,
  `learning_rate.assign(...)`, `optimizer.learning_rate = ...` and
  `load_own_variables`.
"""

import re
import warnings

import numpy as np

from gkeras import backend
from gkeras.ops.engine import Tensor
from gkeras.ops.variable import Variable
from gkeras.optimizers.schedules import learning_rate_schedule as lrs
from gkeras.utils.naming import auto_name

# Elements per block of an update on the CPU (`_blocks`): at 128 KiB of
# float32 each, the five or so arrays of an update fit in a core's L2.
_UPDATE_BLOCK = 1 << 15
# Variables up to this size update whole: their arrays stay in the last-
# level cache across the passes anyway, and blocks would only add calls
# (measured: blocks pay from ~2M float32 entries, an embedding table).
_BLOCKED_ABOVE = 1 << 20


class _MirroredVariable(Variable):
    """A Variable whose assignments also refresh a host-side mirror."""

    __slots__ = ("_on_assign",)

    def _sync(self):
        cb = getattr(self, "_on_assign", None)
        if cb is not None:
            cb(self)

    def assign(self, value):
        super().assign(value)
        self._sync()
        return self

    def assign_add(self, value):
        super().assign_add(value)
        self._sync()
        return self

    def assign_sub(self, value):
        super().assign_sub(value)
        self._sync()
        return self


def _scalar(v):
    d = v.data
    if backend.is_cupy_array(d):
        d = d.get()
    return np.asarray(d).item()


def _raw(g):
    return g.data if isinstance(g, Tensor) else g


def _on_device_of(g, variable):
    """A host (NumPy) gradient for a variable on the GPU is copied there
    once: users may pass NumPy gradients to `apply`, as Keras allows."""
    if type(g) is np.ndarray and type(variable.data) is not np.ndarray \
            and backend.is_cupy_array(variable.data):
        return backend.get_array_module(variable.data).asarray(g)
    return g


class Optimizer:
    """Abstract optimizer base class.

    Subclasses create their slot variables in `build(var_list)` (with
    `add_variable_from_reference` / `add_optimizer_variables`) and
    implement `update_step(gradient, variable, learning_rate)`, which
    updates one variable in place.

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable
            that takes no argument and returns the rate. `lr=` (Keras 2) is
            accepted as an alias.
        weight_decay: Float. If set, decoupled weight decay is applied
            (`w -= w * weight_decay * lr` before each update).
        clipnorm: Float. Each gradient is clipped so that its norm is at
            most this value.
        clipvalue: Float. Each gradient is clipped to `[-clipvalue,
            clipvalue]`.
        global_clipnorm: Float. All gradients are scaled so that their
            global norm is at most this value. Only one of `clipnorm`,
            `clipvalue`, `global_clipnorm` may be set.
        use_ema: Whether to keep an exponential moving average of the
            weights.
        ema_momentum: Momentum of the moving average (`new_average =
            ema_momentum * old_average + (1 - ema_momentum) * value`).
        ema_overwrite_frequency: Every this many iterations the weights
            are overwritten with their moving average (None: only when
            `finalize_variable_values` is called, e.g. at the end of fit).
        loss_scale_factor: Float. The loss is multiplied by it
            (`scale_loss`) and gradients divided by it before the update.
        gradient_accumulation_steps: Int >= 2. Gradients are accumulated
            and the variables updated every this many steps with their
            average.
        name: String, the name of the optimizer (prefix of its variables).
        decay: Keras-2 argument. Honoured with its Keras-2 meaning
            (`lr / (1 + decay * iterations)`) by turning a float
            `learning_rate` into an `InverseTimeDecay` schedule, with a
            warning (Keras 3 ignores it).
    """

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None,
                 name=None, **kwargs):
        if "lr" in kwargs:  # Keras 2 spelling
            learning_rate = kwargs.pop("lr")
        decay = kwargs.pop("decay", None)
        for legacy in ("jit_compile", "is_legacy_optimizer"):
            kwargs.pop(legacy, None)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if name is None:
            name = auto_name(type(self).__name__)
        self.name = name
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.global_clipnorm = global_clipnorm
        self.clipvalue = clipvalue
        self.use_ema = use_ema
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        if gradient_accumulation_steps:
            if not (isinstance(gradient_accumulation_steps, int)
                    and gradient_accumulation_steps >= 2):
                raise ValueError(
                    "`gradient_accumulation_steps` must be an integer >= 2. "
                    "Received: gradient_accumulation_steps="
                    f"{gradient_accumulation_steps}")
        if use_ema:
            if ema_momentum > 1 or ema_momentum < 0:
                raise ValueError("`ema_momentum` must be in the range "
                                 f"[0, 1]. Received: ema_momentum="
                                 f"{ema_momentum}")
            if ema_overwrite_frequency and (
                    not isinstance(ema_overwrite_frequency, int)
                    or ema_overwrite_frequency < 1):
                raise ValueError(
                    "`ema_overwrite_frequency` must be an integer >= 1 or "
                    "None. Received: ema_overwrite_frequency="
                    f"{ema_overwrite_frequency}")
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        n_clip = sum(a is not None for a in (clipnorm, clipvalue,
                                             global_clipnorm))
        if n_clip > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` "
                f"can be set. Received: clipnorm={clipnorm}, "
                f"clipvalue={clipvalue}, global_clipnorm={global_clipnorm}")
        self.built = False
        self._variables = []
        self._trainable_variables = []
        self._trainable_variables_indices = {}
        self._scratch = []

        self._step = 0  # host mirror of `iterations`
        it = _MirroredVariable(0, dtype="int64", trainable=False,
                               name="iteration")
        it.path = f"{self.name}/iteration"
        it._on_assign = self._sync_iterations
        self._iterations = it
        self._track_variable(it)

        if decay:
            if isinstance(learning_rate, (int, float, np.floating)):
                warnings.warn(
                    "Argument `decay` is a Keras 2 argument (Keras 3 ignores "
                    "it). gkeras honours it as Keras 2 did, with "
                    f"InverseTimeDecay({float(learning_rate)}, decay_steps=1,"
                    f" decay_rate={decay}); prefer passing that schedule as "
                    "`learning_rate`.", stacklevel=3)
                learning_rate = lrs.InverseTimeDecay(
                    float(learning_rate), decay_steps=1, decay_rate=decay)
            else:
                raise ValueError(
                    "Argument `decay` cannot be combined with a learning "
                    "rate schedule or callable. Received: "
                    f"learning_rate={learning_rate}, decay={decay}")
        self._lr_value = None
        self._learning_rate = self._make_learning_rate(learning_rate)

    # ------------------------------------------------------- learning rate
    def _make_learning_rate(self, learning_rate):
        if isinstance(learning_rate, lrs.LearningRateSchedule) or (
                callable(learning_rate)
                and not isinstance(learning_rate, Variable)):
            return learning_rate
        if isinstance(learning_rate, Variable):
            learning_rate = _scalar(learning_rate)
        if isinstance(learning_rate, bool) or not isinstance(
                learning_rate, (int, float, np.integer, np.floating)):
            raise ValueError(
                "Argument `learning_rate` should be float, or an instance "
                "of LearningRateSchedule, or a callable (that takes in the "
                "current iteration value and returns the corresponding "
                "learning rate value). Received instead: "
                f"learning_rate={learning_rate!r}")
        var = _MirroredVariable(float(learning_rate), dtype=backend.floatx(),
                                trainable=False, name="learning_rate")
        var.path = f"{self.name}/learning_rate"
        var._on_assign = self._sync_lr
        self._lr_value = float(np.float32(learning_rate))
        self._track_variable(var)
        return var

    def _sync_lr(self, var):
        self._lr_value = float(_scalar(var))

    def _sync_iterations(self, var):
        self._step = int(_scalar(var))

    @property
    def learning_rate(self):
        """The learning rate: a float32 scalar Variable, or, with a schedule,
        the schedule's value at the current iteration.

        Setting it (`optimizer.learning_rate = 1e-4`) assigns the variable;
        `optimizer.learning_rate.assign(1e-4)` works too.
        """
        if isinstance(self._learning_rate, Variable):
            return self._learning_rate
        return self._current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        if isinstance(learning_rate, lrs.LearningRateSchedule) or (
                callable(learning_rate)
                and not isinstance(learning_rate, Variable)):
            if isinstance(self._learning_rate, Variable):
                self._untrack_variable(self._learning_rate)
            self._learning_rate = learning_rate
            self._lr_value = None
            return
        if not isinstance(self._learning_rate, Variable):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` "
                "object as its `learning_rate` constructor argument, hence "
                "its learning rate is not settable. If you need the learning "
                "rate to be settable, you should instantiate the optimizer "
                "with a float `learning_rate` argument.")
        if isinstance(learning_rate, Variable):
            learning_rate = _scalar(learning_rate)
        self._learning_rate.assign(np.asarray(learning_rate,
                                              dtype=backend.floatx()))

    @property
    def lr(self):
        """Keras-2 alias of `learning_rate`."""
        return self.learning_rate

    @lr.setter
    def lr(self, value):
        self.learning_rate = value

    def _current_learning_rate(self):
        """The learning rate of this step, as a Python float."""
        lr = self._learning_rate
        if self._lr_value is not None:
            return self._lr_value
        if isinstance(lr, lrs.LearningRateSchedule):
            return float(np.float32(lr(self._step)))
        value = lr()
        return float(_scalar(value) if isinstance(value, Tensor) else value)

    # ----------------------------------------------------------- variables
    @property
    def iterations(self):
        """The number of update steps taken (an int64 Variable); with
        gradient accumulation, the number of actual updates (as Keras)."""
        if self.gradient_accumulation_steps:
            return Variable(self._step // self.gradient_accumulation_steps,
                            dtype="int64", trainable=False, name="iteration")
        return self._iterations

    @property
    def _local_step(self):
        """`iterations` as a Python int (no device read)."""
        if self.gradient_accumulation_steps:
            return self._step // self.gradient_accumulation_steps
        return self._step

    @property
    def variables(self):
        """All optimizer variables, in Keras's order: iteration, learning
        rate (unless a schedule), then the slots created by `build`."""
        return self._variables[:]

    def _track_variable(self, variable):
        self._variables.append(variable)

    def _untrack_variable(self, variable):
        self._variables = [v for v in self._variables if v is not variable]

    def _var_key(self, variable):
        return id(variable)

    def _get_variable_index(self, variable):
        return self._trainable_variables_indices[id(variable)]

    def add_variable(self, shape, initializer="zeros", dtype=None,
                     aggregation="mean", name=None):
        """Adds a (non-trainable) optimizer variable.

        Args:
            shape: shape of the variable.
            initializer: initializer name or callable (default zeros).
            dtype: dtype (default floatx).
            aggregation: accepted for Keras compatibility.
            name: name of the variable; its path is `"<optimizer>/<name>"`.

        Returns:
            The new Variable.
        """
        from gkeras import initializers
        initializer = initializers.get(initializer)
        var = Variable(initializer, shape=tuple(shape), dtype=dtype,
                       trainable=False, aggregation=aggregation,
                       name=name or "variable")
        var.path = f"{self.name}/{var.name}"
        self._track_variable(var)
        return var

    def add_variable_from_reference(self, reference_variable, name=None,
                                    initializer="zeros"):
        """Adds a variable shaped like `reference_variable`, named
        `<reference path with / -> _>_<name>` (as Keras 3)."""
        name = name or "var"
        if hasattr(reference_variable, "path"):
            name = reference_variable.path.replace("/", "_") + "_" + name
        else:
            name = (str(reference_variable.name).replace("/", "_")
                    .replace(":", "_") + "_" + name)
        return self.add_variable(shape=reference_variable.shape,
                                 initializer=initializer,
                                 dtype=reference_variable.dtype, name=name)

    def add_optimizer_variables(self, trainable_variables, name,
                                initializer="zeros"):
        """Adds one slot variable per trainable variable (for each name when
        `name` is a list, interleaved per variable as Keras does).

        Returns:
            A list of variables, or a tuple of lists for a list of names.
        """
        names = [name] if isinstance(name, str) else list(name)
        inits = ([initializer] * len(names)
                 if not isinstance(initializer, (list, tuple))
                 else list(initializer))
        if len(inits) != len(names):
            raise ValueError(
                "The number of provided names must match the number of "
                f"provided initializers. Received name={name!r}, "
                f"initializer={initializer!r}")
        out = tuple([] for _ in names)
        for variable in trainable_variables:
            for i, (n, init) in enumerate(zip(names, inits)):
                out[i].append(self.add_variable_from_reference(
                    variable, name=n, initializer=init))
        return out[0] if isinstance(name, str) else out

    def build(self, variables):
        """Creates the optimizer's variables for `variables`.

        Subclasses call `super().build(variables)` first, then create their
        slots.

        Args:
            variables: list of the model's trainable variables.
        """
        variables = list(variables)
        # Keras's order (it fixes the layout of saved optimizer state):
        # every moving average first, then the accumulators.
        if self.use_ema:
            self._model_variables_moving_average = \
                self.add_optimizer_variables(variables, "average")
        if self.gradient_accumulation_steps:
            self._accumulated_gradients = []
        for i, variable in enumerate(variables):
            self._trainable_variables_indices[id(variable)] = i
            if self.gradient_accumulation_steps:
                self._accumulated_gradients.append(
                    self.add_variable_from_reference(
                        variable, name="gradient_accumulator"))
        self._trainable_variables = variables[:]
        self._scratch = [None] * len(variables)
        self.built = True

    def _tmp(self, index, like):
        """The scratch buffer of variable `index` (allocated once)."""
        buf = self._scratch[index]
        if buf is None or buf.shape != like.shape or buf.dtype != like.dtype:
            buf = backend.get_array_module(like).empty_like(like)
            self._scratch[index] = buf
        return buf

    def _blocks(self, index, gradient, variable, *slots):
        """Pieces of an update: yields `(gradient, variable, *slots,
        scratch)` over blocks of the flattened arrays.

        An update is ten-odd in-place passes over the gradient, the
        variable and its slots. Over a large variable on the CPU (an
        embedding table) each whole-array pass streams every array from
        memory again; over blocks of `_UPDATE_BLOCK` elements they stay in
        cache across all the passes of a block. Small variables, GPU arrays
        and non-contiguous buffers get one piece: the arrays themselves.

        Args:
            index: the variable's index (its scratch buffer).
            gradient: the gradient, shaped like the variable.
            variable: the variable's buffer (updated in place).
            *slots: the optimizer's buffers for this variable, same shape.
        """
        arrays = (variable,) + slots
        if (type(variable) is not np.ndarray
                or variable.size <= _BLOCKED_ABOVE
                or not all(a.flags.c_contiguous for a in arrays)):
            yield (gradient,) + arrays + (self._tmp(index, variable),)
            return
        flat = [a.reshape(-1) for a in arrays]
        g = np.ascontiguousarray(gradient).reshape(-1)
        tmp = self._tmp(index, flat[0][:_UPDATE_BLOCK])
        n = flat[0].size
        for start in range(0, n, _UPDATE_BLOCK):
            end = min(n, start + _UPDATE_BLOCK)
            yield ((g[start:end],) + tuple(a[start:end] for a in flat)
                   + (tmp[:end - start],))

    # --------------------------------------------------------------- apply
    def apply_gradients(self, grads_and_vars):
        """Applies `(gradient, variable)` pairs (TF-Keras style).

        Returns:
            The `iterations` variable.
        """
        grads, trainable_variables = zip(*grads_and_vars)
        self.apply(list(grads), list(trainable_variables))
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        """Updates the variables with the given gradients.

        Args:
            grads: list of gradients (NumPy/CuPy arrays or Tensors; None to
                skip a variable), one per variable.
            trainable_variables: the variables; optional once built (then
                `grads` maps 1:1 to the variables it was built with). The
                first call builds the optimizer.
        """
        if len(grads) == 0:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer "
                    "must already be built on a list of variables. Call "
                    "`optimizer.build(trainable_variables)` first.")
            if len(grads) != len(self._trainable_variables):
                raise ValueError(
                    "When passing `grads` as a list of gradient tensors, the "
                    "gradients must match `optimizer.variables` one-to-one. "
                    f"Received a list of {len(grads)} gradients, but the "
                    f"optimizer is tracking {len(self._trainable_variables)} "
                    "trainable variables.")
            trainable_variables = self._trainable_variables
        else:
            trainable_variables = list(trainable_variables)
            if not self.built:
                self.build(trainable_variables)
                self.built = True
            if len(grads) != len(trainable_variables):
                raise ValueError(
                    f"Received {len(grads)} gradients for "
                    f"{len(trainable_variables)} variables; they must match "
                    "one-to-one.")
            index = self._trainable_variables_indices
            for v in trainable_variables:
                if id(v) not in index:
                    raise ValueError(
                        f"Unknown variable: {getattr(v, 'path', v)}. This "
                        "optimizer can only be called for the variables it "
                        "was originally built with. When working with a new "
                        "set of variables, you should recreate a new "
                        "optimizer instance.")
        grads = [_on_device_of(_raw(g), v)
                 for g, v in zip(grads, trainable_variables)]
        if any(g is None for g in grads):
            grads, trainable_variables = self._filter_empty_gradients(
                grads, trainable_variables)
        if grads:
            scale = self.loss_scale_factor
            if scale is not None:
                grads = [g / scale for g in grads]
            if self.gradient_accumulation_steps:
                self._accumulate_and_maybe_update(grads, trainable_variables)
            else:
                self._decay_and_update(grads, trainable_variables)
            if self.use_ema:
                self._update_ema()
            for v in trainable_variables:
                if v.constraint is not None:
                    v.data[...] = _raw(v.constraint(v.data))
        self._step += 1
        self._iterations.data[...] = self._step

    # Set by optimizers with a fused multi-tensor GPU update
    # (kernels/optimizers.cu); they also define `_fused_slots(index)` and
    # `_fused_scalars(learning_rate)`.
    _fused_kind = None

    def _decay_and_update(self, grads, trainable_variables):
        """Gradient clipping, weight decay, then the update of every
        variable.

        On CuPy, optimizers with a `_fused_kind` do all three for all
        float32 variables in one kernel launch (three with `clipnorm` or
        `global_clipnorm`; `optimizers/_fused.py`); on NumPy with the
        optional numba JIT, decay and update are one compiled pass per
        float32 variable (`backend/cpu/optimizers.py`). The rest take the
        per-variable path, the NumPy reference.
        """
        learning_rate = self._current_learning_rate()
        if self._fused_kind is not None:
            from gkeras.optimizers._fused import fused_update
            grads, trainable_variables = fused_update(
                self, grads, trainable_variables, learning_rate)
            if grads and type(grads[0]) is np.ndarray:
                from gkeras.optimizers._fused import cpu_fused_update
                grads, trainable_variables = cpu_fused_update(
                    self, grads, trainable_variables, learning_rate)
            if not grads:
                return
        else:
            grads = self._clip_gradients(grads)
        self._apply_weight_decay(trainable_variables)
        self._backend_update_step(grads, trainable_variables, learning_rate)

    def _backend_update_step(self, grads, trainable_variables,
                             learning_rate):
        for g, v in zip(grads, trainable_variables):
            if g.dtype != v.data.dtype:
                g = g.astype(v.data.dtype)
            self.update_step(g, v, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        """Updates `variable` in place from its `gradient`.

        Args:
            gradient: the gradient array (same module/dtype as the
                variable's data).
            variable: the Variable to update.
            learning_rate: the learning rate of this step, a Python float.
        """
        raise NotImplementedError(
            f"{type(self).__name__}.update_step() must be implemented.")

    def _filter_empty_gradients(self, grads, variables):
        kept_g, kept_v, missing = [], [], []
        for g, v in zip(grads, variables):
            if g is None:
                missing.append(getattr(v, "name", str(v)))
            else:
                kept_g.append(g)
                kept_v.append(v)
        if not kept_g:
            raise ValueError("No gradients provided for any variable.")
        warnings.warn(
            f"Gradients do not exist for variables {missing} when minimizing "
            "the loss. If using `model.compile()`, did you forget to provide "
            "a `loss` argument?", stacklevel=3)
        return kept_g, kept_v

    def _accumulate_and_maybe_update(self, grads, variables):
        steps = self.gradient_accumulation_steps
        accs = [self._accumulated_gradients[self._get_variable_index(v)]
                for v in variables]
        if (self._step + 1) % steps == 0:
            grads = [(g + a.data) / steps for g, a in zip(grads, accs)]
            self._decay_and_update(grads, variables)
            for a in accs:
                a.data.fill(0)
        else:
            for g, a in zip(grads, accs):
                a.data += g

    # ------------------------------------------------------------ clipping
    def _clip_gradients(self, grads):
        if self.clipnorm and self.clipnorm > 0:
            c = self.clipnorm
            out = []
            for g in grads:
                xp = backend.get_array_module(g)
                norm = xp.sqrt(xp.sum(xp.square(g)))
                out.append((g * (c / xp.maximum(norm, c))).astype(
                    g.dtype, copy=False))
            return out
        if self.global_clipnorm and self.global_clipnorm > 0:
            return clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue and self.clipvalue > 0:
            v = self.clipvalue
            return [backend.get_array_module(g).clip(g, -v, v) for g in grads]
        return grads

    # -------------------------------------------------------- weight decay
    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Excludes variables from weight decay (call before `build`).

        Args:
            var_list: list of Variables to exclude.
            var_names: list of strings; a variable whose name contains any
                of them is excluded (e.g. `["bias"]`).
        """
        if self.built:
            raise ValueError(
                "`exclude_from_weight_decay()` can only be configured before "
                "the optimizer is built.")
        self._exclude_from_weight_decay = set(
            id(v) for v in (var_list or []))
        self._exclude_from_weight_decay_pattern = (
            re.compile("|".join(set(var_names))) if var_names else None)
        self._exclude_from_weight_decay_cache = {}

    def _use_weight_decay(self, variable):
        cache = self.__dict__.setdefault("_exclude_from_weight_decay_cache",
                                         {})
        key = id(variable)
        if key in cache:
            return cache[key]
        use = True
        if key in getattr(self, "_exclude_from_weight_decay", ()):
            use = False
        pattern = getattr(self, "_exclude_from_weight_decay_pattern", None)
        if use and pattern is not None and re.search(
                pattern, variable.name) is not None:
            use = False
        cache[key] = use
        return use

    def _apply_weight_decay(self, variables):
        if self.weight_decay is None:
            return
        factor = 1.0 - self._current_learning_rate() * self.weight_decay
        for v in variables:
            if self._use_weight_decay(v):
                v.data *= factor

    # ----------------------------------------------------------------- EMA
    def _update_ema(self):
        momentum = self.ema_momentum if self._local_step != 0 else 0.0
        pairs = zip(self._trainable_variables,
                    self._model_variables_moving_average)
        if type(self._trainable_variables[0].data) is np.ndarray:
            from gkeras.optimizers._fused import cpu_ema_update
            pairs = cpu_ema_update(pairs, momentum)
        for var, avg in pairs:
            avg.data *= momentum
            avg.data += (1.0 - momentum) * var.data
        freq = self.ema_overwrite_frequency
        if freq and (self._local_step + 1) % freq == 0:
            self._overwrite_model_variables_with_average_value(
                self._trainable_variables)

    def _overwrite_model_variables_with_average_value(self, variables):
        if len(variables) != len(self._model_variables_moving_average):
            raise ValueError(
                f"The length of model variables ({len(variables)}) to "
                "override does not match the length of model variables "
                "stored in the optimizer "
                f"({len(self._model_variables_moving_average)}). Please "
                "check if the optimizer was called on your model.")
        for var, avg in zip(variables, self._model_variables_moving_average):
            var.data[...] = avg.data

    def finalize_variable_values(self, var_list):
        """Sets the final values of the model's variables: with
        `use_ema=True`, overwrites them with their moving averages."""
        if self.use_ema:
            self._overwrite_model_variables_with_average_value(var_list)

    # ---------------------------------------------------------------- misc
    def scale_loss(self, loss):
        """Multiplies the loss by `loss_scale_factor` (when set)."""
        if self.loss_scale_factor is not None:
            return loss * self.loss_scale_factor
        return loss

    def set_weights(self, weights):
        """Sets the values of the optimizer's variables (in `variables`
        order)."""
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not "
                "yet been built. Please call "
                "`optimizer.build(trainable_variables)` to create the "
                "optimizer weights before calling `set_weights()`.")
        weights = list(weights)
        if len(weights) != len(self._variables):
            raise ValueError(
                f"Optimizer {self.name!r} has {len(self._variables)} "
                f"variables, received {len(weights)} weights. Expected: "
                f"{[(v.path, tuple(v.shape)) for v in self._variables]}")
        # All shapes are checked before any variable changes.
        for variable, weight in zip(self._variables, weights):
            if tuple(variable.shape) != tuple(np.shape(weight)):
                raise ValueError(
                    f"Optimizer variable {variable.path} has shape "
                    f"{tuple(variable.shape)} not compatible with provided "
                    f"weight shape {tuple(np.shape(weight))}. No variable "
                    "was changed.")
        for variable, weight in zip(self._variables, weights):
            variable.assign(weight)
        self._sync_host_state()

    def save_own_variables(self, store):
        """Writes the variables to `store` under keys "0", "1", ..."""
        for i, variable in enumerate(self.variables):
            store[str(i)] = variable.numpy()

    def load_own_variables(self, store):
        """Reads the variables from `store` (as written by Keras)."""
        if len(store.keys()) != len(self.variables):
            msg = (f"Skipping variable loading for optimizer '{self.name}', "
                   f"because it has {len(self.variables)} variables whereas "
                   f"the saved optimizer has {len(store.keys())} variables. ")
            if len(self.variables) == 0:
                msg += ("This is likely because the optimizer has not been "
                        "called/built yet.")
            warnings.warn(msg, stacklevel=2)
            return
        for i, variable in enumerate(self.variables):
            variable.assign(np.asarray(store[str(i)]))
        self._sync_host_state()

    def _sync_host_state(self):
        """Re-reads the host mirrors after the variables were overwritten."""
        self._sync_iterations(self._iterations)
        if isinstance(self._learning_rate, Variable):
            self._sync_lr(self._learning_rate)

    def get_config(self):
        """Returns the optimizer's configuration (Keras 3 keys)."""
        lr = self._learning_rate
        if isinstance(lr, lrs.LearningRateSchedule):
            from gkeras.optimizers import schedules
            learning_rate = schedules.serialize(lr)
        elif isinstance(lr, Variable):
            learning_rate = float(self._lr_value)
        else:
            from gkeras.utils import object_registry
            learning_rate = object_registry.serialize_keras_object(
                lr, "builtins")
        return {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Creates an optimizer from its `get_config()` dict."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            from gkeras.optimizers import schedules
            config["learning_rate"] = schedules.deserialize(
                config["learning_rate"], custom_objects=custom_objects)
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def global_norm(value_list):
    """The global L2 norm of a list of arrays (a device scalar)."""
    xp = backend.get_array_module(*value_list)
    total = None
    for v in value_list:
        if v is None:
            continue
        s = xp.sum(xp.square(v), dtype=v.dtype)
        total = s if total is None else total + s
    return xp.sqrt(total)


def clip_by_global_norm(value_list, clip_norm):
    """Scales the arrays so that their global norm is at most `clip_norm`
    (NaN when the norm is not finite, as Keras)."""
    xp = backend.get_array_module(*value_list)
    norm = global_norm(value_list)
    scale = clip_norm * xp.minimum(1.0 / norm, 1.0 / clip_norm)
    scale = scale + (norm - norm)
    return [v if v is None else (v * scale).astype(v.dtype, copy=False)
            for v in value_list]


# Keras exports the base as `keras.optimizers.Optimizer`.
BaseOptimizer = Optimizer

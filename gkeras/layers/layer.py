"""The `Layer` base class: weights, deferred build, call protocol, config.

Subclass it the way Keras users do:

```python
class Linear(gkeras.layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="random_normal")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros")

    def call(self, inputs):
        return gkeras.ops.matmul(inputs, self.w) + self.b
```
"""

import functools
import inspect

import numpy as np

from gkeras import backend
from gkeras import dtype_policies
from gkeras.layers.input_spec import InputSpec, assert_input_compatibility
from gkeras.ops._base import _has_symbolic
from gkeras.ops.autocast import _SCOPE, AutocastScope
from gkeras.ops.elementwise import multiply
from gkeras.ops.engine import Tensor
from gkeras.ops.symbolic import (KerasTensor, Node,
                                 compute_output_spec_by_running, flatten,
                                 map_structure)
from gkeras.ops.variable import Variable
from gkeras.utils import naming


class _CallContext:
    """The training flag and nesting depth of the current `__call__`."""

    __slots__ = ("training", "depth")

    def __init__(self):
        self.training = None
        self.depth = 0


_CTX = _CallContext()
_ANY_LOSSES_ADDED = [False]
# Bumped whenever a layer gains weights or sub-layers or changes its
# `trainable` flag: the trainer re-collects trainable variables only then.
STRUCTURE_VERSION = [0]
# Bumped whenever an attribute that `Layer.__call__`'s checks depend on is
# assigned on any layer: models/inference_plan.py drops its plans then.
CALL_VERSION = [0]
_CALL_ATTRS = frozenset({"_dtype_policy", "autocast", "activity_regularizer",
                         "built", "call", "compute_mask", "_eager_call",
                         "__call__", "_gk_initialized"})

_BASE_KWARGS = {"input_shape", "batch_input_shape", "batch_size",
                "input_dim", "weights", "activity_regularizer", "autocast",
                "input_length"}


def _signature_flags(cls):
    """(call has `training`, call has `mask`, call param names) per class."""
    flags = cls.__dict__.get("_gk_sig")
    if flags is None:
        try:
            params = inspect.signature(cls.call).parameters
        except (TypeError, ValueError):
            params = {}
        names = [n for n in params if n != "self"]
        flags = ("training" in params, "mask" in params, names,
                 any(p.kind == p.VAR_KEYWORD for p in params.values()))
        cls._gk_sig = flags
    return flags


def _to_tensor(x, dtype):
    """Converts call inputs (arrays, lists) to Tensors, autocasting floats
    to the layer's compute dtype."""
    if isinstance(x, Tensor):
        if dtype is not None and x.data.dtype != dtype and \
                _is_float(x.data.dtype):
            from gkeras.ops.core import cast
            return cast(x, dtype)
        return x
    if isinstance(x, (list, tuple)):
        if x and all(isinstance(v, (int, float, np.number)) for v in x):
            x = np.asarray(x)
        else:
            return type(x)(_to_tensor(v, dtype) for v in x)
    if isinstance(x, dict):
        return {k: _to_tensor(v, dtype) for k, v in x.items()}
    if x is None or isinstance(x, (str, bool, int, float)):
        return x
    if type(x) is np.ndarray or backend.is_cupy_array(x) or \
            hasattr(x, "__array__"):
        a = backend.to_device(x) if backend.backend() == "cupy" and \
            not backend.is_cupy_array(x) else (x if backend.is_cupy_array(x)
                                               else np.asarray(x))
        if dtype is not None and a.dtype != dtype and _is_float(a.dtype):
            from gkeras.ops.core import cast
            return cast(Tensor(a), dtype)
        return Tensor(a)
    return x


class Layer:
    """Base class of all layers: a callable with weights and a config.

    Args:
        trainable: whether the layer's weights are updated by training.
        name: the layer's name (unique names like `dense_1` by default).
        dtype: the layer's dtype policy: a `DTypePolicy`, a policy name
            (`"float32"`, `"mixed_float16"`, `"mixed_bfloat16"`, ...) or a
            serialized policy; default the global policy
            (`gkeras.config.dtype_policy()`).
        autocast: whether floating inputs are cast to the compute dtype and
            float variables read in it while the layer runs (default True).
        activity_regularizer: optional regularizer applied to the output.
        input_shape: Keras-2 style shape of the input (without the batch
            axis), for the first layer of a `Sequential` model.
        input_dim: Keras-2 alias for `input_shape=(input_dim,)`.
        batch_input_shape / batch_size: Keras-2 style shape with the batch.
    """

    # Whether the layer propagates the input mask unchanged by default.
    supports_masking = False

    # Whether `__call__` casts floating inputs to the compute dtype (with
    # `autocast`). Functional and Sequential models convert each input to
    # its `Input`'s dtype instead, as Keras 3's `_convert_input_args`.
    _convert_input_args = True

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        # Set before any user __init__ code runs so attribute assignment in
        # a subclass's __init__ (before super().__init__) is safe.
        object.__setattr__(obj, "_gk_initialized", False)
        if not _is_builtin(cls):
            # Keras 3's automatic config: a custom layer or model whose
            # constructor arguments are plain Python values serialises
            # them without a get_config of its own.
            object.__setattr__(obj, "_gk_auto_config",
                               _auto_config(cls, args, kwargs))
        return obj

    def __init__(self, *, activity_regularizer=None, trainable=True,
                 dtype=None, autocast=True, name=None, **kwargs):
        unknown = set(kwargs) - _BASE_KWARGS
        if unknown:
            raise TypeError(
                f"Unrecognized keyword arguments passed to "
                f"{type(self).__name__}: {dict((k, kwargs[k]) for k in sorted(unknown))}")
        self._gk_initialized = True
        if name is None:
            name = naming.auto_name(type(self).__name__)
        elif not isinstance(name, str) or "/" in name:
            raise ValueError("Argument `name` must be a string and cannot "
                             f"contain character `/`. Received: name={name!r}")
        self.name = name
        self._dtype_policy = _standardize_dtype_policy(dtype)
        self.autocast = autocast
        self._trainable = bool(trainable)
        self.built = False
        self._trainable_variables = []
        self._non_trainable_variables = []
        self._losses = []
        self._inbound_nodes = []
        self._outbound_nodes = []
        self.input_spec = None
        self._build_shapes = None
        from gkeras import regularizers
        self.activity_regularizer = regularizers.get(activity_regularizer) \
            if activity_regularizer is not None else None
        # Keras-2 style input shape arguments (first layer of a Sequential).
        shape = kwargs.get("input_shape")
        if "input_dim" in kwargs and kwargs["input_dim"] is not None:
            shape = (kwargs["input_dim"],)
        batch_shape = kwargs.get("batch_input_shape")
        if batch_shape is None and shape is not None:
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
            batch_shape = (kwargs.get("batch_size"),) + shape
        self._batch_input_shape = tuple(batch_shape) if batch_shape \
            is not None else None
        self._initial_weights = kwargs.get("weights")
        _signature_flags(type(self))

    # -- attribute tracking --------------------------------------------------

    def __setattr__(self, name, value):
        if isinstance(value, Variable) and not name.startswith("_") and \
                self.__dict__.get("_gk_initialized"):
            # A Variable assigned directly (`self.w = gkeras.Variable(...)`).
            if not any(v is value for v in self._trainable_variables +
                       self._non_trainable_variables):
                (self._trainable_variables if value.trainable else
                 self._non_trainable_variables).append(value)
                STRUCTURE_VERSION[0] += 1
        elif isinstance(value, Layer) and not \
                self.__dict__.get("_gk_initialized", True):
            raise RuntimeError(
                f"It looks like you are subclassing `{type(self).__name__}` "
                "and forgot to call `super().__init__()`. Always start with "
                "this line.")
        if isinstance(value, (Layer, list, dict)) or is_metric(value):
            STRUCTURE_VERSION[0] += 1
        if name in _CALL_ATTRS:
            CALL_VERSION[0] += 1
        object.__setattr__(self, name, value)

    _UNTRACKED = frozenset({"_inbound_nodes", "_outbound_nodes",
                            "_gk_initialized", "_functional_graph",
                            "_tracked_cache", "_outer_model", "_reg_cache",
                            "_step_vars"})

    def _flatten_layers(self, include_self=False, recursive=True):
        """All sub-layers (attributes, lists, tuples, dicts), in order."""
        out = [self] if include_self else []
        seen = {id(self)}
        self._collect_layers(out, seen, recursive)
        return out

    def _direct_sublayers(self):
        found = []
        for k, v in self.__dict__.items():
            if k in self._UNTRACKED:
                continue
            _find_layers(v, found, 0)
        return found

    def _collect_layers(self, out, seen, recursive):
        for layer in self._direct_sublayers():
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            out.append(layer)
            if recursive:
                layer._collect_layers(out, seen, recursive)

    @property
    def _layers(self):
        return self._direct_sublayers()

    # -- weights -------------------------------------------------------------

    @property
    def trainable(self):
        """Whether the layer's weights are trained (settable; propagates to
        sub-layers as in Keras 3)."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        value = bool(value)
        STRUCTURE_VERSION[0] += 1
        self._trainable = value
        for v in self._trainable_variables:
            v.requires_grad = value and v.trainable
        for layer in self._flatten_layers():
            layer._trainable = value
            for v in layer._trainable_variables:
                v.requires_grad = value and v.trainable

    @property
    def weights(self):
        """All weights: own trainable, own non-trainable, then sub-layers'."""
        out, seen = [], set()
        for w in self._trainable_variables + self._non_trainable_variables:
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)
        for layer in self._direct_sublayers():
            for w in layer.weights:
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    variables = weights

    @property
    def trainable_weights(self):
        """Weights updated by the optimizer (empty when frozen)."""
        if not self.trainable:
            return []
        out, seen = [], set()
        for w in self._trainable_variables:
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)
        for layer in self._direct_sublayers():
            for w in layer.trainable_weights:
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self):
        """Weights not updated by the optimizer (all of them when frozen)."""
        if not self.trainable:
            return self.weights
        out, seen = [], set()
        for w in self._non_trainable_variables:
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)
        for layer in self._direct_sublayers():
            for w in layer.non_trainable_weights:
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    non_trainable_variables = non_trainable_weights

    def add_weight(self, shape=None, initializer=None, dtype=None,
                   trainable=True, autocast=True, regularizer=None,
                   constraint=None, aggregation="none",
                   overwrite_with_gradient=False, name=None, **kwargs):
        """Adds a weight variable to the layer.

        Args:
            shape: shape tuple (scalar when None).
            initializer: initializer instance, name or callable (default
                `"glorot_uniform"` for floats, `"zeros"` otherwise).
            dtype: dtype (default the layer's).
            trainable: whether the optimizer updates it.
            autocast: accepted for Keras compatibility.
            regularizer: regularizer instance, name or callable.
            constraint: constraint instance, name or callable.
            aggregation: accepted for Keras compatibility.
            overwrite_with_gradient: accepted for Keras compatibility.
            name: the variable's name.

        Returns:
            The new `Variable`.
        """
        if isinstance(shape, str):
            # Keras-2 positional order: add_weight(name, shape, ...).
            name, shape = shape, initializer if not callable(initializer) \
                and not isinstance(initializer, str) else kwargs.pop(
                    "shape", None)
            if shape is initializer:
                initializer = None
        if "getter" in kwargs or "partitioner" in kwargs:
            kwargs.pop("getter", None)
            kwargs.pop("partitioner", None)
        kwargs.pop("use_resource", None)
        kwargs.pop("synchronization", None)
        if kwargs:
            raise TypeError(f"{type(self).__name__}.add_weight got unexpected "
                            f"keyword arguments {sorted(kwargs)}.")
        from gkeras import constraints, initializers, regularizers
        shape = () if shape is None else tuple(
            int(s) if s is not None else s for s in (
                (shape,) if isinstance(shape, (int, np.integer)) else shape))
        if any(s is None for s in shape):
            raise ValueError(
                f"Layer {self.name!r}: cannot create weight {name!r} with an "
                f"unknown dimension in its shape {shape}. Give the layer an "
                "input shape whose non-batch axes are known.")
        dtype = backend.standardize_dtype(dtype or self.variable_dtype)
        if initializer is None:
            initializer = "glorot_uniform" if np.dtype(dtype).kind == "f" \
                else "zeros"
        init = initializers.get(initializer)
        var = Variable(init, shape=shape, dtype=dtype, trainable=trainable,
                       autocast=autocast, aggregation=aggregation,
                       name=name or naming.auto_name("Variable"),
                       constraint=constraints.get(constraint),
                       regularizer=regularizers.get(regularizer))
        scope = naming.current_scope()
        prefix = scope if scope.split("/")[-1:] == [self.name] else (
            f"{scope}/{self.name}" if scope else self.name)
        var.path = f"{prefix}/{var.name}"
        var._layer_owned = True
        STRUCTURE_VERSION[0] += 1
        if trainable:
            var.requires_grad = self.trainable
            self._trainable_variables.append(var)
        else:
            self._non_trainable_variables.append(var)
        return var

    add_variable = add_weight

    def get_weights(self):
        """Returns the weights as a list of NumPy arrays (Keras order)."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights):
        """Sets the weights from a list of NumPy arrays.

        Args:
            weights: arrays in the order of `layer.weights`.

        Raises:
            ValueError: on a wrong count or shape, naming the weight.
        """
        params = self.weights
        weights = list(weights)
        if len(params) != len(weights):
            raise ValueError(
                f"Layer {self.name!r} expected {len(params)} weights, but "
                f"received {len(weights)} input weights. Expected: "
                f"{[(w.path, tuple(w.shape)) for w in params]}")
        # Everything is checked and converted before anything is assigned,
        # so a bad list leaves the layer (or model) unchanged.
        values = []
        for i, (p, w) in enumerate(zip(params, weights)):
            w = backend.to_numpy(w.data if isinstance(w, Tensor) else w)
            if tuple(np.shape(w)) != tuple(p.shape):
                raise ValueError(
                    f"Layer {self.name!r} weight shape {tuple(p.shape)} is "
                    f"not compatible with provided weight shape "
                    f"{tuple(np.shape(w))} (weight #{i}, {p.path!r}). No "
                    "weight was changed.")
            try:
                values.append(np.asarray(w, dtype=p.dtype))
            except (TypeError, ValueError):
                raise ValueError(
                    f"Layer {self.name!r}: weight #{i} ({p.path!r}, dtype "
                    f"{p.dtype}) cannot take values of dtype "
                    f"{np.asarray(w).dtype}. No weight was changed.") \
                    from None
        for p, w in zip(params, values):
            p.assign(backend.to_device(w, dtype=p.dtype))

    def count_params(self):
        """Total number of scalars in the layer's weights."""
        if not self.built and not self.weights:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', "
                "but the layer isn't built. You can build it manually via: "
                f"`{self.name}.build(batch_input_shape)`.")
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    # -- dtype ---------------------------------------------------------------

    @property
    def dtype(self):
        """The dtype of the layer's weights (`variable_dtype`, as Keras)."""
        return self._dtype_policy.variable_dtype

    @property
    def compute_dtype(self):
        """The dtype of the layer's computations, inputs and outputs."""
        return self._dtype_policy.compute_dtype

    @property
    def variable_dtype(self):
        """The dtype of the layer's weights."""
        return self._dtype_policy.variable_dtype

    @property
    def input_dtype(self):
        """The dtype floating inputs are cast to (the compute dtype)."""
        return self._dtype_policy.compute_dtype

    @property
    def dtype_policy(self):
        """The layer's `DTypePolicy` (settable with a policy or name)."""
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value):
        self._dtype_policy = dtype_policies.get(value)

    @property
    def _dtype(self):
        # Before dtype policies a layer kept one dtype name here; code
        # written against that (or setting it, as InputLayer) still works.
        return self.__dict__.get("_dtype_name") or \
            self._dtype_policy.compute_dtype

    @_dtype.setter
    def _dtype(self, value):
        self.__dict__["_dtype_name"] = value

    # -- losses --------------------------------------------------------------

    def add_loss(self, loss):
        """Adds a loss tensor (e.g. an activity regularization) that `fit`
        adds to the main loss for the current call."""
        _ANY_LOSSES_ADDED[0] = True
        self._losses.append(loss)

    def _clear_losses(self):
        # In place: assigning a fresh list would bump STRUCTURE_VERSION on
        # every call and make each training step re-walk the layer tree.
        self._losses.clear()
        for layer in self._flatten_layers():
            layer._losses.clear()

    @property
    def losses(self):
        """Losses added in the last call plus weight-regularization
        penalties of this layer and its sub-layers."""
        out = []
        for layer in self._flatten_layers(include_self=True):
            out.extend(layer._losses)
            for v in layer._trainable_variables + \
                    layer._non_trainable_variables:
                if v.regularizer is not None:
                    out.append(v.regularizer(v))
        return out

    # -- building ------------------------------------------------------------

    def build(self, input_shape):
        """Creates the layer's weights from the input shape.

        Args:
            input_shape: a shape tuple (or a list/dict of them).
        """
        self.built = True

    def _maybe_build(self, shapes, call_args=(), call_kwargs=None):
        if self.built:
            return
        self._build_shapes = shapes
        build_params = _build_params(type(self))
        with naming.name_scope(self.name):
            if build_params and len(build_params) > 1 and all(
                    p.endswith("_shape") for p in build_params):
                # build(self, query_shape, value_shape, ...) style.
                sig_names = _signature_flags(type(self))[2]
                named = {}
                for i, arg in enumerate(call_args):
                    if i < len(sig_names):
                        named[sig_names[i]] = arg
                named.update(call_kwargs or {})
                kw = {}
                for p in build_params:
                    v = named.get(p[:-len("_shape")])
                    if v is not None:
                        kw[p] = _shape_of(v)
                self.build(**kw)
            else:
                self.build(shapes)
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def compute_output_shape(self, *args, **kwargs):
        """Returns the output shape for the given input shape.

        The base implementation runs `call` on small dummy tensors.
        """
        raise NotImplementedError

    def compute_output_spec(self, *args, **kwargs):
        """Returns KerasTensor(s) describing the output for symbolic inputs."""
        cls = type(self)
        if _overrides(cls, "compute_output_shape"):
            shapes = map_structure(_shape_of, args[0])
            try:
                out = self.compute_output_shape(shapes)
            except NotImplementedError:
                out = None
            if out is not None:
                dtype = self.compute_dtype
                if _is_shape(out):
                    return KerasTensor(out, dtype=dtype)
                return map_structure_shapes(
                    lambda s: KerasTensor(s, dtype=dtype), out)
        has_training = _signature_flags(cls)[0]

        def run(*a, **k):
            if has_training and "training" not in k:
                k["training"] = False
            return self._eager_call(a, k)
        return compute_output_spec_by_running(run, args, kwargs)

    def compute_mask(self, inputs, previous_mask):
        """The output mask: the input's when `supports_masking`, else None."""
        if not self.supports_masking:
            return None
        return previous_mask

    def save_own_variables(self, store):
        """Writes the layer's own variables into `store` under keys "0",
        "1", ... (trainable, then non-trainable), as Keras does. Override
        it (calling `super()`) to save extra state.

        Args:
            store: dict-like to write into.
        """
        for i, v in enumerate(self._trainable_variables +
                              self._non_trainable_variables):
            store[f"{i}"] = v

    def load_own_variables(self, store):
        """Assigns the layer's own variables from `store` (keys "0", "1",
        ...), the counterpart of `save_own_variables`.

        Args:
            store: dict-like to read from.
        """
        all_vars = self._trainable_variables + self._non_trainable_variables
        if len(store.keys()) != len(all_vars):
            raise ValueError(
                f"Layer {self.name!r} expected {len(all_vars)} variables, "
                f"but received {len(store.keys())} variables during "
                "loading.")
        for i, v in enumerate(all_vars):
            v.assign(store[f"{i}"])

    def get_build_config(self):
        """The shape this layer was built with, `{"input_shape": ...}`
        (None if it is not built), as Keras writes it per layer.

        Returns:
            A dict, or None.
        """
        shapes = self.__dict__.get("_build_shapes")
        if not self.built or shapes is None:
            return None
        return {"input_shape": shapes}

    def build_from_config(self, config):
        """Builds the layer from `get_build_config()`'s dict.

        Args:
            config: the build config, or None.
        """
        if config and config.get("input_shape") is not None:
            self.build(config["input_shape"])
            self.built = True

    def enable_lora(self, rank, lora_alpha=None, a_initializer="he_uniform",
                    b_initializer="zeros"):
        """Keras's LoRA switch (on Dense, EinsumDense, Embedding and the
        convolutions there): not supported by gkeras.

        Raises:
            NotImplementedError: always.
        """
        raise NotImplementedError(
            f"{type(self).__name__} {self.name!r}: enable_lora() (LoRA "
            "fine-tuning) is not supported by gkeras. Freeze layers with "
            "`trainable = False` and train a smaller head instead.")

    def quantize(self, mode=None, type_check=True, config=None):
        """Keras's post-training quantization: not supported by gkeras.

        Raises:
            NotImplementedError: always.
        """
        raise NotImplementedError(
            f"{type(self).__name__} {self.name!r}: quantize(mode={mode!r}) "
            "is not supported by gkeras (no int8/int4/float8/GPTQ kernels); "
            "models run in float32 (or the dtype policy's float type).")

    @property
    def metrics(self):
        """The metrics this layer and its sub-layers track: Metric objects
        assigned as attributes (e.g. an endpoint layer's accuracy), as in
        Keras."""
        out = []
        for layer in self._flatten_layers(include_self=True):
            out.extend(m for m in own_metrics(layer)
                       if all(m is not o for o in out))
        return out

    # -- calling -------------------------------------------------------------

    def call(self, *args, **kwargs):
        """The layer's computation; subclasses implement it."""
        raise NotImplementedError(
            f"Layer {type(self).__name__} does not have a `call()` method "
            "implemented.")

    def __call__(self, *args, **kwargs):
        if not self.__dict__.get("_gk_initialized"):
            raise RuntimeError(
                f"It looks like you are subclassing `{type(self).__name__}` "
                "and forgot to call `super().__init__()`. Always start with "
                "this line.")
        if not args and kwargs:
            args, kwargs = _bind_first_arg(self, kwargs)
        if _has_symbolic(args, kwargs):
            return self._symbolic_call(args, kwargs)
        return self._eager_call(args, kwargs)

    def _symbolic_call(self, args, kwargs):
        if not args:
            raise ValueError(f"Layer {self.name!r} was called without inputs.")
        shapes = map_structure(_shape_of, args[0])
        self._maybe_build(shapes, args, kwargs)
        assert_input_compatibility(self.input_spec, shapes, self)
        outputs = self.compute_output_spec(*args, **kwargs)
        _symbolic_mask(self, args[0], outputs)
        Node(self, args, kwargs, outputs)
        return outputs

    def _eager_call(self, args, kwargs):
        if not args:
            if "inputs" in kwargs:
                args = (kwargs.pop("inputs"),)
            else:
                raise ValueError(f"Layer {self.name!r} was called without "
                                 "inputs.")
        inputs = args[0]
        cast_dt = _cast_dtype(self) if (
            self.autocast and self._convert_input_args) else None
        inputs = _to_tensor(inputs, cast_dt)
        # As Keras, every floating tensor argument takes the compute dtype
        # (a second attention input, an RNN's initial state).
        args = (inputs,) + tuple(_to_tensor(a, cast_dt) for a in args[1:])
        if kwargs and cast_dt is not None:
            for k, v in kwargs.items():
                if isinstance(v, Tensor) and v.data.dtype != cast_dt and \
                        _is_float(v.data.dtype):
                    kwargs[k] = _to_tensor(v, cast_dt)
        has_training, has_mask, _, has_var_kw = _signature_flags(type(self))
        ctx = _CTX
        outer_training = ctx.training
        training = kwargs.get("training")
        training = outer_training if training is None else bool(training)
        if has_training:
            if training is not None:
                kwargs["training"] = training
        elif not has_var_kw:
            # call() does not take it, but sub-layers see it through the
            # call context, as in Keras 3.
            kwargs.pop("training", None)
        mask = None
        if has_mask and kwargs.get("mask") is None:
            mask = _mask_of(inputs)
            if mask is not None:
                kwargs["mask"] = mask
        elif has_mask:
            mask = kwargs.get("mask")
        else:
            mask = _mask_of(inputs)
        if not self.built:
            shapes = map_structure(_shape_of, inputs)
            self._maybe_build(shapes, args, kwargs)
        spec = self.input_spec
        if spec is not None:
            # A layer sees the same shape call after call: the last shape
            # that passed its (single) spec is not checked again.
            if type(inputs) is Tensor:
                shape = inputs.data.shape
                ok = self.__dict__.get("_gk_spec_ok")
                if ok is None or ok[0] is not spec or ok[1] != shape:
                    assert_input_compatibility(spec, shape, self)
                    if isinstance(spec, InputSpec):
                        self.__dict__["_gk_spec_ok"] = (spec, shape)
            else:
                assert_input_compatibility(spec, map_structure(
                    _shape_of, inputs), self)
        if ctx.depth == 0 and _ANY_LOSSES_ADDED[0]:
            self._clear_losses()
        ctx.depth += 1
        ctx.training = training
        scope = _autocast_scope(self) if (
            _SCOPE[0] is not None or self._dtype_policy.compute_dtype
            != self._dtype_policy.variable_dtype) else None
        try:
            if scope is None:
                outputs = self.call(*args, **kwargs)
            else:
                with scope:
                    outputs = self.call(*args, **kwargs)
        finally:
            ctx.depth -= 1
            ctx.training = outer_training
        _check_call_outputs(self, outputs)
        if self.activity_regularizer is not None:
            for out in flatten(outputs):
                if isinstance(out, Tensor):
                    penalty = self.activity_regularizer(out)
                    # Keras 3 divides by the batch size, so the strength
                    # does not depend on it (an empty batch adds 0).
                    if out.ndim > 0:
                        n = out.shape[0]
                        penalty = multiply(penalty, 1.0 / n if n else 0.0)
                    self.add_loss(penalty)
        if mask is not None or type(self).compute_mask is not \
                Layer.compute_mask:
            try:
                out_mask = self.compute_mask(inputs, mask)
            except Exception:
                out_mask = None
            if out_mask is not None:
                _set_mask(outputs, out_mask)
        return outputs

    # -- graph ---------------------------------------------------------------

    def _node_tensor(self, attr):
        if not self._inbound_nodes:
            raise AttributeError(
                f"The layer {self.name!r} has never been called and thus has "
                f"no defined {attr}.")
        # Keras 3 answers with the first call's tensors even when the layer
        # was called again (a Sequential rebuilt by `add()` calls its layers
        # once per rebuild, all on the same InputLayer).
        node = self._inbound_nodes[0]
        if attr == "input":
            ts = node.input_tensors
            return ts[0] if len(ts) == 1 else ts
        return node.output_structure

    @property
    def input(self):
        """The symbolic input of the layer's first call."""
        return self._node_tensor("input")

    @property
    def output(self):
        """The symbolic output of the layer's first call."""
        return self._node_tensor("output")

    def get_input_at(self, node_index):
        """The input tensor(s) of the layer at a given call."""
        ts = self._inbound_nodes[node_index].input_tensors
        return ts[0] if len(ts) == 1 else ts

    def get_output_at(self, node_index):
        """The output tensor(s) of the layer at a given call."""
        return self._inbound_nodes[node_index].output_structure

    @property
    def input_shape(self):
        """The shape of the layer's input (Keras-2 attribute)."""
        return map_structure(_shape_of, self.input)

    @property
    def output_shape(self):
        """The shape of the layer's output (Keras-2 attribute)."""
        return map_structure(_shape_of, self.output)

    # -- config --------------------------------------------------------------

    def get_config(self):
        """Returns the layer's constructor arguments as a dict.

        Subclasses return `{**super().get_config(), **their_own}`.
        """
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": dtype_policy_config(self._dtype_policy)}
        if self._batch_input_shape is not None and \
                type(self).__name__ != "InputLayer":
            config["batch_input_shape"] = list(self._batch_input_shape)
        cls = type(self)
        auto = self.__dict__.get("_gk_auto_config")
        if cls.get_config is Layer.get_config and auto is not None:
            return {"name": self.name, **auto,
                    **{k: v for k, v in config.items() if k != "name"}}
        if cls.get_config is Layer.get_config and not _is_builtin(cls):
            # A custom layer without get_config whose arguments are not
            # all plain values: Keras 3 cannot serialise it either.
            params = [p for p in inspect.signature(cls.__init__).parameters
                      .values() if p.name != "self" and p.kind not in (
                          p.VAR_KEYWORD, p.VAR_POSITIONAL)]
            if params and any(p.default is p.empty for p in params):
                raise NotImplementedError(
                    f"Layer {cls.__name__} has arguments "
                    f"{[p.name for p in params]} in `__init__()` and "
                    "therefore must override `get_config()`.")
        return config

    @classmethod
    def from_config(cls, config):
        """Creates a layer from its config."""
        config = dict(config)
        if "dtype" in config and isinstance(config["dtype"], dict):
            config["dtype"] = _standardize_dtype_policy(config["dtype"])
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


# -- helpers -------------------------------------------------------------------

_FLOAT_DTYPES = {}


def _cast_dtype(layer):
    """The dtype floating inputs are cast to (None for non-float layers),
    parsed once per dtype string."""
    d = layer._dtype_policy.compute_dtype
    r = _FLOAT_DTYPES.get(d)
    if r is None:
        r = backend.to_dtype(d) if backend.is_float_dtype(d) else False
        _FLOAT_DTYPES[d] = r
    return r if r is not False else None


def _bind_first_arg(layer, kwargs):
    """Moves the first `call()` argument, passed by its name, to the front
    (`layer(logits=..., targets=...)`), as Keras's `CallSpec` binds it."""
    names = _signature_flags(type(layer))[2]
    for name in (names[:1] + ["inputs"]):
        if name in kwargs:
            kwargs = dict(kwargs)
            return (kwargs.pop(name),), kwargs
    return (), kwargs


def _is_float(dt):
    return dt.kind == "f" or dt.name == "bfloat16"


def _autocast_scope(layer):
    """The `AutocastScope` a layer's call opens, or None (Keras's rule):
    a mixed policy opens one in its compute dtype; inside another scope a
    layer with a different compute dtype (or with `autocast=False`, or a
    non-float one) opens its own."""
    policy = layer._dtype_policy
    current = _SCOPE[0]
    if current is not None:
        if not layer.autocast or not backend.is_float_dtype(
                policy.compute_dtype):
            return AutocastScope(None)
        if current.dtype != policy.compute_dtype:
            return AutocastScope(policy.compute_dtype)
        return None
    if policy.compute_dtype != policy.variable_dtype:
        return AutocastScope(policy.compute_dtype)
    return None


def _check_call_outputs(layer, outputs):
    """Raises a clear error when `call` returned something not a tensor."""
    if type(outputs) is Tensor:
        return
    for out in flatten(outputs):
        if out is None or isinstance(out, (Tensor, KerasTensor, bool, int,
                                           float, np.number)) or \
                (hasattr(out, "shape") and hasattr(out, "dtype")):
            continue
        raise TypeError(
            f"Layer {layer.name!r} ({type(layer).__name__}): `call()` must "
            "return a tensor (or a list/tuple/dict of tensors), but it "
            f"returned a {type(out).__name__}: {out!r:.80}. Return the "
            "result of `gkeras.ops` operations.")


def _find_layers(v, out, depth):
    if isinstance(v, Layer):
        out.append(v)
    elif depth < 3 and isinstance(v, (list, tuple)):
        for x in v:
            _find_layers(x, out, depth + 1)
    elif depth < 3 and isinstance(v, dict):
        for x in v.values():
            _find_layers(x, out, depth + 1)


def _shape_of(x):
    if isinstance(x, (KerasTensor, Tensor)) or hasattr(x, "shape"):
        return tuple(x.shape)
    if x is None:
        return None
    return tuple(np.shape(x))


def _is_shape(s):
    return isinstance(s, (tuple, list)) and all(
        v is None or isinstance(v, (int, np.integer)) for v in s)


def map_structure_shapes(fn, s):
    """Maps `fn` over the shapes in a nested structure of shapes."""
    if _is_shape(s):
        return fn(tuple(s))
    if isinstance(s, dict):
        return {k: map_structure_shapes(fn, v) for k, v in s.items()}
    return type(s)(map_structure_shapes(fn, v) for v in s)


def _mask_of(inputs):
    if isinstance(inputs, Tensor):
        return inputs._keras_mask
    if isinstance(inputs, (list, tuple)):
        masks = [getattr(t, "_keras_mask", None) for t in inputs]
        return masks if any(m is not None for m in masks) else None
    return None


def is_metric(value):
    """True for a `gkeras.metrics.Metric` (checked by class, so that this
    module does not import the metrics package)."""
    return any(c.__name__ == "Metric" and c.__module__ ==
               "gkeras.metrics.metric" for c in type(value).__mro__)


def own_metrics(layer):
    """The Metric objects held in a layer's own attributes (directly or in
    lists/tuples), in attribute order; Keras tracks these in
    `layer._metrics`."""
    found = []
    for k, v in layer.__dict__.items():
        if k in Layer._UNTRACKED:
            continue
        for m in (v if isinstance(v, (list, tuple)) else (v,)):
            if is_metric(m) and all(m is not f for f in found):
                found.append(m)
    return found


def _symbolic_mask(layer, inputs, outputs):
    """Gives the output KerasTensor(s) the symbolic mask (a bool
    KerasTensor in `_keras_mask`) the layer would produce, as Keras does
    in symbolic calls, so that layers downstream that take `mask` in
    `call` see one while the graph is built. Eager runs are unaffected:
    they compute real masks."""
    in_mask = map_structure(lambda t: getattr(t, "_keras_mask", None),
                            inputs)
    has_in = any(m is not None for m in flatten(in_mask))
    if type(layer).compute_mask is Layer.compute_mask:
        if not (has_in and layer.supports_masking):
            return
        out_mask = in_mask if isinstance(in_mask, KerasTensor) else None
    else:
        def run(x, m):
            return layer.compute_mask(x, m if has_in else None)
        try:
            out_mask = compute_output_spec_by_running(run, (inputs, in_mask),
                                                      {})
        except Exception:
            # compute_mask may need real values (or raise for symbolic
            # input); masks are then left to the eager run, as before.
            return
    if isinstance(outputs, KerasTensor) and isinstance(out_mask, KerasTensor):
        outputs._keras_mask = out_mask
    elif isinstance(outputs, (list, tuple)) and isinstance(
            out_mask, (list, tuple)) and len(out_mask) == len(outputs):
        for o, m in zip(outputs, out_mask):
            if isinstance(o, KerasTensor) and isinstance(m, KerasTensor):
                o._keras_mask = m


def _set_mask(outputs, mask):
    if isinstance(outputs, Tensor):
        outputs._keras_mask = mask.data if isinstance(mask, Tensor) else mask
    elif isinstance(outputs, (list, tuple)):
        masks = mask if isinstance(mask, (list, tuple)) else \
            [mask] * len(outputs)
        for o, m in zip(outputs, masks):
            if isinstance(o, Tensor) and m is not None:
                o._keras_mask = m.data if isinstance(m, Tensor) else m


def _overrides(cls, method):
    for klass in cls.__mro__:
        if method in klass.__dict__:
            return klass is not Layer
    return False


def _build_params(cls):
    p = cls.__dict__.get("_gk_build_params")
    if p is None:
        try:
            p = [n for n in inspect.signature(cls.build).parameters
                 if n != "self"]
        except (TypeError, ValueError):
            p = []
        cls._gk_build_params = p
    return p


_AUTO_CONFIG_TYPES = (str, int, float, bool, type(None))


@functools.lru_cache(maxsize=None)
def _init_signature(cls):
    return inspect.signature(cls.__init__)


def _auto_config(cls, args, kwargs):
    """The constructor arguments (defaults included, `name` excluded) when
    they are all plain Python values, as Keras's Operation.__new__ records
    them; else None."""
    try:
        sig = _init_signature(cls)
        bound = sig.bind(None, *args, **kwargs)
    except (TypeError, ValueError):
        return None
    params = list(sig.parameters.values())[1:]
    if any(p.kind is p.POSITIONAL_ONLY for p in params):
        return None
    bound.apply_defaults()
    config = dict(bound.arguments)
    config.pop(next(iter(sig.parameters)), None)
    for p in params:
        if p.kind is p.VAR_KEYWORD:
            config.update(config.pop(p.name, {}))
        elif p.kind is p.VAR_POSITIONAL and config.pop(p.name, ()):
            return None
    config.pop("name", None)
    if not all(isinstance(v, _AUTO_CONFIG_TYPES) for v in flatten(
            list(config.values()))):
        return None
    return config


def _is_builtin(cls):
    return cls.__module__.startswith("gkeras.")


def _standardize_dtype_policy(dtype):
    """A layer's `dtype` argument (None, name, dict, policy, dtype) as a
    `DTypePolicy`."""
    if isinstance(dtype, dtype_policies.DTypePolicy):
        return dtype
    if dtype is not None and not isinstance(dtype, (str, dict)) and \
            hasattr(dtype, "name") and not hasattr(dtype, "itemsize"):
        dtype = dtype.name  # a Keras-2 / TF dtype object
    return dtype_policies.get(dtype)


def dtype_policy_config(dtype):
    """The serialized dtype policy (of a policy or a dtype name), as Keras
    3.15 writes it."""
    return dtype_policies.serialize(dtype_policies.get(dtype))


# As in Keras, a layer is an Operation (registered: Layer keeps its own
# call protocol).
from gkeras.ops.operation import Operation as _Operation  # noqa: E402
_Operation.register(Layer)

__all__ = ["Layer", "InputSpec"]

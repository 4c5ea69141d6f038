"""Symbolic tensors and graph nodes for the Functional API.

A `KerasTensor` carries a shape (None for unknown sizes), a dtype and the
history of the operation that produced it. Calling a layer (or an op) on
KerasTensors computes nothing: it infers the output shape and records a
`Node`. `Functional` models later execute the recorded graph.
"""

import numpy as np

from gkeras import backend
from gkeras.ops.engine import Tensor


class KerasHistory(tuple):
    """(operation, node_index, tensor_index)."""

    __slots__ = ()

    @property
    def operation(self):
        return self[0]

    @property
    def node_index(self):
        return self[1]

    @property
    def tensor_index(self):
        return self[2]


class KerasTensor:
    """A symbolic tensor: shape, dtype and the node that produces it.

    Args:
        shape: a tuple; None entries are unknown (the batch axis usually).
        dtype: dtype name.
        sparse: accepted for Keras compatibility.
        name: optional name.
    """

    __array_ufunc__ = None
    __array_priority__ = 1000

    def __init__(self, shape, dtype="float32", sparse=False, name=None,
                 record_history=True):
        self.shape = tuple(None if s is None else int(s) for s in shape)
        self.dtype = backend.standardize_dtype(dtype)
        self.sparse = bool(sparse)
        self.name = name
        self._keras_history = None

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return (f"<KerasTensor shape={self.shape}, dtype={self.dtype}, "
                f"sparse={self.sparse}, name={self.name}>")

    def __array__(self, *args, **kwargs):
        raise TypeError(
            "A KerasTensor is symbolic: it's a placeholder for a shape and a "
            "dtype. It doesn't have any actual numerical value. You cannot "
            "convert it to a NumPy array. Call the model on real data "
            "(`model(x)` or `model.predict(x)`) to get values.")

    def __bool__(self):
        raise TypeError("A symbolic KerasTensor cannot be used as a Python "
                        "bool (e.g. in an `if`). Use `gkeras.ops.where` or "
                        "`gkeras.ops.cond`.")

    def __len__(self):
        if self.shape and self.shape[0] is not None:
            return self.shape[0]
        raise TypeError("len() of a KerasTensor with an unknown first "
                        "dimension")

    def __iter__(self):
        raise TypeError("Iterating over a symbolic KerasTensor is not "
                        "supported.")

    def __hash__(self):
        return id(self)

    def __getitem__(self, key):
        from gkeras.ops.shape import getitem
        return getitem(self, key)

    def reshape(self, *shape):
        from gkeras.ops.shape import reshape
        return reshape(self, shape[0] if len(shape) == 1 else shape)

    def __eq__(self, other):
        from gkeras.ops.elementwise import equal
        return equal(self, other)

    def __ne__(self, other):
        from gkeras.ops.elementwise import not_equal
        return not_equal(self, other)


def _install():
    from gkeras.ops.elementwise import install_operators
    install_operators(KerasTensor)


class Node:
    """A call of an operation on symbolic inputs.

    Attributes:
        operation: the layer or op called.
        call_args, call_kwargs: the arguments as given (KerasTensors inside).
        input_tensors: the KerasTensors found in the arguments, in order.
        outputs: the KerasTensors produced (a flat list).
        output_structure: the outputs as returned (tensor, list, dict).
    """

    def __init__(self, operation, call_args, call_kwargs, outputs):
        self.operation = operation
        self.call_args = call_args
        self.call_kwargs = call_kwargs
        self.output_structure = outputs
        self.outputs = flatten(outputs)
        # Keyword tensors in sorted-name order, as Keras's tree.flatten
        # gives them: this fixes the order of `model.layers`.
        kw = [call_kwargs[k] for k in sorted(call_kwargs)] \
            if call_kwargs else []
        self.input_tensors = [t for t in flatten((call_args, kw))
                              if isinstance(t, KerasTensor)]
        node_index = len(operation._inbound_nodes)
        operation._inbound_nodes.append(self)
        for i, t in enumerate(self.outputs):
            t._keras_history = KerasHistory((operation, node_index, i))
        for t in self.input_tensors:
            if t._keras_history is not None:
                t._keras_history.operation._outbound_nodes.append(self)

    @property
    def parent_nodes(self):
        """The nodes that produced this node's inputs."""
        out = []
        for t in self.input_tensors:
            h = t._keras_history
            if h is not None:
                node = h.operation._inbound_nodes[h.node_index]
                if node not in out:
                    out.append(node)
        return out

    @property
    def is_input(self):
        return not self.input_tensors


def flatten(structure):
    """Flattens nested lists/tuples/dicts (dict values in key order as
    given) into a list of leaves."""
    out = []
    _flatten_into(structure, out)
    return out


def _flatten_into(s, out):
    if isinstance(s, (list, tuple)) and not isinstance(s, KerasHistory):
        for x in s:
            _flatten_into(x, out)
    elif isinstance(s, dict):
        for x in s.values():
            _flatten_into(x, out)
    else:
        out.append(s)


def map_structure(fn, s):
    """Applies `fn` to every leaf of a nested list/tuple/dict."""
    if isinstance(s, list):
        return [map_structure(fn, x) for x in s]
    if isinstance(s, tuple) and not isinstance(s, KerasHistory):
        return tuple(map_structure(fn, x) for x in s)
    if isinstance(s, dict):
        return {k: map_structure(fn, v) for k, v in s.items()}
    return fn(s)


def _dummy_value(kt, fill):
    shape = tuple((fill[0] if i == 0 else fill[1]) if s is None else s
                  for i, s in enumerate(kt.shape))
    xp = backend.get_xp()
    if np.dtype(kt.dtype).kind in "iu":
        return Tensor(xp.ones(shape, dtype=kt.dtype))
    if np.dtype(kt.dtype).kind == "b":
        return Tensor(xp.ones(shape, dtype=bool))
    # Small positive values: safe for log/sqrt/division in custom code.
    return Tensor(xp.full(shape, 0.5, dtype=kt.dtype))


def _spec_of(value):
    if isinstance(value, Tensor) or hasattr(value, "shape"):
        a = value.data if isinstance(value, Tensor) else value
        return KerasTensor(a.shape, dtype=str(a.dtype))
    return value


def compute_output_spec_by_running(fn, args, kwargs):
    """Infers output KerasTensors by running `fn` on small dummy tensors.

    Unknown sizes get two different fill-ins; output axes whose size
    changes between the runs are unknown (None) in the result.
    """
    from gkeras.ops.engine import no_grad
    has_unknown = any(
        s is None for t in flatten((args, kwargs))
        if isinstance(t, KerasTensor) for s in t.shape)

    def run(fill):
        def sub(x):
            if not isinstance(x, KerasTensor):
                return x
            d = _dummy_value(x, fill)
            # A symbolic mask becomes a dummy mask, so that call(...,
            # mask=None) sees one while the output is inferred.
            m = getattr(x, "_keras_mask", None)
            if isinstance(m, KerasTensor):
                d._keras_mask = _dummy_value(m, fill).data
            return d
        a = map_structure(sub, args)
        k = map_structure(sub, kwargs)
        with no_grad():
            return fn(*a, **k)

    out1 = map_structure(_spec_of, run((2, 3)))
    if not has_unknown:
        return out1
    out2 = map_structure(_spec_of, run((3, 5)))
    f1, f2 = flatten(out1), flatten(out2)
    for a, b in zip(f1, f2):
        if isinstance(a, KerasTensor) and isinstance(b, KerasTensor):
            a.shape = tuple(None if (x != y) else x
                            for x, y in zip(a.shape, b.shape))
    return out1


class WeightlessNode:
    """What a Functional model asks of a graph node that is not a layer
    (an op called on KerasTensors, a user `Operation`): no weights, no
    losses, no parameters."""

    weights = trainable_weights = non_trainable_weights = property(
        lambda self: [])

    @property
    def losses(self):
        """Operations add no losses."""
        return []

    def count_params(self):
        """Operations have no weights."""
        return 0


class SymbolicOp(WeightlessNode):
    """An op (not a layer) called on KerasTensors inside a Functional model.

    It re-runs the op function on real tensors when the model executes.
    Like Keras's `Operation`s, an op with a Keras class (`Add`,
    `Concatenate`...; `keras_op_classes.py`) keeps its non-tensor arguments
    in its config (`static`) and takes the rest as the node's call args, so
    that a model using `x + y` or `ops.concatenate` saves and loads in
    Keras's layout.

    Args:
        fn: the op function (eager on tensors).
        name: the op's name (made unique unless `exact_name`).
        static: keyword arguments stored in the config, passed on every
            call.
        keras_class: `(class_name, module)` in Keras, or None when the op
            has no Keras class (its model's architecture cannot be saved).
    """

    def __init__(self, fn, name, static=None, keras_class=None,
                 exact_name=False, op_name=None):
        from gkeras.utils import naming
        self.fn = fn
        # The op function's name (`"add"`), whatever the node's name.
        self.op_name = op_name or name
        self.name = name if exact_name else naming.uniquify(name)
        self.static = dict(static or {})
        self.keras_class = keras_class
        self._inbound_nodes = []
        self._outbound_nodes = []
        self.trainable = True

    def _run(self, *args, **kwargs):
        return self.fn(*args, **kwargs, **self.static)

    def __call__(self, *args, **kwargs):
        if any_symbolic(args, kwargs):
            # Replaying a saved graph: record the node on this very op.
            outputs = compute_output_spec_by_running(self._run, args, kwargs)
            Node(self, args, kwargs, outputs)
            return outputs
        return self._run(*args, **kwargs)

    def get_config(self):
        if self.keras_class is None:
            raise NotImplementedError(
                f"The op {self.name!r} was applied to symbolic tensors in a "
                "Functional model and has no Keras op class, so the model's "
                "architecture cannot be saved. Wrap the computation in a "
                "Layer (e.g. Lambda) or save the weights only.")
        return {"name": self.name, **self.static}

    def keras_serialize(self):
        """The entry of a Functional config's `layers` list (without the
        `name` and `inbound_nodes` the model adds), as Keras writes it."""
        config = self.get_config()
        class_name, module = self.keras_class
        return {"module": module, "class_name": class_name,
                "config": config, "registered_name": class_name}

    # The spelling the generic serializer looks for
    # (`saving.serialization.serialize_keras_object`).
    def _keras_serialized(self):
        return self.keras_serialize()

    @classmethod
    def from_keras_config(cls, entry):
        """Rebuilds the op of a saved Functional entry such as
        `{"module": "keras.src.ops.numpy", "class_name": "Add", ...}`.

        Only gkeras's own op functions are ever looked up (safe to load).
        """
        from gkeras import ops
        from gkeras.ops.keras_op_classes import KERAS_OPS
        module, class_name = entry.get("module"), entry.get("class_name")
        fname = next((f for f, e in KERAS_OPS.items()
                      if e["class_name"] == class_name
                      and e["module"] == module), None)
        fn = getattr(ops, fname, None) if fname else None
        if fn is None:
            raise ValueError(
                f"Unknown op class {class_name!r} from {module!r} in a "
                "saved Functional model: gkeras has no such op.")
        config = dict(entry.get("config") or {})
        name = config.pop("name", None) or entry.get("name") or fname
        allowed = set(KERAS_OPS[fname]["init"])
        if set(config) - allowed:
            raise ValueError(
                f"Op {class_name!r} in a saved model has unexpected config "
                f"keys {sorted(set(config) - allowed)}; expected a subset of "
                f"{sorted(allowed)}.")
        return cls(fn, name, static=config, keras_class=(class_name, module),
                   exact_name=True, op_name=fname)


_OP_CLASSES = {}


def keras_operation_class(class_name, module=None):
    """The class rebuilding Keras's op `class_name` of `module` (e.g.
    `"Add"` of `"keras.src.ops.numpy"`) from its config, for the generic
    deserializer; None when `module` is not an ops module (a Keras-2
    config's `"Add"` is the merging layer).

    Args:
        class_name: the Keras op class name.
        module: the module the config names.

    Returns:
        A `SymbolicOp` subclass with `from_config`, or None.
    """
    from gkeras.ops.keras_op_classes import KERAS_OPS
    if not isinstance(module, str) or not (
            module.startswith("keras.src.ops.") or module in (
                "keras.ops", "gkeras.ops")):
        return None
    entry = next((e for e in KERAS_OPS.values()
                  if e["class_name"] == class_name and (
                      e["module"] == module
                      or not module.startswith("keras.src."))), None)
    if entry is None:
        return None
    key = (class_name, entry["module"])
    if key not in _OP_CLASSES:
        def from_config(cls, config):
            return SymbolicOp.from_keras_config({
                "module": cls._keras_module, "class_name": cls.__name__,
                "config": config})
        _OP_CLASSES[key] = type(class_name, (SymbolicOp,), {
            "_keras_module": entry["module"],
            "from_config": classmethod(from_config),
            "__doc__": f"Keras's `{class_name}` op in a Functional model."})
    return _OP_CLASSES[key]


def _split_for_keras(fn, name, args, kwargs):
    """(static kwargs, call args, call kwargs, keras_class) of an op call,
    split as Keras's op class splits it; the call unchanged and no class
    when the op has none or the arguments do not fit it."""
    import inspect
    from gkeras.ops.keras_op_classes import KERAS_OPS
    entry = KERAS_OPS.get(name)
    if entry is None:
        return {}, args, kwargs, None
    try:
        sig = inspect.signature(fn)
        bound = sig.bind(*args, **kwargs)
    except (TypeError, ValueError):
        return {}, args, kwargs, None
    given = bound.arguments
    init, call = entry["init"], entry["call"]
    if set(given) - set(init) - set(call) or any(
            isinstance(given.get(p), KerasTensor) for p in init):
        return {}, args, kwargs, None
    params = sig.parameters
    static = {}
    for p in init:
        if p in given:
            static[p] = given[p]
        elif p in params and params[p].default is not params[p].empty:
            static[p] = params[p].default
        else:
            return {}, args, kwargs, None
    last = max((i for i, p in enumerate(call) if p in given), default=-1)
    call_args = []
    for p in call[:last + 1]:
        if p in given:
            call_args.append(given[p])
        elif p in params and params[p].default is not params[p].empty:
            call_args.append(params[p].default)
        else:
            return {}, args, kwargs, None
    return static, tuple(call_args), {}, (entry["class_name"],
                                          entry["module"])


def symbolic_call(fn, name, args, kwargs):
    """Records `fn(*args, **kwargs)` on KerasTensors as a graph node."""
    static, call_args, call_kwargs, keras_class = _split_for_keras(
        fn, name, args, kwargs)
    op = SymbolicOp(fn, name, static=static, keras_class=keras_class)
    outputs = compute_output_spec_by_running(op._run, call_args, call_kwargs)
    Node(op, call_args, call_kwargs, outputs)
    return outputs


def any_symbolic(*args):
    """True if any argument (nested) is a KerasTensor."""
    return any(isinstance(t, KerasTensor) for t in flatten(args))

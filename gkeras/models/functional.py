"""`Functional`: a model defined by a graph of layers called on `Input`s."""

import collections

from gkeras.layers.core.input_layer import InputLayer
from gkeras.layers.layer import Layer, _signature_flags, _to_tensor
from gkeras.ops.engine import Tensor
from gkeras.ops.symbolic import KerasTensor, flatten, map_structure
from gkeras.models.inference_plan import plan_for, store_outputs
from gkeras.models.model import Model
from gkeras.models import inference_fusion


def _node_of(t):
    op, node_index, _ = t._keras_history
    return op._inbound_nodes[node_index]


def map_graph(inputs, outputs):
    """Orders the graph between `inputs` and `outputs` as Keras does.

    Returns:
        (nodes in execution order, operations ordered like
        `model.layers`).
    """
    input_ids = {id(t) for t in inputs}
    finished, in_progress = set(), set()
    nodes_in_decreasing_depth = []
    op_index = {}

    def helper(tensor):
        if tensor._keras_history is None:
            raise ValueError(
                f"Output tensor {tensor} is not the output of a gkeras layer: "
                "the Functional API needs tensors produced by layers or ops "
                "called on `Input()` tensors.")
        node = _node_of(tensor)
        if id(node) in finished:
            return
        if id(node) in in_progress:
            raise ValueError("The graph of the model has a cycle.")
        op = node.operation
        if op not in op_index:
            op_index[op] = len(op_index)
        in_progress.add(id(node))
        if not node.is_input and id(tensor) not in input_ids:
            for t in node.input_tensors:
                helper(t)
        finished.add(id(node))
        in_progress.discard(id(node))
        nodes_in_decreasing_depth.append(node)

    for t in outputs:
        helper(t)

    node_depth, op_depth = {}, {}
    for node in reversed(nodes_in_decreasing_depth):
        depth = node_depth.setdefault(id(node), 0)
        depth = max(depth, op_depth.get(node.operation, 0))
        op_depth[node.operation] = depth
        node_depth[id(node)] = depth
        if id(node.outputs[0]) in input_ids:
            continue
        for parent in node.parent_nodes:
            node_depth[id(parent)] = max(depth + 1,
                                         node_depth.get(id(parent), 0))
    for t in inputs:
        op = t._keras_history.operation
        if op not in op_depth:
            op_depth[op] = 0
            op_index[op] = -1
            node_depth[id(op._inbound_nodes[0])] = 0
            nodes_in_decreasing_depth.append(op._inbound_nodes[0])

    by_id = {id(n): n for n in nodes_in_decreasing_depth}
    nodes_by_depth = collections.defaultdict(list)
    for nid, d in node_depth.items():
        nodes_by_depth[d].append(by_id[nid])
    ops_by_depth = collections.defaultdict(list)
    for op, d in op_depth.items():
        ops_by_depth[d].append(op)
    operations = []
    for d in sorted(ops_by_depth, reverse=True):
        ops = sorted(ops_by_depth[d], key=lambda o: op_index[o])
        operations.extend(ops)
    order = []
    for d in sorted(nodes_by_depth, reverse=True):
        order.extend(nodes_by_depth[d])
    # Every needed input must be an input of the model.
    produced = {id(t) for t in inputs}
    for node in order:
        if node.is_input and id(node.outputs[0]) not in produced:
            raise ValueError(
                f"Graph disconnected: cannot obtain value for tensor "
                f"{node.outputs[0]} at layer {node.operation.name!r}. The "
                "following previous layers were accessed without issue: "
                f"{[n.operation.name for n in order if n is not node][:5]}."
                " Add the missing Input to the model's `inputs`.")
    return order, operations


class Functional(Model):
    """A model built from `Input` tensors to output tensors.

    Created by `Model(inputs=..., outputs=...)`; see `gkeras.Model`.
    """

    # Inputs take each `Input`'s dtype in `call`, not the model's compute
    # dtype (a float64 Input keeps float64 under a float32 policy).
    _convert_input_args = False

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._init_graph(inputs, outputs)

    def _init_graph(self, inputs, outputs):
        if isinstance(inputs, dict):
            for k, t in inputs.items():
                if not isinstance(t, KerasTensor):
                    raise ValueError(f"Model input {k!r} is not a KerasTensor "
                                     "(use gkeras.Input()).")
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        flat_in = flatten(inputs)
        flat_out = flatten(outputs)
        for t in flat_in + flat_out:
            if not isinstance(t, KerasTensor):
                raise ValueError(
                    "All `inputs` and `outputs` of a Functional model must be "
                    "symbolic tensors from `gkeras.Input()` and layers called "
                    f"on them. Received: {t!r}")
        self.inputs = flat_in
        self.outputs = flat_out
        order, operations = map_graph(flat_in, flat_out)
        self._nodes = [n for n in order if not (
            n.is_input and isinstance(n.operation, InputLayer))]
        self._operations = operations
        self._plan = self._make_plan()
        self.built = True
        self._input_names = [t._keras_history.operation.name for t in flat_in]
        if isinstance(outputs, dict):
            self.output_names = list(outputs)
        else:
            self.output_names = [t._keras_history.operation.name
                                 for t in flat_out]

    def _make_plan(self):
        plan = []
        for node in self._nodes:
            args, kwargs = node.call_args, node.call_kwargs
            simple = (len(args) == 1 and isinstance(args[0], KerasTensor)
                      and not kwargs)
            plan.append((node.operation, simple, args, kwargs,
                         [id(t) for t in node.outputs]))
        return plan

    @property
    def layers(self):
        """The model's layers in Keras's order (InputLayers first); op
        nodes (`x + 1.0` on KerasTensors) are operations, not layers, and
        are left out as Keras does (`summary()` still shows them)."""
        from gkeras.layers.layer import Layer
        return [op for op in self._operations if isinstance(op, Layer)]

    @property
    def _layers(self):
        return [op for op in self._operations]

    def _direct_sublayers(self):
        from gkeras.layers.layer import Layer
        return [op for op in self._operations if isinstance(op, Layer)]

    @property
    def operations(self):
        """Every operation of the graph (layers and ops), as Keras's
        `Function.operations`."""
        return list(self._operations)

    @property
    def input(self):
        """The model's input tensor(s), in the structure given."""
        return self._inputs_struct

    @property
    def output(self):
        """The model's output tensor(s), in the structure given."""
        return self._outputs_struct

    @property
    def input_shape(self):
        return map_structure(lambda t: t.shape, self._inputs_struct)

    @property
    def output_shape(self):
        return map_structure(lambda t: t.shape, self._outputs_struct)

    def _standardize_inputs(self, inputs):
        """Matches call inputs to the flat list of model inputs."""
        n = len(self.inputs)
        if isinstance(inputs, dict):
            if isinstance(self._inputs_struct, dict):
                keys = list(self._inputs_struct)
            else:
                keys = self._input_names
            missing = [k for k in keys if k not in inputs]
            if missing:
                raise ValueError(
                    f"Model {self.name!r} expects inputs named {keys}; the "
                    f"dict passed is missing {missing} (received keys "
                    f"{list(inputs)}).")
            return [inputs[k] for k in keys]
        if isinstance(inputs, (list, tuple)) and n > 1:
            if len(inputs) != n:
                raise ValueError(
                    f"Model {self.name!r} expects {n} input(s), but it "
                    f"received {len(inputs)} input tensors.")
            return list(inputs)
        if n == 1:
            if isinstance(inputs, (list, tuple)) and len(inputs) == 1 and \
                    not isinstance(self._inputs_struct, KerasTensor):
                return [inputs[0]]
            return [inputs]
        raise ValueError(f"Model {self.name!r} expects {n} inputs; received "
                         f"a single tensor.")

    def call(self, inputs, training=None, mask=None):
        flat = self._standardize_inputs(inputs)
        values = {}
        for kt, x in zip(self.inputs, flat):
            x = _to_tensor(x, kt.dtype if kt.dtype.startswith("float")
                           else None)
            if isinstance(x, Tensor):
                x = _adjust_input_rank(x, kt.shape)
                shape = x.shape
                if len(shape) != len(kt.shape) or any(
                        a is not None and a != b
                        for a, b in zip(kt.shape[1:], shape[1:])):
                    layer = kt._keras_history.operation
                    _raise_input_mismatch(self, layer, kt.shape, shape)
            values[id(kt)] = x
        steps = plan_for(self, training)
        if steps is not None:
            for step in steps:
                step(values)
            out = self._outputs_struct
            if type(out) is KerasTensor:
                return values[id(out)]
            return map_structure(lambda t: values[id(t)], out)
        kw_training = {} if training is None else {"training": training}
        # Inference runs Conv2D -> BatchNorm -> ReLU -> MaxPool chains as
        # one fused call each (models/inference_fusion.py).
        plan = self._plan if training is not False else \
            inference_fusion.inference_plan(self)
        for op, simple, args, kwargs, out_ids in plan:
            if simple:
                a = values[id(args[0])]
                outs = op(a, **kw_training) if _accepts_training(op) \
                    else op(a)
            else:
                a = map_structure(
                    lambda v: values[id(v)] if isinstance(v, KerasTensor)
                    else v, args)
                k = map_structure(
                    lambda v: values[id(v)] if isinstance(v, KerasTensor)
                    else v, kwargs)
                if training is not None and _accepts_training(op) and \
                        "training" not in k:
                    k["training"] = training
                outs = op(*a, **k)
            store_outputs(values, out_ids, outs)
        return map_structure(lambda t: values[id(t)], self._outputs_struct)

    def compute_output_spec(self, inputs, training=None, mask=None):
        flat = self._standardize_inputs(inputs)
        values = {id(kt): x for kt, x in zip(self.inputs, flat)}
        for op, simple, args, kwargs, out_ids in self._plan:
            a = map_structure(lambda v: values[id(v)] if isinstance(
                v, KerasTensor) else v, args)
            k = map_structure(lambda v: values[id(v)] if isinstance(
                v, KerasTensor) else v, kwargs)
            if hasattr(op, "compute_output_spec"):
                outs = op.compute_output_spec(*a, **k)
            else:
                from gkeras.ops.symbolic import \
                    compute_output_spec_by_running
                outs = compute_output_spec_by_running(op, a, k)
            for i, o in zip(out_ids, flatten(outs)):
                values[i] = o
        return map_structure(lambda t: KerasTensor(
            values[id(t)].shape, values[id(t)].dtype), self._outputs_struct)

    def build(self, input_shape=None):
        self.built = True

    def get_config(self):
        from gkeras.models.functional_config import functional_get_config
        return functional_get_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        from gkeras.models.functional_config import functional_from_config
        return functional_from_config(cls, config, custom_objects)


def _accepts_training(op):
    if not isinstance(op, Layer):
        return False
    return _signature_flags(type(op))[0]


def _adjust_input_rank(x, ref_shape):
    """Keras's Functional._adjust_input_rank: an input one rank short of
    an Input whose last axis is 1 gets that axis (MNIST's (28, 28) images
    into `Input((28, 28, 1))`); one rank over with a last axis of 1 loses
    it. Other mismatches are left to the shape check."""
    rank, ref_rank = len(x.shape), len(ref_shape)
    if rank == ref_rank:
        return x
    from gkeras import ops
    if rank == ref_rank + 1 and x.shape[-1] == 1:
        return ops.squeeze(x, axis=-1)
    if rank == ref_rank - 1 and ref_rank and ref_shape[-1] == 1:
        return ops.expand_dims(x, axis=-1)
    return x


def _raise_input_mismatch(model, layer, expected, got):
    hint = ""
    if len(expected) != len(got):
        hint = (f" The model expects rank {len(expected)} inputs, received "
                f"rank {len(got)}.")
        if len(got) > len(expected) == 2:
            hint += " Flatten the inputs (or add a Flatten layer) first."
    raise ValueError(
        f"Input {layer.name!r} of model {model.name!r} is incompatible: "
        f"expected shape {expected}, but received input with shape "
        f"{tuple(got)}.{hint}")

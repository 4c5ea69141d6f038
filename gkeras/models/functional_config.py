"""Functional model configs in Keras's format (`layers` with
`inbound_nodes`, `input_layers`, `output_layers`) and back."""

from gkeras.ops.symbolic import KerasTensor, SymbolicOp, map_structure
from gkeras.saving.serialization import deserialize_layer, \
    serialize_keras_object


def _node_key(op, node_index):
    return f"{op.name}_ib-{node_index}"


def _serialize_tensor(t, kept):
    op, node_index, tensor_index = t._keras_history
    return {"class_name": "__keras_tensor__",
            "config": {"shape": list(t.shape), "dtype": t.dtype,
                       "keras_history": [op.name, kept.get(
                           (id(op), node_index), node_index), tensor_index]}}


def functional_get_config(model):
    """The config dict of a Functional model (Keras 3 layout)."""
    from gkeras.layers.layer import dtype_policy_config
    net_nodes = {id(n) for n in model._nodes}
    for t in model.inputs:
        net_nodes.add(id(t._keras_history.operation._inbound_nodes[0]))
    # Node indices renumbered to count only nodes of this model.
    kept = {}
    for op in model._operations:
        k = 0
        for i, node in enumerate(op._inbound_nodes):
            if id(node) in net_nodes:
                kept[(id(op), i)] = k
                k += 1
    layers = []
    for op in model._operations:
        if not hasattr(op, "get_config"):
            continue
        # Ops on symbolic tensors (`x + y`) are written as Keras's op
        # classes (`keras.src.ops.numpy` `Add`), as Keras does.
        cfg = op.keras_serialize() if isinstance(op, SymbolicOp) else \
            serialize_keras_object(op)
        cfg["name"] = op.name
        nodes = []
        for node in op._inbound_nodes:
            if id(node) not in net_nodes or node.is_input:
                continue
            args = map_structure(
                lambda v: _serialize_tensor(v, kept)
                if isinstance(v, KerasTensor) else v, list(node.call_args))
            kwargs = map_structure(
                lambda v: _serialize_tensor(v, kept)
                if isinstance(v, KerasTensor) else v, dict(node.call_kwargs))
            nodes.append({"args": args, "kwargs": kwargs})
        cfg["inbound_nodes"] = nodes
        layers.append(cfg)

    def ref(t):
        op, ni, ti = t._keras_history
        return [op.name, kept.get((id(op), ni), ni), ti]

    def refs(struct):
        if isinstance(struct, KerasTensor):
            return ref(struct)
        if isinstance(struct, dict):
            return {k: ref(v) for k, v in struct.items()}
        return [ref(t) for t in struct]

    return {"name": model.name, "trainable": model.trainable,
            "dtype": dtype_policy_config(model.dtype_policy),
            "layers": layers,
            "input_layers": refs(model._inputs_struct),
            "output_layers": refs(model._outputs_struct)}


def _is_tensor_config(v):
    return isinstance(v, dict) and v.get("class_name") == "__keras_tensor__"


def functional_from_config(cls, config, custom_objects=None):
    """Rebuilds a Functional model from its config by replaying the calls."""
    created = {}
    pending = []
    for lc in config["layers"]:
        name = lc.get("name") or lc["config"]["name"]
        if str(lc.get("module") or "").startswith("keras.src.ops."):
            layer = SymbolicOp.from_keras_config(dict(lc, name=name))
        else:
            layer = deserialize_layer(
                lc, custom_objects,
                f"Functional model {config.get('name')!r}")
        created[name] = layer
        for node in lc.get("inbound_nodes", []):
            # Keyed by the name in the config, which the nodes reference:
            # a custom layer whose get_config drops `name` gets a new one.
            pending.append((name, layer, node))
    # Outputs of each (layer, node index) as they get created.
    outputs = {}
    from gkeras.layers.core.input_layer import InputLayer
    for name, layer in created.items():
        if isinstance(layer, InputLayer):
            outputs[(name, 0)] = [layer.output]
    progress = True
    done = set()
    while progress:
        progress = False
        for i, (lname_, layer, node) in enumerate(pending):
            if i in done:
                continue
            args, kwargs = _node_args(node)

            def resolve(v):
                if _is_tensor_config(v):
                    lname, ni, ti = v["config"]["keras_history"]
                    outs = outputs.get((lname, ni))
                    if outs is None:
                        raise KeyError
                    return outs[ti]
                if isinstance(v, list) and len(v) in (3, 4) and \
                        isinstance(v[0], str) and v[0] in created and \
                        isinstance(v[1], int):
                    outs = outputs.get((v[0], v[1]))
                    if outs is None:
                        raise KeyError
                    return outs[v[2]]
                return v
            try:
                a = _map(resolve, args)
                k = _map(resolve, kwargs)
            except KeyError:
                continue
            out = layer(*a, **k)
            ni = sum(1 for (n, _) in outputs if n == lname_)
            from gkeras.ops.symbolic import flatten
            outputs[(lname_, ni)] = flatten(out)
            done.add(i)
            progress = True
    if len(done) != len(pending):
        missing = [pending[i][0] for i in range(len(pending))
                   if i not in done]
        raise ValueError(f"Could not rebuild the Functional model: layers "
                         f"{missing} reference inputs that never appear.")

    def get_ref(r):
        return outputs[(r[0], r[1])][r[2]]

    def struct(refs):
        if isinstance(refs, dict):
            return {k: get_ref(v) for k, v in refs.items()}
        if refs and isinstance(refs[0], str):
            return get_ref(refs)
        return [get_ref(r) for r in refs]

    inputs = struct(config["input_layers"])
    outs = struct(config["output_layers"])
    kwargs = {}
    if "trainable" in config:
        kwargs["trainable"] = config["trainable"]
    if config.get("dtype") is not None:
        # The model's own policy (Keras 3.15 drops it on load, so a loaded
        # mixed_float16 model would compile without loss scaling).
        kwargs["dtype"] = config["dtype"]
    from gkeras.models.functional import Functional
    model_cls = cls if issubclass(cls, Functional) else Functional
    return model_cls(inputs=inputs, outputs=outs, name=config.get("name"),
                     **kwargs)


def _node_args(node):
    """(args, kwargs) of a serialized node (Keras 3 or Keras 2 form)."""
    if isinstance(node, dict):
        return node.get("args", []), node.get("kwargs", {})
    # Keras 2: [[layer_name, node_index, tensor_index, kwargs], ...]
    refs = [[r[0], r[1], r[2]] for r in node]
    kwargs = node[0][3] if node and len(node[0]) > 3 else {}
    return ([refs[0]] if len(refs) == 1 else [refs]), kwargs


def _map(fn, s):
    if _is_tensor_config(s):
        return fn(s)
    if isinstance(s, list):
        r = fn(s)
        if r is not s:
            return r
        return [_map(fn, v) for v in s]
    if isinstance(s, dict):
        return {k: _map(fn, v) for k, v in s.items()}
    return s

"""`K.function` and `K.gradients`: Keras-2 graph functions over symbolic
tensors; see `gkeras.legacy.backend`."""

import builtins

import numpy as np

from gkeras import backend as _backend
from gkeras.backend.config import floatx
from gkeras.ops.engine import GradientTape, Tensor, backward as _backward
from gkeras.ops.symbolic import KerasTensor, flatten as _flatten
from gkeras.ops.variable import Variable
from gkeras.legacy._backend_utils import _ops


def _session():
    # The learning phase is state of gkeras.legacy.backend (read at call
    # time: that module imports this one).
    from gkeras.legacy import backend
    return backend


# --------------------------------------------------------------------------
# K.function and K.gradients
# --------------------------------------------------------------------------

class _SymbolicGradient:
    """What `K.gradients` returns: d`loss`/d`source`, evaluated by
    `K.function`."""

    def __init__(self, loss, source):
        self.loss = loss
        self.source = source
        self.shape = tuple(source.shape)
        self.dtype = getattr(source, "dtype", floatx())

    def __repr__(self):
        return f"<gradient of {self.loss!r} w.r.t. shape {self.shape}>"


def gradients(loss, variables):
    """Returns symbolic gradients of `loss` with respect to `variables`.

    They can only be evaluated through `K.function` (as in Keras 2 code
    like Grad-CAM and feature visualisation); in eager code use
    `gkeras.GradientTape`.

    Args:
        loss: a symbolic tensor (summed when not scalar).
        variables: a symbolic tensor/Variable or a list of them.

    Returns:
        A list of gradient placeholders, one per variable.
    """
    single = not isinstance(variables, (list, tuple))
    vs = [variables] if single else list(variables)
    if not isinstance(loss, KerasTensor):
        raise ValueError(
            "K.gradients() works on symbolic tensors (the outputs of layers "
            f"called on Inputs). Received loss={type(loss).__name__}; for "
            "concrete tensors use `with gkeras.GradientTape() as tape:` and "
            "`tape.gradient(loss, variables)`.")
    for v in vs:
        if not isinstance(v, (KerasTensor, Variable)):
            raise ValueError("K.gradients(): each variable must be a "
                             "symbolic tensor or a Variable. Received: "
                             f"{type(v).__name__}")
    return [_SymbolicGradient(loss, v) for v in vs]


def _graph_nodes(outputs, stop_ids):
    """Nodes needed to compute `outputs` from the tensors in `stop_ids`,
    in execution order."""
    order, done = [], set()

    def visit(t):
        if id(t) in stop_ids:
            return
        h = t._keras_history
        if h is None:
            raise ValueError(
                f"K.function: cannot compute {t!r}: it is not produced by a "
                "layer or op called on symbolic tensors.")
        node = h.operation._inbound_nodes[h.node_index]
        if id(node) in done:
            return
        done.add(id(node))
        if node.is_input:
            name = getattr(node.operation, "name", "?")
            raise ValueError(
                f"K.function: the outputs depend on the input {name!r}, "
                "which is not among the function's inputs. Add it to the "
                "`inputs` list.")
        for parent in node.input_tensors:
            visit(parent)
        order.append(node)

    for t in outputs:
        visit(t)
    return order


class GraphFunction:
    """A callable that evaluates symbolic outputs from input values.

    Built by `K.function`; see there.
    """

    def __init__(self, inputs, outputs, updates=None, name=None):
        if updates:
            raise NotImplementedError(
                "K.function(updates=...) is not supported by gkeras: apply "
                "variable updates with `variable.assign(...)` after calling "
                "the function.")
        self.name = name
        self._single_output = not isinstance(outputs, (list, tuple))
        self.inputs = list(inputs) if isinstance(inputs, (list, tuple)) \
            else [inputs]
        self.outputs = [outputs] if self._single_output else list(outputs)
        self._phase_index = None
        sym_inputs = []
        for i, t in enumerate(self.inputs):
            if t is _session()._LEARNING_PHASE_PLACEHOLDER:
                self._phase_index = i
            elif isinstance(t, KerasTensor):
                sym_inputs.append(t)
            else:
                raise ValueError(
                    "K.function inputs must be symbolic tensors (e.g. "
                    "`model.input`, `layer.output`) or K.learning_phase(). "
                    f"Received input {i}: {type(t).__name__}.")
        self._sym_inputs = sym_inputs
        for i, t in enumerate(self.outputs):
            if not isinstance(t, (KerasTensor, _SymbolicGradient)):
                raise ValueError(
                    "K.function outputs must be symbolic tensors or "
                    "K.gradients() results. Received output "
                    f"{i}: {type(t).__name__}.")
        stop = {id(t) for t in sym_inputs}
        targets = []
        for t in self.outputs:
            if isinstance(t, _SymbolicGradient):
                targets.append(t.loss)
                if isinstance(t.source, KerasTensor):
                    targets.append(t.source)
            else:
                targets.append(t)
        self._nodes = _graph_nodes(targets, stop)

    def _run(self, feed, training, watch_ids=()):
        from gkeras.layers.layer import _signature_flags, Layer
        from gkeras.ops.symbolic import map_structure
        values = dict(feed)
        for node in self._nodes:
            op = node.operation
            sub = (lambda v: values[id(v)] if isinstance(v, KerasTensor)
                   else v)
            args = map_structure(sub, node.call_args)
            kwargs = dict(map_structure(sub, node.call_kwargs))
            if isinstance(op, Layer) and _signature_flags(type(op))[0] and \
                    "training" not in kwargs:
                kwargs["training"] = training
            outs = _flatten(op(*args, **kwargs))
            for kt, v in zip(node.outputs, outs):
                if id(kt) in watch_ids and isinstance(v, Tensor) and \
                        not v.requires_grad:
                    # An intermediate asked for by K.gradients: make it a
                    # leaf the tape differentiates to.
                    v = Tensor(v.data, requires_grad=True)
                values[id(kt)] = v
        return values

    def __call__(self, inputs):
        """Evaluates the outputs.

        Args:
            inputs: a list of arrays, one per input of the function (0/1
                for a `K.learning_phase()` input).

        Returns:
            A list of NumPy arrays, one per output.
        """
        vals = list(inputs) if isinstance(inputs, (list, tuple)) \
            else [inputs]
        if len(vals) != len(self.inputs):
            raise ValueError(
                f"K.function expects {len(self.inputs)} input value(s), "
                f"received {len(vals)}.")
        phase = _session()._LEARNING_PHASE
        training = bool(phase) if phase is not None else False
        feed = {}
        k = 0
        for i, v in enumerate(vals):
            if i == self._phase_index:
                training = bool(int(np.asarray(v)))
                continue
            kt = self._sym_inputs[k]
            k += 1
            from gkeras.ops._base import to_array
            a = to_array(v)
            if a.dtype == np.float64 and kt.dtype != "float64":
                a = a.astype(kt.dtype)
            if len(a.shape) != len(kt.shape) or builtins.any(
                    e is not None and e != g
                    for e, g in zip(kt.shape, a.shape)):
                raise ValueError(
                    f"K.function: input {i} expects shape {kt.shape}, "
                    f"received an array of shape {tuple(a.shape)}.")
            feed[id(kt)] = Tensor(a)
        grads = [o for o in self.outputs if isinstance(o, _SymbolicGradient)]
        if not grads:
            values = self._run(feed, training)
            results = [values[id(o)] for o in self.outputs]
        else:
            results = self._call_with_gradients(feed, training)
        out = [_backend.to_numpy(r.data if isinstance(r, Tensor) else r)
               for r in results]
        return out[0] if self._single_output else out

    def _call_with_gradients(self, feed, training):
        # One forward pass under a tape per distinct loss: the tape frees
        # its graph after backward.
        results = [None] * len(self.outputs)
        plain = [i for i, o in enumerate(self.outputs)
                 if not isinstance(o, _SymbolicGradient)]
        losses = []
        for o in self.outputs:
            if isinstance(o, _SymbolicGradient) and not builtins.any(
                    o.loss is l for l in losses):
                losses.append(o.loss)
        for loss in losses:
            idx = [i for i, o in enumerate(self.outputs)
                   if isinstance(o, _SymbolicGradient) and o.loss is loss]
            watch = {id(self.outputs[i].source) for i in idx
                     if isinstance(self.outputs[i].source, KerasTensor)}
            leaf_feed = {}
            for key, t in feed.items():
                leaf_feed[key] = Tensor(t.data, requires_grad=key in watch)
            with GradientTape():
                values = self._run(leaf_feed, training, watch_ids=watch)
                total = _ops().sum(values[id(loss)])
            sources = []
            for i in idx:
                s = self.outputs[i].source
                sources.append(values[id(s)] if isinstance(s, KerasTensor)
                               else s)
            gs = _backward(total, sources)
            for i, g, s in zip(idx, gs, sources):
                xp = _backend.get_array_module(s.data)
                results[i] = Tensor(xp.zeros_like(s.data) if g is None else g)
            for i in plain:
                results[i] = values[id(self.outputs[i])]
        return results


def function(inputs, outputs, updates=None, name=None, **kwargs):
    """Instantiates a callable that evaluates symbolic tensors (Keras 2).

    Args:
        inputs: a list of symbolic tensors (`model.input`,
            `layer.output`, `K.placeholder(...)`), optionally including
            `K.learning_phase()`.
        outputs: a symbolic tensor or a list of them (layer outputs,
            K-function results on symbolic tensors, `K.gradients(...)`).
        updates: not supported (raises NotImplementedError when non-empty).
        name: optional name.
        **kwargs: not supported (raises ValueError).

    Returns:
        A callable: given a list of arrays (one per input) it returns a
        list of NumPy arrays (one per output; a single array when
        `outputs` was a single tensor).

    Example:
    >>> get_hidden = K.function([model.layers[0].input],
    ...                         [model.layers[0].output])
    >>> hidden = get_hidden([x_test])[0]
    """
    if kwargs:
        raise ValueError(f"Invalid K.function arguments: {sorted(kwargs)}.")
    return GraphFunction(inputs, outputs, updates=updates, name=name)


__all__ = ["GraphFunction", "function", "gradients"]

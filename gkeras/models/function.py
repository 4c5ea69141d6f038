"""`Function`: a callable graph of operations between symbolic inputs and
outputs (Keras's `keras.Function`)."""

import abc

from gkeras import tree
from gkeras.ops.symbolic import KerasTensor, flatten, map_structure


class Function(metaclass=abc.ABCMeta):
    """The graph from `inputs` to `outputs`, callable on real tensors.

    What a Functional model is without the layer and training machinery:
    it runs the operations (layers or ops) between the inputs and outputs
    in order.

    Args:
        inputs: a KerasTensor or a nested structure (list, dict) of them.
        outputs: KerasTensor(s) computed from `inputs` by layers or ops.
        name: optional name.

    Example:

    ```python
    x = gkeras.Input((3,))
    y = gkeras.ops.relu(gkeras.layers.Dense(2)(x))
    fn = gkeras.Function(x, y)
    fn(np.ones((4, 3)))  # (4, 2) tensor
    ```
    """

    def __init__(self, inputs, outputs, name=None):
        from gkeras.models.functional import map_graph
        from gkeras.utils import naming
        self.name = name or naming.auto_name("function")
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        for t in flatten(inputs) + flatten(outputs):
            if not isinstance(t, KerasTensor):
                raise ValueError(
                    f"Function {self.name!r}: `inputs` and `outputs` must be "
                    f"KerasTensors; received {t!r:.80}.")
        # Keras's order: dict inputs by sorted key, whatever order a call
        # passes them in.
        self._inputs = tree.flatten(inputs)
        self._outputs = flatten(outputs)
        order, operations = map_graph(self._inputs, self._outputs)
        input_ids = {id(t) for t in self._inputs}
        self._nodes = [n for n in order if not (
            n.is_input or all(id(o) in input_ids for o in n.outputs))]
        self._operations = operations

    @property
    def operations(self):
        """The operations of the graph, inputs first."""
        return list(self._operations)

    @property
    def inputs(self):
        """The flat list of input KerasTensors."""
        return list(self._inputs)

    @property
    def outputs(self):
        """The flat list of output KerasTensors."""
        return list(self._outputs)

    def _run(self, inputs, run_op):
        flat = tree.flatten(inputs)
        if len(flat) != len(self._inputs):
            raise ValueError(
                f"Function {self.name!r} expects {len(self._inputs)} "
                f"input(s) structured like {self._inputs_struct!r:.120}; "
                f"received {len(flat)}.")
        values = {id(kt): x for kt, x in zip(self._inputs, flat)}
        for node in self._nodes:
            def get(v):
                return values[id(v)] if isinstance(v, KerasTensor) else v
            args = map_structure(get, node.call_args)
            kwargs = map_structure(get, node.call_kwargs)
            outs = run_op(node.operation, args, kwargs)
            for t, o in zip(node.outputs, flatten(outs)):
                values[id(t)] = o
        return map_structure(lambda t: values[id(t)], self._outputs_struct)

    def __call__(self, inputs):
        return self.call(inputs)

    def call(self, inputs):
        """Runs the graph on real tensors or arrays.

        Args:
            inputs: values in the structure of the `inputs` given at
                construction.

        Returns:
            The outputs, in the structure of `outputs`.
        """
        return self._run(inputs, lambda op, a, k: op(*a, **k))

    def compute_output_spec(self, inputs):
        """The output KerasTensors for symbolic (or real) inputs."""
        from gkeras.ops.symbolic import compute_output_spec_by_running

        def spec(op, a, k):
            if hasattr(op, "compute_output_spec"):
                return op.compute_output_spec(*a, **k)
            return compute_output_spec_by_running(op, a, k)
        return self._run(inputs, spec)

    def __repr__(self):
        return f"<Function name={self.name}>"


def _register_functional():
    # A Functional model is a Function in Keras; gkeras's has its own
    # class tree, so it is registered (isinstance holds).
    from gkeras.models.functional import Functional
    Function.register(Functional)


_register_functional()

__all__ = ["Function"]

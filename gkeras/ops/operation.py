"""`Operation`: the base class of a user-defined op (Keras's
`keras.Operation`)."""

import abc

from gkeras.ops._base import _has_symbolic
from gkeras.ops.symbolic import Node, SymbolicOp, WeightlessNode, \
    compute_output_spec_by_running


class Operation(WeightlessNode, metaclass=abc.ABCMeta):
    """A stateless computation that runs on tensors and on symbolic
    `KerasTensor`s (recording a node of a Functional graph).

    Subclasses implement `call(*args, **kwargs)`; `compute_output_spec`
    defaults to running `call` on placeholder values of the inputs' shapes
    and dtypes, and can be overridden to say the output's shape and dtype
    directly. gkeras layers and the ops recorded in Functional graphs have
    their own classes but are registered as Operations, so
    `isinstance(layer, gkeras.Operation)` holds as in Keras.

    Args:
        name: the operation's name (default: the snake-case class name,
            made unique).

    Example:

    ```python
    class Cube(gkeras.Operation):
        def call(self, x):
            return gkeras.ops.power(x, 3)

    x = gkeras.Input((4,))
    model = gkeras.Model(x, Cube()(x))
    ```
    """

    def __init__(self, name=None):
        from gkeras.utils import naming
        if name is None:
            name = naming.auto_name(type(self).__name__)
        elif not isinstance(name, str) or "/" in name:
            raise ValueError("Argument `name` must be a string and cannot "
                             f"contain character `/`. Received: name={name!r}")
        self.name = name
        self._inbound_nodes = []
        self._outbound_nodes = []

    def __call__(self, *args, **kwargs):
        if _has_symbolic(args, kwargs):
            return self.symbolic_call(*args, **kwargs)
        return self.call(*args, **kwargs)

    def symbolic_call(self, *args, **kwargs):
        """Returns the output spec and records a graph node."""
        outputs = self.compute_output_spec(*args, **kwargs)
        Node(self, args, kwargs, outputs)
        return outputs

    def call(self, *args, **kwargs):
        """The computation; subclasses implement it."""
        raise NotImplementedError(
            f"Operation {type(self).__name__} does not implement `call()`.")

    def compute_output_spec(self, *args, **kwargs):
        """KerasTensor(s) describing the output for symbolic inputs."""
        return compute_output_spec_by_running(self.call, args, kwargs)

    # Functional models treat an operation like a weightless layer.
    trainable = True

    def get_config(self):
        """The constructor arguments: `{"name": ...}` unless overridden."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        """Creates the operation from its config."""
        return cls(**config)

    def _node_attr(self, attr):
        if not self._inbound_nodes:
            raise AttributeError(
                f"The operation {self.name!r} has never been called and "
                f"thus has no defined {attr}.")
        node = self._inbound_nodes[0]
        if attr == "output":
            return node.output_structure
        ts = node.input_tensors
        return ts[0] if len(ts) == 1 else ts

    @property
    def input(self):
        """The symbolic input of the first call."""
        return self._node_attr("input")

    @property
    def output(self):
        """The symbolic output of the first call."""
        return self._node_attr("output")

    def __repr__(self):
        return f"<Operation name={self.name}>"


Operation.register(SymbolicOp)

__all__ = ["Operation"]

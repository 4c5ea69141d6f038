"""Helpers on the symbolic graph of the Functional API."""


def get_source_inputs(tensor):
    """Returns the input tensors a symbolic tensor is computed from.

    Args:
        tensor: a KerasTensor (anything else is returned unchanged).

    Returns:
        The list of the `Input()` tensors `tensor` depends on, each once.

    Example:
    >>> x = gkeras.Input((3,))
    >>> y = gkeras.layers.Dense(2)(x)
    >>> gkeras.utils.get_source_inputs(y)[0] is x
    True
    """
    history = getattr(tensor, "_keras_history", None)
    if not hasattr(tensor, "_keras_history"):
        return tensor
    if history is None:
        return [tensor]
    operation, node_index, _ = history
    if not operation or not operation._inbound_nodes:
        return [tensor]
    node = operation._inbound_nodes[node_index]
    if node.is_input:
        return list(node.outputs)
    sources = []
    for t in node.input_tensors:
        for x in get_source_inputs(t):
            if all(x is not s for s in sources):
                sources.append(x)
    return sources


def is_keras_tensor(x):
    """Whether `x` is a symbolic tensor of the Functional API (a
    `KerasTensor`, as `gkeras.Input()` returns).

    Example:
    >>> gkeras.utils.is_keras_tensor(gkeras.Input((3,)))
    True
    """
    from gkeras.ops.symbolic import KerasTensor
    return isinstance(x, KerasTensor)


__all__ = ["get_source_inputs", "is_keras_tensor"]

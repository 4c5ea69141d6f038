"""`get_device_count` and `distribute_tensor` (Keras 3's
`keras.distribution` names) for gkeras's data-parallel distribution."""

from gkeras.distribution.distribution_lib import TensorLayout, list_devices


def get_device_count(device_type=None):
    """Returns the number of devices of a type.

    As `list_devices`: the devices of the whole job after `initialize()`
    (one per process), the local ones (visible GPUs, or one CPU) before.

    Args:
        device_type: `"cpu"`, `"gpu"` or None (the backend's default).

    Returns:
        An int.

    Example:
    >>> gkeras.distribution.get_device_count("cpu")
    1
    """
    return len(list_devices(device_type))


def distribute_tensor(tensor, layout):
    """Gives `tensor` the layout `layout`.

    gkeras's distribution is data parallel: every process holds whole
    (replicated) tensors. A layout that replicates (every axis None, or
    mapped to a mesh axis of size 1) returns the tensor unchanged; one that
    shards an axis over several devices is model parallelism, which gkeras
    does not have.

    Args:
        tensor: a tensor (a symbolic KerasTensor is returned unchanged, as
            in Keras).
        layout: a `TensorLayout` (or a tuple of per-axis mesh axis names).

    Returns:
        The tensor.

    Raises:
        NotImplementedError: for a sharding layout.
    """
    from gkeras.ops.symbolic import KerasTensor
    if isinstance(tensor, KerasTensor):
        return tensor
    axes = layout.axes if isinstance(layout, TensorLayout) else tuple(layout)
    mesh = getattr(layout, "device_mesh", None)
    for axis in axes:
        if axis is None:
            continue
        size = None
        if mesh is not None and axis in mesh.axis_names:
            size = mesh.shape[mesh.axis_names.index(axis)]
        if size != 1:
            raise NotImplementedError(
                f"distribute_tensor: layout axes {axes} shard the tensor "
                f"over mesh axis {axis!r}"
                + (f" of size {size}" if size is not None else "")
                + "; gkeras's distribution is data parallel and keeps "
                "whole tensors on every process (model parallelism is not "
                "supported).")
    return tensor


__all__ = ["get_device_count", "distribute_tensor"]

"""Helpers shared by the Keras-2 backend modules."""


def _ops():
    import gkeras.ops as ops
    return ops


def _t(x):
    """Python lists and scalars become arrays (TF's Keras 2 converted
    them too); tensors, arrays and KerasTensors pass through."""
    if isinstance(x, (list, tuple, int, float, bool)):
        from gkeras.ops._base import to_array
        return to_array(x)
    return x

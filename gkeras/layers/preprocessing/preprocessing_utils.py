"""Helpers shared by the numerical and categorical preprocessing layers.

`adapt()` data may be NumPy arrays, Python lists, or any iterable/generator
of batches (gkeras has no tf.data); the statistics are computed on the host.
"""

import itertools

import numpy as np

from gkeras import backend
from gkeras.ops.engine import Tensor
from gkeras.ops.symbolic import KerasTensor
from gkeras.ops.variable import Variable


def to_host(x):
    """A NumPy array (or the value itself for non-array Python objects)."""
    if isinstance(x, KerasTensor):
        raise TypeError("symbolic input")
    if isinstance(x, (Tensor, Variable)):
        return backend.to_numpy(x.data if isinstance(x, Tensor)
                                else x.numpy())
    if backend.is_cupy_array(x):
        return backend.to_numpy(x)
    return x


def as_array(x, layer):
    """`np.asarray`, with a clear error for ragged nested lists."""
    try:
        return np.asarray(to_host(x))
    except ValueError:
        raise ValueError(
            f"{layer}: ragged inputs (nested lists of different lengths) "
            "are not supported; gkeras has no ragged tensors. Pad the rows "
            "to a common length (with the mask token, if one is set).") \
            from None


def to_output(a, dtype):
    from gkeras.ops.core import convert_to_tensor
    return convert_to_tensor(np.asarray(a, dtype=dtype))


def is_batch_iterable(data):
    """True for iterables of batches (generators, iterators, datasets), False
    for a single array-like (arrays, tensors, lists, tuples, strings)."""
    if isinstance(data, (np.ndarray, Tensor, Variable, list, tuple, str,
                         bytes, dict)) or backend.is_cupy_array(data):
        return False
    return hasattr(data, "__iter__")


def list_of_arrays(data):
    return isinstance(data, (list, tuple)) and len(data) > 0 and all(
        isinstance(b, (np.ndarray, Tensor)) or backend.is_cupy_array(b)
        for b in data)


def first_of_pair(batch):
    # A generator of (x, y) pairs, as fit() takes: adapt on x.
    if isinstance(batch, tuple) and batch:
        return batch[0]
    return batch


def check_output_mode(layer_name, output_mode, allowed):
    if output_mode not in allowed:
        raise ValueError(
            f"{layer_name}: invalid value for argument `output_mode`. "
            f"Expected one of {list(allowed)}. Received: "
            f"output_mode={output_mode!r}")


def check_no_sparse(layer_name, sparse, arg="sparse"):
    if sparse:
        raise NotImplementedError(
            f"{layer_name}: `{arg}=True` is not supported by gkeras (it has "
            f"no sparse or ragged tensors). Use `{arg}=False`.")


def encode_indices(indices, output_mode, depth, count_weights=None, layer=""):
    """one_hot / multi_hot / count encodings of integer indices, as Keras's
    `encode_categorical_inputs` (indices < 0 mark masked entries and add
    nothing). Returns a float32 NumPy array."""
    idx = np.asarray(indices).astype(np.int64)
    if idx.ndim == 0:
        idx = idx[None]
        if count_weights is not None:
            count_weights = np.asarray(count_weights)[None]
    if idx.size and int(idx.max()) >= depth:
        raise ValueError(
            f"{layer}: input values must be in the range [0, {depth}) "
            f"(`num_tokens={depth}`). Received a maximum value of "
            f"{int(idx.max())}.")
    if output_mode == "one_hot" and idx.ndim > 1 and idx.shape[-1] == 1:
        idx = idx.reshape(idx.shape[:-1])
    onehot = (idx[..., None] == np.arange(depth)).astype(np.float32)
    if output_mode == "one_hot":
        return onehot
    axis = 1 if idx.ndim > 1 else 0
    if output_mode == "multi_hot":
        return onehot.max(axis=axis) if onehot.shape[axis] else \
            onehot.sum(axis=axis)
    if count_weights is not None:
        w = np.asarray(count_weights, dtype=np.float32)
        if w.shape != idx.shape:
            raise ValueError(
                f"{layer}: `count_weights` must have the shape of the inputs "
                f"{idx.shape}. Received: count_weights.shape={w.shape}")
        onehot = onehot * w[..., None]
    return onehot.sum(axis=axis).astype(np.float32)


def encoded_shape(input_shape, output_mode, depth):
    input_shape = tuple(input_shape)
    if not input_shape:
        return (depth,)
    if output_mode == "one_hot":
        if len(input_shape) > 1 and input_shape[-1] == 1:
            return input_shape[:-1] + (depth,)
        return input_shape + (depth,)
    if len(input_shape) == 1:
        return (depth,)
    return (input_shape[0],) + input_shape[2:] + (depth,)


def take_batches(data, steps=None):
    """An iterator over the batches of `data` (an iterable of batches),
    the first `steps` of them when `steps` is given (as `adapt(steps=)`)."""
    it = iter(data)
    return it if steps is None else itertools.islice(it, int(steps))

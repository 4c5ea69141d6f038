"""Turns what users pass to `fit`/`evaluate`/`predict` into batches.

Accepted: NumPy/CuPy arrays (or lists/tuples/dicts of them, nested as the
model's inputs), Python generators and iterators yielding `(x, y)` or
`(x, y, sample_weight)`, `PyDataset`/`Sequence`-style objects (`__len__`
and `__getitem__`), and re-iterable datasets (`__iter__`).
"""

import math

import numpy as np

from gkeras import backend
from gkeras.ops.engine import Tensor


def _to_host_array(x):
    if isinstance(x, Tensor):
        x = x.data
    if backend.is_cupy_array(x):
        return x
    a = np.asarray(x)
    if a.dtype == np.float64:
        # Keras trains in float32: convert once here, not per batch.
        a = a.astype(backend.floatx())
    return a


def _map(fn, s):
    if isinstance(s, dict):
        return {k: _map(fn, v) for k, v in s.items()}
    if isinstance(s, (list, tuple)):
        return type(s)(_map(fn, v) for v in s)
    if s is None:
        return None
    return fn(s)


def _leaves(s):
    if isinstance(s, dict):
        return [x for v in s.values() for x in _leaves(v)]
    if isinstance(s, (list, tuple)):
        return [x for v in s for x in _leaves(v)]
    return [] if s is None else [s]


def is_array_data(x):
    """True when `x` is an array or a structure of arrays."""
    if x is None:
        return False
    if isinstance(x, (dict, list, tuple)):
        leaves = _leaves(x)
        return bool(leaves) and all(
            isinstance(l, (np.ndarray, Tensor, int, float, np.number))
            or backend.is_cupy_array(l) or hasattr(l, "__array__")
            for l in leaves) and not any(
                _is_dataset_like(l) for l in leaves)
    return isinstance(x, (np.ndarray, Tensor)) or \
        backend.is_cupy_array(x) or (hasattr(x, "__array__")
                                     and hasattr(x, "shape"))


def _is_dataset_like(x):
    return hasattr(x, "__getitem__") and hasattr(x, "__len__") and \
        not isinstance(x, (np.ndarray, list, tuple, dict, Tensor, str)) and \
        not backend.is_cupy_array(x)


def to_device(batch):
    """Moves a batch (nested) to the backend's device, once."""
    if backend.backend() != "cupy":
        return batch
    return _map(lambda a: backend.to_device(a) if isinstance(
        a, np.ndarray) else a, batch)


# Batches in flight between the host and the GPU (see device_batches).
PREFETCH_DEPTH = 2


def device_batches(host_batches):
    """The batches of an epoch as the step consumes them.

    NumPy backend: the host batches themselves. CuPy backend: gathered into
    pinned host memory and copied asynchronously on a side stream,
    `PREFETCH_DEPTH` batches ahead, so the next batch's gather and copy
    overlap the current step (`backend/gpu/prefetch.py`). The producer
    (generator, PyDataset) still yields NumPy batches; only what reaches
    the step is on the device.
    """
    if backend.backend() != "cupy":
        return iter(host_batches)
    from gkeras.backend.gpu.prefetch import prefetch_to_device
    return prefetch_to_device(host_batches, depth=PREFETCH_DEPTH)


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """Packs user data into the form `train_step` and friends receive.

    As in Keras: `x` alone when there are no targets (a tuple or list `x`
    is wrapped as `(x,)`, so that its items are not mistaken for targets),
    `(x, y)` without sample weights, else `(x, y, sample_weight)`. Custom
    steps therefore may write `x, y = data` or `x = data`.

    Args:
        x: the inputs.
        y: the targets, or None.
        sample_weight: the sample weights, or None.

    Returns:
        The packed data.
    """
    if y is None:
        if not isinstance(x, (tuple, list)):
            return x
        return (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data):
    """`(x,)`, `(x, y)` or `(x, y, sample_weight)` -> the three parts."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data[0], data[1], data[2]
    raise ValueError(
        "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or "
        f"`(x, y, sample_weight)`, found a tuple of length {len(data)}.")


def _packed(batches):
    # The adapters build (x, y, sample_weight) triples; steps receive
    # Keras's packed form.
    for x, y, sw in batches:
        yield pack_x_y_sample_weight(x, y, sw)


class ArrayAdapter:
    """Batches of in-memory arrays (shuffled per epoch when asked)."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=None,
                 shuffle=False, steps=None, class_weight=None):
        x = _map(_to_host_array, x)
        y = _map(_to_host_array, y)
        sw = _map(_to_host_array, sample_weight)
        _check_numeric(x, "x")
        _check_numeric(y, "y")
        _check_numeric(sw, "sample_weight")
        sizes = {int(a.shape[0]) for a in _leaves((x, y, sw))
                 if getattr(a, "ndim", 0) > 0}
        if len(sizes) > 1:
            detail = []
            for label, s in (("x", x), ("y", y), ("sample_weight", sw)):
                ls = [int(a.shape[0]) for a in _leaves(s)]
                if ls:
                    detail.append(f"{label} sizes: {', '.join(map(str, ls))}")
            raise ValueError(
                "Data cardinality is ambiguous. Make sure all arrays contain "
                "the same number of samples. " + "; ".join(detail))
        self.num_samples = sizes.pop() if sizes else 0
        if class_weight is not None and y is not None:
            sw = _apply_class_weight(y, sw, class_weight)
        self.x, self.y, self.sw = x, y, sw
        self.batch_size = int(batch_size or 32)
        self.shuffle = shuffle
        n_batches = math.ceil(self.num_samples / self.batch_size)
        self.steps = n_batches if steps is None else int(steps)

    def __len__(self):
        return self.steps

    def epoch(self, rng):
        """The batches of one epoch (on the device on CuPy)."""
        return _packed(device_batches(self._host_epoch(rng)))

    def _host_epoch(self, rng):
        # On CuPy, host rows are described (HostGather) and gathered by the
        # prefetcher straight into pinned memory: one host copy, not two.
        gather = None
        if backend.backend() == "cupy":
            from gkeras.backend.gpu.prefetch import HostGather as gather
        n, bs = self.num_samples, self.batch_size
        if self.shuffle == "batch":
            order = np.arange(n)
            blocks = [order[i:i + bs] for i in range(0, n, bs)]
            rng.shuffle(blocks)
            index = np.concatenate(blocks) if blocks else order
        elif self.shuffle:
            index = rng.permutation(n)
        else:
            index = None
        produced = 0
        while produced < self.steps:
            for start in range(0, n, bs):
                if produced >= self.steps:
                    return
                sel = (slice(start, start + bs) if index is None
                       else index[start:start + bs])

                def take(a, sel=sel):
                    if not isinstance(a, np.ndarray):  # already on the GPU
                        return a[sel if isinstance(sel, slice)
                                 else backend.to_device(sel)]
                    return a[sel] if gather is None else gather(a, sel)
                batch = (_map(take, self.x), _map(take, self.y),
                         _map(take, self.sw))
                produced += 1
                yield batch
            if n == 0:
                return


def _apply_class_weight(y, sw, class_weight):
    if isinstance(y, (list, tuple, dict)):
        raise ValueError("`class_weight` is only supported for models with "
                         "a single output.")
    yh = backend.to_numpy(y)
    if yh.ndim > 1 and yh.shape[-1] > 1:
        ids = yh.argmax(axis=-1)
    else:
        ids = yh.reshape(yh.shape[0], -1)[:, 0].round().astype(np.int64)
    weights = np.ones(len(ids), dtype=backend.floatx())
    for cls, w in class_weight.items():
        weights[ids == int(cls)] = w
    if sw is not None:
        weights = weights * backend.to_numpy(sw).reshape(len(ids))
    return weights


class GeneratorAdapter:
    """Batches from a generator/iterator, a PyDataset or an iterable."""

    def __init__(self, data, steps=None, shuffle=False):
        self.data = data
        self.shuffle = shuffle
        from gkeras.utils.py_dataset import PyDataset
        # A PyDataset may also be an iterator (Keras-2 image iterators
        # are); indexing it is what honours its epochs and workers.
        self.is_pydataset = isinstance(data, PyDataset) or (
            _is_dataset_like(data) and not hasattr(data, "__next__"))
        if steps is None and self.is_pydataset:
            steps = len(data)
        elif steps is None and hasattr(data, "__len__") and not hasattr(
                data, "__next__"):
            try:
                steps = len(data)
            except TypeError:
                steps = None
        self.steps = steps
        self._iterator = None

    def __len__(self):
        return self.steps

    def epoch(self, rng):
        """The batches of one epoch (on the device on CuPy)."""
        return _packed(device_batches(self._host_epoch(rng)))

    def _host_epoch(self, rng):
        if self.is_pydataset:
            from gkeras.utils.py_dataset import iterate_batches
            n = len(self.data)
            order = rng.permutation(n) if self.shuffle else range(n)
            if self.steps is not None:
                order = order[:self.steps]
            if hasattr(self.data, "on_epoch_begin"):
                self.data.on_epoch_begin()
            # Workers (when the dataset asks for them) prepare batches
            # ahead of the step.
            for item in iterate_batches(self.data, order):
                yield _as_batch(item)
            if hasattr(self.data, "on_epoch_end"):
                self.data.on_epoch_end()
            return
        if hasattr(self.data, "__next__"):
            # A generator is consumed across epochs: each epoch takes
            # `steps` batches from where the last one stopped.
            it = self.data
        else:
            it = iter(self.data)
        count = 0
        while self.steps is None or count < self.steps:
            try:
                item = next(it)
            except StopIteration:
                if self.steps is not None and count == 0:
                    raise ValueError(
                        "The data generator ran out of batches before the "
                        "first step of this epoch. Make it infinite (e.g. "
                        "`while True:`) or pass fewer `steps_per_epoch`.")
                return
            yield _as_batch(item)
            count += 1


def _as_batch(item):
    x, y, sw = unpack_x_y_sample_weight(item)
    batch = (_map(_to_host_array, x), _map(_to_host_array, y),
             _map(_to_host_array, sw))
    # A dtype look-up per array: no data is touched, nothing syncs.
    for tree, label in zip(batch, ("x", "y", "sample_weight")):
        _check_numeric(tree, f"{label} (of a batch from the data source)")
    return batch


def get_adapter(x, y=None, sample_weight=None, batch_size=None, shuffle=False,
                steps=None, class_weight=None):
    """Returns the adapter that fits `x` (and checks the arguments)."""
    if x is None:
        raise ValueError("No input data was given: pass `x`.")
    check_batch_size(batch_size)
    if is_array_data(x) or isinstance(x, (list, tuple)) and x and all(
            isinstance(v, (int, float)) for v in x):
        return ArrayAdapter(x, y, sample_weight, batch_size=batch_size,
                            shuffle=shuffle, steps=steps,
                            class_weight=class_weight)
    if y is not None:
        raise ValueError(
            "When providing `x` as a generator, dataset or PyDataset, `y` "
            "should not be passed: the targets are taken from `x`. Received "
            f"y={type(y).__name__}.")
    if sample_weight is not None:
        raise ValueError("`sample_weight` cannot be passed with a generator "
                         "or dataset `x`; yield `(x, y, sample_weight)`.")
    if hasattr(x, "__iter__") or hasattr(x, "__next__") or \
            _is_dataset_like(x):
        if class_weight is not None:
            raise ValueError("`class_weight` is only supported with arrays.")
        return GeneratorAdapter(x, steps=steps, shuffle=shuffle)
    raise ValueError(f"Unrecognized data type: x={type(x).__name__}. "
                     "Expected NumPy arrays, a generator, or a PyDataset.")


def check_batch_size(batch_size):
    """Raises a ValueError unless `batch_size` is None or a positive
    integer (0 once silently meant 32, a negative size "no batches")."""
    if batch_size is None:
        return
    if isinstance(batch_size, bool) or not isinstance(
            batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(
            "`batch_size` must be a positive integer (or None for the "
            f"default of 32). Received: batch_size={batch_size!r}")


def _check_numeric(tree, label):
    """Raises a ValueError naming the input whose array holds strings or
    Python objects, which no gkeras model computes with."""
    def walk(s, where):
        if isinstance(s, dict):
            for k, v in s.items():
                walk(v, f"{where}[{k!r}]")
        elif isinstance(s, (list, tuple)):
            for i, v in enumerate(s):
                walk(v, f"{where}[{i}]")
        elif s is not None:
            kind = getattr(getattr(s, "dtype", None), "kind", None)
            if kind in ("U", "S", "O"):
                what = "strings" if kind in ("U", "S") else \
                    "Python objects (ragged or mixed data?)"
                raise ValueError(
                    f"`{where}` is an array of dtype {s.dtype} ({what}), "
                    f"shape {tuple(s.shape)}: gkeras models take numeric "
                    "arrays. Convert it first, e.g. with "
                    "`np.asarray(..., dtype='float32')`, and map text or "
                    "categories to numbers (e.g. with a `StringLookup` or "
                    "`TextVectorization` layer applied to the data).")
    walk(tree, label)


def train_validation_split(arrays, validation_split):
    """Splits arrays into train and validation (the last fraction), as
    Keras does before shuffling."""
    leaves = _leaves(arrays)
    n = int(leaves[0].shape[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"Training data contains {n} samples, which is not sufficient "
            f"to split it into a validation and training set as specified "
            f"by `validation_split={validation_split}`. Either provide more "
            "data, or a different value for the `validation_split` argument.")
    train = _map(lambda a: a[:split_at], arrays)
    val = _map(lambda a: a[split_at:], arrays)
    return train, val

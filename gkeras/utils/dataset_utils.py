"""In-memory dataset helpers: `timeseries_dataset_from_array` and
`split_dataset` (`keras.utils`), returning plain Python/NumPy objects
instead of `tf.data.Dataset`s."""

import numbers
import random

import numpy as np


def _as_numpy(a):
    if type(a).__module__.split(".")[0] == "cupy":
        return a.get()  # device -> host
    return np.asarray(a)


def _check_positive_int(value, name, allow_none=False):
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) \
            or value <= 0:
        raise ValueError(
            f"`{name}` must be a positive integer"
            f"{' or None' if allow_none else ''}. Received: {name}={value!r}")


class TimeseriesDataset:
    """Batches of sliding windows over an array, made by
    `timeseries_dataset_from_array`.

    Iterating over it yields one epoch of batches: `(x_batch, y_batch)`
    tuples of NumPy arrays, or `x_batch` alone when there are no targets.
    It can be iterated again for another epoch; with `shuffle=True` each
    epoch after the first draws a new order (from the same seeded random
    state, so a seed fixes the whole sequence of epochs). `len()` is the
    number of batches per epoch, and `dataset[i]` is batch `i` of the
    current order, so it also serves as a Keras `PyDataset`-style object
    (`on_epoch_end` reshuffles).

    Attributes:
        start_positions: Start of each window, relative to `start_index`,
            in the order of the current epoch.
        num_samples: Number of windows.
    """

    def __init__(self, data, targets, sequence_length, sampling_rate,
                 batch_size, shuffle, seed, start_positions):
        self._data = data
        self._targets = targets
        self._offsets = np.arange(sequence_length) * sampling_rate
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.start_positions = start_positions
        self.num_samples = len(start_positions)
        self._rng = np.random.RandomState(seed) if shuffle else None
        if shuffle:
            self._rng.shuffle(self.start_positions)
        self._epochs_started = 0

    def __len__(self):
        if self.batch_size is None:
            return self.num_samples
        return -(-self.num_samples // self.batch_size)

    def _make(self, positions):
        x = self._data[positions[..., None] + self._offsets]
        if self._targets is None:
            return x
        return x, self._targets[positions]

    def __getitem__(self, index):
        n = len(self)
        if isinstance(index, (int, np.integer)) and -n <= index < n:
            index = int(index) % n
        else:
            raise IndexError(
                f"Batch index {index!r} out of range for a dataset of {n} "
                "batches.")
        if self.batch_size is None:
            return self._make(self.start_positions[index])
        lo = index * self.batch_size
        return self._make(self.start_positions[lo: lo + self.batch_size])

    def on_epoch_end(self):
        """Reshuffles the windows (when `shuffle=True`)."""
        if self.shuffle:
            self._rng.shuffle(self.start_positions)

    def __iter__(self):
        if self._epochs_started:
            self.on_epoch_end()
        self._epochs_started += 1
        for i in range(len(self)):
            yield self[i]

    def __repr__(self):
        return (f"<TimeseriesDataset: {self.num_samples} sequences, "
                f"{len(self)} batches of {self.batch_size}>")


def timeseries_dataset_from_array(
    data,
    targets,
    sequence_length,
    sequence_stride=1,
    sampling_rate=1,
    batch_size=128,
    shuffle=False,
    seed=None,
    start_index=None,
    end_index=None,
):
    """Creates a dataset of sliding windows over a timeseries given as array.

    This function takes in a sequence of data-points gathered at equal
    intervals, along with time series parameters such as the length of the
    sequences/windows and the spacing between two sequences/windows, to
    produce batches of timeseries inputs and targets.

    Unlike Keras, which returns a `tf.data.Dataset`, the result is a
    `TimeseriesDataset`: iterable over batches of NumPy arrays (one epoch
    per iteration), with `len()` = number of batches; pass it to `fit` or
    loop over it.

    Args:
        data: NumPy array (or array-like) of consecutive data points
            (timesteps). Axis 0 is the time axis.
        targets: Targets corresponding to timesteps in `data`. `targets[i]`
            is the target of the window that starts at index `i` (see
            example 2). Pass `None` if you have no targets (the dataset
            then yields only the input windows).
        sequence_length: Length of the output sequences (in timesteps).
        sequence_stride: Period between successive output sequences. For
            stride `s`, samples start at `data[i]`, `data[i + s]`,
            `data[i + 2 * s]`, etc.
        sampling_rate: Period between successive timesteps within
            sequences. For rate `r`, timesteps
            `data[i], data[i + r], ..., data[i + (sequence_length - 1) * r]`
            make a sample.
        batch_size: Number of samples per batch (except maybe the last).
            If `None`, the dataset yields individual samples.
        shuffle: Whether to shuffle the samples (reshuffled each epoch), or
            draw them in chronological order.
        seed: Optional int; random seed for shuffling.
        start_index: Optional int; data points earlier than `start_index`
            are not used. Useful to reserve part of the data for test or
            validation.
        end_index: Optional int; data points at `end_index` and later are
            not used.

    Returns:
        A `TimeseriesDataset`. If `targets` was passed, it yields tuples
        `(batch_of_sequences, batch_of_targets)`; if not, only
        `batch_of_sequences`. Sequences have shape
        `(batch, sequence_length) + data.shape[1:]`.

    Example 1:

    Consider indices `[0, 1, ... 98]`. With `sequence_length=10,
    sampling_rate=2, sequence_stride=3`, `shuffle=False`, the dataset
    yields sequences composed of the following indices:

    ```
    First sequence:  [0  2  4  6  8 10 12 14 16 18]
    Second sequence: [3  5  7  9 11 13 15 17 19 21]
    Third sequence:  [6  8 10 12 14 16 18 20 22 24]
    ...
    Last sequence:   [78 80 82 84 86 88 90 92 94 96]
    ```

    The last 2 data points are discarded since no full sequence can
    include them.

    Example 2: temporal regression. To use the past 10 timesteps to predict
    the next one:

    ```python
    input_data = data[:-10]
    targets = data[10:]
    dataset = timeseries_dataset_from_array(
        input_data, targets, sequence_length=10)
    for inputs, targets in dataset:
        assert np.array_equal(inputs[0], data[:10])  # steps 0-9
        assert np.array_equal(targets[0], data[10])  # step 10
        break
    ```
    """
    data = _as_numpy(data)
    if data.ndim == 0:
        raise ValueError(
            "`data` must be an array whose axis 0 is time. Received a "
            "scalar.")
    n = len(data)
    _check_positive_int(sequence_length, "sequence_length")
    _check_positive_int(sequence_stride, "sequence_stride")
    _check_positive_int(sampling_rate, "sampling_rate")
    _check_positive_int(batch_size, "batch_size", allow_none=True)
    if start_index:
        if start_index < 0:
            raise ValueError(
                "`start_index` must be 0 or greater. Received: "
                f"start_index={start_index}")
        if start_index >= n:
            raise ValueError(
                "`start_index` must be lower than the length of the data. "
                f"Received: start_index={start_index}, for data of length "
                f"{n}")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(
                "`end_index` must be higher than `start_index`. Received: "
                f"start_index={start_index}, and end_index={end_index}")
        if end_index >= n:
            raise ValueError(
                "`end_index` must be lower than the length of the data. "
                f"Received: end_index={end_index}, for data of length {n}")
        if end_index <= 0:
            raise ValueError(
                "`end_index` must be higher than 0. Received: "
                f"end_index={end_index}")
    elif end_index is not None and end_index <= 0:
        raise ValueError(
            "`end_index` must be higher than 0. Received: "
            f"end_index={end_index}")
    if sampling_rate >= n:
        raise ValueError(
            "`sampling_rate` must be lower than the length of the data. "
            f"Received: sampling_rate={sampling_rate}, for data of length {n}")
    if sequence_stride >= n:
        raise ValueError(
            "`sequence_stride` must be lower than the length of the data. "
            f"Received: sequence_stride={sequence_stride}, for data of "
            f"length {n}")

    start_index = int(start_index or 0)
    end_index = n if end_index is None else int(end_index)

    span = (sequence_length - 1) * sampling_rate + 1
    num_seqs = end_index - start_index - span + 1
    if num_seqs <= 0:
        raise ValueError(
            f"`sequence_length`={sequence_length} with "
            f"`sampling_rate`={sampling_rate} needs windows of {span} "
            f"timesteps, but the data from start_index={start_index} to "
            f"end_index={end_index} has only {end_index - start_index}. "
            "Use a shorter `sequence_length` or more data.")

    target_array = None
    if targets is not None:
        target_array = _as_numpy(targets)
        if target_array.ndim == 0:
            raise ValueError(
                "`targets` must be an array with one target per timestep, "
                "or None. Received a scalar.")
        num_seqs = min(num_seqs, len(target_array) - start_index)
        if num_seqs <= 0:
            raise ValueError(
                f"`targets` has {len(target_array)} entries, so no window "
                f"starting at or after start_index={start_index} has a "
                "target.")
        target_array = target_array[start_index:]

    start_positions = np.arange(0, num_seqs, sequence_stride, dtype=np.int64)
    if shuffle and seed is None:
        seed = np.random.randint(1_000_000)
    return TimeseriesDataset(
        data[start_index:end_index], target_array, sequence_length,
        sampling_rate, batch_size, bool(shuffle), seed, start_positions)


def _check_split_size(size, name, total_length):
    if size is None:
        return
    if isinstance(size, bool) or not isinstance(size, numbers.Real):
        raise TypeError(
            f"Invalid `{name}` type. Expected: int or float or None. "
            f"Received: type({name})={type(size)}")
    if isinstance(size, numbers.Integral):
        if size <= 0 or size >= total_length:
            raise ValueError(
                f"`{name}` should be either a positive integer smaller than "
                f"{total_length}, or a float within the range `(0, 1)`. "
                f"Received: {name}={size}")
    elif size <= 0 or size >= 1:
        raise ValueError(
            f"`{name}` should be either a positive integer smaller than "
            f"{total_length}, or a float within the range `(0, 1)`. "
            f"Received: {name}={size}")


def _rescale_split_sizes(left_size, right_size, total_length):
    _check_split_size(left_size, "left_size", total_length)
    _check_split_size(right_size, "right_size", total_length)
    if (isinstance(left_size, float) and isinstance(right_size, float)
            and left_size + right_size > 1):
        raise ValueError(
            "The sum of `left_size` and `right_size` is greater than 1. "
            f"It must be at most 1. Received: left_size={left_size}, "
            f"right_size={right_size}")

    def absolute(size):
        if size is None:
            return None
        if isinstance(size, numbers.Integral):
            return int(size)
        return round(size * total_length)

    left, right = absolute(left_size), absolute(right_size)
    if left is None:
        left = total_length - right
    elif right is None:
        right = total_length - left
    if left + right > total_length:
        raise ValueError(
            "The sum of `left_size` and `right_size` should be at most the "
            f"dataset length {total_length}. Received: left_size + "
            f"right_size = {left + right}")
    for split, side in ((left, "left"), (right, "right")):
        if split == 0:
            raise ValueError(
                f"With `dataset` of length={total_length}, "
                f"`left_size`={left_size} and `right_size`={right_size}, "
                f"the {side} split would be empty. Adjust the sizes.")
    return left, right


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False,
                  seed=None):
    """Splits a dataset into a left half and a right half (e.g. train/test).

    Args:
        dataset: A NumPy array, or a tuple/list of arrays with the same
            length (e.g. `(x, y)`), or a dict of such arrays.
        left_size: If float (in the range `(0, 1)`), the fraction of the
            data to pack in the left split (rounded to the nearest
            sample). If integer, the number of samples in the left split.
            If `None`, the complement of `right_size`.
        right_size: Same for the right split; if `None`, the complement of
            `left_size`. The right split is taken from the end, so when both
            sizes are given and add up to less than the whole, the samples
            in between are in neither split.
        shuffle: Whether to shuffle the samples before splitting.
        seed: Random seed for shuffling (the same permutation as Keras's
            `random.seed(seed); random.shuffle(...)`).

    Returns:
        A tuple `(left, right)`, each of the same kind as `dataset` (an
        array, a tuple or list of arrays, or a dict of arrays).

    Example:

    >>> data = np.random.random(size=(1000, 4))
    >>> left, right = split_dataset(data, left_size=0.8)
    >>> left.shape, right.shape
    ((800, 4), (200, 4))
    >>> (x_tr, y_tr), (x_te, y_te) = split_dataset((x, y), right_size=0.2)
    """
    if left_size is None and right_size is None:
        raise ValueError(
            "At least one of the `left_size` or `right_size` must be "
            "specified. Received: left_size=None and right_size=None")
    if isinstance(dataset, dict):
        keys = list(dataset)
        arrays = [_as_numpy(dataset[k]) for k in keys]
        kind = dict
    elif isinstance(dataset, (tuple, list)):
        arrays = [_as_numpy(a) for a in dataset]
        kind = type(dataset)
    elif isinstance(dataset, np.ndarray) or hasattr(dataset, "__array__"):
        arrays = [_as_numpy(dataset)]
        kind = None
    else:
        raise TypeError(
            "The `dataset` argument must be a NumPy array, or a tuple, list "
            f"or dict of arrays. Received: dataset of type {type(dataset)}")
    if not arrays:
        raise ValueError("Received an empty tuple/list `dataset`.")
    for i, a in enumerate(arrays):
        if a.ndim == 0:
            raise ValueError(
                f"Element {i} of `dataset` is a scalar; expected arrays "
                "with the samples along axis 0.")
    total_length = len(arrays[0])
    for i, a in enumerate(arrays[1:], 1):
        if len(a) != total_length:
            raise ValueError(
                "The arrays of `dataset` must have the same length. "
                f"Element 0 has {total_length} samples, element {i} has "
                f"{len(a)}.")
    if total_length == 0:
        raise ValueError("Received an empty `dataset` (0 samples).")

    indices = list(range(total_length))
    if shuffle:
        if seed is None:
            seed = random.randint(0, int(1e6))
        random.Random(seed).shuffle(indices)
    indices = np.asarray(indices, dtype=np.int64)

    left, right = _rescale_split_sizes(left_size, right_size, total_length)
    left_idx = indices[:left]
    right_idx = indices[total_length - right:]
    left_arrays = [a[left_idx] for a in arrays]
    right_arrays = [a[right_idx] for a in arrays]
    if kind is None:
        return left_arrays[0], right_arrays[0]
    if kind is dict:
        return dict(zip(keys, left_arrays)), dict(zip(keys, right_arrays))
    if kind is list:
        return left_arrays, right_arrays
    return tuple(left_arrays), tuple(right_arrays)

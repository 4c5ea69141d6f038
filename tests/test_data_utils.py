"""to_categorical, normalize, pad_sequences, timeseries_dataset_from_array,
split_dataset: against hand-made values and brute-force loops."""

import math
import random

import numpy as np
import pytest

from gkeras.preprocessing.sequence import pad_sequences
from gkeras.utils.dataset_utils import split_dataset
from gkeras.utils.dataset_utils import timeseries_dataset_from_array
from gkeras.utils.numerical_utils import normalize
from gkeras.utils.numerical_utils import to_categorical

# --------------------------------------------------------- to_categorical


def test_to_categorical_basic():
    out = to_categorical([0, 1, 2, 3], num_classes=4)
    assert out.tolist() == [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0],
                            [0, 0, 0, 1]]
    assert out.dtype == np.float32
    assert to_categorical([2, 0]).tolist() == [[0, 0, 1], [1, 0, 0]]
    assert to_categorical([1], num_classes=3, dtype="int32").dtype == np.int32


def test_to_categorical_shapes():
    assert to_categorical(np.array([[1], [0]])).shape == (2, 2)  # (n, 1)
    assert to_categorical(np.array([[1], [0]]), 5).tolist() == [
        [0, 1, 0, 0, 0], [1, 0, 0, 0, 0]]
    out = to_categorical(np.array([[0, 2], [1, 1]]), 3)
    assert out.shape == (2, 2, 3)
    assert out[0, 1].tolist() == [0, 0, 1] and out[1, 0].tolist() == [0, 1, 0]
    assert to_categorical(2, 4).tolist() == [0, 0, 1, 0]  # scalar
    assert to_categorical(np.array([1.0, 0.0])).tolist() == [[0, 1], [1, 0]]
    assert to_categorical([], num_classes=3).shape == (0, 3)


def test_to_categorical_errors():
    with pytest.raises(ValueError, match=r"label 10.*num_classes=10"):
        to_categorical([0, 3, 10, 9], num_classes=10)
    with pytest.raises(ValueError, match="negative label -1"):
        to_categorical([0, -1])
    with pytest.raises(ValueError, match="non-integer"):
        to_categorical([0.5, 1.0])
    with pytest.raises(ValueError, match="num_classes"):
        to_categorical([0, 1], num_classes=0)
    with pytest.raises(ValueError, match="num_classes"):
        to_categorical([])


# -------------------------------------------------------------- normalize


def test_normalize_l2_rows_by_loop():
    x = np.array([[3.0, 4.0, 0.0], [1.0, 2.0, 2.0], [0.0, 0.0, 0.0]])
    out = normalize(x)
    assert out.shape == x.shape
    for i in range(3):
        norm = math.sqrt(sum(v * v for v in x[i])) or 1.0
        for j in range(3):
            assert out[i, j] == pytest.approx(x[i, j] / norm)
    assert out[0].tolist() == pytest.approx([0.6, 0.8, 0.0])


def test_normalize_axis0_and_l1():
    x = np.array([[1.0, -2.0], [3.0, 2.0], [0.0, 4.0]])
    out = normalize(x, axis=0, order=1)
    for j in range(2):
        norm = sum(abs(x[i, j]) for i in range(3))
        for i in range(3):
            assert out[i, j] == pytest.approx(x[i, j] / norm)
    v = normalize(np.array([3.0, 4.0]))
    assert v.shape == (2,) and v.tolist() == pytest.approx([0.6, 0.8])
    with pytest.raises(ValueError, match="axis"):
        normalize(x, axis=2)


# ----------------------------------------------------------- pad_sequences


SEQ = [[1], [2, 3], [4, 5, 6]]


def test_pad_sequences_keras_examples():
    out = pad_sequences(SEQ)
    assert out.dtype == np.int32
    assert out.tolist() == [[0, 0, 1], [0, 2, 3], [4, 5, 6]]
    assert pad_sequences(SEQ, value=-1).tolist() == [
        [-1, -1, 1], [-1, 2, 3], [4, 5, 6]]
    assert pad_sequences(SEQ, padding="post").tolist() == [
        [1, 0, 0], [2, 3, 0], [4, 5, 6]]
    assert pad_sequences(SEQ, maxlen=2).tolist() == [[0, 1], [2, 3], [5, 6]]
    assert pad_sequences(SEQ, maxlen=2, truncating="post").tolist() == [
        [0, 1], [2, 3], [4, 5]]
    assert pad_sequences(SEQ, maxlen=4, padding="post").tolist() == [
        [1, 0, 0, 0], [2, 3, 0, 0], [4, 5, 6, 0]]


def test_pad_sequences_misc():
    assert pad_sequences([[], [1, 2]]).tolist() == [[0, 0], [1, 2]]
    out = pad_sequences([[0.5, 1.5]], maxlen=3, dtype="float32", value=0.25)
    assert out.dtype == np.float32 and out.tolist() == [[0.25, 0.5, 1.5]]
    out = pad_sequences([[[1, 2]], [[3, 4], [5, 6]]])
    assert out.shape == (2, 2, 2)
    assert out.tolist() == [[[0, 0], [1, 2]], [[3, 4], [5, 6]]]
    assert pad_sequences(np.array([[1, 2, 3]]), maxlen=2).tolist() == [[2, 3]]
    assert pad_sequences([]).shape == (0, 0)


def test_pad_sequences_strings():
    out = pad_sequences([["a", "bb"], ["c"]], dtype=object, value="<pad>")
    assert out.tolist() == [["a", "bb"], ["<pad>", "c"]]
    out = pad_sequences([["a"], ["b", "c"]], dtype="<U5", value="x",
                        padding="post")
    assert out.tolist() == [["a", "x"], ["b", "c"]]
    with pytest.raises(ValueError, match="dtype=object"):
        pad_sequences([["a"]], value="x")


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match="padding='middle'"):
        pad_sequences(SEQ, padding="middle")
    with pytest.raises(ValueError, match="truncating='both'"):
        pad_sequences(SEQ, truncating="both")
    with pytest.raises(ValueError, match="non-iterable"):
        pad_sequences([[1], 5])
    with pytest.raises(ValueError, match="Shape of sample"):
        pad_sequences([[[1, 2]], [[1, 2, 3]]])
    with pytest.raises(ValueError, match="sequences"):
        pad_sequences(iter([[1]]))


# ------------------------------------------- timeseries_dataset_from_array


def brute_force_windows(n, length, stride, rate, start, end, n_targets=None):
    """Start indices of every full window, by trying each start."""
    starts = []
    i = start
    while True:
        last = i + (length - 1) * rate
        if last >= end:
            break
        if n_targets is not None and i >= n_targets:
            break
        starts.append(i)
        i += stride
    return starts


def collect(ds):
    xs, ys = [], []
    for batch in ds:
        if isinstance(batch, tuple):
            xs.append(batch[0])
            ys.append(batch[1])
        else:
            xs.append(batch)
    return xs, ys


def test_timeseries_keras_docstring_example():
    data = np.arange(99)
    ds = timeseries_dataset_from_array(
        data, None, sequence_length=10, sampling_rate=2, sequence_stride=3,
        batch_size=128)
    xs, _ = collect(ds)
    assert len(xs) == 1 == len(ds)
    x = xs[0]
    assert x[0].tolist() == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]
    assert x[1].tolist() == [3, 5, 7, 9, 11, 13, 15, 17, 19, 21]
    assert x[2].tolist() == [6, 8, 10, 12, 14, 16, 18, 20, 22, 24]
    assert x[-1].tolist() == [78, 80, 82, 84, 86, 88, 90, 92, 94, 96]
    assert len(x) == 27


def test_timeseries_regression_example():
    data = np.arange(100, dtype=np.float32) * 0.5
    ds = timeseries_dataset_from_array(
        data[:-10], data[10:], sequence_length=10, batch_size=16)
    xs, ys = collect(ds)
    assert [len(b) for b in xs] == [16] * 5 + [1]  # 90 - 10 + 1 = 81 windows
    assert len(ds) == 6
    x, y = np.concatenate(xs), np.concatenate(ys)
    for i in range(len(x)):
        assert x[i].tolist() == data[i:i + 10].tolist()
        assert y[i] == data[i + 10]


@pytest.mark.parametrize("length,stride,rate,start,end,batch", [
    (3, 1, 1, None, None, 4),
    (4, 2, 3, 5, 40, 5),
    (1, 7, 1, 2, None, 3),
    (5, 3, 2, None, 30, None),
])
def test_timeseries_against_brute_force(length, stride, rate, start, end,
                                        batch):
    n = 47
    data = np.arange(n * 2).reshape(n, 2)
    targets = np.arange(n) * 10
    ds = timeseries_dataset_from_array(
        data, targets, sequence_length=length, sequence_stride=stride,
        sampling_rate=rate, batch_size=batch, start_index=start,
        end_index=end)
    starts = brute_force_windows(n, length, stride, rate, start or 0,
                                 end if end is not None else n)
    if batch is None:
        items = list(ds)
        assert len(items) == len(starts) == len(ds)
        x = np.stack([it[0] for it in items])
        y = np.stack([it[1] for it in items])
    else:
        xs, ys = collect(ds)
        assert len(ds) == len(xs) == math.ceil(len(starts) / batch)
        assert all(len(b) == batch for b in xs[:-1])
        x, y = np.concatenate(xs), np.concatenate(ys)
    assert x.shape == (len(starts), length, 2)
    for k, s in enumerate(starts):
        for t in range(length):
            assert x[k, t].tolist() == data[s + t * rate].tolist()
        assert y[k] == targets[s]


def test_timeseries_shorter_targets_limit_windows():
    data = np.arange(20)
    ds = timeseries_dataset_from_array(data, np.arange(5), 3, batch_size=100)
    x, y = next(iter(ds))
    assert len(x) == 5 and y.tolist() == [0, 1, 2, 3, 4]


def test_timeseries_shuffle_per_epoch_and_seed():
    data = np.arange(50)
    ds = timeseries_dataset_from_array(
        data, data, sequence_length=4, batch_size=8, shuffle=True, seed=3)
    epochs = [np.concatenate(collect(ds)[0]) for _ in range(3)]
    expected = {tuple(range(i, i + 4)) for i in range(47)}
    for e in epochs:
        assert len(e) == 47
        assert {tuple(w) for w in e.tolist()} == expected
        assert e[:, 0].tolist() != list(range(47))
    assert epochs[0][:, 0].tolist() != epochs[1][:, 0].tolist()
    # Targets still follow their windows.
    for xb, yb in timeseries_dataset_from_array(
            data, data * 10, 4, batch_size=8, shuffle=True, seed=3):
        assert (yb == xb[:, 0] * 10).all()
    again = timeseries_dataset_from_array(
        data, data, sequence_length=4, batch_size=8, shuffle=True, seed=3)
    assert np.array_equal(np.concatenate(collect(again)[0]), epochs[0])


def test_timeseries_errors():
    data = np.arange(10)
    with pytest.raises(ValueError, match="sequence_length"):
        timeseries_dataset_from_array(data, None, sequence_length=11)
    with pytest.raises(ValueError, match="sequence_length"):
        timeseries_dataset_from_array(data, None, 4, sampling_rate=4)
    with pytest.raises(ValueError, match="sequence_length"):
        timeseries_dataset_from_array(data, None, 0)
    with pytest.raises(ValueError, match="start_index"):
        timeseries_dataset_from_array(data, None, 2, start_index=10)
    with pytest.raises(ValueError, match="end_index"):
        timeseries_dataset_from_array(data, None, 2, start_index=5,
                                      end_index=4)
    with pytest.raises(ValueError, match="sequence_stride"):
        timeseries_dataset_from_array(data, None, 2, sequence_stride=0)
    with pytest.raises(ValueError, match="batch_size"):
        timeseries_dataset_from_array(data, None, 2, batch_size=0)


# ----------------------------------------------------------- split_dataset


def test_split_dataset_array_fraction_and_int():
    data = np.arange(10) * 2
    left, right = split_dataset(data, left_size=0.8)
    assert left.tolist() == [0, 2, 4, 6, 8, 10, 12, 14]
    assert right.tolist() == [16, 18]
    left, right = split_dataset(data, right_size=3)
    assert left.tolist() == [0, 2, 4, 6, 8, 10, 12] and right.tolist() == [
        14, 16, 18]
    # Both given: left from the start, right from the end.
    left, right = split_dataset(data, left_size=2, right_size=0.3)
    assert left.tolist() == [0, 2] and right.tolist() == [14, 16, 18]


def test_split_dataset_tuple_list_dict():
    x = np.arange(12).reshape(6, 2)
    y = np.arange(6) * 10
    (xl, yl), (xr, yr) = split_dataset((x, y), left_size=4)
    assert xl.tolist() == x[:4].tolist() and yl.tolist() == [0, 10, 20, 30]
    assert xr.tolist() == x[4:].tolist() and yr.tolist() == [40, 50]
    left, right = split_dataset([x, y], left_size=0.5)
    assert isinstance(left, list) and left[1].tolist() == [0, 10, 20]
    dl, dr = split_dataset({"a": x, "b": y}, right_size=1)
    assert dl["b"].tolist() == [0, 10, 20, 30, 40] and dr["a"].tolist() == [
        [10, 11]]


def test_split_dataset_shuffle_matches_python_random():
    x = np.arange(20)
    y = x * 3
    (xl, yl), (xr, yr) = split_dataset((x, y), left_size=15, shuffle=True,
                                       seed=42)
    order = list(range(20))
    random.Random(42).shuffle(order)  # what Keras's random.seed/shuffle does
    assert xl.tolist() == order[:15] and xr.tolist() == order[15:]
    assert (yl == xl * 3).all() and (yr == xr * 3).all()


def test_split_dataset_errors():
    data = np.arange(10)
    with pytest.raises(ValueError, match="left_size"):
        split_dataset(data)
    with pytest.raises(ValueError, match="left_size"):
        split_dataset(data, left_size=10)
    with pytest.raises(ValueError, match="right_size"):
        split_dataset(data, right_size=1.5)
    with pytest.raises(ValueError, match="greater than 1"):
        split_dataset(data, left_size=0.6, right_size=0.6)
    with pytest.raises(ValueError, match="at most"):
        split_dataset(data, left_size=6, right_size=6)
    with pytest.raises(ValueError, match="same length"):
        split_dataset((np.arange(3), np.arange(4)), left_size=1)
    with pytest.raises(TypeError, match="left_size"):
        split_dataset(data, left_size="half")
    with pytest.raises(ValueError, match="empty"):
        split_dataset(np.arange(3), left_size=0.1)
    with pytest.raises(TypeError, match="dataset"):
        split_dataset(5, left_size=1)

"""PyDataset / Sequence with fit, evaluate and predict; worker pools."""

import math
import threading

import numpy as np
import pytest

import gkeras
from gkeras import layers
from gkeras.utils import PyDataset, Sequence

RNG = np.random.default_rng(0)
X = RNG.normal(size=(50, 3)).astype("float32")
W = np.array([[1.0], [-2.0], [0.5]], "float32")
Y = X @ W


class Batches(PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0
        self.threads = set()

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, idx):
        self.threads.add(threading.get_ident())
        s = slice(idx * self.batch_size, (idx + 1) * self.batch_size)
        if self.y is None:
            return self.x[s]
        return self.x[s], self.y[s]

    def on_epoch_end(self):
        self.epochs_ended += 1


def _model():
    m = gkeras.Sequential([gkeras.Input((3,)), layers.Dense(1)])
    m.compile(gkeras.optimizers.SGD(0.1), "mse")
    return m


def test_sequence_alias_and_defaults():
    assert Sequence is PyDataset
    ds = Batches(X, Y, 16)
    assert (ds.workers, ds.use_multiprocessing, ds.max_queue_size) == \
        (1, False, 10)
    assert ds.num_batches == 4 and len(list(ds)) == 4
    with pytest.raises(ValueError, match="workers"):
        Batches(X, Y, 16, workers=-1)
    with pytest.raises(NotImplementedError, match="__getitem__"):
        PyDataset()[0]


def test_fit_matches_arrays_and_calls_on_epoch_end():
    gkeras.utils.set_random_seed(1)
    m1 = _model()
    w0 = m1.get_weights()
    ds = Batches(X, Y, 10)
    m1.fit(ds, epochs=3, verbose=0, shuffle=False)
    assert ds.epochs_ended == 3
    m2 = _model()
    m2.set_weights(w0)
    m2.fit(X, Y, batch_size=10, epochs=3, verbose=0, shuffle=False)
    for a, b in zip(m1.get_weights(), m2.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    loss = m1.evaluate(Batches(X, Y, 7), verbose=0)
    ref = float(np.mean((m1.predict(X, verbose=0) - Y) ** 2))
    np.testing.assert_allclose(loss, ref, rtol=1e-4)


@pytest.mark.parametrize("mp", [False, True])
def test_workers_produce_same_predictions(mp):
    m = _model()
    ref = m.predict(X, verbose=0)
    ds = Batches(X, None, 8, workers=3, use_multiprocessing=mp,
                 max_queue_size=2)
    np.testing.assert_allclose(m.predict(ds, verbose=0), ref, rtol=1e-6)
    if not mp:
        assert threading.get_ident() not in ds.threads  # pool threads ran
    m.fit(Batches(X, Y, 8, workers=2, use_multiprocessing=mp), epochs=1,
          verbose=0)


def test_iterate_batches_order_and_errors():
    from gkeras.utils.py_dataset import iterate_batches

    class Boom(Batches):
        def __getitem__(self, idx):
            if idx == 2:
                raise RuntimeError("bad batch 2")
            return super().__getitem__(idx)

    ds = Batches(X, Y, 5, workers=4, max_queue_size=3)
    got = [b[0][0, 0] for b in iterate_batches(ds, [3, 1, 9, 0])]
    assert got == [X[15, 0], X[5, 0], X[45, 0], X[0, 0]]
    with pytest.raises(RuntimeError, match="bad batch 2"):
        list(iterate_batches(Boom(X, Y, 5, workers=2), range(10)))

"""Feeding `fit` from a `keras.utils.PyDataset` subclass (Keras 3's
`Sequence`): batches by index, `on_epoch_end` reshuffling, the
`workers`/`use_multiprocessing`/`max_queue_size` constructor arguments,
validation from a second PyDataset, and `predict` on one.

Source: keras.io/api/utils/python_utils/#pydataset-class (the
CIFAR10PyDataset example) and the training & evaluation guide ("Using a
keras.utils.PyDataset object as input"). Changed: `keras` -> `gkeras`;
in-memory arrays instead of image files.
"""
import math

import numpy as np

import gkeras as keras

keras.utils.set_random_seed(28)


class ExamplePyDataset(keras.utils.PyDataset):
    def __init__(self, x_set, y_set, batch_size, shuffle=False, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y = x_set, y_set
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.order = np.arange(len(x_set))
        self.epochs_seen = 0

    def __len__(self):
        # Return number of batches.
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, idx):
        # Return x, y for batch idx.
        low = idx * self.batch_size
        # Cap upper bound at array length; the last batch may be smaller
        # if the total number of items is not a multiple of batch size.
        high = min(low + self.batch_size, len(self.x))
        sel = self.order[low:high]
        return self.x[sel], self.y[sel]

    def on_epoch_end(self):
        self.epochs_seen += 1
        if self.shuffle:
            np.random.shuffle(self.order)


rng = np.random.default_rng(28)
x = rng.random((100, 6)).astype("float32")
y = (x.sum(axis=1, keepdims=True) > 3).astype("float32")
train = ExamplePyDataset(x[:80], y[:80], batch_size=16, shuffle=True,
                         workers=1, use_multiprocessing=False,
                         max_queue_size=10)
val = ExamplePyDataset(x[80:], y[80:], batch_size=16)
assert len(train) == 5 and len(val) == 2
assert train.workers == 1 and train.use_multiprocessing is False
assert train.max_queue_size == 10
xb, yb = train[4]
assert xb.shape == (16, 6) and yb.shape == (16, 1)

model = keras.Sequential([keras.Input((6,)),
                          keras.layers.Dense(8, activation="relu"),
                          keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer=keras.optimizers.Adam(0.03),
              loss="binary_crossentropy", metrics=["accuracy"])
h = model.fit(train, epochs=6, validation_data=val, verbose=0).history
assert h["loss"][-1] < h["loss"][0], h
# Once per epoch; Keras 3.15 also calls it once before the first epoch
# (its EpochIterator.reset), gkeras does not.
assert train.epochs_seen in (6, 7), train.epochs_seen
assert sorted(train.order.tolist()) == list(range(80))
assert train.order.tolist() != list(range(80))   # reshuffled

# predict on a PyDataset uses the inputs of each batch, in order.
pred = model.predict(val, verbose=0)
np.testing.assert_allclose(pred, model.predict(x[80:], verbose=0), rtol=1e-6)
loss, acc = model.evaluate(val, verbose=0)
np.testing.assert_allclose(acc, np.mean((pred > 0.5) == y[80:]), rtol=1e-6)

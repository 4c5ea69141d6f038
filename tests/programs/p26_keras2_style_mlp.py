"""A Keras-2-era program, as tutorials and old blog posts write it:
`from keras.models import Sequential`, `input_dim=`, `SGD(lr=...)`,
`fit_generator`, `keras.backend as K` (`K.get_value`/`K.set_value`,
`K.function`), and the legacy `.h5` model file.

Source: the Keras 2 "Getting started with the Sequential model" guide
(multilayer perceptron for multi-class softmax classification) and the
Keras 2 FAQ (intermediate-layer output with `K.function`, saving to
HDF5). Changed: `keras` -> `gkeras`; learnable synthetic data (20 epochs,
as the guide).

Keras reference: none (Keras 2 spellings: `lr=`, `fit_generator`,
`K.function`, which Keras 3 removed; gkeras accepts them).
"""
import os
import tempfile

import numpy as np

import gkeras
from gkeras import backend as K
from gkeras.layers import Activation, Dense, Dropout
from gkeras.models import Sequential, load_model
from gkeras.optimizers import SGD

np.random.seed(26)
gkeras.utils.set_random_seed(26)

# Generate dummy data
x_train = np.random.random((512, 20))
labels = (x_train[:, :10].argmax(axis=1)) % 10
y_train = gkeras.utils.to_categorical(labels, num_classes=10)
x_test = np.random.random((128, 20))
y_test = gkeras.utils.to_categorical(x_test[:, :10].argmax(axis=1) % 10,
                                     num_classes=10)

model = Sequential()
# Dense(64) is a fully-connected layer with 64 hidden units.
# in the first layer, you must specify the expected input data shape:
# here, 20-dimensional vectors.
model.add(Dense(64, activation="relu", input_dim=20))
model.add(Dropout(0.2))
model.add(Dense(64, activation="relu"))
model.add(Dropout(0.2))
model.add(Dense(10))
model.add(Activation("softmax"))

sgd = SGD(lr=0.1, momentum=0.9, nesterov=True)
model.compile(loss="categorical_crossentropy", optimizer=sgd,
              metrics=["accuracy"])
model.fit(x_train, y_train, epochs=20, batch_size=64, verbose=0)
score = model.evaluate(x_test, y_test, batch_size=128, verbose=0)
assert score[1] > 0.5, score        # chance: 0.1

# The learning rate, Keras-2 style.
np.testing.assert_allclose(K.get_value(model.optimizer.lr), 0.1, rtol=1e-6)
K.set_value(model.optimizer.lr, 0.01)
np.testing.assert_allclose(K.get_value(model.optimizer.learning_rate), 0.01,
                           rtol=1e-6)


def generator(batch_size=64):
    while True:
        idx = np.random.randint(0, len(x_train), batch_size)
        yield x_train[idx], y_train[idx]


history = model.fit_generator(generator(), steps_per_epoch=4, epochs=2,
                              verbose=0)
assert len(history.history["loss"]) == 2

# Intermediate output through a backend function (Keras 2 FAQ), on a
# Functional model over the same layers.
inp = gkeras.Input(shape=(20,))
hidden = model.layers[0](inp)
get_hidden = K.function([inp], [hidden])
out = get_hidden([x_test[:4]])[0]
w, b = model.layers[0].get_weights()
np.testing.assert_allclose(out, np.maximum(x_test[:4] @ w + b, 0), rtol=1e-5,
                           atol=1e-6)

# The legacy HDF5 file.
path = os.path.join(tempfile.mkdtemp(), "my_model.h5")
model.save(path)  # creates a HDF5 file 'my_model.h5'
pred = model.predict(x_test, verbose=0)
score = model.evaluate(x_test, y_test, verbose=0)
del model  # deletes the existing model
# returns a compiled model identical to the previous one
model = load_model(path)
np.testing.assert_allclose(model.predict(x_test, verbose=0), pred,
                           rtol=1e-5, atol=1e-7)
np.testing.assert_allclose(model.evaluate(x_test, y_test, verbose=0), score,
                           rtol=1e-5)
assert model.optimizer.__class__.__name__ == "SGD"
assert model.optimizer.nesterov

"""Text classification from scratch: a `TextVectorization` layer adapted
on the training text, an `Embedding`, a 1D convnet with global max
pooling, then an end-to-end model that takes raw strings.

Source: keras.io/examples/nlp/text_classification_from_scratch. Changed:
`keras` -> `gkeras`; a synthetic review corpus instead of IMDB, smaller
layers, arrays instead of a tf.data pipeline, no end-to-end string
model (see the end).

Keras reference: none (Keras's TextVectorization requires TensorFlow).
"""
import numpy as np

import gkeras as keras
from gkeras import layers

keras.utils.set_random_seed(3)
rng = np.random.default_rng(3)
positive = ["great", "wonderful", "loved", "excellent", "superb", "fun"]
negative = ["awful", "boring", "hated", "terrible", "dull", "waste"]
neutral = ["the", "movie", "plot", "actor", "scene", "film", "story", "a",
           "was", "and", "it", "this"]


def review(label):
    words = list(rng.choice(neutral, 8)) + list(
        rng.choice(positive if label else negative, 2))
    rng.shuffle(words)
    return "<br />" + " ".join(words).capitalize() + "!"


labels = rng.integers(0, 2, 240)
texts = np.array([review(l) for l in labels])
x_train, y_train = texts[:192], labels[:192].astype("float32")
x_test, y_test = texts[192:], labels[192:].astype("float32")

max_features = 100
embedding_dim = 16
sequence_length = 12


vectorize_layer = layers.TextVectorization(
    max_tokens=max_features,
    output_mode="int",
    output_sequence_length=sequence_length,
)
vectorize_layer.adapt(x_train)
vocab = vectorize_layer.get_vocabulary()
assert vocab[:2] == ["", "[UNK]"]
assert len(vocab) == 2 + len(set(positive + negative + neutral + ["br"]))
# Default standardization: lowercase and strip punctuation.
ids = np.asarray(vectorize_layer(np.array(["Great FILM!!"])))
assert ids.shape == (1, sequence_length)
assert [vocab[i] for i in ids[0, :2]] == ["great", "film"]
assert (ids[0, 2:] == 0).all()

x_train_ids = vectorize_layer(x_train)
x_test_ids = vectorize_layer(x_test)

# A integer input for vocab indices.
inputs = keras.Input(shape=(None,), dtype="int64")
x = layers.Embedding(max_features, embedding_dim)(inputs)
x = layers.Dropout(0.5)(x)
# Conv1D + global max pooling
x = layers.Conv1D(16, 3, padding="valid", activation="relu", strides=1)(x)
x = layers.GlobalMaxPooling1D()(x)
x = layers.Dense(16, activation="relu")(x)
x = layers.Dropout(0.5)(x)
predictions = layers.Dense(1, activation="sigmoid", name="predictions")(x)
model = keras.Model(inputs, predictions)
model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(0.01),
              metrics=["accuracy"])
model.fit(x_train_ids, y_train, validation_data=(x_test_ids, y_test),
          epochs=6, batch_size=32, verbose=0)
loss, acc = model.evaluate(x_test_ids, y_test, verbose=0)
assert acc > 0.8, acc

# New raw strings go through the adapted layer, then the model. (The
# example's end-to-end model on `keras.Input(dtype="string")` needs
# string tensors in the graph, which only Keras's TensorFlow backend has;
# gkeras refuses string model inputs with a clear error.)
probs = model.predict(vectorize_layer(np.array(
    ["A wonderful, superb film", "Boring and awful plot"])), verbose=0)
assert probs[0, 0] > 0.5 > probs[1, 0], probs

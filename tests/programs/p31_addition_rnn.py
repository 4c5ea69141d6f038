"""Sequence to sequence learning for performing number addition: one-hot
encoded questions ("12+7 ") and answers, an LSTM encoder, `RepeatVector`,
an LSTM decoder with `return_sequences=True` and a softmax `Dense` over
its 3D output, decoded back to text with `argmax`.

Source: keras.io/examples/nlp/addition_rnn. Changed: `keras` -> `gkeras`;
one-digit numbers, 600 questions instead of 50000, 128 -> 32 units,
a few epochs; the example's printed checks are asserted.
"""
import numpy as np

import gkeras as keras
from gkeras import layers

keras.utils.set_random_seed(31)
# Parameters for the model and dataset.
TRAINING_SIZE = 600
DIGITS = 1
REVERSE = True
# Maximum length of input is 'int + int' (e.g., '3+4').
MAXLEN = DIGITS + 1 + DIGITS


class CharacterTable:
    """Given a set of characters:
    + Encode them to a one-hot integer representation
    + Decode the one-hot or integer representation to their character output
    + Decode a vector of probabilities to their character output
    """

    def __init__(self, chars):
        """Initialize character table.
        # Arguments
            chars: Characters that can appear in the input.
        """
        self.chars = sorted(set(chars))
        self.char_indices = dict((c, i) for i, c in enumerate(self.chars))
        self.indices_char = dict((i, c) for i, c in enumerate(self.chars))

    def encode(self, C, num_rows):
        """One-hot encode given string C.
        # Arguments
            C: string, to be encoded.
            num_rows: Number of rows in the returned one-hot encoding. This is
                used to keep the # of rows for each data the same.
        """
        x = np.zeros((num_rows, len(self.chars)))
        for i, c in enumerate(C):
            x[i, self.char_indices[c]] = 1
        return x

    def decode(self, x, calc_argmax=True):
        """Decode the given vector or 2D array to their character output.
        # Arguments
            x: A vector or a 2D array of probabilities or one-hot
                representations; or a vector of character indices (used with
                `calc_argmax=False`).
            calc_argmax: Whether to find the character index with maximum
                probability, defaults to `True`.
        """
        if calc_argmax:
            x = x.argmax(axis=-1)
        return "".join(self.indices_char[x] for x in x)


# All the numbers, plus sign and space for padding.
chars = "0123456789+ "
ctable = CharacterTable(chars)

questions = []
expected = []
rng = np.random.default_rng(31)
while len(questions) < TRAINING_SIZE:
    a, b = (int(v) for v in rng.integers(0, 10, 2))
    # Pad the data with spaces such that it is always MAXLEN.
    q = "{}+{}".format(a, b)
    query = q + " " * (MAXLEN - len(q))
    ans = str(a + b)
    # Answers can be of maximum size DIGITS + 1.
    ans += " " * (DIGITS + 1 - len(ans))
    if REVERSE:
        # Reverse the query, e.g., '12+345  ' becomes '  543+21'.
        query = query[::-1]
    questions.append(query)
    expected.append(ans)

x = np.zeros((len(questions), MAXLEN, len(chars)), dtype=bool)
y = np.zeros((len(questions), DIGITS + 1, len(chars)), dtype=bool)
for i, sentence in enumerate(questions):
    x[i] = ctable.encode(sentence, MAXLEN)
for i, sentence in enumerate(expected):
    y[i] = ctable.encode(sentence, DIGITS + 1)
assert ctable.decode(x[0]) == questions[0]

# Shuffle (x, y) in unison as the later parts of x will almost all be larger
# digits.
indices = np.arange(len(y))
np.random.shuffle(indices)
x = x[indices]
y = y[indices]
# Explicitly set apart 10% for validation data that we never train over.
split_at = len(x) - len(x) // 10
(x_train, x_val) = x[:split_at], x[split_at:]
(y_train, y_val) = y[:split_at], y[split_at:]

num_layers = 1  # Try to add more LSTM layers!
model = keras.Sequential()
# "Encode" the input sequence using a LSTM, producing an output of size 128.
# Note: In a situation where your input sequences have a variable length,
# use input_shape=(None, num_feature).
model.add(layers.Input((MAXLEN, len(chars))))
model.add(layers.LSTM(32))
# As the decoder RNN's input, repeatedly provide with the last output of
# RNN for each time step. Repeat 'DIGITS + 1' times as that's the maximum
# length of output, e.g., when DIGITS=3, max output is 999+999=1998.
model.add(layers.RepeatVector(DIGITS + 1))
# The decoder RNN could be multiple layers stacked or a single layer.
for _ in range(num_layers):
    # By setting return_sequences to True, return not only the last output
    # but all the outputs so far in the form of (num_samples, timesteps,
    # output_dim). This is necessary as TimeDistributed in the below expects
    # the first dimension to be the timesteps.
    model.add(layers.LSTM(32, return_sequences=True))
# Apply a dense layer to the every temporal slice of an input. For each
# step of the output sequence, decide which character should be chosen.
model.add(layers.Dense(len(chars), activation="softmax"))
model.compile(loss="categorical_crossentropy",
              optimizer=keras.optimizers.Adam(0.01), metrics=["accuracy"])
assert tuple(model.output_shape) == (None, DIGITS + 1, len(chars))

h = model.fit(x_train, y_train, batch_size=32, epochs=8,
              validation_data=(x_val, y_val), verbose=0).history
assert h["loss"][-1] < 0.6 * h["loss"][0], h["loss"]
# Per-character accuracy well above chance (1/12).
assert h["val_accuracy"][-1] > 0.5, h["val_accuracy"]

preds = np.argmax(model.predict(x_val, verbose=0), axis=-1)
answers = [ctable.decode(p, calc_argmax=False) for p in preds]
truth = [ctable.decode(r) for r in y_val]
char_acc = np.mean([a == b for p, t in zip(answers, truth)
                    for a, b in zip(p, t)])
np.testing.assert_allclose(char_acc, h["val_accuracy"][-1], rtol=1e-6)

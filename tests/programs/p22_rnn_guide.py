"""Working with RNNs: LSTM/GRU/SimpleRNN with `return_sequences` and
`return_state`, an encoder passing its states to a decoder, a
`Bidirectional` LSTM, `stateful` RNNs reset by hand, and a custom cell
in `keras.layers.RNN`.

Source: keras.io/guides/working_with_rnns. Changed: `keras` -> `gkeras`;
smaller sizes; the printed shapes are asserted, and a custom SimpleRNN
cell is checked against the built-in SimpleRNN and NumPy.
"""
import numpy as np

import gkeras as keras
from gkeras import layers, ops

keras.utils.set_random_seed(22)

model = keras.Sequential()
# Add an Embedding layer expecting input vocab of size 1000, and
# output embedding dimension of size 64.
model.add(layers.Embedding(input_dim=1000, output_dim=16))
# Add a LSTM layer with 128 internal units.
model.add(layers.LSTM(32))
# Add a Dense layer with 10 units.
model.add(layers.Dense(10))
model.build((None, 7))
assert tuple(model.output_shape) == (None, 10)
# LSTM weights: kernel (16, 4*32), recurrent kernel (32, 4*32), bias.
assert [tuple(w.shape) for w in model.layers[1].weights] == [
    (16, 128), (32, 128), (128,)]

model = keras.Sequential()
model.add(layers.Embedding(input_dim=1000, output_dim=16))
# The output of GRU will be a 3D tensor of shape (batch_size, timesteps, 256)
model.add(layers.GRU(16, return_sequences=True))
# The output of SimpleRNN will be a 2D tensor of shape (batch_size, 128)
model.add(layers.SimpleRNN(8))
model.add(layers.Dense(10))
out = model(np.random.randint(0, 1000, (2, 7)))
assert tuple(out.shape) == (2, 10)
assert [tuple(w.shape) for w in model.layers[1].weights] == [
    (16, 48), (16, 48), (2, 48)]  # reset_after=True: two biases

encoder_vocab = 1000
decoder_vocab = 2000
encoder_input = layers.Input(shape=(None,))
encoder_embedded = layers.Embedding(input_dim=encoder_vocab,
                                    output_dim=16)(encoder_input)
# Return states in addition to output
output, state_h, state_c = layers.LSTM(16, return_state=True,
                                       name="encoder")(encoder_embedded)
encoder_state = [state_h, state_c]
decoder_input = layers.Input(shape=(None,))
decoder_embedded = layers.Embedding(input_dim=decoder_vocab,
                                    output_dim=16)(decoder_input)
# Pass the 2 states to a new LSTM layer, as initial state
decoder_output = layers.LSTM(16, name="decoder")(
    decoder_embedded, initial_state=encoder_state)
output = layers.Dense(10)(decoder_output)
model = keras.Model([encoder_input, decoder_input], output)
enc = np.random.randint(0, 1000, (3, 5))
dec = np.random.randint(0, 2000, (3, 4))
assert tuple(model([enc, dec]).shape) == (3, 10)
# The decoder's initial state is the encoder's final state: feeding it by
# hand gives the same output.
enc_lstm, dec_lstm = model.get_layer("encoder"), model.get_layer("decoder")
_, h, c = enc_lstm(model.layers[2](enc))
want = model.layers[-1](dec_lstm(model.layers[3](dec), initial_state=[h, c]))
np.testing.assert_allclose(np.asarray(model([enc, dec])), np.asarray(want),
                           rtol=1e-5, atol=1e-6)

# Cross-batch statefulness.
paragraph1 = np.random.random((2, 10, 5)).astype(np.float32)
paragraph2 = np.random.random((2, 10, 5)).astype(np.float32)
paragraph3 = np.random.random((2, 10, 5)).astype(np.float32)
lstm_layer = layers.LSTM(8, stateful=True)
output = lstm_layer(paragraph1)
output = lstm_layer(paragraph2)
output = lstm_layer(paragraph3)
# reset_states() will reset the cached state to the original initial_state.
lstm_layer.reset_states()
# Three stateful calls = one call on the whole sequence.
fresh = layers.LSTM(8)
fresh.build((None, 30, 5))
fresh.set_weights(lstm_layer.get_weights())
whole = fresh(np.concatenate([paragraph1, paragraph2, paragraph3], axis=1))
np.testing.assert_allclose(np.asarray(output), np.asarray(whole), rtol=1e-5,
                           atol=1e-6)
# After the reset, the state starts from zeros again.
np.testing.assert_allclose(np.asarray(lstm_layer(paragraph1)),
                           np.asarray(fresh(paragraph1)), rtol=1e-5,
                           atol=1e-6)

# Bidirectional RNNs.
model = keras.Sequential()
model.add(keras.Input(shape=(5, 10)))
model.add(layers.Bidirectional(layers.LSTM(8, return_sequences=True)))
model.add(layers.Bidirectional(layers.LSTM(4)))
model.add(layers.Dense(10))
assert tuple(model.output_shape) == (None, 10)
assert tuple(model.layers[0].output.shape) == (None, 5, 16)


# A custom cell in the RNN layer.
class MinimalRNNCell(layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                      initializer="uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units), initializer="uniform",
            name="recurrent_kernel")

    def call(self, inputs, states):
        prev_output = states[0]
        h = ops.matmul(inputs, self.kernel)
        output = h + ops.matmul(prev_output, self.recurrent_kernel)
        return output, [output]


cell = MinimalRNNCell(4)
x = keras.Input((None, 5))
layer = layers.RNN(cell)
y = layer(x)
model = keras.Model(x, y)
seq = np.random.random((2, 6, 5)).astype("float32")
got = np.asarray(model(seq))
k = np.asarray(cell.kernel).astype("float64")
rk = np.asarray(cell.recurrent_kernel).astype("float64")
h = np.zeros((2, 4))
for t in range(6):
    h = seq[:, t] @ k + h @ rk
np.testing.assert_allclose(got, h, rtol=1e-4, atol=1e-6)
# Trainable through fit.
model.compile("sgd", "mse")
loss0 = model.evaluate(seq, np.zeros((2, 4)), verbose=0)
model.fit(seq, np.zeros((2, 4)), epochs=3, verbose=0)
assert model.evaluate(seq, np.zeros((2, 4)), verbose=0) < loss0

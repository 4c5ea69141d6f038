"""Understanding masking & padding: `pad_sequences`, `Embedding(mask_zero=
True)`, `Masking`, masks reaching an LSTM in Sequential, Functional and
subclassed code, and custom layers that create (`compute_mask`),
propagate (`supports_masking`) and consume (`call(..., mask=None)`)
masks.

Source: keras.io/guides/understanding_masking_and_padding. Changed:
`keras` -> `gkeras`; smaller sizes; the printed masks are asserted.
"""
import numpy as np

import gkeras as keras
from gkeras import layers, ops

keras.utils.set_random_seed(20)
raw_inputs = [
    [711, 632, 71],
    [73, 8, 3215, 55, 927],
    [83, 91, 1, 645, 1253, 927],
]
# By default, this will pad using 0s; it is configurable via the
# "value" parameter. Note that you could use "pre" padding (at the
# beginning) or "post" padding (at the end).
padded_inputs = keras.utils.pad_sequences(raw_inputs, padding="post")
np.testing.assert_array_equal(padded_inputs, [
    [711, 632, 71, 0, 0, 0],
    [73, 8, 3215, 55, 927, 0],
    [83, 91, 1, 645, 1253, 927]])
assert np.asarray(keras.utils.pad_sequences(raw_inputs))[0].tolist() == [
    0, 0, 0, 711, 632, 71]

embedding = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)
masked_output = embedding(padded_inputs)
want_mask = padded_inputs != 0
np.testing.assert_array_equal(ops.convert_to_numpy(masked_output._keras_mask),
                              want_mask)

masking_layer = layers.Masking()
# Simulate the embedding lookup by expanding the 2D input to 3D,
# with embedding dimension of 10.
unmasked_embedding = ops.cast(
    ops.tile(ops.expand_dims(padded_inputs, axis=-1), [1, 1, 10]), "float32")
masked_embedding = masking_layer(unmasked_embedding)
np.testing.assert_array_equal(ops.convert_to_numpy(masked_embedding._keras_mask),
                              want_mask)

# Mask propagation in the Functional API and Sequential API.
model = keras.Sequential([
    layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True),
    layers.LSTM(8),
])
assert tuple(model(padded_inputs).shape) == (3, 8)

inputs = keras.Input(shape=(None,), dtype="int32")
x = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(inputs)
outputs = layers.LSTM(8)(x)
model = keras.Model(inputs, outputs)
out_padded = np.asarray(model(padded_inputs))
# The LSTM skips the padded steps: a padded sequence gives the output of
# the same sequence unpadded.
for i, seq in enumerate(raw_inputs):
    alone = np.asarray(model(np.array([seq])))
    np.testing.assert_allclose(out_padded[i], alone[0], rtol=1e-5, atol=1e-6)


# Passing mask tensors directly to layers.
class MyLayer(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.embedding = layers.Embedding(input_dim=5000, output_dim=16,
                                          mask_zero=True)
        self.lstm = layers.LSTM(8)

    def call(self, inputs):
        x = self.embedding(inputs)
        # Note that you could also prepare a `mask` tensor manually.
        # It only needs to be a boolean tensor
        # with the right shape, i.e. (batch_size, timesteps).
        mask = self.embedding.compute_mask(inputs)
        output = self.lstm(x, mask=mask)  # The layer will ignore the masked values
        return output


layer = MyLayer()
x = np.random.random((8, 10)) * 100
x = x.astype("int32")
assert tuple(layer(x).shape) == (8, 8)
# Same numbers as the LSTM on the masked embeddings, mask passed by hand.
emb = layer.embedding(padded_inputs)
np.testing.assert_allclose(
    np.asarray(layer(padded_inputs)),
    np.asarray(layer.lstm(emb, mask=padded_inputs != 0)), rtol=1e-6)


# Supporting masking in your custom layers.
class TemporalSplit(keras.layers.Layer):
    """Split the input tensor into 2 tensors along the time dimension."""

    def call(self, inputs):
        # Expect the input to be 3D and mask to be 2D, split the input tensor
        # into 2 subtensors along the time axis (axis 1).
        return ops.split(inputs, 2, axis=1)

    def compute_mask(self, inputs, mask=None):
        # Also split the mask into 2 if it presents.
        if mask is None:
            return None
        return ops.split(mask, 2, axis=1)


first_half, second_half = TemporalSplit()(masked_embedding)
np.testing.assert_array_equal(ops.convert_to_numpy(first_half._keras_mask),
                              want_mask[:, :3])
np.testing.assert_array_equal(ops.convert_to_numpy(second_half._keras_mask),
                              want_mask[:, 3:])


class CustomEmbedding(keras.layers.Layer):
    def __init__(self, input_dim, output_dim, mask_zero=False, **kwargs):
        super().__init__(**kwargs)
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.mask_zero = mask_zero

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            shape=(self.input_dim, self.output_dim),
            initializer="random_normal",
            dtype="float32",
        )

    def call(self, inputs):
        inputs = ops.cast(inputs, "int32")
        return ops.take(self.embeddings, inputs, axis=0)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)


layer = CustomEmbedding(10, 32, mask_zero=True)
x = np.random.random((3, 10)) * 9
x = x.astype("int32")
y = layer(x)
mask = layer.compute_mask(x)
np.testing.assert_array_equal(ops.convert_to_numpy(mask), x != 0)
np.testing.assert_array_equal(ops.convert_to_numpy(y._keras_mask), x != 0)


# Opting-in to mask propagation on compatible layers.
class MyActivation(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Signal that the layer is safe for mask propagation
        self.supports_masking = True

    def call(self, inputs):
        return ops.relu(inputs)


inputs = keras.Input(shape=(None,), dtype="int32")
x = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(inputs)
x = MyActivation()(x)  # Will pass the mask along
outputs = layers.LSTM(8)(x)  # Will receive the mask
model = keras.Model(inputs, outputs)
out = np.asarray(model(padded_inputs))
alone = np.asarray(model(np.array([raw_inputs[0]])))
np.testing.assert_allclose(out[0], alone[0], rtol=1e-5, atol=1e-6)


# Writing layers that need mask information.
class TemporalSoftmax(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        assert mask is not None
        broadcast_float_mask = ops.expand_dims(ops.cast(mask, "float32"), -1)
        inputs_exp = ops.exp(inputs) * broadcast_float_mask
        inputs_sum = ops.sum(inputs_exp * broadcast_float_mask, axis=-1,
                             keepdims=True)
        return inputs_exp / inputs_sum


inputs = keras.Input(shape=(None,), dtype="int32")
x = layers.Embedding(input_dim=10, output_dim=32, mask_zero=True)(inputs)
x = layers.Dense(1)(x)
outputs = TemporalSoftmax()(x)
model = keras.Model(inputs, outputs)
data = np.random.randint(0, 10, size=(4, 12))
y = np.asarray(model(data))
# exp(x) * m / sum over the last axis (size 1) of exp(x) * m: 1 where
# unmasked, NaN (0/0) where masked, as the guide's layer computes.
assert y.shape == (4, 12, 1)
np.testing.assert_allclose(y[data != 0], 1.0, rtol=1e-6)
assert np.isnan(y[data == 0]).all()

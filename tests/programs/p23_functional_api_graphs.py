"""The Functional API guide, graph topologies: a toy ResNet with
residual `add` connections, a shared `Embedding`, feature extraction
from every layer's output, a custom layer with `get_config` rebuilt by
`from_config`, and mixing subclassed layers/models with Functional ones.

Source: keras.io/guides/functional_api. Changed: `keras` -> `gkeras`;
16x16 inputs instead of CIFAR-10's 32x32, fewer filters; a small
Functional model instead of VGG19 for feature extraction.
"""
import numpy as np

import gkeras as keras
from gkeras import layers, ops

keras.utils.set_random_seed(23)

inputs = keras.Input(shape=(16, 16, 3), name="img")
x = layers.Conv2D(8, 3, activation="relu")(inputs)
x = layers.Conv2D(16, 3, activation="relu")(x)
block_1_output = layers.MaxPooling2D(3)(x)

x = layers.Conv2D(16, 3, activation="relu", padding="same")(block_1_output)
x = layers.Conv2D(16, 3, activation="relu", padding="same")(x)
block_2_output = layers.add([x, block_1_output])

x = layers.Conv2D(16, 3, activation="relu", padding="same")(block_2_output)
x = layers.Conv2D(16, 3, activation="relu", padding="same")(x)
block_3_output = layers.add([x, block_2_output])

x = layers.Conv2D(16, 3, activation="relu")(block_3_output)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dense(32, activation="relu")(x)
x = layers.Dropout(0.5)(x)
outputs = layers.Dense(10)(x)

model = keras.Model(inputs, outputs, name="toy_resnet")
assert tuple(block_1_output.shape) == (None, 4, 4, 16)
assert len(model.layers) == 15
# The residual adds: each block output is conv(conv(prev)) + prev.
probe = keras.Model(inputs, [block_1_output, block_2_output])
xin = np.random.random((2, 16, 16, 3)).astype("float32")
b1, b2 = [np.asarray(t) for t in probe(xin)]
conv_a, conv_b = model.layers[4], model.layers[5]
np.testing.assert_allclose(b2, np.asarray(conv_b(conv_a(b1))) + b1,
                           rtol=1e-5, atol=1e-6)

x_train = np.random.random((64, 16, 16, 3)).astype("float32")
y_train = np.random.randint(0, 10, 64)
model.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["acc"],
)
h = model.fit(x_train, y_train, batch_size=32, epochs=1,
              validation_split=0.2, verbose=0).history
assert sorted(h) == ["acc", "loss", "val_acc", "val_loss"]

# Shared layers.
shared_embedding = layers.Embedding(1000, 16)
text_input_a = keras.Input(shape=(None,), dtype="int32")
text_input_b = keras.Input(shape=(None,), dtype="int32")
encoded_input_a = shared_embedding(text_input_a)
encoded_input_b = shared_embedding(text_input_b)
m = keras.Model([text_input_a, text_input_b],
                [encoded_input_a, encoded_input_b])
assert len(m.weights) == 1
a, b = m([np.array([[1, 2]]), np.array([[2, 1]])])
np.testing.assert_array_equal(np.asarray(a)[0, ::-1], np.asarray(b)[0])

# Extract and reuse nodes in the graph of layers.
base = keras.Model(inputs, outputs)
features_list = [layer.output for layer in base.layers]
feat_extraction_model = keras.Model(inputs=base.input, outputs=features_list)
feats = feat_extraction_model(xin)
assert len(feats) == 15
np.testing.assert_allclose(np.asarray(feats[-1]), np.asarray(base(xin)),
                           rtol=1e-5, atol=1e-6)


# Extend the API using custom layers.
class CustomDense(layers.Layer):
    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="random_normal",
                                 trainable=True)
        self.b = self.add_weight(shape=(self.units,),
                                 initializer="random_normal",
                                 trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {"units": self.units}


inputs2 = keras.Input((4,))
outputs2 = CustomDense(10)(inputs2)
model = keras.Model(inputs2, outputs2)
config = model.get_config()
new_model = keras.Model.from_config(config,
                                    custom_objects={"CustomDense": CustomDense})
assert new_model.layers[1].units == 10
assert tuple(new_model.output_shape) == (None, 10)

# Mix-and-match API styles.
units = 8
timesteps = 5
input_dim = 3

# Define a Functional model
inputs3 = keras.Input((None, units))
x = layers.GlobalAveragePooling1D()(inputs3)
outputs3 = layers.Dense(1)(x)
model = keras.Model(inputs3, outputs3)


class CustomRNN(layers.Layer):
    def __init__(self):
        super().__init__()
        self.units = units
        self.projection_1 = layers.Dense(units=units, activation="tanh")
        self.projection_2 = layers.Dense(units=units, activation="tanh")
        # Our previously-defined Functional model
        self.classifier = model

    def call(self, inputs):
        outputs = []
        state = ops.zeros(shape=(inputs.shape[0], self.units))
        for t in range(inputs.shape[1]):
            x = inputs[:, t, :]
            h = self.projection_1(x)
            y = h + self.projection_2(state)
            state = y
            outputs.append(y)
        features = ops.stack(outputs, axis=1)
        return self.classifier(features)


rnn_model = CustomRNN()
out = rnn_model(ops.zeros((1, timesteps, input_dim)))
assert tuple(out.shape) == (1, 1)
# Its weights: the two projections' and the nested Functional model's.
assert len(rnn_model.trainable_weights) == 6

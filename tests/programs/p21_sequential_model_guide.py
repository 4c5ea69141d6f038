"""The Sequential model guide: building with a list or `add()`, `pop()`,
deferred building and `weights`, `Input` first, `summary()`, the
incremental `add()` + `summary()` workflow, and feature extraction with a
Functional model on the Sequential's layers.

Source: keras.io/guides/sequential_model. Changed: `keras` -> `gkeras`;
small sizes; the printed values are asserted. Feature extraction
reads `layer.output` of the Sequential's layers (issue 17 defect 1).
"""
import io
import contextlib

import numpy as np

import gkeras as keras
from gkeras import layers, ops

# Define Sequential model with 3 layers
model = keras.Sequential(
    [
        layers.Dense(2, activation="relu", name="layer1"),
        layers.Dense(3, activation="relu", name="layer2"),
        layers.Dense(4, name="layer3"),
    ]
)
# Call model on a test input
x = ops.ones((3, 3))
y = model(x)
assert tuple(y.shape) == (3, 4)

# Create 3 layers, call them in sequence: the same computation.
layer1 = layers.Dense(2, activation="relu", name="layer1")
layer2 = layers.Dense(3, activation="relu", name="layer2")
layer3 = layers.Dense(4, name="layer3")
x = ops.ones((3, 3))
y2 = layer3(layer2(layer1(x)))
assert tuple(y2.shape) == (3, 4)
assert [l.name for l in model.layers] == ["layer1", "layer2", "layer3"]

model = keras.Sequential()
model.add(layers.Dense(2, activation="relu"))
model.add(layers.Dense(3, activation="relu"))
model.add(layers.Dense(4))
model.pop()
assert len(model.layers) == 2

model = keras.Sequential(name="my_sequential")
model.add(layers.Dense(2, activation="relu", name="layer1"))
model.add(layers.Dense(3, activation="relu", name="layer2"))
model.add(layers.Dense(4, name="layer3"))
assert model.name == "my_sequential"

layer = layers.Dense(3)
assert layer.weights == []  # Empty
# Call layer on a test input
x = ops.ones((1, 4))
y = layer(x)
assert [tuple(w.shape) for w in layer.weights] == [(4, 3), (3,)]

model = keras.Sequential(
    [
        layers.Dense(2, activation="relu"),
        layers.Dense(3, activation="relu"),
        layers.Dense(4),
    ]
)  # No weights at this stage!
try:
    model.weights
    unbuilt_weights = len(model.weights)
except ValueError:          # Keras: "Weights for model ... have not yet been created"
    unbuilt_weights = 0
assert unbuilt_weights == 0
# Call the model on a test input
x = ops.ones((1, 4))
y = model(x)
assert len(model.weights) == 6

model = keras.Sequential()
model.add(keras.Input(shape=(4,)))
model.add(layers.Dense(2, activation="relu"))
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    model.summary()
text = buf.getvalue()
assert "dense" in text and "(None, 2)" in text
assert "Total params: 10" in text, text
# The Input object is not displayed as part of model.layers
assert len(model.layers) == 1

model = keras.Sequential()
model.add(keras.Input(shape=(250, 250, 3)))  # 250x250 RGB images
model.add(layers.Conv2D(32, 5, strides=2, activation="relu"))
model.add(layers.Conv2D(32, 3, activation="relu"))
model.add(layers.MaxPooling2D(3))
# Can you guess what the current output shape is at this point? Probably not.
assert tuple(model.output_shape) == (None, 40, 40, 32)
model.add(layers.Conv2D(32, 3, activation="relu"))
model.add(layers.Conv2D(32, 3, activation="relu"))
model.add(layers.MaxPooling2D(3))
model.add(layers.Conv2D(32, 3, activation="relu"))
model.add(layers.Conv2D(32, 3, activation="relu"))
model.add(layers.MaxPooling2D(2))
assert tuple(model.output_shape) == (None, 4, 4, 32)
# Now that we have 4x4 feature maps, time to apply global max pooling.
model.add(layers.GlobalMaxPooling2D())
# Finally, we add a classification layer.
model.add(layers.Dense(10))
assert model.count_params() == (5 * 5 * 3 * 32 + 32) + 5 * (9 * 32 * 32 + 32) \
    + (32 * 10 + 10)

# Feature extraction with a Sequential model.
initial_model = keras.Sequential(
    [
        keras.Input(shape=(25, 25, 3)),
        layers.Conv2D(4, 3, strides=2, activation="relu"),
        layers.Conv2D(4, 3, activation="relu", name="my_intermediate_layer"),
        layers.Conv2D(4, 3, activation="relu"),
    ]
)
feature_extractor = keras.Model(
    inputs=initial_model.inputs,
    outputs=initial_model.get_layer(name="my_intermediate_layer").output,
)
# Call feature extractor on test input.
x = np.random.default_rng(0).random((1, 25, 25, 3)).astype("float32")
features = feature_extractor(x)
want = initial_model.layers[1](initial_model.layers[0](x))
# The model's inference runs its convolutions through the fused path
# (one compiled call a thread), whose float32 sums may round differently
# from the layer-by-layer call's.
np.testing.assert_allclose(np.asarray(features), np.asarray(want),
                           rtol=1e-5, atol=1e-6)

# ... and the guide's form: every layer's output of a Sequential model.
feature_extractor = keras.Model(
    inputs=initial_model.inputs,
    outputs=[layer.output for layer in initial_model.layers],
)
features = feature_extractor(x)
assert [tuple(f.shape) for f in features] == [(1, 12, 12, 4), (1, 10, 10, 4),
                                              (1, 8, 8, 4)]
np.testing.assert_allclose(np.asarray(features[-1]),
                           np.asarray(initial_model(x)), rtol=1e-6)

# Transfer learning with a Sequential model: freeze all but the last.
model = keras.Sequential([
    keras.Input(shape=(784,)),
    layers.Dense(32, activation="relu"),
    layers.Dense(32, activation="relu"),
    layers.Dense(32, activation="relu"),
    layers.Dense(10),
])
for layer in model.layers[:-1]:
    layer.trainable = False
assert len(model.trainable_weights) == 2
assert len(model.non_trainable_weights) == 6

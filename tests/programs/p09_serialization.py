"""Save, serialize and export: the `.keras` format with custom objects
registered by `register_keras_serializable`, passed as `custom_objects`
or through `custom_object_scope`; `get_config`/`from_config`; config-only
(`to_json`/`model_from_json`) and weights-only saving; the automatic
config of a custom layer with plain constructor arguments.

Source: keras.io/guides/serialization_and_saving. Changed: `keras` ->
`gkeras`; small data.
"""
import os
import tempfile

import numpy as np

import gkeras as keras
from gkeras import ops

tmp = tempfile.mkdtemp()


@keras.saving.register_keras_serializable(package="my_package",
                                          name="custom_fn")
def custom_fn(x):
    return x**2


@keras.saving.register_keras_serializable(package="MyLayers")
class CustomLayer(keras.layers.Layer):
    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor})
        return config


@keras.saving.register_keras_serializable(package="my_package",
                                          name="MyDense")
class MyDense(keras.layers.Layer):
    def __init__(self, units, *, kernel_regularizer=None,
                 kernel_initializer=None, nested_model=None, **kwargs):
        super().__init__(**kwargs)
        self.hidden_units = units
        self.kernel_regularizer = kernel_regularizer
        self.kernel_initializer = kernel_initializer
        self.nested_model = nested_model

    def get_config(self):
        config = super().get_config()
        # Update the config with the custom layer's parameters
        config.update({
            "units": self.hidden_units,
            "kernel_regularizer": self.kernel_regularizer,
            "kernel_initializer": self.kernel_initializer,
            "nested_model": self.nested_model,
        })
        return config

    def build(self, input_shape):
        input_units = input_shape[-1]
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_units, self.hidden_units),
            regularizer=self.kernel_regularizer,
            initializer=self.kernel_initializer,
        )

    def call(self, inputs):
        return ops.matmul(inputs, self.kernel)


assert keras.saving.get_registered_name(CustomLayer) == "MyLayers>CustomLayer"
assert keras.saving.get_registered_object("my_package>custom_fn") is custom_fn

layer = MyDense(units=16, kernel_regularizer="l1", kernel_initializer="ones")
layer3 = MyDense(units=16, nested_model=keras.Sequential(
    [keras.layers.Dense(4)]))
config = keras.layers.serialize(layer)
assert config["class_name"] == "MyDense" or \
    config.get("registered_name") == "my_package>MyDense", config
new_layer = keras.layers.deserialize(config)
assert isinstance(new_layer, MyDense) and new_layer.hidden_units == 16
assert new_layer.kernel_regularizer == "l1"

# Create the model.
def get_model():
    inputs = keras.Input(shape=(4,))
    mid = CustomLayer(0.5)(inputs)
    outputs = keras.layers.Dense(1, activation=custom_fn)(mid)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="rmsprop", loss="mean_squared_error")
    return model


rng = np.random.default_rng(0)
x = rng.random((32, 4)).astype("float32")
y = rng.random((32, 1)).astype("float32")
model = get_model()
model.fit(x, y, verbose=0)
ref = model.predict(x, verbose=0)
# The model's math, in NumPy: (0.5 x @ W + b) ** 2
w, b = model.layers[2].get_weights()
np.testing.assert_allclose(ref, (0.5 * x @ w + b) ** 2, rtol=1e-5, atol=1e-7)

# Saving the model
path = os.path.join(tmp, "custom_model.keras")
model.save(path)
# Upon loading, the registered custom objects come back by name...
reconstructed_model = keras.models.load_model(path)
np.testing.assert_allclose(reconstructed_model.predict(x, verbose=0), ref,
                           rtol=1e-6)
# ...and training resumes from the same optimizer state.
model.fit(x, y, verbose=0, shuffle=False)
reconstructed_model.fit(x, y, verbose=0, shuffle=False)
np.testing.assert_allclose(reconstructed_model.predict(x, verbose=0),
                           model.predict(x, verbose=0), rtol=1e-5)


# Passing custom objects explicitly, and with a scope.
class Unregistered(keras.layers.Layer):
    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, x):
        return x * self.scale

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


inputs = keras.Input(shape=(4,))
model2 = keras.Model(inputs, Unregistered(3.0)(keras.layers.Dense(2)(inputs)))
path2 = os.path.join(tmp, "unregistered.keras")
model2.save(path2)
ref2 = model2.predict(x, verbose=0)
try:
    keras.models.load_model(path2)
except Exception as e:   # Keras: "Could not locate class 'Unregistered'"
    assert "Unregistered" in str(e), e
else:
    raise AssertionError("loading an unknown class should fail")
loaded = keras.models.load_model(path2,
                                 custom_objects={"Unregistered": Unregistered})
np.testing.assert_allclose(loaded.predict(x, verbose=0), ref2, rtol=1e-6)
with keras.saving.custom_object_scope({"Unregistered": Unregistered}):
    loaded = keras.models.load_model(path2)
np.testing.assert_allclose(loaded.predict(x, verbose=0), ref2, rtol=1e-6)

# Config-only: same architecture, fresh weights.
json_config = model.to_json()
new_model = keras.models.model_from_json(json_config)
assert [type(l).__name__ for l in new_model.layers] == [
    "InputLayer", "CustomLayer", "Dense"]
assert new_model.layers[1].factor == 0.5

# Weights-only saving.
weights_path = os.path.join(tmp, "model.weights.h5")
model.save_weights(weights_path)
new_model.load_weights(weights_path)
np.testing.assert_allclose(new_model.predict(x, verbose=0),
                           model.predict(x, verbose=0), rtol=1e-6)

# Keras 3 writes the config of a custom layer whose constructor takes only
# plain values by itself: no get_config needed.
@keras.saving.register_keras_serializable(package="auto")
class Scale(keras.layers.Layer):
    def __init__(self, factor=1.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor


inputs = keras.Input(shape=(4,))
model3 = keras.Model(inputs, Scale(2.5)(keras.layers.Dense(2)(inputs)))
assert model3.layers[2].get_config()["factor"] == 2.5
path3 = os.path.join(tmp, "auto_config.keras")
model3.save(path3)
loaded3 = keras.models.load_model(path3)
assert loaded3.layers[2].factor == 2.5
np.testing.assert_allclose(loaded3.predict(x, verbose=0),
                           model3.predict(x, verbose=0), rtol=1e-6)

# Layer weights transfer between two layers of the same config.
def create_layer():
    layer = keras.layers.Dense(64, activation="relu", name="dense_2")
    layer.build((None, 784))
    return layer


layer_1 = create_layer()
layer_2 = create_layer()
layer_2.set_weights(layer_1.get_weights())
for a, b in zip(layer_1.get_weights(), layer_2.get_weights()):
    np.testing.assert_array_equal(a, b)

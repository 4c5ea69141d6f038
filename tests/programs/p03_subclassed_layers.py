"""Making new layers and models via subclassing: weights, non-trainable
weights, deferred build, nested layers, `add_loss`, `training` and masks,
and `get_config`/`from_config`.

Source: keras.io/guides/making_new_layers_and_models_via_subclassing.
Changed: `keras` -> `gkeras`; small inputs.
"""
import numpy as np

import gkeras as keras
from gkeras import layers, ops


class Linear(keras.layers.Layer):
    def __init__(self, units=32, input_dim=32):
        super().__init__()
        self.w = self.add_weight(shape=(input_dim, units),
                                 initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(units,), initializer="zeros",
                                 trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


x = ops.ones((2, 2))
linear_layer = Linear(4, 2)
y = linear_layer(x)
np.testing.assert_allclose(
    ops.convert_to_numpy(y),
    np.ones((2, 2)) @ ops.convert_to_numpy(linear_layer.w)
    + ops.convert_to_numpy(linear_layer.b), rtol=1e-6)
assert linear_layer.weights == [linear_layer.w, linear_layer.b]


class ComputeSum(keras.layers.Layer):
    def __init__(self, input_dim):
        super().__init__()
        self.total = self.add_weight(initializer="zeros", shape=(input_dim,),
                                     trainable=False)

    def call(self, inputs):
        self.total.assign_add(ops.sum(inputs, axis=0))
        return self.total


x = ops.ones((2, 2))
my_sum = ComputeSum(2)
y = my_sum(x)
np.testing.assert_allclose(ops.convert_to_numpy(y), [2.0, 2.0])
y = my_sum(x)
np.testing.assert_allclose(ops.convert_to_numpy(y), [4.0, 4.0])
assert len(my_sum.weights) == 1
assert len(my_sum.non_trainable_weights) == 1
assert my_sum.trainable_weights == []


class Linear2(keras.layers.Layer):
    """Deferred weight creation: `build` sees the input shape."""

    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,),
                                 initializer="random_normal", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config


linear_layer = Linear2(32)
assert not linear_layer.built
y = linear_layer(np.ones((2, 7), "float32"))
assert linear_layer.built and tuple(linear_layer.w.shape) == (7, 32)
config = linear_layer.get_config()
assert config["units"] == 32 and config["name"] == linear_layer.name
new_layer = Linear2.from_config(config)
assert new_layer.units == 32 and new_layer.name == linear_layer.name


class MLPBlock(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.linear_1 = Linear2(32)
        self.linear_2 = Linear2(32)
        self.linear_3 = Linear2(1)

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = keras.activations.relu(x)
        x = self.linear_2(x)
        x = keras.activations.relu(x)
        return self.linear_3(x)


mlp = MLPBlock()
y = mlp(ops.ones(shape=(3, 64)))
assert tuple(y.shape) == (3, 1)
assert len(mlp.weights) == 6 and len(mlp.trainable_weights) == 6


class ActivityRegularizationLayer(keras.layers.Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.mean(inputs))
        return inputs


class OuterLayer(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.activity_reg = ActivityRegularizationLayer(1e-2)

    def call(self, inputs):
        return self.activity_reg(inputs)


layer = OuterLayer()
assert len(layer.losses) == 0
_ = layer(ops.zeros((1, 1)))
assert len(layer.losses) == 1          # created during the call
_ = layer(ops.zeros((1, 1)))
assert len(layer.losses) == 1          # reset at the start of each call
data = np.arange(6, dtype="float32").reshape(2, 3)
_ = layer(data)
np.testing.assert_allclose(float(ops.convert_to_numpy(layer.losses[0])),
                           1e-2 * data.mean(), rtol=1e-6)


class OuterLayerWithKernelRegularizer(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(
            32, kernel_regularizer=keras.regularizers.l2(1e-3))

    def call(self, inputs):
        return self.dense(inputs)


layer = OuterLayerWithKernelRegularizer()
_ = layer(ops.zeros((1, 1)))
assert len(layer.losses) == 1
kernel = ops.convert_to_numpy(layer.dense.kernel).astype("float64")
np.testing.assert_allclose(float(ops.convert_to_numpy(layer.losses[0])),
                           1e-3 * (kernel ** 2).sum(), rtol=1e-5)

# The added losses join the compiled loss in fit.
inputs = keras.Input(shape=(3,))
outputs = ActivityRegularizationLayer()(inputs)
model = keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss="mse")
model.fit(np.random.random((2, 3)), np.random.random((2, 3)), verbose=0)
# With no compiled loss, only the added loss is minimised.
model.compile(optimizer="adam")
model.fit(np.random.random((2, 3)), np.random.random((2, 3)), verbose=0)


class CustomDropout(keras.layers.Layer):
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs, training=None):
        if training:
            return keras.random.dropout(inputs, rate=self.rate,
                                        seed=self.seed_generator)
        return inputs


drop = CustomDropout(0.5)
ones = np.ones((100, 100), "float32")
np.testing.assert_array_equal(ops.convert_to_numpy(drop(ones)), ones)
dropped = ops.convert_to_numpy(drop(ones, training=True))
assert set(np.unique(dropped)) <= {0.0, 2.0}
assert 0.4 < (dropped == 0).mean() < 0.6

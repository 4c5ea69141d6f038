"""Writing a training loop from scratch: a `GradientTape` over the forward
pass, `optimizer.apply`, metrics updated and reset by hand, a validation
loop, and a loss added by a layer (`add_loss`) included in the loop.

Source: keras.io/guides/writing_a_custom_training_loop_in_tensorflow.
Changed: `keras` -> `gkeras`, `tf.GradientTape` -> `gkeras.GradientTape`;
batches sliced from NumPy arrays instead of a `tf.data.Dataset`; 8x8
synthetic digits instead of MNIST.

Keras reference: none (TensorFlow-style GradientTape).
"""
import numpy as np

import gkeras as keras
from gkeras import GradientTape, ops

keras.utils.set_random_seed(4)


def get_model():
    inputs = keras.Input(shape=(64,), name="digits")
    x1 = keras.layers.Dense(32, activation="relu")(inputs)
    x2 = keras.layers.Dense(32, activation="relu")(x1)
    outputs = keras.layers.Dense(4, name="predictions")(x2)
    model = keras.Model(inputs=inputs, outputs=outputs)
    return model


model = get_model()
# Instantiate an optimizer.
optimizer = keras.optimizers.Adam(learning_rate=1e-2)
# Instantiate a loss function.
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
# Prepare the metrics.
train_acc_metric = keras.metrics.SparseCategoricalAccuracy()
val_acc_metric = keras.metrics.SparseCategoricalAccuracy()

rng = np.random.default_rng(4)
y = rng.integers(0, 4, 320)
x = rng.random((320, 8, 8)).astype("float32") * 0.5
for i, c in enumerate(y):
    x[i, 2 * c:2 * c + 2] += 1.0
x = x.reshape(-1, 64)
x_train, y_train, x_val, y_val = x[:256], y[:256], x[256:], y[256:]
batch_size = 32


def batches(x, y):
    for i in range(0, len(x), batch_size):
        yield x[i:i + batch_size], y[i:i + batch_size]


epochs = 3
epoch_losses = []
for epoch in range(epochs):
    losses = []
    # Iterate over the batches of the dataset.
    for step, (x_batch_train, y_batch_train) in enumerate(
            batches(x_train, y_train)):
        # Open a GradientTape to record the operations run
        # during the forward pass, which enables auto-differentiation.
        with GradientTape() as tape:
            # Run the forward pass of the layer.
            logits = model(x_batch_train, training=True)
            # Compute the loss value for this minibatch.
            loss_value = loss_fn(y_batch_train, logits)
        # Use the gradient tape to automatically retrieve
        # the gradients of the trainable variables with respect to the loss.
        grads = tape.gradient(loss_value, model.trainable_weights)
        # Run one step of gradient descent by updating
        # the value of the variables to minimize the loss.
        optimizer.apply(grads, model.trainable_weights)
        # Update training metric.
        train_acc_metric.update_state(y_batch_train, logits)
        losses.append(float(loss_value))
    epoch_losses.append(np.mean(losses))
    train_acc = train_acc_metric.result()
    # Reset training metrics at the end of each epoch
    train_acc_metric.reset_state()
    # Run a validation loop at the end of each epoch.
    for x_batch_val, y_batch_val in batches(x_val, y_val):
        val_logits = model(x_batch_val, training=False)
        # Update val metrics
        val_acc_metric.update_state(y_batch_val, val_logits)
    val_acc = val_acc_metric.result()
    val_acc_metric.reset_state()

assert epoch_losses[-1] < 0.5 * epoch_losses[0], epoch_losses
assert float(val_acc) > 0.9, val_acc
assert int(optimizer.iterations.numpy()) == epochs * 8
# The metric agrees with NumPy on the final model.
logits = ops.convert_to_numpy(model(x_val))
np.testing.assert_allclose(float(val_acc), np.mean(logits.argmax(1) == y_val))


# Low-level handling of losses tracked by the model.
class ActivityRegularizationLayer(keras.layers.Layer):
    def call(self, inputs):
        self.add_loss(1e-2 * ops.sum(inputs))
        return inputs


inputs = keras.Input(shape=(64,), name="digits")
x1 = keras.layers.Dense(32, activation="relu")(inputs)
# Insert activity regularization as a layer
x = ActivityRegularizationLayer()(x1)
x = keras.layers.Dense(32, activation="relu")(x)
outputs = keras.layers.Dense(4, name="predictions")(x)
model = keras.Model(inputs=inputs, outputs=outputs)
optimizer = keras.optimizers.SGD(learning_rate=0.1)

xb, yb = x_train[:32], y_train[:32]
with GradientTape() as tape:
    logits = model(xb, training=True)
    loss_value = loss_fn(yb, logits)
    # Add any extra losses created during the forward pass.
    loss_value += sum(model.losses)
grads = tape.gradient(loss_value, model.trainable_weights)
assert len(model.losses) == 1
# The added loss is 1e-2 * sum(relu(x W1 + b1)), computed in NumPy.
w1, b1 = [ops.convert_to_numpy(v).astype("float64")
          for v in model.layers[1].weights]
h1 = np.maximum(xb @ w1 + b1, 0)
np.testing.assert_allclose(float(ops.convert_to_numpy(model.losses[0])),
                           1e-2 * h1.sum(), rtol=1e-4)
optimizer.apply(grads, model.trainable_weights)

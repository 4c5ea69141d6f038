"""Variational autoencoder with a custom `train_step`, a `Sampling` layer
using a `SeedGenerator`, and loss trackers listed in `metrics`.

Source: keras.io/examples/generative/vae (TensorFlow version of its
train_step). Changed: `keras` -> `gkeras`, `tf.GradientTape` ->
`gkeras.GradientTape` (gkeras's own autograd, Keras 3 has a tape only
under TensorFlow); 12x12 synthetic "digits" (two bar patterns) instead
of MNIST; smaller layers.

Keras reference: none (TensorFlow-style GradientTape).
"""
import numpy as np

import gkeras as keras
from gkeras import GradientTape, layers, ops


class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = ops.shape(z_mean)[0]
        dim = ops.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim),
                                      seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


latent_dim = 2

encoder_inputs = keras.Input(shape=(12, 12, 1))
x = layers.Conv2D(8, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
x = layers.Conv2D(16, 3, activation="relu", strides=2, padding="same")(x)
x = layers.Flatten()(x)
x = layers.Dense(16, activation="relu")(x)
z_mean = layers.Dense(latent_dim, name="z_mean")(x)
z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
z = Sampling()([z_mean, z_log_var])
encoder = keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")

latent_inputs = keras.Input(shape=(latent_dim,))
x = layers.Dense(3 * 3 * 16, activation="relu")(latent_inputs)
x = layers.Reshape((3, 3, 16))(x)
x = layers.Conv2DTranspose(16, 3, activation="relu", strides=2, padding="same")(x)
x = layers.Conv2DTranspose(8, 3, activation="relu", strides=2, padding="same")(x)
decoder_outputs = layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)
decoder = keras.Model(latent_inputs, decoder_outputs, name="decoder")
assert tuple(decoder.output_shape) == (None, 12, 12, 1)


class VAE(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(
            name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker,
                self.kl_loss_tracker]

    def train_step(self, data):
        with GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data)
            reconstruction = self.decoder(z)
            reconstruction_loss = ops.mean(ops.sum(
                keras.losses.binary_crossentropy(data, reconstruction),
                axis=(1, 2)))
            kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean)
                              - ops.exp(z_log_var))
            kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
            total_loss = reconstruction_loss + kl_loss
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {
            "loss": self.total_loss_tracker.result(),
            "reconstruction_loss": self.reconstruction_loss_tracker.result(),
            "kl_loss": self.kl_loss_tracker.result(),
        }


rng = np.random.default_rng(0)
digits = np.zeros((64, 12, 12, 1), "float32")
for i in range(64):
    if i % 2:
        digits[i, 2:10, 5:7] = 1.0       # a "1"
    else:
        digits[i, 5:7, 2:10] = 1.0       # a "-"
digits = np.clip(digits + 0.05 * rng.random(digits.shape), 0, 1).astype("float32")

def mean_image_error():
    z_mean_pred, _, _ = encoder.predict(digits, verbose=0)
    decoded = decoder.predict(z_mean_pred, verbose=0)
    assert decoded.shape == digits.shape
    return np.abs(decoded.mean(0) - digits.mean(0)).mean()


err_before = mean_image_error()
vae = VAE(encoder, decoder)
vae.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2))
history = vae.fit(digits, epochs=6, batch_size=16, verbose=0)
h = history.history
assert sorted(h) == ["kl_loss", "loss", "reconstruction_loss"]
assert h["loss"][-1] < 0.8 * h["loss"][0], h["loss"]
np.testing.assert_allclose(h["loss"],
                           np.add(h["reconstruction_loss"], h["kl_loss"]),
                           rtol=1e-4)
# Early in training a VAE on two shapes decodes towards their mean image
# (the KL term keeps the posterior near the prior): check against NumPy.
err = mean_image_error()
assert err < 0.6 * err_before, (err, err_before)

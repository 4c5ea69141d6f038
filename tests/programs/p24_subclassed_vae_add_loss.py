"""Making new layers and models via subclassing, the end-to-end example:
a variational autoencoder built from nested `Layer` subclasses, a
`Model` subclass that adds its KL term with `add_loss`, trained with
`compile(optimizer, loss=MeanSquaredError())` + `fit`; then the model's
`get_config`, saved as `.keras` and reloaded.

Source: keras.io/guides/making_new_layers_and_models_via_subclassing
("Putting it all together"), with the saving part from
keras.io/guides/serialization_and_saving. Changed: `keras` -> `gkeras`;
64-dimensional synthetic data instead of MNIST's 784, fewer epochs.
"""
import os
import tempfile

import numpy as np

import gkeras as keras
from gkeras import layers, ops

keras.utils.set_random_seed(24)


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


class Encoder(layers.Layer):
    """Maps MNIST digits to a triplet (z_mean, z_log_var, z)."""

    def __init__(self, latent_dim=32, intermediate_dim=64, name="encoder",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_mean = layers.Dense(latent_dim)
        self.dense_log_var = layers.Dense(latent_dim)
        self.sampling = Sampling()

    def call(self, inputs):
        x = self.dense_proj(inputs)
        z_mean = self.dense_mean(x)
        z_log_var = self.dense_log_var(x)
        z = self.sampling((z_mean, z_log_var))
        return z_mean, z_log_var, z


class Decoder(layers.Layer):
    """Converts z, the encoded digit vector, back into a readable digit."""

    def __init__(self, original_dim, intermediate_dim=64, name="decoder",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_output = layers.Dense(original_dim, activation="sigmoid")

    def call(self, inputs):
        x = self.dense_proj(inputs)
        return self.dense_output(x)


@keras.saving.register_keras_serializable(package="guide")
class VariationalAutoEncoder(keras.Model):
    """Combines the encoder and decoder into an end-to-end model for
    training."""

    def __init__(self, original_dim, intermediate_dim=64, latent_dim=32,
                 name="autoencoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.original_dim = original_dim
        self.intermediate_dim = intermediate_dim
        self.latent_dim = latent_dim
        self.encoder = Encoder(latent_dim=latent_dim,
                               intermediate_dim=intermediate_dim)
        self.decoder = Decoder(original_dim,
                               intermediate_dim=intermediate_dim)

    def call(self, inputs):
        z_mean, z_log_var, z = self.encoder(inputs)
        reconstructed = self.decoder(z)
        # Add KL divergence regularization loss.
        kl_loss = -0.5 * ops.mean(
            z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
        self.add_loss(kl_loss)
        return reconstructed

    def get_config(self):
        return {"original_dim": self.original_dim,
                "intermediate_dim": self.intermediate_dim,
                "latent_dim": self.latent_dim, "name": self.name}


rng = np.random.default_rng(24)
prototypes = (rng.random((4, 64)) > 0.5).astype("float32")
x_train = prototypes[rng.integers(0, 4, 256)]
x_train = np.clip(x_train + 0.1 * rng.normal(size=x_train.shape), 0, 1)
x_train = x_train.astype("float32")

original_dim = 64
vae = VariationalAutoEncoder(original_dim, 32, 8)
optimizer = keras.optimizers.Adam(learning_rate=3e-3)
vae.compile(optimizer, loss=keras.losses.MeanSquaredError())

history = vae.fit(x_train, x_train, epochs=4, batch_size=64, verbose=0)
losses = history.history["loss"]
assert losses[-1] < 0.75 * losses[0], losses
# A call records the KL term of that call (the encoder's sampling does
# not enter it): check it in NumPy.
_ = vae(x_train[:64])
assert len(vae.losses) == 1
z_mean, z_log_var, _ = [np.asarray(t).astype("float64")
                        for t in vae.encoder(x_train[:64])]
np.testing.assert_allclose(
    float(ops.convert_to_numpy(vae.losses[0])),
    -0.5 * np.mean(z_log_var - z_mean ** 2 - np.exp(z_log_var) + 1),
    rtol=1e-4, atol=1e-7)
# 4 trainable Dense layers in the encoder (3) and decoder (2): 10 weights.
assert len(vae.trainable_weights) == 10

path = os.path.join(tempfile.mkdtemp(), "vae.keras")
vae.save(path)
restored = keras.models.load_model(path)
assert isinstance(restored, VariationalAutoEncoder)
assert (restored.original_dim, restored.intermediate_dim,
        restored.latent_dim) == (64, 32, 8)
# The deterministic path (z_mean -> decoder) gives the same numbers.
z1 = vae.encoder(x_train[:8])[0]
z2 = restored.encoder(x_train[:8])[0]
np.testing.assert_allclose(np.asarray(z1), np.asarray(z2), rtol=1e-6)
np.testing.assert_allclose(np.asarray(vae.decoder(z1)),
                           np.asarray(restored.decoder(z2)), rtol=1e-6)

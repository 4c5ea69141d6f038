"""A GAN whose `train_step` trains a discriminator and a generator with
two optimizers, with a custom `compile` and random draws from a
`SeedGenerator`.

Source: keras.io/guides/custom_train_step_in_tensorflow ("Wrapping up: an
end-to-end GAN example"). Changed: `keras` -> `gkeras`, `tf.GradientTape`
-> `gkeras.GradientTape`, `tf.shape/concat/ones/zeros` -> their
`keras.ops` names; 8x8 synthetic images (a bright square) instead of
MNIST, smaller layers.

Keras reference: none (TensorFlow-style GradientTape).
"""
import numpy as np

import gkeras as keras
from gkeras import GradientTape, layers, ops

discriminator = keras.Sequential(
    [
        keras.Input(shape=(8, 8, 1)),
        layers.Conv2D(16, (3, 3), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2D(32, (3, 3), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.GlobalMaxPooling2D(),
        layers.Dense(1),
    ],
    name="discriminator",
)
latent_dim = 8
generator = keras.Sequential(
    [
        keras.Input(shape=(latent_dim,)),
        layers.Dense(2 * 2 * 16),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Reshape((2, 2, 16)),
        layers.Conv2DTranspose(16, (4, 4), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2DTranspose(16, (4, 4), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2D(1, (3, 3), padding="same", activation="sigmoid"),
    ],
    name="generator",
)
assert tuple(generator.output_shape) == (None, 8, 8, 1)


class GAN(keras.Model):
    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.seed_generator = keras.random.SeedGenerator(1337)

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn

    def train_step(self, real_images):
        if isinstance(real_images, tuple):
            real_images = real_images[0]
        # Sample random points in the latent space
        batch_size = ops.shape(real_images)[0]
        random_latent_vectors = keras.random.normal(
            shape=(batch_size, self.latent_dim), seed=self.seed_generator)
        # Decode them to fake images
        generated_images = self.generator(random_latent_vectors)
        # Combine them with real images
        combined_images = ops.concatenate([generated_images, real_images],
                                          axis=0)
        # Assemble labels discriminating real from fake images
        labels = ops.concatenate(
            [ops.ones((batch_size, 1)), ops.zeros((batch_size, 1))], axis=0)
        # Add random noise to the labels - important trick!
        labels += 0.05 * keras.random.uniform(ops.shape(labels),
                                              seed=self.seed_generator)
        # Train the discriminator
        with GradientTape() as tape:
            predictions = self.discriminator(combined_images)
            d_loss = self.loss_fn(labels, predictions)
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(
            zip(grads, self.discriminator.trainable_weights))
        # Sample random points in the latent space
        random_latent_vectors = keras.random.normal(
            shape=(batch_size, self.latent_dim), seed=self.seed_generator)
        # Assemble labels that say "all real images"
        misleading_labels = ops.zeros((batch_size, 1))
        # Train the generator (note that we should *not* update the weights
        # of the discriminator)!
        with GradientTape() as tape:
            predictions = self.discriminator(
                self.generator(random_latent_vectors))
            g_loss = self.loss_fn(misleading_labels, predictions)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(
            zip(grads, self.generator.trainable_weights))
        # Update metrics and return their value.
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(),
                "g_loss": self.g_loss_tracker.result()}


rng = np.random.default_rng(0)
real = np.zeros((64, 8, 8, 1), "float32")
real[:, 2:6, 2:6] = 1.0
real += 0.05 * rng.random(real.shape).astype("float32")
real = np.clip(real, 0, 1)

gan = GAN(discriminator=discriminator, generator=generator,
          latent_dim=latent_dim)
gan.compile(
    d_optimizer=keras.optimizers.Adam(learning_rate=0.005),
    g_optimizer=keras.optimizers.Adam(learning_rate=0.005),
    loss_fn=keras.losses.BinaryCrossentropy(from_logits=True),
)
g_before = generator.predict(rng.normal(size=(32, latent_dim)), verbose=0)
d_weights = [w.copy() for w in discriminator.get_weights()]
history = gan.fit(real, epochs=5, batch_size=16, verbose=0)

h = history.history
assert sorted(h) == ["d_loss", "g_loss"] and len(h["d_loss"]) == 5
assert all(np.isfinite(h["d_loss"])) and all(np.isfinite(h["g_loss"]))
# Each optimizer stepped once per batch, on its own model's weights only.
assert int(gan.d_optimizer.iterations.numpy()) == 20
assert int(gan.g_optimizer.iterations.numpy()) == 20
assert len(gan.d_optimizer.variables) != len(gan.g_optimizer.variables)
assert any(np.abs(a - b).max() > 0 for a, b in
           zip(d_weights, discriminator.get_weights()))
# The generator moved its samples towards the real images.
g_after = generator.predict(rng.normal(size=(32, latent_dim)), verbose=0)
err = lambda g: np.abs(g.mean(0) - real.mean(0)).mean()
assert err(g_after) < 0.7 * err(g_before), (err(g_after), err(g_before))

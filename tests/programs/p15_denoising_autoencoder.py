"""Convolutional autoencoder for image denoising: Conv2D/MaxPooling2D
encoder, Conv2DTranspose decoder, first trained to reconstruct, then to
denoise.

Source: keras.io/examples/vision/autoencoder. Changed: `keras` ->
`gkeras`; 12x12 synthetic images (random bars) instead of 28x28 MNIST,
32 filters -> 8, fewer epochs.
"""
import numpy as np

import gkeras as keras
from gkeras import layers

keras.utils.set_random_seed(2)
rng = np.random.default_rng(2)


def make_images(n):
    x = np.zeros((n, 12, 12, 1), "float32")
    for i in range(n):
        r = rng.integers(0, 10)
        if rng.random() < 0.5:
            x[i, r:r + 3, :] = 1.0
        else:
            x[i, :, r:r + 3] = 1.0
    return x


def noise(array):
    """Adds random noise to each image in the supplied array."""
    noise_factor = 0.4
    noisy_array = array + noise_factor * rng.normal(
        loc=0.0, scale=1.0, size=array.shape)
    return np.clip(noisy_array, 0.0, 1.0).astype("float32")


train_data = make_images(64)
test_data = make_images(32)
noisy_train_data = noise(train_data)
noisy_test_data = noise(test_data)

input = layers.Input(shape=(12, 12, 1))
# Encoder
x = layers.Conv2D(8, (3, 3), activation="relu", padding="same")(input)
x = layers.MaxPooling2D((2, 2), padding="same")(x)
x = layers.Conv2D(8, (3, 3), activation="relu", padding="same")(x)
x = layers.MaxPooling2D((2, 2), padding="same")(x)
# Decoder
x = layers.Conv2DTranspose(8, (3, 3), strides=2, activation="relu",
                           padding="same")(x)
x = layers.Conv2DTranspose(8, (3, 3), strides=2, activation="relu",
                           padding="same")(x)
x = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)

# Autoencoder
autoencoder = keras.Model(input, x)
autoencoder.compile(optimizer=keras.optimizers.Adam(0.01),
                    loss="binary_crossentropy")
assert [tuple(l.output.shape) for l in autoencoder.layers[1:]] == [
    (None, 12, 12, 8), (None, 6, 6, 8), (None, 6, 6, 8), (None, 3, 3, 8),
    (None, 6, 6, 8), (None, 12, 12, 8), (None, 12, 12, 1)]
# Parameters, counted by hand: conv 3*3*in*out + out.
assert autoencoder.count_params() == (9 * 8 + 8) + (9 * 64 + 8) * 3 + (9 * 8 + 1)

h1 = autoencoder.fit(x=train_data, y=train_data, epochs=6, batch_size=16,
                     shuffle=True, validation_data=(test_data, test_data),
                     verbose=0).history
assert h1["val_loss"][-1] < 0.8 * h1["val_loss"][0], h1

# Denoising: noisy inputs, clean targets.
before = np.mean((autoencoder.predict(noisy_test_data, verbose=0)
                  - test_data) ** 2)
autoencoder.fit(x=noisy_train_data, y=train_data, epochs=6, batch_size=16,
                shuffle=True, validation_data=(noisy_test_data, test_data),
                verbose=0)
denoised = autoencoder.predict(noisy_test_data, verbose=0)
after = np.mean((denoised - test_data) ** 2)
assert after < before, (after, before)
# The output is closer to the clean images than the noisy input was.
assert after < np.mean((noisy_test_data - test_data) ** 2)

"""Image classification from scratch: images on disk read by
`image_dataset_from_directory` (training and validation subsets from one
call), data augmentation layers inside the model, a small Xception-style
network (SeparableConv2D, BatchNormalization, residual projections), and
inference on one image loaded with `load_img`/`img_to_array`.

Source: keras.io/examples/vision/image_classification_from_scratch.
Changed: `keras` -> `gkeras`; 24x24 PNGs of synthetic "cats" (a bright
disc) and "dogs" (a bright square) written to a temporary folder instead
of the Kaggle download, narrower layers, 3 epochs.

Keras reference: none (Keras's image_dataset_from_directory requires
TensorFlow).
"""
import os
import tempfile

import numpy as np
from PIL import Image

import gkeras as keras
from gkeras import layers

keras.utils.set_random_seed(27)
rng = np.random.default_rng(27)
root = os.path.join(tempfile.mkdtemp(), "PetImages")
yy, xx = np.mgrid[:24, :24]
for label in ("Cat", "Dog"):
    os.makedirs(os.path.join(root, label))
    for i in range(48):
        img = rng.integers(0, 80, (24, 24, 3))
        cy, cx = rng.integers(8, 16, 2)
        if label == "Cat":
            shape = (yy - cy) ** 2 + (xx - cx) ** 2 < 30
        else:
            shape = (abs(yy - cy) < 5) & (abs(xx - cx) < 5)
        img[shape] += 150
        Image.fromarray(img.astype("uint8")).save(
            os.path.join(root, label, f"{i}.png"))

image_size = (24, 24)
batch_size = 16
train_ds, val_ds = keras.utils.image_dataset_from_directory(
    root,
    validation_split=0.2,
    subset="both",
    seed=1337,
    image_size=image_size,
    batch_size=batch_size,
)
assert train_ds.class_names == ["Cat", "Dog"]
n_train = sum(int(np.asarray(y).shape[0]) for _, y in train_ds)
n_val = sum(int(np.asarray(y).shape[0]) for _, y in val_ds)
assert (n_train, n_val) == (77, 19), (n_train, n_val)
images, labels = next(iter(train_ds))
assert np.asarray(images).shape == (batch_size, 24, 24, 3)
assert np.asarray(images).dtype == np.float32

data_augmentation_layers = [
    layers.RandomFlip("horizontal"),
    layers.RandomRotation(0.1),
]


def data_augmentation(images):
    for layer in data_augmentation_layers:
        images = layer(images)
    return images


def make_model(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    x = data_augmentation(inputs)

    # Entry block
    x = layers.Rescaling(1.0 / 255)(x)
    x = layers.Conv2D(16, 3, strides=2, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)

    previous_block_activation = x  # Set aside residual

    for size in [32]:
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)

        # Project residual
        residual = layers.Conv2D(size, 1, strides=2, padding="same")(
            previous_block_activation)
        x = layers.add([x, residual])  # Add back residual
        previous_block_activation = x  # Set aside next residual

    x = layers.SeparableConv2D(32, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)

    x = layers.GlobalAveragePooling2D()(x)
    if num_classes == 2:
        units = 1
    else:
        units = num_classes

    x = layers.Dropout(0.25)(x)
    # We specify activation=None so as to return logits
    outputs = layers.Dense(units, activation=None)(x)
    return keras.Model(inputs, outputs)


model = make_model(input_shape=image_size + (3,), num_classes=2)
assert tuple(model.output_shape) == (None, 1)

epochs = 3
model.compile(
    optimizer=keras.optimizers.Adam(3e-3),
    loss=keras.losses.BinaryCrossentropy(from_logits=True),
    metrics=[keras.metrics.BinaryAccuracy(name="acc")],
)
history = model.fit(train_ds, epochs=epochs, validation_data=val_ds,
                    verbose=0)
h = history.history
assert sorted(h) == ["acc", "loss", "val_acc", "val_loss"]
assert h["loss"][-1] < h["loss"][0], h

img = keras.utils.load_img(os.path.join(root, "Cat", "6.png"),
                           target_size=image_size)
img_array = keras.utils.img_to_array(img)
assert img_array.shape == (24, 24, 3)
np.testing.assert_array_equal(
    img_array, np.asarray(Image.open(os.path.join(root, "Cat", "6.png")),
                          dtype="float32"))
img_array = keras.ops.expand_dims(img_array, 0)  # Create batch axis
predictions = model.predict(img_array, verbose=0)
score = float(keras.ops.sigmoid(predictions[0][0]))
assert 0.0 <= score <= 1.0

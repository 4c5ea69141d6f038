"""A miniature Vision Transformer: a `Patches` layer, a `PatchEncoder`
with a learned position `Embedding`, pre-norm Transformer blocks with
`MultiHeadAttention`, an MLP head, AdamW, top-k accuracy, and data
augmentation layers with an adapted `Normalization`.

Source: keras.io/examples/vision/image_classification_with_vision_transformer.
Changed: `keras` -> `gkeras`; 12x12 synthetic images (4 classes: a bright band of rows) instead
of CIFAR-100, 2 small Transformer blocks; `ops.image.extract_patches`
written as the reshape/transpose it amounts to (gkeras's `ops.image`
comes with another branch), checked against NumPy below.
"""
import numpy as np

import gkeras as keras
from gkeras import layers, ops

keras.utils.set_random_seed(12)
rng = np.random.default_rng(12)
num_classes = 4
input_shape = (12, 12, 3)
y_train = rng.integers(0, num_classes, 192)
x_train = rng.random((192,) + input_shape).astype("float32")
for i, c in enumerate(y_train):
    # A bright band of rows: RandomFlip("horizontal") keeps the class.
    x_train[i, 3 * c:3 * c + 3] += 1.5
x_test, y_test = x_train[160:], y_train[160:]
x_train, y_train = x_train[:160], y_train[:160]

learning_rate = 0.005
weight_decay = 0.0001
batch_size = 32
num_epochs = 6
image_size = 12
patch_size = 3
num_patches = (image_size // patch_size) ** 2
projection_dim = 16
num_heads = 2
transformer_units = [projection_dim * 2, projection_dim]
transformer_layers = 2
mlp_head_units = [32]

data_augmentation = keras.Sequential(
    [
        layers.Normalization(),
        layers.Resizing(image_size, image_size),
        layers.RandomFlip("horizontal"),
    ],
    name="data_augmentation",
)
# Compute the mean and the variance of the training data for normalization.
data_augmentation.layers[0].adapt(x_train)
np.testing.assert_allclose(
    np.asarray(data_augmentation.layers[0].mean).reshape(-1),
    x_train.reshape(-1, 3).mean(0), rtol=1e-4)


def mlp(x, hidden_units, dropout_rate):
    for units in hidden_units:
        x = layers.Dense(units, activation=keras.activations.gelu)(x)
        x = layers.Dropout(dropout_rate)(x)
    return x


class Patches(layers.Layer):
    def __init__(self, patch_size):
        super().__init__()
        self.patch_size = patch_size

    def call(self, images):
        input_shape = ops.shape(images)
        batch_size = input_shape[0]
        height = input_shape[1]
        width = input_shape[2]
        channels = input_shape[3]
        num_patches_h = height // self.patch_size
        num_patches_w = width // self.patch_size
        p = self.patch_size
        patches = ops.reshape(
            images, (batch_size, num_patches_h, p, num_patches_w, p, channels))
        patches = ops.transpose(patches, (0, 1, 3, 2, 4, 5))
        patches = ops.reshape(
            patches,
            (batch_size, num_patches_h * num_patches_w, p * p * channels),
        )
        return patches

    def get_config(self):
        config = super().get_config()
        config.update({"patch_size": self.patch_size})
        return config


patches = np.asarray(Patches(patch_size)(x_train[:2]))
assert patches.shape == (2, num_patches, patch_size * patch_size * 3)
# Patch k is the k-th 3x3 tile in row-major order, flattened (row, col, ch).
np.testing.assert_array_equal(patches[1, 5],
                              x_train[1, 3:6, 3:6].reshape(-1))


class PatchEncoder(layers.Layer):
    def __init__(self, num_patches, projection_dim):
        super().__init__()
        self.num_patches = num_patches
        self.projection = layers.Dense(units=projection_dim)
        self.position_embedding = layers.Embedding(
            input_dim=num_patches, output_dim=projection_dim)

    def call(self, patch):
        positions = ops.expand_dims(
            ops.arange(start=0, stop=self.num_patches, step=1), axis=0)
        projected_patches = self.projection(patch)
        encoded = projected_patches + self.position_embedding(positions)
        return encoded

    def get_config(self):
        config = super().get_config()
        config.update({"num_patches": self.num_patches})
        return config


def create_vit_classifier():
    inputs = keras.Input(shape=input_shape)
    # Augment data.
    augmented = data_augmentation(inputs)
    # Create patches.
    patches = Patches(patch_size)(augmented)
    # Encode patches.
    encoded_patches = PatchEncoder(num_patches, projection_dim)(patches)

    # Create multiple layers of the Transformer block.
    for _ in range(transformer_layers):
        # Layer normalization 1.
        x1 = layers.LayerNormalization(epsilon=1e-6)(encoded_patches)
        # Create a multi-head attention layer.
        attention_output = layers.MultiHeadAttention(
            num_heads=num_heads, key_dim=projection_dim, dropout=0.1
        )(x1, x1)
        # Skip connection 1.
        x2 = layers.Add()([attention_output, encoded_patches])
        # Layer normalization 2.
        x3 = layers.LayerNormalization(epsilon=1e-6)(x2)
        # MLP.
        x3 = mlp(x3, hidden_units=transformer_units, dropout_rate=0.1)
        # Skip connection 2.
        encoded_patches = layers.Add()([x3, x2])

    # Create a [batch_size, projection_dim] tensor.
    representation = layers.LayerNormalization(epsilon=1e-6)(encoded_patches)
    representation = layers.Flatten()(representation)
    representation = layers.Dropout(0.5)(representation)
    # Add MLP.
    features = mlp(representation, hidden_units=mlp_head_units,
                   dropout_rate=0.5)
    # Classify outputs.
    logits = layers.Dense(num_classes)(features)
    # Create the Keras model.
    model = keras.Model(inputs=inputs, outputs=logits)
    return model


def run_experiment(model):
    optimizer = keras.optimizers.AdamW(learning_rate=learning_rate,
                                       weight_decay=weight_decay)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[
            keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
            keras.metrics.SparseTopKCategoricalAccuracy(2,
                                                        name="top-2-accuracy"),
        ],
    )
    history = model.fit(x=x_train, y=y_train, batch_size=batch_size,
                        epochs=num_epochs, validation_split=0.1, verbose=0)
    _, accuracy, top_2_accuracy = model.evaluate(x_test, y_test, verbose=0)
    return history, accuracy, top_2_accuracy


vit_classifier = create_vit_classifier()
mha = [l for l in vit_classifier.layers
       if isinstance(l, layers.MultiHeadAttention)][0]
# Keras's weight layout: query/key/value kernels (dim, heads, key_dim).
assert [tuple(w.shape) for w in mha.weights][:2] == [
    (projection_dim, num_heads, projection_dim), (num_heads, projection_dim)]
history, accuracy, top_2_accuracy = run_experiment(vit_classifier)
assert history.history["loss"][-1] < history.history["loss"][0]
assert accuracy > 0.5, accuracy              # chance: 0.25
assert top_2_accuracy >= accuracy
logits = vit_classifier.predict(x_test, verbose=0)
top2 = np.argsort(-logits, axis=1)[:, :2]
np.testing.assert_allclose(top_2_accuracy,
                           np.mean((top2 == y_test[:, None]).any(1)),
                           rtol=1e-6)

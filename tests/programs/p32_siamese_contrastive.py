"""Image similarity with a Siamese network and a contrastive loss: one
embedding tower shared by two inputs, a `Lambda` layer computing the
Euclidean distance with `keras.ops`, `BatchNormalization`, and a loss
made by a closure (`loss(margin=1)`), then pair accuracy.

Source: keras.io/examples/vision/siamese_contrastive. Changed: `keras` ->
`gkeras`; 8x8 synthetic "digits" (a bright row band per class) instead
of MNIST, smaller tower, fewer pairs and epochs.
"""
import numpy as np

import gkeras as keras
from gkeras import layers, ops

keras.utils.set_random_seed(32)
rng = np.random.default_rng(32)
num_classes = 4
y = rng.integers(0, num_classes, 200)
x = rng.random((200, 8, 8)).astype("float32") * 0.3
for i, c in enumerate(y):
    x[i, 2 * c:2 * c + 2] += 1.0


def make_pairs(x, y):
    """Creates a tuple containing image pairs with corresponding label.

    Arguments:
        x: List containing images, each index in this list corresponds to
            one image.
        y: List containing labels, each label with datatype of `int`.

    Returns:
        Tuple containing two numpy arrays as (pairs_of_samples, labels),
        where pairs_of_samples' shape is (2len(x), 2,n_features_dims) and
        labels are a binary array of shape (2len(x)).
    """
    num_classes = max(y) + 1
    digit_indices = [np.where(y == i)[0] for i in range(num_classes)]
    pairs = []
    labels = []
    for idx1 in range(len(x)):
        # add a matching example
        x1 = x[idx1]
        label1 = y[idx1]
        idx2 = rng.choice(digit_indices[label1])
        x2 = x[idx2]
        pairs += [[x1, x2]]
        labels += [0]
        # add a non-matching example
        label2 = rng.integers(0, num_classes)
        while label2 == label1:
            label2 = rng.integers(0, num_classes)
        idx2 = rng.choice(digit_indices[label2])
        x2 = x[idx2]
        pairs += [[x1, x2]]
        labels += [1]
    return np.array(pairs), np.array(labels).astype("float32")


pairs_train, labels_train = make_pairs(x[:160], y[:160])
pairs_val, labels_val = make_pairs(x[160:], y[160:])
assert pairs_train.shape == (320, 2, 8, 8)
x_train_1 = pairs_train[:, 0]
x_train_2 = pairs_train[:, 1]
x_val_1 = pairs_val[:, 0]
x_val_2 = pairs_val[:, 1]


# Provided two tensors t1 and t2
# Euclidean distance = sqrt(sum(square(t1-t2)))
def euclidean_distance(vects):
    """Find the Euclidean distance between two vectors.

    Arguments:
        vects: List containing two tensors of same length.

    Returns:
        Tensor containing euclidean distance
        (as floating point value) between vectors.
    """
    x, y = vects
    sum_square = ops.sum(ops.square(x - y), axis=1, keepdims=True)
    return ops.sqrt(ops.maximum(sum_square, keras.backend.epsilon()))


input = keras.layers.Input((8, 8, 1))
x = keras.layers.BatchNormalization()(input)
x = keras.layers.Conv2D(4, (3, 3), activation="tanh")(x)
x = keras.layers.AveragePooling2D(pool_size=(2, 2))(x)
x = keras.layers.Flatten()(x)
x = keras.layers.BatchNormalization()(x)
x = keras.layers.Dense(8, activation="tanh")(x)
embedding_network = keras.Model(input, x)

input_1 = keras.layers.Input((8, 8, 1))
input_2 = keras.layers.Input((8, 8, 1))
# As mentioned above, Siamese Network share weights between
# tower networks (sister networks). To allow this, we will use
# same embedding network for both tower networks.
tower_1 = embedding_network(input_1)
tower_2 = embedding_network(input_2)
merge_layer = keras.layers.Lambda(euclidean_distance, output_shape=(1,))(
    [tower_1, tower_2])
normal_layer = keras.layers.BatchNormalization()(merge_layer)
output_layer = keras.layers.Dense(1, activation="sigmoid")(normal_layer)
siamese = keras.Model(inputs=[input_1, input_2], outputs=output_layer)
# One tower's weights, used twice.
assert len(siamese.trainable_weights) == \
    len(embedding_network.trainable_weights) + 2 + 2


def loss(margin=1):
    """Provides 'contrastive_loss' an enclosing scope with variable
    'margin'."""

    def contrastive_loss(y_true, y_pred):
        """Calculates the contrastive loss."""
        square_pred = ops.square(y_pred)
        margin_square = ops.square(ops.maximum(margin - (y_pred), 0))
        return ops.mean((1 - y_true) * square_pred + (y_true) * margin_square)

    return contrastive_loss


margin = 1
siamese.compile(loss=loss(margin=margin),
                optimizer=keras.optimizers.RMSprop(0.02),
                metrics=["accuracy"])
history = siamese.fit(
    [x_train_1, x_train_2], labels_train,
    validation_data=([x_val_1, x_val_2], labels_val),
    batch_size=16, epochs=8, verbose=0)
h = history.history
assert h["loss"][-1] < h["loss"][0], h["loss"]
results = siamese.evaluate([x_val_1, x_val_2], labels_val, verbose=0,
                           batch_size=len(labels_val))
assert results[1] > 0.6, results       # chance: 0.5
# The loss is the contrastive loss of the predictions, in NumPy.
p = siamese.predict([x_val_1, x_val_2], verbose=0)[:, 0].astype("float64")
want = np.mean((1 - labels_val) * p ** 2
               + labels_val * np.maximum(1 - p, 0) ** 2)
np.testing.assert_allclose(results[0], want, rtol=1e-4)
# The distance layer, in NumPy.
e1 = np.asarray(embedding_network(x_val_1[:3])).astype("float64")
e2 = np.asarray(embedding_network(x_val_2[:3])).astype("float64")
d = keras.Model(siamese.inputs, merge_layer)([x_val_1[:3], x_val_2[:3]])
np.testing.assert_allclose(np.asarray(d)[:, 0],
                           np.sqrt(np.maximum(((e1 - e2) ** 2).sum(1), 1e-7)),
                           rtol=1e-4)

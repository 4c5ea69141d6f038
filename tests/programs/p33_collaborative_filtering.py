"""Collaborative filtering: a `RecommenderNet` model subclass with user and
movie embeddings and biases, indexing its integer input (`inputs[:, 0]`)
inside `call`, `ops.tensordot` for the dot product, trained on ratings
scaled to [0, 1] with binary cross-entropy.

Source: keras.io/examples/structured_data/collaborative_filtering_movielens.
Changed: `keras` -> `gkeras`; synthetic ratings from hidden user/movie
factors instead of MovieLens, smaller sizes.
"""
import numpy as np

import gkeras as keras
from gkeras import layers, ops

keras.utils.set_random_seed(33)
rng = np.random.default_rng(33)
num_users, num_movies = 30, 40
u_f, m_f = rng.normal(size=(num_users, 2)), rng.normal(size=(num_movies, 2))
pairs = np.stack([rng.integers(0, num_users, 600),
                  rng.integers(0, num_movies, 600)], axis=1)
score = (u_f[pairs[:, 0]] * m_f[pairs[:, 1]]).sum(1)
ratings = np.clip(np.round(3 + score), 1, 5)
min_rating, max_rating = 1.0, 5.0
x = pairs
y = (ratings - min_rating) / (max_rating - min_rating)
train_indices = int(0.9 * len(x))
x_train, x_val, y_train, y_val = (x[:train_indices], x[train_indices:],
                                  y[:train_indices], y[train_indices:])

EMBEDDING_SIZE = 8


class RecommenderNet(keras.Model):
    def __init__(self, num_users, num_movies, embedding_size, **kwargs):
        super().__init__(**kwargs)
        self.num_users = num_users
        self.num_movies = num_movies
        self.embedding_size = embedding_size
        self.user_embedding = layers.Embedding(
            num_users, embedding_size, embeddings_initializer="he_normal",
            embeddings_regularizer=keras.regularizers.l2(1e-6))
        self.user_bias = layers.Embedding(num_users, 1)
        self.movie_embedding = layers.Embedding(
            num_movies, embedding_size, embeddings_initializer="he_normal",
            embeddings_regularizer=keras.regularizers.l2(1e-6))
        self.movie_bias = layers.Embedding(num_movies, 1)

    def call(self, inputs):
        user_vector = self.user_embedding(inputs[:, 0])
        user_bias = self.user_bias(inputs[:, 0])
        movie_vector = self.movie_embedding(inputs[:, 1])
        movie_bias = self.movie_bias(inputs[:, 1])
        dot_user_movie = ops.tensordot(user_vector, movie_vector, 2)
        # Add all the components (including bias)
        x = dot_user_movie + user_bias + movie_bias
        # The sigmoid activation forces the rating to between 0 and 1
        return ops.nn.sigmoid(x)


model = RecommenderNet(num_users, num_movies, EMBEDDING_SIZE)
model.compile(loss=keras.losses.BinaryCrossentropy(),
              optimizer=keras.optimizers.Adam(learning_rate=0.01))
history = model.fit(x=x_train, y=y_train, batch_size=64, epochs=5,
                    verbose=0, validation_data=(x_val, y_val))
h = history.history
assert sorted(h) == ["loss", "val_loss"] and len(h["loss"]) == 5
assert all(np.isfinite(h["loss"])), h

# The example's tensordot over both axes of two (batch, k) matrices is a
# scalar: every row gets the same dot term, plus its own biases. Check the
# prediction in NumPy from the layers' weights.
uw = model.user_embedding.get_weights()[0].astype("float64")
mw = model.movie_embedding.get_weights()[0].astype("float64")
ub = model.user_bias.get_weights()[0][:, 0].astype("float64")
mb = model.movie_bias.get_weights()[0][:, 0].astype("float64")
batch = x_val[:5]
dot = np.tensordot(uw[batch[:, 0]], mw[batch[:, 1]], 2)
want = 1 / (1 + np.exp(-(dot + ub[batch[:, 0]] + mb[batch[:, 1]])))
np.testing.assert_allclose(np.asarray(model(batch))[:, 0], want, rtol=1e-4)
# evaluate's loss on one batch is the binary cross-entropy of that batch's
# predictions (the scalar dot term depends on the batch) plus the two
# embedding regularization losses, in NumPy.
p = np.asarray(model(x_val)).astype("float64")[:, 0]
bce = -np.mean(y_val * np.log(np.clip(p, 1e-7, 1 - 1e-7))
               + (1 - y_val) * np.log(np.clip(1 - p, 1e-7, 1 - 1e-7)))
reg = 1e-6 * ((uw ** 2).sum() + (mw ** 2).sum())
np.testing.assert_allclose(
    model.evaluate(x_val, y_val, batch_size=len(x_val), verbose=0),
    bce + reg, rtol=1e-4)
# The embedding regularizers add two losses.
assert len(model.losses) == 2

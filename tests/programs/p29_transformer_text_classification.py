"""Text classification with a Transformer block: a `TransformerBlock`
layer (MultiHeadAttention, feed-forward Sequential, LayerNormalization,
Dropout with `training`), a `TokenAndPositionEmbedding` layer, global
average pooling, and `keras.ops` applied to KerasTensors in the
Functional graph.

Source: keras.io/examples/nlp/text_classification_with_transformer.
Changed: `keras` -> `gkeras`; synthetic token sequences instead of the
IMDB download; embed_dim 32 -> 16, 2 epochs -> 4; an `ops.mean` over the
sequence (on a KerasTensor) added beside the example's pooling layer.
"""
import numpy as np

import gkeras as keras
from gkeras import layers, ops

keras.utils.set_random_seed(29)


class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
        super().__init__()
        self.att = layers.MultiHeadAttention(num_heads=num_heads,
                                             key_dim=embed_dim)
        self.ffn = keras.Sequential(
            [layers.Dense(ff_dim, activation="relu"),
             layers.Dense(embed_dim)])
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs, training=False):
        attn_output = self.att(inputs, inputs)
        attn_output = self.dropout1(attn_output, training=training)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output, training=training)
        return self.layernorm2(out1 + ffn_output)


class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim):
        super().__init__()
        self.token_emb = layers.Embedding(input_dim=vocab_size,
                                          output_dim=embed_dim)
        self.pos_emb = layers.Embedding(input_dim=maxlen,
                                        output_dim=embed_dim)

    def call(self, x):
        maxlen = ops.shape(x)[-1]
        positions = ops.arange(start=0, stop=maxlen, step=1)
        positions = self.pos_emb(positions)
        x = self.token_emb(x)
        return x + positions


vocab_size = 50  # Only consider the top 50 words
maxlen = 12  # Only consider the first 12 words of each movie review
rng = np.random.default_rng(29)
# Label 1 when token 7 appears before token 9 (order matters: the
# position embedding and attention must carry it).
x_train = rng.integers(10, vocab_size, (256, maxlen))
y_train = rng.integers(0, 2, 256)
for i, lab in enumerate(y_train):
    a, b = sorted(rng.choice(maxlen, 2, replace=False))
    x_train[i, a], x_train[i, b] = (7, 9) if lab else (9, 7)
x_val, y_val = x_train[192:], y_train[192:]
x_train, y_train = x_train[:192], y_train[:192]

embed_dim = 16  # Embedding size for each token
num_heads = 2  # Number of attention heads
ff_dim = 16  # Hidden layer size in feed forward network inside transformer

inputs = layers.Input(shape=(maxlen,))
embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)
x = embedding_layer(inputs)
transformer_block = TransformerBlock(embed_dim, num_heads, ff_dim)
x = transformer_block(x)
pooled = layers.GlobalAveragePooling1D()(x)
assert tuple(pooled.shape) == (None, embed_dim)
same = ops.mean(x, axis=1)                 # an op on a KerasTensor
assert tuple(same.shape) == (None, embed_dim)
x = layers.Dropout(0.1)(same)
x = layers.Dense(16, activation="relu")(x)
x = layers.Dropout(0.1)(x)
outputs = layers.Dense(2, activation="softmax")(x)
model = keras.Model(inputs=inputs, outputs=outputs)

# The ops.mean node computes the pooling layer's numbers.
probe = keras.Model(inputs, [pooled, same])
p, s = probe(x_val[:4])
np.testing.assert_allclose(np.asarray(p), np.asarray(s), rtol=1e-6)

model.compile(optimizer=keras.optimizers.Adam(3e-3),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=32, epochs=4,
                    validation_data=(x_val, y_val), verbose=0)
h = history.history
assert h["loss"][-1] < h["loss"][0], h
# Dropout is off in inference: two predictions agree exactly.
np.testing.assert_array_equal(model.predict(x_val, verbose=0),
                              model.predict(x_val, verbose=0))
# With training=True the dropout inside the block is active.
a = np.asarray(model(x_val[:8], training=True))
b = np.asarray(model(x_val[:8], training=False))
assert np.abs(a - b).max() > 0

"""Custom layers and subclassed models: weight tracking of sub-layers,
`training` propagation, lazy building, fit/evaluate/predict/summary, and
the tutorial's hand-written Transformer (MultiHeadSelfAttention +
TransformerBlock + build_transformer)."""

import numpy as np
import pytest

import gkeras
from gkeras import layers, ops

RNG = np.random.default_rng(3)


class MultiHeadSelfAttention(layers.Layer):
    """The tutorial's hand-written self-attention (four Dense layers)."""

    def __init__(self, embed_dim, num_heads=8, **kwargs):
        super().__init__(**kwargs)
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.projection_dim = embed_dim // num_heads
        self.query_dense = layers.Dense(embed_dim)
        self.key_dense = layers.Dense(embed_dim)
        self.value_dense = layers.Dense(embed_dim)
        self.combine_heads = layers.Dense(embed_dim)

    def attention(self, query, key, value):
        score = ops.matmul(query, ops.transpose(key, (0, 1, 3, 2)))
        dim_key = ops.cast(ops.shape(key)[-1], "float32")
        scaled_score = score / ops.sqrt(dim_key)
        weights = ops.softmax(scaled_score, axis=-1)
        return ops.matmul(weights, value), weights

    def separate_heads(self, x, batch_size):
        x = ops.reshape(x, (batch_size, -1, self.num_heads,
                            self.projection_dim))
        return ops.transpose(x, (0, 2, 1, 3))

    def call(self, inputs):
        batch_size = ops.shape(inputs)[0]
        query = self.separate_heads(self.query_dense(inputs), batch_size)
        key = self.separate_heads(self.key_dense(inputs), batch_size)
        value = self.separate_heads(self.value_dense(inputs), batch_size)
        attention, _ = self.attention(query, key, value)
        attention = ops.transpose(attention, (0, 2, 1, 3))
        concat = ops.reshape(attention, (batch_size, -1, self.embed_dim))
        return self.combine_heads(concat)

    def get_config(self):
        return {**super().get_config(), "embed_dim": self.embed_dim,
                "num_heads": self.num_heads}


class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.att = MultiHeadSelfAttention(embed_dim, num_heads)
        self.ffn = gkeras.Sequential([layers.Dense(ff_dim, activation="relu"),
                                      layers.Dense(embed_dim)])
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)
        self.seen_training = []

    def call(self, inputs, training=None):
        self.seen_training.append(training)
        attn_output = self.att(inputs)
        attn_output = self.dropout1(attn_output, training=training)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output, training=training)
        return self.layernorm2(out1 + ffn_output)


def build_transformer(maxlen, vocab_features, embed_dim, num_heads, ff_dim,
                      num_classes):
    inputs = layers.Input(shape=(maxlen, vocab_features))
    x = layers.Dense(embed_dim)(inputs)
    x = TransformerBlock(embed_dim, num_heads, ff_dim)(x)
    x = layers.Lambda(lambda t: ops.mean(t, axis=1))(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return gkeras.Model(inputs=inputs, outputs=outputs)


def _task(n=256, maxlen=8, feats=4):
    """Learnable: the class is which feature has the largest total."""
    x = RNG.standard_normal((n, maxlen, feats)).astype("float32")
    y = np.argmax(x.sum(1), axis=1)
    return x, gkeras.utils.to_categorical(y, feats)


def test_transformer_block_tracks_all_weights():
    block = TransformerBlock(8, 2, 16)
    block(np.zeros((2, 5, 8), "float32"))
    # att: 4 Dense x (kernel, bias); ffn: 2 Dense; 2 LayerNorms x 2
    assert len(block.trainable_weights) == 8 + 4 + 4
    count = sum(int(np.prod(w.shape)) for w in block.weights)
    assert count == 4 * (8 * 8 + 8) + (8 * 16 + 16) + (16 * 8 + 8) + 4 * 8


def test_transformer_trains_summarizes_and_training_flag_flows(capsys):
    model = build_transformer(8, 4, 16, 2, 32, 4)
    model.summary()
    text = capsys.readouterr().out
    assert "transformer_block" in text and "TransformerBlock" in text
    block = [l for l in model.layers if isinstance(l, TransformerBlock)][0]
    assert block.count_params() == 4 * (16 * 16 + 16) + (16 * 32 + 32) + \
        (32 * 16 + 16) + 4 * 16
    assert f"{model.count_params():,}" in text
    model.compile(optimizer=gkeras.optimizers.Adam(3e-3),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    x, y = _task()
    first = model.evaluate(x, y, verbose=0)[0]
    block.seen_training.clear()
    hist = model.fit(x, y, epochs=12, batch_size=32, verbose=0)
    assert True in block.seen_training  # fit -> training=True
    block.seen_training.clear()
    model.predict(x[:4], verbose=0)
    assert block.seen_training and not any(block.seen_training)
    loss = hist.history["loss"]
    assert loss[-1] < 0.6 * first, loss
    assert hist.history["accuracy"][-1] > 0.6


class _SubModel(gkeras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.blocks = [layers.Dense(8, activation="relu"),
                       layers.Dense(8, activation="relu")]
        self.heads = {"out": layers.Dense(1)}
        self.drop = layers.Dropout(0.5)
        self.calls = []

    def call(self, inputs, training=None):
        self.calls.append(training)
        x = inputs
        for b in self.blocks:
            x = b(x)
        return self.heads["out"](self.drop(x, training=training))


def test_subclassed_model_lists_dicts_fit_evaluate_predict(tmp_path):
    model = _SubModel()
    assert not model.built or not model.weights  # lazy
    x = RNG.standard_normal((64, 3)).astype("float32")
    y = x.sum(1, keepdims=True)
    model.compile(optimizer=gkeras.optimizers.Adam(1e-2), loss="mse")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert True in model.calls
    assert model.evaluate(x, y, verbose=0) < before
    assert len(model.trainable_weights) == 6
    assert model.predict(x[:5], verbose=0).shape == (5, 1)
    model.summary()
    try:
        path = str(tmp_path / "m.weights.h5")
        model.save_weights(path)
    except (NotImplementedError, AttributeError, ImportError) as e:
        pytest.skip(f"weights saving not available yet: {e}")
    other = _SubModel()
    other(x[:1])
    other.load_weights(path)
    np.testing.assert_allclose(other.predict(x[:5], verbose=0),
                               model.predict(x[:5], verbose=0), atol=1e-6)


def test_builtin_mha_transformer_trains():
    inp = layers.Input((8, 4))
    h = layers.Dense(16)(inp)
    a = layers.MultiHeadAttention(num_heads=2, key_dim=8, dropout=0.1)(h, h)
    h = layers.LayerNormalization(epsilon=1e-6)(layers.add([h, a]))
    out = layers.Dense(4, activation="softmax")(
        layers.Lambda(lambda t: ops.mean(t, axis=1))(h))
    model = gkeras.Model(inp, out)
    model.compile(optimizer=gkeras.optimizers.Adam(3e-3),
                  loss="categorical_crossentropy")
    x, y = _task()
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=10, batch_size=32, verbose=0)
    assert model.evaluate(x, y, verbose=0) < 0.6 * first


def test_custom_layer_returning_non_tensor_is_a_clear_error():
    class Bad(layers.Layer):
        def call(self, inputs):
            return "not a tensor"

    with pytest.raises(TypeError, match=r"'bad'.*call.*str"):
        Bad(name="bad")(np.ones((2, 3), "float32"))


def test_lazy_build_from_first_call():
    class Linear(layers.Layer):
        def __init__(self, units=4, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                     initializer="random_normal")
            self.b = self.add_weight(shape=(self.units,),
                                     initializer="zeros")

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b

    layer = Linear()
    assert not layer.built and layer.weights == []
    out = layer(np.ones((2, 7), "float32"))
    assert layer.built and out.shape == (2, 4)
    assert [tuple(w.shape) for w in layer.weights] == [(7, 4), (4,)]


def test_explicit_training_reaches_sublayers_of_a_call_without_training():
    """Keras 3: `layer(x, training=True)` sets the call context even when
    the layer's own `call` takes no `training` argument."""
    import gkeras as keras

    class Wrapper(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.drop = keras.layers.Dropout(0.5, seed=3)

        def call(self, inputs):
            return self.drop(inputs)

    x = np.ones((64, 64), "float32")
    layer = Wrapper()
    np.testing.assert_array_equal(np.asarray(layer(x)), x)
    out = np.asarray(layer(x, training=True))
    assert set(np.unique(out)) <= {0.0, 2.0} and (out == 0).any()

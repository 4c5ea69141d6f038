"""`layers.ReversibleEmbedding` (Keras 3.15 API) against NumPy float64."""

import numpy as np
import pytest

import gkeras
from gkeras import layers

# Keras 3.15.1's config keys for the same layer (recorded).
KERAS_CONFIG_KEYS = [
    "name", "trainable", "dtype", "input_dim", "output_dim",
    "embeddings_initializer", "embeddings_regularizer",
    "activity_regularizer", "embeddings_constraint", "mask_zero",
    "quantization_config", "tie_weights", "reverse_dtype", "logit_soft_cap"]


def test_forward_and_tied_reverse():
    emb = layers.ReversibleEmbedding(10, 4, mask_zero=True)
    ids = np.array([[1, 0, 9]])
    h = emb(ids)
    table = emb.get_weights()[0].astype(np.float64)
    np.testing.assert_allclose(h.numpy(), table[ids], rtol=1e-6)
    np.testing.assert_array_equal(h._keras_mask, ids != 0)
    x = np.random.default_rng(0).normal(size=(2, 4)).astype("float32")
    np.testing.assert_allclose(emb(x, reverse=True).numpy(),
                               x.astype(np.float64) @ table.T, rtol=1e-5)
    assert len(emb.weights) == 1


def test_untied_soft_capped_reverse_and_config():
    emb = layers.ReversibleEmbedding(6, 3, tie_weights=False,
                                     logit_soft_cap=2.0, name="re")
    emb.build()
    assert [w.path for w in emb.weights] == ["re/embeddings",
                                             "re/reverse_embeddings"]
    x = 5 * np.random.default_rng(1).normal(size=(2, 3)).astype("float32")
    rev = emb.get_weights()[1].astype(np.float64)
    want = np.tanh((x.astype(np.float64) @ rev) / 2.0) * 2.0
    np.testing.assert_allclose(emb(x, reverse=True).numpy(), want,
                               rtol=1e-5, atol=1e-6)
    cfg = emb.get_config()
    assert list(cfg) == KERAS_CONFIG_KEYS
    clone = layers.ReversibleEmbedding.from_config(cfg)
    assert clone.tie_weights is False and clone.logit_soft_cap == 2.0
    with pytest.raises(ValueError, match="logit_soft_cap"):
        layers.ReversibleEmbedding(6, 3, logit_soft_cap=-1.0)


def test_language_model_trains_through_both_directions():
    ids = gkeras.Input((5,), dtype="int32")
    emb = layers.ReversibleEmbedding(12, 8)
    h = layers.Dense(8, activation="tanh")(emb(ids))
    logits = emb(h, reverse=True)
    assert tuple(logits.shape) == (None, 5, 12)
    model = gkeras.Model(ids, logits)
    model.compile(
        optimizer=gkeras.optimizers.Adam(0.05),
        loss=gkeras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(2)
    x = rng.integers(0, 12, size=(32, 5))
    before = emb.get_weights()[0].copy()
    hist = model.fit(x, x, epochs=40, batch_size=32, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    assert not np.allclose(before, emb.get_weights()[0])
    out = gkeras.Model.from_config(model.get_config())
    assert isinstance(out.layers[1], layers.ReversibleEmbedding)

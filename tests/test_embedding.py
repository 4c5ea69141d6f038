"""Embedding: lookup against NumPy indexing, the sparse gradient, masks,
config, Keras-2 `input_length`, and the out-of-range id error."""

import numpy as np
import pytest

import gkeras
from gkeras import layers, ops
from harness import run_layer_test


def test_lookup_and_sparse_gradient():
    emb = layers.Embedding(10, 3)
    ids = np.array([[1, 4, 4], [9, 0, 1]])
    out = emb(ids)
    table = emb.get_weights()[0]
    np.testing.assert_array_equal(np.asarray(out), table[ids])
    g = np.random.default_rng(0).standard_normal((2, 3, 3))
    with ops.GradientTape() as tape:
        loss = ops.sum(ops.multiply(emb(ids), g))
    (grad,) = tape.gradient(loss, [emb.embeddings])
    want = np.zeros((10, 3))
    for (i, j), idx in np.ndenumerate(ids):
        want[idx] += g[i, j]
    np.testing.assert_allclose(grad, want, atol=1e-6)


def test_default_initializer_and_float_ids():
    emb = layers.Embedding(1000, 8)
    emb(np.zeros((1, 1), "int32"))
    w = emb.get_weights()[0]
    assert w.shape == (1000, 8) and np.abs(w).max() <= 0.05
    # Float ids (e.g. from pad_sequences(dtype="float32")) are cast.
    np.testing.assert_array_equal(np.asarray(emb(np.array([[2.0, 3.0]]))),
                                  w[[[2, 3]]])


def test_mask_zero():
    emb = layers.Embedding(5, 2, mask_zero=True)
    ids = np.array([[3, 1, 0, 0], [2, 0, 4, 0]])
    out = emb(ids)
    np.testing.assert_array_equal(out._keras_mask, ids != 0)
    assert layers.Embedding(5, 2)(ids)._keras_mask is None


def test_out_of_range_ids_raise():
    emb = layers.Embedding(10, 3, name="tok")
    with pytest.raises(ValueError, match=r"'tok'.*id 12.*input_dim=10"):
        emb(np.array([[1, 12, 3]]))
    with pytest.raises(ValueError, match=r"id -1"):
        emb(np.array([[1, -1]]))


def test_input_length_and_config():
    model = gkeras.Sequential([
        layers.Embedding(input_dim=100, output_dim=8, input_length=6),
        layers.Flatten(), layers.Dense(1)])
    assert tuple(model.output_shape) == (None, 1)
    cfg = layers.Embedding(7, 2, mask_zero=True,
                           embeddings_regularizer="l2").get_config()
    assert cfg["input_dim"] == 7 and cfg["mask_zero"] is True
    clone = layers.Embedding.from_config(cfg)
    assert clone.get_config() == cfg
    with pytest.raises(NotImplementedError, match="lora"):
        layers.Embedding(4, 2, lora_rank=2)
    with pytest.raises(ValueError, match="input_dim"):
        layers.Embedding(0, 2)


def test_layer_contract():
    run_layer_test(layers.Embedding, {"input_dim": 5, "output_dim": 4},
                   input_shape=(3, 6), input_dtype="int32",
                   expected_output_shape=(3, 6, 4),
                   expected_num_trainable_weights=1)


def test_regularizer_adds_loss():
    emb = layers.Embedding(4, 2, embeddings_regularizer=gkeras.regularizers
                           .L2(0.1))
    emb(np.array([[1]]))
    w = emb.get_weights()[0]
    np.testing.assert_allclose(float(np.asarray(emb.losses[0])),
                               0.1 * np.sum(w.astype(float) ** 2), rtol=1e-5)

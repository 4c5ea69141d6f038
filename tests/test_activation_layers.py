"""ReLU, LeakyReLU, PReLU, ELU, Softmax layers vs NumPy references."""

import numpy as np
import pytest

import gkeras as keras
from gkeras import layers
from harness import run_layer_test

X = np.random.default_rng(0).uniform(-8, 8, (4, 5, 3)).astype("float32")


@pytest.mark.parametrize("kwargs,ref", [
    ({}, lambda x: np.maximum(x, 0)),
    ({"max_value": 6.0}, lambda x: np.clip(x, 0, 6)),
    ({"negative_slope": 0.1}, lambda x: np.where(x > 0, x, 0.1 * x)),
    ({"threshold": 1.0}, lambda x: np.where(x > 1, x, 0)),
    ({"max_value": 5.0, "negative_slope": 0.2, "threshold": 1.0},
     lambda x: np.where(x >= 5, 5, np.where(x > 1, x, 0.2 * (x - 1)))),
])
def test_relu(kwargs, ref):
    run_layer_test(layers.ReLU, kwargs, input_data=X,
                   expected_output=ref(X), expected_output_shape=X.shape)


def test_leaky_relu_elu_softmax():
    run_layer_test(layers.LeakyReLU, {"negative_slope": 0.3}, input_data=X,
                   expected_output=np.where(X > 0, X, 0.3 * X))
    assert layers.LeakyReLU(alpha=0.1).negative_slope == 0.1
    run_layer_test(layers.ELU, {"alpha": 0.5}, input_data=X,
                   expected_output=np.where(X > 0, X, 0.5 * np.expm1(X)),
                   atol=1e-5)
    e = np.exp(X - X.max(-1, keepdims=True))
    run_layer_test(layers.Softmax, {}, input_data=X,
                   expected_output=e / e.sum(-1, keepdims=True), atol=1e-6)
    mask = np.array([True, False, True])
    out = np.asarray(layers.Softmax()(X, mask=mask))
    em = np.exp(X[..., [0, 2]] - X[..., [0, 2]].max(-1, keepdims=True))
    np.testing.assert_allclose(out[..., [0, 2]], em / em.sum(-1, keepdims=True),
                               rtol=1e-5)
    assert np.all(out[..., 1] == 0)


def test_prelu_learns_alpha_and_shares_axes():
    layer = run_layer_test(layers.PReLU, {"shared_axes": [1]}, input_data=X,
                           expected_num_trainable_weights=1)
    assert layer.alpha.shape == (1, 3)
    layer.set_weights([np.full((1, 3), 0.25, "float32")])
    np.testing.assert_allclose(np.asarray(layer(X)),
                               np.where(X > 0, X, 0.25 * X), rtol=1e-6)


def test_errors():
    with pytest.raises(ValueError, match="max_value"):
        layers.ReLU(max_value=-1)
    with pytest.raises(ValueError, match="negative_slope"):
        layers.LeakyReLU(negative_slope=-0.1)

"""Pooling layers and ops against naive float64 references, finite
differences and the layer contract."""

import numpy as np
import pytest

from gkeras import layers, ops
from harness import check_grad, run_layer_test

RNG = np.random.default_rng(7)


def ref_pool(x, mode, pool, strides, padding):
    """Loop over output cells; 'same' windows only see real cells (Keras)."""
    x = np.asarray(x, np.float64)
    r = x.ndim - 2
    sp = x.shape[1:-1]
    if padding == "valid":
        out = [(n - k) // s + 1 for n, k, s in zip(sp, pool, strides)]
        before = [0] * r
    else:
        out = [-(-n // s) for n, s in zip(sp, strides)]
        before = [max((o - 1) * s + k - n, 0) // 2
                  for o, n, k, s in zip(out, sp, pool, strides)]
    y = np.zeros((x.shape[0], *out, x.shape[-1]))
    for o in np.ndindex(*out):
        sl = []
        for i in range(r):
            a = o[i] * strides[i] - before[i]
            sl.append(slice(max(a, 0), min(a + pool[i], sp[i])))
        win = x[(slice(None), *sl)].reshape(x.shape[0], -1, x.shape[-1])
        y[(slice(None), *o)] = win.max(1) if mode == "max" else win.mean(1)
    return y


CASES = [
    (1, (9,), (2,), (2,), "valid"), (1, (10,), (3,), (2,), "same"),
    (2, (8, 8), (2, 2), (2, 2), "valid"), (2, (7, 6), (3, 3), (1, 1), "same"),
    (2, (7, 9), (3, 2), (2, 3), "same"), (2, (9, 7), (2, 3), (1, 2), "valid"),
    (3, (5, 4, 6), (2, 2, 3), (2, 1, 2), "same"),
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_pooling_layers_match_reference(case, mode, data_format):
    r, sp, pool, strides, padding = case
    cls = getattr(layers, f"{'Max' if mode == 'max' else 'Average'}"
                          f"Pooling{r}D")
    x = RNG.standard_normal((2, *sp, 3)).astype(np.float32)
    layer = cls(pool, strides, padding=padding, data_format=data_format)
    want = ref_pool(x, mode, pool, strides, padding)
    if data_format == "channels_first":
        x, want = np.moveaxis(x, -1, 1), np.moveaxis(want, -1, 1)
    got = np.asarray(layer(x))
    assert got.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("r", [1, 2, 3])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling(r, keepdims):
    x = RNG.standard_normal((2, *(4, 3, 5)[:r], 3)).astype(np.float32)
    axes = tuple(range(1, r + 1))
    for name, fn in (("Average", np.mean), ("Max", np.max)):
        layer = getattr(layers, f"Global{name}Pooling{r}D")(keepdims=keepdims)
        np.testing.assert_allclose(np.asarray(layer(x)),
                                   fn(x, axis=axes, keepdims=keepdims),
                                   rtol=1e-6)
        cf = getattr(layers, f"Global{name}Pooling{r}D")(
            data_format="channels_first")
        np.testing.assert_allclose(np.asarray(cf(np.moveaxis(x, -1, 1))),
                                   fn(x, axis=axes), rtol=1e-6)


def test_global_average_pooling1d_mask():
    x = RNG.standard_normal((2, 5, 3)).astype(np.float32)
    mask = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1]], bool)
    got = np.asarray(layers.GlobalAveragePooling1D()(x, mask=mask))
    np.testing.assert_allclose(got[0], x[0, :2].mean(0), rtol=1e-6)
    np.testing.assert_allclose(got[1], x[1].mean(0), rtol=1e-6)


def test_pool_op_gradients():
    # Distinct values so the max is unique (finite differences stay smooth).
    x = RNG.permutation(2 * 7 * 6 * 2).reshape(2, 7, 6, 2) / 10.0
    check_grad(lambda a: ops.max_pool(a, 3, 2, padding="same"), x)
    check_grad(lambda a: ops.average_pool(a, (3, 2), (1, 2),
                                          padding="same"), x)
    check_grad(lambda a: ops.average_pool(
        a, 2, data_format="channels_first"), x)
    x1 = RNG.permutation(2 * 9 * 3).reshape(2, 9, 3) / 10.0
    check_grad(lambda a: ops.max_pool(a, 2, 1), x1)


@pytest.mark.parametrize("cls,kwargs,shape,out", [
    (layers.MaxPooling1D, {}, (2, 7, 3), (2, 3, 3)),
    (layers.MaxPooling2D, {"pool_size": (2, 2)}, (2, 5, 6, 3),
     (2, 2, 3, 3)),
    (layers.MaxPooling3D, {"padding": "same"}, (1, 3, 4, 5, 2),
     (1, 2, 2, 3, 2)),
    (layers.AveragePooling1D, {"pool_size": 3, "strides": 1,
                               "padding": "same"}, (2, 7, 3), (2, 7, 3)),
    (layers.AveragePooling2D, {"data_format": "channels_first"},
     (2, 3, 6, 4), (2, 3, 3, 2)),
    (layers.AveragePooling3D, {"pool_size": 2}, (1, 4, 4, 4, 2),
     (1, 2, 2, 2, 2)),
    (layers.GlobalAveragePooling2D, {"keepdims": True}, (2, 4, 5, 3),
     (2, 1, 1, 3)),
    (layers.GlobalMaxPooling1D, {}, (2, 4, 3), (2, 3)),
    (layers.GlobalMaxPooling3D, {}, (2, 2, 3, 2, 3), (2, 3)),
])
def test_layer_contract(cls, kwargs, shape, out):
    run_layer_test(cls, kwargs, input_shape=shape, expected_output_shape=out,
                   expected_num_trainable_weights=0)


def test_config_and_aliases():
    cfg = layers.MaxPooling2D(3).get_config()
    assert cfg["pool_size"] == (3, 3) and cfg["strides"] == (3, 3)
    assert cfg["padding"] == "valid" and cfg["data_format"] == "channels_last"
    assert layers.MaxPool2D is layers.MaxPooling2D
    assert layers.AvgPool2D is layers.AveragePooling2D
    assert layers.GlobalAvgPool2D is layers.GlobalAveragePooling2D


def test_pooling_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"pool_a.*pool_size=\(4, 4\)"):
        layers.MaxPooling2D(4, name="pool_a")(np.zeros((1, 3, 8, 1),
                                                       "float32"))
    with pytest.raises(ValueError, match=r"pool_b.*x\[\.\.\., None\]"):
        layers.MaxPooling2D(name="pool_b")(np.zeros((1, 8, 8), "float32"))
    with pytest.raises(ValueError, match="padding"):
        layers.MaxPooling2D(padding="full")

"""Per-call overhead cuts of small models on the CPU: each must leave the
results unchanged (float64 references, the uncached path)."""

import numpy as np
import pytest

import gkeras
from gkeras import backend, layers
from gkeras.ops.elementwise import matmul_grads


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("k,n", [(784, 128), (1, 1), (5, 3), (7, 1)])
def test_batch_one_kernel_gradient_is_the_outer_product(dtype, k, n):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    gy = rng.standard_normal((1, n)).astype(dtype)
    ga, gb = matmul_grads(a, b, gy, True, True)
    assert gb.dtype == np.dtype(dtype) and gb.shape == (k, n)
    ref = a[0].astype(np.float64)[:, None] * gy[0].astype(np.float64)
    half = dtype == "float16"
    np.testing.assert_allclose(gb, ref, rtol=1e-3 if half else 1e-6,
                               atol=1e-4 if half else 0)
    # Each entry is one rounded product: the same bits as `matmul`.
    np.testing.assert_array_equal(gb, np.matmul(a.T, gy))
    np.testing.assert_allclose(ga, gy.astype(np.float64) @ b.T.astype(
        np.float64), rtol=1e-2 if dtype == "float16" else 1e-5, atol=1e-5)


def test_batch_one_dense_gradients_match_a_batch_of_two():
    # The batch-1 route against the general GEMM: a second, zero row adds
    # nothing to the kernel gradient.
    layer = layers.Dense(4)
    x = np.random.default_rng(1).standard_normal((1, 6)).astype("float32")
    layer.build((None, 6))
    grads = []
    for xs in (x, np.concatenate([x, np.zeros_like(x)])):
        with gkeras.ops.GradientTape() as tape:
            y = layer(xs)
            loss = gkeras.ops.sum(y[:1] * y[:1])
        grads.append(tape.gradient(loss, layer.trainable_variables))
    for g1, g2 in zip(*grads):
        np.testing.assert_allclose(np.asarray(g1), np.asarray(g2),
                                   rtol=1e-6)


@pytest.mark.parametrize("value", [
    "float32", "float16", "bfloat16", "int32", "bool", "float", "int",
    np.float32, np.int64, float, int, bool, np.dtype("float64"),
    np.dtype(">f4"), np.dtype("uint8")])
def test_standardize_dtype_cache_gives_the_uncached_name(value):
    first = backend.standardize_dtype(value)
    assert first == backend._standardize_dtype(value)
    assert backend.standardize_dtype(value) == first


def test_standardize_dtype_errors_are_not_cached():
    for _ in range(2):
        with pytest.raises(TypeError):
            backend.standardize_dtype("not-a-dtype")
    assert "not-a-dtype" not in backend._DTYPE_NAMES
    assert backend.standardize_dtype(None) == backend.floatx()


def test_input_spec_checked_again_for_a_new_shape_or_spec():
    layer = layers.Dense(3)
    ok = np.zeros((2, 4), "float32")
    layer(ok)
    layer(ok)  # the cached shape
    with pytest.raises(ValueError, match="incompatible"):
        layer(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match="incompatible"):
        layer(np.zeros((4,), "float32"))  # below min_ndim
    layer(np.zeros((7, 4), "float32"))
    # A new spec object is checked even for a shape seen before.
    layer.input_spec = layers.InputSpec(ndim=3)
    with pytest.raises(ValueError, match="ndim=3"):
        layer(ok)


def test_layer_returning_a_non_tensor_still_raises():
    class Bad(layers.Layer):
        def call(self, x):
            return "oops"

    with pytest.raises(TypeError, match="must return a tensor"):
        Bad()(np.zeros((2, 2), "float32"))


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("shape", [(1, 5), (3, 7), (2, 3, 5)])
def test_affine_without_a_tape_matches_the_graph_node(relu, bias, shape):
    from gkeras.ops.affine import affine
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype("float32")
    k = rng.standard_normal((shape[-1], 4)).astype("float32")
    b = rng.standard_normal(4).astype("float32") if bias else None
    plain = affine(x, k, b, relu=relu)
    with gkeras.ops.GradientTape() as tape:
        xv = gkeras.Variable(x)
        graph = affine(xv, k, b, relu=relu)
    assert plain.creator is None and graph.creator is not None
    np.testing.assert_array_equal(np.asarray(plain), np.asarray(graph))
    ref = x.astype(np.float64) @ k + (0 if b is None else b)
    if relu:
        ref = np.maximum(ref, 0)
    np.testing.assert_allclose(np.asarray(plain), ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_loss_tracker_scalar_fast_path_matches_the_general_path(dtype):
    from gkeras.metrics import Mean
    from gkeras.ops.engine import Tensor
    rng = np.random.default_rng(4)
    fast, general = Mean(dtype=dtype), Mean(dtype=dtype)
    total = count = 0.0
    for i, n in enumerate([32, 1, 0, 7, 32, 3]):
        loss = np.asarray(rng.standard_normal() * 10, dtype)
        # A reduction's NumPy scalar (the compiled loss) or a 0-d array.
        fast.update_state(Tensor(loss[()] if i % 2 else loss),
                          sample_weight=n)
        general.update_state(Tensor(loss), sample_weight=np.asarray(n))
        total += float(loss) * n
        count += n
    for a, b in ((fast.total, general.total), (fast.count, general.count)):
        assert a.data.dtype == b.data.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(fast.result(), general.result())
    np.testing.assert_allclose(float(fast.result()), total / count,
                               rtol=1e-5)
    # Other inputs keep the general path: a bool weight, a float32 loss
    # on a float64 metric, per-sample values.
    m = Mean()
    m.update_state(np.float32(2.0), sample_weight=True)
    m.update_state(np.array([1.0, 3.0], "float32"), sample_weight=2)
    np.testing.assert_allclose(float(m.result()), (2 + 2 + 6) / 5)

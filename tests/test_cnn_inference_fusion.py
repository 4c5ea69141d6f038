"""Inference fusion of Conv2D -> BatchNormalization -> ReLU -> MaxPooling2D
chains (models/inference_fusion.py, ops/conv_fused.py,
backend/cpu/conv_fused.py) against the layers run one by one
(`inference_fusion.disabled()`) and a float64 NumPy reference.

1. chain variants through Sequential: with/without the pool, the BN, the
   ReLU (Activation or ReLU()), conv bias, BN center/scale off, epsilon,
   'valid' padding, strides, dilation, a conv with a ReLU activation,
   narrow (3 channels) and wide inputs, batch 1, odd sizes;
2. what is not fused: chains broken by a shared intermediate or a model
   output (Functional), training=True, mixed_float16, a leaky ReLU, the
   JIT off, a gradient tape; all still give the reference values;
3. weights changed between calls (set_weights, assign of the moving
   statistics) take effect at once; NaN inputs propagate as unfused;
4. the backend kernel (`conv_affine_relu_pool`) on each of its paths
   (narrow patches, im2col, Winograd with its NaN/inf fallback, float64,
   no kernel-callable BLAS) against a float64 reference, on 3 pool
   threads with one sample a block, and what it declines.
"""

import os
import sys

import numpy as np
import pytest

pytest.importorskip("numba")
pytestmark = pytest.mark.usefixtures("jit_on")

sys.path.insert(0, os.path.dirname(__file__))
from test_conv_pool_bn_primitives import ref_conv, ref_pool  # noqa: E402

import gkeras  # noqa: E402
from gkeras import layers as L  # noqa: E402
from gkeras.backend.cpu import conv_fused, jit  # noqa: E402
from gkeras.models import inference_fusion  # noqa: E402


DEFAULTS = {name: getattr(conv_fused, name) for name in (
    "NARROW_MIN_ENTRIES", "WINOGRAD_MIN_TILES")}


@pytest.fixture(autouse=True)
def every_path_at_small_sizes(monkeypatch):
    """Channel-first patches and Winograd from the first sample (the
    defaults keep small batches on im2col; `thresholds` restores them)."""
    for name in DEFAULTS:
        monkeypatch.setattr(conv_fused, name, 0)


@pytest.fixture
def fused_calls(monkeypatch):
    """Counts the fused convolutions that ran (returned an output)."""
    calls = []
    real = conv_fused.conv_affine_relu_pool

    def spy(*args):
        y = real(*args)
        if y is not None:
            calls.append(y.shape)
        return y
    monkeypatch.setattr(conv_fused, "conv_affine_relu_pool", spy)
    return calls


def _randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    for w in model.weights:
        v = rng.standard_normal(w.shape).astype(w.dtype.name if hasattr(
            w.dtype, "name") else w.dtype) * 0.5
        if "variance" in w.name:
            v = np.abs(v) + 0.2
        w.assign(v)


def _pads(n, k, s, d, padding):
    if padding == "valid":
        return (0, 0)
    keff = d * (k - 1) + 1
    out = -(-n // s)
    total = max((out - 1) * s + keff - n, 0)
    return (total // 2, total - total // 2)


def ref_chain(x, conv, bn=None, relu=False, pool=None):
    """float64 reference of one chain from the layers' weights."""
    w = np.asarray(conv.kernel.numpy(), np.float64)
    pads = [_pads(x.shape[1 + i], w.shape[i], conv.strides[i],
                  conv.dilation_rate[i], conv.padding) for i in range(2)]
    y = ref_conv(x, w, conv.strides, pads, conv.dilation_rate, 1)
    if conv.use_bias:
        y = y + conv.bias.numpy().astype(np.float64)
    if conv.activation is gkeras.activations.relu:
        y = np.maximum(y, 0)
    if bn is not None:
        mean = bn.moving_mean.numpy().astype(np.float64)
        var = bn.moving_variance.numpy().astype(np.float64)
        y = (y - mean) / np.sqrt(var + bn.epsilon)
        if bn.scale:
            y = y * bn.gamma.numpy()
        if bn.center:
            y = y + bn.beta.numpy()
    if relu:
        y = np.maximum(y, 0)
    if pool is not None:
        y = ref_pool(y, pool.pool_size, pool.strides, ((0, 0), (0, 0)),
                     "max")
    return y


def _both(model, x):
    fused = model.predict_on_batch(x)
    with inference_fusion.disabled():
        plain = model.predict_on_batch(x)
    return fused, plain


CASES = [
    # (input shape, conv kwargs, bn kwargs or None, relu kind, pool kwargs)
    ((4, 12, 12, 3), dict(filters=8, kernel_size=3, padding="same"), {},
     "activation", dict(pool_size=2)),
    ((3, 11, 9, 5), dict(filters=7, kernel_size=3, padding="same"), {},
     "relu_layer", dict(pool_size=2)),
    ((1, 9, 9, 3), dict(filters=4, kernel_size=3, use_bias=False),
     dict(center=False, scale=False, epsilon=0.1), "activation", None),
    ((2, 13, 10, 6), dict(filters=5, kernel_size=(3, 2), strides=2,
                          padding="valid"),
     dict(scale=False), None, dict(pool_size=(2, 3), strides=(1, 2))),
    ((2, 14, 14, 4), dict(filters=6, kernel_size=3, dilation_rate=2,
                          padding="same"),
     dict(center=False, epsilon=1e-5), "activation", dict(pool_size=3)),
    ((2, 10, 10, 9), dict(filters=16, kernel_size=1), {}, "relu_layer",
     None),
    ((2, 8, 8, 3), dict(filters=4, kernel_size=3, activation="relu",
                        padding="same"), None, None, dict(pool_size=2)),
    ((5, 8, 8, 2), dict(filters=3, kernel_size=3), None, "activation",
     None),
    ((2, 16, 16, 3), dict(filters=5, kernel_size=3, padding="same"), {},
     None, None),
    # 'same' with stride 2: the padding's odd cell goes after.
    ((2, 10, 9, 5), dict(filters=4, kernel_size=3, strides=2,
                         padding="same"), {}, "activation", None),
    ((2, 8, 8, 16), dict(filters=6, kernel_size=(2, 3), strides=(2, 1),
                         padding="same"), {}, "relu_layer",
     dict(pool_size=2)),
    # 16+ channels, 3x3, stride 1: the Winograd path.
    ((3, 10, 10, 16), dict(filters=8, kernel_size=3, padding="same"), {},
     "activation", dict(pool_size=2)),
    ((2, 9, 7, 17), dict(filters=5, kernel_size=3, padding="valid"),
     dict(center=False), "relu_layer", None),
]


@pytest.mark.parametrize("shape,ck,bk,relu,pk", CASES)
def test_chain_matches_layers_and_float64(shape, ck, bk, relu, pk,
                                          fused_calls):
    conv = L.Conv2D(**ck)
    seq = [gkeras.Input(shape[1:]), conv]
    bn = pool = None
    if bk is not None:
        bn = L.BatchNormalization(**bk)
        seq.append(bn)
    if relu == "activation":
        seq.append(L.Activation("relu"))
    elif relu == "relu_layer":
        seq.append(L.ReLU())
    if pk is not None:
        pool = L.MaxPooling2D(**pk)
        seq.append(pool)
    model = gkeras.Sequential(seq)
    _randomize(model)
    x = np.random.default_rng(1).standard_normal(shape).astype("float32")
    fused, plain = _both(model, x)
    assert len(fused_calls) == 1
    ref = ref_chain(x, conv, bn, relu is not None, pool)
    assert fused.shape == plain.shape == ref.shape
    np.testing.assert_allclose(fused, plain, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fused, ref, rtol=1e-4, atol=1e-4)
    # predict (batches) and evaluate-style calls go the same way.
    np.testing.assert_allclose(model.predict(x, batch_size=2, verbose=0),
                               plain, rtol=1e-5, atol=1e-5)


def test_float64_policy_chain(fused_calls):
    model = gkeras.Sequential([
        gkeras.Input((9, 9, 4), dtype="float64"),
        L.Conv2D(6, 3, padding="same", dtype="float64"),
        L.BatchNormalization(dtype="float64"),
        L.Activation("relu", dtype="float64"),
        L.MaxPooling2D(2, dtype="float64")])
    _randomize(model)
    x = np.random.default_rng(2).standard_normal((3, 9, 9, 4))
    fused, plain = _both(model, x)
    assert fused_calls and fused.dtype == np.float64
    np.testing.assert_allclose(fused, plain, rtol=1e-12, atol=1e-12)


def _cnn(n_blocks=2, channels=3):
    model = gkeras.Sequential([gkeras.Input((16, 16, channels))])
    for f in (8, 12)[:n_blocks]:
        model.add(L.Conv2D(f, 3, padding="same"))
        model.add(L.BatchNormalization())
        model.add(L.Activation("relu"))
        model.add(L.MaxPooling2D(2))
    model.add(L.Flatten())
    model.add(L.Dense(5))
    _randomize(model)
    return model


def test_two_chains_and_weight_changes(fused_calls):
    model = _cnn()
    x = np.random.default_rng(3).standard_normal((4, 16, 16, 3)).astype(
        "float32")
    fused, plain = _both(model, x)
    assert len(fused_calls) == 2
    np.testing.assert_allclose(fused, plain, rtol=1e-5, atol=1e-5)
    # set_weights, then the moving statistics assigned directly.
    _randomize(model, seed=7)
    bn = model.layers[1]
    bn.moving_mean.assign(np.full(bn.moving_mean.shape, 0.3, "float32"))
    bn.moving_variance.assign(np.full(bn.moving_mean.shape, 2.0, "float32"))
    model.layers[0].set_weights([w * 2 for w in
                                 model.layers[0].get_weights()])
    fused2, plain2 = _both(model, x)
    assert np.abs(fused2 - fused).max() > 1e-2
    np.testing.assert_allclose(fused2, plain2, rtol=1e-5, atol=1e-5)
    # trainable toggles change nothing in inference, fused or not.
    model.trainable = False
    np.testing.assert_allclose(model.predict_on_batch(x), plain2,
                               rtol=1e-5, atol=1e-5)


def test_nan_propagates_as_unfused(fused_calls):
    model = _cnn(1)
    x = np.random.default_rng(4).standard_normal((2, 16, 16, 3)).astype(
        "float32")
    x[0, 3, 4, 1] = np.nan
    x[1, 10, 2, 0] = np.inf
    fused, plain = _both(model, x)
    assert fused_calls
    np.testing.assert_array_equal(np.isnan(fused), np.isnan(plain))
    ok = ~np.isnan(plain)
    np.testing.assert_allclose(fused[ok], plain[ok], rtol=1e-5, atol=1e-5)


def test_training_true_not_fused(fused_calls):
    model = _cnn()
    x = np.random.default_rng(5).standard_normal((4, 16, 16, 3)).astype(
        "float32")
    y = model(x, training=True)
    assert not fused_calls
    with inference_fusion.disabled():
        y2 = model(x, training=True)
    np.testing.assert_allclose(np.asarray(y), np.asarray(y2), rtol=1e-5,
                               atol=1e-5)
    # model(x) (training None) is inference too: fused or not, the same.
    with inference_fusion.disabled():
        y3 = model(x)
    np.testing.assert_allclose(np.asarray(model(x)), np.asarray(y3),
                               rtol=1e-5, atol=1e-5)


def test_disabled_also_applies_to_a_cached_plan(fused_calls):
    model = _cnn(1)
    x = np.random.default_rng(12).standard_normal((2, 16, 16, 3)).astype(
        "float32")
    plan = inference_fusion.inference_plan(model._functional_graph)
    chain = next(op for op, *_ in plan
                 if isinstance(op, inference_fusion.FusedChain))
    from gkeras.ops.engine import Tensor
    with inference_fusion.disabled():
        chain(Tensor(x))
    assert not fused_calls
    chain(Tensor(x))
    assert len(fused_calls) == 1


def test_tape_jit_off_and_mixed_precision_not_fused(fused_calls):
    model = _cnn(1)
    x = np.random.default_rng(6).standard_normal((2, 16, 16, 3)).astype(
        "float32")
    with inference_fusion.disabled():
        plain = model.predict_on_batch(x)
    with jit.disabled():
        np.testing.assert_allclose(model.predict_on_batch(x), plain,
                                   rtol=1e-5, atol=1e-5)
    from gkeras.ops.engine import Tensor
    from gkeras.models.inference_fusion import FusedChain
    chain = FusedChain(model.layers[:4])
    import gkeras.ops.engine as engine
    engine._STATE.recording += 1
    try:
        assert chain._fused(Tensor(x)) is None
    finally:
        engine._STATE.recording -= 1
    assert not fused_calls
    gkeras.config.set_dtype_policy("mixed_float16")
    try:
        mixed = _cnn(1)
        mixed.set_weights(model.get_weights())
        out = mixed.predict_on_batch(x)
    finally:
        gkeras.config.set_dtype_policy("float32")
    assert not fused_calls
    np.testing.assert_allclose(np.asarray(out, "float32"), plain, rtol=2e-2,
                               atol=2e-2)


def test_functional_broken_chains(fused_calls):
    inp = gkeras.Input((10, 10, 4))
    c1 = L.Conv2D(6, 3, padding="same")(inp)
    b1 = L.BatchNormalization()(c1)
    r1 = L.Activation("relu")(b1)
    p1 = L.MaxPooling2D(2)(r1)
    # b2 feeds two layers: the second chain stops at the BN.
    c2 = L.Conv2D(5, 3, padding="same")(p1)
    b2 = L.BatchNormalization()(c2)
    r2 = L.ReLU()(b2)
    side = L.Activation("tanh")(b2)
    # c3's output is a model output: c3 alone (with no ReLU).
    c3 = L.Conv2D(4, 1)(r2)
    r3 = L.Activation("relu")(c3)
    # a leaky ReLU ends a chain (c4 alone).
    c4 = L.Conv2D(3, 3)(p1)
    l4 = L.ReLU(negative_slope=0.1)(c4)
    model = gkeras.Model(inp, [r3, side, c3, l4])
    _randomize(model)
    plan = inference_fusion.inference_plan(model)
    chains = [[l.name for l in op.layers] for op, *_ in plan
              if isinstance(op, inference_fusion.FusedChain)]
    expected = [[t._keras_history.operation.name for t in ts]
                for ts in ((c1, b1, r1, p1), (c2, b2), (c3,), (c4,))]
    assert sorted(chains) == sorted(expected)
    x = np.random.default_rng(8).standard_normal((3, 10, 10, 4)).astype(
        "float32")
    fused, plain = _both(model, x)
    assert len(fused_calls) == 4
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_input_cast_and_errors(fused_calls):
    model = _cnn(1)
    x = np.random.default_rng(9).standard_normal((2, 16, 16, 3))
    # float64 data into a float32 model: cast at the model's input.
    with inference_fusion.disabled():
        plain = model.predict_on_batch(x.astype("float32"))
    np.testing.assert_allclose(model.predict_on_batch(x), plain, rtol=1e-5,
                               atol=1e-5)
    # a wrong channel count still raises the layer's error.
    with pytest.raises(ValueError):
        model.predict_on_batch(np.zeros((2, 16, 16, 4), "float32"))


# ------------------------------------------------------ the backend kernel
def _ref_fused(x, w, bias, scale, shift, relu, pool, strides, pad, dil):
    y = ref_conv(x, w, strides, pad, dil, 1) + bias
    y = y * scale.astype(np.float64) + shift
    if relu:
        y = np.maximum(y, 0)
    if pool is not None:
        y = ref_pool(y, pool[0], pool[1], ((0, 0), (0, 0)), "max")
    return y


KERNEL_CASES = [
    # (x shape, kernel size, F, strides, pads, dilation, relu, pool)
    ((3, 12, 12, 3), (3, 3), 8, (1, 1), ((1, 1), (1, 1)), (1, 1), True,
     ((2, 2), (2, 2))),                                     # narrow
    ((2, 9, 11, 2), (3, 2), 5, (2, 1), ((0, 0), (1, 0)), (1, 1), False,
     None),                                                  # narrow
    ((3, 10, 9, 8), (3, 3), 6, (1, 2), ((1, 1), (1, 1)), (2, 1), True,
     ((3, 2), (2, 2))),                                     # im2col
    ((4, 9, 9, 16), (3, 3), 7, (1, 1), ((1, 1), (1, 1)), (1, 1), True,
     ((2, 2), (2, 2))),                                     # Winograd
    ((3, 7, 10, 24), (3, 3), 9, (1, 1), ((0, 0), (0, 0)), (1, 1), False,
     None),                                                  # Winograd
    ((1, 5, 6, 16), (3, 3), 4, (1, 1), ((1, 1), (1, 1)), (1, 1), True,
     ((2, 3), (1, 2))),                                     # Winograd
    ((3, 8, 10, 16), (3, 3), 5, (1, 1), ((1, 1), (1, 1)), (1, 1), False,
     ((2, 2), (2, 2))),                     # Winograd, pool on the tiles
    ((2, 6, 4, 20), (3, 3), 7, (1, 1), ((1, 1), (1, 1)), (1, 1), True,
     ((2, 2), (2, 2))),                     # Winograd, pool on the tiles
]


@pytest.fixture
def three_threads(monkeypatch):
    """Three pool threads, every split taken, one sample a block."""
    from gkeras.backend.cpu import parallel
    monkeypatch.setitem(parallel._STATE, "n", 3)
    monkeypatch.setattr(conv_fused, "MIN_PARALLEL_FLOPS", 0)
    monkeypatch.setattr(conv_fused, "BLOCK_BYTES", 1)
    monkeypatch.setattr(conv_fused, "WINOGRAD_BLOCK_BYTES", 1)


def _kernel_case(case, dtype, seed=11):
    xs, ks, f, st, pad, dil, relu, pool = case
    r = np.random.default_rng(seed)
    x = r.standard_normal(xs).astype(dtype)
    w = (r.standard_normal((*ks, xs[-1], f)) * 0.3).astype(dtype)
    b, s, t = (r.standard_normal(f).astype(dtype) for _ in range(3))
    return x, w, b, s, t, relu, pool, st, pad, dil


@pytest.mark.parametrize("case", KERNEL_CASES, ids=range(len(KERNEL_CASES)))
@pytest.mark.parametrize("mode", ["inline", "threads", "no_cblas",
                                  "float64", "thresholds"])
def test_kernel_paths_match_float64(case, mode, monkeypatch, request):
    if mode == "thresholds":
        for name, value in DEFAULTS.items():
            monkeypatch.setattr(conv_fused, name, value)
    if mode == "threads":
        request.getfixturevalue("three_threads")
    if mode == "no_cblas":
        from gkeras.backend.cpu import cblas
        monkeypatch.setattr(cblas, "available", lambda: False)
    dtype = np.float64 if mode == "float64" else np.float32
    args = _kernel_case(case, dtype)
    y = conv_fused.conv_affine_relu_pool(*args)
    ref = _ref_fused(*args)
    assert y.shape == ref.shape and y.dtype == dtype
    tol = 1e-10 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(y, ref, rtol=tol, atol=tol * 10)


@pytest.mark.parametrize("threads", [False, True])
def test_winograd_block_with_nan_or_inf_runs_im2col(threads, request):
    if threads:
        request.getfixturevalue("three_threads")
    x, w, b, s, t, relu, pool, st, pad, dil = _kernel_case(
        KERNEL_CASES[3], np.float32)
    x[1, 0, 0, 2] = np.nan
    x[2, 8, 8, 0] = np.inf
    x[3, 4, 4, 1] = -np.inf
    y = conv_fused.conv_affine_relu_pool(x, w, b, s, t, False, None, st,
                                         pad, dil)
    with jit.disabled():
        from gkeras.backend.cpu import conv as cpu_conv
        y0 = cpu_conv.conv_forward(x, w, st, pad, dil, 1)
    y0 = (y0 + b) * s + t
    np.testing.assert_array_equal(np.isnan(y), np.isnan(y0))
    np.testing.assert_array_equal(np.isinf(y), np.isinf(y0))
    ok = np.isfinite(y0)
    np.testing.assert_allclose(y[ok], y0[ok], rtol=2e-5, atol=2e-4)


def test_kernel_declines():
    x, w, b, s, t, relu, pool, st, pad, dil = _kernel_case(
        KERNEL_CASES[0], np.float32)
    f = conv_fused.conv_affine_relu_pool
    assert f(x.astype(np.float16), w, b, s, t, relu, pool, st, pad,
             dil) is None
    assert f(x[:, ::2], w, b, s, t, relu, pool, st, pad, dil) is None
    assert f(x, w.astype(np.float64), b, s, t, relu, pool, st, pad,
             dil) is None
    assert f(x, w, b[:-1], s, t, relu, pool, st, pad, dil) is None
    assert f(x[:, :1, :1], w, b, s, t, relu, ((2, 2), (2, 2)), st,
             ((1, 1), (1, 1)), dil) is None
    with jit.disabled():
        assert f(x, w, b, s, t, relu, pool, st, pad, dil) is None

"""Convolution layers and ops against naive float64 NumPy references,
finite-difference gradients, and the layer contract."""

import numpy as np
import pytest

import gkeras
from gkeras import layers, ops
from harness import check_grad, run_layer_test

RNG = np.random.default_rng(42)


# ---------------------------------------------------------------- references
def keras_pads(spatial, ksize, strides, dilation, padding):
    """Keras/TF 'same' puts the odd cell after; 'causal' all before."""
    pads = []
    for n, k, s, d in zip(spatial, ksize, strides, dilation):
        ke = d * (k - 1) + 1
        if padding == "valid":
            pads.append((0, 0))
        elif padding == "causal":
            pads.append((ke - 1, 0))
        else:
            out = -(-n // s)
            tot = max((out - 1) * s + ke - n, 0)
            pads.append((tot // 2, tot - tot // 2))
    return pads


def ref_conv(x, w, strides, dilation, padding, groups=1):
    """Loops over every output cell: y[n, o, f] = sum x[n, o*s + t*d, c] w."""
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    r = x.ndim - 2
    ks = w.shape[:r]
    pads = keras_pads(x.shape[1:-1], ks, strides, dilation, padding)
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    c, f = x.shape[-1], w.shape[-1]
    cg, fg = c // groups, f // groups
    out = [(xp.shape[1 + i] - dilation[i] * (ks[i] - 1) - 1) // strides[i] + 1
           for i in range(r)]
    y = np.zeros((x.shape[0], *out, f))
    for o in np.ndindex(*out):
        for t in np.ndindex(*ks):
            idx = tuple(o[i] * strides[i] + t[i] * dilation[i]
                        for i in range(r))
            patch = xp[(slice(None),) + idx]          # (N, C)
            for g in range(groups):
                y[(slice(None),) + o + (slice(g * fg, (g + 1) * fg),)] += \
                    patch[:, g * cg:(g + 1) * cg] @ w[t][:, g * fg:(g + 1) * fg]
    return y


def ref_conv_transpose(x, w, strides, dilation, padding, output_padding):
    """Scatter each input cell through the kernel into the full output,
    then crop as Keras (JAX) does."""
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)              # (*k, F, C)
    r = x.ndim - 2
    ks = w.shape[:r]
    full = [(x.shape[1 + i] - 1) * strides[i] + dilation[i] * (ks[i] - 1) + 1
            for i in range(r)]
    yf = np.zeros((x.shape[0], *full, w.shape[-2]))
    for i_ in np.ndindex(*x.shape[1:-1]):
        for t in np.ndindex(*ks):
            j = tuple(i_[a] * strides[a] + t[a] * dilation[a]
                      for a in range(r))
            yf[(slice(None),) + j] += x[(slice(None),) + i_] @ w[t].T
    # Keras: output length and the offset of its first cell in `full`.
    sl, shape = [], []
    for a in range(r):
        n, k, s, d = x.shape[1 + a], ks[a], strides[a], dilation[a]
        ke = d * (k - 1) + 1
        op = None if output_padding is None else output_padding[a]
        if padding == "valid":
            length = n * s + max(ke - s, 0) if op is None else \
                (n - 1) * s + ke + op
            start = 0
        else:
            if op is None:
                length = n * s
                pad_len = s + ke - 2
            else:
                length = (n - 1) * s + ke - 2 * (ke // 2) + op
                pad_len = ke + ke % 2 - 2 + op
            left = min(pad_len // 2 + pad_len % 2, ke - 1)
            start = ke - 1 - left
        shape.append(length)
        sl.append((start, length))
    y = np.zeros((x.shape[0], *shape, w.shape[-2]))
    src = tuple(slice(st, min(st + ln, full[a])) for a, (st, ln)
                in enumerate(sl))
    dst = tuple(slice(0, min(ln, full[a] - st)) for a, (st, ln)
                in enumerate(sl))
    y[(slice(None),) + dst] = yf[(slice(None),) + src]
    return y


def ref_depthwise(x, w, strides, dilation, padding):
    """Each channel c convolved with w[..., c, m] -> channel c * M + m."""
    r = x.ndim - 2
    c, m = w.shape[-2], w.shape[-1]
    outs = []
    for ch in range(c):
        wc = w[(Ellipsis, slice(ch, ch + 1), slice(None))]   # (*k, 1, M)
        outs.append(ref_conv(x[..., ch:ch + 1], wc, strides, dilation,
                             padding))
    return np.concatenate(outs, axis=-1) if r else None


def _cf(x, r):
    return np.moveaxis(x, -1, 1)


def _set(layer, *ws):
    layer.set_weights([np.asarray(w, np.float32) for w in ws])


# ------------------------------------------------------------- forward tests
CONV_CASES = [
    # rank, spatial, C, F, k, strides, dilation, padding, groups
    (1, (11,), 3, 4, (3,), (1,), (1,), "valid", 1),
    (1, (12,), 3, 5, (4,), (3,), (1,), "same", 1),
    (1, (10,), 2, 3, (3,), (1,), (2,), "causal", 1),
    (1, (9,), 4, 6, (2,), (2,), (1,), "same", 2),
    (2, (7, 6), 2, 3, (3, 3), (2, 2), (1, 1), "same", 1),
    (2, (9, 8), 3, 4, (2, 3), (1, 1), (2, 1), "same", 1),
    (2, (8, 7), 4, 4, (3, 2), (2, 3), (1, 1), "valid", 2),
    (2, (6, 5), 6, 3, (1, 1), (1, 1), (1, 1), "valid", 3),
    (3, (5, 6, 4), 2, 3, (3, 2, 2), (1, 2, 1), (1, 1, 1), "same", 1),
]


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv_layer_matches_naive_reference(case, data_format):
    r, sp, c, f, k, s, d, pad, groups = case
    cls = {1: layers.Conv1D, 2: layers.Conv2D, 3: layers.Conv3D}[r]
    x = RNG.standard_normal((2, *sp, c)).astype(np.float32)
    w = RNG.standard_normal((*k, c // groups, f)).astype(np.float32)
    b = RNG.standard_normal(f).astype(np.float32)
    layer = cls(f, k, strides=s, dilation_rate=d, padding=pad, groups=groups,
                data_format=data_format, activation="relu")
    xin = x if data_format == "channels_last" else _cf(x, r)
    layer.build(xin.shape)
    _set(layer, w, b)
    got = np.asarray(layer(xin))
    want = np.maximum(ref_conv(x, w, s, d, pad, groups) + b, 0)
    if data_format == "channels_first":
        want = _cf(want, r)
    assert got.shape == layer.compute_output_shape(xin.shape)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


TRANSPOSE_CASES = [
    (1, (5,), 3, 2, (3,), (2,), (1,), "valid", None),
    (1, (6,), 2, 3, (4,), (3,), (1,), "same", None),
    (1, (5,), 2, 2, (3,), (2,), (1,), "same", (1,)),
    (2, (4, 3), 3, 2, (3, 2), (2, 1), (1, 1), "same", None),
    (2, (3, 4), 2, 3, (3, 3), (2, 3), (1, 1), "valid", (1, 2)),
    (2, (4, 4), 2, 2, (3, 2), (1, 1), (2, 1), "same", None),
    (3, (2, 3, 2), 2, 2, (2, 3, 2), (2, 1, 2), (1, 1, 1), "same", None),
]


@pytest.mark.parametrize("case", TRANSPOSE_CASES)
def test_conv_transpose_matches_naive_reference(case):
    r, sp, c, f, k, s, d, pad, op = case
    cls = {1: layers.Conv1DTranspose, 2: layers.Conv2DTranspose,
           3: layers.Conv3DTranspose}[r]
    x = RNG.standard_normal((2, *sp, c)).astype(np.float32)
    w = RNG.standard_normal((*k, f, c)).astype(np.float32)
    b = RNG.standard_normal(f).astype(np.float32)
    layer = cls(f, k, strides=s, dilation_rate=d, padding=pad,
                output_padding=op)
    layer.build(x.shape)
    _set(layer, w, b)
    got = np.asarray(layer(x))
    want = ref_conv_transpose(x, w, s, d, pad, op) + b
    assert got.shape == want.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_conv_transpose_valid_by_hand():
    # Ones kernel of width 3, stride 2: each input cell adds itself to three
    # consecutive outputs starting at 2 * i.
    layer = layers.Conv1DTranspose(1, 3, strides=2, use_bias=False,
                                   kernel_initializer="ones")
    y = np.asarray(layer(np.array([[[1.0], [10.0]]], np.float32)))
    np.testing.assert_array_equal(y[0, :, 0], [1, 1, 11, 10, 10])


@pytest.mark.parametrize("r,sp,c,m,k,s,d,pad", [
    (1, (9,), 3, 2, (3,), (2,), (1,), "same"),
    (2, (7, 6), 3, 1, (3, 3), (1, 1), (2, 1), "same"),
    (2, (8, 7), 2, 3, (2, 3), (2, 2), (1, 1), "valid"),
])
def test_depthwise_and_separable_match_reference(r, sp, c, m, k, s, d, pad):
    x = RNG.standard_normal((2, *sp, c)).astype(np.float32)
    dw = RNG.standard_normal((*k, c, m)).astype(np.float32)
    b = RNG.standard_normal(c * m).astype(np.float32)
    cls = {1: layers.DepthwiseConv1D, 2: layers.DepthwiseConv2D}[r]
    layer = cls(k, strides=s, dilation_rate=d, padding=pad,
                depth_multiplier=m)
    layer.build(x.shape)
    _set(layer, dw, b)
    want = ref_depthwise(x, dw, s, d, pad)
    np.testing.assert_allclose(np.asarray(layer(x)), want + b, rtol=1e-4,
                               atol=1e-4)
    pw = RNG.standard_normal((1,) * r + (c * m, 4)).astype(np.float32)
    b2 = RNG.standard_normal(4).astype(np.float32)
    scls = {1: layers.SeparableConv1D, 2: layers.SeparableConv2D}[r]
    sep = scls(4, k, strides=s, dilation_rate=d, padding=pad,
               depth_multiplier=m)
    sep.build(x.shape)
    assert [w.name for w in sep.weights] == ["depthwise_kernel",
                                             "pointwise_kernel", "bias"]
    _set(sep, dw, pw, b2)
    want2 = want @ pw.reshape(c * m, 4) + b2
    np.testing.assert_allclose(np.asarray(sep(x)), want2, rtol=1e-4,
                               atol=1e-4)


# ---------------------------------------------------------------- gradients
def test_conv_op_gradients():
    x = RNG.standard_normal((2, 6, 5, 4))
    w = RNG.standard_normal((3, 2, 2, 6))
    check_grad(lambda a, b: ops.conv(a, b, strides=(2, 1), padding="same"),
               x, w)
    check_grad(lambda a, b: ops.conv(a, b, dilation_rate=(2, 1)), x, w)
    x1 = RNG.standard_normal((2, 7, 3))
    w1 = RNG.standard_normal((3, 3, 2))
    check_grad(lambda a, b: ops.conv(a, b, padding="same",
                                     data_format="channels_first"),
               RNG.standard_normal((2, 3, 7)), w1)
    check_grad(lambda a, b: ops.conv(a, b, strides=2), x1, w1)


def test_depthwise_transpose_op_gradients():
    x = RNG.standard_normal((2, 5, 6, 3))
    check_grad(lambda a, b: ops.depthwise_conv(a, b, strides=2,
                                               padding="same"),
               x, RNG.standard_normal((3, 2, 3, 2)))
    check_grad(lambda a, b: ops.conv_transpose(a, b, strides=2,
                                               padding="same"),
               RNG.standard_normal((2, 3, 4, 3)),
               RNG.standard_normal((3, 3, 2, 3)))
    check_grad(lambda a, b: ops.conv_transpose(a, b, strides=(2, 3),
                                               output_padding=(1, 2)),
               RNG.standard_normal((1, 3, 2, 2)),
               RNG.standard_normal((2, 3, 3, 2)))
    check_grad(lambda a, b, c: ops.separable_conv(a, b, c, padding="same"),
               RNG.standard_normal((1, 4, 4, 2)),
               RNG.standard_normal((3, 3, 2, 2)),
               RNG.standard_normal((1, 1, 4, 3)))


# ------------------------------------------------------------ layer contract
@pytest.mark.parametrize("cls,kwargs,shape,out", [
    (layers.Conv1D, dict(filters=4, kernel_size=3, padding="causal"),
     (2, 7, 3), (2, 7, 4)),
    (layers.Conv2D, dict(filters=4, kernel_size=3, strides=2,
                         padding="same"), (2, 7, 6, 2), (2, 4, 3, 4)),
    (layers.Conv2D, dict(filters=4, kernel_size=(2, 3), groups=2,
                         data_format="channels_first", use_bias=False),
     (2, 4, 5, 6), (2, 4, 4, 4)),
    (layers.Conv3D, dict(filters=2, kernel_size=2), (2, 3, 4, 3, 2),
     (2, 2, 3, 2, 2)),
    (layers.Conv1DTranspose, dict(filters=3, kernel_size=3, strides=2),
     (2, 4, 2), (2, 9, 3)),
    (layers.Conv2DTranspose, dict(filters=3, kernel_size=3, strides=2,
                                  padding="same"), (2, 3, 4, 2),
     (2, 6, 8, 3)),
    (layers.Conv3DTranspose, dict(filters=2, kernel_size=2, strides=2),
     (1, 2, 2, 2, 2), (1, 4, 4, 4, 2)),
    (layers.DepthwiseConv1D, dict(kernel_size=3, depth_multiplier=2),
     (2, 6, 3), (2, 4, 6)),
    (layers.DepthwiseConv2D, dict(kernel_size=3, padding="same"),
     (2, 5, 5, 3), (2, 5, 5, 3)),
    (layers.SeparableConv1D, dict(filters=4, kernel_size=3), (2, 6, 3),
     (2, 4, 4)),
    (layers.SeparableConv2D, dict(filters=4, kernel_size=3,
                                  depth_multiplier=2), (2, 5, 5, 3),
     (2, 3, 3, 4)),
])
def test_layer_contract(cls, kwargs, shape, out):
    n_train = 1 if kwargs.get("use_bias") is False else 2
    if cls in (layers.SeparableConv1D, layers.SeparableConv2D):
        n_train = 3
    run_layer_test(cls, kwargs, input_shape=shape, expected_output_shape=out,
                   expected_num_trainable_weights=n_train,
                   expected_num_non_trainable_weights=0)


def test_weight_names_and_config_keys():
    layer = layers.Conv2D(8, 3, name="c")
    layer.build((None, 5, 5, 3))
    assert [(w.name, tuple(w.shape)) for w in layer.weights] == [
        ("kernel", (3, 3, 3, 8)), ("bias", (8,))]
    cfg = layer.get_config()
    assert cfg["kernel_size"] == (3, 3) and cfg["strides"] == (1, 1)
    assert cfg["groups"] == 1 and cfg["padding"] == "valid"
    t = layers.Conv2DTranspose(4, 3, output_padding=1, strides=2)
    t.build((None, 4, 4, 3))
    assert tuple(t.kernel.shape) == (3, 3, 4, 3)
    assert t.get_config()["output_padding"] == (1, 1)
    assert "groups" not in t.get_config()
    d = layers.DepthwiseConv2D(3, depth_multiplier=2)
    d.build((None, 5, 5, 3))
    assert [(w.name, tuple(w.shape)) for w in d.weights] == [
        ("kernel", (3, 3, 3, 2)), ("bias", (6,))]
    assert layers.Convolution2D is layers.Conv2D


# ------------------------------------------------------------------- errors
def test_conv2d_on_image_without_channel_axis_says_how_to_fix():
    layer = layers.Conv2D(4, 3, name="conv_a")
    with pytest.raises(ValueError) as e:
        layer(np.zeros((2, 28, 28), np.float32))
    msg = str(e.value)
    assert "conv_a" in msg and "(batch_size, height, width, channels)" in msg
    assert "x[..., None]" in msg and "(2, 28, 28)" in msg
    with pytest.raises(ValueError, match=r"x\[\.\.\., None\]"):
        gkeras.Sequential([layers.Conv2D(4, 3, input_shape=(28, 28))])


def test_kernel_larger_than_input_and_groups_errors():
    with pytest.raises(ValueError, match=r"conv_b.*larger than the padded"):
        layers.Conv2D(2, 5, name="conv_b")(np.zeros((1, 3, 8, 1), "float32"))
    with pytest.raises(ValueError, match=r"conv_c.*output would have size"):
        gkeras.Sequential([gkeras.Input((4, 4, 1)),
                           layers.Conv2D(2, 5, name="conv_c")])
    with pytest.raises(ValueError, match=r"conv_d.*divisible.*groups=2.*3 "
                                         r"channels"):
        layers.Conv2D(4, 1, groups=2, name="conv_d")(
            np.zeros((1, 3, 3, 3), "float32"))
    with pytest.raises(ValueError, match="filters must be evenly divisible"):
        layers.Conv2D(5, 1, groups=2)
    with pytest.raises(ValueError, match="dilation_rate"):
        layers.Conv1D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="padding"):
        layers.Conv2D(2, 3, padding="causal")
    with pytest.raises(NotImplementedError, match="lora"):
        layers.Conv2D(2, 3, lora_rank=4)


# ----------------------------------------------------------- tutorial CNN
def _tutorial_cnn(input_shape, filters=(32, 64, 128)):
    L = layers
    stack = []
    for i, f in enumerate(filters):
        kw = {"input_shape": input_shape} if i == 0 else {}
        stack += [L.Conv2D(f, (3, 3), padding="same", **kw),
                  L.BatchNormalization(), L.Activation("relu"),
                  L.MaxPooling2D((2, 2))]
    return gkeras.Sequential(stack + [L.Flatten(),
                                      L.Dense(128, activation="relu"),
                                      L.Dense(10, activation="softmax")])


def test_tutorial_cnn_trains():
    gkeras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    # Two learnable classes of 32x32x3 images: bright top half or bottom.
    n = 96
    y = rng.integers(0, 2, n)
    x = rng.normal(0, 0.3, (n, 32, 32, 3)).astype("float32")
    x[y == 0, :16] += 1.0
    x[y == 1, 16:] += 1.0
    model = _tutorial_cnn((32, 32, 3), filters=(8, 16, 16))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, y, epochs=4, batch_size=32, verbose=0)
    losses = hist.history["loss"]
    assert losses[-1] < 0.5 * losses[0], losses
    assert model.evaluate(x, y, verbose=0)[1] > 0.9


def test_full_tutorial_cnn_architecture():
    model = _tutorial_cnn((32, 32, 3))
    assert model.output_shape == (None, 10)
    conv = [3 * 3 * 3 * 32 + 32, 3 * 3 * 32 * 64 + 64, 3 * 3 * 64 * 128 + 128]
    bn = [4 * 32, 4 * 64, 4 * 128]
    dense = [4 * 4 * 128 * 128 + 128, 128 * 10 + 10]
    assert model.count_params() == sum(conv + bn + dense) == 357706
    out = model.predict(np.zeros((2, 32, 32, 3), "float32"), verbose=0)
    assert out.shape == (2, 10)

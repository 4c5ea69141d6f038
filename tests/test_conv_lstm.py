"""ConvLSTM1D/2D/3D against a float64 NumPy reference (direct convolution
loops, independent of gkeras's conv), finite-difference gradients, masks,
states, saving and bad input."""

import numpy as np
import pytest

import gkeras
from gkeras import layers
from harness import assert_save_load_roundtrip, check_grad, run_layer_test

RNG = np.random.default_rng(21)


def _conv_ref(x, k, strides, padding, dilation):
    """Direct N-D cross-correlation, channels_last, float64."""
    x = np.asarray(x, np.float64)
    k = np.asarray(k, np.float64)
    rank = x.ndim - 2
    ks = k.shape[:rank]
    eff = [d * (n - 1) + 1 for n, d in zip(ks, dilation)]
    if padding == "same":
        out = [-(-n // s) for n, s in zip(x.shape[1:-1], strides)]
        pads = []
        for n, o, s, e in zip(x.shape[1:-1], out, strides, eff):
            total = max((o - 1) * s + e - n, 0)
            pads.append((total // 2, total - total // 2))
        x = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    out = [(n - e) // s + 1 for n, e, s in zip(x.shape[1:-1], eff, strides)]
    y = np.zeros((x.shape[0], *out, k.shape[-1]))
    for tap in np.ndindex(*ks):
        sl = tuple(slice(t * d, t * d + (o - 1) * s + 1, s)
                   for t, d, o, s in zip(tap, dilation, out, strides))
        y += np.einsum("n...c,cf->n...f", x[(slice(None),) + sl], k[tap])
    return y


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def _conv_lstm_ref(x, kernel, rkernel, bias, strides, padding, dilation,
                   go_backwards=False, mask=None):
    """ConvLSTM over `x` `(N, T, *spatial, C)`; returns (hs, h, c)."""
    T = x.shape[1]
    F = kernel.shape[-1] // 4
    rank = x.ndim - 3
    h = c = None
    hs = []
    steps = range(T - 1, -1, -1) if go_backwards else range(T)
    for t in steps:
        z = _conv_ref(x[:, t], kernel, strides, padding, dilation)
        if h is None:
            h = np.zeros(z.shape[:-1] + (F,))
            c = np.zeros_like(h)
        z = z + _conv_ref(h, rkernel, (1,) * rank, "same", (1,) * rank)
        if bias is not None:
            z = z + bias
        i, f, g, o = (z[..., j * F:(j + 1) * F] for j in range(4))
        cn = _sig(f) * c + _sig(i) * np.tanh(g)
        hn = _sig(o) * np.tanh(cn)
        if mask is not None:
            m = mask[:, t].reshape((-1,) + (1,) * (h.ndim - 1))
            cn, hn = np.where(m, cn, c), np.where(m, hn, h)
        h, c = hn, cn
        hs.append(h)
    return np.stack(hs, 1), h, c


def _randomize(layer):
    for w in layer.weights:
        w.assign(RNG.standard_normal(w.shape).astype(w.dtype) * 0.3)


@pytest.mark.parametrize("cls,kw,shape", [
    (layers.ConvLSTM2D, dict(filters=3, kernel_size=3, padding="same"),
     (2, 4, 6, 5, 2)),
    (layers.ConvLSTM2D, dict(filters=2, kernel_size=(3, 2), strides=2),
     (2, 3, 7, 7, 3)),
    (layers.ConvLSTM2D, dict(filters=2, kernel_size=3, dilation_rate=2,
                             go_backwards=True), (2, 3, 7, 6, 2)),
    (layers.ConvLSTM1D, dict(filters=3, kernel_size=3, padding="same"),
     (2, 5, 7, 2)),
    (layers.ConvLSTM3D, dict(filters=2, kernel_size=2), (1, 3, 4, 4, 3, 1)),
])
def test_conv_lstm_matches_numpy_reference(cls, kw, shape):
    layer = cls(return_sequences=True, return_state=True, **kw)
    x = RNG.standard_normal(shape).astype("float32")
    layer(x)
    _randomize(layer)
    seq, h, c = (np.asarray(a) for a in layer(x))
    cell = layer.cell
    want_seq, want_h, want_c = _conv_lstm_ref(
        x, layer.cell.kernel.numpy(), cell.recurrent_kernel.numpy(),
        cell.bias.numpy(), cell.strides, cell.padding, cell.dilation_rate,
        go_backwards=cell is not None and layer.go_backwards)
    np.testing.assert_allclose(seq, want_seq, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h, want_h, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(c, want_c, rtol=1e-4, atol=1e-5)
    assert layer.compute_output_shape(shape) == (
        seq.shape, h.shape, c.shape)


def test_conv_lstm_layer_contract_and_keras_weight_layout():
    layer = run_layer_test(
        layers.ConvLSTM2D, {"filters": 4, "kernel_size": 3},
        input_shape=(2, 3, 6, 6, 2), expected_output_shape=(2, 4, 4, 4),
        expected_num_trainable_weights=3)
    shapes = [tuple(w.shape) for w in layer.weights]
    assert shapes == [(3, 3, 2, 16), (3, 3, 4, 16), (16,)]
    assert [w.path.split("/")[-2:] for w in layer.weights] == [
        ["conv_lstm_cell", "kernel"], ["conv_lstm_cell", "recurrent_kernel"],
        ["conv_lstm_cell", "bias"]]
    # unit_forget_bias: ones on the forget gate only.
    fresh = layers.ConvLSTM2D(2, 3)
    fresh.build((None, 3, 5, 5, 1))
    np.testing.assert_array_equal(fresh.cell.bias.numpy(),
                                  [0, 0, 1, 1, 0, 0, 0, 0])


def test_conv_lstm_gradients_float64():
    layer = layers.ConvLSTM2D(2, 2, padding="same", return_sequences=True,
                              dtype="float64")
    x = RNG.standard_normal((2, 3, 4, 3, 2))
    layer(x)
    _randomize(layer)
    check_grad(lambda x: layer(x), x, atol=1e-5)


def test_conv_lstm_channels_first_equals_channels_last():
    x = RNG.standard_normal((2, 3, 5, 6, 2)).astype("float32")
    last = layers.ConvLSTM2D(3, 3, padding="same")
    first = layers.ConvLSTM2D(3, 3, padding="same",
                              data_format="channels_first")
    last(x)
    first(np.transpose(x, (0, 1, 4, 2, 3)))
    _randomize(last)
    first.set_weights(last.get_weights())
    np.testing.assert_allclose(
        np.asarray(first(np.transpose(x, (0, 1, 4, 2, 3)))),
        np.transpose(np.asarray(last(x)), (0, 3, 1, 2)), rtol=1e-5,
        atol=1e-6)


def test_conv_lstm_mask_carries_states_like_the_unpadded_sequence():
    x = RNG.standard_normal((2, 5, 4, 4, 1)).astype("float32")
    mask = np.ones((2, 5), bool)
    mask[1, 3:] = False                 # sample 1 has 3 real steps
    layer = layers.ConvLSTM2D(2, 3, padding="same")
    layer(x)
    _randomize(layer)
    out = np.asarray(layer(x, mask=mask))
    cell = layer.cell
    _, want, _ = _conv_lstm_ref(x, cell.kernel.numpy(),
                                cell.recurrent_kernel.numpy(),
                                cell.bias.numpy(), (1, 1), "same", (1, 1),
                                mask=mask)
    np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-5)
    short = np.asarray(layer(x[1:, :3]))
    np.testing.assert_allclose(out[1:], short, rtol=1e-5, atol=1e-6)


def test_conv_lstm_initial_state_stateful_and_dropout():
    x = RNG.standard_normal((2, 3, 5, 5, 2)).astype("float32")
    layer = layers.ConvLSTM2D(2, 3, padding="same", return_state=True)
    out, h, c = layer(x)
    out2, _, _ = layer(x[:, 1:], initial_state=[h, c])
    # Continuing from the states equals running on without them.
    full = layers.ConvLSTM2D(2, 3, padding="same")
    full(x)
    full.set_weights(layer.get_weights())
    xx = np.concatenate([x, x[:, 1:]], axis=1)
    np.testing.assert_allclose(np.asarray(out2), np.asarray(full(xx)),
                               rtol=1e-5, atol=1e-6)
    stateful = gkeras.Sequential([
        gkeras.Input((None, 5, 5, 2), batch_size=2),
        layers.ConvLSTM2D(2, 3, padding="same", stateful=True)])
    stateful.layers[0].set_weights(layer.get_weights())
    stateful(x)
    np.testing.assert_allclose(np.asarray(stateful(x[:, 1:])),
                               np.asarray(out2), rtol=1e-5, atol=1e-6)
    stateful.layers[0].reset_states()
    np.testing.assert_allclose(np.asarray(stateful(x)), np.asarray(out),
                               rtol=1e-5, atol=1e-6)
    drop = layers.ConvLSTM2D(2, 3, dropout=0.5, recurrent_dropout=0.5,
                             seed=1)
    a = np.asarray(drop(x, training=True))
    b = np.asarray(drop(x, training=False))
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(b, np.asarray(drop(x)))


def test_conv_lstm_trains_saves_and_loads(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 4, 6, 6, 1)).astype("float32")
    y = x[:, -1].mean(axis=(1, 2, 3))[:, None]
    model = gkeras.Sequential([
        gkeras.Input((4, 6, 6, 1)),
        layers.ConvLSTM2D(4, 3, padding="same"),
        layers.GlobalAveragePooling2D(), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    hist = model.fit(x, y, epochs=15, batch_size=4, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert_save_load_roundtrip(model, x, tmp_path)


def test_conv_lstm_bad_input_is_named():
    layer = layers.ConvLSTM2D(2, 3)
    with pytest.raises(ValueError, match=r"\(batch, time, rows, cols, "
                                         r"channels\).*5-D"):
        layer(np.zeros((2, 6, 6, 1), "float32"))
    with pytest.raises(ValueError, match="larger than the input"):
        layers.ConvLSTM2D(2, 5)(np.zeros((1, 2, 3, 3, 1), "float32"))
    with pytest.raises(ValueError, match="filters"):
        layers.ConvLSTM2D(0, 3)
    with pytest.raises(ValueError, match="kernel_size"):
        layers.ConvLSTM2D(2, (3, 3, 3))

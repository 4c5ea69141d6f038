"""The fft family (`fft`, `fft2`, `ifft2`, `rfft`, `irfft`, `stft`,
`istft`) and adaptive pooling (ops and layers) against Keras 3.15's
recorded outputs (tests/fixtures/keras_ops/spectral_pool_keras315.npz,
made by make_spectral_pool_fixtures.py), NumPy float64 references and
finite-difference gradients."""

import os

import numpy as np
import pytest

import gkeras
from gkeras import ops
from harness import check_grad

FIX = np.load(os.path.join(os.path.dirname(__file__), "fixtures",
                           "keras_ops", "spectral_pool_keras315.npz"))
RE, IM, SIG = FIX["in_re"], FIX["in_im"], FIX["in_sig"]


def close(name, y, atol=2e-5):
    if isinstance(y, tuple):
        close(name + "_re", y[0], atol)
        close(name + "_im", y[1], atol)
        return
    ref = FIX["out_" + name]
    y = np.asarray(y)
    assert y.shape == ref.shape, (name, y.shape, ref.shape)
    assert y.dtype == ref.dtype, (name, y.dtype, ref.dtype)
    np.testing.assert_allclose(y, ref, atol=atol, rtol=1e-4, err_msg=name)


def test_fft_family_matches_keras():
    close("fft", ops.fft((RE, IM)), 1e-5)
    close("fft2", ops.fft2((RE, IM)), 1e-5)
    close("ifft2", ops.ifft2((RE, IM)))
    close("rfft", ops.rfft(SIG), 1e-5)
    close("rfft_16", ops.rfft(SIG, 16), 1e-5)
    close("rfft_64", ops.rfft(SIG, 64), 1e-5)
    close("irfft", ops.irfft((RE, IM)))
    close("irfft_9", ops.irfft((RE, IM), 9))
    close("irfft_20", ops.irfft((RE, IM), 20))


CASES = {
    "hann_c": dict(sequence_length=16, sequence_stride=5, fft_length=16),
    "hamming_nc": dict(sequence_length=12, sequence_stride=4, fft_length=16,
                       window="hamming", center=False),
    "none_c": dict(sequence_length=10, sequence_stride=3, fft_length=16,
                   window=None),
    "custom_c": dict(sequence_length=12, sequence_stride=6, fft_length=20,
                     window=FIX["in_win"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_stft_istft_match_keras(name):
    kw = CASES[name]
    spec = ops.stft(SIG, **kw)
    close("stft_" + name, spec, 1e-4)
    close("istft_" + name, ops.istft(spec, **kw), 1e-4)


def test_istft_length_and_roundtrip():
    spec = ops.stft(SIG, 16, 4, 16)
    close("istft_len", ops.istft(spec, 16, 4, 16, length=40), 1e-4)
    # 13 frames at hop 4 cover 48 of the 50 samples.
    np.testing.assert_allclose(np.asarray(ops.istft(spec, 16, 4, 16)),
                               SIG[:, :48], atol=1e-5)


def test_stft_against_float64_definition():
    x = SIG.astype(np.float64)
    n, hop = 16, 5
    pad = np.pad(x, [(0, 0), (8, 8)], mode="reflect")
    win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)
    frames = (pad.shape[-1] - n) // hop + 1
    ref = np.stack([np.fft.rfft(pad[:, f * hop:f * hop + n] * win)
                    for f in range(frames)], axis=1)
    re, im = ops.stft(x, n, hop, n)
    np.testing.assert_allclose(np.asarray(re), ref.real, atol=1e-10)
    np.testing.assert_allclose(np.asarray(im), ref.imag, atol=1e-10)


R3 = np.random.default_rng(1).standard_normal((2, 6))
I3 = np.random.default_rng(2).standard_normal((2, 6))


@pytest.mark.parametrize("fn", [
    lambda r, i: ops.fft((r, i)),
    lambda r, i: ops.fft2((r, i)),
    lambda r, i: ops.ifft2((r, i)),
    lambda r, i: ops.rfft(r, 8),
    lambda r, i: ops.rfft(r, 4),
    lambda r, i: ops.irfft((r, i)),
    lambda r, i: ops.irfft((r, i), 9),
    lambda r, i: ops.irfft((r, i), 14),
])
def test_fft_gradients(fn):
    check_grad(fn, R3, I3)


def test_stft_istft_gradients():
    x = np.random.default_rng(3).standard_normal((1, 20))
    check_grad(lambda a: ops.stft(a, 6, 3, 8), x)
    spec = [np.asarray(t, np.float64) for t in ops.stft(x, 6, 3, 8)]
    check_grad(lambda r, i: ops.istft((r, i), 6, 3, 8), *spec)


def test_fft_bad_input():
    with pytest.raises(ValueError, match="tuple of two tensors"):
        ops.fft(RE)
    with pytest.raises(ValueError, match="same shape"):
        ops.fft((RE, IM[..., :4]))
    with pytest.raises(ValueError, match="fft_length"):
        ops.stft(SIG, 16, 4, 8)
    with pytest.raises(ValueError, match="hann"):
        ops.stft(SIG, 16, 4, 16, window="blackman")


# -- adaptive pooling -------------------------------------------------------
X1, X2, X3 = FIX["in_x1"], FIX["in_x2"], FIX["in_x3"]


@pytest.mark.parametrize("kind", ["average", "max"])
def test_adaptive_pool_ops_match_keras(kind):
    f = getattr(ops, f"adaptive_{kind}_pool")
    close(f"{kind}_1d", f(X1, 5))
    close(f"{kind}_2d", f(X2, (4, 5)))
    # Upsampling (15 cells from 11 rows): Keras 3.15's JAX gather reads
    # out of range for the last row and returns NaN there; gkeras pools
    # that row's window (row 10) as defined. Compare the rest.
    up = np.asarray(f(X2, (15, 9)))
    ref = FIX[f"out_{kind}_2d_up"]
    ok = ~np.isnan(ref)
    assert ok[:, :14].all() and not ok[:, 14].any()
    np.testing.assert_allclose(up[ok], ref[ok], atol=2e-5)
    np.testing.assert_allclose(up[:, 14], X2[:, 10, :, :], atol=1e-6)
    close(f"{kind}_3d", f(X3, (3, 4, 2)))
    close(f"{kind}_2d_cf", f(np.transpose(X2, (0, 3, 1, 2)), 3,
                             data_format="channels_first"))


@pytest.mark.parametrize("kind", ["average", "max"])
def test_adaptive_pool_float64_reference(kind):
    x = np.random.default_rng(4).random((2, 10, 7, 3))
    red = np.mean if kind == "average" else np.max
    ref = np.zeros((2, 3, 4, 3))
    for i in range(3):
        for j in range(4):
            h0, h1 = (i * 10) // 3, -(-(i + 1) * 10 // 3)
            w0, w1 = (j * 7) // 4, -(-(j + 1) * 7 // 4)
            ref[:, i, j] = red(x[:, h0:h1, w0:w1], axis=(1, 2))
    y = getattr(ops, f"adaptive_{kind}_pool")(x, (3, 4))
    np.testing.assert_allclose(np.asarray(y), ref, atol=1e-12)
    check_grad(lambda a: getattr(ops, f"adaptive_{kind}_pool")(a, (3, 4)),
               x)


@pytest.mark.parametrize("kind", ["Average", "Max"])
def test_adaptive_pooling_layers(kind):
    layer = getattr(gkeras.layers, f"Adaptive{kind}Pooling2D")((4, 5))
    close(f"{kind.lower()}_layer2d", layer(X2))
    cfg = layer.get_config()
    ref = dict(eval(str(FIX[f"cfg_{kind.lower()}"])))
    for k in ("data_format", "output_size", "name", "trainable"):
        assert cfg[k] == ref[k], k
    clone = type(layer).from_config(cfg)
    np.testing.assert_array_equal(np.asarray(clone(X2)),
                                  np.asarray(layer(X2)))
    for rank in (1, 3):
        cls = getattr(gkeras.layers, f"Adaptive{kind}Pooling{rank}D")
        x = X1 if rank == 1 else X3
        out = cls(2)(x)
        assert out.shape == (x.shape[0],) + (2,) * rank + (x.shape[-1],)
    inp = gkeras.Input((None, None, 3))
    model = gkeras.Model(inp, getattr(gkeras.layers,
                                      f"Adaptive{kind}Pooling2D")(3)(inp))
    assert model.output_shape == (None, 3, 3, 3)
    assert model.predict(X2, verbose=0).shape == (2, 3, 3, 3)
    with pytest.raises(TypeError, match="output_size"):
        getattr(gkeras.layers, f"Adaptive{kind}Pooling2D")((1, 2, 3))

"""`STFTSpectrogram`, `MelSpectrogram`, `initializers.STFT` and `Pipeline`
against Keras 3.15's recorded outputs and configs (JAX backend,
tests/fixtures/keras_ops/audio_keras315.npz and
audio_configs_keras315.json, made by make_audio_fixtures.py) and float64
references."""

import json
import os

import numpy as np
import pytest

import gkeras
from gkeras import ops
from harness import check_grad

HERE = os.path.join(os.path.dirname(__file__), "fixtures", "keras_ops")
FIX = np.load(os.path.join(HERE, "audio_keras315.npz"))
with open(os.path.join(HERE, "audio_configs_keras315.json")) as f:
    CONFIGS = json.load(f)
SIG, MONO = FIX["in_sig"], FIX["in_mono"]


@pytest.mark.parametrize("side", ["real", "imag"])
@pytest.mark.parametrize("win,per,sc", [("hann", False, "density"),
                                        ("hamming", True, "spectrum"),
                                        (None, False, None)])
def test_stft_initializer_matches_keras(side, win, per, sc):
    init = gkeras.initializers.STFT(side, win, sc, per)
    # Keras evaluates the angles in float32 (a few ulps at large angles).
    np.testing.assert_allclose(init((12, 1, 9)),
                               FIX[f"init_{side}_{win}_{sc}"], atol=1e-5)
    cfg = init.get_config()
    assert cfg == {"side": side, "window": win, "periodic": per,
                   "scaling": sc}
    assert gkeras.initializers.get(
        {"class_name": "STFT", "config": cfg}).get_config() == cfg


@pytest.mark.parametrize("name", ["log", "magnitude_same", "psd", "real_cf",
                                  "imag_expand", "angle", "stft_expand_cf"])
def test_stft_spectrogram_matches_keras(name):
    cfg = {k: v for k, v in CONFIGS["stft_" + name].items() if k != "name"}
    layer = gkeras.layers.STFTSpectrogram(**cfg)
    x = np.transpose(SIG, (0, 2, 1)) if cfg["data_format"] == \
        "channels_first" else SIG
    y = np.asarray(layer(x))
    ref = FIX["stft_" + name]
    assert y.shape == ref.shape
    assert layer.compute_output_shape(x.shape) == ref.shape
    atol = 2e-3 if name == "angle" else 2e-4
    if name == "angle":
        # Phase is ill-defined where the magnitude vanishes; compare
        # angles modulo 2 pi elsewhere.
        d = np.angle(np.exp(1j * (y - ref)))
        np.testing.assert_allclose(d, 0, atol=atol)
    else:
        np.testing.assert_allclose(y, ref, atol=atol, rtol=1e-4)
    got = {k: v for k, v in layer.get_config().items() if k != "dtype"}
    ref_cfg = dict(CONFIGS["stft_" + name])
    ref_cfg["name"] = got["name"]
    assert json.loads(json.dumps(got)) == ref_cfg
    names = [w.name for w in layer.weights]
    assert names == [n for n in ("real_kernel", "imag_kernel")
                     if not (cfg["mode"] == "real" and n == "imag_kernel")
                     and not (cfg["mode"] == "imag" and n == "real_kernel")]


def test_stft_spectrogram_against_float64_definition():
    x = np.random.default_rng(1).standard_normal((1, 128, 1))
    layer = gkeras.layers.STFTSpectrogram("magnitude", frame_length=32,
                                          frame_step=16, scaling=None,
                                          dtype="float64")
    y = np.asarray(layer(x))[0]
    n = np.arange(32)
    win = 0.5 - 0.5 * np.cos(2 * np.pi * n / 31)  # symmetric Hann
    ref = np.stack([np.abs(np.fft.rfft(x[0, s:s + 32, 0] * win))
                    for s in range(0, 128 - 32 + 1, 16)])
    np.testing.assert_allclose(y, ref, atol=1e-9)


def test_stft_spectrogram_trains():
    layer = gkeras.layers.STFTSpectrogram("log", frame_length=8)
    model = gkeras.Sequential([gkeras.Input((64, 1)), layer,
                               gkeras.layers.Flatten(),
                               gkeras.layers.Dense(1)])
    model.compile("sgd", "mse")
    before = layer.real_kernel.numpy().copy()
    x = np.random.default_rng(2).standard_normal((4, 64, 1)).astype(
        "float32")
    model.fit(x, np.ones((4, 1)), epochs=1, verbose=0)
    assert not np.allclose(before, layer.real_kernel.numpy())


@pytest.mark.parametrize("name", ["default", "nodb", "ref"])
def test_mel_spectrogram_matches_keras(name):
    cfg = {k: v for k, v in CONFIGS["mel_" + name].items() if k != "name"}
    layer = gkeras.layers.MelSpectrogram(**cfg)
    y = np.asarray(layer(MONO))
    ref = FIX["mel_" + name]
    assert y.shape == ref.shape and y.dtype == ref.dtype
    atol = 2e-3 if cfg["power_to_db"] else 1e-4
    np.testing.assert_allclose(y, ref, atol=atol, rtol=1e-4)
    got = {k: v for k, v in layer.get_config().items() if k != "dtype"}
    ref_cfg = dict(CONFIGS["mel_" + name])
    ref_cfg["name"] = got["name"]
    assert json.loads(json.dumps(got)) == ref_cfg
    assert tuple(layer.compute_output_shape(MONO.shape)) == ref.shape


def test_mel_spectrogram_gradient():
    x = np.random.default_rng(3).standard_normal((1, 40))
    layer = gkeras.layers.MelSpectrogram(
        fft_length=16, sequence_stride=8, num_mel_bins=4, sampling_rate=800,
        min_freq=10.0, power_to_db=False, dtype="float64")
    check_grad(lambda a: layer(a), x, atol=1e-5)


def test_pipeline_runs_layers_in_order_with_training():
    calls = []

    class Tag(gkeras.layers.Layer):
        def __init__(self, tag, **kw):
            super().__init__(**kw)
            self.tag = tag

        def call(self, x, training=None):
            calls.append((self.tag, training))
            return ops.add(x, self.tag)

        def get_config(self):
            return {**super().get_config(), "tag": self.tag}

    p = gkeras.layers.Pipeline([Tag(1), gkeras.layers.Rescaling(2.0),
                                Tag(3)])
    np.testing.assert_array_equal(np.asarray(p(np.zeros((1, 2)))), [[5, 5]])
    assert calls == [(1, True), (3, True)]
    calls.clear()
    p(np.zeros((1, 2)), training=False)
    assert calls == [(1, False), (3, False)]
    assert p.layers[1].scale == 2.0
    cfg = p.get_config()
    assert set(cfg) == {"layers", "name"}
    flip = gkeras.layers.Pipeline([gkeras.layers.Rescaling(0.5),
                                   gkeras.layers.CenterCrop(2, 2)])
    clone = gkeras.layers.Pipeline.from_config(flip.get_config())
    x = np.arange(32, dtype="float32").reshape(1, 4, 4, 2)
    np.testing.assert_array_equal(np.asarray(clone(x)), np.asarray(flip(x)))
    assert [type(layer).__name__ for layer in clone.layers] == [
        "Rescaling", "CenterCrop"]
    with pytest.raises(ValueError, match="layers"):
        gkeras.layers.Pipeline.from_config({"name": "p"})


def test_new_layers_save_and_load_in_a_keras_file(tmp_path):
    layers = gkeras.layers
    model = gkeras.Sequential([
        gkeras.Input((64, 1)), layers.STFTSpectrogram(frame_length=16),
        layers.Reshape((7, 9, 1)), layers.RandomInvert(seed=1),
        layers.AdaptiveAveragePooling2D(3), layers.Flatten(),
        layers.Dense(2)])
    x = np.random.default_rng(5).random((2, 64, 1)).astype("float32")
    y = model.predict(x, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = gkeras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), y)
    assert [type(layer).__name__ for layer in loaded.layers][:4] == [
        "STFTSpectrogram", "Reshape", "RandomInvert",
        "AdaptiveAveragePooling2D"]
    pipe = layers.Pipeline([layers.RandomHue(0.2, seed=1),
                            layers.AutoContrast()])
    back = layers.deserialize(layers.serialize(pipe))
    assert [type(layer).__name__ for layer in back.layers] == [
        "RandomHue", "AutoContrast"]

"""Runs gkeras's ops.image, fft family, adaptive pooling, audio and
augmentation layers on CuPy arrays of the strict CuPy stand-in
(tests/cupy_standin) and compares with the NumPy results; run by
tests/test_layers17_standin.py in a subprocess with GKERAS_BACKEND=cupy.
Prints one line per case and `failures: N`."""
import numpy as np, traceback
import cupy
import gkeras
from gkeras import ops, layers as L
from gkeras.ops import image as I
rng = np.random.default_rng(0)
img = rng.random((2, 9, 11, 3)).astype("float32")
dimg = cupy.asarray(img)
T = np.array([[1.1, .2, -1.5, -.1, .9, 2., 0, 0]] * 2, "float32")
pts = np.array([[[0, 0], [10, 0], [0, 8], [10, 8]]] * 2, "float32")
cases = {
 "resize_bicubic_aa": lambda x: I.resize(x, (5, 6), interpolation="bicubic", antialias=True),
 "resize_nearest": lambda x: I.resize(x, (14, 5), interpolation="nearest"),
 "resize_pad": lambda x: I.resize(x, (4, 4), pad_to_aspect_ratio=True),
 "sat": lambda x: I.scale_and_translate(x, (2, 12, 8, 3), [1.3, .7], [.5, -1.], (1, 2), "lanczos3"),
 "gray": lambda x: I.rgb_to_grayscale(x), "hsv": lambda x: I.rgb_to_hsv(x),
 "rgb": lambda x: I.hsv_to_rgb(x),
 "affine": lambda x: I.affine_transform(x, cupy.asarray(T) if not isinstance(x, np.ndarray) else T, fill_mode="reflect"),
 "persp": lambda x: I.perspective_transform(x, pts, pts + 0.5),
 "mapc": lambda x: I.map_coordinates(x[0, :, :, 0], (cupy if not isinstance(x, np.ndarray) else np).asarray(rng2.uniform(-2, 10, (2, 4, 4)).astype("float32")), 1, "mirror"),
 "blur": lambda x: I.gaussian_blur(x, (3, 5), (1., .7)),
 "sobel": lambda x: I.sobel_edges(x), "ssim": lambda x: I.ssim(I.resize(x, (16, 16)), I.resize(x, (16, 16)) * 0.9),
 "patches": lambda x: I.extract_patches(x, 2), "crop": lambda x: I.crop_images(x, 1, 1, target_height=4, target_width=4),
 "pad": lambda x: I.pad_images(x, 1, 1, 2, 2),
 "elastic": lambda x: I.elastic_transform(x, alpha=0.0, seed=1),
 "fft": lambda x: ops.fft((x, x))[0], "fft2": lambda x: ops.fft2((x, x))[1],
 "ifft2": lambda x: ops.ifft2((x, x))[0], "rfft": lambda x: ops.rfft(x)[1],
 "irfft": lambda x: ops.irfft((x, x)),
 "stft": lambda x: ops.stft(ops.reshape(x, (2, -1)), 16, 5, 16)[0],
 "istft": lambda x: ops.istft(ops.stft(ops.reshape(x, (2, -1)), 16, 5, 16), 16, 5, 16),
 "aavg": lambda x: ops.adaptive_average_pool(x, (4, 5)),
 "amax": lambda x: ops.adaptive_max_pool(x, (4, 5)),
 "mel": lambda x: L.MelSpectrogram(fft_length=64, sequence_stride=16, num_mel_bins=8, sampling_rate=800)(ops.reshape(x, (2, -1))),
 "autocontrast": lambda x: L.AutoContrast()(x * 255),
 "equalize": lambda x: L.Equalization()(x * 255, training=True),
 "clahe": lambda x: L.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 2))(x * 255),
 "sharp": lambda x: L.RandomSharpness((.2, .2))(x * 255, training=True),
 "poster": lambda x: L.RandomPosterization((3, 3))(x * 255, training=True),
 "saturation": lambda x: L.RandomSaturation((.3, .3))(x * 255, training=True),
 "solar": lambda x: L.Solarization()(x * 255, training=True),
 "invert": lambda x: L.RandomInvert((1., 1.))(x * 255, training=True),
 "gblur": lambda x: L.RandomGaussianBlur((1., 1.), sigma=(.6, .6))(x * 255, training=True),
}
seeded = {
 "mixup": lambda: L.MixUp(seed=1), "cutmix": lambda: L.CutMix(seed=1),
 "erasing": lambda: L.RandomErasing(seed=1), "shear": lambda: L.RandomShear(.3, .3, seed=1),
 "perspective": lambda: L.RandomPerspective(seed=1), "elastic_layer": lambda: L.RandomElasticTransform(seed=1),
 "hue": lambda: L.RandomHue(.3, seed=1), "gray_layer": lambda: L.RandomGrayscale(1.0, seed=1),
 "degen": lambda: L.RandomColorDegeneration(.5, seed=1),
 "jitter": lambda: L.RandomColorJitter(brightness_factor=.2, hue_factor=.1, seed=1),
 "randaug": lambda: L.RandAugment(seed=1), "augmix": lambda: L.AugMix(seed=1),
}
bad = 0
for name, f in cases.items():
    try:
        rng2 = np.random.default_rng(5); a = np.asarray(f(img))
        rng2 = np.random.default_rng(5); y = f(dimg)
        d = y.data if hasattr(y, "data") else y
        assert isinstance(d, cupy.ndarray), type(d)
        b = cupy.asnumpy(d)
        err = np.abs(a - b).max() if a.size else 0
        if err > 1e-3 * max(1, np.abs(a).max()):
            bad += 1
            print(f"{name:14s} MISMATCH max|diff|={err:.2e}")
        else:
            print(f"{name:14s} ok  max|diff|={err:.2e}")
    except Exception as e:
        bad += 1
        print(f"{name:14s} FAIL {type(e).__name__}: {str(e)[:300]}")
        traceback.print_exc(limit=-3)
x3 = cupy.asarray(rng.standard_normal((2, 300, 1)).astype("float32"))
for mode in ("log", "psd", "angle", "stft"):
    try:
        layer = L.STFTSpectrogram(mode=mode, frame_length=16)
        b = cupy.asnumpy(layer(x3).data)
        ref = L.STFTSpectrogram.from_config(layer.get_config())
        print(f"stft_{mode:9s} ok  shape {b.shape}")
    except Exception as e:
        bad += 1
        print(f"stft_{mode:9s} FAIL {type(e).__name__}: {str(e)[:300]}")
for name, make in seeded.items():
    try:
        a = np.asarray(make()(img * 255, training=True))
        y = make()(dimg * 255, training=True)
        b = cupy.asnumpy(y.data)
        print(f"{name:14s} ok  shape {b.shape} np-vs-dev max|diff|={np.abs(a-b).max():.2e}")
    except Exception as e:
        bad += 1
        print(f"{name:14s} FAIL {type(e).__name__}: {str(e)[:300]}")
        traceback.print_exc(limit=-3)
import standin_counters as sc
simg = cupy.asarray(np.random.default_rng(0).random((2, 16, 16, 3)).astype("float32") * 255)
T = cupy.asarray(np.array([[1.1, .2, -1.5, -.1, .9, 2., 0, 0]] * 2, "float32"))
scases = {
 "resize": lambda: I.resize(simg, (8, 9), interpolation="bicubic"),
 "affine": lambda: I.affine_transform(simg, T),
 "blur": lambda: I.gaussian_blur(simg),
 "hsv": lambda: I.hsv_to_rgb(I.rgb_to_hsv(simg / 255)),
 "stft": lambda: ops.stft(ops.reshape(simg, (2, -1)), 32, 8, 32),
 "istft": lambda: ops.istft(ops.stft(ops.reshape(simg, (2, -1)), 32, 8, 32), 32, 8, 32),
 "apool": lambda: ops.adaptive_max_pool(simg, 5),
}
for n, mk in [("hue", lambda: L.RandomHue(.3, seed=1)), ("mixup", lambda: L.MixUp(seed=1)),
              ("cutmix", lambda: L.CutMix(seed=1)), ("erasing", lambda: L.RandomErasing(seed=1)),
              ("equalize", lambda: L.Equalization()), ("clahe", lambda: L.ContrastLimitedAdaptiveHistogramEqualization()),
              ("shear", lambda: L.RandomShear(.2, .2, seed=1)), ("persp", lambda: L.RandomPerspective(seed=1)),
              ("elastic", lambda: L.RandomElasticTransform(seed=1)), ("randaug", lambda: L.RandAugment(seed=1)),
              ("augmix", lambda: L.AugMix(seed=1)), ("solar", lambda: L.Solarization(.2, .2, seed=1)),
              ("sharp", lambda: L.RandomSharpness(.3, seed=1)), ("poster", lambda: L.RandomPosterization(4, seed=1)),
              ("autocontrast", lambda: L.AutoContrast())]:
    layer = mk()
    scases[n] = (lambda layer=layer: layer(simg, training=True))
# A second call of each (warm) must not read the device back to the host
# nor compute in float64 on float32 images.
for n, f in scases.items():
    f()
    sc.reset()
    f()
    ns, nf = sc.count("sync"), sc.count("float64")
    if ns or nf:
        bad += 1
        print(f"{n:14s} HOST-SYNC/FLOAT64 syncs={ns} float64={nf} "
              f"{dict(sc.where('sync'))} {dict(sc.where('float64'))}")
    else:
        print(f"{n:14s} ok  no sync, no float64")
print("failures:", bad)

"""Broader scenarios: layer families, every optimizer, every loss, the
metrics, callbacks, input kinds, class/sample weights. Small shapes: the
CUDA emulator runs every custom kernel thread by thread.

Same contract as `scenarios.py`: each returns what must match the NumPy
backend (`stat_` keys: statistics only, where the device RNG differs).
"""

import inspect
import os
import tempfile

import numpy as np

import gkeras as keras
from gkeras import ops
from standin_suite.scenarios import _fit_eval_predict, _save_load, _seed

L = keras.layers


def _np(x):
    return ops.convert_to_numpy(x)


def conv_family(ctx):
    _seed()
    rng = np.random.default_rng(4)
    x1 = rng.normal(size=(8, 9, 3)).astype("float32")
    x2 = rng.normal(size=(8, 7, 7, 2)).astype("float32")
    x3 = rng.normal(size=(8, 4, 4, 4, 1)).astype("float32")
    y = rng.integers(0, 2, 8)
    a, b, c = keras.Input((9, 3)), keras.Input((7, 7, 2)), \
        keras.Input((4, 4, 4, 1))
    h1 = L.Conv1D(4, 3, padding="causal", dilation_rate=2)(a)
    h1 = L.MaxPooling1D(2)(h1)
    h1 = L.AveragePooling1D(2, padding="same")(h1)
    h1 = L.GlobalAveragePooling1D()(h1)
    h2 = L.Conv2D(3, 3, strides=2, padding="same")(b)
    h2 = L.Conv2DTranspose(2, 3, strides=2, padding="same")(h2)
    h2 = L.DepthwiseConv2D(3, depth_multiplier=2)(h2)
    h2 = L.SeparableConv2D(4, 2, padding="same")(h2)
    h2 = L.AveragePooling2D(2)(h2)
    h2 = L.GlobalMaxPooling2D()(h2)
    h3 = L.Conv3D(2, 2)(c)
    h3 = L.MaxPooling3D(2, padding="same")(h3)
    h3 = L.Flatten()(h3)
    h = L.Concatenate()([h1, h2, h3])
    out = L.Dense(2, activation="softmax")(h)
    m = keras.Model([a, b, c], out)
    m.compile("adam", "sparse_categorical_crossentropy")
    h = m.fit([x1, x2, x3], y, batch_size=4, epochs=2, verbose=0,
              shuffle=False, callbacks=[ctx.counter()])
    return {"history": h.history,
            "predict": m.predict([x1, x2, x3], verbose=0),
            "reload.keras": _np(keras.models.load_model(_saved(m))(
                [x1, x2, x3]))}


def _saved(model, fmt=".keras"):
    path = os.path.join(tempfile.mkdtemp(), "m" + fmt)
    model.save(path)
    return path


def recurrent_family(ctx):
    _seed()
    rng = np.random.default_rng(5)
    ids = rng.integers(1, 20, (8, 6)).astype("int32")
    ids[:, 4:] = 0  # padding: masks via mask_zero
    y = rng.normal(size=(8, 3)).astype("float32")
    inp = keras.Input((6,), dtype="int32")
    e = L.Embedding(20, 5, mask_zero=True)(inp)
    s = L.Bidirectional(L.LSTM(4, return_sequences=True))(e)
    s = L.GRU(3, return_sequences=True, reset_after=False)(s)
    s = L.SimpleRNN(3, go_backwards=True)(s)
    m = keras.Model(inp, L.Dense(3)(s))
    m.compile("rmsprop", "mse")
    out = _fit_eval_predict(ctx, m, ids, y, epochs=2, batch_size=4)
    out["reload.h5"] = _save_load(m, ids, ".h5")
    # initial_state from another branch; stateful layer across calls.
    a = keras.Input((4, 2))
    h0 = keras.Input((3,))
    r = L.GRU(3)(a, initial_state=[h0])
    m2 = keras.Model([a, h0], r)
    xa = rng.normal(size=(2, 4, 2)).astype("float32")
    xh = rng.normal(size=(2, 3)).astype("float32")
    out["initial_state"] = m2.predict([xa, xh], verbose=0)
    st = keras.Sequential([keras.Input(batch_shape=(2, 4, 2)),
                           L.LSTM(3, stateful=True)])
    out["stateful"] = [_np(st(xa)), _np(st(xa))]
    return out


def attention_merge_reshape(ctx):
    _seed()
    rng = np.random.default_rng(6)
    x = rng.normal(size=(8, 5, 4)).astype("float32")
    y = rng.normal(size=(8, 5, 4)).astype("float32")
    a = keras.Input((5, 4))
    q = L.MultiHeadAttention(2, 3)(a, a, use_causal_mask=True)
    v = L.Attention(use_scale=True)([a, q])
    w = L.AdditiveAttention()([a, v])
    m_ = L.Multiply()([q, w])
    s = L.Subtract()([m_, L.Average()([q, v])])
    s = L.Maximum()([s, L.Minimum()([q, w])])
    r = L.Reshape((4, 5))(s)
    r = L.Permute((2, 1))(r)
    r = L.Cropping1D((1, 0))(r)
    r = L.ZeroPadding1D((1, 0))(r)
    r = L.LayerNormalization()(r)
    model = keras.Model(a, L.Dense(4)(r))
    # SGD: the key bias of attention has a zero gradient up to rounding,
    # which Adam-style optimizers would turn into backend-dependent steps.
    model.compile(keras.optimizers.SGD(0.05, momentum=0.9), "mse")
    return _fit_eval_predict(ctx, model, x, y, epochs=2, batch_size=4)


def normalization_and_images(ctx):
    _seed()
    rng = np.random.default_rng(7)
    x = rng.random((8, 6, 6, 3)).astype("float32") * 255
    y = rng.integers(0, 3, 8)
    norm = L.Normalization()
    norm.adapt(x)
    m = keras.Sequential([
        keras.Input((6, 6, 3)), L.Rescaling(1 / 255.0, offset=-0.5),
        L.Resizing(8, 8), L.CenterCrop(6, 6), L.ZeroPadding2D(1),
        L.Cropping2D(1), L.UpSampling2D(2), L.Conv2D(4, 3, strides=2),
        # relu between: a BatchNormalization right after GroupNormalization
        # makes beta's gradient zero up to rounding, which Adam-style
        # optimizers blow up into backend-dependent steps.
        L.GroupNormalization(2), L.Activation("relu"),
        L.BatchNormalization(),
        L.UnitNormalization(), L.Flatten(), L.RepeatVector(2),
        L.Flatten(), L.Dense(3, activation="softmax")])
    m.compile("nadam", "sparse_categorical_crossentropy",
              metrics=["accuracy"])
    out = _fit_eval_predict(ctx, m, x, y, epochs=2, batch_size=4)
    out["normalization"] = _np(norm(x))
    return out


def augmentation(ctx):
    _seed()
    rng = np.random.default_rng(8)
    x = rng.random((8, 8, 8, 3)).astype("float32")
    layers = [L.RandomFlip(), L.RandomRotation(0.2), L.RandomZoom(0.2),
              L.RandomTranslation(0.1, 0.1), L.RandomContrast(0.3),
              L.RandomBrightness(0.2), L.RandomCrop(6, 6)]
    out = {}
    for layer in layers:
        n = type(layer).__name__
        # Inference: deterministic, must match exactly.
        out[n + "_infer"] = _np(layer(x, training=False))
        # Training: the draws differ between backends; shape and mean.
        t = _np(layer(x, training=True))
        out["stat_" + n] = np.float32(t.mean())
        out[n + "_shape"] = list(t.shape)
    d = _np(L.Dropout(0.5)(np.ones((64, 64), "float32"), training=True))
    out["stat_dropout_kept"] = np.float32((d > 0).mean())
    out["dropout_values"] = sorted(set(np.round(d.ravel(), 5).tolist()))
    g = _np(L.GaussianNoise(1.0)(np.zeros((64, 64), "float32"),
                                 training=True))
    out["stat_noise_std"] = np.float32(g.std())
    return out


def all_optimizers(ctx):
    out = {}
    rng = np.random.default_rng(9)
    x = rng.normal(size=(16, 5)).astype("float32")
    y = rng.normal(size=(16, 2)).astype("float32")
    names = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
             "Adamax", "Nadam", "Ftrl", "Lion", "Lamb", "Adafactor"]
    kwargs = {"SGD": dict(momentum=0.9, nesterov=True),
              "RMSprop": dict(momentum=0.5, centered=True),
              "Adam": dict(amsgrad=True, clipnorm=1.0)}
    for name in names:
        _seed()
        opt = getattr(keras.optimizers, name)(learning_rate=0.01,
                                              **kwargs.get(name, {}))
        m = keras.Sequential([keras.Input((5,)), L.Dense(3), L.Dense(2)])
        m.compile(opt, "mse")
        m.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
        out[name] = m.get_weights()
    return out


def all_losses(ctx):
    rng = np.random.default_rng(10)
    out = {}
    prob = rng.random((6, 4)).astype("float32")
    prob /= prob.sum(-1, keepdims=True)
    onehot = np.eye(4, dtype="float32")[rng.integers(0, 4, 6)]
    binary = rng.integers(0, 2, (6, 4)).astype("float32")
    reg_t = rng.normal(size=(6, 4)).astype("float32")
    reg_p = rng.normal(size=(6, 4)).astype("float32")
    sw = rng.random(6).astype("float32")
    for name, cls in sorted(vars(keras.losses).items()):
        if not (inspect.isclass(cls) and issubclass(cls, keras.losses.Loss)
                ) or cls is keras.losses.Loss or name in (
                    "LossFunctionWrapper", "CTC", "Circle"):
            continue
        loss = cls()
        if "Sparse" in name:
            args = (onehot.argmax(-1), prob)
        elif "Categorical" in name or name in ("KLDivergence", "Poisson"):
            args = (onehot, prob)
        elif "Binary" in name or "Hinge" in name or name == "Tversky" or \
                name == "Dice":
            args = (binary, prob)
        else:
            args = (reg_t, reg_p)
        try:
            out[name] = _np(loss(*args, sample_weight=sw))
        except (TypeError, ValueError) as e:
            out[name] = f"error: {type(e).__name__}"
    return out


def metrics_and_weights(ctx):
    _seed()
    rng = np.random.default_rng(11)
    x = rng.normal(size=(32, 6)).astype("float32")
    y = rng.integers(0, 2, (32, 1)).astype("float32")
    m = keras.Sequential([keras.Input((6,)), L.Dense(4, activation="relu"),
                          L.Dense(1, activation="sigmoid")])
    m.compile("adam", "binary_crossentropy",
              metrics=["accuracy", keras.metrics.AUC(num_thresholds=20),
                       keras.metrics.Precision(), keras.metrics.Recall(),
                       keras.metrics.BinaryIoU(), "mse"],
              weighted_metrics=["accuracy"])
    sw = rng.random(32).astype("float32")
    out = _fit_eval_predict(ctx, m, x, y, epochs=2, batch_size=8,
                            sample_weight=sw)
    h = m.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False,
              class_weight={0: 1.0, 1: 3.0})
    out["class_weight_history"] = h.history
    return out


class _Seq(keras.utils.PyDataset):
    def __init__(self, x, y):
        super().__init__()
        self.x, self.y = x, y

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return self.x[i * 4:(i + 1) * 4], self.y[i * 4:(i + 1) * 4]


def inputs_and_callbacks(ctx):
    rng = np.random.default_rng(12)
    x = rng.normal(size=(16, 3)).astype("float32")
    y = rng.integers(0, 3, 16)
    out = {}

    def model():
        _seed()
        m = keras.Sequential([keras.Input((3,)),
                              L.Dense(3, activation="softmax")])
        m.compile("sgd", "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
        return m

    def gen():
        for i in range(4):
            yield x[i * 4:(i + 1) * 4], y[i * 4:(i + 1) * 4]

    out["generator"] = model().fit(gen(), epochs=1, verbose=0).history
    out["pydataset"] = model().fit(_Seq(x, y), epochs=2,
                                   verbose=0).history
    if keras.backend.backend() == "cupy":
        import cupy
        xd, yd = cupy.asarray(x), cupy.asarray(y)
    else:
        xd, yd = x, y
    out["device_arrays"] = model().fit(xd, yd, batch_size=4, epochs=1,
                                       verbose=0, shuffle=False).history
    d = tempfile.mkdtemp()
    cbs = [keras.callbacks.EarlyStopping("loss", patience=1),
           keras.callbacks.ReduceLROnPlateau("loss", patience=1,
                                             factor=0.5),
           keras.callbacks.ModelCheckpoint(os.path.join(d, "c.keras")),
           keras.callbacks.LearningRateScheduler(lambda e, lr: lr * 0.9),
           keras.callbacks.TerminateOnNaN(),
           keras.callbacks.CSVLogger(os.path.join(d, "log.csv")),
           ctx.counter("callbacks")]
    m = model()
    h = m.fit(x, y, batch_size=4, epochs=3, verbose=0, shuffle=False,
              validation_split=0.25, callbacks=cbs)
    out["callbacks_history"] = h.history
    with open(os.path.join(d, "log.csv")) as f:
        out["csv_rows"] = len(f.read().strip().splitlines())
    out["checkpoint"] = _np(keras.models.load_model(
        os.path.join(d, "c.keras"))(x))
    return out


FAMILIES = {"conv_family": conv_family,
            "recurrent_family": recurrent_family,
            "attention_merge_reshape": attention_merge_reshape,
            "normalization_and_images": normalization_and_images,
            "augmentation": augmentation, "all_optimizers": all_optimizers,
            "all_losses": all_losses,
            "metrics_and_weights": metrics_and_weights,
            "inputs_and_callbacks": inputs_and_callbacks}

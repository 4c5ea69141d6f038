"""EMA of the weights (`use_ema`, `ema_momentum`, `ema_overwrite_frequency`)
and the SwapEMAWeights callback, against the Keras 3.15 rules computed in
NumPy from the weights recorded at every step."""

import numpy as np
import pytest

import gkeras
from gkeras import optimizers


def _ema_setup(**kw):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], "float32")
    gkeras.utils.set_random_seed(0)
    model = gkeras.Sequential([gkeras.Input((3,)), gkeras.layers.Dense(1)])
    model.compile(optimizer=optimizers.SGD(0.05, use_ema=True,
                                           ema_momentum=0.9, **kw),
                  loss="mse")
    return model, x, y


def test_ema_average_follows_keras_rule_and_fit_finalizes():
    model, x, y = _ema_setup()
    opt = model.optimizer
    seen = []

    class Record(gkeras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append([v.numpy().copy() for v in model.trainable_weights])

    model.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False,
              callbacks=[Record()])
    # average_1 = w_1; average_t = 0.9 average_{t-1} + 0.1 w_t
    avg = None
    for ws in seen:
        avg = [w.copy() for w in ws] if avg is None else [
            0.9 * a + 0.1 * w for a, w in zip(avg, ws)]
    for a, stored in zip(avg, opt._model_variables_moving_average):
        np.testing.assert_allclose(stored.numpy(), a, rtol=1e-5, atol=1e-7)
    # `fit` ends with the averages in the model (finalize_variable_values).
    for a, w in zip(avg, model.trainable_weights):
        np.testing.assert_allclose(w.numpy(), a, rtol=1e-5, atol=1e-7)
    assert not np.allclose(seen[-1][0], avg[0])


def test_ema_overwrite_frequency():
    model, x, y = _ema_setup(ema_overwrite_frequency=3)
    seen = []

    class Record(gkeras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            opt = model.optimizer
            seen.append((int(opt.iterations.numpy()),
                         model.trainable_weights[0].numpy().copy(),
                         opt._model_variables_moving_average[0].numpy()
                         .copy()))

    model.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False,
              callbacks=[Record()])
    for it, w, avg in seen:
        # After update number 3 the weights are overwritten by the average.
        if it == 3:
            np.testing.assert_array_equal(w, avg)
        elif it in (1, 2):
            assert it == 1 or not np.array_equal(w, avg)


def test_swap_ema_weights_evaluate_and_predict():
    model, x, y = _ema_setup()
    swap = gkeras.callbacks.SwapEMAWeights()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    opt = model.optimizer
    # Move the raw weights away from their averages.
    raw = [v.numpy() + 1.0 for v in model.trainable_weights]
    for v, r in zip(model.trainable_weights, raw):
        v.assign(r)
    avg = [a.numpy().copy() for a in opt._model_variables_moving_average]
    seen = {}

    class Spy(gkeras.callbacks.Callback):
        def on_test_batch_begin(self, batch, logs=None):
            seen["test"] = model.trainable_weights[0].numpy().copy()

        def on_predict_batch_begin(self, batch, logs=None):
            seen["predict"] = model.trainable_weights[0].numpy().copy()

    loss_ema = model.evaluate(x, y, verbose=0, callbacks=[swap, Spy()])
    np.testing.assert_array_equal(seen["test"], avg[0])
    for v, r in zip(model.trainable_weights, raw):  # swapped back
        np.testing.assert_array_equal(v.numpy(), r)
    pred = model.predict(x, verbose=0, callbacks=[swap, Spy()])
    np.testing.assert_array_equal(seen["predict"], avg[0])
    np.testing.assert_allclose(pred, x @ avg[0] + avg[1], rtol=1e-5,
                               atol=1e-6)
    for v, r in zip(model.trainable_weights, raw):
        np.testing.assert_array_equal(v.numpy(), r)
    for a, b in zip(opt._model_variables_moving_average, avg):
        np.testing.assert_array_equal(a.numpy(), b)
    want = np.mean((x @ avg[0] + avg[1] - y) ** 2)
    assert loss_ema == pytest.approx(want, rel=1e-5)


def test_swap_ema_weights_on_epoch_and_errors():
    model, x, y = _ema_setup()
    at_epoch_end = []

    class Spy(gkeras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            at_epoch_end.append(
                (model.trainable_weights[0].numpy().copy(),
                 model.optimizer._model_variables_moving_average[0].numpy()
                 .copy()))

    swap = gkeras.callbacks.SwapEMAWeights(swap_on_epoch=True)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False,
              callbacks=[swap, Spy()])
    w0, raw0 = at_epoch_end[0]
    # After the swap at the end of epoch 0 the model holds the averages and
    # the optimizer slot the raw weights.
    assert not np.array_equal(w0, raw0)
    w1, avg1 = at_epoch_end[1]
    np.testing.assert_array_equal(w1, avg1)  # last epoch: finalized
    np.testing.assert_array_equal(model.trainable_weights[0].numpy(), w1)

    plain = gkeras.Sequential([gkeras.Input((3,)), gkeras.layers.Dense(1)])
    plain.compile(optimizer="sgd", loss="mse")
    plain.fit(x, y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="use_ema"):
        plain.evaluate(x, y, verbose=0,
                       callbacks=[gkeras.callbacks.SwapEMAWeights()])

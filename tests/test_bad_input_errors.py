"""Bad arguments to compile/fit/evaluate/predict fail early with errors
that name the argument or input and what was received."""

import numpy as np
import pytest

import gkeras
from gkeras import layers


def _model(compile=True):
    model = gkeras.Sequential([gkeras.Input((3,)), layers.Dense(2)])
    if compile:
        model.compile(optimizer="sgd", loss="mse")
    return model


X = np.ones((8, 3), "float32")
Y = np.ones((8, 2), "float32")


@pytest.mark.parametrize("batch_size", [0, -1, -32, 2.5, "8", True])
@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_bad_batch_size(method, batch_size):
    model = _model()
    args = (X,) if method == "predict" else (X, Y)
    with pytest.raises(ValueError, match="`batch_size` must be a positive "
                       "integer.*" + repr(batch_size).replace(".", r"\.")):
        getattr(model, method)(*args, batch_size=batch_size, verbose=0)


def test_good_batch_sizes_still_work():
    model = _model()
    model.fit(X, Y, batch_size=np.int64(4), epochs=1, verbose=0)
    assert model.predict(X, batch_size=3, verbose=0).shape == (8, 2)


def test_string_x_names_input_and_dtype():
    model = _model()
    xs = np.array([["1", "2", "3"]] * 8)
    with pytest.raises(ValueError, match=r"`x` is an array of dtype <U1 "
                       r"\(strings\), shape \(8, 3\)"):
        model.fit(xs, Y, verbose=0)
    with pytest.raises(ValueError, match="`x`.*<U1"):
        model.predict(xs, verbose=0)


def test_object_y_names_target():
    model = _model()
    ys = np.empty((8, 2), dtype=object)
    ys[...] = 1.0
    with pytest.raises(ValueError, match=r"`y` is an array of dtype object"):
        model.fit(X, ys, verbose=0)
    with pytest.raises(ValueError, match=r"`y`.*object"):
        model.evaluate(X, ys, verbose=0)


def test_string_input_of_multi_input_model_is_named():
    a = gkeras.Input((2,), name="a")
    b = gkeras.Input((2,), name="b")
    out = layers.Dense(1)(layers.Concatenate()([a, b]))
    model = gkeras.Model({"a": a, "b": b}, out)
    model.compile(optimizer="sgd", loss="mse")
    x = {"a": np.ones((4, 2), "float32"), "b": np.array([["x", "y"]] * 4)}
    with pytest.raises(ValueError, match=r"`x\['b'\]` is an array of dtype"):
        model.fit(x, np.ones((4, 1), "float32"), verbose=0)


@pytest.mark.parametrize("loss", ["mean_squared_eror", ["msee"],
                                  {"out": "nope"}])
def test_unknown_loss_name_fails_at_compile(loss):
    inp = gkeras.Input((3,))
    model = gkeras.Model(inp, layers.Dense(2, name="out")(inp))
    with pytest.raises(ValueError, match="Unknown loss identifier"):
        model.compile(optimizer="sgd", loss=loss)


def test_known_losses_still_compile():
    model = _model(compile=False)
    for loss in ("mse", "MeanSquaredError", gkeras.losses.Huber(),
                 gkeras.losses.mean_absolute_error, ["mse"]):
        model.compile(optimizer="sgd", loss=loss)
        model.fit(X, Y, verbose=0)


def test_string_batches_from_a_generator_are_named():
    model = _model()

    def gen():
        while True:
            yield X[:4], np.array([["a", "b"]] * 4)
    with pytest.raises(ValueError, match=r"`y \(of a batch from the data "
                       r"source\)` is an array of dtype <U1"):
        model.fit(gen(), steps_per_epoch=2, verbose=0)

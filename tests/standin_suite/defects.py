"""Issue 16 part-2 defects, each checked on the CuPy stand-in (run by
tests/test_standin_defects.py in one subprocess; every check failed before
its fix). Prints `RESULTS{json}`: check name -> "ok" or the traceback.

Usage: python -m standin_suite.defects
"""

import json
import os
import tempfile
import traceback

import numpy as np

import gkeras as keras
from gkeras import ops
import standin_counters as sc

R = {}


def check(name):
    def deco(f):
        try:
            f()
            R[name] = "ok"
        except Exception:
            R[name] = traceback.format_exc()[-3000:]
        return f
    return deco


@check("random_flip_training")
def _():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((4, 6, 6, 3)).astype("float32")
    flip = keras.layers.RandomFlip("horizontal_and_vertical", seed=1)
    o = ops.convert_to_numpy(flip(x, training=True))
    assert o.shape == x.shape
    # Every image is itself or one of its flips (drawn on the host, the
    # choice is applied on the device with ops.where).
    for i in range(4):
        cands = [x[i], x[i, :, ::-1], x[i, ::-1], x[i, ::-1, ::-1]]
        assert any(np.allclose(o[i], c) for c in cands)


@check("variable_from_device_array")
def _():
    import cupy
    v = keras.Variable(cupy.ones((2, 3), dtype=cupy.float32))
    assert v.dtype == "float32" and v.shape == (2, 3)
    v2 = keras.Variable(cupy.arange(3))
    assert ops.convert_to_numpy(v2).tolist() == [0, 1, 2]


@check("stateful_rnn")
def _():
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input(batch_shape=(2, 3, 4)),
                          keras.layers.LSTM(5, stateful=True)])
    x = np.ones((2, 3, 4), "float32")
    a = ops.convert_to_numpy(m(x))
    b = ops.convert_to_numpy(m(x))
    assert not np.allclose(a, b)
    m.layers[0].reset_states()
    assert np.allclose(ops.convert_to_numpy(m(x)), a, atol=1e-6)


@check("rnn_initial_state_numpy")
def _():
    import cupy
    keras.utils.set_random_seed(0)
    layer = keras.layers.GRU(5)
    x = np.ones((2, 3, 4), "float32")
    h0 = np.full((2, 5), 0.5, "float32")
    a = ops.convert_to_numpy(layer(x, initial_state=[h0]))
    b = ops.convert_to_numpy(layer(x, initial_state=[cupy.asarray(h0)]))
    zero = ops.convert_to_numpy(layer(x))
    assert np.allclose(a, b) and not np.allclose(a, zero)


@check("reset_states_with_values")
def _():
    import cupy
    layer = keras.layers.SimpleRNN(5, stateful=True)
    m = keras.Sequential([keras.Input(batch_shape=(2, 3, 4)), layer])
    m(np.ones((2, 3, 4), "float32"))
    layer.reset_states(np.full((2, 5), 0.25, "float32"))
    assert np.allclose(ops.convert_to_numpy(layer.states[0]), 0.25)
    layer.reset_states(cupy.full((2, 5), 0.5, dtype=cupy.float32))
    assert np.allclose(ops.convert_to_numpy(layer.states[0]), 0.5)


@check("sparse_labels_out_of_range_fit")
def _():
    m = keras.Sequential([keras.Input((3,)),
                          keras.layers.Dense(4, activation="softmax")])
    m.compile("sgd", "sparse_categorical_crossentropy")
    x = np.ones((8, 3), "float32")
    y = np.array([0, 1, 2, 3, 4, 0, 1, 2])
    try:
        m.fit(x, y, verbose=0, epochs=1)
    except ValueError as e:
        assert "label 4 is out of range for 4 classes" in str(e), e
    else:
        raise AssertionError("no error")


@check("sparse_labels_out_of_range_generator")
def _():
    # Labels reach the device batch by batch: the range is kept on the
    # device and read once, at the end of the epoch.
    m = keras.Sequential([keras.Input((3,)),
                          keras.layers.Dense(4, activation="softmax")])
    m.compile("sgd", "sparse_categorical_crossentropy")

    def gen():
        for i in range(3):
            yield (np.ones((4, 3), "float32"),
                   np.array([0, 1, 2, 3 + (i == 1) * 5]))
    try:
        m.fit(gen(), verbose=0, epochs=1, steps_per_epoch=3)
    except ValueError as e:
        assert "label 8 is out of range for 4 classes" in str(e), e
    else:
        raise AssertionError("no error")


@check("embedding_id_out_of_range_fit")
def _():
    m = keras.Sequential([keras.Input((3,), dtype="int32"),
                          keras.layers.Embedding(5, 2),
                          keras.layers.Flatten(), keras.layers.Dense(1)])
    m.compile("sgd", "mse")
    x = np.array([[1, 2, 3]] * 4 + [[1, 9, 0]] * 4, "int32")
    y = np.zeros((8, 1), "float32")
    try:
        m.fit(x, y, verbose=0, batch_size=4)
    except ValueError as e:
        assert "token id 9" in str(e), e
    else:
        raise AssertionError("no error")


@check("no_float64_in_float32_step")
def _():
    keras.utils.set_random_seed(0)
    L = keras.layers
    m = keras.Sequential([keras.Input((6, 6, 2)), L.Conv2D(3, 3),
                          L.GlobalMaxPooling2D(), L.Dense(3), L.Dense(1)])
    # GlobalMaxPooling's backward (ops.max) divided by an int64 count.
    m.compile("adam", "mse")
    x = np.random.default_rng(0).random((8, 6, 6, 2)).astype("float32")
    y = np.ones((8, 1), "float32")
    m.train_on_batch(x, y)
    sc.reset()
    m.train_on_batch(x, y)
    assert sc.count("float64") == 0, sc.where("float64")


@check("optimizer_apply_numpy_grads")
def _():
    v = keras.Variable(np.ones(3, "float32"))
    opt = keras.optimizers.SGD(0.5)
    opt.apply([np.ones(3, "float32")], [v])
    assert np.allclose(ops.convert_to_numpy(v), 0.5)


@check("repeat_tensor_repeats")
def _():
    x = ops.convert_to_tensor(np.arange(3, dtype="float32"))
    r = ops.repeat(x, ops.convert_to_tensor(np.array([1, 2, 0])), axis=0)
    assert ops.convert_to_numpy(r).tolist() == [0.0, 1.0, 1.0]


@check("random_crop_like_keras_3_15")
def _():
    # Keras 3.15.1 (recorded): inference returns the input unchanged, also
    # when it is larger than the crop; training crops (resizes when
    # smaller).
    x = np.random.default_rng(0).random((2, 10, 8, 3)).astype("float32")
    layer = keras.layers.RandomCrop(4, 6)
    out = ops.convert_to_numpy(layer(x, training=False))
    assert out.shape == (2, 10, 8, 3) and np.array_equal(out, x)
    assert tuple(layer(x, training=True).shape) == (2, 4, 6, 3)
    small = np.ones((1, 3, 3, 1), "float32")
    assert tuple(keras.layers.RandomCrop(4, 6)(small, training=True).shape) \
        == (1, 4, 6, 1)


@check("functional_symbolic_add_save_load")
def _():
    a, b = keras.Input((3,)), keras.Input((3,))
    m = keras.Model([a, b], keras.layers.Dense(2)(a + b))
    p = os.path.join(tempfile.mkdtemp(), "m.keras")
    m.save(p)
    m2 = keras.models.load_model(p)
    xa = np.ones((2, 3), "float32")
    xb = np.full((2, 3), 2.0, "float32")
    w, bias = m.get_weights()
    want = (xa + xb).astype("float64") @ w + bias
    assert np.allclose(m2.predict([xa, xb], verbose=0), want, atol=1e-5)


@check("device_results_convertible")
def _():
    # tape.gradient and Metric.result() give backend (CuPy) arrays, as
    # Keras gives its backend's tensors; the documented conversions work.
    import cupy
    x = keras.Variable(np.array([1.0, 2.0], "float32"))
    with keras.GradientTape() as tape:
        y = ops.sum(x * x)
    g = tape.gradient(y, [x])[0]
    assert isinstance(g, cupy.ndarray)
    assert ops.convert_to_numpy(g).tolist() == [2.0, 4.0]
    m = keras.metrics.Mean()
    m.update_state(np.array([1.0, 3.0], "float32"))
    r = m.result()
    assert float(r) == 2.0 and ops.convert_to_numpy(r) == 2.0


@check("erf_nonzero")
def _():
    # ops.erf / ops.nonzero come from the `ops` work (issue 17); checked
    # on the stand-in once they exist.
    if not (hasattr(ops, "erf") and hasattr(ops, "nonzero")):
        raise LookupError("ABSENT: gkeras.ops has no erf/nonzero yet")
    from math import erf
    x = np.array([0.0, 0.5, -1.0], "float32")
    v = ops.convert_to_numpy(ops.erf(ops.convert_to_tensor(x)))
    assert np.allclose(v, [erf(0), erf(0.5), erf(-1)], atol=1e-6)
    nz = ops.nonzero(ops.convert_to_tensor(np.array([[0, 1], [2, 0]])))
    assert [ops.convert_to_numpy(a).tolist() for a in nz] == [[0, 1],
                                                              [1, 0]]


if __name__ == "__main__":
    print("RESULTS" + json.dumps(R))

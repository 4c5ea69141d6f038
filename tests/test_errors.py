"""Bad input gets a clear error naming the argument/layer, expected vs got."""

import numpy as np
import pytest

import gkeras as keras
from gkeras.layers import Dense, Flatten


def test_unknown_identifiers_list_valid_names():
    with pytest.raises(ValueError, match=r"adamm.*adam"):
        keras.optimizers.get("adamm")
    with pytest.raises(ValueError, match=r"relu6x.*relu"):
        Dense(2, activation="relu6x")
    with pytest.raises(ValueError, match=r"msee"):
        keras.losses.get("msee")
    with pytest.raises(ValueError, match=r"accuracyy"):
        keras.metrics.get("accuracyy")
    with pytest.raises(ValueError, match=r"glorot_unifrm"):
        keras.initializers.get("glorot_unifrm")


def test_fit_with_mismatched_sample_counts():
    model = keras.Sequential([keras.Input((3,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"x sizes: 10.*y sizes: 9"):
        model.fit(np.zeros((10, 3)), np.zeros((9, 1)), verbose=0)


def test_wrong_last_dimension_names_layer_and_shapes():
    model = keras.Sequential([keras.Input((784,)), Dense(10)])
    with pytest.raises(ValueError) as e:
        model.predict(np.zeros((2, 783)), verbose=0)
    msg = str(e.value)
    assert "784" in msg and "(2, 783)" in msg


def test_wrong_rank_suggests_flatten():
    model = keras.Sequential([Dense(10, input_shape=(784,))])
    with pytest.raises(ValueError, match="Flatten"):
        model.predict(np.zeros((2, 28, 28)), verbose=0)
    layer = Dense(4)
    layer(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r'dense.*expected axis -1.*value 3.*'
                       r'\(2, 5\)'):
        layer(np.zeros((2, 5)))


def test_fit_before_compile():
    model = keras.Sequential([keras.Input((3,)), Dense(1)])
    with pytest.raises(ValueError, match="compile"):
        model.fit(np.zeros((4, 3)), np.zeros((4, 1)), verbose=0)
    with pytest.raises(ValueError, match="compile"):
        model.evaluate(np.zeros((4, 3)), np.zeros((4, 1)), verbose=0)


def test_unbuilt_model_errors():
    model = keras.Sequential()
    with pytest.raises(ValueError, match="no layers"):
        model.build((None, 3))
    model = keras.Sequential([Dense(2)])
    with pytest.raises(ValueError, match="not yet been built"):
        model.summary()
    with pytest.raises(ValueError, match="isn't built"):
        Dense(3).count_params()
    # Keras builds from the data on predict; so does gkeras.
    assert model.predict(np.zeros((1, 4)), verbose=0).shape == (1, 2)


def test_sparse_labels_out_of_range():
    model = keras.Sequential([keras.Input((3,)),
                              Dense(4, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"label 9 is out of range for 4 "
                       r"classes"):
        model.fit(np.zeros((5, 3)), np.array([0, 1, 9, 2, 3]), verbose=0)


def test_set_weights_wrong_count_and_shape():
    layer = Dense(3)
    layer.build((None, 2))
    with pytest.raises(ValueError, match="expected 2 weights, but received 1"):
        layer.set_weights([np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 3\).*kernel"):
        layer.set_weights([np.zeros((3, 3)), np.zeros(3)])


def test_unknown_layer_kwargs_and_bad_units():
    with pytest.raises(TypeError, match="Unrecognized keyword arguments "
                       "passed to Dense: {'unitz': 3}"):
        Dense(2, unitz=3)
    with pytest.raises(ValueError, match="units"):
        Dense(-1)


def test_missing_super_init():
    class Bad(keras.layers.Layer):
        def __init__(self):
            self.d = Dense(2)

    with pytest.raises(RuntimeError, match="super\\(\\).__init__"):
        Bad()(np.zeros((1, 2)))


def test_validation_split_needs_arrays():
    model = keras.Sequential([keras.Input((3,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")

    def gen():
        yield np.zeros((2, 3)), np.zeros((2, 1))

    with pytest.raises(ValueError, match="validation_split"):
        model.fit(gen(), validation_split=0.2, verbose=0)


def test_backend_cupy_requested_without_gpu(monkeypatch):
    import gkeras.backend as B
    monkeypatch.setenv("GKERAS_BACKEND", "cupy")
    monkeypatch.setattr(B, "_BACKEND", None)
    monkeypatch.setattr(B, "_cupy_or_reason",
                        lambda: (None, "no CUDA device is visible"))
    with pytest.raises(RuntimeError, match="no CUDA device is visible"):
        B.backend()
    monkeypatch.setenv("GKERAS_BACKEND", "tensorflow")
    monkeypatch.setattr(B, "_BACKEND", None)
    with pytest.raises(ValueError, match="'auto', 'numpy', 'cupy'"):
        B.backend()

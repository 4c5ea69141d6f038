"""Recurrent layers (SimpleRNN, LSTM, GRU, RNN + cells, Bidirectional,
TimeDistributed, Masking) against float64 NumPy step-by-step references
written here from the Keras 3 formulas, finite differences, and each other
(fused whole-sequence path vs the generic per-step cell loop)."""

import numpy as np
import pytest

import gkeras
from gkeras import layers, ops
from gkeras.ops.rnn import gru_sequence, lstm_sequence, simple_rnn_sequence
from harness import check_grad, run_layer_test


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


ACT = {"tanh": np.tanh, "sigmoid": sig, "relu": lambda x: np.maximum(x, 0),
       "softsign": lambda x: x / (1 + np.abs(x)), "linear": lambda x: x}


# -- references (float64, one step at a time, Keras `rnn()` mask rules) -----

def ref_run(step, x, states, mask=None, go_backwards=False,
            zero_output=False):
    x = np.asarray(x, np.float64)
    n, t, _ = x.shape
    order = range(t - 1, -1, -1) if go_backwards else range(t)
    outs = []
    for s in order:
        out, new = step(x[:, s], states)
        if mask is not None:
            m = mask[:, s][:, None]
            new = [np.where(m, a, b) for a, b in zip(new, states)]
            out = np.where(m, out, 0.0 if zero_output else states[0])
        states = new
        outs.append(out)
    return np.stack(outs, 1), states


def lstm_step(w, act="tanh", ract="sigmoid"):
    k, rk, b = [np.asarray(a, np.float64) for a in w]
    u = rk.shape[0]
    a, ra = ACT[act], ACT[ract]

    def step(x, states):
        h, c = states
        z = x @ k + h @ rk + b
        i, f, g, o = (z[:, j * u:(j + 1) * u] for j in range(4))
        c = ra(f) * c + ra(i) * a(g)
        h = ra(o) * a(c)
        return h, [h, c]
    return step


def gru_step(w, reset_after=True, act="tanh"):
    k, rk, b = [np.asarray(a, np.float64) for a in w]
    u = rk.shape[0]
    a = ACT[act]

    def step(x, states):
        h = states[0]
        if reset_after:
            xz, xr, xh = np.split(x @ k + b[0], 3, axis=1)
            hz, hr, hh = np.split(h @ rk + b[1], 3, axis=1)
            z, r = sig(xz + hz), sig(xr + hr)
            cand = a(xh + r * hh)
        else:
            xz, xr, xh = np.split(x @ k + b, 3, axis=1)
            z = sig(xz + h @ rk[:, :u])
            r = sig(xr + h @ rk[:, u:2 * u])
            cand = a(xh + (r * h) @ rk[:, 2 * u:])
        h = z * h + (1 - z) * cand
        return h, [h]
    return step


def rnn_step(w, act="tanh"):
    k, rk, b = [np.asarray(a, np.float64) for a in w]

    def step(x, states):
        h = ACT[act](x @ k + states[0] @ rk + b)
        return h, [h]
    return step


def zeros(n, u, count):
    return [np.zeros((n, u)) for _ in range(count)]


RNG = np.random.default_rng(0)


def data(*shape):
    return RNG.standard_normal(shape).astype("float32")


def random_weights(layer):
    layer.set_weights([RNG.standard_normal(w.shape).astype("float32") * 0.5
                       for w in layer.weights])


# -- forward against the references ------------------------------------------

@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("kind", ["lstm", "gru", "gru_v1", "simple"])
def test_forward_matches_reference(kind, masked, go_backwards):
    n, t, f, u = 3, 5, 4, 6
    x = data(n, t, f)
    mask = None
    if masked:
        mask = np.ones((n, t), bool)
        mask[0, 3:] = False
        mask[1, :2] = False
        mask[2, 2] = False
    common = dict(return_sequences=True, return_state=True,
                  go_backwards=go_backwards)
    if kind == "lstm":
        layer = layers.LSTM(u, **common)
    elif kind == "gru":
        layer = layers.GRU(u, **common)
    elif kind == "gru_v1":
        layer = layers.GRU(u, reset_after=False, **common)
    else:
        layer = layers.SimpleRNN(u, **common)
    layer(x)
    random_weights(layer)
    w = layer.get_weights()
    step, count = {
        "lstm": (lstm_step(w), 2), "gru": (gru_step(w), 1),
        "gru_v1": (gru_step(w, reset_after=False), 1),
        "simple": (rnn_step(w), 1)}[kind]
    want_seq, want_states = ref_run(step, x, zeros(n, u, count), mask,
                                    go_backwards)
    got = layer(x, mask=mask)
    np.testing.assert_allclose(np.asarray(got[0]), want_seq, atol=2e-5)
    for g, s in zip(got[1:], want_states):
        np.testing.assert_allclose(np.asarray(g), s, atol=2e-5)


def test_zero_output_for_mask_last_output():
    # The last output is outputs[-1]: zero when the last step is masked.
    x = data(2, 4, 3)
    mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)
    layer = layers.LSTM(5, zero_output_for_mask=True)
    out = np.asarray(layer(x, mask=mask))
    w = layer.get_weights()
    seq, _ = ref_run(lstm_step(w), x, zeros(2, 5, 2), mask,
                     zero_output=True)
    np.testing.assert_allclose(out, seq[:, -1], atol=2e-5)
    assert np.all(out[0] == 0)


@pytest.mark.parametrize("cls,cell_cls,step", [
    (layers.LSTM, layers.LSTMCell, lambda w: lstm_step(w, act="softsign")),
    (layers.GRU, layers.GRUCell, lambda w: gru_step(w, act="softsign")),
    (layers.SimpleRNN, layers.SimpleRNNCell,
     lambda w: rnn_step(w, act="softsign")),
])
def test_generic_loop_unsupported_activation(cls, cell_cls, step):
    # softsign has no fused kernel: the per-step cell loop runs instead.
    n, t, f, u = 2, 4, 3, 5
    x = data(n, t, f)
    layer = cls(u, activation="softsign", return_sequences=True)
    layer(x)
    random_weights(layer)
    want, _ = ref_run(step(layer.get_weights()), x,
                      zeros(n, u, 2 if cls is layers.LSTM else 1))
    np.testing.assert_allclose(np.asarray(layer(x)), want, atol=2e-5)


@pytest.mark.parametrize("which", ["lstm", "gru", "simple"])
def test_fused_equals_generic_with_dropout_and_mask(which):
    """LSTM(...) (fused) and RNN(LSTMCell(...)) (cell loop) draw the same
    dropout masks from the same seed: same outputs and same gradients."""
    n, t, f, u = 3, 5, 4, 6
    x = data(n, t, f)
    mask = np.ones((n, t), bool)
    mask[0, 3:] = False
    kw = dict(dropout=0.3, recurrent_dropout=0.4, seed=7)
    fused_cls, cell_cls = {"lstm": (layers.LSTM, layers.LSTMCell),
                           "gru": (layers.GRU, layers.GRUCell),
                           "simple": (layers.SimpleRNN,
                                      layers.SimpleRNNCell)}[which]
    a = fused_cls(u, return_sequences=True, **kw)
    b = layers.RNN(cell_cls(u, **kw), return_sequences=True)
    a(x)
    b(x)
    random_weights(a)
    b.set_weights(a.get_weights())
    outs, grads = [], []
    for lay in (a, b):
        with ops.GradientTape() as tape:
            y = lay(x, mask=mask, training=True)
            loss = ops.sum(ops.square(y))
        grads.append(tape.gradient(loss, lay.trainable_weights))
        outs.append(np.asarray(y))
    np.testing.assert_allclose(outs[0], outs[1], atol=1e-5)
    for g1, g2 in zip(*grads):
        np.testing.assert_allclose(g1, g2, atol=1e-4, rtol=1e-4)
    # Dropout is active in training and off at inference.
    assert not np.allclose(outs[0], np.asarray(a(x, mask=mask)))
    if which != "simple":
        assert a.cell.dropout_mask_count == (4 if which == "lstm" else 3)


# -- gradients (finite differences, float64) ---------------------------------

def test_grad_lstm_sequence_function():
    n, t, u = 2, 4, 3
    mask = np.array([[1, 1, 0, 1], [1, 1, 1, 0]], bool)
    for gb in (False, True):
        check_grad(lambda xw, h0, c0, rk: lstm_sequence(
            xw, h0, c0, rk, mask=mask, go_backwards=gb),
            RNG.standard_normal((n, t, 4 * u)), RNG.standard_normal((n, u)),
            RNG.standard_normal((n, u)), RNG.standard_normal((u, 4 * u)))
    # last-output only (no sequence output), with a per-gate dropout mask.
    dm = (RNG.random((4, n, u)) > 0.3) / 0.7
    check_grad(lambda xw, rk: lstm_sequence(
        xw, None, None, rk, recurrent_dropout_mask=dm,
        return_sequences=False)[1:],
        RNG.standard_normal((n, t, 4 * u)), RNG.standard_normal((u, 4 * u)))


@pytest.mark.parametrize("reset_after", [True, False])
def test_grad_gru_sequence_function(reset_after):
    n, t, u = 2, 4, 3
    mask = np.array([[1, 0, 1, 1], [1, 1, 1, 0]], bool)
    args = [RNG.standard_normal((n, t, 3 * u)), RNG.standard_normal((n, u)),
            RNG.standard_normal((u, 3 * u))]
    if reset_after:
        check_grad(lambda xw, h0, rk, rb: gru_sequence(
            xw, h0, rk, rb, mask=mask, go_backwards=True),
            *args, RNG.standard_normal((3 * u,)))
    else:
        check_grad(lambda xw, h0, rk: gru_sequence(
            xw, h0, rk, None, mask=mask, reset_after=False), *args)


def test_grad_simple_rnn_sequence_function():
    n, t, u = 2, 4, 3
    check_grad(lambda xw, h0, rk: simple_rnn_sequence(
        xw, h0, rk, mask=np.array([[1, 1, 0, 1], [0, 1, 1, 1]], bool),
        zero_output_for_mask=True),
        RNG.standard_normal((n, t, u)), RNG.standard_normal((n, u)),
        RNG.standard_normal((u, u)))


@pytest.mark.parametrize("cls", [layers.LSTM, layers.GRU, layers.SimpleRNN])
def test_grad_through_layer_input(cls):
    layer = cls(3, return_sequences=True, dtype="float64")
    x = RNG.standard_normal((2, 4, 2))
    layer(x)
    check_grad(lambda t: layer(t), x)


# -- masking -------------------------------------------------------------------

@pytest.mark.parametrize("cls", [layers.LSTM, layers.GRU, layers.SimpleRNN])
@pytest.mark.parametrize("padding", ["post", "pre"])
def test_masked_equals_unpadded(cls, padding):
    seqs = [[3, 5, 2], [7, 1, 4, 4, 9], [2]]
    padded = gkeras.preprocessing.sequence.pad_sequences(
        seqs, maxlen=6, padding=padding)
    emb = layers.Embedding(10, 4, mask_zero=True)
    rnn = cls(5)
    out = np.asarray(rnn(emb(padded)))
    for i, s in enumerate(seqs):
        single = np.asarray(rnn(emb(np.array([s]))))
        np.testing.assert_allclose(out[i], single[0], atol=1e-5)


def test_masking_layer_and_mask_propagation():
    x = data(2, 5, 3)
    x[0, 3:] = 0.0
    x[1, 0] = 0.0
    masking = layers.Masking(0.0)
    y = masking(x)
    want = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 1]], bool)
    np.testing.assert_array_equal(y._keras_mask, want)
    np.testing.assert_array_equal(np.asarray(y), x)
    lstm = layers.LSTM(4, return_sequences=True)
    seq = lstm(y)
    np.testing.assert_array_equal(seq._keras_mask, want)
    # The masked steps carried the state: same as running with the mask.
    np.testing.assert_allclose(np.asarray(seq),
                               np.asarray(lstm(x, mask=want)), atol=1e-6)
    assert layers.LSTM(4)(y)._keras_mask is None
    # Functional models propagate masks the same way.
    inp = gkeras.Input((5, 3))
    model = gkeras.Model(inp, lstm(layers.Masking()(inp)))
    np.testing.assert_allclose(model.predict(x, verbose=0), np.asarray(seq),
                               atol=1e-6)


# -- return_state / go_backwards / stateful ------------------------------------

def test_return_state_and_initial_state():
    x = data(2, 4, 3)
    lstm = layers.LSTM(5, return_state=True)
    out, h, c = lstm(x)
    np.testing.assert_allclose(np.asarray(out), np.asarray(h))
    h0, c0 = data(2, 5), data(2, 5)
    out2, _, _ = lstm(x, initial_state=[h0, c0])
    w = lstm.get_weights()
    seq, _ = ref_run(lstm_step(w), x, [h0.astype(float), c0.astype(float)])
    np.testing.assert_allclose(np.asarray(out2), seq[:, -1], atol=2e-5)
    # Symbolic: three outputs with the right shapes.
    inp = gkeras.Input((4, 3))
    outs = layers.GRU(6, return_state=True, return_sequences=True)(inp)
    assert [tuple(o.shape) for o in outs] == [(None, 4, 6), (None, 6)]


def test_stateful_carries_and_resets():
    x = data(2, 6, 3)
    lstm = layers.LSTM(4, stateful=True)
    lstm(x[:, :3])
    two_halves = np.asarray(lstm(x[:, 3:]))
    ref = layers.LSTM(4)
    ref(x)
    ref.set_weights(lstm.get_weights())
    np.testing.assert_allclose(two_halves, np.asarray(ref(x)), atol=1e-6)
    assert len(lstm.weights) == 3  # states are not weights (as Keras)
    lstm.reset_states()
    np.testing.assert_allclose(np.asarray(lstm(x[:, :3])),
                               np.asarray(ref(x[:, :3])), atol=1e-6)
    with pytest.raises(ValueError, match="stateful.*batch size 2.*3"):
        lstm(data(3, 6, 3))


def test_stateful_model_fit_runs():
    model = gkeras.Sequential([
        gkeras.Input(batch_shape=(4, 5, 2)),
        layers.SimpleRNN(3, stateful=True), layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(data(8, 5, 2), data(8, 1), batch_size=4, epochs=1, verbose=0,
              shuffle=False)


# -- wrappers --------------------------------------------------------------------

@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_merge_modes(merge_mode):
    x = data(2, 5, 3)
    bi = layers.Bidirectional(layers.LSTM(4, return_sequences=True),
                              merge_mode=merge_mode)
    out = bi(x)
    assert [w.path for w in bi.weights][:1] == [
        "bidirectional/forward_lstm/lstm_cell/kernel"]
    w = bi.get_weights()
    fw, _ = ref_run(lstm_step(w[:3]), x, zeros(2, 4, 2))
    bw, _ = ref_run(lstm_step(w[3:]), x, zeros(2, 4, 2), go_backwards=True)
    bw = bw[:, ::-1]
    want = {"concat": lambda: np.concatenate([fw, bw], -1),
            "sum": lambda: fw + bw, "mul": lambda: fw * bw,
            "ave": lambda: (fw + bw) / 2, None: lambda: [fw, bw]}[
        merge_mode]()
    if merge_mode is None:
        for g, e in zip(out, want):
            np.testing.assert_allclose(np.asarray(g), e, atol=2e-5)
    else:
        np.testing.assert_allclose(np.asarray(out), want, atol=2e-5)


def test_bidirectional_states_mask_and_backward_layer():
    x = data(2, 5, 3)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    bi = layers.Bidirectional(layers.GRU(4, return_state=True),
                              backward_layer=layers.GRU(
                                  4, return_state=True, go_backwards=True))
    out, hf, hb = bi(x, mask=mask)
    assert out.shape == (2, 8)
    np.testing.assert_allclose(np.asarray(out)[:, :4], np.asarray(hf))
    # Masked bidirectional on padded = unpadded.
    short = np.asarray(bi(x[:1, :3])[0])
    np.testing.assert_allclose(np.asarray(out)[0], short[0], atol=1e-5)
    with pytest.raises(ValueError, match="go_backwards"):
        layers.Bidirectional(layers.GRU(2), backward_layer=layers.GRU(2))
    inp = gkeras.Input((5, 3))
    assert tuple(layers.Bidirectional(layers.LSTM(3, return_sequences=True))(
        inp).shape) == (None, 5, 6)


def test_time_distributed_dense():
    x = data(2, 4, 3)
    td = layers.TimeDistributed(layers.Dense(5))
    y = np.asarray(td(x))
    k, b = td.get_weights()
    np.testing.assert_allclose(y, x.astype(float) @ k + b, atol=1e-5)
    inp = gkeras.Input((4, 3))
    assert tuple(td(inp).shape) == (None, 4, 5)
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        layers.TimeDistributed(layers.Dense(2))(data(2, 3))


def test_stacked_cells():
    x = data(2, 4, 3)
    rnn = layers.RNN([layers.LSTMCell(5), layers.GRUCell(4)],
                     return_state=True)
    out, (h1, c1), (h2,) = rnn(x)[0], rnn(x)[1:3], rnn(x)[3:]
    assert out.shape == (2, 4) and h1.shape == (2, 5) and c1.shape == (2, 5)
    w = rnn.get_weights()
    seq1, _ = ref_run(lstm_step(w[:3]), x, zeros(2, 5, 2))
    seq2, _ = ref_run(gru_step(w[3:]), seq1, zeros(2, 4, 1))
    np.testing.assert_allclose(np.asarray(out), seq2[:, -1], atol=2e-5)
    np.testing.assert_allclose(np.asarray(h2), seq2[:, -1], atol=2e-5)


def test_custom_cell():
    class MinimalRNNCell(layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1],
                                                 self.units))
            self.recurrent_kernel = self.add_weight(shape=(self.units,
                                                           self.units))

        def call(self, inputs, states):
            h = ops.matmul(inputs, self.kernel) + ops.matmul(
                states[0], self.recurrent_kernel)
            return h, [h]

    x = data(2, 5, 3)
    layer = layers.RNN(MinimalRNNCell(4), return_sequences=True)
    y = np.asarray(layer(x))
    k, rk = layer.get_weights()
    want, _ = ref_run(lambda xt, s: (xt @ k + s[0] @ rk,
                                     [xt @ k + s[0] @ rk]), x,
                      zeros(2, 4, 1))
    np.testing.assert_allclose(y, want, atol=1e-5)
    inp = gkeras.Input((5, 3))
    assert tuple(layers.RNN(MinimalRNNCell(4))(inp).shape) == (None, 4)


# -- errors ----------------------------------------------------------------------

@pytest.mark.parametrize("cls", [layers.LSTM, layers.GRU, layers.SimpleRNN])
def test_2d_input_error(cls):
    with pytest.raises(ValueError, match=r"\(batch, timesteps, features\)"):
        cls(3)(data(4, 5))
    with pytest.raises(ValueError, match=r"\(batch, timesteps, features\)"):
        cls(3)(gkeras.Input((5,)))


def test_bad_arguments():
    with pytest.raises(ValueError, match="units"):
        layers.LSTM(0)
    with pytest.raises(ValueError, match="use_cudnn"):
        layers.GRU(2, use_cudnn="yes")
    with pytest.raises(ValueError, match="merge mode"):
        layers.Bidirectional(layers.LSTM(2), merge_mode="max")


# -- the layer contract ------------------------------------------------------------

@pytest.mark.parametrize("cls,kwargs,out_shape,n_w", [
    (layers.LSTM, {"units": 3}, (2, 3), 3),
    (layers.LSTM, {"units": 3, "return_sequences": True,
                   "go_backwards": True, "dropout": 0.1,
                   "recurrent_dropout": 0.1}, (2, 4, 3), 3),
    (layers.GRU, {"units": 3, "return_sequences": True}, (2, 4, 3), 3),
    (layers.GRU, {"units": 3, "reset_after": False, "use_bias": False},
     (2, 3), 2),
    (layers.SimpleRNN, {"units": 3, "activation": "relu"}, (2, 3), 3),
    (layers.RNN, {"cell": layers.SimpleRNNCell(3)}, (2, 3), 3),
])
def test_run_layer_test(cls, kwargs, out_shape, n_w):
    run_layer_test(cls, kwargs, input_shape=(2, 4, 5),
                   expected_output_shape=out_shape,
                   expected_num_trainable_weights=n_w,
                   expected_num_non_trainable_weights=0, atol=1e-5)


def test_run_layer_test_wrappers():
    run_layer_test(layers.Bidirectional, {"layer": layers.GRU(3)},
                   input_shape=(2, 4, 5), expected_output_shape=(2, 6),
                   expected_num_trainable_weights=6, atol=1e-5)
    run_layer_test(layers.TimeDistributed, {"layer": layers.Dense(3)},
                   input_shape=(2, 4, 5), expected_output_shape=(2, 4, 3),
                   expected_num_trainable_weights=2, atol=1e-5)
    run_layer_test(layers.Masking, {"mask_value": 0.5},
                   input_shape=(2, 4, 5), expected_output_shape=(2, 4, 5),
                   expected_num_trainable_weights=0)


def test_weight_paths_and_lstm_bias_init():
    model = gkeras.Sequential([gkeras.Input((4, 3)), layers.LSTM(2)])
    assert [w.path.split("/", 1)[1] for w in model.weights] == [
        "lstm/lstm_cell/kernel", "lstm/lstm_cell/recurrent_kernel",
        "lstm/lstm_cell/bias"]
    np.testing.assert_array_equal(model.weights[2].numpy(),
                                  [0, 0, 1, 1, 0, 0, 0, 0])
    gru = layers.GRU(3)
    gru(data(1, 2, 4))
    assert [tuple(w.shape) for w in gru.weights] == [(4, 9), (3, 9), (2, 9)]
    rk = gru.weights[1].numpy()
    # Orthogonal recurrent initializer: orthonormal rows.
    np.testing.assert_allclose(rk @ rk.T, np.eye(3), atol=1e-5)


# -- the tutorial model --------------------------------------------------------------

def test_tutorial_lstm_trains():
    rng = np.random.default_rng(1)
    max_features, n, t = 50, 256, 12
    x = rng.integers(1, max_features, size=(n, t))
    # Label: does token 7 appear anywhere (a memory task).
    x[: n // 2, rng.integers(0, t, n // 2)] = 7
    y = (x == 7).any(axis=1).astype("float32")
    gkeras.utils.set_random_seed(0)
    model = gkeras.Sequential([
        layers.Embedding(max_features, 16),
        layers.LSTM(16, dropout=0.2, recurrent_dropout=0.2),
        layers.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", optimizer="adam",
                  metrics=["accuracy"])
    hist = model.fit(x, y, batch_size=32, epochs=8, verbose=0)
    loss = hist.history["loss"]
    assert loss[-1] < 0.7 * loss[0], loss
    _, acc = model.evaluate(x, y, verbose=0)
    assert acc > 0.8, acc

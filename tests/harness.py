"""Shared test harnesses: finite-difference gradient checks for ops and
the layer contract test (shapes, weights, config round trip, training).

Use from a test module: `from harness import check_grad, run_layer_test`
(tests/ is on sys.path via conftest's rootdir insertion).
"""

import numpy as np

import gkeras
from gkeras import ops
from gkeras.ops.engine import GradientTape, Tensor


def numeric_grad(f, x, eps=1e-6):
    """Central differences of scalar `f()` w.r.t. array `x` (in place)."""
    g = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + eps
        fp = f()
        x[i] = old - eps
        fm = f()
        x[i] = old
        g[i] = (fp - fm) / (2 * eps)
        it.iternext()
    return g


def check_grad(fn, *inputs, wrt=None, eps=1e-6, atol=1e-6, rtol=1e-5,
               seed=0):
    """Compares autograd with finite differences, in float64.

    Args:
        fn: function of gkeras Tensors returning a Tensor (or a tuple).
        *inputs: NumPy arrays (float ones are differentiated).
        wrt: indices of inputs to check (default: all float inputs).
        eps, atol, rtol: difference step and tolerances.

    The output is reduced with a fixed random projection so every output
    element's gradient is exercised.
    """
    rng = np.random.default_rng(seed)
    arrays = [np.array(a, dtype=np.float64) if np.asarray(a).dtype.kind == "f"
              else np.asarray(a) for a in inputs]
    if wrt is None:
        wrt = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    proj = {}

    def scalar(outs):
        outs = outs if isinstance(outs, (tuple, list)) else (outs,)
        total = 0.0
        for k, o in enumerate(outs):
            o = np.asarray(o.data if isinstance(o, Tensor) else o,
                           dtype=np.float64)
            if k not in proj:
                proj[k] = rng.standard_normal(o.shape)
            total += float(np.sum(o * proj[k]))
        return total

    tensors = [Tensor(a) for a in arrays]
    with GradientTape() as tape:
        for i in wrt:
            tape.watch(tensors[i])
        outs = fn(*tensors)
        outs_t = outs if isinstance(outs, (tuple, list)) else (outs,)
        scalar(outs_t)  # fix projections
        loss = None
        for k, o in enumerate(outs_t):
            term = ops.sum(ops.multiply(o, proj[k]))
            loss = term if loss is None else ops.add(loss, term)
    grads = tape.gradient(loss, [tensors[i] for i in wrt])
    for i, g in zip(wrt, grads):
        def f():
            return scalar(fn(*[Tensor(a) for a in arrays]))
        num = numeric_grad(f, arrays[i], eps)
        got = np.zeros_like(num) if g is None else np.asarray(g)
        np.testing.assert_allclose(
            got, num, atol=atol, rtol=rtol,
            err_msg=f"gradient of input {i} (shape {arrays[i].shape})")


def run_layer_test(layer_cls, init_kwargs, input_shape=None,
                   input_data=None, expected_output_shape=None,
                   expected_num_trainable_weights=None,
                   expected_num_non_trainable_weights=None,
                   expected_output=None, input_dtype="float32",
                   run_training=True, atol=1e-6):
    """The layer contract: output shape (eager and symbolic), weight
    counts, `get_config`/`from_config` round trip with equal outputs, and a
    training step in a model that changes the trainable weights."""
    rng = np.random.default_rng(0)
    if input_data is None:
        if np.dtype(input_dtype).kind in "iu":
            input_data = rng.integers(0, 5, size=input_shape).astype(
                input_dtype)
        else:
            input_data = rng.standard_normal(input_shape).astype(input_dtype)
    input_shape = input_data.shape
    layer = layer_cls(**init_kwargs)
    out = layer(input_data)
    out_np = np.asarray(out)
    if expected_output_shape is not None:
        assert tuple(out_np.shape) == tuple(expected_output_shape), \
            (out_np.shape, expected_output_shape)
    if expected_output is not None:
        np.testing.assert_allclose(out_np, expected_output, atol=atol)
    if expected_num_trainable_weights is not None:
        assert len(layer.trainable_weights) == \
            expected_num_trainable_weights
    if expected_num_non_trainable_weights is not None:
        assert len(layer.non_trainable_weights) == \
            expected_num_non_trainable_weights
    # Symbolic call infers the same shape (batch axis unknown).
    sym = gkeras.Input(batch_shape=(None,) + tuple(input_shape[1:]),
                       dtype=input_dtype)
    layer2 = layer_cls(**init_kwargs)
    sym_out = layer2(sym)
    assert tuple(sym_out.shape[1:]) == tuple(out_np.shape[1:]), \
        (sym_out.shape, out_np.shape)
    # Config round trip: same config, same outputs with the same weights.
    cfg = layer.get_config()
    clone = layer_cls.from_config(cfg)
    clone(input_data)
    clone.set_weights(layer.get_weights())
    assert clone.get_config() == cfg
    np.testing.assert_allclose(np.asarray(clone(input_data)), out_np,
                               atol=atol)
    if run_training and layer.trainable_weights:
        inp = gkeras.Input(batch_shape=(None,) + tuple(input_shape[1:]),
                           dtype=input_dtype)
        lay = layer_cls(**init_kwargs)
        y = lay(inp)
        model = gkeras.Model(inp, y)
        model.compile(optimizer=gkeras.optimizers.SGD(0.01), loss="mse")
        before = [w.copy() for w in lay.get_weights()]
        target = rng.standard_normal(out_np.shape).astype("float32")
        model.train_on_batch(input_data, target)
        after = lay.get_weights()
        changed = [not np.allclose(a, b) for a, b in zip(before, after)]
        assert any(changed), "training did not change any weight"
    return layer


def assert_save_load_roundtrip(model, x, tmp_path,
                               formats=("keras", "h5", "weights.h5")):
    """Saves `model` in each format, loads it back (for `.weights.h5`,
    into a clone from the config) and checks the predictions are equal."""
    import gkeras
    want = model.predict(x, verbose=0)
    for fmt in formats:
        path = str(tmp_path / f"model.{fmt}")
        if fmt == "weights.h5":
            model.save_weights(path)
            loaded = model.__class__.from_config(model.get_config())
            loaded.load_weights(path)
        else:
            model.save(path)
            loaded = gkeras.models.load_model(path)
        np.testing.assert_allclose(loaded.predict(x, verbose=0), want,
                                   rtol=1e-6, atol=1e-6, err_msg=fmt)

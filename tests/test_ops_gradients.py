"""Every differentiable op against float64 finite differences, and forward
values against NumPy."""

import numpy as np
import pytest

from gkeras import ops
from harness import check_grad

rng = np.random.default_rng(0)


def r(*shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, size=shape)


UNARY = [
    ("negative", ops.negative, np.negative, r(3, 4)),
    ("exp", ops.exp, np.exp, r(3, 4)),
    ("expm1", ops.expm1, np.expm1, r(3, 4)),
    ("log", ops.log, np.log, r(3, 4, lo=0.5, hi=2)),
    ("log1p", ops.log1p, np.log1p, r(3, 4, lo=0.1, hi=2)),
    ("log2", ops.log2, np.log2, r(3, 4, lo=0.5, hi=2)),
    ("log10", ops.log10, np.log10, r(3, 4, lo=0.5, hi=2)),
    ("sqrt", ops.sqrt, np.sqrt, r(3, 4, lo=0.5, hi=2)),
    ("rsqrt", ops.rsqrt, lambda x: 1 / np.sqrt(x), r(3, 4, lo=0.5, hi=2)),
    ("square", ops.square, np.square, r(3, 4)),
    ("reciprocal", ops.reciprocal, np.reciprocal, r(3, 4, lo=0.5, hi=2)),
    ("abs", ops.abs, np.abs, r(3, 4)),
    ("sin", ops.sin, np.sin, r(3, 4)),
    ("cos", ops.cos, np.cos, r(3, 4)),
    ("tan", ops.tan, np.tan, r(3, 4)),
    ("arcsin", ops.arcsin, np.arcsin, r(3, 4, lo=-0.8, hi=0.8)),
    ("arccos", ops.arccos, np.arccos, r(3, 4, lo=-0.8, hi=0.8)),
    ("arctan", ops.arctan, np.arctan, r(3, 4)),
    ("sinh", ops.sinh, np.sinh, r(3, 4)),
    ("cosh", ops.cosh, np.cosh, r(3, 4)),
    ("tanh", ops.tanh, np.tanh, r(3, 4)),
    ("arctanh", ops.arctanh, np.arctanh, r(3, 4, lo=-0.8, hi=0.8)),
    ("arcsinh", ops.arcsinh, np.arcsinh, r(3, 4)),
    ("sigmoid", ops.sigmoid, lambda x: 1 / (1 + np.exp(-x)), r(3, 4, lo=-5, hi=5)),
    ("relu", ops.relu, lambda x: np.maximum(x, 0), r(3, 4)),
    ("relu6", ops.relu6, lambda x: np.clip(x, 0, 6), r(3, 4, lo=-3, hi=8)),
    ("softplus", ops.softplus, lambda x: np.log1p(np.exp(x)), r(3, 4, lo=-5, hi=5)),
    ("softsign", ops.softsign, lambda x: x / (1 + np.abs(x)), r(3, 4)),
    ("silu", ops.silu, lambda x: x / (1 + np.exp(-x)), r(3, 4, lo=-4, hi=4)),
    ("elu", ops.elu, lambda x: np.where(x > 0, x, np.expm1(x)), r(3, 4)),
    ("selu", ops.selu, lambda x: 1.0507009873554805 * np.where(
        x > 0, x, 1.6732632423543772 * np.expm1(x)), r(3, 4)),
    ("leaky_relu", ops.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x), r(3, 4)),
    ("gelu_tanh", lambda x: ops.gelu(x, approximate=True),
     lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))),
     r(3, 4, lo=-3, hi=3)),
    ("hard_sigmoid", ops.hard_sigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1), r(3, 4, lo=-5, hi=5)),
    ("hard_silu", ops.hard_silu, lambda x: x * np.clip(x / 6 + 0.5, 0, 1), r(3, 4, lo=-5, hi=5)),
    ("log_sigmoid", ops.log_sigmoid, lambda x: -np.log1p(np.exp(-x)), r(3, 4, lo=-4, hi=4)),
    ("mish", ops.mish, lambda x: x * np.tanh(np.log1p(np.exp(x))), r(3, 4, lo=-3, hi=3)),
    ("celu", ops.celu, lambda x: np.maximum(x, 0) + np.expm1(np.minimum(x, 0)), r(3, 4)),
]


@pytest.mark.parametrize("name,op,ref,x", UNARY, ids=[u[0] for u in UNARY])
def test_unary(name, op, ref, x):
    # Keep away from kinks where finite differences are undefined.
    if name in ("abs", "relu", "leaky_relu", "relu6", "elu", "celu",
                "hard_sigmoid", "hard_silu"):
        x = np.where(np.abs(x) < 0.05, 0.3, x)
    np.testing.assert_allclose(np.asarray(op(x)), ref(x), rtol=1e-6,
                               atol=1e-7)
    check_grad(op, x)


BINARY = [
    ("add", ops.add, np.add, r(3, 4), r(4)),
    ("subtract", ops.subtract, np.subtract, r(3, 1), r(1, 4)),
    ("multiply", ops.multiply, np.multiply, r(2, 3, 4), r(3, 1)),
    ("divide", ops.divide, np.divide, r(3, 4), r(3, 4, lo=0.5, hi=2)),
    ("power", ops.power, np.power, r(3, 4, lo=0.5, hi=2), r(3, 4)),
    ("maximum", ops.maximum, np.maximum, r(3, 4), r(3, 4) + 0.01),
    ("minimum", ops.minimum, np.minimum, r(3, 4), r(3, 4) + 0.01),
    ("matmul", ops.matmul, np.matmul, r(3, 4), r(4, 5)),
    ("matmul_batched", ops.matmul, np.matmul, r(2, 3, 4), r(2, 4, 5)),
    ("matmul_bcast", ops.matmul, np.matmul, r(2, 3, 4), r(4, 5)),
    ("matmul_vec", ops.matmul, np.matmul, r(3, 4), r(4)),
    ("dot", ops.dot, np.dot, r(3, 4), r(4, 2)),
    ("logaddexp", ops.logaddexp, np.logaddexp, r(3, 4), r(3, 4)),
    ("tensordot", lambda a, b: ops.tensordot(a, b, axes=([1, 2], [0, 1])),
     lambda a, b: np.tensordot(a, b, axes=([1, 2], [0, 1])), r(2, 3, 4), r(3, 4, 5)),
    ("outer", ops.outer, np.outer, r(3), r(4)),
    ("inner", ops.inner, np.inner, r(3, 4), r(2, 4)),
]


@pytest.mark.parametrize("name,op,ref,a,b", BINARY, ids=[b[0] for b in BINARY])
def test_binary(name, op, ref, a, b):
    np.testing.assert_allclose(np.asarray(op(a, b)), ref(a, b), rtol=1e-6,
                               atol=1e-7)
    check_grad(op, a, b)


REDUCE = [
    ("sum", ops.sum, np.sum), ("mean", ops.mean, np.mean),
    ("max", ops.max, np.max), ("min", ops.min, np.min),
    ("var", ops.var, np.var), ("std", ops.std, np.std),
    ("prod", ops.prod, np.prod),
    ("logsumexp", ops.logsumexp,
     lambda x, axis=None, keepdims=False: np.log(np.sum(
         np.exp(x), axis=axis, keepdims=keepdims))),
]


@pytest.mark.parametrize("name,op,ref", REDUCE, ids=[x[0] for x in REDUCE])
@pytest.mark.parametrize("axis,keepdims", [(None, False), (1, False),
                                           ((0, 2), True), (-1, True)])
def test_reductions(name, op, ref, axis, keepdims):
    x = r(3, 4, 5, lo=0.5, hi=1.5)
    np.testing.assert_allclose(np.asarray(op(x, axis=axis, keepdims=keepdims)),
                               ref(x, axis=axis, keepdims=keepdims), rtol=1e-6)
    check_grad(lambda t: op(t, axis=axis, keepdims=keepdims), x)


SHAPE = [
    ("reshape", lambda x: ops.reshape(x, (4, -1)), lambda x: x.reshape(4, -1)),
    ("transpose", lambda x: ops.transpose(x, (2, 0, 1)), lambda x: x.transpose(2, 0, 1)),
    ("swapaxes", lambda x: ops.swapaxes(x, 0, 2), lambda x: np.swapaxes(x, 0, 2)),
    ("moveaxis", lambda x: ops.moveaxis(x, 0, -1), lambda x: np.moveaxis(x, 0, -1)),
    ("expand_dims", lambda x: ops.expand_dims(x, 1), lambda x: np.expand_dims(x, 1)),
    ("squeeze", lambda x: ops.squeeze(ops.expand_dims(x, 0), 0), lambda x: x),
    ("getitem", lambda x: x[1:, ::2, -1], lambda x: x[1:, ::2, -1]),
    ("getitem_adv", lambda x: x[[0, 1, 1]], lambda x: x[[0, 1, 1]]),
    ("take", lambda x: ops.take(x, np.array([2, 0, 2]), axis=1),
     lambda x: np.take(x, [2, 0, 2], axis=1)),
    ("take_along_axis", lambda x: ops.take_along_axis(
        x, np.array([[[0], [2], [1]]] * 2).repeat(4, axis=2)[:2, :3, :4] % 3, axis=1),
     lambda x: np.take_along_axis(
         x, np.array([[[0], [2], [1]]] * 2).repeat(4, axis=2)[:2, :3, :4] % 3, axis=1)),
    ("pad", lambda x: ops.pad(x, ((1, 0), (0, 2), (1, 1))),
     lambda x: np.pad(x, ((1, 0), (0, 2), (1, 1)))),
    ("tile", lambda x: ops.tile(x, (2, 1, 3)), lambda x: np.tile(x, (2, 1, 3))),
    ("repeat", lambda x: ops.repeat(x, 2, axis=1), lambda x: np.repeat(x, 2, axis=1)),
    ("repeat_list", lambda x: ops.repeat(x, [1, 0, 2], axis=1),
     lambda x: np.repeat(x, [1, 0, 2], axis=1)),
    ("flip", lambda x: ops.flip(x, 1), lambda x: np.flip(x, 1)),
    ("roll", lambda x: ops.roll(x, 2, axis=2), lambda x: np.roll(x, 2, axis=2)),
    ("broadcast_to", lambda x: ops.broadcast_to(x[:, :1], (2, 3, 4)),
     lambda x: np.broadcast_to(x[:, :1], (2, 3, 4))),
    ("tril", lambda x: ops.tril(x), lambda x: np.tril(x)),
    ("triu", lambda x: ops.triu(x, 1), lambda x: np.triu(x, 1)),
    ("cumsum", lambda x: ops.cumsum(x, axis=1), lambda x: np.cumsum(x, axis=1)),
    ("clip", lambda x: ops.clip(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5)),
    ("softmax", lambda x: ops.softmax(x, axis=1),
     lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    ("log_softmax", lambda x: ops.log_softmax(x),
     lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True))),
    ("einsum", lambda x: ops.einsum("abc,cd->abd", x, np.ones((4, 2)) * 0.5),
     lambda x: np.einsum("abc,cd->abd", x, np.ones((4, 2)) * 0.5)),
    ("einsum_reduce", lambda x: ops.einsum("abc->b", x), lambda x: np.einsum("abc->b", x)),
    ("norm", lambda x: ops.norm(x, axis=-1), lambda x: np.linalg.norm(x, axis=-1)),
    ("sort", lambda x: ops.sort(x, axis=-1), lambda x: np.sort(x, axis=-1)),
    ("where", lambda x: ops.where(x > 0, x, x * 3), lambda x: np.where(x > 0, x, x * 3)),
    ("cast_roundtrip", lambda x: ops.cast(ops.cast(x, "float32"), "float64"),
     lambda x: x.astype("float32").astype("float64")),
    ("slice_update", lambda x: ops.slice_update(x, (0, 1, 0), x[:1, :1, :2] * 2),
     None),
]


@pytest.mark.parametrize("name,op,ref", SHAPE, ids=[s[0] for s in SHAPE])
def test_shape_ops(name, op, ref):
    x = r(2, 3, 4)
    x = np.where(np.abs(np.abs(x) - 0.5) < 0.05, 0.3, x)  # away from clip kinks
    if ref is not None:
        np.testing.assert_allclose(np.asarray(op(x)), ref(x), rtol=1e-6)
    if name == "cast_roundtrip":
        # float32 rounding inside: a wider difference step is needed.
        check_grad(op, x, eps=1e-2, atol=1e-5, rtol=1e-4)
    else:
        check_grad(op, x)


def test_concatenate_stack_split_grads():
    a, b = r(2, 3), r(2, 2)
    check_grad(lambda x, y: ops.concatenate([x, y], axis=1), a, b)
    check_grad(lambda x, y: ops.stack([x, y[:, :1] * x], axis=0), a, b)
    check_grad(lambda x: ops.split(x, [1, 2], axis=1)[2] * 3 +
               ops.split(x, [1, 2], axis=1)[0], a)
    np.testing.assert_allclose(np.asarray(ops.concatenate([a, b], axis=1)),
                               np.concatenate([a, b], axis=1))


@pytest.mark.parametrize("from_logits", [False, True])
def test_crossentropy_ops_against_numpy(from_logits):
    logits = r(5, 4, lo=-2, hi=2)
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    out = logits if from_logits else p
    t = np.eye(4)[[0, 3, 1, 2, 3]]
    q = np.clip(p, 1e-7, 1 - 1e-7)
    want = -(t * np.log(q)).sum(-1)
    np.testing.assert_allclose(
        np.asarray(ops.categorical_crossentropy(t, out, from_logits=from_logits)),
        want, rtol=1e-6)
    np.testing.assert_allclose(
        np.asarray(ops.sparse_categorical_crossentropy(
            np.array([0, 3, 1, 2, 3]), out, from_logits=from_logits)),
        want, rtol=1e-6)
    check_grad(lambda o: ops.categorical_crossentropy(t, o, from_logits=from_logits), out)
    check_grad(lambda o: ops.sparse_categorical_crossentropy(
        np.array([0, 3, 1, 2, 3]), o, from_logits=from_logits), out)
    y = (r(5, 4) > 0).astype(np.float64)
    sig = 1 / (1 + np.exp(-logits))
    bout = logits if from_logits else sig
    want_b = -(y * np.log(np.clip(sig, 1e-7, 1 - 1e-7)) +
               (1 - y) * np.log(1 - np.clip(sig, 1e-7, 1 - 1e-7)))
    np.testing.assert_allclose(
        np.asarray(ops.binary_crossentropy(y, bout, from_logits=from_logits)),
        want_b, rtol=1e-5)
    check_grad(lambda o: ops.binary_crossentropy(y, o, from_logits=from_logits), bout)


def test_sparse_crossentropy_rejects_out_of_range_labels():
    with pytest.raises(ValueError, match="label 7 is out of range for 4"):
        ops.sparse_categorical_crossentropy(np.array([0, 7]), np.ones((2, 4)) / 4)


def test_stop_gradient_blocks_gradient():
    from gkeras.ops.engine import GradientTape, Tensor
    x = Tensor(np.array([1.0, 2.0]))
    with GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(x * ops.stop_gradient(x))
    np.testing.assert_allclose(tape.gradient(y, x), [1.0, 2.0])


def test_gradient_accumulates_over_reused_tensor():
    from gkeras.ops.engine import GradientTape, Tensor
    x = Tensor(np.array([3.0]))
    with GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(x * x + x * 2.0 + ops.exp(x) * 0.0)
    np.testing.assert_allclose(tape.gradient(y, x), [8.0])


def test_no_graph_outside_tape():
    from gkeras.ops.variable import Variable
    w = Variable(np.ones((2, 2)))
    y = ops.matmul(np.ones((1, 2)), w)
    assert y.creator is None


def test_take_gradient_scatter_matches_add_at():
    from gkeras.ops.shape import _scatter_add_rows
    rng = np.random.default_rng(1)
    # many repeats per row (segment sums), few (rounds of distinct rows)
    for shape in [(50, 3), (7,), (4, 2, 2), (5000, 3), (900,)]:
        rows = rng.integers(0, shape[0], 300)
        vals = rng.standard_normal((300,) + shape[1:])
        start = rng.standard_normal(shape)
        want = start.copy()
        np.add.at(want, rows, vals)
        got = start.copy()
        _scatter_add_rows(got, rows, vals)
        np.testing.assert_allclose(got, want, atol=1e-12)


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("x_shape", [(5, 4), (2, 3, 4)])
def test_affine_matches_matmul_add_relu(x_shape, bias, relu):
    from gkeras.ops.affine import affine
    x, k, b = r(*x_shape), r(4, 3), r(3)
    want = x @ k + (b if bias else 0)
    if relu:
        want = np.maximum(want, 0)
    got = affine(x, k, b if bias else None, relu=relu)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12)
    if bias:
        check_grad(lambda x, k, b: affine(x, k, b, relu=relu), x, k, b)
    else:
        check_grad(lambda x, k: affine(x, k, relu=relu), x, k)


def test_affine_other_dtypes_fall_back_to_the_composition():
    from gkeras.ops.affine import affine
    x = np.arange(6, dtype=np.int32).reshape(2, 3)
    k = r(3, 2).astype(np.float32)
    np.testing.assert_allclose(np.asarray(affine(x, k, relu=True)),
                               np.maximum(x @ k, 0), rtol=1e-6)

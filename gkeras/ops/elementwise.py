"""Element-wise ops (`keras.ops.numpy` names): arithmetic, math functions,
comparisons. Differentiable where Keras's are."""

import math

import numpy as np

from gkeras.ops._base import arr, is_float, keras_op, to_array, to_float, \
    unbroadcast, wrap, xp_of
from gkeras.ops.engine import Function, Tensor


def _coerce_pair(a, b):
    """Puts two operands on one device (a NumPy constant meeting a CuPy
    tensor is moved to the GPU)."""
    if type(a) is not type(b):
        ta, tb = type(a), type(b)
        if ta is np.ndarray and tb not in (int, float, bool) and \
                tb is not np.ndarray and hasattr(b, "device"):
            a = xp_of(b).asarray(a)
        elif tb is np.ndarray and ta not in (int, float, bool) and \
                ta is not np.ndarray and hasattr(a, "device"):
            b = xp_of(a).asarray(b)
    return a, b


def _shape(a):
    return a.shape if hasattr(a, "shape") else ()


def _weak_float(a, b):
    """Keras's (JAX's) promotion of a float meeting an integer: a Python
    float makes an integer/bool tensor floatx (Python scalars are "weak"),
    and an integer/bool tensor meeting a float tensor takes its dtype.
    NumPy would give float64 in both cases."""
    da, db = getattr(a, "dtype", None), getattr(b, "dtype", None)
    if da is not None and da.kind in "biu":
        if isinstance(b, float):
            a = a.astype(_floatx())
        elif db is not None and db.kind == "f":
            a = a.astype(db)
    elif db is not None and db.kind in "biu":
        if isinstance(a, float):
            b = b.astype(_floatx())
        elif da is not None and da.kind == "f":
            b = b.astype(da)
    return a, b


def _where_promote(x1, x2):
    """Keras's promotion of `where`'s branches: a Python float with an
    integer branch gives floatx, an integer branch meeting a float one
    takes its dtype (a float Tensor branch is kept, with its gradient)."""
    a, b = arr(x1), arr(x2)
    if not (hasattr(a, "dtype") or hasattr(b, "dtype")):
        return x1, x2
    pa, pb = _weak_float(a, b)
    return (x1 if pa is a else pa), (x2 if pb is b else pb)


def _floatx():
    from gkeras import backend
    return backend.floatx()


# -- binary arithmetic -------------------------------------------------------

class _Binary(Function):
    # Subclasses whose second operand must stay integer (ldexp) opt out.
    keras_promotion = True

    def forward(self, a, b):
        a, b = _coerce_pair(a, b)
        if self.keras_promotion:
            a, b = _weak_float(a, b)
        self.a, self.b = a, b
        return self.compute(a, b)

    def grads(self, gy):  # -> (ga, gb) before unbroadcast
        raise NotImplementedError

    def backward(self, gy):
        ga, gb = self.grads(gy)
        a, b = self.a, self.b
        if ga is not None:
            ga = unbroadcast(ga, _shape(a)) if is_float(a) else None
        if gb is not None:
            gb = unbroadcast(gb, _shape(b)) if is_float(b) else None
        return ga, gb


class Add(_Binary):
    def compute(self, a, b):
        return a + b

    def grads(self, gy):
        return gy, gy


class Subtract(_Binary):
    def compute(self, a, b):
        return a - b

    def grads(self, gy):
        return gy, -gy


class Multiply(_Binary):
    def compute(self, a, b):
        return a * b

    def grads(self, gy):
        return gy * self.b, gy * self.a


class Divide(_Binary):
    def compute(self, a, b):
        return a / b

    def grads(self, gy):
        ga = gy / self.b
        return ga, -ga * self.a / self.b


class Power(_Binary):
    def compute(self, a, b):
        self.y = a ** b
        return self.y

    def grads(self, gy):
        a, b = self.a, self.b
        ga = gy * b * a ** (b - 1) if is_float(a) else None
        gb = None
        if is_float(b) and not isinstance(b, (int, float)):
            xp = xp_of(a, b)
            gb = gy * self.y * xp.log(xp.where(a > 0, a, 1))
        return ga, gb


class Maximum(_Binary):
    def compute(self, a, b):
        return xp_of(a, b).maximum(a, b)

    def grads(self, gy):
        m = self.a >= self.b
        return gy * m, gy * ~m


class Minimum(_Binary):
    def compute(self, a, b):
        return xp_of(a, b).minimum(a, b)

    def grads(self, gy):
        m = self.a <= self.b
        return gy * m, gy * ~m


class Matmul(Function):
    def forward(self, a, b):
        a, b = _coerce_pair(a, b)
        self.a, self.b = a, b
        return matmul_forward(a, b)

    def backward(self, gy):
        a, b = self.a, self.b
        # Skip products nobody uses: the first layer's input is the batch.
        return matmul_grads(a, b, gy, is_float(a) and self.needs_grad(0),
                            is_float(b) and self.needs_grad(1))


def matmul_forward(a, b):
    """`a @ b` for arrays, (..., k) x (k, n) as ONE 2-D GEMM (NumPy's
    stacked matmul with a broadcast 2-D operand is many times slower)."""
    if a.ndim > 2 and b.ndim == 2 and a.flags.c_contiguous:
        return xp_of(a, b).matmul(a.reshape(-1, a.shape[-1]), b).reshape(
            a.shape[:-1] + (b.shape[-1],))
    return xp_of(a, b).matmul(a, b)


def matmul_grads(a, b, gy, want_a, want_b):
    """Gradients of `a @ b` given that of the product (None where not
    wanted)."""
    xp = xp_of(a, b)
    if a.ndim == 1 and b.ndim == 1:
        return (gy * b if want_a else None), (gy * a if want_b else None)
    if a.ndim == 1:
        ga = xp.matmul(gy[..., None, :], xp.swapaxes(b, -1, -2))[
            ..., 0, :] if want_a else None
        gb = a[:, None] * gy[..., None, :] if want_b else None
        return (unbroadcast(ga, a.shape) if want_a else None,
                unbroadcast(gb, b.shape) if want_b else None)
    if b.ndim == 1:
        ga = gy[..., :, None] * b if want_a else None
        gb = xp.matmul(xp.swapaxes(a, -1, -2), gy[..., :, None])[
            ..., 0] if want_b else None
        return (unbroadcast(ga, a.shape) if want_a else None,
                unbroadcast(gb, b.shape) if want_b else None)
    ga = gb = None
    if want_a:
        if b.ndim == 2 and a.ndim > 2:
            # (..., k) x (k, n): one 2-D GEMM over the flattened batch.
            ga = xp.matmul(gy.reshape(-1, gy.shape[-1]), b.T).reshape(
                gy.shape[:-1] + (b.shape[0],))
        else:
            ga = unbroadcast(xp.matmul(gy, xp.swapaxes(b, -1, -2)),
                             a.shape)
    if want_b:
        if b.ndim == 2 and a.ndim > 2:
            gb = xp.matmul(a.reshape(-1, a.shape[-1]).T,
                           gy.reshape(-1, gy.shape[-1]))
        elif a.ndim == b.ndim == 2 and a.shape[0] == 1 and xp is np:
            # Batch 1: an outer product. NumPy's matmul runs a contraction
            # of length 1 in its slow non-BLAS loop (784x128: 336 us);
            # `dot` gives the same products in 47 us.
            gb = np.dot(a.T, gy)
        else:
            gb = unbroadcast(xp.matmul(xp.swapaxes(a, -1, -2), gy),
                             b.shape)
    return ga, gb


@keras_op
def add(x1, x2):
    """Adds arguments element-wise (broadcasting).

    Args:
        x1: first tensor.
        x2: second tensor.

    Returns:
        The element-wise sum.
    """
    return Add()(x1, x2)


@keras_op
def subtract(x1, x2):
    """Subtracts arguments element-wise."""
    return Subtract()(x1, x2)


@keras_op
def multiply(x1, x2):
    """Multiplies arguments element-wise."""
    return Multiply()(x1, x2)


@keras_op
def divide(x1, x2):
    """Divides arguments element-wise (true division; integers give
    floatx, as in Keras)."""
    return Divide()(_float_operand(x1), _float_operand(x2))


def _float_operand(x):
    """Integer/bool tensors and arrays as floatx; scalars and floats kept."""
    if isinstance(x, (int, float, bool)):
        return x
    return to_float(x)


true_divide = divide


@keras_op
def divide_no_nan(x1, x2):
    """Safe element-wise division: 0 where the denominator is 0."""
    d = arr(x2)
    xp = xp_of(arr(x1), d)
    safe = where(d == 0, xp.ones_like(d) if hasattr(d, "shape") else 1, x2)
    return where(d == 0, 0.0, divide(x1, safe))


@keras_op
def power(x1, x2):
    """First tensor raised to the powers of the second, element-wise
    (bools as int32, as in Keras)."""
    x1, x2 = (arr(x).astype("int32") if getattr(arr(x), "dtype", None)
              == bool else x for x in (x1, x2))
    return Power()(x1, x2)


@keras_op
def maximum(x1, x2):
    """Element-wise maximum (the gradient goes to the first on ties)."""
    return Maximum()(x1, x2)


@keras_op
def minimum(x1, x2):
    """Element-wise minimum (the gradient goes to the first on ties)."""
    return Minimum()(x1, x2)


@keras_op
def matmul(x1, x2):
    """Matrix product of two tensors, NumPy `matmul` semantics.

    Args:
        x1: tensor of shape (..., m, k) (or (k,)).
        x2: tensor of shape (..., k, n) (or (k,)).

    Returns:
        The product, shape (..., m, n).
    """
    a, b = arr(x1), arr(x2)
    if getattr(a, "ndim", 0) == 0 or getattr(b, "ndim", 0) == 0:
        raise ValueError("matmul does not accept scalars; use multiply. "
                         f"Received shapes {np.shape(a)} and {np.shape(b)}.")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ValueError(
            f"matmul: the last axis of x1 ({a.shape}) must equal the "
            f"second-to-last axis of x2 ({b.shape}).")
    return Matmul()(*_narrow_ints_as_int32(x1, x2))


def _narrow_ints_as_int32(x1, x2):
    """Keras's `matmul` multiplies 8/16-bit integers in int32 (no
    overflow); bools and wider types are left alone."""
    a, b = arr(x1), arr(x2)
    if a.dtype.kind in "iu" and b.dtype.kind in "iu" and max(
            a.dtype.itemsize, b.dtype.itemsize) < 4:
        return a.astype("int32"), b.astype("int32")
    return x1, x2


# -- unary functions ----------------------------------------------------------

class _Unary(Function):
    """Unary op: `f(x)`, with `dfdx(x, y, xp)` giving the local derivative."""

    def __init__(self, f, dfdx):
        self.f, self.dfdx = f, dfdx

    def forward(self, x):
        self.x = x
        self.y = self.f(x, xp_of(x))
        return self.y

    def backward(self, gy):
        if not is_float(self.x):
            return None
        return gy * self.dfdx(self.x, self.y, xp_of(self.x))


# Python floats, not NumPy float64 scalars: those are not "weak" under
# NumPy 2 and would turn float32 gradients into float64.
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)

# Unary ops that keep integer dtypes; the others compute ints in floatx.
_INT_PRESERVING = ("negative", "abs", "square")


def _unary(name, f, dfdx, doc):
    promote = name not in _INT_PRESERVING

    def op(x):
        if promote:
            x = to_float(x)
        elif name == "square" and getattr(arr(x), "dtype", None) == bool:
            x = arr(x).astype("int32")  # Keras squares bools in int32
        return _Unary(f, dfdx)(x)
    op.__name__ = name
    op.__qualname__ = name
    op.__doc__ = doc
    return keras_op(op)


negative = _unary("negative", lambda x, xp: -x, lambda x, y, xp: -1.0,
                  "Numerical negative, element-wise.")
exp = _unary("exp", lambda x, xp: xp.exp(x), lambda x, y, xp: y,
             "Exponential, element-wise.")
expm1 = _unary("expm1", lambda x, xp: xp.expm1(x), lambda x, y, xp: y + 1,
               "`exp(x) - 1`, element-wise.")
log = _unary("log", lambda x, xp: xp.log(x), lambda x, y, xp: 1.0 / x,
             "Natural logarithm, element-wise.")
log1p = _unary("log1p", lambda x, xp: xp.log1p(x),
               lambda x, y, xp: 1.0 / (1.0 + x), "`log(1 + x)`, element-wise.")
log2 = _unary("log2", lambda x, xp: xp.log2(x),
              lambda x, y, xp: 1.0 / (x * _LN2),
              "Base-2 logarithm, element-wise.")
log10 = _unary("log10", lambda x, xp: xp.log10(x),
               lambda x, y, xp: 1.0 / (x * _LN10),
               "Base-10 logarithm, element-wise.")
sqrt = _unary("sqrt", lambda x, xp: xp.sqrt(x), lambda x, y, xp: 0.5 / y,
              "Non-negative square root, element-wise.")
rsqrt = _unary("rsqrt", lambda x, xp: 1.0 / xp.sqrt(x),
               lambda x, y, xp: -0.5 * y / x, "`1 / sqrt(x)`, element-wise.")
square = _unary("square", lambda x, xp: x * x, lambda x, y, xp: 2.0 * x,
                "Square, element-wise.")
reciprocal = _unary("reciprocal", lambda x, xp: 1.0 / x,
                    lambda x, y, xp: -y * y, "`1 / x`, element-wise.")
abs = _unary("abs", lambda x, xp: xp.abs(x), lambda x, y, xp: xp.sign(x),
             "Absolute value, element-wise.")
absolute = abs
sin = _unary("sin", lambda x, xp: xp.sin(x), lambda x, y, xp: xp.cos(x),
             "Sine, element-wise.")
cos = _unary("cos", lambda x, xp: xp.cos(x), lambda x, y, xp: -xp.sin(x),
             "Cosine, element-wise.")
tan = _unary("tan", lambda x, xp: xp.tan(x), lambda x, y, xp: 1.0 + y * y,
             "Tangent, element-wise.")
arcsin = _unary("arcsin", lambda x, xp: xp.arcsin(x),
                lambda x, y, xp: 1.0 / xp.sqrt(1.0 - x * x),
                "Inverse sine, element-wise.")
arccos = _unary("arccos", lambda x, xp: xp.arccos(x),
                lambda x, y, xp: -1.0 / xp.sqrt(1.0 - x * x),
                "Inverse cosine, element-wise.")
arctan = _unary("arctan", lambda x, xp: xp.arctan(x),
                lambda x, y, xp: 1.0 / (1.0 + x * x),
                "Inverse tangent, element-wise.")
sinh = _unary("sinh", lambda x, xp: xp.sinh(x), lambda x, y, xp: xp.cosh(x),
              "Hyperbolic sine, element-wise.")
cosh = _unary("cosh", lambda x, xp: xp.cosh(x), lambda x, y, xp: xp.sinh(x),
              "Hyperbolic cosine, element-wise.")
tanh = _unary("tanh", lambda x, xp: xp.tanh(x), lambda x, y, xp: 1.0 - y * y,
              "Hyperbolic tangent, element-wise.")
arctanh = _unary("arctanh", lambda x, xp: xp.arctanh(x),
                 lambda x, y, xp: 1.0 / (1.0 - x * x),
                 "Inverse hyperbolic tangent, element-wise.")
arcsinh = _unary("arcsinh", lambda x, xp: xp.arcsinh(x),
                 lambda x, y, xp: 1.0 / xp.sqrt(x * x + 1.0),
                 "Inverse hyperbolic sine, element-wise.")


def _nondiff_unary(name, doc):
    # Keras's floor and ceil of integers are floatx.
    promote = name in ("floor", "ceil")

    def op(x):
        a = to_array(to_float(x) if promote else x)
        return wrap(getattr(xp_of(a), name)(a))
    op.__name__ = name
    op.__doc__ = doc
    return keras_op(op)


sign = _nondiff_unary("sign", "Sign of each element (-1, 0, 1).")
floor = _nondiff_unary("floor", "Floor, element-wise.")
ceil = _nondiff_unary("ceil", "Ceiling, element-wise.")
isnan = _nondiff_unary("isnan", "True where the element is NaN.")
isinf = _nondiff_unary("isinf", "True where the element is +/-inf.")
isfinite = _nondiff_unary("isfinite", "True where the element is finite.")
logical_not = _nondiff_unary("logical_not", "Logical NOT, element-wise.")


@keras_op
def round(x, decimals=0):
    """Rounds to the given number of decimals (half to even)."""
    a = to_array(x)
    return wrap(xp_of(a).round(a, decimals))


@keras_op
def clip(x, x_min, x_max):
    """Clips values to `[x_min, x_max]`; the gradient is 1 inside, 0 outside.

    Args:
        x: input tensor.
        x_min: lower bound.
        x_max: upper bound.
    """
    return _Clip(x_min, x_max)(x)


class _Clip(Function):
    def __init__(self, lo, hi):
        self.lo, self.hi = arr(lo), arr(hi)

    def forward(self, x):
        self.x = x
        return xp_of(x).clip(x, self.lo, self.hi)

    def backward(self, gy):
        x = self.x
        return gy * ((x >= self.lo) & (x <= self.hi))


@keras_op
def logaddexp(x1, x2):
    """`log(exp(x1) + exp(x2))`, computed stably (integers in floatx)."""
    x1, x2 = _float_operand(x1), _float_operand(x2)
    m = maximum(x1, x2)
    return add(m, log1p(exp(negative(abs(subtract(x1, x2))))))


@keras_op
def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """Replaces NaN and infinities by finite numbers."""
    a = to_array(x)
    return wrap(xp_of(a).nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf))


# -- comparisons and logic (not differentiable) ---------------------------------

def _cmp(name, doc):
    # Keras's floor division and remainder of bools are int32.
    bools_as_int = name in ("floor_divide", "mod")

    def op(x1, x2):
        a, b = _coerce_pair(arr(x1), arr(x2))
        if bools_as_int:
            a, b = (v.astype("int32") if getattr(v, "dtype", None) == bool
                    else v for v in (a, b))
        return wrap(getattr(xp_of(a, b), name)(a, b))
    op.__name__ = name
    op.__doc__ = doc
    return keras_op(op)


equal = _cmp("equal", "`x1 == x2`, element-wise.")
not_equal = _cmp("not_equal", "`x1 != x2`, element-wise.")
greater = _cmp("greater", "`x1 > x2`, element-wise.")
greater_equal = _cmp("greater_equal", "`x1 >= x2`, element-wise.")
less = _cmp("less", "`x1 < x2`, element-wise.")
less_equal = _cmp("less_equal", "`x1 <= x2`, element-wise.")
logical_and = _cmp("logical_and", "Logical AND, element-wise.")
logical_or = _cmp("logical_or", "Logical OR, element-wise.")
logical_xor = _cmp("logical_xor", "Logical XOR, element-wise.")
floor_divide = _cmp("floor_divide", "Floor division, element-wise.")
mod = _cmp("mod", "Remainder of division, element-wise.")


@keras_op
def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """True where two tensors are element-wise equal within a tolerance."""
    a, b = _coerce_pair(arr(x1), arr(x2))
    return wrap(xp_of(a, b).isclose(a, b, rtol=rtol, atol=atol,
                                    equal_nan=equal_nan))


class _Where(Function):
    nondiff_inputs = (0,)

    def forward(self, c, a, b):
        xp = xp_of(c, a, b)
        self.c = c
        self.sa, self.sb = _shape(a), _shape(b)
        self.fa, self.fb = is_float(a), is_float(b)
        return xp.where(c, a, b)

    def backward(self, gy):
        xp = xp_of(gy)
        z = xp.zeros((), gy.dtype)
        ga = unbroadcast(xp.where(self.c, gy, z), self.sa) if self.fa else None
        gb = unbroadcast(xp.where(self.c, z, gy), self.sb) if self.fb else None
        return None, ga, gb


@keras_op
def where(condition, x1=None, x2=None):
    """Picks from `x1` where `condition` is true, else from `x2`.

    With only `condition`, returns the indices of true elements (as NumPy's
    `nonzero`).
    """
    if x1 is None and x2 is None:
        c = to_array(condition)
        return tuple(wrap(i) for i in xp_of(c).nonzero(c))
    x1, x2 = _where_promote(x1, x2)
    c = arr(condition)
    a, b = arr(x1), arr(x2)
    xp = xp_of(c, a, b)
    if xp is not np:
        # A host operand beside device ones (e.g. a mask drawn on the host
        # by an augmentation layer) is copied to the device: CuPy refuses
        # mixed NumPy/CuPy operands.
        if type(c) is np.ndarray:
            c = xp.asarray(c)
        if type(a) is np.ndarray:
            x1 = a = xp.asarray(a)
        if type(b) is np.ndarray:
            x2 = b = xp.asarray(b)
    # Python-scalar branches take the other branch's dtype.
    if isinstance(x1, (int, float)) and hasattr(b, "dtype"):
        x1 = xp_of(b).asarray(x1, dtype=b.dtype)
    if isinstance(x2, (int, float)) and hasattr(a, "dtype"):
        x2 = xp_of(a).asarray(x2, dtype=a.dtype)
    return _Where()(c, x1, x2)


def _tensor_binop(op, reflected=False):
    if reflected:
        return lambda self, other: op(other, self)
    return lambda self, other: op(self, other)


def install_operators(cls):
    """Gives `cls` (Tensor or KerasTensor) the Python arithmetic operators."""
    cls.__add__ = _tensor_binop(add)
    cls.__radd__ = _tensor_binop(add, True)
    cls.__sub__ = _tensor_binop(subtract)
    cls.__rsub__ = _tensor_binop(subtract, True)
    cls.__mul__ = _tensor_binop(multiply)
    cls.__rmul__ = _tensor_binop(multiply, True)
    cls.__truediv__ = _tensor_binop(divide)
    cls.__rtruediv__ = _tensor_binop(divide, True)
    cls.__floordiv__ = _tensor_binop(floor_divide)
    cls.__rfloordiv__ = _tensor_binop(floor_divide, True)
    cls.__mod__ = _tensor_binop(mod)
    cls.__pow__ = _tensor_binop(power)
    cls.__rpow__ = _tensor_binop(power, True)
    cls.__matmul__ = _tensor_binop(matmul)
    cls.__rmatmul__ = _tensor_binop(matmul, True)
    cls.__neg__ = lambda self: negative(self)
    cls.__pos__ = lambda self: self
    cls.__abs__ = lambda self: abs(self)
    cls.__invert__ = lambda self: logical_not(self)
    cls.__lt__ = _tensor_binop(less)
    cls.__le__ = _tensor_binop(less_equal)
    cls.__gt__ = _tensor_binop(greater)
    cls.__ge__ = _tensor_binop(greater_equal)
    cls.__and__ = _tensor_binop(logical_and)
    cls.__rand__ = _tensor_binop(logical_and, True)
    cls.__or__ = _tensor_binop(logical_or)
    cls.__ror__ = _tensor_binop(logical_or, True)
    cls.__xor__ = _tensor_binop(logical_xor)


install_operators(Tensor)


def _tensor_eq(self, other):
    return equal(self, other)


def _tensor_ne(self, other):
    return not_equal(self, other)


Tensor.__eq__ = _tensor_eq
Tensor.__ne__ = _tensor_ne

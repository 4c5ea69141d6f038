"""Element-wise math of `keras.ops.numpy` beyond `elementwise.py`: inverse
hyperbolics, `arctan2`, `hypot`, `cbrt`, the error functions, `sinc`,
`i0`, the `fmax`/`fmin`/`fmod` family, bit operations and the complex-part
helpers. Differentiable where Keras's (JAX's) are.

Integer inputs to float-valued functions are computed in `floatx()`, as
Keras does.
"""

import math

import numpy as np

from gkeras import backend
from gkeras.ops._base import arr, floating, keras_op, to_array, to_float, \
    wrap, xp_of
from gkeras.ops.elementwise import _Binary, _coerce_pair, _Unary
from gkeras.ops.engine import Tensor


# `x` itself when floating (so a Tensor keeps its gradient), else its array
# cast to `floatx()`, as Keras promotes integers and bools.
as_float = to_float


def special(name, x):
    """A SciPy special function on NumPy or CuPy arrays (None if SciPy is
    missing on the CPU)."""
    fn = backend.kernels_for(x).special_function(name)
    return None if fn is None else fn(x).astype(x.dtype, copy=False)


def _float_unary(name, f, dfdx, doc):
    def op(x):
        return _Unary(f, dfdx)(as_float(x))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return keras_op(op)


def _array_fn(name, fn, doc):
    """A non-differentiable op computed by `fn(array, xp)`."""
    def op(x):
        a = to_array(x)
        return wrap(fn(a, xp_of(a)))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return keras_op(op)


# -- differentiable unary functions -----------------------------------------

arccosh = _float_unary(
    "arccosh", lambda x, xp: xp.arccosh(x),
    lambda x, y, xp: 1.0 / xp.sqrt(x * x - 1.0),
    "Inverse hyperbolic cosine, element-wise.")
cbrt = _float_unary(
    "cbrt", lambda x, xp: xp.cbrt(x),
    lambda x, y, xp: 1.0 / (3.0 * y * y),
    "Cube root, element-wise (real, also for negative inputs).")
deg2rad = _float_unary(
    "deg2rad", lambda x, xp: xp.deg2rad(x),
    lambda x, y, xp: np.pi / 180.0, "Converts degrees to radians.")
rad2deg = _float_unary(
    "rad2deg", lambda x, xp: xp.rad2deg(x),
    lambda x, y, xp: 180.0 / np.pi, "Converts radians to degrees.")
exp2 = _float_unary(
    "exp2", lambda x, xp: xp.exp2(x),
    lambda x, y, xp: y * math.log(2.0), "`2 ** x`, element-wise.")
fabs = _float_unary(
    "fabs", lambda x, xp: xp.fabs(x), lambda x, y, xp: xp.sign(x),
    "Absolute value as a float, element-wise.")


def _sinc_grad(x, y, xp):
    px = np.pi * x
    safe = xp.where(x == 0, 1.0, x)
    return xp.where(x == 0, 0.0, (xp.cos(px) - y) / safe)


sinc = _float_unary(
    "sinc", lambda x, xp: xp.sinc(x), _sinc_grad,
    "Normalized sinc, `sin(pi x) / (pi x)` (1 at 0), element-wise.")


def erf_array(x, xp):
    """The error function of a float array (backend kernel)."""
    return backend.kernels_for(x).erf(x)


def _erfc_array(x, xp):
    y = special("erfc", x)
    return 1.0 - erf_array(x, xp) if y is None else y


def erfinv_array(x, xp):
    """Inverse error function: SciPy/CuPy when present, otherwise Giles's
    single-precision approximation refined by two Newton steps on `erf`."""
    y = special("erfinv", x)
    if y is not None:
        return y
    w = -xp.log((1.0 - x) * (1.0 + x))
    ws = w - 2.5
    p = 2.81022636e-08
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
              0.00021858087, -0.00125372503, -0.00417768164, 0.246640727,
              1.50140941):
        p = c + p * ws
    wl = xp.sqrt(xp.maximum(w, 5.0)) - 3.0
    q = -0.000200214257
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
              -0.0076224613, 0.00943887047, 1.00167406, 2.83297682):
        q = c + q * wl
    y = xp.where(w < 5.0, p, q) * x
    for _ in range(2):
        err = erf_array(y, xp) - x
        y = y - err / (2.0 / math.sqrt(math.pi) * xp.exp(-y * y))
    return y.astype(x.dtype, copy=False)


erf = _float_unary(
    "erf", erf_array,
    lambda x, y, xp: 2.0 / math.sqrt(math.pi) * xp.exp(-x * x),
    "Gauss error function, element-wise.")
erfc = _float_unary(
    "erfc", _erfc_array,
    lambda x, y, xp: -2.0 / math.sqrt(math.pi) * xp.exp(-x * x),
    "Complementary error function `1 - erf(x)`, element-wise.")
erfinv = _float_unary(
    "erfinv", erfinv_array,
    lambda x, y, xp: math.sqrt(math.pi) / 2.0 * xp.exp(y * y),
    "Inverse error function, element-wise (defined on (-1, 1)).")


def _i1(x, xp):
    y = special("i1", x)
    if y is not None:
        return y
    # Power series of I1; enough terms that the last is negligible.
    n = int(float(xp.max(xp.abs(x)))) + 30 if x.size else 1
    term = x / 2.0
    total = term.copy()
    q = (x / 2.0) ** 2
    for k in range(1, n):
        term = term * q / (k * (k + 1))
        total = total + term
    return total


i0 = _float_unary(
    "i0", lambda x, xp: xp.i0(x), lambda x, y, xp: _i1(x, xp),
    "Modified Bessel function of the first kind, order 0, element-wise.")


# -- non-differentiable unary functions ---------------------------------------

@keras_op
def trunc(x):
    """Rounds towards zero, element-wise (integers are returned as they
    are)."""
    a = to_array(x)
    if a.dtype.kind in "iub":
        return wrap(a)
    return wrap(xp_of(a).trunc(a))


signbit = _array_fn("signbit", lambda a, xp: xp.signbit(a),
                    "True where the sign bit is set (negative, -0.0).")
# Spelled with `isinf` and a sign test: CuPy has no `isneginf`/`isposinf`.
isneginf = _array_fn("isneginf", lambda a, xp: xp.isinf(a) & (a < 0),
                     "True where the element is negative infinity.")
isposinf = _array_fn("isposinf", lambda a, xp: xp.isinf(a) & (a > 0),
                     "True where the element is positive infinity.")
isreal = _array_fn("isreal", lambda a, xp: xp.isreal(a),
                   "True where the element has no imaginary part.")
real = _array_fn("real", lambda a, xp: xp.real(a),
                 "The real part of each element.")
imag = _array_fn("imag", lambda a, xp: xp.imag(a),
                 "The imaginary part of each element (0 for real input).")
conjugate = _array_fn("conjugate",
                      lambda a, xp: a if a.dtype == bool else xp.conjugate(a),
                      "The complex conjugate of each element.")
conj = conjugate


@keras_op
def angle(x):
    """The counter-clockwise angle of each (complex) element, in radians.

    Integer input is computed in `floatx()`.
    """
    a = to_array(x)
    if a.dtype.kind not in "fc":
        a = a.astype(backend.floatx())
    return wrap(xp_of(a).angle(a))


bitwise_invert = _array_fn("bitwise_invert", lambda a, xp: xp.invert(a),
                           "Bit-wise NOT of integer (or bool) tensors.")
bitwise_not = bitwise_invert


# -- differentiable binary functions ----------------------------------------

class _BinaryFn(_Binary):
    """`f(a, b)` with local derivatives `da(a, b, y, xp)`, `db(...)`."""

    def __init__(self, f, da, db):
        self.f, self.da, self.db = f, da, db

    def compute(self, a, b):
        self.y = self.f(a, b, xp_of(a, b))
        return self.y

    def grads(self, gy):
        xp = xp_of(gy)
        a, b, y = self.a, self.b, self.y
        ga = None if self.da is None else gy * self.da(a, b, y, xp)
        gb = None if self.db is None else gy * self.db(a, b, y, xp)
        return ga, gb


def _float_pair(x1, x2):
    """Both operands in their common float dtype (ints -> floatx)."""
    a, b = arr(x1), arr(x2)
    dt = np.result_type(*(v.dtype if hasattr(v, "dtype") else
                          np.min_scalar_type(v) if isinstance(v, (int, bool))
                          else np.float32 for v in (a, b)))
    if dt.kind not in "fc":
        dt = np.dtype(backend.floatx())
    out = []
    for x, v in ((x1, a), (x2, b)):
        if isinstance(x, Tensor) and x.dtype == dt:
            out.append(x)
        else:
            v = to_array(v) if not hasattr(v, "dtype") else v
            out.append(v.astype(dt, copy=False))
    return out


def _binary(name, f, da, db, doc, promote=True, int_bools=False):
    def op(x1, x2):
        if promote:
            x1, x2 = _float_pair(x1, x2)
        else:
            x1 = x1 if isinstance(x1, Tensor) else to_array(x1)
            x2 = x2 if isinstance(x2, Tensor) else to_array(x2)
            if int_bools:
                x1, x2 = (x if isinstance(x, Tensor) else _int(x)
                          for x in (x1, x2))
        return _BinaryFn(f, da, db)(x1, x2)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return keras_op(op)


def _atan2_da(a, b, y, xp):
    return b / (a * a + b * b)


def _atan2_db(a, b, y, xp):
    return -a / (a * a + b * b)


arctan2 = _binary(
    "arctan2", lambda a, b, xp: xp.arctan2(a, b), _atan2_da, _atan2_db,
    """Element-wise arc tangent of `x1 / x2`, choosing the quadrant.

    Args:
        x1: y-coordinates.
        x2: x-coordinates.

    Returns:
        Angles in radians, in `[-pi, pi]`.
    """)
hypot = _binary(
    "hypot", lambda a, b, xp: xp.hypot(a, b),
    lambda a, b, y, xp: a / y, lambda a, b, y, xp: b / y,
    "`sqrt(x1**2 + x2**2)`, element-wise.")
logaddexp2 = _binary(
    "logaddexp2", lambda a, b, xp: xp.logaddexp2(a, b),
    lambda a, b, y, xp: xp.exp2(a - y), lambda a, b, y, xp: xp.exp2(b - y),
    "`log2(2**x1 + 2**x2)`, computed stably.")


def _fmax_da(a, b, y, xp):
    return (a >= b) | xp.isnan(b)


def _fmin_da(a, b, y, xp):
    return (a <= b) | xp.isnan(b)


fmax = _binary(
    "fmax", lambda a, b, xp: xp.fmax(a, b), _fmax_da,
    lambda a, b, y, xp: ~_fmax_da(a, b, y, xp),
    "Element-wise maximum ignoring NaNs (NaN only where both are NaN).",
    promote=False)
fmin = _binary(
    "fmin", lambda a, b, xp: xp.fmin(a, b), _fmin_da,
    lambda a, b, y, xp: ~_fmin_da(a, b, y, xp),
    "Element-wise minimum ignoring NaNs (NaN only where both are NaN).",
    promote=False)
fmod = _binary(
    "fmod", lambda a, b, xp: xp.fmod(a, b), lambda a, b, y, xp: 1.0,
    lambda a, b, y, xp: -xp.trunc(a / b),
    "C-style remainder of division (the sign of the dividend).",
    promote=False, int_bools=True)


@keras_op
def ldexp(x1, x2):
    """`x1 * 2**x2`, element-wise (`x2` integer).

    Args:
        x1: mantissas (float).
        x2: integer exponents.
    """
    e = to_array(x2)
    if e.dtype.kind not in "iub":
        raise TypeError(f"ldexp: x2 must be an integer tensor, received "
                        f"dtype {e.dtype}.")
    fn = _BinaryFn(lambda a, b, xp_: xp_.ldexp(a, b),
                   lambda a, b, y, xp_: xp_.exp2(b.astype(a.dtype)), None)
    fn.keras_promotion = False  # the exponents stay integers
    return fn(as_float(x1), e)


# -- non-differentiable binary functions -------------------------------------

def _fl(a):
    """Integers and bools as `floatx()` (Keras's promotion)."""
    return a if floating(a.dtype) else a.astype(backend.floatx())


def _int(a):
    """Bools as int32 (Keras shifts and remainders of bools are int32)."""
    return a.astype("int32") if a.dtype == bool else a


def _nd_binary(name, f, doc, xy=False):
    def compute(x1, x2):
        a, b = _coerce_pair(to_array(x1), to_array(x2))
        return wrap(f(a, b, xp_of(a, b)))

    def op_x1x2(x1, x2):
        return compute(x1, x2)

    def op_xy(x, y):  # Keras names the bit operations' arguments x, y
        return compute(x, y)
    op = op_xy if xy else op_x1x2
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return keras_op(op)


heaviside = _nd_binary(
    "heaviside", lambda a, b, xp: xp.heaviside(_fl(a), _fl(b)),
    "Heaviside step: 0 below zero, 1 above, `x2` at exactly zero.")
nextafter = _nd_binary(
    "nextafter", lambda a, b, xp: xp.nextafter(_fl(a), _fl(b)),
    "The next representable float after `x1` towards `x2`.")
def _ints_only(name, f):
    def g(a, b, xp):
        if a.dtype.kind not in "iu" or b.dtype.kind not in "iu":
            raise ValueError(f"{name} expects integer tensors, received "
                             f"dtypes {a.dtype} and {b.dtype}.")
        return f(a, b, xp)
    return g


gcd = _nd_binary("gcd", _ints_only("gcd", lambda a, b, xp: xp.gcd(a, b)),
                 "Greatest common divisor of integers, element-wise.")
lcm = _nd_binary("lcm", _ints_only("lcm", lambda a, b, xp: xp.lcm(a, b)),
                 "Least common multiple of integers, element-wise.")
bitwise_and = _nd_binary("bitwise_and", lambda a, b, xp: xp.bitwise_and(a, b),
                         "Bit-wise AND of integer (or bool) tensors.", xy=True)
bitwise_or = _nd_binary("bitwise_or", lambda a, b, xp: xp.bitwise_or(a, b),
                        "Bit-wise OR of integer (or bool) tensors.", xy=True)
bitwise_xor = _nd_binary("bitwise_xor", lambda a, b, xp: xp.bitwise_xor(a, b),
                         "Bit-wise XOR of integer (or bool) tensors.", xy=True)
bitwise_left_shift = _nd_binary(
    "bitwise_left_shift", lambda a, b, xp: xp.left_shift(_int(a), _int(b)),
    "Shifts the bits of integers left by `y`.", xy=True)
bitwise_right_shift = _nd_binary(
    "bitwise_right_shift", lambda a, b, xp: xp.right_shift(_int(a), _int(b)),
    "Shifts the bits of integers right by `y` (arithmetic for signed).",
    xy=True)
left_shift = bitwise_left_shift
right_shift = bitwise_right_shift


@keras_op
def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """Whether two tensors are element-wise equal within a tolerance.

    Returns:
        A scalar boolean tensor.
    """
    a, b = _coerce_pair(to_array(x1), to_array(x2))
    xp = xp_of(a, b)
    return wrap(xp.asarray(xp.allclose(a, b, rtol=rtol, atol=atol,
                                       equal_nan=equal_nan)))


class _Copy(_Unary):
    def __init__(self):
        super().__init__(lambda x, xp: x.copy(), lambda x, y, xp: 1.0)


@keras_op
def copy(x):
    """Returns a copy of `x` (differentiable, the identity's gradient)."""
    return _Copy()(x if isinstance(x, Tensor) else to_array(x))

"""The keras.ops added for issue 17, run on whichever backend is active:
values and gradients of each case, pickled by `python -m ops_standin_cases
OUT`. `tests/test_ops_standin.py` runs it on NumPy in its own process and
on the CuPy stand-in (tests/cupy_standin) in a subprocess, and compares.
Imports no Keras."""
import pickle
import sys
import traceback

import numpy as np

import gkeras
from gkeras import ops
from gkeras.ops.engine import GradientTape, Tensor

rng = np.random.default_rng(0)


def f32(*s, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, size=s).astype("float32")


X = f32(3, 4)
X3 = f32(2, 3, 4)
P = f32(3, 4, lo=0.5, hi=1.5)
SPD = (lambda b: (b @ b.T + 3 * np.eye(3)).astype("float32"))(f32(3, 3))
IMG = f32(2, 4, 6, 8)
NCHW = f32(2, 3, 5, 6)
I32 = np.array([3, 1, 4, 1, 5, 9, 2, 6], "int32")

CASES = [
    # (name, fn, inputs, differentiable)
    ("arccosh", ops.arccosh, [P + 1], True),
    ("arctan2", ops.arctan2, [X, P], True),
    ("hypot", ops.hypot, [X, P], True),
    ("cbrt", ops.cbrt, [P], True),
    ("erf", ops.erf, [X], True),
    ("erfc", ops.erfc, [X], True),
    ("erfinv", ops.erfinv, [X * 0.9], True),
    ("i0", ops.i0, [X], True),
    ("sinc", ops.sinc, [X], True),
    ("exp2", ops.exp2, [X], True),
    ("logaddexp2", ops.logaddexp2, [X, P], True),
    ("fmax", ops.fmax, [X, P - 1], True),
    ("fmod", ops.fmod, [X * 3, P], True),
    ("trunc", ops.trunc, [X * 3], False),
    ("signbit", ops.signbit, [X], False),
    ("isposinf", ops.isposinf, [X], False),
    ("heaviside", ops.heaviside, [X, P], False),
    ("gcd", ops.gcd, [I32, I32[::-1].copy()], False),
    ("bitwise_xor", ops.bitwise_xor, [I32, I32[::-1].copy()], False),
    ("left_shift", ops.left_shift, [I32, np.int32(2)], False),
    ("ldexp", ops.ldexp, [X, np.array([1, 2, 0, -1], "int32")], True),
    ("copy", ops.copy, [X], True),
    ("append", lambda a: ops.append(a, a[:1], axis=0), [X], True),
    ("array_split", lambda a: ops.array_split(a, 3, axis=1), [X], True),
    ("rot90", ops.rot90, [X3], True),
    ("diff", lambda a: ops.diff(a, n=2), [X], True),
    ("diag", ops.diag, [X[0]], True),
    ("diag2", lambda a: ops.diag(a, 1), [X], True),
    ("diagflat", ops.diagflat, [X[:2, :2]], True),
    ("kron", ops.kron, [X[:2, :2], X[1:, 1:3]], True),
    ("cross", ops.cross, [X[:, :3], P[:, 1:]], True),
    ("meshgrid", lambda a, b: ops.meshgrid(a, b), [X[0], X[1, :3]], True),
    ("vander", ops.vander, [X[0]], True),
    ("trapezoid", ops.trapezoid, [X], True),
    ("select", lambda a: ops.select([a > 0.3, a < -0.3], [a, 2 * a], -1.0),
     [X], True),
    ("correlate", lambda a, b: ops.correlate(a, b, "same"), [X[0], X[1, :3]],
     True),
    ("corrcoef", ops.corrcoef, [X], True),
    ("cdist", ops.cdist, [X, P], True),
    ("ptp", lambda a: ops.ptp(a, axis=1), [X], True),
    ("unstack", lambda a: ops.unstack(a, axis=1), [X], True),
    ("dstack", lambda a: ops.dstack([a, a]), [X], True),
    ("logspace", lambda: ops.logspace(0, 2, 5), [], False),
    ("geomspace", lambda: ops.geomspace(1, 100, 4), [], False),
    ("hamming", lambda: ops.hamming(6), [], False),
    ("saturate_cast", lambda a: ops.saturate_cast(a * 300, "uint8"), [X],
     False),
    ("view_as_real", lambda a: ops.view_as_real(ops.view_as_complex(a)),
     [X3[..., :2].copy()], False),
    ("nansum", lambda a: ops.nansum(ops.where(a > 0.8, np.nan, a), axis=1),
     [X], True),
    ("nanmean", lambda a: ops.nanmean(ops.where(a > 0.8, np.nan, a)), [X],
     True),
    ("nanvar", lambda a: ops.nanvar(ops.where(a > 0.8, np.nan, a), axis=0),
     [X], True),
    ("nanmax", lambda a: ops.nanmax(ops.where(a > 0.8, np.nan, a), axis=1),
     [X], True),
    ("nanargmin", lambda a: ops.nanargmin(a, axis=1), [X], False),
    ("nanprod", lambda a: ops.nanprod(a, axis=1), [P], True),
    ("cumprod", lambda a: ops.cumprod(a, axis=1), [X], True),
    ("nancumsum", lambda a: ops.nancumsum(a, axis=0), [X], True),
    ("quantile", lambda a: ops.quantile(a, [0.2, 0.7], axis=1), [X], True),
    ("percentile_nearest", lambda a: ops.percentile(a, 40, method="nearest"),
     [X], True),
    ("nanquantile", lambda a: ops.nanquantile(
        ops.where(a > 0.8, np.nan, a), 0.5, axis=1), [X], True),
    ("median", lambda a: ops.median(a, axis=0), [X], True),
    ("histogram", lambda a: ops.histogram(a[0], bins=3), [X], False),
    ("bincount", ops.bincount, [I32], False),
    ("bincount_w", lambda w: ops.bincount(I32, weights=w), [X[:2].ravel()],
     False),
    ("digitize", lambda a: ops.digitize(a, np.array([-0.5, 0.0, 0.5],
                                                    "float32")), [X], False),
    ("isin", lambda: ops.isin(I32, np.array([1, 5], "int32")), [], False),
    ("searchsorted", lambda a: ops.searchsorted(
        np.array([-0.5, 0.0, 0.5], "float32"), a), [X], False),
    ("unique", lambda: ops.unique(I32, return_counts=True), [], False),
    ("unique_size", lambda: ops.unique(I32, size=9, fill_value=-1), [],
     False),
    ("nonzero", lambda a: ops.nonzero(a > 0), [X], False),
    ("argpartition", lambda a: ops.sort(ops.take_along_axis(
        a, ops.argpartition(a, 1), axis=-1)[:, :2], axis=-1), [X], False),
    ("unravel_index", lambda: ops.unravel_index(I32, (3, 4)), [], False),
    ("glu", ops.glu, [X], True),
    ("hard_tanh", ops.hard_tanh, [X * 2], True),
    ("soft_shrink", ops.soft_shrink, [X], True),
    ("squareplus", ops.squareplus, [X], True),
    ("sparse_sigmoid", ops.sparse_sigmoid, [X * 2], True),
    ("threshold", lambda a: ops.threshold(a, 0.1, -2.0), [X], True),
    ("sparsemax", ops.sparsemax, [X * 2], True),
    ("psnr", lambda a, b: ops.psnr(a, b, 1.0), [P, P * 0.9], True),
    ("multi_hot", lambda: ops.multi_hot(np.array([[0, 2], [1, 1]], "int32"),
                                        4), [], False),
    ("depth_to_space", lambda a: ops.depth_to_space(a, 2), [IMG], True),
    ("space_to_depth_cf", lambda a: ops.space_to_depth(
        a, 2, data_format="channels_first"), [NCHW[:, :, :4, :6]], True),
    ("segment_sum", lambda a: ops.segment_sum(
        a, np.array([0, 2, 2], "int32"), num_segments=3), [X], True),
    ("segment_max", lambda a: ops.segment_max(
        a, np.array([0, 2, 2], "int32"), num_segments=3), [X], True),
    ("segment_prod", lambda a: ops.segment_prod(
        a, np.array([0, 2, 2], "int32"), num_segments=3), [P], True),
    ("extract_sequences", lambda a: ops.extract_sequences(a, 2, 1), [X],
     True),
    ("unfold", lambda a: ops.unfold(a, 2, padding=1, stride=2), [NCHW],
     True),
    ("fold", lambda a: ops.fold(a, (5, 6), 2, padding=1, stride=2),
     [f32(2, 12, 12)], True),
    ("inv", ops.inv, [SPD], True),
    ("det", ops.det, [SPD], True),
    ("slogdet", lambda a: ops.slogdet(a)[1], [SPD], True),
    ("solve", ops.solve, [SPD, X[:, :3].T.copy()], True),
    ("solve_triangular", lambda a, b: ops.solve_triangular(a, b, lower=True),
     [SPD, X[0, :3].copy()], True),
    ("lstsq", ops.lstsq, [X.T.copy(), P[0]], True),
    ("cholesky", ops.cholesky, [SPD], True),
    ("cholesky_inverse", lambda a: ops.cholesky_inverse(ops.cholesky(a)),
     [SPD], True),
    ("eigh", lambda a: ops.eigh(a)[0], [SPD], True),
    ("eig", lambda a: ops.sort(ops.real(ops.eig(a)[0])), [SPD], False),
    ("lu_factor", lambda a: ops.lu_factor(a), [SPD], False),
    ("qr", lambda a: ops.abs(ops.qr(a)[1]), [X.T.copy()], True),
    ("svd", lambda a: ops.svd(a, compute_uv=False), [X], True),
    ("pinv", ops.pinv, [X], True),
    ("matrix_rank", ops.matrix_rank, [X], False),
    ("norm_nuc", lambda a: ops.norm(a, "nuc"), [X], True),
    ("norm_inf", lambda a: ops.norm(a, np.inf, axis=1), [X], True),
    ("jvp", lambda a: ops.jvp(ops.sin, (a,), (a,))[1], [X], False),
    ("map", lambda a: ops.map(lambda t: ops.sum(t * t), a), [X], True),
    ("scan", lambda a: ops.scan(lambda c, x: (c + x, c * x), ops.zeros(4),
                                a, reverse=True), [X], True),
    ("zeros_int_shape", lambda: ops.zeros(3), [], False),
    ("associative_scan", lambda a: ops.associative_scan(ops.add, a, axis=1),
     [X], True),
    ("switch", lambda a: ops.switch(ops.convert_to_tensor(np.int32(1)),
                                    [ops.sin, ops.cos], a), [X], True),
    ("vectorize", lambda a: ops.vectorize(
        lambda v: ops.sum(v), signature="(n)->()")(a), [X], True),
    ("rearrange", lambda a: ops.rearrange(a, "b (h h1) w c -> b h w (c h1)",
                                          h1=2), [IMG], True),
    ("scatter_update_max", lambda a: ops.scatter_update(
        a, np.array([[0], [2], [0]]), a[:3] * 2, reduction="max"), [X],
     False),
    ("linspace_axis", lambda: ops.linspace(np.array([0.0, 1.0]),
                                           np.array([1.0, 3.0]), 3, axis=1),
     [], False),
    ("identity", lambda: ops.identity(3), [], False),
    ("diagonal", lambda a: ops.diagonal(a, 1, 0, 2), [X3], True),
    ("trace", lambda a: ops.trace(a), [X], True),
    ("where_promote", lambda: ops.where(np.array([True, False]),
                                        np.array([1, 2], "int32"), 0.5), [],
     False),
    ("divide_int", lambda: ops.divide(np.array([1, 2], "int32"), 2), [],
     False),
]


def to_np(v):
    if isinstance(v, (list, tuple)):
        return [to_np(t) for t in v]
    return ops.convert_to_numpy(v)


def run():
    out = {}
    for name, fn, inputs, diff in CASES:
        try:
            ts = [ops.convert_to_tensor(a) for a in inputs]
            if diff:
                with GradientTape() as tape:
                    for t in ts:
                        if t.dtype.kind == "f":
                            tape.watch(t)
                    y = fn(*ts)
                    ys = y if isinstance(y, (list, tuple)) else [y]
                    loss = None
                    for k, o in enumerate(ys):
                        w = np.linspace(0.5, 1.5, int(np.prod(o.shape)) or 1)
                        w = ops.convert_to_tensor(
                            w.reshape(o.shape).astype(o.dtype)
                            if o.shape else w[0].astype(o.dtype))
                        term = ops.sum(o * w)
                        loss = term if loss is None else loss + term
                watched = [t for t in ts if t.dtype.kind == "f"]
                grads = tape.gradient(loss, watched)
                out[name] = {"value": to_np(y),
                             "grads": [None if g is None else
                                       ops.convert_to_numpy(g)
                                       for g in grads], "error": None}
            else:
                y = fn(*ts)
                out[name] = {"value": to_np(y), "error": None}
        except Exception as e:
            out[name] = {"error": f"{type(e).__name__}: {e}\n"
                         + "".join(traceback.format_exc().splitlines(True)
                                   [-6:])}
    return out


# Cases whose forward and backward must neither sync with the host nor
# make float64 arrays from float32 data on the device (a training step's
# rule); counted by the stand-in's `standin_counters`.
_Y = rng.uniform(-1, 1, (8, 6)).astype("float32")
_IDS = np.array([0, 0, 1, 2, 2, 3, 3, 3], "int32")
STEP_CASES = {
    "glu": ops.glu, "sparsemax": ops.sparsemax, "hard_tanh": ops.hard_tanh,
    "soft_shrink": ops.soft_shrink, "squareplus": ops.squareplus,
    "erf": ops.erf, "erfinv": lambda t: ops.erfinv(t * 0.9), "i0": ops.i0,
    "arctan2": lambda t: ops.arctan2(t, t + 2.0),
    "cumprod": lambda t: ops.cumprod(t, axis=1),
    "quantile": lambda t: ops.quantile(t, 0.5, axis=1),
    "nanquantile": lambda t: ops.nanquantile(t, 0.3, axis=0),
    "median": lambda t: ops.median(t, axis=1),
    "nanmean": lambda t: ops.nanmean(t, axis=1),
    "segment_sum": lambda t: ops.segment_sum(
        t, ops.convert_to_tensor(_IDS), num_segments=4),
    "psnr": lambda t: ops.psnr(t, t * 0.5, 1.0),
    "depth_to_space": lambda t: ops.depth_to_space(
        ops.reshape(t, (1, 2, 2, 12)), 2),
    "extract_sequences": lambda t: ops.extract_sequences(t, 3, 1),
    "unfold": lambda t: ops.unfold(ops.reshape(t, (1, 3, 4, 4)), 2),
    "fold": lambda t: ops.fold(ops.reshape(t, (1, 12, 4)), (3, 3), 2),
    "inv": lambda t: ops.inv(ops.matmul(t[:6], ops.transpose(t[:6]))
                             + ops.eye(6)),
    "svd": lambda t: ops.svd(t, compute_uv=False),
    "qr": lambda t: ops.qr(t)[1],
    "eigh": lambda t: ops.eigh(ops.matmul(ops.transpose(t), t))[0],
    "solve": lambda t: ops.solve(t[:6] + 3 * ops.eye(6), t[:6]),
    "lstsq": lambda t: ops.lstsq(t, t[:, 0]),
    "norm": lambda t: ops.norm(t, axis=1),
    "scan": lambda t: ops.scan(lambda c, x: (c + x, c), ops.zeros(6), t)[1],
    "associative_scan": lambda t: ops.associative_scan(ops.add, t, axis=1),
    "map": lambda t: ops.map(lambda r: ops.sum(r * r), t),
    "rearrange": lambda t: ops.rearrange(t, "a (b c) -> (a b) c", c=2),
    "correlate": lambda t: ops.correlate(t[0], t[1, :3]),
    "cdist": lambda t: ops.cdist(t, t + 1.0),
    "log2": ops.log2, "exp2": ops.exp2, "logaddexp2":
        lambda t: ops.logaddexp2(t, t * 2.0),
}


def count_step_events():
    """`{case: (host syncs, float64 results)}` of one forward and backward
    (under the stand-in only)."""
    import standin_counters as sc
    x = ops.convert_to_tensor(_Y)
    out = {}
    for name, fn in STEP_CASES.items():
        sc.reset()
        with GradientTape() as tape:
            tape.watch(x)
            loss = ops.sum(fn(x))
        tape.gradient(loss, x)
        out[name] = (dict(sc.where("sync")), dict(sc.where("float64")))
    return out


if __name__ == "__main__":
    result = count_step_events() if sys.argv[1:2] == ["--step-events"] \
        else run()
    with open(sys.argv[-1], "wb") as f:
        pickle.dump(result, f)

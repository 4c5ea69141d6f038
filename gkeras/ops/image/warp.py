"""Coordinate-mapping ops of `ops.image`: `map_coordinates`,
`affine_transform`, `perspective_transform`, `elastic_transform`.

All four read the input at arbitrary coordinates with nearest (order 0)
or linear (order 1) interpolation and the boundary modes of
`jax.scipy.ndimage.map_coordinates`. The sampling is composed of gathers
(`getitem`, whose gradient is a scatter-add) and element-wise ops, so it
is differentiable with respect to the image and to the coordinates, and
runs on NumPy and CuPy arrays alike.
"""

import importlib
import itertools

import numpy as np

from gkeras import backend
from gkeras.ops import core as C
from gkeras.ops import elementwise as E
# `gkeras.ops.shape`/`gkeras.ops.conv` are shadowed by the ops of those
# names on the package, so the modules are fetched by their full name.
S = importlib.import_module("gkeras.ops.shape")
from gkeras.ops._base import arr, keras_op, xp_of
from gkeras.ops.engine import Function, Tensor
from gkeras.ops.image._utils import (as_tensor, check_rank, data_format_of,
                                     to_nhwc)

__all__ = ["map_coordinates", "affine_transform", "perspective_transform",
           "elastic_transform", "compute_homography_matrix"]

INTERPOLATION_ORDERS = {"nearest": 0, "bilinear": 1}
FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def _mirror(index, size, xp):
    s = size - 1
    if s == 0:
        return xp.zeros_like(index)
    return xp.abs((index + s) % (2 * s) - s)


def _fix_index(index, size, mode, xp):
    if mode == "nearest":
        return xp.clip(index, 0, size - 1)
    if mode == "wrap":
        return index % size
    if mode == "mirror":
        return _mirror(index, size, xp)
    if mode == "reflect":
        return (_mirror(2 * index + 1, 2 * size + 1, xp) - 1) // 2
    return index


def _round_half_away(a, xp):
    return xp.sign(a) * xp.floor(xp.abs(a) + 0.5)


def sample(inputs, coords, order, fill_mode="constant", fill_value=0.0):
    """Reads `inputs` at `coords` (one entry per axis of `inputs`).

    Args:
        inputs: Tensor or array of any rank.
        coords: list with one entry per input axis: a float Tensor/array
            (interpolated, boundary-handled), or an integer array of
            indices known to be in range (used as is; no interpolation).
            All entries broadcast to the output shape.
        order: 0 (nearest) or 1 (linear).
        fill_mode: boundary mode, one of `FILL_MODES`.
        fill_value: value outside the input for `"constant"`.

    Returns:
        A Tensor of the broadcast coordinate shape, in the input's dtype
        (integer inputs are rounded half away from zero, as JAX does).
    """
    x = as_tensor(inputs)
    xp = xp_of(arr(x))
    dtype = np.dtype(x.dtype)
    per_axis = []
    for d, c in enumerate(coords):
        ca = arr(c)
        if np.dtype(ca.dtype).kind in "iu":
            per_axis.append([(ca, None)])
            continue
        if order == 0:
            per_axis.append([(_round_half_away(ca, xp).astype(np.int64),
                              None)])
            continue
        lower = xp.floor(ca)
        upper_w = E.subtract(c, lower)  # keeps d/dcoords when c is a Tensor
        lower_w = E.subtract(1.0, upper_w)
        lower = lower.astype(np.int64)
        per_axis.append([(lower, lower_w), (lower + 1, upper_w)])
    shape = x.shape
    stride = [int(np.prod(shape[d + 1:])) for d in range(len(shape))]
    flat = S.reshape(x, (-1,))
    out = None
    for combo in itertools.product(*per_axis):
        idx, valid, weight = [], None, None
        for d, (i, w) in enumerate(combo):
            if w is not None or np.dtype(arr(coords[d]).dtype).kind == "f":
                if fill_mode == "constant":
                    ok = (i >= 0) & (i < shape[d])
                    valid = ok if valid is None else valid & ok
                    i = xp.clip(i, 0, shape[d] - 1)
                else:
                    i = _fix_index(i, shape[d], fill_mode, xp)
            idx.append(i)
            if w is not None:
                weight = w if weight is None else E.multiply(weight, w)
        # One linear index into the flattened input: a single gather (and
        # a single scatter-add in backward) instead of one per axis.
        lin = None
        for d, i in enumerate(idx):
            term = i * stride[d] if stride[d] != 1 else i
            lin = term if lin is None else lin + term
        vals = S.take(flat, lin)
        if valid is not None:
            vals = E.where(xp.broadcast_to(valid, vals.shape), vals,
                           float(fill_value))
        if weight is not None:
            if dtype.kind != "f":
                vals = C.cast(vals, arr(weight).dtype)
            vals = E.multiply(vals, C.cast(weight, vals.dtype))
        out = vals if out is None else E.add(out, vals)
    if dtype.kind in "iu" and out.dtype != dtype:
        out = C.cast(E.round(out), dtype)
    elif out.dtype != dtype:
        out = C.cast(out, dtype)
    return out


def _check_interp(interpolation):
    if interpolation not in INTERPOLATION_ORDERS:
        raise ValueError(
            "Invalid value for argument `interpolation`. Expected of one "
            f"{set(INTERPOLATION_ORDERS)}. Received: "
            f"interpolation={interpolation}")
    return INTERPOLATION_ORDERS[interpolation]


def _check_fill(fill_mode):
    if fill_mode not in FILL_MODES:
        raise ValueError(
            "Invalid value for argument `fill_mode`. Expected of one "
            f"{set(FILL_MODES)}. Received: fill_mode={fill_mode}")


@keras_op
def map_coordinates(inputs, coordinates, order, fill_mode="constant",
                    fill_value=0.0):
    """Maps the input array to new coordinates by interpolation.

    `output[i...] = inputs[coordinates[0][i...], coordinates[1][i...],
    ...]`, interpolated; coordinates outside the input follow `fill_mode`
    (as `jax.scipy.ndimage.map_coordinates`).

    Args:
        inputs: the input tensor, any rank `n`.
        coordinates: `(n, ...)` tensor (or a list of `n` tensors) of
            coordinates at which to read `inputs`.
        order: 0 (nearest neighbour) or 1 (linear).
        fill_mode: `"constant"` (default), `"nearest"`, `"wrap"`,
            `"mirror"` or `"reflect"`.
        fill_value: the value outside the input with `"constant"`.

    Returns:
        A tensor of the coordinates' trailing shape, in the input's dtype.

    Example:
    >>> x = np.arange(4, dtype="float32")
    >>> gkeras.ops.image.map_coordinates(x, [[0.5, 2.5]], order=1).numpy()
    array([0.5, 2.5], dtype=float32)
    """
    x = as_tensor(inputs)
    if isinstance(coordinates, (list, tuple)):
        coords = [as_tensor(c) for c in coordinates]
        cshape = np.broadcast_shapes(*[tuple(c.shape) for c in coords]) \
            if coords else ()
        lead = len(coords)
        crank = 1 + len(cshape)
    else:
        ct = as_tensor(coordinates)
        lead, crank = ct.shape[0] if ct.ndim else 0, ct.ndim
        coords = [S.getitem(ct, i) for i in range(lead)] if crank else []
    if lead != len(x.shape):
        raise ValueError(
            "First dim of `coordinates` must be the same as the rank of "
            f"`inputs`. Received inputs with shape: {tuple(x.shape)} and "
            f"coordinate leading dim of {lead}")
    if crank < 2:
        raise ValueError("Invalid coordinates rank: expected at least "
                         f"rank 2. Received coordinates of rank {crank}")
    _check_fill(fill_mode)
    if order not in (0, 1):
        raise ValueError("Invalid value for argument `order`. Expected one "
                         f"of [0, 1]. Received: order={order}")
    coords = [c if np.dtype(c.dtype).kind == "f" else
              C.cast(c, "float32") for c in coords]
    return sample(x, coords, order, fill_mode, fill_value)


def _grid(h, w, like, dtype):
    xp = xp_of(arr(like))
    ys = xp.arange(h, dtype=dtype).reshape(1, h, 1, 1)
    xs = xp.arange(w, dtype=dtype).reshape(1, 1, w, 1)
    return ys, xs


def _batch_channel_index(b, c, xp):
    return (xp.arange(b).reshape(b, 1, 1, 1), xp.arange(c).reshape(
        1, 1, 1, c))


@keras_op
def affine_transform(images, transform, interpolation="bilinear",
                     fill_mode="constant", fill_value=0, data_format=None):
    """Applies the given projective transform(s) to the image(s).

    Each transform `[a0, a1, a2, b0, b1, b2, c0, c1]` maps an output point
    `(x, y)` to the input point `(a0 x + a1 y + a2, b0 x + b1 y + b2)`
    (Keras reads `c0`, `c1` as in its JAX backend: they shift by the
    channel index; keep them 0).

    Args:
        images: rank-3 or rank-4 tensor.
        transform: `(8,)` or `(batch, 8)` tensor.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_mode: `"constant"` (default), `"nearest"`, `"wrap"`,
            `"mirror"` or `"reflect"`.
        fill_value: the value outside the input with `"constant"`.
        data_format: `"channels_last"` or `"channels_first"`.

    Returns:
        The transformed image(s), shape and dtype of `images`.

    Example:
    >>> x = np.random.random((2, 8, 8, 3)).astype("float32")
    >>> shift = np.array([1, 0, -2, 0, 1, 0, 0, 0], "float32")
    >>> gkeras.ops.image.affine_transform(x, shift).shape
    (2, 8, 8, 3)
    """
    order = _check_interp(interpolation)
    _check_fill(fill_mode)
    data_format = data_format_of(data_format)
    x = as_tensor(images)
    check_rank(x)
    t = as_tensor(transform)
    if len(t.shape) not in (1, 2):
        raise ValueError(
            "Invalid transform rank: expected rank 1 (single transform) "
            "or rank 2 (batch of transforms). Received input with shape: "
            f"transform.shape={tuple(t.shape)}")
    if len(t.shape) == 1:
        t = S.expand_dims(t, 0)
    if t.shape[-1] != 8:
        raise ValueError("affine_transform: each transform must have 8 "
                         f"values. Received transform.shape="
                         f"{tuple(t.shape)}")
    x4, back = to_nhwc(x, data_format)
    b, h, w, c = x4.shape
    cdt = x4.dtype if np.dtype(x4.dtype).kind == "f" else np.float32
    t = C.cast(t, cdt)
    ys, xs = _grid(h, w, x4, cdt)
    chan = xp_of(arr(x4)).arange(c, dtype=cdt).reshape(1, 1, 1, c)

    def col(k):
        return S.reshape(S.getitem(t, (slice(None), k)), (-1, 1, 1, 1))
    rows = E.add(E.add(E.add(E.multiply(col(3), xs), E.multiply(col(4), ys)),
                       col(5)), E.multiply(col(6), chan))
    cols = E.add(E.add(E.add(E.multiply(col(0), xs), E.multiply(col(1), ys)),
                       col(2)), E.multiply(col(7), chan))
    xp = xp_of(arr(x4))
    bi, ci = _batch_channel_index(b, c, xp)
    out = sample(x4, [bi, rows, cols, ci], order, fill_mode, fill_value)
    return back(out)


class _BatchedSolve(Function):
    """x = A^-1 b for `(n, k, k)` A and `(n, k)` b; the gradients are
    `gb = A^-T g` and `gA = -gb x^T`."""

    def forward(self, a, b):
        xp = backend.get_array_module(a)
        self.a = a
        self.x = xp.linalg.solve(a, b[..., None])[..., 0]
        return self.x

    def backward(self, g):
        xp = backend.get_array_module(g)
        gb = xp.linalg.solve(xp.swapaxes(self.a, -1, -2), g[..., None])
        ga = -gb * self.x[..., None, :]
        return ga, gb[..., 0]


def compute_homography_matrix(start_points, end_points):
    """The `(batch, 8)` projective transforms mapping each end quad onto
    its start quad: the solution of the 8x8 system of the corners
    (differentiable with respect to the points).

    Args:
        start_points: `(batch, 4, 2)` tensor of `(x, y)` corners.
        end_points: `(batch, 4, 2)` tensor of `(x, y)` corners.

    Returns:
        A `(batch, 8)` tensor of transforms, in the points' float dtype
        (float32 for integer points).
    """
    sp, ep = as_tensor(start_points), as_tensor(end_points)
    if np.dtype(sp.dtype).kind != "f":
        sp = C.cast(sp, "float32")
    if np.dtype(ep.dtype).kind != "f":
        ep = C.cast(ep, "float32")

    def coord(p, k):
        return S.getitem(p, (Ellipsis, k))
    sx, sy, ex, ey = coord(sp, 0), coord(sp, 1), coord(ep, 0), coord(ep, 1)
    zeros = E.multiply(ex, 0.0)
    ones = E.add(zeros, 1.0)
    x_rows = S.stack([ex, ey, ones, zeros, zeros, zeros,
                      E.negative(E.multiply(sx, ex)),
                      E.negative(E.multiply(sx, ey))], axis=-1)
    y_rows = S.stack([zeros, zeros, zeros, ex, ey, ones,
                      E.negative(E.multiply(sy, ex)),
                      E.negative(E.multiply(sy, ey))], axis=-1)
    a = S.concatenate([x_rows, y_rows], axis=1)
    rhs = S.concatenate([sx, sy], axis=-1)
    return _BatchedSolve()(a, rhs)


def _check_points(name, p):
    shape = tuple(p.shape)
    if len(shape) not in (2, 3) or shape[-2:] != (4, 2):
        raise ValueError(
            f"Invalid {name} shape: expected (4,2) for a single image or "
            f"(N,4,2) for a batch. Received shape: {shape}")


@keras_op
def perspective_transform(images, start_points, end_points,
                          interpolation="bilinear", fill_value=0,
                          data_format=None):
    """Applies the perspective transform mapping `start_points` onto
    `end_points` (4 corners each, `(x, y)`).

    Args:
        images: rank-3 or rank-4 tensor.
        start_points: `(4, 2)` or `(batch, 4, 2)` source corners.
        end_points: `(4, 2)` or `(batch, 4, 2)` destination corners.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_value: the value outside the input.
        data_format: `"channels_last"` or `"channels_first"`.

    Returns:
        The transformed image(s), shape and dtype of `images`
        (differentiable with respect to the images and the points).

    Example:
    >>> x = np.random.random((1, 8, 8, 3)).astype("float32")
    >>> pts = np.array([[0, 0], [7, 0], [0, 7], [7, 7]], "float32")
    >>> gkeras.ops.image.perspective_transform(x, pts, pts).shape
    (1, 8, 8, 3)
    """
    order = _check_interp(interpolation)
    data_format = data_format_of(data_format)
    x = as_tensor(images)
    check_rank(x)
    sp, ep = as_tensor(start_points), as_tensor(end_points)
    _check_points("start_points", sp)
    _check_points("end_points", ep)
    if tuple(sp.shape) != tuple(ep.shape):
        raise ValueError(
            "start_points and end_points must have the same shape. "
            f"Received start_points.shape={tuple(sp.shape)}, "
            f"end_points.shape={tuple(ep.shape)}")
    x4, back = to_nhwc(x, data_format)
    b, h, w, c = x4.shape
    xp = xp_of(arr(x4))
    if len(sp.shape) == 2:
        sp, ep = S.expand_dims(sp, 0), S.expand_dims(ep, 0)
    # The 8x8 solves are tiny: host points are solved on the host and
    # only the transforms go to the device, in the images' float dtype
    # (float32 for float32 and integer images, as Keras).
    cdt = x4.dtype if np.dtype(x4.dtype).kind == "f" else np.float32
    m = C.cast(compute_homography_matrix(sp, ep), cdt)
    if xp is not np and xp_of(arr(m)) is np and m.creator is None:
        m = Tensor(backend.to_device(arr(m)))
    if m.shape[0] == 1 and b > 1:
        m = S.tile(m, (b, 1))
    ys, xs = _grid(h, w, x4, cdt)
    cols = [S.reshape(S.getitem(m, (slice(None), k)), (-1, 1, 1, 1))
            for k in range(8)]
    denom = E.add(E.add(E.multiply(cols[6], xs), E.multiply(cols[7], ys)),
                  1.0)
    x_in = E.divide(E.add(E.add(E.multiply(cols[0], xs),
                                E.multiply(cols[1], ys)), cols[2]), denom)
    y_in = E.divide(E.add(E.add(E.multiply(cols[3], xs),
                                E.multiply(cols[4], ys)), cols[5]), denom)
    bi, ci = _batch_channel_index(b, c, xp)
    out = sample(x4, [bi, y_in, x_in, ci], order, "constant", fill_value)
    return back(out)


@keras_op
def elastic_transform(images, alpha=20.0, sigma=5.0,
                      interpolation="bilinear", fill_mode="reflect",
                      fill_value=0.0, seed=None, data_format=None):
    """Applies a random elastic deformation (Simard et al. 2003).

    A random normal displacement field (scaled by `sigma`) is smoothed
    with a Gaussian of `sigma` (kernel `int(6 sigma) | 1`), scaled by
    `alpha` and added to the pixel grid; the image is read there. As in
    Keras's JAX backend, one field is used for both axes.

    Args:
        images: rank-3 or rank-4 float tensor.
        alpha: displacement scale.
        sigma: smoothing (and noise) scale.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_mode: `"reflect"` (default), `"constant"`, `"nearest"`,
            `"wrap"` or `"mirror"`.
        fill_value: the value outside the input with `"constant"`.
        seed: int or `gkeras.random.SeedGenerator`.
        data_format: `"channels_last"` or `"channels_first"`.

    Returns:
        The deformed image(s), shape and dtype of `images`.

    Example:
    >>> x = np.random.random((1, 16, 16, 3)).astype("float32")
    >>> gkeras.ops.image.elastic_transform(x, seed=1).shape
    (1, 16, 16, 3)
    """
    order = _check_interp(interpolation)
    _check_fill(fill_mode)
    data_format = data_format_of(data_format)
    x = as_tensor(images)
    check_rank(x)
    x4, back = to_nhwc(x, data_format)
    b, h, w, c = x4.shape
    xp = xp_of(arr(x4))
    from gkeras.random import _rng
    dt = x4.dtype if np.dtype(x4.dtype).kind == "f" else np.float32
    alpha, sigma = float(alpha), float(sigma)
    field = _rng(seed, xp).standard_normal((b, h, w, 1)).astype(dt) * sigma
    from gkeras.ops.image.filters import gaussian_blur
    k = int(6 * sigma) | 1
    field = arr(gaussian_blur(field, (k, k), (sigma, sigma),
                              data_format="channels_last"))
    ys, xs = _grid(h, w, x4, dt)
    rows = ys + alpha * field
    cols = xs + alpha * field
    bi, ci = _batch_channel_index(b, c, xp)
    out = sample(x4, [bi, rows, cols, ci], order, fill_mode, fill_value)
    return back(out)

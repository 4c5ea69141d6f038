"""Fused one-pass optimizer updates on the CPU (optional numba kernels).

The NumPy path of an optimizer (`Optimizer.update_step`) runs each
variable's update as ten-odd in-place passes (Adam: weight decay, two
moment updates of three passes each, sqrt, + epsilon, divide, scale,
subtract), each a NumPy call of 1-3 us plus a pass over memory. Here the
whole update of one variable is one compiled loop: each element of the
variable, its gradient and its slots is read and written once.

The arithmetic is the NumPy path's operation sequence, each step rounded
to float32 and compiled without fast-math flags (no contraction into
fused multiply-adds, no reciprocal division), so the result is the same
bits as the NumPy path, as for the GPU's kernels/optimizers.cuh, whose
per-optimizer formulas these mirror. The scalars come from each
optimizer's `_fused_scalars` (already rounded to float32 as NumPy rounds
a Python float against a float32 array). Weight decay is the multiply by
`wd_factor` (1.0, exact, for variables without it).

Large variables (an embedding table) are cut into parts run on the shared
thread pool (`parallel.split_rows`); every element is still written by
one thread only.

Measured on the project's 2-core machine, 1 thread, against the NumPy
path: Adam on the LSTM model's 20000x128 embedding 9.3 -> 2.3 ms; the
784-128-64-10 MLP's whole `apply` (six variables) ~240 -> ~90 us; a
100k-element Adam pass is ~37 us warm, at the cache's bandwidth (the
kernel vectorises, sqrt and division included, without fast-math). A
call costs ~0.6 us, so one call per variable is kept rather than one
call over a flat list of all of them.
"""

import numpy as np

from gkeras.backend.cpu import jit, parallel

__all__ = ["KINDS", "enabled", "eligible", "ema_update", "kernel_arrays",
           "multi_tensor_update"]

# No fast-math: these must give the NumPy path's bits. `error_model`
# numpy: a division by zero gives inf/NaN as in NumPy instead of raising
# (and does not stop the loop from vectorising).
_OPTIONS = dict(fastmath=(), error_model="numpy")

_ONE = np.float32(1.0)


@jit.kernel(**_OPTIONS)
def _sgd(g, w, m, lr, momentum, nesterov, wd):
    for i in range(w.shape[0]):
        wi = w[i] * wd
        step = g[i] * lr
        if m is None:
            wi = wi - step
        else:
            mi = m[i] * momentum - step
            m[i] = mi
            if nesterov:
                wi = (wi - step) + mi * momentum
            else:
                wi = wi + mi
        w[i] = wi


@jit.kernel(**_OPTIONS)
def _adam(g, w, m, v, v_hat, alpha, c1, c2, epsilon, wd):
    for i in range(w.shape[0]):
        wi = w[i] * wd
        gi = g[i]
        mi = m[i]
        mi = mi + (gi - mi) * c1
        vi = v[i]
        vi = vi + (gi * gi - vi) * c2
        m[i] = mi
        v[i] = vi
        if v_hat is not None:
            # np.maximum: NaN when either is NaN.
            hi = v_hat[i]
            if hi >= vi or hi != hi:
                vi = hi
            v_hat[i] = vi
        w[i] = wi - (mi / (np.sqrt(vi) + epsilon)) * alpha


@jit.kernel(**_OPTIONS)
def _rmsprop(g, w, vel, ag, mom, lr, rho, one_minus_rho, momentum, epsilon,
             wd):
    for i in range(w.shape[0]):
        wi = w[i] * wd
        gi = g[i]
        vi = vel[i] * rho + (gi * gi) * one_minus_rho
        vel[i] = vi
        if ag is None:
            d = vi + epsilon
        else:
            ai = ag[i] * rho + gi * one_minus_rho
            ag[i] = ai
            d = (vi - ai * ai) + epsilon
        inc = (gi / np.sqrt(d)) * lr
        if mom is None:
            wi = wi - inc
        else:
            mo = mom[i] * momentum + inc
            mom[i] = mo
            wi = wi - mo
        w[i] = wi


@jit.kernel(**_OPTIONS)
def _adagrad(g, w, acc, lr, epsilon, wd):
    for i in range(w.shape[0]):
        wi = w[i] * wd
        gi = g[i]
        ai = acc[i] + gi * gi
        acc[i] = ai
        w[i] = wi - (gi / np.sqrt(ai + epsilon)) * lr


@jit.kernel(**_OPTIONS)
def _adamax(g, w, m, u, alpha, c1, beta_2, epsilon, wd):
    for i in range(w.shape[0]):
        wi = w[i] * wd
        gi = g[i]
        mi = m[i]
        mi = mi + (gi - mi) * c1
        m[i] = mi
        ui = u[i] * beta_2
        ag = abs(gi)
        # np.maximum: NaN when either is NaN.
        if not (ui >= ag or ui != ui):
            ui = ag
        u[i] = ui
        w[i] = wi - (mi / (ui + epsilon)) * alpha


@jit.kernel(**_OPTIONS)
def _lion(g, w, m, lr, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2,
          one, wd):
    for i in range(w.shape[0]):
        wi = w[i] * wd
        gi = g[i]
        mi = m[i]
        d = mi * beta_1 + gi * one_minus_beta_1
        # np.sign: +-1; zeros (with their sign) and NaN kept.
        if d > 0:
            d = one
        elif d < 0:
            d = -one
        w[i] = wi - d * lr
        m[i] = mi * beta_2 + gi * one_minus_beta_2


@jit.kernel(**_OPTIONS)
def _nadam(g, w, m, v, lr, c1, c2, a, b, v_scale, epsilon, wd):
    for i in range(w.shape[0]):
        wi = w[i] * wd
        gi = g[i]
        mi = m[i]
        mi = mi + (gi - mi) * c1
        vi = v[i]
        vi = vi + (gi * gi - vi) * c2
        m[i] = mi
        v[i] = vi
        m_hat = mi * a + gi * b
        w[i] = wi - (m_hat / (np.sqrt(vi * v_scale) + epsilon)) * lr


@jit.kernel(**_OPTIONS)
def _ema(avg, w, momentum, one_minus_momentum):
    for i in range(w.shape[0]):
        avg[i] = avg[i] * momentum + one_minus_momentum * w[i]


def ema_update(averages, variables, momentum):
    """Moves each moving average towards its variable in one compiled pass:
    `avg = avg * momentum + (1 - momentum) * w` (the optimizers' `use_ema`),
    the NumPy path's float32 rounding.

    Args:
        averages: the average arrays (updated in place).
        variables: the variable arrays; each pair must be `eligible`.
        momentum: the momentum of this step (a float).

    Returns:
        None.
    """
    fn = _ema.dispatcher()
    mom, omm = np.float32(momentum), np.float32(1.0 - momentum)
    for avg, w in zip(averages, variables):
        fn(avg.reshape(-1), w.reshape(-1), mom, omm)


def _no_flag(scalars):
    return scalars


_KERNELS = {
    # kind: (kernel, the scalars as the kernel takes them)
    "sgd": (_sgd, _no_flag),
    "adam": (_adam, _no_flag),
    # The `centered` flag only says which slots exist.
    "rmsprop": (_rmsprop, lambda s: s[:5]),
    "adagrad": (_adagrad, _no_flag),
    "adamax": (_adamax, _no_flag),
    "lion": (_lion, lambda s: tuple(s) + (_ONE,)),
    "nadam": (_nadam, _no_flag),
}


def kernel_arrays(kind, columns, scalars):
    """The flat arrays of one variable in its kernel's argument order.

    Args:
        kind: the optimizer kind (a member of `KINDS`).
        columns: `[w, *slots]` (`eligible` arrays), in the order of the
            optimizer's `_fused_slots`.
        scalars: the optimizer's `_fused_scalars(learning_rate)[1]` (for
            RMSprop, whether the `average_gradient` slot is there).

    Returns:
        A tuple of 1-D views, None for an optional slot that is absent;
        pass it to `multi_tensor_update` (it can be kept across steps).
    """
    flat = [c.reshape(-1) for c in columns]
    if kind == "rmsprop":
        vel, rest = flat[1], flat[2:]
        ag = rest.pop(0) if scalars[5] else None
        return (flat[0], vel, ag, rest[0] if rest else None)
    if kind == "sgd":  # [w, momentum?]
        return (flat[0], flat[1] if len(flat) > 1 else None)
    if kind == "adam":  # [w, m, v, v_hat?]
        return (flat[0], flat[1], flat[2],
                flat[3] if len(flat) > 3 else None)
    return tuple(flat)


KINDS = frozenset(_KERNELS)


def enabled(kind):
    """Whether the fused CPU update of optimizer `kind` runs here.

    Args:
        kind: an optimizer's `_fused_kind` (`"adam"`, `"sgd"`, ...).

    Returns:
        True when the JIT is enabled (`jit.enabled()`) and `kind` has a
        kernel.
    """
    return kind in KINDS and jit.enabled()


def eligible(w, slots):
    """Whether a variable's buffer `w` and its optimizer `slots` can take
    the fused update: all C-contiguous float32 NumPy arrays of one size.

    Args:
        w: the variable's array.
        slots: the optimizer's arrays for it.

    Returns:
        A bool.
    """
    if (type(w) is not np.ndarray or w.dtype != np.float32
            or not w.flags.c_contiguous):
        return False
    for s in slots:
        if (type(s) is not np.ndarray or s.dtype != np.float32
                or not s.flags.c_contiguous or s.size != w.size):
            return False
    return True


def multi_tensor_update(kind, grads, arrays, decay, scalars, wd_factor):
    """Applies weight decay and one optimizer update to several variables,
    each in one compiled pass.

    Args:
        kind: the optimizer kind (a member of `KINDS`).
        grads: the gradients (already clipped), one per variable, each with
            the variable's number of elements; converted to float32 when
            they are not.
        arrays: per variable, `kernel_arrays(kind, [w, *slots], scalars)`;
            updated in place.
        decay: per variable, whether the decoupled weight decay applies.
        scalars: the optimizer's `_fused_scalars(learning_rate)[1]`.
        wd_factor: `1 - learning_rate * weight_decay` (a float).

    Returns:
        None.

    Example:

    >>> w, m, v = (np.zeros(5, "float32") for _ in range(3))
    >>> sc = (np.float32(1e-3), np.float32(0.1), np.float32(1e-3),
    ...       np.float32(1e-7))
    >>> multi_tensor_update("adam", [np.ones(5, "float32")],
    ...                     [kernel_arrays("adam", [w, m, v], sc)],
    ...                     [False], sc, 1.0)
    """
    kernel, take = _KERNELS[kind]
    fn = kernel.dispatcher()
    scalars = tuple(take(scalars))
    wd = np.float32(wd_factor)
    for g, arrs, dec in zip(grads, arrays, decay):
        if g.dtype != np.float32:
            g = g.astype(np.float32)
        g = g.reshape(-1)
        factor = wd if dec else _ONE
        n = g.size
        if n < parallel.min_split_elements():
            fn(g, *arrs, *scalars, factor)
            continue

        def part(start, stop, g=g, arrs=arrs, factor=factor):
            fn(g[start:stop], *(None if a is None else a[start:stop]
                                for a in arrs), *scalars, factor)

        parallel.split_rows(n, n, part)

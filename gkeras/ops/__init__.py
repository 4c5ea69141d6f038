"""`gkeras.ops`: differentiable operations on tensors (Keras 3 names).

Every op runs eagerly on gkeras Tensors, NumPy or CuPy arrays and Python
scalars; called on symbolic `KerasTensor`s (the Functional API) it records
a graph node instead. Gradients come from the autograd engine in
`gkeras.ops.engine`.
"""

from gkeras.ops.engine import GradientTape, Tensor, no_grad  # noqa: F401
from gkeras.ops.variable import Variable  # noqa: F401
from gkeras.ops.elementwise import (  # noqa: F401
    abs, absolute, add, arccos, arcsin, arcsinh, arctan, arctanh, ceil, clip,
    cos, cosh, divide, divide_no_nan, equal, exp, expm1, floor, floor_divide,
    greater, greater_equal, isclose, isfinite, isinf, isnan, less,
    less_equal, log, log10, log1p, log2, logaddexp, logical_and, logical_not,
    logical_or, logical_xor, matmul, maximum, minimum, mod, multiply,
    nan_to_num, negative, not_equal, power, reciprocal, round, rsqrt, sign,
    sin, sinh, sqrt, square, subtract, tan, tanh, true_divide, where,
)
from gkeras.ops.reduction import (  # noqa: F401
    all, amax, amin, any, argmax, argmin, argsort, count_nonzero, cumsum,
    logsumexp, max, mean, median, min, prod, std, sum, var,
)
from gkeras.ops.shape import (  # noqa: F401
    broadcast_to, concatenate, diagonal, expand_dims, flip, getitem, hstack,
    moveaxis, pad, ravel, repeat, reshape, roll, sort, split, squeeze, stack,
    swapaxes, take, take_along_axis, tile, trace, transpose, tril, triu,
    vstack,
)
from gkeras.ops.core import (  # noqa: F401
    arange, average, cast, cond, convert_to_numpy, convert_to_tensor, dot,
    dtype, einsum, eye, fori_loop, full, full_like, identity, inner,
    is_tensor, linspace, ndim, norm, one_hot, ones, ones_like, outer,
    scatter, scatter_update, shape, size, slice, slice_update,
    stop_gradient, tensordot, tri, vdot, while_loop, zeros, zeros_like,
)
from gkeras.ops.nn import (  # noqa: F401
    binary_crossentropy, categorical_crossentropy, celu, dropout, elu, gelu,
    hard_sigmoid, hard_silu, hard_swish, in_top_k, l2_normalize, leaky_relu,
    log_sigmoid, log_softmax, mish, moments, normalize, relu, relu6, selu,
    sigmoid, silu, softmax, softplus, softsign, sparse_categorical_crossentropy,
    sparse_plus, swish, top_k,
)
from gkeras.ops.attention import dot_product_attention  # noqa: F401
from gkeras.ops.ctc import ctc_decode, ctc_loss  # noqa: F401
from gkeras.ops.spectral import (  # noqa: F401
    fft, fft2, ifft2, irfft, istft, rfft, stft,
)
from gkeras.ops.adaptive_pool import (  # noqa: F401
    adaptive_average_pool, adaptive_max_pool,
)
from gkeras.ops import image  # noqa: F401,E402 (issue 17)
from gkeras.ops.layer_norm import (  # noqa: F401
    layer_normalization, rms_normalization,
)
from gkeras.ops.conv import (  # noqa: F401
    average_pool, conv, conv_transpose, depthwise_conv, max_pool,
    separable_conv,
)
from gkeras.ops.normalization import batch_normalization  # noqa: F401
from gkeras.ops.numpy_math import (  # noqa: F401
    allclose, angle, arccosh, arctan2, bitwise_and, bitwise_invert,
    bitwise_left_shift, bitwise_not, bitwise_or, bitwise_right_shift,
    bitwise_xor, cbrt, conj, conjugate, copy, deg2rad, erf, erfc, erfinv,
    exp2, fabs, fmax, fmin, fmod, gcd, heaviside, hypot, i0, imag, isneginf,
    isposinf, isreal, lcm, ldexp, left_shift, logaddexp2, nextafter,
    rad2deg, real, right_shift, signbit, sinc, trunc,
)
from gkeras.ops.numpy_arrays import (  # noqa: F401
    append, array_split, cdist, corrcoef, correlate, cross, diag, diagflat,
    diff, dsplit, dstack, fliplr, flipud, get_item, hsplit, kron, meshgrid,
    ptp, rot90, select, trapezoid, unstack, vander, view, vsplit,
)
from gkeras.ops.numpy_creation import (  # noqa: F401
    array, bartlett, blackman, empty, empty_like, geomspace, hamming,
    hanning, kaiser, logspace, polar, saturate_cast, view_as_complex,
    view_as_real,
)
from gkeras.ops.numpy_stats import (  # noqa: F401
    argpartition, bincount, cumprod, digitize, histogram, isin, nanargmax,
    nanargmin, nancumprod, nancumsum, nanmax, nanmean, nanmedian, nanmin,
    nanpercentile, nanprod, nanquantile, nanstd, nansum, nanvar, nonzero,
    percentile, quantile, searchsorted, unique, unravel_index,
)
from gkeras.ops.nn_extra import (  # noqa: F401
    depth_to_space, extract_sequences, fold, glu, hard_shrink, hard_tanh,
    multi_hot, psnr, segment_max, segment_min, segment_prod, segment_sum,
    soft_shrink, space_to_depth, sparse_sigmoid, sparsemax, squareplus,
    tanh_shrink, threshold, unfold,
)
from gkeras.ops.linalg import (  # noqa: F401
    cholesky, cholesky_inverse, det, eig, eigh, inv, jvp, logdet, lstsq,
    lu_factor, matrix_rank, norm, pinv, qr, slogdet, solve, solve_triangular,
    svd,
)
from gkeras.ops.control_flow import (  # noqa: F401
    associative_scan, custom_gradient, map, scan, switch, vectorize,
    vectorized_map,
)
from gkeras.ops.einops import rearrange  # noqa: F401
from gkeras.ops import numpy  # noqa: F401,E402 (namespace alias)
from gkeras.ops.symbolic import KerasTensor, _install  # noqa: F401

_install()
del _install

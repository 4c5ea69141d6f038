"""NumPy fast paths of the BatchNorm CNN step, against float64 references.

1. `conv_backward_input`'s col2im straight into the unpadded input
   gradient: taps cut to the cells they reach (paddings larger than the
   kernel span, taps that reach no cell, strides that leave cells
   uncovered), against float64 finite differences.
"""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from test_conv_pool_bn_primitives import numgrad, ref_conv  # noqa: E402

from gkeras.backend.cpu import conv as cpu_conv  # noqa: E402


# (x_shape, kernel_size, strides, padding, dilation, groups, filters)
COL2IM_CASES = [
    ((1, 1, 1, 2), (5, 5), (1, 1), ((2, 2), (2, 2)), (1, 1), 1, 3),
    ((2, 3, 4, 2), (3, 3), (1, 1), ((4, 3), (0, 5)), (1, 1), 1, 2),
    ((1, 7, 6, 2), (2, 2), (3, 3), ((0, 0), (1, 0)), (1, 1), 1, 2),
    ((1, 6, 5, 4), (3, 2), (1, 2), ((2, 1), (1, 1)), (2, 1), 2, 4),
    ((3, 5, 3), (3,), (1,), ((1, 1),), (1,), 1, 4),
    ((1, 3, 4, 3, 2), (2, 3, 2), (2, 1, 1), ((1, 1), (2, 0), (1, 1)),
     (1, 1, 1), 1, 2),
]


@pytest.mark.parametrize("case", COL2IM_CASES, ids=range(len(COL2IM_CASES)))
def test_backward_input_cut_taps(case):
    xs, ks, st, pad, dil, g, f = case
    r = np.random.default_rng(5)
    x = r.standard_normal(xs)
    w = r.standard_normal((*ks, xs[-1] // g, f))
    proj = r.standard_normal(ref_conv(x, w, st, pad, dil, g).shape)

    def loss():
        return float((ref_conv(x, w, st, pad, dil, g) * proj).sum())

    dx = cpu_conv.conv_backward_input(proj, w, x.shape, st, pad, dil, g)
    assert dx.shape == x.shape and dx.dtype == np.float64
    np.testing.assert_allclose(dx, numgrad(loss, x), rtol=1e-6, atol=1e-7)
    dx32 = cpu_conv.conv_backward_input(proj.astype(np.float32),
                                        w.astype(np.float32), x.shape, st,
                                        pad, dil, g)
    assert dx32.dtype == np.float32
    np.testing.assert_allclose(dx32, dx, rtol=1e-4, atol=1e-4)

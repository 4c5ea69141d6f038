"""`keras.ops.rearrange`: einops-style axis rearrangement (transpose,
merge and split axes) built from a reshape, a transpose and a reshape, so
it is differentiable."""

import importlib
import math
import re

from gkeras.ops._base import arr, keras_op, t_or_a

# `gkeras.ops.shape` is shadowed by the `shape` op in the package.
S = importlib.import_module("gkeras.ops.shape")

_TOKEN = re.compile(r"\(\s*[\w\s]*\)|\w+|\S")


def _parse(side, pattern):
    groups = []
    for tok in _TOKEN.findall(side):
        if tok.startswith("("):
            names = tok[1:-1].split()
            groups.append(names)
        elif re.fullmatch(r"\w+", tok):
            groups.append([tok])
        else:
            raise ValueError(f"rearrange: unexpected {tok!r} in pattern "
                             f"{pattern!r}; use axis names and (groups).")
    return groups


@keras_op
def rearrange(tensor, pattern, **axes_lengths):
    """Rearranges the axes of a tensor with an einops pattern.

    Args:
        tensor: input tensor.
        pattern: e.g. `"b h w c -> b c h w"` (transpose),
            `"b h w c -> (b h) w c"` (merge), or
            `"b (h1 h) w c -> (b h1) h w c"` (split, with `h1=2`).
        **axes_lengths: sizes of split axes (all but one per group).

    Returns:
        The rearranged tensor.

    Example:

    >>> images = np.random.rand(32, 30, 40, 3)
    >>> ops.rearrange(images, "b h w c -> b (c h w)").shape
    (32, 3600)
    """
    if "->" not in pattern:
        raise ValueError(f"rearrange: the pattern must contain '->', "
                         f"received {pattern!r}.")
    left, right = pattern.split("->")
    ins, outs = _parse(left, pattern), _parse(right, pattern)
    shape = arr(tensor).shape
    if len(ins) != len(shape):
        raise ValueError(
            f"rearrange: the pattern {pattern!r} names {len(ins)} input axes "
            f"but the tensor has shape {tuple(shape)}.")
    sizes = {}
    flat_in = []
    for group, dim in zip(ins, shape):
        known = [a for a in group if a in axes_lengths]
        unknown = [a for a in group if a not in axes_lengths]
        if len(unknown) > 1:
            raise ValueError(
                f"rearrange: cannot infer the sizes of {unknown} in group "
                f"{group}; give all but one in axes_lengths.")
        prod = math.prod(int(axes_lengths[a]) for a in known)
        for a in known:
            sizes[a] = int(axes_lengths[a])
        if unknown:
            if dim % prod:
                given = {a: sizes[a] for a in known}
                raise ValueError(
                    f"rearrange: axis of size {dim} cannot be split into "
                    f"{group} with sizes {given}.")
            sizes[unknown[0]] = dim // prod
        elif prod != dim:
            raise ValueError(
                f"rearrange: group {group} has size {prod} but the axis has "
                f"size {dim}.")
        flat_in.extend(group)
    if len(set(flat_in)) != len(flat_in):
        raise ValueError(f"rearrange: repeated axis names in {pattern!r}.")
    flat_out = [a for g in outs for a in g]
    if sorted(flat_out) != sorted(flat_in):
        raise ValueError(
            f"rearrange: the output axes {flat_out} must be a permutation of "
            f"the input axes {flat_in} in pattern {pattern!r}.")
    x = t_or_a(tensor)
    x = S.reshape(x, [sizes[a] for a in flat_in])
    x = S.transpose(x, [flat_in.index(a) for a in flat_out])
    return S.reshape(x, [math.prod(sizes[a] for a in g) for g in outs])

"""`EinsumDense`: a dense layer whose contraction is an einsum equation."""

import re

import numpy as np

from gkeras import activations, constraints, initializers, ops, regularizers
from gkeras.layers.input_spec import InputSpec
from gkeras.layers.layer import Layer
from gkeras.ops.affine import affine

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


class EinsumDense(Layer):
    """A layer that uses `einsum` as the backing computation.

    `output = activation(einsum(equation, inputs, kernel) + bias)`. The
    kernel shape is derived from the equation, the input shape and
    `output_shape`.

    Args:
        equation: an einsum equation `"ab,bc->ac"`, `"...b,bc->...c"` or
            `"ab...,bc->ac..."` (input, kernel -> output).
        output_shape: the output shape without the batch axis and without
            the axes an ellipsis stands for; an int for a single axis;
            `None` entries are taken from the input.
        activation: activation function (name or callable); None = linear.
        bias_axes: output letters that get a bias (e.g. `"c"`); None for
            no bias.
        kernel_initializer, bias_initializer: initializers.
        kernel_regularizer, bias_regularizer: optional regularizers.
        activity_regularizer: optional regularizer of the output.
        kernel_constraint, bias_constraint: optional constraints.
        lora_rank, lora_alpha, gptq_unpacked_column_size,
            quantization_config: not supported (must be None).

    Input shape:
        N-D tensor whose rank matches the input part of `equation`.

    Output shape:
        `(batch_size,) + output_shape` (plus the elided axes).

    Example:
    >>> layer = gkeras.layers.EinsumDense("abc,cd->abd", output_shape=(None, 64),
    ...                                   bias_axes="d")
    >>> layer(np.ones((2, 32, 128))).shape
    (2, 32, 64)
    """

    def __init__(self, equation, output_shape, activation=None,
                 bias_axes=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, lora_rank=None, lora_alpha=None,
                 gptq_unpacked_column_size=None, quantization_config=None,
                 **kwargs):
        super().__init__(**kwargs)
        if lora_rank is not None or quantization_config is not None or \
                gptq_unpacked_column_size is not None:
            raise NotImplementedError(
                "EinsumDense: LoRA (`lora_rank`) and quantization are not "
                "supported by gkeras.")
        if not isinstance(equation, str) or "->" not in equation or \
                "," not in equation:
            raise ValueError(
                "EinsumDense: `equation` must look like 'ab,bc->ac'. "
                f"Received: equation={equation!r}")
        self.equation = equation
        if isinstance(output_shape, (int, np.integer)):
            self.partial_output_shape = (int(output_shape),)
        else:
            self.partial_output_shape = tuple(
                None if s is None else int(s) for s in output_shape)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.full_output_shape = None

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        plan = _analyze_einsum(self.equation, self.bias_axes, input_shape,
                               self.partial_output_shape, self.name)
        self._explicit_eq, kernel_shape, bias_shape, full = plan[:4]
        self._matmul_plan = plan[4]
        self.full_output_shape = tuple(full)
        self.kernel = self.add_weight(
            name="kernel", shape=tuple(kernel_shape),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        if bias_shape is not None:
            self.bias = self.add_weight(
                name="bias", shape=tuple(bias_shape),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint)
        else:
            self.bias = None
        self.input_spec = InputSpec(ndim=len(input_shape))
        self.built = True

    def call(self, inputs, training=None):
        plan = self._matmul_plan
        if plan is not None:
            # The contraction is a plain GEMM after flattening: one BLAS
            # call instead of NumPy's unoptimised two-operand einsum.
            n_free, k_size, out_dims = plan
            lead = tuple(inputs.shape[:n_free])
            x = ops.reshape(inputs, (-1, k_size))
            w = ops.reshape(self.kernel, (k_size, -1))
            bias = self.bias
            if bias is not None and tuple(bias.shape) == tuple(out_dims):
                # The bias spans every output axis: add it in the GEMM's
                # node, on the flat product.
                x = affine(x, w, ops.reshape(bias, (-1,)))
                bias = None
            else:
                x = ops.matmul(x, w)
            x = ops.reshape(x, lead + out_dims)
        else:
            x = ops.einsum(self._explicit_eq, inputs, self.kernel)
            bias = self.bias
        if bias is not None:
            x = ops.add(x, bias)
        if self.activation is not activations.linear:
            x = self.activation(x)
        return x

    def compute_output_shape(self, input_shape):
        if self.full_output_shape is None or not self.built:
            plan = _analyze_einsum(self.equation, self.bias_axes,
                                   tuple(input_shape),
                                   self.partial_output_shape, self.name)
            full = plan[3]
        else:
            full = self.full_output_shape
        return (tuple(input_shape)[0],) + tuple(full[1:])

    def get_config(self):
        config = {
            "output_shape": self.partial_output_shape,
            "equation": self.equation,
            "activation": activations.serialize(self.activation),
            "bias_axes": self.bias_axes,
            "kernel_initializer": initializers.serialize(
                self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(
                self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(
                self.activity_regularizer),
            "kernel_constraint": constraints.serialize(
                self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "quantization_config": None,
        }
        return {**super().get_config(), **config}


def _analyze_einsum(equation, bias_axes, input_shape, partial_output_shape,
                    layer_name="einsum_dense"):
    """Derives kernel/bias/output shapes from an EinsumDense equation.

    Returns:
        `(explicit_equation, kernel_shape, bias_shape, full_output_shape,
        matmul_plan)`; `explicit_equation` has the ellipsis spelled out
        with letters; `matmul_plan` is `(n_free, k_size, out_dims)` when
        the contraction is `input[F + K] x kernel[K + O] -> out[F + O]`,
        else None.
    """
    eq = equation.replace(" ", "")
    m = re.fullmatch(r"(\.\.\.)?([a-zA-Z]+)(\.\.\.)?,([a-zA-Z]+)->"
                     r"(\.\.\.)?([a-zA-Z]+)(\.\.\.)?", eq)
    if m is None or (m.group(1) and m.group(3)) or \
            bool(m.group(1) or m.group(3)) != bool(m.group(5) or m.group(7)):
        raise ValueError(
            f"EinsumDense {layer_name!r}: invalid `equation` {equation!r}. "
            "Expected the form 'ab,bc->ac', '...ab,bc->...ac' or "
            "'ab...,bc->ac...'.")
    left = bool(m.group(1))
    right = bool(m.group(3))
    in_spec, w_spec, out_spec = m.group(2), m.group(4), m.group(6)
    elided = len(input_shape) - len(in_spec)
    if elided < 0 or (elided > 0 and not (left or right)):
        raise ValueError(
            f"EinsumDense {layer_name!r}: the equation {equation!r} expects "
            f"inputs of rank {len(in_spec)}"
            f"{' or more' if left or right else ''}; received input shape "
            f"{input_shape}.")
    used = set(in_spec + w_spec + out_spec)
    spare = [c for c in _LETTERS if c not in used][:elided]
    ell = "".join(spare)
    if left:
        in_full, out_full = ell + in_spec, ell + out_spec
    elif right:
        in_full, out_full = in_spec + ell, out_spec + ell
    else:
        in_full, out_full = in_spec, out_spec
    explicit = f"{in_full},{w_spec}->{out_full}"
    out_known = list(partial_output_shape)
    # The full output: the batch axis, the axes a left ellipsis keeps, the
    # given output shape, the axes a right ellipsis keeps (Keras's rule).
    if left and elided:
        n_given = len(out_spec)
    else:
        n_given = len(out_spec) - 1
    if len(out_known) != n_given:
        raise ValueError(
            f"EinsumDense {layer_name!r}: `output_shape` must have "
            f"{n_given} entries for equation {equation!r} and input shape "
            f"{input_shape}. Received: output_shape={tuple(out_known)}")
    dim_of = dict(zip(in_full, input_shape))
    if left:
        full = [input_shape[0]] + list(input_shape[1:max(elided, 1)]) + \
            out_known
    elif right:
        full = [input_shape[0]] + out_known + \
            (list(input_shape[-elided:]) if elided else [])
    else:
        full = [input_shape[0]] + out_known
    for c, s in zip(out_full, full):
        if c in dim_of and s is not None and dim_of[c] is not None and \
                s != dim_of[c]:
            raise ValueError(
                f"EinsumDense {layer_name!r}: output dimension {c!r} "
                f"(size {s}) must equal the input dimension {c!r} (size "
                f"{dim_of[c]}) for equation {equation!r}, input shape "
                f"{input_shape} and output_shape {tuple(out_known)}.")
    full = [dim_of.get(c) if s is None else s for c, s in zip(out_full, full)]
    for c, s in zip(out_full, full):
        if c not in dim_of:
            dim_of[c] = s
    for c in out_spec:
        if c not in in_full and c not in w_spec:
            raise ValueError(
                f"EinsumDense {layer_name!r}: output dimension {c!r} in "
                f"{equation!r} appears in neither the input nor the kernel.")
    kernel_shape = []
    for c in w_spec:
        if c not in in_full and c not in out_full:
            raise ValueError(
                f"EinsumDense {layer_name!r}: weight dimension {c!r} did not "
                f"have a match in either the input spec {in_spec!r} or the "
                f"output spec {out_spec!r}; the kernel must be fully "
                "specified.")
        if dim_of.get(c) is None:
            raise ValueError(
                f"EinsumDense {layer_name!r}: the size of kernel dimension "
                f"{c!r} is unknown (input shape {input_shape}, output_shape "
                f"{tuple(out_known)}).")
        kernel_shape.append(int(dim_of[c]))
    bias_shape = None
    if bias_axes:
        for c in bias_axes:
            if c not in out_spec:
                raise ValueError(
                    f"EinsumDense {layer_name!r}: bias axis {c!r} in "
                    f"bias_axes={bias_axes!r} is not in the output spec "
                    f"{out_spec!r}.")
        first = min(out_spec.index(c) for c in bias_axes)
        bias_shape = [int(dim_of[c]) if c in bias_axes else 1
                      for c in out_spec[first:]]
        if right:
            bias_shape += [1] * elided
    plan = None
    for nk in range(1, len(in_full) + 1):
        F, K = in_full[:-nk], in_full[-nk:]
        if w_spec.startswith(K) and out_full == F + w_spec[len(K):] and \
                not set(K) & set(out_full) and F and \
                not set(w_spec[len(K):]) & set(F):
            out_dims = tuple(int(dim_of[c]) for c in w_spec[len(K):])
            k_size = int(np.prod([dim_of[c] for c in K]))
            plan = (len(F), k_size, out_dims)
            break
    return explicit, kernel_shape, bias_shape, full, plan

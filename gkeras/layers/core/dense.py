"""`Dense`: the densely connected layer `activation(x @ kernel + bias)`."""

from gkeras import activations, constraints, initializers, ops, regularizers
from gkeras.layers.input_spec import InputSpec
from gkeras.ops.affine import affine, affine_inference
from gkeras.ops.engine import Tensor
from gkeras.ops.nn import softmax_forward
from gkeras.ops.variable import Variable
from gkeras.layers.layer import Layer


class Dense(Layer):
    """Just your regular densely-connected NN layer.

    `output = activation(dot(input, kernel) + bias)`. On inputs of rank > 2
    it applies to the last axis.

    Args:
        units: dimensionality of the output space.
        activation: activation function (name or callable); None = linear.
        use_bias: whether to add a bias vector.
        kernel_initializer: initializer of the kernel (default
            `"glorot_uniform"`).
        bias_initializer: initializer of the bias (default `"zeros"`).
        kernel_regularizer, bias_regularizer: optional regularizers.
        activity_regularizer: optional regularizer of the output.
        kernel_constraint, bias_constraint: optional constraints.
        lora_rank, lora_alpha, quantization_config: not supported (must be
            None).

    Input shape:
        N-D tensor `(batch_size, ..., input_dim)`.

    Output shape:
        N-D tensor `(batch_size, ..., units)`.

    Example:
    >>> layer = gkeras.layers.Dense(32, activation="relu")
    >>> layer(np.ones((4, 16))).shape
    (4, 32)
    """

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None,
                 lora_rank=None, lora_alpha=None, quantization_config=None,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            try:
                ok = int(units) == units and units > 0
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ValueError(
                    "Received an invalid value for `units`, expected a "
                    f"positive integer. Received: units={units!r}")
        if lora_rank is not None or quantization_config is not None:
            raise NotImplementedError(
                "Dense: LoRA (`lora_rank`) and quantization are not "
                "supported by gkeras.")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def _rank_hint(self, shape):
        if len(shape) > 2:
            return ("Dense applies to the last axis only; if you meant to "
                    "connect every input value, put a Flatten() layer "
                    "before it.")
        return ""

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"Dense layer {self.name!r}: the last dimension of the inputs "
                f"should be defined. Found None (input shape {input_shape}).")
        self.kernel = self.add_weight(
            name="kernel", shape=(input_dim, self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint)
        else:
            self.bias = None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})
        self.built = True

    def call(self, inputs, training=None):
        relu = self.activation is activations.relu
        x = affine(inputs, self.kernel, self.bias, relu=relu)
        if not relu and self.activation is not activations.linear:
            x = self.activation(x)
        return x

    def _gk_infer(self, inputs):
        """`call` on a concrete Tensor outside a `GradientTape` without
        the op's dispatch (models/inference_plan.py); same arithmetic.
        Returns NotImplemented where `call` is needed."""
        kernel, bias = self.kernel, self.bias
        if type(kernel) is not Variable or (
                bias is not None and type(bias) is not Variable):
            return NotImplemented
        act = self.activation
        relu = act is activations.relu
        y = affine_inference(inputs.data, kernel.data,
                             None if bias is None else bias.data, relu)
        if y is None:
            return NotImplemented
        if act is activations.softmax:
            # `ops.softmax`'s forward (affine's output has rank >= 2).
            return Tensor(softmax_forward(y))
        y = Tensor(y)
        if not relu and act is not activations.linear:
            y = act(y)
        return y

    # The `call` that `_gk_infer` stands for: a subclass with its own
    # `call` is run through it.
    _gk_infer_of = call

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        base = super().get_config()
        config = {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(
                self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(
                self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(
                self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "quantization_config": None,
        }
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(
                self.activity_regularizer)
        return {**base, **config}

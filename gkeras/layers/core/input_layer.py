"""`InputLayer` and `Input()`: the entry points of a Functional model."""

from gkeras import backend
from gkeras.layers.layer import Layer
from gkeras.ops.symbolic import KerasTensor, Node


class InputLayer(Layer):
    """The layer behind `Input()`: it produces the model's symbolic input.

    Args:
        shape: shape without the batch axis, e.g. `(784,)`.
        batch_size: optional fixed batch size.
        dtype: input dtype (default floatx).
        sparse: accepted for Keras compatibility (dense only).
        batch_shape: full shape with the batch axis (alternative to shape).
        input_tensor: accepted for Keras compatibility.
        optional: whether the input may be None.
        name: layer name (default `input_layer`, `input_layer_1`, ...).
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None,
                 batch_shape=None, input_tensor=None, optional=False,
                 name=None, ragged=None, **kwargs):
        if "input_shape" in kwargs:  # Keras-2 spelling
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
        super().__init__(name=name or _input_name(), dtype=dtype, **kwargs)
        if shape is not None and batch_shape is not None:
            raise ValueError("You cannot pass both `shape` and `batch_shape` "
                             "at the same time.")
        if shape is None and batch_shape is None and input_tensor is None:
            raise ValueError("You must pass a `shape` argument to Input/"
                             "InputLayer.")
        if batch_shape is None:
            if isinstance(shape, int):
                shape = (shape,)
            batch_shape = (batch_size,) + tuple(shape)
        self._batch_shape = tuple(None if s is None else int(s)
                                  for s in batch_shape)
        self.sparse = bool(sparse)
        self.optional = optional
        self._dtype = backend.standardize_dtype(dtype)
        self.built = True
        out = KerasTensor(self._batch_shape, dtype=self._dtype,
                          sparse=self.sparse, name=self.name)
        Node(self, (), {}, out)
        self._output_tensor = out

    @property
    def batch_shape(self):
        """The input shape including the batch axis."""
        return self._batch_shape

    @property
    def output(self):
        return self._output_tensor

    @property
    def input(self):
        # An InputLayer's node has no inbound tensors; like Keras 2, its
        # input is the tensor it creates (`K.function([model.layers[0]
        # .input], ...)` on a Functional model relies on this).
        return self._output_tensor

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {"batch_shape": list(self._batch_shape), "dtype": self._dtype,
                "sparse": self.sparse, "ragged": False, "name": self.name,
                "optional": self.optional}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("ragged", None)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = config["dtype"].get("config", {}).get(
                "name", "float32")
        return cls(**config)


def _input_name():
    from gkeras.utils import naming
    return naming.uniquify("input_layer")


def Input(shape=None, batch_size=None, dtype=None, sparse=None,
          batch_shape=None, name=None, tensor=None, optional=False):
    """Creates a symbolic input for a Functional model.

    Args:
        shape: shape without the batch axis, e.g. `(784,)` (`None` entries
            for variable sizes).
        batch_size: optional fixed batch size.
        dtype: dtype of the input (default floatx).
        sparse: accepted for Keras compatibility.
        batch_shape: full shape including the batch axis.
        name: optional name.
        tensor: accepted for Keras compatibility.
        optional: whether the input may be None.

    Returns:
        A `KerasTensor`.

    Example:
    >>> x = gkeras.Input(shape=(784,))
    >>> y = gkeras.layers.Dense(10)(x)
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype,
                       sparse=sparse, batch_shape=batch_shape, name=name,
                       input_tensor=tensor, optional=optional)
    return layer.output

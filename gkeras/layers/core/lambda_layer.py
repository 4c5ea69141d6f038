"""`Lambda`: wraps an arbitrary expression as a layer."""

import inspect

from gkeras.layers.layer import Layer


class Lambda(Layer):
    """Wraps an arbitrary function of tensors as a layer.

    Args:
        function: the function; its first argument is the input. It may
            take `mask` and `training` keyword arguments.
        output_shape: optional output shape (without batch axis), or a
            function of the input shape; inferred by running the function
            on dummy data when omitted.
        mask: optional output mask or function `(inputs, mask) -> mask`.
        arguments: optional dict of extra keyword arguments for `function`.

    Example:
    >>> gkeras.layers.Lambda(lambda x: x ** 2)
    """

    def __init__(self, function, output_shape=None, mask=None,
                 arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError("Lambda: `function` must be callable. Received: "
                            f"{function!r}")
        self.function = function
        self.arguments = arguments or {}
        self._output_shape = output_shape
        self.mask = mask
        self.supports_masking = mask is not None
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):
            params = {}
        self._fn_mask = "mask" in params
        self._fn_training = "training" in params

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_mask:
            kwargs["mask"] = mask
        if self._fn_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            raise NotImplementedError
        if callable(self._output_shape):
            return tuple(self._output_shape(input_shape))
        shape = tuple(self._output_shape)
        if isinstance(input_shape, list):
            batch = input_shape[0][0]
        else:
            batch = input_shape[0]
        return (batch,) + shape

    def compute_mask(self, inputs, previous_mask):
        if callable(self.mask):
            return self.mask(inputs, previous_mask)
        return self.mask

    def get_config(self):
        from gkeras.saving.lambda_serialization import serialize_function
        config = {**super().get_config(),
                  "function": serialize_function(self.function),
                  "arguments": self.arguments}
        if self._output_shape is not None:
            config["output_shape"] = (
                serialize_function(self._output_shape)
                if callable(self._output_shape)
                else list(self._output_shape))
        if self.mask is not None:
            config["mask"] = serialize_function(self.mask) \
                if callable(self.mask) else self.mask
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        from gkeras.saving.lambda_serialization import deserialize_function
        config = dict(config)
        try:
            config["function"] = deserialize_function(
                config["function"], custom_objects, safe_mode)
            for key in ("output_shape", "mask"):
                if isinstance(config.get(key), dict):
                    config[key] = deserialize_function(
                        config[key], custom_objects, safe_mode)
        except ValueError as e:
            # Name the layer: a model may hold many Lambdas.
            raise type(e)(f"Lambda layer {config.get('name')!r}: {e}") \
                from None
        return super().from_config(config)

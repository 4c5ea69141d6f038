"""`gkeras.layers`: the layer classes (Keras names)."""

from gkeras.layers.layer import Layer  # noqa: F401
from gkeras.layers.input_spec import InputSpec  # noqa: F401
from gkeras.layers.core.input_layer import Input, InputLayer  # noqa: F401
from gkeras.layers.core.dense import Dense  # noqa: F401
from gkeras.layers.core.activation import Activation  # noqa: F401
from gkeras.layers.core.identity import Identity  # noqa: F401
from gkeras.layers.core.lambda_layer import Lambda  # noqa: F401
from gkeras.layers.regularization.dropout import Dropout  # noqa: F401
from gkeras.layers.reshaping.flatten import Flatten  # noqa: F401
from gkeras.layers.reshaping.reshape import Reshape  # noqa: F401
from gkeras.layers.reshaping.permute import Permute  # noqa: F401
from gkeras.layers.reshaping.repeat_vector import RepeatVector  # noqa: F401


def serialize(layer):
    """Returns the Keras config dict of a layer."""
    from gkeras.saving.serialization import serialize_keras_object
    return serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    """Rebuilds a layer from its config."""
    from gkeras.saving.serialization import deserialize_keras_object
    return deserialize_keras_object(config, custom_objects=custom_objects)

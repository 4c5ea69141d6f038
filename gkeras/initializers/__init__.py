"""`gkeras.initializers`: weight initializers, as `keras.initializers`.

Resolve one with `get`: a name (`"glorot_uniform"`, `"he_normal"`,
`"zeros"`, `"GlorotUniform"`, ...), a config dict, a callable or an
instance.
"""


from gkeras.initializers.initializers import (  # noqa: F401
    Constant,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Identity,
    IdentityInitializer,
    Initializer,
    LecunNormal,
    LecunUniform,
    Ones,
    Orthogonal,
    OrthogonalInitializer,
    RandomInitializer,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    Zeros,
    compute_fans,
)
from gkeras.initializers.stft import STFT  # noqa: F401
from gkeras.utils import object_registry
from gkeras.utils.naming import to_snake_case

ALL_OBJECTS = (
    Initializer, Constant, Identity, Ones, Zeros, GlorotNormal,
    GlorotUniform, HeNormal, HeUniform, LecunNormal, LecunUniform,
    RandomNormal, TruncatedNormal, RandomUniform, VarianceScaling,
    Orthogonal, STFT,
)
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({to_snake_case(c.__name__): c for c in ALL_OBJECTS})
ALL_OBJECTS_DICT.update({
    "uniform": RandomUniform,
    "normal": RandomNormal,
    "OrthogonalInitializer": Orthogonal,
    "orthogonal_initializer": Orthogonal,
    "IdentityInitializer": Identity,
    "STFTInitializer": STFT,
    "identity_initializer": Identity,
    "one": Ones,
    "zero": Zeros,
})

# snake-case function-style aliases, as `keras.initializers.glorot_uniform`
constant = Constant
zeros = Zeros
ones = Ones
identity = Identity
glorot_normal = GlorotNormal
glorot_uniform = GlorotUniform
he_normal = HeNormal
he_uniform = HeUniform
lecun_normal = LecunNormal
lecun_uniform = LecunUniform
random_normal = RandomNormal
random_uniform = RandomUniform
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
orthogonal = Orthogonal
stft = STFT
STFTInitializer = STFT


def serialize(initializer):
    """Returns the initializer's Keras config dict.

    Args:
        initializer: an `Initializer` instance.

    Returns:
        `{"module": "keras.initializers", "class_name": ..., "config": ...}`.
    """
    return object_registry.serialize_keras_object(
        initializer, "keras.initializers")


def deserialize(config, custom_objects=None):
    """Returns an initializer from its config dict (or name).

    Args:
        config: a dict as produced by `serialize` (Keras 2 or 3 layout).
        custom_objects: optional dict of user classes.
    """
    return object_registry.deserialize_keras_object(
        config, ALL_OBJECTS_DICT, custom_objects, kind="initializer")


def get(identifier):
    """Retrieves an initializer from an identifier.

    Args:
        identifier: None, a name (`"glorot_uniform"`, `"HeNormal"`, ...),
            a config dict, an `Initializer` class or instance, or any
            callable `(shape, dtype=None) -> array`.

    Returns:
        An initializer (callable), or None.

    Example:

    >>> init = gkeras.initializers.get("he_normal")
    >>> w = init((784, 128))
    """
    from gkeras.utils.object_registry import get_from_identifier
    return get_from_identifier(identifier, deserialize, "initializer",
                               ALL_OBJECTS_DICT)
